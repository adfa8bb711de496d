import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/model/node-sha256.ts';
import type { Json } from '../delivery/delivered-files.ts';
import { awsCli } from '../helpers/aws-cli.ts';
import { useMoto } from '../helpers/moto.ts';
import { rawRequest } from '../helpers/signed-request.ts';
import { dataTrail, history, withProxy } from './proxy-world.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../py/boto3_through_proxy.py', import.meta.url));
const moto = useMoto();

const named = (events: Json[], name: string): Json => {
  const found = events.find((e) => e['eventName'] === name);
  assert.ok(found, `${name} is recorded among ${events.map((e) => e['eventName']).join(', ')}`);
  return found;
};

describe('the recording proxy, protocol by protocol', () => {
  it('records boto3 calls to EC2, SNS, SQS, KMS, Lambda and S3 multipart uploads as AWS would', () =>
    withProxy(moto.endpoint, async (p) => {
      const delivered = await dataTrail(p, 'trail-logs');
      const { stdout } = await run('python3', [SCRIPT], {
        env: {
          ...process.env,
          OPENTRAIL_ENDPOINT: p.w.url,
          AWS_ACCESS_KEY_ID: p.w.adminCredentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: p.w.adminCredentials.secretAccessKey,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        },
        timeout: 120_000,
      });
      const out = JSON.parse(stdout) as { instanceId: string; topicArn: string; size: number };
      assert.equal(out.size, 5 * 1024 * 1024);

      const ec2 = await history(p.w, 'ec2.amazonaws.com');
      assert.equal(named(ec2, 'DescribeImages')['readOnly'], true);
      const runInstances = named(ec2, 'RunInstances');
      assert.equal(runInstances['readOnly'], false);
      assert.equal((runInstances['requestParameters'] as Json)['instanceType'], 't3.micro');
      assert.match(JSON.stringify(runInstances['responseElements']), new RegExp(out.instanceId));

      const sns = await history(p.w, 'sns.amazonaws.com');
      assert.deepEqual((named(sns, 'CreateTopic')['responseElements'] as Json)['topicArn'], out.topicArn);
      assert.ok(!sns.some((e) => e['eventName'] === 'Publish'), 'Publish is a data event');

      const sqs = await history(p.w, 'sqs.amazonaws.com');
      // A map's keys are the caller's, recorded as sent.
      assert.deepEqual(named(sqs, 'CreateQueue')['requestParameters'], {
        queueName: 'jobs',
        attributes: { VisibilityTimeout: '40' },
        tags: { Team: 'payments' },
      });
      assert.ok(!sqs.some((e) => e['eventName'] === 'SendMessage'), 'SendMessage is a data event');

      const kms = await history(p.w, 'kms.amazonaws.com');
      const encrypt = named(kms, 'Encrypt');
      assert.equal(encrypt['readOnly'], true);
      assert.equal((encrypt['requestParameters'] as Json)['plaintext'], 'HIDDEN_DUE_TO_SECURITY_REASONS');
      assert.ok(!JSON.stringify(kms).includes('dGhlIHBsYWludGV4dCBzZWNyZXQ'), 'the plaintext is in no record');

      assert.equal(named(await history(p.w, 'lambda.amazonaws.com'), 'ListFunctions20150331')['readOnly'], true);

      const data = await delivered();
      // As the Amazon SQS Developer Guide's SendMessage record: the body hidden, the queue its resource.
      const send = named(data, 'SendMessage');
      assert.equal((send['requestParameters'] as Json)['messageBody'], 'HIDDEN_DUE_TO_SECURITY_REASONS');
      assert.ok(!JSON.stringify(data).includes('the-job-body'), 'the message body is in no record');
      // The queue's ARN has its owner as the upstream names it (moto's account), as the topic's does.
      assert.deepEqual(send['resources'], [
        { accountId: p.w.app.admin.accountId, type: 'AWS::SQS::Queue', ARN: 'arn:aws:sqs:us-east-1:123456789012:jobs' },
      ]);
      const publish = named(data, 'Publish');
      assert.deepEqual(publish['resources'], [
        { accountId: p.w.app.admin.accountId, type: 'AWS::SNS::Topic', ARN: out.topicArn },
      ]);
      for (const name of ['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'HeadObject']) {
        const r = named(data, name);
        assert.equal(r['eventCategory'], 'Data');
        assert.equal((r['requestParameters'] as Json)['key'], 'big.bin');
      }
      assert.equal((named(data, 'UploadPart')['additionalEventData'] as Json)['bytesTransferredIn'], 5 * 1024 * 1024);
    }));

  it('records the AWS CLI through the proxy', () =>
    withProxy(moto.endpoint, async (p) => {
      const cli = (...args: string[]) => awsCli([...args, '--endpoint-url', p.w.url], p.w.adminCredentials);
      const made = await cli('s3api', 'create-bucket', '--bucket', 'cli-bucket');
      assert.equal(made.code, 0, made.stderr);
      const tables = await cli('dynamodb', 'list-tables');
      assert.equal(tables.code, 0, tables.stderr);
      assert.deepEqual(JSON.parse(tables.stdout), { TableNames: [] });
      const create = named(await history(p.w, 's3.amazonaws.com'), 'CreateBucket');
      assert.match(String(create['userAgent']), /aws-cli/);
      assert.equal(named(await history(p.w, 'dynamodb.amazonaws.com'), 'ListTables')['readOnly'], true);
    }));

  it('records query parameters named __proto__ or constructor as members, never touching shared prototypes', () =>
    withProxy(moto.endpoint, async (p) => {
      const { status } = await rawRequest({
        url: p.w.url,
        credentials: p.w.adminCredentials,
        service: 'sqs',
        contentType: 'application/x-www-form-urlencoded; charset=utf-8',
        body: 'Action=ListQueues&Version=2012-11-05&__proto__.polluted=1&constructor.prototype.polluted=2',
        signingDate: new Date(p.clock.now()),
      });
      assert.equal(status, 200);
      // The server runs in this process: its objects are these.
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      const [listed] = await history(p.w, 'sqs.amazonaws.com');
      assert.equal(listed?.['eventName'], 'ListQueues');
      const params = listed?.['requestParameters'] as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.getOwnPropertyDescriptor(params, '__proto__')?.value, { polluted: '1' });
      assert.deepEqual(params['constructor'], { prototype: { polluted: '2' } });
    }));

  it('names a call whose X-Amz-Target has no operation after its dot by its method, never with an empty name', () =>
    withProxy(moto.endpoint, async (p) => {
      await rawRequest({
        url: p.w.url,
        credentials: p.w.adminCredentials,
        service: 'sqs',
        target: 'AmazonSQS.',
        contentType: 'application/x-amz-json-1.0',
        body: '{}',
        signingDate: new Date(p.clock.now()),
      });
      const [recorded] = await history(p.w, 'sqs.amazonaws.com');
      assert.equal(recorded?.['eventName'], 'POSTRequest');
    }));

  it('takes virtual-hosted-style S3 requests and forwards them path-style', () =>
    withProxy(moto.endpoint, async (p) => {
      const port = new URL(p.w.url).port;
      const send = async (method: string, host: string, path: string) => {
        const signer = new SignatureV4({
          credentials: p.w.adminCredentials,
          region: 'us-east-1',
          service: 's3',
          sha256: NodeSha256,
          uriEscapePath: false,
        });
        const signed = await signer.sign(
          {
            method,
            protocol: 'http:',
            hostname: host,
            path,
            query: {},
            headers: { host: `${host}:${port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
          },
          { signingDate: new Date(p.clock.now()) },
        );
        return new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, method, path, headers: signed.headers }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
      };
      assert.equal(await send('PUT', 'vhost.localhost', '/'), 200);
      assert.equal(await send('HEAD', 'vhost.localhost', '/'), 200);
      const [create, head] = await history(p.w, 's3.amazonaws.com');
      assert.equal(create?.['eventName'], 'CreateBucket');
      assert.deepEqual(create?.['requestParameters'], { bucketName: 'vhost', Host: `vhost.localhost:${port}` });
      assert.equal(head?.['eventName'], 'HeadBucket');
    }));
});

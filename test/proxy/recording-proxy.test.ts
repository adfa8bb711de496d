import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  ExecuteStatementCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  CreateLoginProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
} from '@aws-sdk/client-iam';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { Json } from '../delivery/delivered-files.ts';
import { useMoto } from '../helpers/moto.ts';
import { rejectsWith } from '../helpers/server.ts';
import { rawRequest } from '../helpers/signed-request.ts';
import { dataTrail, history, type ProxyWorld, withProxy } from './proxy-world.ts';

const moto = useMoto();
/** How CloudTrail writes JSON- and query-protocol timestamps: `Jul 10, 2023, 12:07:55 PM` (real IAM createDate). */
const JAVA_TIME = /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$/;
const proxy = (fn: (p: ProxyWorld) => Promise<void>) => withProxy(moto.endpoint, fn);

describe('calls through the recording proxy', () => {
  it('answer as the upstream does and become management events in event history, shaped as AWS writes them', () =>
    proxy(async (p) => {
      const s3 = p.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'photos' }));
      await s3.send(new HeadBucketCommand({ Bucket: 'photos' }));
      await s3.send(
        new PutBucketTaggingCommand({ Bucket: 'photos', Tagging: { TagSet: [{ Key: 'team', Value: 'a' }] } }),
      );
      const policy = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/*' }],
      };
      await s3.send(new PutBucketPolicyCommand({ Bucket: 'photos', Policy: JSON.stringify(policy) }));
      // The bucket is in moto: the proxy forwarded the call.
      await p.motoS3().send(new HeadBucketCommand({ Bucket: 'photos' }));

      const events = await history(p.w, 's3.amazonaws.com');
      assert.deepEqual(
        events.map((e) => e['eventName']),
        ['CreateBucket', 'HeadBucket', 'PutBucketTagging', 'PutBucketPolicy'],
      );
      const [create, head, tagging, putPolicy] = events as [Json, Json, Json, Json];
      // The policy parsed, as the real PutBucketPolicy records carry it.
      assert.deepEqual(putPolicy['requestParameters'], {
        bucketPolicy: policy,
        policy: '',
        bucketName: 'photos',
        Host: new URL(p.w.url).host,
      });
      assert.deepEqual(create['requestParameters'], { bucketName: 'photos', Host: new URL(p.w.url).host });
      assert.equal(create['eventCategory'], 'Management');
      assert.equal(create['managementEvent'], true);
      assert.equal(create['readOnly'], false);
      assert.equal(head['readOnly'], true);
      assert.equal(head['responseElements'], null);
      // As in the real logs: a CreateBucket record names no resources, other bucket calls their bucket.
      assert.equal(create['resources'], undefined);
      assert.deepEqual(tagging['resources'], [
        { accountId: p.w.app.admin.accountId, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::photos' },
      ]);
      const params = tagging['requestParameters'] as Json;
      assert.equal(params['tagging'], '');
      assert.deepEqual((params['Tagging'] as Json)['TagSet'], { Tag: { Key: 'team', Value: 'a' } });
      const additional = create['additionalEventData'] as Json;
      assert.equal(additional['SignatureVersion'], 'SigV4');
      assert.equal(additional['AuthenticationMethod'], 'AuthHeader');
      const identity = create['userIdentity'] as Json;
      assert.equal(identity['accountId'], p.w.app.admin.accountId);
      assert.equal(identity['accessKeyId'], p.w.adminCredentials.accessKeyId);
      assert.equal(create['eventType'], 'AwsApiCall');
      assert.equal(create['recipientAccountId'], p.w.app.admin.accountId);
      assert.match(String(create['userAgent']), /aws-sdk-js/);
    }));

  it('records query-protocol calls lower-camel with their responses, and never a secret', () =>
    proxy(async (p) => {
      const iam = p.iam();
      await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/team/' }));
      const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
      assert.ok(key.AccessKey?.SecretAccessKey, 'the caller gets the secret moto made');

      const [create, createKey] = (await history(p.w, 'iam.amazonaws.com')) as [Json, Json];
      assert.equal(create['eventName'], 'CreateUser');
      assert.deepEqual(create['requestParameters'], { userName: 'alice', path: '/team/' });
      const user = (create['responseElements'] as { user: Json }).user;
      assert.equal(user['userName'], 'alice');
      assert.equal(user['arn'], 'arn:aws:iam::123456789012:user/team/alice');
      // A query-protocol timestamp (ISO 8601 on the wire) in Java's date text, as the real IAM records have it.
      assert.match(String(user['createDate']), JAVA_TIME);
      const recordedKey = (createKey['responseElements'] as { accessKey: Json }).accessKey;
      assert.equal(recordedKey['accessKeyId'], key.AccessKey?.AccessKeyId);
      // Left out, as in the real CreateAccessKey records (other services write HIDDEN_DUE_TO_SECURITY_REASONS).
      assert.deepEqual(Object.keys(recordedKey).sort(), ['accessKeyId', 'createDate', 'status', 'userName']);
      assert.ok(!JSON.stringify(createKey).includes(key.AccessKey?.SecretAccessKey as string));
    }));

  it('records query-protocol lists, numbers and booleans typed, as the real IAM records have them', () =>
    proxy(async (p) => {
      const iam = p.iam();
      await iam.send(new CreateUserCommand({ UserName: 'carol', Tags: [{ Key: 'team', Value: 'red' }] }));
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'deployer',
          AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
          MaxSessionDuration: 7200,
        }),
      );
      await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'web' }));
      await iam.send(
        new CreateLoginProfileCommand({ UserName: 'carol', Password: 'Hunter2-secret!', PasswordResetRequired: true }),
      );
      const events = await history(p.w, 'iam.amazonaws.com');
      const named = (name: string) => events.find((e) => e['eventName'] === name) as Json;
      // The real CreateUser records: "tags": [{"key": …, "value": …}] in request and response.
      assert.deepEqual((named('CreateUser')['requestParameters'] as Json)['tags'], [{ key: 'team', value: 'red' }]);
      assert.deepEqual(((named('CreateUser')['responseElements'] as Json)['user'] as Json)['tags'], [
        { key: 'team', value: 'red' },
      ]);
      // The real CreateRole records: "maxSessionDuration": 3600, a number.
      assert.equal((named('CreateRole')['requestParameters'] as Json)['maxSessionDuration'], 7200);
      // The real CreateInstanceProfile records: "roles": [].
      assert.deepEqual(
        ((named('CreateInstanceProfile')['responseElements'] as Json)['instanceProfile'] as Json)['roles'],
        [],
      );
      // The real CreateLoginProfile records: a boolean, and no password member at all.
      assert.deepEqual(named('CreateLoginProfile')['requestParameters'], {
        userName: 'carol',
        passwordResetRequired: true,
      });
      assert.ok(!JSON.stringify(events).includes('Hunter2-secret!'));
    }));

  it("records IAM calls in us-east-1 whatever the client's Region, as AWS does, and other calls in theirs", () =>
    proxy(async (p) => {
      await p.iam(undefined, 'eu-west-1').send(new CreateUserCommand({ UserName: 'bob' }));
      await p.dynamodb(undefined, 'eu-west-1').send(new ListTablesCommand({}));
      const [create] = await history(p.w, 'iam.amazonaws.com');
      assert.equal(create?.['eventName'], 'CreateUser');
      assert.equal(create?.['awsRegion'], 'us-east-1');
      // Event history in eu-west-1 holds the DynamoDB call and no IAM one.
      const inIreland = (eventSource: string) => history(p.w, eventSource, 'eu-west-1');
      assert.deepEqual(await inIreland('iam.amazonaws.com'), []);
      const [list] = await inIreland('dynamodb.amazonaws.com');
      assert.equal(list?.['eventName'], 'ListTables');
      assert.equal(list?.['awsRegion'], 'eu-west-1');
    }));

  it('records S3 object and DynamoDB item operations as data events, for trails only, never in event history', () =>
    proxy(async (p) => {
      const delivered = await dataTrail(p, 'trail-logs');
      const s3 = p.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'docs' }));
      await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a/report.txt', Body: 'hello world' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'a/report.txt' }));
      assert.equal(await got.Body?.transformToString(), 'hello world');
      await s3.send(new CopyObjectCommand({ Bucket: 'docs', Key: 'b.txt', CopySource: 'docs/a/report.txt' }));
      await s3.send(new ListObjectsV2Command({ Bucket: 'docs', Prefix: 'a/' }));
      await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'b.txt' }));
      const ddb = p.dynamodb();
      await ddb.send(
        new CreateTableCommand({
          TableName: 'Orders',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await ddb.send(new PutItemCommand({ TableName: 'Orders', Item: { id: { S: '1' }, total: { N: '9' } } }));
      await ddb.send(new GetItemCommand({ TableName: 'Orders', Key: { id: { S: '1' } } }));

      const records = await delivered();
      const byName = new Map(records.map((r) => [r['eventName'] as string, r]));
      assert.deepEqual(
        records.map((r) => r['eventName']),
        ['PutObject', 'GetObject', 'CopyObject', 'ListObjects', 'DeleteObject', 'PutItem', 'GetItem'],
      );
      for (const r of records) {
        assert.equal(r['eventCategory'], 'Data');
        assert.equal(r['managementEvent'], false);
      }
      const put = byName.get('PutObject') as Json;
      assert.deepEqual(put['requestParameters'], {
        bucketName: 'docs',
        Host: new URL(p.w.url).host,
        key: 'a/report.txt',
      });
      assert.deepEqual(put['resources'], [
        { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::docs/a/report.txt' },
        { accountId: p.w.app.admin.accountId, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::docs' },
      ]);
      assert.equal((put['additionalEventData'] as Json)['bytesTransferredIn'], 11);
      assert.equal(put['readOnly'], false);
      const get = byName.get('GetObject') as Json;
      assert.equal(get['readOnly'], true);
      assert.equal(get['responseElements'], null);
      assert.equal((get['additionalEventData'] as Json)['bytesTransferredOut'], 11);
      const copy = byName.get('CopyObject') as Json;
      assert.equal((copy['requestParameters'] as Json)['x-amz-copy-source'], 'docs/a/report.txt');
      const list = byName.get('ListObjects') as Json;
      assert.equal((list['requestParameters'] as Json)['list-type'], '2');
      assert.deepEqual((list['resources'] as Json[])[0], {
        type: 'AWS::S3::Object',
        ARNPrefix: 'arn:aws:s3:::docs/a/',
      });
      const putItem = byName.get('PutItem') as Json;
      assert.equal((putItem['requestParameters'] as Json)['tableName'], 'Orders');
      assert.deepEqual(putItem['resources'], [
        {
          accountId: p.w.app.admin.accountId,
          type: 'AWS::DynamoDB::Table',
          ARN: `arn:aws:dynamodb:us-east-1:${p.w.app.admin.accountId}:table/Orders`,
        },
      ]);

      assert.deepEqual(
        (await history(p.w, 's3.amazonaws.com')).map((e) => e['eventName']),
        ['CreateBucket'],
        'data events never reach event history',
      );
      const ddbHistory = await history(p.w, 'dynamodb.amazonaws.com');
      assert.deepEqual(
        ddbHistory.map((e) => e['eventName']),
        ['CreateTable'],
      );
      // A JSON-protocol timestamp (epoch seconds on the wire) in Java's date text, as AWS writes it.
      // Members lower-camel, as AWS records JSON answers (the real Secrets Manager records: aRN, versionId).
      const answer = ddbHistory[0]?.['responseElements'] as { tableDescription?: Json } | undefined;
      assert.equal(answer?.tableDescription?.['tableName'], 'Orders');
      assert.match(String(answer?.tableDescription?.['creationDateTime']), JAVA_TIME);
    }));

  it('records DynamoDB item calls as AWS does: keys plain, items by attribute name, never a value', () =>
    proxy(async (p) => {
      const delivered = await dataTrail(p, 'trail-logs');
      const ddb = p.dynamodb();
      await ddb.send(
        new CreateTableCommand({
          TableName: 'Music',
          KeySchema: [
            { AttributeName: 'Artist', KeyType: 'HASH' },
            { AttributeName: 'SongTitle', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'Artist', AttributeType: 'S' },
            { AttributeName: 'SongTitle', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const key = { Artist: { S: 'No One You Know' }, SongTitle: { S: 'Call Me Today' } };
      const secret = { S: 'the-unreleased-lyrics' };
      await ddb.send(new PutItemCommand({ TableName: 'Music', Item: { ...key, Lyrics: secret } }));
      await ddb.send(
        new UpdateItemCommand({
          TableName: 'Music',
          Key: key,
          UpdateExpression: 'SET #L = :l',
          ExpressionAttributeNames: { '#L': 'Lyrics' },
          ExpressionAttributeValues: { ':l': secret },
          ReturnValues: 'ALL_NEW',
        }),
      );
      await ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'Music', Item: { Artist: { S: 'B' }, SongTitle: { S: 'C' }, Lyrics: secret } } },
            { Delete: { TableName: 'Music', Key: key } },
          ],
        }),
      );
      await ddb.send(
        new BatchWriteItemCommand({ RequestItems: { Music: [{ PutRequest: { Item: { ...key, Lyrics: secret } } }] } }),
      );
      // PartiQL: whether or not the upstream takes it, its record redacts the values but the key's.
      await ddb
        .send(
          new ExecuteStatementCommand({
            Statement:
              "UPDATE Music SET Lyrics = 'the-unreleased-lyrics' WHERE Artist = 'No One You Know' AND SongTitle = 'Call Me Today'",
          }),
        )
        .catch(() => undefined);
      const records = await delivered();
      assert.ok(!JSON.stringify(records).includes('the-unreleased-lyrics'), 'no attribute value is recorded');
      const byName = new Map(records.map((r) => [r['eventName'] as string, r]));
      const plainKey = { Artist: 'No One You Know', SongTitle: 'Call Me Today' };
      // The DynamoDB Developer Guide's PutItem, UpdateItem and TransactWriteItems records.
      assert.deepEqual(byName.get('PutItem')?.['requestParameters'], {
        tableName: 'Music',
        key: plainKey,
        item: ['Artist', 'SongTitle', 'Lyrics'],
      });
      assert.deepEqual(byName.get('UpdateItem')?.['requestParameters'], {
        tableName: 'Music',
        key: plainKey,
        updateExpression: 'SET #L = :l',
        expressionAttributeNames: { '#L': 'Lyrics' },
        returnValues: 'ALL_NEW',
      });
      // The SDK adds an idempotency token, recorded as sent.
      const { clientRequestToken, ...transact } = (byName.get('TransactWriteItems') as Json)[
        'requestParameters'
      ] as Json;
      assert.match(String(clientRequestToken), /^[0-9a-f-]{36}$/);
      assert.deepEqual(transact, {
        requestItems: [
          {
            operation: 'Put',
            tableName: 'Music',
            key: { Artist: 'B', SongTitle: 'C' },
            items: ['Artist', 'SongTitle', 'Lyrics'],
          },
          { operation: 'Delete', tableName: 'Music', key: plainKey },
        ],
      });
      assert.deepEqual(byName.get('ExecuteStatement')?.['requestParameters'], {
        statement:
          "UPDATE Music SET Lyrics = ***(Redacted) WHERE Artist = 'No One You Know' AND SongTitle = 'Call Me Today'",
      });
      assert.deepEqual(byName.get('BatchWriteItem')?.['requestParameters'], {
        requestItems: [
          { operation: 'Put', tableName: 'Music', key: plainKey, items: ['Artist', 'SongTitle', 'Lyrics'] },
        ],
      });
      for (const r of records) {
        assert.equal(r['responseElements'], null, `${r['eventName']}: its answer is not recorded`);
        assert.equal(r['apiVersion'], '2012-08-10');
        assert.deepEqual(
          (r['resources'] as Json[]).map((x) => x['ARN']),
          [`arn:aws:dynamodb:us-east-1:${p.w.app.admin.accountId}:table/Music`],
          `${r['eventName']} names the table as it is spelled`,
        );
      }
    }));

  it("records the upstream's error code and message, and passes the error through unchanged", () =>
    proxy(async (p) => {
      const delivered = await dataTrail(p, 'trail-logs');
      const s3 = p.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'empty' }));
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'empty', Key: 'missing' })), 'NoSuchKey');
      await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: 'absent' })), 'NoSuchBucket');
      const [failed] = (await delivered()).filter((r) => r['eventName'] === 'GetObject') as [Json];
      assert.equal(failed['errorCode'], 'NoSuchKey');
      assert.match(String(failed['errorMessage']), /does not exist/);
      const deleted = (await history(p.w, 's3.amazonaws.com')).find((e) => e['eventName'] === 'DeleteBucket');
      assert.equal(deleted?.['errorCode'], 'NoSuchBucket');
      assert.equal(deleted?.['responseElements'], null);
      // A JSON-protocol error type names its namespace (com.amazonaws.sqs#…); CloudTrail's errorCode does not.
      const missing = await rawRequest({
        url: p.w.url,
        credentials: p.w.adminCredentials,
        service: 'sqs',
        target: 'AmazonSQS.DeleteQueue',
        contentType: 'application/x-amz-json-1.0',
        body: JSON.stringify({ QueueUrl: `${p.w.url}/123456789012/absent` }),
        signingDate: new Date(p.clock.now()),
      });
      assert.equal(missing.status, 400);
      const [queue] = await history(p.w, 'sqs.amazonaws.com');
      assert.equal(queue?.['errorCode'], 'QueueDoesNotExist');
    }));

  it('streams large objects through both ways, byte for byte', () =>
    proxy(async (p) => {
      const s3 = p.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'big' }));
      const body = randomBytes(24 * 1024 * 1024);
      await s3.send(new PutObjectCommand({ Bucket: 'big', Key: 'blob', Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'big', Key: 'blob' }));
      const back = Buffer.from((await got.Body?.transformToByteArray()) as Uint8Array);
      assert.equal(back.length, body.length);
      assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(body).digest('hex'));
    }));
});

/** The error name and HTTP status a call was refused with. */
async function refusal(call: Promise<unknown>): Promise<[string, number | undefined]> {
  try {
    await call;
  } catch (error) {
    return [(error as Error).name, (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode];
  }
  return assert.fail('the call was not refused');
}

describe('what the recording proxy refuses', () => {
  it('answers S3 callers with an unknown key InvalidAccessKeyId, forwards nothing and records nothing', () =>
    proxy(async (p) => {
      const stranger = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) };
      const refused = await refusal(p.s3(stranger).send(new CreateBucketCommand({ Bucket: 'nope' })));
      assert.deepEqual(refused, ['InvalidAccessKeyId', 403]);
      await rejectsWith(p.motoS3().send(new HeadBucketCommand({ Bucket: 'nope' })), 'NotFound');
      assert.deepEqual(await history(p.w, 's3.amazonaws.com'), []);
    }));

  it('answers a wrong secret with SignatureDoesNotMatch (S3, IAM) and InvalidSignatureException (DynamoDB)', () =>
    proxy(async (p) => {
      const wrong = { ...p.w.adminCredentials, secretAccessKey: `${p.w.adminCredentials.secretAccessKey}x` };
      const s3 = p.s3(wrong).send(new CreateBucketCommand({ Bucket: 'nope' }));
      assert.deepEqual(await refusal(s3), ['SignatureDoesNotMatch', 403]);
      const dynamodb = p.dynamodb(wrong).send(new GetItemCommand({ TableName: 'T', Key: { id: { S: '1' } } }));
      // As DynamoDB answers it, and opentrail's own JSON API.
      assert.deepEqual(await refusal(dynamodb), ['InvalidSignatureException', 400]);
      const iam = p.iam(wrong).send(new CreateUserCommand({ UserName: 'nobody' }));
      assert.deepEqual(await refusal(iam), ['SignatureDoesNotMatch', 403]);
    }));

  it('answers a malformed signature with 400, as S3 and the query protocols do', () =>
    proxy(async (p) => {
      // A signature without the date it was made at cannot be checked at all.
      const malformed = (headers: Record<string, string>) => {
        delete headers['x-amz-date'];
      };
      const signed = { url: p.w.url, credentials: p.w.adminCredentials, signingDate: new Date(p.clock.now()) };
      const s3 = await rawRequest({
        ...signed,
        service: 's3',
        method: 'GET',
        path: '/some-bucket',
        contentType: null,
        payloadHashHeader: true,
        alterHeaders: malformed,
      });
      assert.equal(s3.status, 400);
      assert.match(s3.text, /<Code>AuthorizationHeaderMalformed<\/Code>/);
      const iam = await rawRequest({
        ...signed,
        service: 'iam',
        body: 'Action=ListUsers&Version=2010-05-08',
        contentType: 'application/x-www-form-urlencoded; charset=utf-8',
        alterHeaders: malformed,
      });
      assert.equal(iam.status, 400);
      assert.match(iam.text, /<Code>IncompleteSignature<\/Code>/);
    }));

  it('aborts an upload whose body is not the one signed, so the upstream stores nothing', () =>
    proxy(async (p) => {
      await p.s3().send(new CreateBucketCommand({ Bucket: 'guarded' }));
      const signedBody = Buffer.from('the signed body');
      const res = await rawRequest({
        url: p.w.url,
        path: '/guarded/object',
        method: 'PUT',
        service: 's3',
        contentType: null,
        credentials: p.w.adminCredentials,
        signingDate: new Date(p.clock.now()),
        payloadHashHeader: true,
        body: signedBody,
        sendBody: Buffer.from('another body!!!'),
      });
      assert.equal(res.status, 400);
      assert.match(res.text, /XAmzContentSHA256Mismatch/);
      await rejectsWith(p.motoS3().send(new GetObjectCommand({ Bucket: 'guarded', Key: 'object' })), 'NoSuchKey');
    }));

  it('answers BadGateway, in the protocol of the service, when no upstream is configured', async () => {
    const { withServer } = await import('../helpers/server.ts');
    await withServer(async (w) => {
      const { SNSClient, ListTopicsCommand } = await import('@aws-sdk/client-sns');
      const sns = new SNSClient({
        endpoint: w.url,
        region: 'us-east-1',
        credentials: w.adminCredentials,
        maxAttempts: 1,
      });
      await rejectsWith(sns.send(new ListTopicsCommand({})), 'BadGateway', /--upstream/);
      // S3 without an upstream is the local store's buckets, read-only (local-s3-reads.ts).
      const { S3Client } = await import('@aws-sdk/client-s3');
      const s3 = new S3Client({
        endpoint: w.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: w.adminCredentials,
        maxAttempts: 1,
      });
      await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: 'b' })), 'NotImplemented', /--s3-endpoint/);
    });
  });
});

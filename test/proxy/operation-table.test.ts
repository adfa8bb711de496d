import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { operationTableText, PROXY_OPERATIONS_FILE } from '../../scripts/proxy-operations.ts';
import { identifyOperation, loadOperationTable, type ProxiedService } from '../../src/proxy/index.ts';
import { realLogs } from '../helpers/real-logs.ts';

const table = loadOperationTable();
const service = (signingName: string): ProxiedService => {
  const s = table.services[signingName];
  assert.ok(s, `${signingName} is in the table`);
  return s;
};

/** What identifyOperation names a request (method, path with query, headers, form or JSON body). */
function name(signingName: string, method: string, url: string, headers: Record<string, string> = {}, body?: string) {
  const [path = '/', query = ''] = url.split('?');
  return identifyOperation(service(signingName), {
    method,
    path,
    query: new URLSearchParams(query),
    headers,
    ...(body !== undefined ? { body: Buffer.from(body) } : {}),
  })?.name;
}

describe('the operation table', () => {
  it(`${PROXY_OPERATIONS_FILE} is what botocore's models generate`, () => {
    const committed = readFileSync(new URL(`../../${PROXY_OPERATIONS_FILE}`, import.meta.url), 'utf8');
    assert.ok(
      committed === operationTableText(),
      `${PROXY_OPERATIONS_FILE} differs from botocore's models: run \`npm run generate:model\` and commit the result`,
    );
  });

  it('agrees with readOnly and the event category of every real record whose operation it names', () => {
    const records: Record<string, unknown>[] = [];
    for (const dir of ['invictus-ir__aws_dataset', 'adanalvarez__TrailDiscover']) {
      for (const entry of readdirSync(realLogs(dir), { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !/\.(json|cloudtrail)$/.test(entry.name)) continue;
        const parsed: unknown = JSON.parse(readFileSync(join(entry.parentPath, entry.name), 'utf8'));
        records.push(...((Array.isArray(parsed) ? parsed : (parsed as { Records: [] }).Records) ?? []));
      }
    }
    const bySource = new Map(Object.values(table.services).map((s) => [s.eventSource, s]));
    let compared = 0;
    const disagreements: string[] = [];
    for (const r of records) {
      const s = bySource.get(r['eventSource'] as string);
      if (s === undefined || typeof r['readOnly'] !== 'boolean') continue;
      const op = Object.entries(s.operations).find(([n, o]) => (o.eventName ?? n) === r['eventName'])?.[1];
      if (op === undefined) continue;
      compared++;
      if (op.readOnly !== r['readOnly']) disagreements.push(`${r['eventName']}: readOnly ${r['readOnly']}`);
      if ((op.data === true) !== (r['eventCategory'] === 'Data')) disagreements.push(`${r['eventName']}: category`);
    }
    assert.ok(compared > 1000, `compared ${compared} real records`);
    assert.deepEqual([...new Set(disagreements)], []);
  });

  it('marks secrets that botocore marks sensitive', () => {
    assert.ok(service('iam').sensitive.includes('SecretAccessKey'));
    assert.ok(service('secretsmanager').sensitive.includes('SecretString'));
  });
});

describe('naming the operation of a request', () => {
  it('tells apart the S3 operations that share a route by their query and headers', () => {
    assert.equal(name('s3', 'PUT', '/b/k'), 'PutObject');
    assert.equal(name('s3', 'PUT', '/b/k', { 'x-amz-copy-source': 'b/src' }), 'CopyObject');
    assert.equal(name('s3', 'PUT', '/b/k?partNumber=1&uploadId=u'), 'UploadPart');
    assert.equal(name('s3', 'PUT', '/b/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': 'b/s' }), 'UploadPartCopy');
    assert.equal(name('s3', 'POST', '/b/k?uploads'), 'CreateMultipartUpload');
    assert.equal(name('s3', 'POST', '/b/k?uploadId=u'), 'CompleteMultipartUpload');
    assert.equal(name('s3', 'GET', '/b?list-type=2&prefix=a'), 'ListObjectsV2');
    assert.equal(name('s3', 'GET', '/b?prefix=a'), 'ListObjects');
    assert.equal(name('s3', 'GET', '/b/k?acl'), 'GetObjectAcl');
    assert.equal(name('s3', 'GET', '/b?acl'), 'GetBucketAcl');
    assert.equal(name('s3', 'POST', '/b?delete'), 'DeleteObjects');
    assert.equal(name('s3', 'GET', '/b/k?tagging'), 'GetObjectTagging');
    assert.equal(name('s3', 'HEAD', '/b/deep/key.txt'), 'HeadObject');
    assert.equal(name('s3', 'GET', '/'), 'ListBuckets');
    assert.equal(name('s3', 'PUT', '/b'), 'CreateBucket');
  });

  it('names JSON-protocol operations by X-Amz-Target and query-protocol ones by Action', () => {
    assert.equal(name('dynamodb', 'POST', '/', { 'x-amz-target': 'DynamoDB_20120810.PutItem' }), 'PutItem');
    const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    assert.equal(name('iam', 'POST', '/', form, 'Action=CreateUser&Version=2010-05-08&UserName=a'), 'CreateUser');
    assert.equal(name('ec2', 'POST', '/', form, 'Action=RunInstances&Version=2016-11-15'), 'RunInstances');
    assert.equal(name('sqs', 'POST', '/', form, 'Action=SendMessage&QueueUrl=q'), 'SendMessage');
    assert.equal(name('sqs', 'POST', '/', { 'x-amz-target': 'AmazonSQS.SendMessage' }), 'SendMessage');
    assert.equal(
      name('monitoring', 'POST', '/service/GraniteServiceVersion20100801/operation/PutMetricData'),
      'PutMetricData',
    );
  });

  it('matches REST-JSON routes with their labels', () => {
    assert.equal(name('lambda', 'POST', '/2015-03-31/functions/fn/invocations'), 'Invoke');
    assert.equal(name('lambda', 'POST', '/2015-03-31/functions'), 'CreateFunction');
    assert.equal(name('lambda', 'GET', '/2015-03-31/functions/fn'), 'GetFunction');
  });

  it('names nothing it does not know', () => {
    assert.equal(name('dynamodb', 'POST', '/', { 'x-amz-target': 'DynamoDB_20120810.Nope' }), undefined);
    assert.equal(name('s3', 'PATCH', '/b/k'), undefined);
  });

  it('gives CloudTrail event names where they differ from operation names', () => {
    const s3 = service('s3').operations;
    assert.equal(s3['ListObjectsV2']?.eventName, 'ListObjects');
    assert.equal(s3['GetBucketLifecycleConfiguration']?.eventName, 'GetBucketLifecycle');
    assert.equal(service('lambda').operations['CreateFunction']?.eventName, 'CreateFunction20150331');
  });
});

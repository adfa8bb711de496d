import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CloudTrailRecord, RecordResource } from '../../src/model/record.ts';
import {
  type AdvancedFieldSelector,
  type EventSelector,
  validateAdvancedEventSelectors,
  validateEventSelectors,
} from '../../src/trails/event-selectors.ts';
import { compileSelectors, dataEventResourceArns, type RecordPredicate } from '../../src/trails/selector-match.ts';

const ACCOUNT = '111122223333';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;

// --- Records ---

function record(fields: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.11',
    userIdentity: { type: 'IAMUser', accountId: ACCOUNT, arn: ALICE },
    eventTime: '2024-05-01T12:00:00Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    eventID: '3f1c4c43-5b53-4b5c-9d3b-6a4b0f0c0c01',
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...fields,
  };
}

function without(r: CloudTrailRecord, ...members: string[]): CloudTrailRecord {
  const copy: Record<string, unknown> = { ...r };
  for (const member of members) delete copy[member];
  return copy as CloudTrailRecord;
}

const management = (eventName: string, readOnly: boolean, eventSource = 'ec2.amazonaws.com') =>
  record({ eventName, readOnly, eventSource });

const dataEvent = (fields: Partial<CloudTrailRecord>) =>
  record({ eventCategory: 'Data', managementEvent: false, ...fields });

/** An S3 object data event as S3 writes it: the object, its bucket, and the request's bucketName and key. */
function s3Event(eventName: string, objectArn: string, fields: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  const slash = objectArn.indexOf('/');
  const bucketArn = objectArn.slice(0, slash);
  return dataEvent({
    eventSource: 's3.amazonaws.com',
    eventName,
    readOnly: /^(Get|Head|List)/.test(eventName),
    requestParameters: { bucketName: bucketArn.slice(bucketArn.lastIndexOf(':') + 1), key: objectArn.slice(slash + 1) },
    resources: [
      { type: 'AWS::S3::Object', ARN: objectArn },
      { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: bucketArn },
    ],
    ...fields,
  });
}

const lambdaInvoke = (functionArn: string) =>
  dataEvent({
    eventSource: 'lambda.amazonaws.com',
    eventName: 'Invoke',
    readOnly: false,
    resources: [{ accountId: ACCOUNT, type: 'AWS::Lambda::Function', ARN: functionArn }],
  });

const dynamoEvent = (eventName: string, tableArn: string) =>
  dataEvent({
    eventSource: 'dynamodb.amazonaws.com',
    eventName,
    readOnly: eventName === 'GetItem' || eventName === 'Query',
    resources: [{ accountId: ACCOUNT, type: 'AWS::DynamoDB::Table', ARN: tableArn }],
  });

const networkEvent = (fields: Partial<CloudTrailRecord> = {}) =>
  without(
    record({
      eventCategory: 'NetworkActivity',
      eventType: 'AwsVpceEvent',
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      vpcEndpointId: 'vpce-0123456789abcdef0',
      errorCode: 'VpceAccessDenied',
      ...fields,
    }),
    'managementEvent',
    'readOnly',
  );

const insightEvent = (): CloudTrailRecord => ({
  eventVersion: '1.11',
  eventTime: '2024-05-01T12:00:00Z',
  awsRegion: 'us-east-1',
  eventID: '3f1c4c43-5b53-4b5c-9d3b-6a4b0f0c0c02',
  eventType: 'AwsCloudTrailInsight',
  recipientAccountId: ACCOUNT,
  sharedEventID: '3f1c4c43-5b53-4b5c-9d3b-6a4b0f0c0c03',
  insightDetails: { state: 'Start', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
  eventCategory: 'Insight',
});

const activityEvent = (): CloudTrailRecord =>
  without(
    record({
      eventCategory: 'ActivityAuditLog',
      eventType: 'ActivityLog',
      eventSource: 'partner.example.com',
      eventName: 'Login',
    }),
    'managementEvent',
    'readOnly',
  );

// --- Selectors, validated as PutEventSelectors stores them ---

function basic(...selectors: EventSelector[]): RecordPredicate {
  const stored = validateEventSelectors({ EventSelectors: selectors });
  assert.ok('EventSelectors' in stored);
  return compileSelectors({ eventSelectors: stored.EventSelectors });
}

const dataResources = (Type: string, ...Values: string[]): EventSelector => ({
  IncludeManagementEvents: false,
  DataResources: [{ Type, Values }],
});
const s3 = (...values: string[]) => basic(dataResources('AWS::S3::Object', ...values));

/** One advanced selector per argument, each a list of field selectors. */
const advanced = (...selectors: AdvancedFieldSelector[][]): RecordPredicate =>
  compileSelectors({
    advancedEventSelectors: validateAdvancedEventSelectors(selectors.map((FieldSelectors) => ({ FieldSelectors }))),
  });

const equals = (Field: string, ...Equals: string[]): AdvancedFieldSelector => ({ Field, Equals });
const category = (value: string) => equals('eventCategory', value);
const s3Data = (...more: AdvancedFieldSelector[]) => [
  category('Data'),
  equals('resources.type', 'AWS::S3::Object'),
  ...more,
];

/** Names of the events a predicate keeps, in order. */
const kept = (matches: RecordPredicate, records: Record<string, CloudTrailRecord>) =>
  Object.entries(records)
    .filter(([, r]) => matches(r))
    .map(([name]) => name);

describe('basic selectors: management events', () => {
  test('the default selector logs every management event, read or write, and nothing else', () => {
    const matches = basic({});
    assert.equal(matches(management('DescribeInstances', true)), true);
    assert.equal(matches(management('RunInstances', false)), true);
    assert.equal(matches(management('Decrypt', true, 'kms.amazonaws.com')), true);
    assert.equal(matches(record({ eventType: 'AwsConsoleSignIn', eventName: 'ConsoleLogin', readOnly: false })), true);
    assert.equal(matches(s3Event('GetObject', 'arn:aws:s3:::logs/a.txt')), false);
    assert.equal(matches(lambdaInvoke(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:f`)), false);
    assert.equal(matches(networkEvent()), false);
  });

  test('counts a record without eventCategory as management unless managementEvent is false', () => {
    const old = without(management('RunInstances', false), 'eventCategory');
    assert.equal(basic({})(old), true);
    assert.equal(basic({})(without(old, 'managementEvent')), true);
    const oldS3 = without(s3Event('GetObject', 'arn:aws:s3:::logs/a.txt'), 'eventCategory');
    assert.equal(basic({})(oldS3), false);
    assert.equal(s3('arn:aws:s3')(oldS3), true);
  });

  test('ReadOnly logs only read-only management events', () => {
    const matches = basic({ ReadWriteType: 'ReadOnly' });
    assert.equal(matches(management('DescribeInstances', true)), true);
    assert.equal(matches(management('RunInstances', false)), false);
    assert.equal(matches(without(management('RotateKey', false), 'readOnly')), false);
  });

  test('WriteOnly logs write management events, counting a record without readOnly as a write', () => {
    const matches = basic({ ReadWriteType: 'WriteOnly' });
    assert.equal(matches(management('RunInstances', false)), true);
    assert.equal(matches(management('DescribeInstances', true)), false);
    assert.equal(matches(without(record({ eventType: 'AwsServiceEvent', eventName: 'RotateKey' }), 'readOnly')), true);
  });

  test('ExcludeManagementEventSources drops KMS and RDS Data API management events and keeps the rest', () => {
    const matches = basic({ ExcludeManagementEventSources: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] });
    assert.equal(matches(management('Decrypt', true, 'kms.amazonaws.com')), false);
    assert.equal(matches(management('ExecuteStatement', false, 'rdsdata.amazonaws.com')), false);
    assert.equal(matches(management('RunInstances', false)), true);
    assert.equal(
      basic({ ExcludeManagementEventSources: ['kms.amazonaws.com'] })(management('X', false, 'rdsdata.amazonaws.com')),
      true,
    );
  });

  test('IncludeManagementEvents false logs no management events', () => {
    const matches = s3('arn:aws:s3');
    assert.equal(matches(management('RunInstances', false)), false);
    assert.equal(matches(s3Event('GetObject', 'arn:aws:s3:::logs/a.txt')), true);
  });
});

describe('basic selectors: S3 data events', () => {
  const objects = {
    logsA: s3Event('GetObject', 'arn:aws:s3:::logs/2024/a.gz'),
    logsB: s3Event('PutObject', 'arn:aws:s3:::logs/2023/b.gz'),
    logs2: s3Event('GetObject', 'arn:aws:s3:::logs2/2024/c.gz'),
    other: s3Event('DeleteObject', 'arn:aws:s3:::media/cat.png'),
  };

  test('arn:aws:s3 and arn:aws:s3::: select every object in every bucket', () => {
    assert.deepEqual(kept(s3('arn:aws:s3'), objects), ['logsA', 'logsB', 'logs2', 'other']);
    assert.deepEqual(kept(s3('arn:aws:s3:::'), objects), ['logsA', 'logsB', 'logs2', 'other']);
  });

  test('a bucket value selects that bucket only, not a bucket whose name it begins', () => {
    assert.deepEqual(kept(s3('arn:aws:s3:::logs/'), objects), ['logsA', 'logsB']);
    assert.deepEqual(kept(s3('arn:aws:s3:::logs2/'), objects), ['logs2']);
  });

  test('a key prefix selects the objects under it', () => {
    assert.deepEqual(kept(s3('arn:aws:s3:::logs/2024'), objects), ['logsA']);
    assert.deepEqual(kept(s3('arn:aws:s3:::logs/2024/', 'arn:aws:s3:::media/c'), objects), ['logsA', 'other']);
    assert.deepEqual(kept(s3('arn:aws:s3:::logs/2025/'), objects), []);
  });

  test('data events obey ReadWriteType', () => {
    const writes = basic({ ...dataResources('AWS::S3::Object', 'arn:aws:s3:::logs/'), ReadWriteType: 'WriteOnly' });
    assert.deepEqual(kept(writes, objects), ['logsB']);
    const reads = basic({ ...dataResources('AWS::S3::Object', 'arn:aws:s3'), ReadWriteType: 'ReadOnly' });
    assert.deepEqual(kept(reads, objects), ['logsA', 'logs2']);
  });

  test('derives the object ARN from requestParameters when the record lists no object', () => {
    const listed = s3Event('GetObject', 'arn:aws:s3:::logs/2024/a.gz');
    const unlisted = { ...listed, resources: [{ type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::logs' }] };
    const noResources = without(listed, 'resources');
    for (const r of [unlisted, noResources]) {
      assert.equal(s3('arn:aws:s3:::logs/2024/')(r), true);
      assert.equal(s3('arn:aws:s3:::logs/2023/')(r), false);
    }
    assert.deepEqual(dataEventResourceArns(noResources), [
      { type: 'AWS::S3::Object', arn: 'arn:aws:s3:::logs/2024/a.gz' },
    ]);
  });

  test('a bucket-wide data event without a key matches bucket and all-bucket values, not key prefixes', () => {
    const deleteObjects = dataEvent({
      eventSource: 's3.amazonaws.com',
      eventName: 'DeleteObjects',
      readOnly: false,
      requestParameters: { bucketName: 'logs', delete: '' },
      resources: [{ type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::logs' }],
    });
    assert.equal(s3('arn:aws:s3:::logs/')(deleteObjects), true);
    assert.equal(s3('arn:aws:s3')(deleteObjects), true);
    assert.equal(s3('arn:aws:s3:::logs/2024')(deleteObjects), false);
  });

  test('matches an ARNPrefix object entry, as S3 writes for ListObjects, as the object ARN', () => {
    const list = dataEvent({
      eventSource: 's3.amazonaws.com',
      eventName: 'ListObjects',
      readOnly: true,
      requestParameters: { bucketName: 'logs', prefix: '2024/' },
      resources: [
        { type: 'AWS::S3::Object', ARNPrefix: 'arn:aws:s3:::logs/2024/' } as RecordResource,
        { type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::logs' },
      ],
    });
    assert.equal(s3('arn:aws:s3:::logs/')(list), true);
    assert.equal(s3('arn:aws:s3:::logs/2024/')(list), true);
    assert.equal(s3('arn:aws:s3:::logs/2023/')(list), false);
  });

  test('an entry with no Values selects nothing', () => {
    assert.equal(s3()(objects.logsA), false);
  });

  test('an S3 selector ignores other services and the S3 bucket resource itself', () => {
    const matches = s3('arn:aws:s3');
    assert.equal(matches(lambdaInvoke(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:f`)), false);
    const bucketOnly = dataEvent({
      eventSource: 's3.amazonaws.com',
      eventName: 'GetBucketAcl',
      resources: [{ type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::logs' }],
    });
    assert.equal(matches(bucketOnly), false);
  });
});

describe('basic selectors: Lambda and DynamoDB data events', () => {
  const fn = (name: string) => `arn:aws:lambda:us-west-2:${ACCOUNT}:function:${name}`;
  const table = (name: string) => `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${name}`;

  test('arn:aws:lambda selects every function', () => {
    const matches = basic(dataResources('AWS::Lambda::Function', 'arn:aws:lambda'));
    assert.equal(matches(lambdaInvoke(fn('helloworld'))), true);
    assert.equal(matches(lambdaInvoke(fn('other'))), true);
  });

  test('a function ARN selects that function exactly, not one whose name it begins', () => {
    const matches = basic(dataResources('AWS::Lambda::Function', fn('helloworld')));
    assert.equal(matches(lambdaInvoke(fn('helloworld'))), true);
    assert.equal(matches(lambdaInvoke(fn('helloworld2'))), false);
    assert.equal(matches(lambdaInvoke(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:helloworld`)), false);
  });

  test('an unqualified function ARN selects its aliases and versions; a qualified one only itself', () => {
    assert.equal(
      basic(dataResources('AWS::Lambda::Function', fn('helloworld')))(lambdaInvoke(fn('helloworld:PROD'))),
      true,
    );
    const prodOnly = basic(dataResources('AWS::Lambda::Function', fn('helloworld:PROD')));
    assert.equal(prodOnly(lambdaInvoke(fn('helloworld:PROD'))), true);
    assert.equal(prodOnly(lambdaInvoke(fn('helloworld'))), false);
    assert.equal(prodOnly(lambdaInvoke(fn('helloworld:PRODUCTION'))), false);
  });

  test('arn:aws:dynamodb selects every table and a table ARN exactly that table', () => {
    const all = basic(dataResources('AWS::DynamoDB::Table', 'arn:aws:dynamodb'));
    const orders = basic(dataResources('AWS::DynamoDB::Table', table('orders')));
    assert.equal(all(dynamoEvent('PutItem', table('orders-archive'))), true);
    assert.equal(orders(dynamoEvent('PutItem', table('orders'))), true);
    assert.equal(orders(dynamoEvent('GetItem', table('orders-archive'))), false);
  });

  test('a resource type selects only its own service and resource type', () => {
    const tables = basic(dataResources('AWS::DynamoDB::Table', 'arn:aws:dynamodb'));
    const stream = dataEvent({
      eventSource: 'dynamodb.amazonaws.com',
      eventName: 'GetRecords',
      resources: [{ type: 'AWS::DynamoDB::Stream', ARN: `${table('orders')}/stream/2024-05-01T00:00:00.000` }],
    });
    assert.equal(tables(stream), false);
    assert.equal(tables(lambdaInvoke(fn('f'))), false);
    assert.equal(
      basic(dataResources('AWS::Lambda::Function', 'arn:aws:lambda'))(dynamoEvent('GetItem', table('t'))),
      false,
    );
  });

  test('selectors are ORed: each keeps what it names', () => {
    const matches = basic(
      { ...dataResources('AWS::S3::Object', 'arn:aws:s3:::logs/'), ReadWriteType: 'WriteOnly' },
      dataResources('AWS::Lambda::Function', fn('helloworld')),
      { ReadWriteType: 'ReadOnly' },
    );
    assert.deepEqual(
      kept(matches, {
        logsPut: s3Event('PutObject', 'arn:aws:s3:::logs/a'),
        logsGet: s3Event('GetObject', 'arn:aws:s3:::logs/a'),
        invoke: lambdaInvoke(fn('helloworld')),
        describe: management('DescribeInstances', true),
        run: management('RunInstances', false),
      }),
      ['logsPut', 'invoke', 'describe'],
    );
  });
});

describe('other partitions', () => {
  test('partition prefixes select the objects, functions and tables of their own partition only', () => {
    const cnObject = s3Event('GetObject', 'arn:aws-cn:s3:::logs/a.gz', { awsRegion: 'cn-north-1' });
    assert.equal(s3('arn:aws-cn:s3')(cnObject), true);
    assert.equal(s3('arn:aws-cn:s3:::logs/')(cnObject), true);
    assert.equal(s3('arn:aws-cn:s3:::logs2/')(cnObject), false);
    assert.equal(s3('arn:aws:s3')(cnObject), false);
    const govFunction = lambdaInvoke(`arn:aws-us-gov:lambda:us-gov-west-1:${ACCOUNT}:function:f`);
    assert.equal(basic(dataResources('AWS::Lambda::Function', 'arn:aws-us-gov:lambda'))(govFunction), true);
    assert.equal(basic(dataResources('AWS::Lambda::Function', 'arn:aws:lambda'))(govFunction), false);
    const govTable = dynamoEvent('PutItem', `arn:aws-us-gov:dynamodb:us-gov-east-1:${ACCOUNT}:table/t`);
    assert.equal(basic(dataResources('AWS::DynamoDB::Table', 'arn:aws-us-gov:dynamodb'))(govTable), true);
  });

  test('derives an S3 object ARN in the partition of the record', () => {
    const cn = without(s3Event('GetObject', 'arn:aws-cn:s3:::logs/a.gz', { awsRegion: 'cn-north-1' }), 'resources');
    assert.deepEqual(dataEventResourceArns(cn), [{ type: 'AWS::S3::Object', arn: 'arn:aws-cn:s3:::logs/a.gz' }]);
    assert.equal(s3('arn:aws-cn:s3:::logs/')(cn), true);
    const gov = without(s3Event('GetObject', 'arn:aws:s3:::logs/a.gz', { awsRegion: 'us-gov-west-1' }), 'resources');
    assert.equal(s3('arn:aws-us-gov:s3:::logs/')(gov), true);
  });
});

describe('advanced selectors: operators', () => {
  const events = {
    getObject: s3Event('GetObject', 'arn:aws:s3:::logs/a'),
    getObjectAcl: s3Event('GetObjectAcl', 'arn:aws:s3:::logs/a'),
    putObject: s3Event('PutObject', 'arn:aws:s3:::logs/a'),
    deleteObject: s3Event('DeleteObject', 'arn:aws:s3:::logs/a'),
  };
  const name = (operators: Omit<AdvancedFieldSelector, 'Field'>) =>
    advanced(s3Data({ Field: 'eventName', ...operators }));

  test('Equals, StartsWith and EndsWith keep a record when any of their values matches', () => {
    assert.deepEqual(kept(name({ Equals: ['PutObject', 'DeleteObject'] }), events), ['putObject', 'deleteObject']);
    assert.deepEqual(kept(name({ StartsWith: ['Get', 'Del'] }), events), ['getObject', 'getObjectAcl', 'deleteObject']);
    assert.deepEqual(kept(name({ EndsWith: ['Acl', 'tObject'] }), events), ['getObject', 'getObjectAcl', 'putObject']);
  });

  test('NotEquals, NotStartsWith and NotEndsWith keep a record only when none of their values matches', () => {
    assert.deepEqual(kept(name({ NotEquals: ['PutObject', 'DeleteObject'] }), events), ['getObject', 'getObjectAcl']);
    assert.deepEqual(kept(name({ NotStartsWith: ['Get', 'Del'] }), events), ['putObject']);
    assert.deepEqual(kept(name({ NotEndsWith: ['Acl', 'Put'] }), events), ['getObject', 'putObject', 'deleteObject']);
  });

  test('a field the record lacks fails Equals, StartsWith and EndsWith and passes every Not operator', () => {
    const anonymous = without(events.getObject, 'userIdentity');
    const user = (operators: Omit<AdvancedFieldSelector, 'Field'>) =>
      advanced(s3Data({ Field: 'userIdentity.arn', ...operators }))(anonymous);
    assert.equal(user({ Equals: [ALICE] }), false);
    assert.equal(user({ StartsWith: ['arn:'] }), false);
    assert.equal(user({ EndsWith: ['alice'] }), false);
    assert.equal(user({ NotEquals: [ALICE] }), true);
    assert.equal(user({ NotStartsWith: ['arn:'] }), true);
    assert.equal(user({ NotEndsWith: ['alice'] }), true);
  });

  test('several operators on one field must all hold', () => {
    const matches = name({ StartsWith: ['Get'], NotEndsWith: ['Acl'] });
    assert.deepEqual(kept(matches, events), ['getObject']);
    assert.deepEqual(kept(name({ StartsWith: ['Get', 'Put'], NotEquals: ['PutObject'] }), events), [
      'getObject',
      'getObjectAcl',
    ]);
  });

  test('conditions on different fields must all hold', () => {
    const matches = advanced(
      s3Data({ Field: 'eventName', StartsWith: ['Get', 'Put'] }, equals('readOnly', 'false'), {
        Field: 'resources.ARN',
        StartsWith: ['arn:aws:s3:::logs/'],
      }),
    );
    assert.deepEqual(kept(matches, { ...events, otherBucket: s3Event('PutObject', 'arn:aws:s3:::media/a') }), [
      'putObject',
    ]);
  });

  test('selectors are ORed', () => {
    const matches = advanced(
      [category('Management'), equals('readOnly', 'false')],
      s3Data(equals('eventName', 'GetObject')),
    );
    assert.deepEqual(
      kept(matches, { ...events, run: management('RunInstances', false), describe: management('Describe', true) }),
      ['getObject', 'run'],
    );
  });
});

describe('advanced selectors: fields', () => {
  test('readOnly true keeps reads and false keeps writes, a record without readOnly counting as a write', () => {
    const reads = advanced([category('Management'), equals('readOnly', 'true')]);
    const writes = advanced([category('Management'), equals('readOnly', 'false')]);
    const serviceEvent = without(record({ eventType: 'AwsServiceEvent', eventName: 'RotateKey' }), 'readOnly');
    assert.deepEqual(
      [reads, writes].map((m) =>
        kept(m, { describe: management('Describe', true), run: management('Run', false), serviceEvent }),
      ),
      [['describe'], ['run', 'serviceEvent']],
    );
  });

  test('sessionCredentialFromConsole compares the record\'s "true" string; a record without it is false', () => {
    const console = s3Event('GetObject', 'arn:aws:s3:::logs/a', { sessionCredentialFromConsole: 'true' });
    const cli = s3Event('GetObject', 'arn:aws:s3:::logs/a');
    const fromConsole = advanced(s3Data(equals('sessionCredentialFromConsole', 'true')));
    const notFromConsole = advanced(s3Data(equals('sessionCredentialFromConsole', 'false')));
    assert.deepEqual([fromConsole(console), fromConsole(cli)], [true, false]);
    assert.deepEqual([notFromConsole(console), notFromConsole(cli)], [false, true]);
  });

  test('resources.type and resources.ARN must hold for the same resource', () => {
    const secret = s3Event('GetObject', 'arn:aws:s3:::secret/key');
    const logs = s3Event('GetObject', 'arn:aws:s3:::logs/key');
    // The bucket resource arn:aws:s3:::secret passes the ARN test but is no AWS::S3::Object.
    const notSecret = advanced(s3Data({ Field: 'resources.ARN', NotStartsWith: ['arn:aws:s3:::secret/'] }));
    assert.deepEqual([notSecret(secret), notSecret(logs)], [false, true]);
    const accessPoint = `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/reports`;
    const viaAccessPoint = s3Event('GetObject', 'arn:aws:s3:::logs/key', {
      resources: [
        { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::logs/key' },
        { type: 'AWS::S3::AccessPoint', ARN: accessPoint },
      ],
    });
    assert.equal(advanced(s3Data({ Field: 'resources.ARN', StartsWith: [accessPoint] }))(viaAccessPoint), false);
    assert.equal(
      advanced(s3Data({ Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::logs/'] }))(viaAccessPoint),
      true,
    );
  });

  test('an S3 data event without an object entry matches resources.type AWS::S3::Object through its request', () => {
    const noObject = without(s3Event('PutObject', 'arn:aws:s3:::logs/2024/a'), 'resources');
    assert.equal(advanced(s3Data())(noObject), true);
    assert.equal(advanced(s3Data({ Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::logs/2024/'] }))(noObject), true);
    assert.equal(advanced(s3Data(equals('resources.ARN', 'arn:aws:s3:::logs/2024/a')))(noObject), true);
    assert.equal(advanced(s3Data({ Field: 'resources.ARN', EndsWith: ['/b'] }))(noObject), false);
  });

  test('eventSource, eventName, eventType and userIdentity.arn select data events', () => {
    const lambda = lambdaInvoke(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:f`);
    const fields = [
      category('Data'),
      equals('resources.type', 'AWS::Lambda::Function'),
      equals('eventSource', 'lambda.amazonaws.com'),
      equals('eventName', 'Invoke'),
      equals('eventType', 'AwsApiCall'),
      { Field: 'userIdentity.arn', EndsWith: [':user/alice'] },
    ];
    assert.equal(advanced(fields)(lambda), true);
    assert.equal(
      advanced(fields)(record({ ...lambda, userIdentity: { arn: `arn:aws:iam::${ACCOUNT}:user/bob` } })),
      false,
    );
    assert.equal(advanced(fields)(record({ ...lambda, eventType: 'AwsServiceEvent' })), false);
  });

  test('a selector keeps only the category it names', () => {
    const mgmt = advanced([category('Management')]);
    const data = advanced(s3Data());
    const network = advanced([category('NetworkActivity'), equals('eventSource', 'kms.amazonaws.com')]);
    const records = {
      management: management('RunInstances', false),
      data: s3Event('GetObject', 'arn:aws:s3:::logs/a'),
      network: networkEvent(),
    };
    assert.deepEqual(
      [mgmt, data, network].map((m) => kept(m, records)),
      [['management'], ['data'], ['network']],
    );
  });

  test('eventSource NotEquals drops KMS management events', () => {
    const matches = advanced([category('Management'), { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] }]);
    assert.equal(matches(management('Decrypt', true, 'kms.amazonaws.com')), false);
    assert.equal(matches(management('RunInstances', false)), true);
  });

  test('network activity selectors compare eventSource, errorCode and vpcEndpointId', () => {
    const denied = advanced([
      category('NetworkActivity'),
      equals('eventSource', 'kms.amazonaws.com'),
      equals('errorCode', 'VpceAccessDenied'),
      { Field: 'vpcEndpointId', NotEquals: ['vpce-trusted'] },
    ]);
    assert.equal(denied(networkEvent()), true);
    assert.equal(denied(without(networkEvent(), 'errorCode')), false);
    assert.equal(denied(networkEvent({ vpcEndpointId: 'vpce-trusted' })), false);
    assert.equal(denied(networkEvent({ eventSource: 's3.amazonaws.com' })), false);
  });
});

describe('records no trail logs', () => {
  const catchAll = (extra: AdvancedFieldSelector[][] = []) =>
    compileSelectors({
      advancedEventSelectors: [
        { FieldSelectors: [category('Management')] },
        { FieldSelectors: [category('Data'), equals('resources.type', 'AWS::S3::Object')] },
        { FieldSelectors: [category('NetworkActivity'), { Field: 'eventSource', NotEquals: ['x'] }] },
        ...extra.map((FieldSelectors) => ({ FieldSelectors })),
      ],
    });

  test('Insights records match no basic or advanced trail selector, even one naming their category', () => {
    const insight = insightEvent();
    assert.equal(basic({})(insight), false);
    assert.equal(basic({ ReadWriteType: 'WriteOnly' })(insight), false);
    assert.equal(catchAll([[category('Insight')]])(insight), false);
    assert.equal(basic({})(without(insight, 'eventCategory')), false);
  });

  test('ActivityAuditLog records match no trail selector, even one naming their category', () => {
    const activity = activityEvent();
    assert.equal(basic({})(activity), false);
    assert.equal(catchAll([[category('ActivityAuditLog')]])(activity), false);
    assert.equal(basic({})(without(activity, 'eventCategory')), false);
  });

  test('no selectors at all match nothing', () => {
    assert.equal(compileSelectors({})(management('RunInstances', false)), false);
  });
});

describe('throughput', () => {
  test('compiles once and matches 100,000 records', () => {
    const matches = compileSelectors({
      advancedEventSelectors: validateAdvancedEventSelectors([
        { FieldSelectors: [category('Management'), { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] }] },
        {
          FieldSelectors: s3Data(
            { Field: 'eventName', StartsWith: ['Put', 'Delete'] },
            { Field: 'resources.ARN', StartsWith: Array.from({ length: 100 }, (_, i) => `arn:aws:s3:::bucket-${i}/`) },
          ),
        },
      ]),
    });
    const records = [
      management('RunInstances', false),
      management('Decrypt', true, 'kms.amazonaws.com'),
      s3Event('PutObject', 'arn:aws:s3:::bucket-99/a'),
      s3Event('GetObject', 'arn:aws:s3:::bucket-99/a'),
      without(s3Event('DeleteObject', 'arn:aws:s3:::bucket-7/a'), 'resources'),
    ];
    let count = 0;
    for (let i = 0; i < 100_000; i++) if (matches(records[i % records.length] as CloudTrailRecord)) count++;
    assert.equal(count, 60_000);
  });
});

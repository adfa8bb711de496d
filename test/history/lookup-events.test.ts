import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import {
  AddTagsCommand,
  type CloudTrailClient,
  CreateEventDataStoreCommand,
  CreateTrailCommand,
  type Event,
  LookupEventsCommand,
  type LookupEventsCommandInput,
  paginateLookupEvents,
} from '@aws-sdk/client-cloudtrail';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { MAX_RUNS } from '../../src/history/history-index.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { realLogs } from '../helpers/real-logs.ts';
import { rejectsWith, startTestServer, type TestWorld, withServer } from '../helpers/server.ts';

/** LookupEvents through the AWS SDK over records sent to the ingest API (facts §6). */

type Json = Record<string, unknown>;
const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const PLASO_LOOKUP_EVENTS = realLogs('log2timeline__plaso/test_data/jsonl/aws_cloudtrail.jsonl');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function ingest(world: TestWorld, credentials: Credentials, records: unknown[]): Promise<string[]> {
  const answer = await world
    .ingestApi(credentials)
    .call<{ Successful: { Index: number; EventID: string }[]; Failed: unknown[] }>('PutRecords', { Records: records });
  assert.deepEqual(answer.Failed, []);
  return answer.Successful.map((s) => s.EventID);
}

const attribute = (key: string, AttributeValue = '') => ({ AttributeKey: key as 'EventName', AttributeValue });
const by = (key: string, value?: string) => ({ LookupAttributes: [attribute(key, value)] });
const idsOf = (events: Event[]) => events.map((e) => e.EventId);

async function lookupAll(client: CloudTrailClient, input: LookupEventsCommandInput, pageSize?: number) {
  const events: Event[] = [];
  for await (const page of paginateLookupEvents({ client, ...(pageSize ? { pageSize } : {}) }, input)) {
    assert.ok((page.Events?.length ?? 0) <= (pageSize ?? 50), 'a page holds at most MaxResults events');
    events.push(...(page.Events ?? []));
  }
  return events;
}

/**
 * `client` with `edit` applied to each request body before it is signed: for values no SDK input can
 * express (a Date cannot hold 1e20 seconds; the SDK sends an invalid one as null).
 */
function editingBody(client: CloudTrailClient, edit: (body: string) => string): CloudTrailClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      // The serialiser leaves JSON bytes; content-length and the signature are computed after this step.
      const request = args.request as { body?: unknown };
      if (request.body instanceof Uint8Array) request.body = edit(Buffer.from(request.body).toString('utf8'));
      return next(args);
    },
    { step: 'build', priority: 'high' },
  );
  return client;
}

/** A token's fields, as the server wrote them (base64url JSON), for tests that forge a returned one. */
const decodeToken = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Json;
const encodeToken = (fields: unknown) => Buffer.from(JSON.stringify(fields)).toString('base64url');

function identities(account: string) {
  const iam = (path: string) => `arn:aws:iam::${account}:${path}`;
  const roleId = 'AROADEPLOYEXAMPLE0001';
  return {
    alice: {
      type: 'IAMUser',
      principalId: 'AIDAALICEEXAMPLE00001',
      arn: iam('user/alice'),
      accountId: account,
      accessKeyId: 'AKIAALICEEXAMPLE0001',
      userName: 'alice',
    },
    root: { type: 'Root', principalId: account, arn: iam('root'), accountId: account },
    deployer: {
      type: 'AssumedRole',
      principalId: `${roleId}:deploy-session`,
      arn: `arn:aws:sts::${account}:assumed-role/Deployer/deploy-session`,
      accountId: account,
      accessKeyId: 'ASIADEPLOYEXAMPLE001',
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: roleId, arn: iam('role/Deployer'), accountId: account },
        webIdFederationData: {},
        attributes: { creationDate: '2026-01-01T00:00:00Z', mfaAuthenticated: 'false' },
      },
    },
  };
}

/** A record as CloudTrail delivers it, with the members every test here varies in front. */
function apiCall(eventSource: string, eventName: string, userIdentity: Json, timeMs: number, more: Json = {}): Json {
  return {
    eventVersion: '1.09',
    userIdentity,
    eventTime: iso(timeMs),
    eventSource,
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.17.32 md/command#test',
    requestID: randomUUID(),
    ...more,
  };
}

const resource = (type: string, ARN: string, accountId?: string) => ({
  ...(accountId ? { accountId } : {}),
  type,
  ARN,
});

/** Six management events of one account over five days, one data event, and one in another Region. */
function historyRecords(account: string, top: number): Record<string, Json> {
  const { alice, root, deployer } = identities(account);
  const sg = `arn:aws:ec2:us-east-1:${account}:security-group/sg-0123456789abcdef0`;
  const bucket = resource('AWS::S3::Bucket', 'arn:aws:s3:::my-bucket', account);
  const management = { eventType: 'AwsApiCall', managementEvent: true, eventCategory: 'Management' };
  return {
    createUser: apiCall('iam.amazonaws.com', 'CreateUser', alice, top - 5 * DAY, {
      requestParameters: { userName: 'bob' },
      responseElements: { user: { userName: 'bob', userId: 'AIDABOBEXAMPLE0000001', path: '/' } },
      eventID: randomUUID(),
      readOnly: false,
      recipientAccountId: account,
      ...management,
      resources: [resource('AWS::IAM::User', `arn:aws:iam::${account}:user/bob`, account)],
    }),
    // No eventID, eventType, managementEvent, recipientAccountId or eventCategory: the service fills them.
    listBuckets: apiCall(
      's3.amazonaws.com',
      'ListBuckets',
      { ...root, accessKeyId: 'AKIAROOTEXAMPLE00001' },
      top - 4 * DAY,
      {
        requestParameters: { Host: 's3.us-east-1.amazonaws.com' },
        responseElements: null,
        additionalEventData: { SignatureVersion: 'SigV4', bytesTransferredIn: 0 },
        readOnly: true,
      },
    ),
    runInstances: apiCall('ec2.amazonaws.com', 'RunInstances', deployer, top - 3 * DAY, {
      requestParameters: {
        instancesSet: { items: [{ imageId: 'ami-0abc', minCount: 1, maxCount: 2 }] },
        disableApiTermination: false,
        spotPrice: 0.25,
        clientToken: null,
        description: 'naïve ☃ "quoted" \\ back',
      },
      responseElements: { reservationId: 'r-0123', instancesSet: { items: [{ instanceId: 'i-0abc' }] } },
      eventID: randomUUID(),
      readOnly: false,
      ...management,
      resources: [
        resource('AWS::EC2::Instance', `arn:aws:ec2:us-east-1:${account}:instance/i-0abc`, account),
        resource('AWS::EC2::SecurityGroup', sg, account),
      ],
    }),
    describeInstances: apiCall('ec2.amazonaws.com', 'DescribeInstances', alice, top - 2 * DAY, {
      requestParameters: { instancesSet: {}, filterSet: {} },
      responseElements: null,
      readOnly: true,
      // Members without a history column of their own come back from `extra`, nulls included.
      sessionCredentialFromConsole: 'true',
      vpcEndpointId: 'vpce-0123456789abcdef0',
      customMember: null,
      addendum: { reason: 'DELIVERY_DELAY', originalEventID: null },
      tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'x' },
    }),
    getObject: apiCall('s3.amazonaws.com', 'GetObject', alice, top - 2 * DAY + HOUR, {
      requestParameters: { bucketName: 'my-bucket', key: 'k.txt' },
      responseElements: null,
      readOnly: true,
      resources: [resource('AWS::S3::Object', 'arn:aws:s3:::my-bucket/k.txt'), bucket],
      eventType: 'AwsApiCall',
      managementEvent: false,
      eventCategory: 'Data',
    }),
    // No requestParameters or responseElements: history gives them back as null, as AWS records always have them.
    deleteBucket: apiCall('s3.amazonaws.com', 'DeleteBucket', deployer, top - DAY - 6 * HOUR, {
      readOnly: false,
      resources: [bucket],
    }),
    consoleLogin: apiCall('signin.amazonaws.com', 'ConsoleLogin', root, top - DAY, {
      requestParameters: null,
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { MFAUsed: 'No' },
      eventType: 'AwsConsoleSignIn',
      readOnly: false,
    }),
    otherRegion: apiCall('ec2.amazonaws.com', 'RunInstances', alice, top - 3 * DAY, { awsRegion: 'eu-west-1' }),
  };
}

const NEWEST_FIRST = ['consoleLogin', 'deleteBucket', 'describeInstances', 'runInstances', 'listBuckets', 'createUser'];

/** LookupEvents' Username: the IAM user name, `root`, or the session name of an assumed role. */
function username(identity: Json): string | undefined {
  if (identity['type'] === 'Root') return 'root';
  if (identity['type'] === 'AssumedRole') return String(identity['arn']).split('/').pop();
  return identity['userName'] as string | undefined;
}

/** Which events each lookup attribute finds, newest first (the data event and the other Region never). */
const ATTRIBUTE_CASES: [string, (account: string) => string, string[]][] = [
  ['EventName', () => 'DescribeInstances', ['describeInstances']],
  ['EventName', () => 'RunInstances', ['runInstances']],
  ['EventName', () => 'GetObject', []],
  ['ReadOnly', () => 'true', ['describeInstances', 'listBuckets']],
  ['ReadOnly', () => 'false', ['consoleLogin', 'deleteBucket', 'runInstances', 'createUser']],
  ['Username', () => 'alice', ['describeInstances', 'createUser']],
  ['Username', () => 'root', ['consoleLogin', 'listBuckets']],
  ['Username', () => 'deploy-session', ['deleteBucket', 'runInstances']],
  ['ResourceType', () => 'AWS::EC2::Instance', ['runInstances']],
  ['ResourceType', () => 'AWS::S3::Bucket', ['deleteBucket']],
  ['ResourceType', () => 'AWS::S3::Object', []],
  ['ResourceName', () => 'arn:aws:s3:::my-bucket', ['deleteBucket']],
  ['ResourceName', (a) => `arn:aws:ec2:us-east-1:${a}:security-group/sg-0123456789abcdef0`, ['runInstances']],
  ['EventSource', () => 'ec2.amazonaws.com', ['describeInstances', 'runInstances']],
  ['EventSource', () => 's3.amazonaws.com', ['deleteBucket', 'listBuckets']],
  ['AccessKeyId', () => 'AKIAALICEEXAMPLE0001', ['describeInstances', 'createUser']],
  ['AccessKeyId', () => 'ASIADEPLOYEXAMPLE001', ['deleteBucket', 'runInstances']],
  ['AccessKeyId', () => 'AKIAROOTEXAMPLE00001', ['listBuckets']],
];

describe('LookupEvents over ingested records', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let world: TestWorld;
  let account: string;
  let ct: CloudTrailClient;
  let rootA: Credentials;
  /** The newest fixture time; our own LookupEvents calls are recorded later, so `EndTime: top` leaves them out. */
  let top: number;
  let records: Record<string, Json>;
  const ids: Record<string, string> = {};
  const window = () => ({ EndTime: new Date(top) });
  const names = (events: Event[]) =>
    events.map((e) => Object.keys(ids).find((n) => ids[n] === e.EventId) ?? `other:${e.EventName}`);

  before(async () => {
    server = await startTestServer();
    world = server.world;
    const a = await world.newAccount();
    const b = await world.newAccount();
    account = a.accountId;
    rootA = a.root;
    ct = world.cloudtrail({ credentials: a.root });
    top = Math.floor(Date.now() / SECOND) * SECOND - SECOND;
    records = historyRecords(account, top);
    const eventIds = await ingest(world, a.root, Object.values(records));
    for (const [i, name] of Object.keys(records).entries()) ids[name] = eventIds[i] as string;
    // The same RunInstances call in another account.
    const inB = { ...records['runInstances'], eventID: randomUUID(), recipientAccountId: b.accountId };
    ids['otherAccount'] = (await ingest(world, b.root, [inB]))[0] as string;
    await world.historyCaughtUp();
  });
  after(() => server.stop());

  test('lists the management events of the account and Region, newest first', async () => {
    assert.deepEqual(names(await lookupAll(ct, window())), NEWEST_FIRST);
  });

  for (const [key, value, expected] of ATTRIBUTE_CASES) {
    test(`${key} finds exactly ${expected.join(', ') || 'nothing'}`, async () => {
      assert.deepEqual(names(await lookupAll(ct, { ...window(), ...by(key, value(account)) })), expected);
    });
  }

  test('EventId finds exactly its event, and never a data event or one of another Region or account', async () => {
    const byId = async (id: string | undefined) => names(await lookupAll(ct, by('EventId', id)));
    assert.deepEqual(await byId(ids['runInstances']), ['runInstances']);
    assert.deepEqual(await byId(ids['listBuckets']), ['listBuckets']);
    assert.deepEqual(await byId(ids['getObject']), []);
    assert.deepEqual(await byId(ids['otherRegion']), []);
    assert.deepEqual(await byId(ids['otherAccount']), []);
  });

  test('another Region and another account see only their own events', async () => {
    const creds = { credentials: (await world.newAccount()).root };
    const euWest = world.cloudtrail({ region: 'eu-west-1', credentials: rootA });
    assert.deepEqual(names(await lookupAll(euWest, window())), ['otherRegion']);
    assert.deepEqual(await lookupAll(world.cloudtrail(creds), window()), []);
  });

  test('returns Event items in the AWS shape, with the record as ingested plus what the service filled', async () => {
    const events = await lookupAll(ct, window());
    for (const { CloudTrailEvent, ...item } of events) {
      const name = names([item])[0] as string;
      const sent = records[name] as Json;
      const identity = sent['userIdentity'] as Json;
      const resources = (sent['resources'] as Json[] | undefined) ?? [];
      assert.deepEqual(item, {
        EventId: ids[name],
        EventName: sent['eventName'],
        ReadOnly: String(sent['readOnly']),
        ...(identity['accessKeyId'] ? { AccessKeyId: identity['accessKeyId'] } : {}),
        EventTime: new Date(sent['eventTime'] as string),
        EventSource: sent['eventSource'],
        Username: username(identity),
        Resources: resources.map((r) => ({ ResourceType: r['type'], ResourceName: r['ARN'] })),
      });
      const eventType = (sent['eventType'] as string | undefined) ?? 'AwsApiCall';
      assert.deepEqual(JSON.parse(CloudTrailEvent ?? ''), {
        requestParameters: null,
        responseElements: null,
        ...sent,
        eventID: ids[name],
        eventType,
        managementEvent: true,
        recipientAccountId: account,
        eventCategory: 'Management',
      });
    }
    assert.equal(events.length, NEWEST_FIRST.length);
  });

  test('StartTime and EndTime are inclusive bounds', async () => {
    const at = (name: string) => new Date(Date.parse(records[name]?.['eventTime'] as string));
    const between = { StartTime: at('runInstances'), EndTime: at('deleteBucket') };
    assert.deepEqual(names(await lookupAll(ct, between)), ['deleteBucket', 'describeInstances', 'runInstances']);
    const narrower = {
      StartTime: new Date(at('runInstances').getTime() + SECOND),
      EndTime: new Date(at('deleteBucket').getTime() - SECOND),
    };
    assert.deepEqual(names(await lookupAll(ct, narrower)), ['describeInstances']);
    const instant = { StartTime: at('listBuckets'), EndTime: at('listBuckets') };
    assert.deepEqual(names(await lookupAll(ct, instant)), ['listBuckets']);
  });

  const INVALID_ATTRIBUTES = 'InvalidLookupAttributesException';
  const REJECTIONS: [string, LookupEventsCommandInput, string][] = [
    ['StartTime after EndTime', { StartTime: new Date(2), EndTime: new Date(1) }, 'InvalidTimeRangeException'],
    ['two attributes', { LookupAttributes: [attribute('EventName'), attribute('EventSource')] }, INVALID_ATTRIBUTES],
    ["ReadOnly 'maybe'", by('ReadOnly', 'maybe'), INVALID_ATTRIBUTES],
    ['an unknown attribute key', by('Colour', 'blue'), INVALID_ATTRIBUTES],
    // The model's documentation: '_', ' ', ',' and newlines count twice toward the 2000 characters.
    ['1001 underscores', by('EventName', '_'.repeat(1001)), INVALID_ATTRIBUTES],
    ['MaxResults 0', { MaxResults: 0 }, 'InvalidMaxResultsException'],
    ['MaxResults 51', { MaxResults: 51 }, 'InvalidMaxResultsException'],
    ['MaxResults -1', { MaxResults: -1 }, 'InvalidMaxResultsException'],
    ['MaxResults 1e21', { MaxResults: 1e21 }, 'InvalidMaxResultsException'],
    ['insight with Username', { EventCategory: 'insight', ...by('Username', 'alice') }, INVALID_ATTRIBUTES],
    ["EventCategory 'management'", { EventCategory: 'management' as 'insight' }, 'InvalidEventCategoryException'],
    ['a garbage NextToken', { NextToken: 'garbage' }, 'InvalidNextTokenException'],
  ];
  for (const [what, input, error] of REJECTIONS) {
    test(`rejects ${what} with ${error}`, async () => {
      await rejectsWith(ct.send(new LookupEventsCommand(input)), error);
    });
  }

  // Times beyond what a timestamp can hold (±8.64e12 epoch seconds), sent as the SDK would send numbers.
  const OUT_OF_RANGE: [string, string, string][] = [
    ['StartTime', '1e20', 'startTime'],
    ['EndTime', '1e20', 'endTime'],
    ['StartTime', '-1e20', 'startTime'],
    ['EndTime', '-8640000000001', 'endTime'],
    // JSON.parse reads this as Infinity.
    ['EndTime', '1e400', 'endTime'],
  ];
  for (const [member, seconds, path] of OUT_OF_RANGE) {
    test(`rejects ${member} ${seconds} epoch seconds with InvalidTimeRangeException`, async () => {
      const client = editingBody(world.cloudtrail({ credentials: rootA }), (body) => body.replace(/0(?=})/, seconds));
      // The SDK sends {"<member>":0}; the edit puts the out-of-range number in its place.
      await rejectsWith(
        client.send(new LookupEventsCommand({ [member]: new Date(0) })),
        'InvalidTimeRangeException',
        new RegExp(
          `at '${path}' failed to satisfy constraint: Member must be a time between -8640000000000 and 8640000000000 epoch seconds`,
        ),
      );
    });
  }

  test('rejects a StartTime that is no number at all with SerializationException', async () => {
    const client = editingBody(world.cloudtrail({ credentials: rootA }), (body) => body.replace(/0(?=})/, '"NaN"'));
    await rejectsWith(
      client.send(new LookupEventsCommand({ StartTime: new Date(0) })),
      'SerializationException',
      /'startTime' is not a timestamp; send epoch seconds/,
    );
  });

  test('takes the earliest and latest times a timestamp can hold', async () => {
    const earliest = new Date(-8_640_000_000_000_000);
    const latest = new Date(8_640_000_000_000_000);
    assert.deepEqual(names(await lookupAll(ct, { StartTime: earliest, ...window() })), NEWEST_FIRST);
    const upToLatest = names(await lookupAll(ct, { StartTime: new Date(top - 6 * DAY), EndTime: latest }));
    assert.deepEqual(upToLatest.slice(-NEWEST_FIRST.length), NEWEST_FIRST);
    assert.deepEqual(await lookupAll(ct, { StartTime: earliest, EndTime: new Date(-8_639_999_000_000_000) }), []);
  });

  test('looks up Insights events by EventName, and finds no management events there', async () => {
    const insights = { EventCategory: 'insight', ...by('EventName', 'RunInstances') } as const;
    assert.deepEqual((await ct.send(new LookupEventsCommand(insights))).Events, []);
  });

  test('looks up an Insights event by the API its insightDetails name, and lists that API in its item', async () => {
    // An Insights record has no eventName or eventSource at the top level (facts §4.4).
    const insight = {
      eventVersion: '1.08',
      eventTime: new Date(top - 30 * SECOND).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      awsRegion: 'us-east-1',
      eventID: randomUUID(),
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: account,
      sharedEventID: randomUUID(),
      insightDetails: {
        state: 'Start',
        eventSource: 's3.amazonaws.com',
        eventName: 'CreateBucket',
        insightType: 'ApiCallRateInsight',
        insightContext: { statistics: { baseline: { average: 0.1 }, insight: { average: 4 }, insightDuration: 1 } },
      },
      eventCategory: 'Insight',
    };
    const [eventId] = await ingest(world, rootA, [insight]);
    await world.historyCaughtUp();
    const lookup = async (key: string, value: string) =>
      (await ct.send(new LookupEventsCommand({ EventCategory: 'insight', ...by(key, value) }))).Events ?? [];
    for (const [key, value] of [
      ['EventName', 'CreateBucket'],
      ['EventSource', 's3.amazonaws.com'],
      ['EventId', eventId as string],
    ] as const) {
      const [found, ...more] = await lookup(key, value);
      assert.deepEqual(more, [], key);
      assert.equal(found?.EventId, eventId, key);
      assert.equal(found?.EventName, 'CreateBucket', key);
      assert.equal(found?.EventSource, 's3.amazonaws.com', key);
      assert.deepEqual(JSON.parse(found?.CloudTrailEvent ?? '{}'), insight, key);
    }
    assert.deepEqual(await lookup('EventName', 'PutObject'), []);
    // No management event is an Insights event, whatever its name.
    assert.deepEqual(await lookup('EventSource', 'ec2.amazonaws.com'), []);
  });
});

describe("the trail a CloudTrail call's event names", () => {
  test('is listed for trail operations, and never for a store another operation names the same way', () =>
    withServer(async (w) => {
      const ct = w.cloudtrail();
      const trail = await ct.send(new CreateTrailCommand({ Name: 'audit', S3BucketName: 'audit-logs' }));
      const store = await ct.send(new CreateEventDataStoreCommand({ Name: 'audit-store' }));
      const tag = { TagsList: [{ Key: 'team', Value: 'sec' }] };
      await ct.send(new AddTagsCommand({ ResourceId: trail.TrailARN, ...tag }));
      await ct.send(new AddTagsCommand({ ResourceId: store.EventDataStoreArn, ...tag }));
      await w.historyCaughtUp();
      const events = await lookupAll(ct, by('EventSource', 'cloudtrail.amazonaws.com'));
      const resources = (name: string) =>
        events
          .filter((e) => e.EventName === name)
          .map((e) => e.Resources?.map((r) => [r.ResourceType, r.ResourceName]));
      const trailResource = [['AWS::CloudTrail::Trail', trail.TrailARN]];
      assert.deepEqual(resources('CreateTrail'), [trailResource]);
      assert.deepEqual(resources('CreateEventDataStore'), [[]]);
      // Newest first: the store's tags, then the trail's.
      assert.deepEqual(resources('AddTags'), [[], trailResource]);
      const trailEvents = await lookupAll(ct, by('ResourceType', 'AWS::CloudTrail::Trail'));
      assert.deepEqual(trailEvents.map((e) => e.EventName).sort(), ['AddTags', 'CreateTrail']);
    }));
});

describe('the resources of an EC2 call', () => {
  test('are the IDs it changed, as in AWS’s own LookupEvents output, and found by ResourceName and ResourceType', async () => {
    // AWS's answer to LookupEvents for six EC2 events (public test data), each with the record it was made of.
    const lines = (await readFile(PLASO_LOOKUP_EVENTS, 'utf8')).trim().split('\n');
    const aws = lines.map((l) => JSON.parse(l) as { EventName: string; Resources: Json[]; CloudTrailEvent: string });
    const records = aws.map((e) => JSON.parse(e.CloudTrailEvent) as Json);
    const account = String(records[0]?.['recipientAccountId']);
    const clock = new ManualClock(Date.parse('2022-02-08T00:00:00Z'));
    await withServer(
      async (w) => {
        const answer = await w.ingestApi().call<{ Failed: unknown[] }>('PutRecords', { Records: records });
        assert.deepEqual(answer.Failed, []);
        await w.historyCaughtUp();
        const ct = w.cloudtrail({ region: 'ap-southeast-2' });
        const ours = await lookupAll(ct, {});
        const resourcesOf = (resources: Json[] | undefined) =>
          (resources ?? []).map((r) => `${r['ResourceType']} ${r['ResourceName']}`).sort();
        for (const event of aws) {
          const mine = ours.find((e) => e.EventId === JSON.parse(event.CloudTrailEvent).eventID);
          // The data's redaction wrote the VPC ID in CreateSecurityGroup's record one digit shorter than in AWS's
          // Resources for it; the record is all opentrail has.
          const expected = resourcesOf(event.Resources).map((r) =>
            event.EventName === 'CreateSecurityGroup' ? r.replace('vpc-01234567890123456', 'vpc-0123456789012345') : r,
          );
          assert.deepEqual(resourcesOf(mine?.Resources as Json[]), expected, event.EventName);
        }
        const instance = await lookupAll(ct, by('ResourceName', 'i-01234567890123456'));
        assert.deepEqual(
          instance.map((e) => e.EventName),
          ['TerminateInstances', 'StopInstances', 'RunInstances'],
        );
        const groups = await lookupAll(ct, by('ResourceType', 'AWS::EC2::SecurityGroup'));
        assert.deepEqual(
          groups.map((e) => e.EventName),
          ['RunInstances', 'CreateSecurityGroup'],
        );
      },
      { clock, env: { OPENTRAIL_ACCOUNT_ID: account } },
    );
  });
});

describe('LookupEvents paging', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let ct: CloudTrailClient;
  let top: number;
  /** Every event id, in the order LookupEvents must return them. */
  let expected: string[];
  let expectedA: string[];

  before(async () => {
    server = await startTestServer();
    const { world } = server;
    const a = await world.newAccount();
    ct = world.cloudtrail({ credentials: a.root });
    top = Math.floor(Date.now() / SECOND) * SECOND - SECOND;
    const { alice } = identities(a.accountId);
    const sent: Json[] = [];
    const add = (timeMs: number, name: string, fraction = '') =>
      sent.push(
        apiCall('paging.example.com', name, alice, timeMs, { eventTime: iso(timeMs).replace('Z', `${fraction}Z`) }),
      );
    // 45 events in one second, 12 in one sub-millisecond instant, 70 spread over 58 days (many search windows).
    for (let i = 0; i < 45; i++) add(top - 10 * DAY, i % 2 ? 'PageA' : 'PageB');
    for (let i = 0; i < 12; i++) add(top - 20 * DAY, 'PageA', '.123456');
    for (let i = 1; i <= 70; i++) add(top - i * 20 * HOUR - i * SECOND, i % 3 ? 'PageB' : 'PageA');
    const eventIds = await ingest(world, a.root, sent);
    // Newest first; within one instant the later-ingested event first.
    const order = sent
      .map((r, i) => ({ t: Date.parse(r['eventTime'] as string), i, id: eventIds[i] as string, name: r['eventName'] }))
      .sort((x, y) => y.t - x.t || y.i - x.i);
    expected = order.map((o) => o.id);
    expectedA = order.filter((o) => o.name === 'PageA').map((o) => o.id);
    await world.historyCaughtUp();
  });
  after(() => server.stop());

  for (const pageSize of [1, 7, 50, undefined]) {
    test(`walks every event exactly once, newest first, with pages of ${pageSize ?? 'the default'}`, async () => {
      assert.deepEqual(idsOf(await lookupAll(ct, { EndTime: new Date(top) }, pageSize)), expected);
    });
  }

  test('pages through one lookup attribute', async () => {
    assert.deepEqual(idsOf(await lookupAll(ct, { EndTime: new Date(top), ...by('EventName', 'PageA') }, 4)), expectedA);
  });

  test('rejects a NextToken reused with different parameters with InvalidNextTokenException', async () => {
    const first = await ct.send(new LookupEventsCommand({ EndTime: new Date(top), MaxResults: 5 }));
    assert.ok(first.NextToken);
    const NextToken = first.NextToken;
    await rejectsWith(
      ct.send(new LookupEventsCommand({ EndTime: new Date(top - SECOND), MaxResults: 5, NextToken })),
      'InvalidNextTokenException',
    );
    const withAttribute = { EndTime: new Date(top), ...by('EventName', 'PageA'), NextToken };
    await rejectsWith(ct.send(new LookupEventsCommand(withAttribute)), 'InvalidNextTokenException');
    const again = await ct.send(new LookupEventsCommand({ EndTime: new Date(top), MaxResults: 5, NextToken }));
    assert.deepEqual(idsOf(again.Events ?? []), expected.slice(5, 10));
  });
});

describe('LookupEvents by EventId and ResourceName over the hash index', () => {
  test('finds each event in the index runs, after the runs were rebuilt as one, and after the watermark', () =>
    withServer(
      async (world) => {
        const a = await world.newAccount();
        const ct = world.cloudtrail({ credentials: a.root });
        const { alice } = identities(a.accountId);
        const index = async () =>
          ((await (await fetch(new URL('/health', world.url))).json()) as { historyIndex: { runs: number } })
            .historyIndex;
        const now = Date.now() - HOUR;
        const sent: { id: string; bucket: string }[] = [];
        const runsSeen: number[] = [];
        // One call at a time, each its own history batch of 3 records: with runs of 3, a run after each; the
        // last call's 2 records stay after the watermark.
        for (let call = 0; call < 15; call++) {
          const records = (call < 14 ? [0, 1, 2] : [0, 1]).map((i) =>
            apiCall('s3.amazonaws.com', 'PutBucketTagging', alice, now + call * SECOND + i, {
              resources: [{ type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::bucket-${call}-${i}` }],
            }),
          );
          const ids = await ingest(world, a.root, records);
          sent.push(...ids.map((id, i) => ({ id, bucket: `arn:aws:s3:::bucket-${call}-${i}` })));
          await world.historyCaughtUp();
          runsSeen.push((await index()).runs);
        }
        assert.equal(runsSeen.at(-1), runsSeen.at(-2), `the last call made no run: ${runsSeen}`);
        assert.ok(Math.max(...runsSeen) === MAX_RUNS, `runs grew to ${MAX_RUNS}: ${runsSeen}`);
        assert.ok(
          runsSeen.at(-1) !== undefined && (runsSeen.at(-1) as number) < MAX_RUNS,
          `then were rebuilt: ${runsSeen}`,
        );
        for (const { id, bucket } of sent) {
          const byId = await ct.send(new LookupEventsCommand(by('EventId', id)));
          assert.deepEqual(idsOf(byId.Events ?? []), [id]);
          const byName = await ct.send(new LookupEventsCommand(by('ResourceName', bucket)));
          assert.deepEqual(idsOf(byName.Events ?? []), [id]);
        }
        // A value no event has: its hash is in no run and after no watermark.
        assert.deepEqual((await ct.send(new LookupEventsCommand(by('EventId', randomUUID())))).Events, []);
      },
      { deps: { historyIndexRunEvents: 3 } },
    ));

  test('keeps to the caller’s account and time range, and pages, whether a page holds all of a hash’s events or not', () =>
    withServer(async (world) => {
      const [a, b] = [await world.newAccount(), await world.newAccount()];
      const ct = world.cloudtrail({ credentials: a.root });
      const ARN = 'arn:aws:s3:::shared-name';
      // Whole seconds, as records' eventTimes are.
      const start = Math.floor((Date.now() - HOUR) / SECOND) * SECOND;
      const named = (account: string, i: number) =>
        apiCall('s3.amazonaws.com', 'PutBucketTagging', identities(account).alice, start + i * SECOND, {
          resources: [{ type: 'AWS::S3::Bucket', ARN }],
        });
      const mine = await ingest(
        world,
        a.root,
        [0, 1, 2, 3, 4].map((i) => named(a.accountId, i)),
      );
      const theirs = await ingest(
        world,
        b.root,
        [5, 6].map((i) => named(b.accountId, i)),
      );
      await world.historyCaughtUp();
      // 7 events have the name's hash: a page of 50 holds them all, a page of 3 does not.
      const all = await ct.send(new LookupEventsCommand({ ...by('ResourceName', ARN), MaxResults: 50 }));
      assert.deepEqual(idsOf(all.Events ?? []), [...mine].reverse());
      assert.equal(all.NextToken, undefined);
      const first = await ct.send(new LookupEventsCommand({ ...by('ResourceName', ARN), MaxResults: 3 }));
      const second = await ct.send(
        new LookupEventsCommand({ ...by('ResourceName', ARN), MaxResults: 3, NextToken: first.NextToken }),
      );
      assert.deepEqual([...idsOf(first.Events ?? []), ...idsOf(second.Events ?? [])], [...mine].reverse());
      const recent = await ct.send(
        new LookupEventsCommand({ ...by('ResourceName', ARN), StartTime: new Date(start + 2 * SECOND) }),
      );
      assert.deepEqual(idsOf(recent.Events ?? []), mine.slice(2).reverse());
      assert.deepEqual((await ct.send(new LookupEventsCommand(by('EventId', theirs[0])))).Events, []);
      assert.deepEqual(idsOf((await ct.send(new LookupEventsCommand(by('EventId', mine[1])))).Events ?? []), [mine[1]]);
    }));

  test('pages through a resource named in more events than a hash lookup takes, newest first', () =>
    withServer(async (world) => {
      const a = await world.newAccount();
      const ct = world.cloudtrail({ credentials: a.root });
      const { alice } = identities(a.accountId);
      const start = Date.now() - DAY;
      const ARN = 'arn:aws:s3:::busy-bucket';
      const records = Array.from({ length: 4200 }, (_, i) =>
        apiCall('s3.amazonaws.com', 'PutBucketTagging', alice, start + i * SECOND, {
          resources: [{ type: 'AWS::S3::Bucket', ARN }],
        }),
      );
      const ids = await ingest(world, a.root, records);
      await world.historyCaughtUp();
      const first = await ct.send(new LookupEventsCommand({ ...by('ResourceName', ARN), MaxResults: 50 }));
      assert.deepEqual(idsOf(first.Events ?? []), ids.slice(-50).reverse());
      const second = await ct.send(
        new LookupEventsCommand({ ...by('ResourceName', ARN), MaxResults: 50, NextToken: first.NextToken }),
      );
      assert.deepEqual(idsOf(second.Events ?? []), ids.slice(-100, -50).reverse());
    }));
});

describe('LookupEvents NextToken checks', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let world: TestWorld;
  let ct: CloudTrailClient;
  let rootA: Credentials;
  let top: number;
  /** A token LookupEvents returned for `query`, and its fields. */
  let issued: string;
  let fields: Json;
  const query = () => ({ EndTime: new Date(top), MaxResults: 2 });

  before(async () => {
    server = await startTestServer();
    world = server.world;
    const a = await world.newAccount();
    rootA = a.root;
    ct = world.cloudtrail({ credentials: a.root });
    top = Math.floor(Date.now() / SECOND) * SECOND - SECOND;
    const { alice } = identities(a.accountId);
    const sent = Array.from({ length: 5 }, (_, i) => apiCall('token.example.com', 'Tok', alice, top - i * HOUR));
    await ingest(world, a.root, sent);
    await world.historyCaughtUp();
    const first = await ct.send(new LookupEventsCommand(query()));
    assert.ok(first.NextToken);
    issued = first.NextToken;
    fields = decodeToken(issued);
    assert.deepEqual(Object.keys(fields).sort(), ['p', 's', 't']);
  });
  after(() => server.stop());

  const rejectsToken = (NextToken: string, client = ct, input: LookupEventsCommandInput = query()) =>
    rejectsWith(client.send(new LookupEventsCommand({ ...input, NextToken })), 'InvalidNextTokenException');

  const GARBAGE: [string, () => string][] = [
    ['an empty string', () => ''],
    ['characters outside base64', () => '!!!!~~~~'],
    ['base64 of text that is not JSON', () => Buffer.from('not json at all').toString('base64url')],
    ['base64 of JSON null', () => encodeToken(null)],
    ['base64 of a JSON list', () => encodeToken([1, 2, 'x'])],
    ['base64 of a JSON number', () => encodeToken(42)],
    ['a token missing its time', () => encodeToken({ ...fields, t: undefined })],
    ['a token whose time is text', () => encodeToken({ ...fields, t: String(fields['t']) })],
    ['a token whose seq is a boolean', () => encodeToken({ ...fields, s: true })],
    ['a token whose binding is a number', () => encodeToken({ ...fields, p: 7 })],
    ['the issued token cut short', () => issued.slice(0, -6)],
    ['the issued token in standard base64 with a character changed', () => `A${issued.slice(1)}`],
  ];
  for (const [what, token] of GARBAGE) {
    test(`rejects ${what} with InvalidNextTokenException`, async () => {
      await rejectsToken(token());
    });
  }

  // The issued token with one number changed, the binding kept: only the range checks can refuse these.
  const NUMBERS: [string, Json][] = [
    ['a fractional time', { t: 1.5 }],
    ['a negative time', { t: -1 }],
    ['a time beyond Number.MAX_SAFE_INTEGER', { t: 2 ** 60 }],
    ['a time of 1e300', { t: 1e300 }],
    ['a time past the last a Date holds', { t: 8_640_000_000_000_001 }],
    ['a fractional seq', { s: 0.5 }],
    ['a negative seq', { s: -1 }],
    ['a seq beyond Number.MAX_SAFE_INTEGER', { s: 2 ** 64 }],
    ['a seq of 1e300', { s: 1e300 }],
  ];
  for (const [what, change] of NUMBERS) {
    test(`rejects a token with ${what} with InvalidNextTokenException`, async () => {
      await rejectsToken(encodeToken({ ...fields, ...change }));
    });
  }

  test('takes the issued token with the largest numbers it could carry', async () => {
    const largest = encodeToken({ ...fields, t: 8_640_000_000_000_000, s: Number.MAX_SAFE_INTEGER });
    const { Events = [] } = await ct.send(new LookupEventsCommand({ ...query(), NextToken: largest }));
    assert.equal(Events.length, 2);
  });

  test('rejects a token of another account, another Region or another query with InvalidNextTokenException', async () => {
    const other = await world.newAccount();
    await rejectsToken(issued, world.cloudtrail({ credentials: other.root }));
    await rejectsToken(issued, world.cloudtrail({ credentials: rootA, region: 'eu-west-1' }));
    await rejectsToken(issued, ct, { ...query(), EventCategory: 'insight' });
    await rejectsToken(issued, ct, { ...query(), StartTime: new Date(top - DAY) });
    await rejectsWith(
      ct.send(new LookupEventsCommand({ ...query(), NextToken: encodeToken({ ...fields, p: 'forged' }) })),
      'InvalidNextTokenException',
      /issued for different parameters/,
    );
    // The token still works where it was issued.
    const { Events = [] } = await ct.send(new LookupEventsCommand({ ...query(), NextToken: issued }));
    assert.equal(Events.length, 2);
  });
});

describe('event history retention and rate limit', () => {
  test('keeps 90 days: an event falls out of lookups and then out of the table', async () => {
    const start = Date.UTC(2026, 2, 1, 12);
    const clock = new ManualClock(start);
    await withServer(
      async (world) => {
        const { alice } = identities(world.app.admin.accountId);
        const event = (ms: number) => apiCall('ec2.amazonaws.com', 'RunInstances', alice, ms);
        const sent = [event(start - 89 * DAY), event(start - DAY)];
        const [old, recent] = await ingest(world, world.adminCredentials, sent);
        await world.historyCaughtUp();
        const byId = async (id: string | undefined) => idsOf(await lookupAll(world.cloudtrail(), by('EventId', id)));
        assert.deepEqual(await byId(old), [old]);
        assert.deepEqual(await byId(recent), [recent]);
        const listed = async () => idsOf(await lookupAll(world.cloudtrail(), { EndTime: new Date(start - 1) }));
        assert.deepEqual(await listed(), [recent, old]);

        await clock.advance(2 * DAY);
        assert.deepEqual(await byId(old), []);
        assert.deepEqual(await listed(), [recent]);
        // The retention pass re-arms itself when the previous one finishes, so the pass that drops the event
        // (cutoff past start - 89 days) runs an hour after the lookups above have let the first one finish.
        await clock.advance(HOUR);
        assert.deepEqual(await byId(recent), [recent]);
        // Back at `start` the event would be in the window again: not finding it shows the row is gone.
        clock.set(start);
        assert.deepEqual(await byId(old), []);
        assert.deepEqual(await byId(recent), [recent]);
      },
      { clock },
    );
  });

  // A new client per call: the SDK resets its clock offset from each response's Date header (real time).
  const lookup = (world: TestWorld) => world.cloudtrail().send(new LookupEventsCommand({ MaxResults: 1 }));

  test('--lookup-rate-limit 2 throttles the third call in one second, and lets calls through a second later', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
    const undeclared: string[] = [];
    await withServer(
      async (world) => {
        await lookup(world);
        await lookup(world);
        await rejectsWith(lookup(world), 'ThrottlingException', /Rate exceeded/);
        await clock.advance(SECOND);
        await lookup(world);
        await lookup(world);
        await rejectsWith(lookup(world), 'ThrottlingException');
      },
      {
        clock,
        argv: ['--lookup-rate-limit', '2'],
        deps: { onUndeclaredError: (operation, error) => undeclared.push(`${operation} → ${error}`) },
      },
    );
    // ThrottlingException is one of AWS's common errors: any operation may answer it.
    assert.deepEqual(undeclared, []);
  });

  test('has no rate limit without --lookup-rate-limit', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
    await withServer(
      async (world) => {
        for (let i = 0; i < 10; i++) await lookup(world);
      },
      { clock },
    );
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  AddTagsCommand,
  CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
  ListTrailsCommand,
  LookupEventsCommand,
  PutEventSelectorsCommand,
  paginateLookupEvents,
  RemoveTagsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { recordedDate } from '../../src/capture/camel-case.ts';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { recordedAddress } from '../../src/model/client-address.ts';
import { realLogs } from '../helpers/real-logs.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';
import { JSON_11, rawRequest } from '../helpers/signed-request.ts';

/**
 * Every call to our own CloudTrail API becomes a management event (facts §4.1, §4.2), shaped like the
 * records AWS writes for CloudTrail API calls in /work/shared/data/real-logs.
 */

type Json = Record<string, unknown>;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const CUSTOM_AGENT = 'audit-robot/4.2 (+https://example.com/robot)';
/** AWS truncates userAgent at 1 KB (facts §4.1). */
const LONG_AGENT = `long-agent/1.0 ${'x'.repeat(1500)}`;

/**
 * Real records of CloudTrail API calls from two public data sets (see real-logs/README.md): `delivered`
 * are log files as AWS wrote them, key order included; the other set has its keys sorted.
 */
function realCloudTrailApiRecords(): { delivered: Json[]; all: Json[] } {
  const read = (dir: string, match: RegExp): Json[] =>
    readdirSync(realLogs(dir))
      .filter((f) => match.test(f))
      .flatMap((f) => {
        const parsed = JSON.parse(readFileSync(realLogs(`${dir}${f}`), 'utf8')) as unknown;
        return (Array.isArray(parsed) ? parsed : (parsed as { Records: Json[] }).Records) as Json[];
      })
      .filter((r) => r['eventSource'] === 'cloudtrail.amazonaws.com');
  const delivered = read('invictus-ir__aws_dataset/CloudTrail/', /\.json$/);
  const sorted = read('adanalvarez__TrailDiscover/docs/logExamples/', /^CloudTrail-.*\.json\.cloudtrail$/);
  return { delivered, all: [...delivered, ...sorted] };
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** One call we made, with what the SDK saw of it. */
interface Call {
  eventName: string;
  requestId: string;
  userAgent: string;
  error?: { name: string; message: string };
}

/** A client that remembers, per call, the User-Agent it sent (optionally replaced) and the request id it got. */
function recordingClient(
  world: TestWorld,
  calls: Call[],
  options: { region?: string; credentials?: Credentials; userAgent?: string } = {},
) {
  const client = world.cloudtrail({
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  let sentAgent = '';
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      if (options.userAgent) headers['user-agent'] = options.userAgent;
      sentAgent = headers['user-agent'] ?? '';
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  // Any CloudTrail command; the SDK's overloads of `send` do not accept a union of commands.
  return async (command: object): Promise<void> => {
    const eventName = command.constructor.name.replace(/Command$/, '');
    try {
      const out = (await client.send(command as never)) as { $metadata: { requestId?: string } };
      calls.push({ eventName, requestId: out.$metadata.requestId ?? '', userAgent: sentAgent });
    } catch (thrown) {
      const error = thrown as Error & { $metadata: { requestId?: string } };
      const failure = { name: error.name, message: error.message };
      calls.push({ eventName, requestId: error.$metadata.requestId ?? '', userAgent: sentAgent, error: failure });
    }
  };
}

async function cloudTrailEvents(client: CloudTrailClient, eventSource = 'cloudtrail.amazonaws.com'): Promise<Json[]> {
  const events: Json[] = [];
  const input = { LookupAttributes: [{ AttributeKey: 'EventSource' as const, AttributeValue: eventSource }] };
  for await (const page of paginateLookupEvents({ client }, input)) {
    events.push(...(page.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as Json));
  }
  return events;
}

describe('self-recorded CloudTrail API calls', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let world: TestWorld;
  let admin: string;
  let user: { accountId: string; credentials: Credentials };
  const calls: Call[] = [];
  const userCalls: Call[] = [];
  const regionCalls: Call[] = [];
  let started: number;
  let finished: number;
  /** requestID → the one recorded event with it. */
  const recorded = new Map<string, Json>();
  const eventOf = (call: Call | undefined) => recorded.get(call?.requestId ?? '') as Json;
  const find = (name: string, failed = false) =>
    eventOf(calls.find((c) => c.eventName === name && !!c.error === failed));

  before(async () => {
    server = await startTestServer();
    world = server.world;
    admin = world.app.admin.accountId;
    const other = await world.newAccount('carol');
    user = { accountId: other.accountId, credentials: other.user as Credentials };
    started = Math.floor(Date.now() / 1000) * 1000;
    const call = recordingClient(world, calls);
    const arn = `arn:aws:cloudtrail:us-east-1:${admin}:trail/audit`;
    const tags = { ResourceId: arn, TagsList: [{ Key: 'team', Value: 'sec' }] };
    await call(new CreateTrailCommand({ Name: 'audit', S3BucketName: 'audit-bucket' }));
    await call(new GetTrailCommand({ Name: 'audit' }));
    await call(new GetTrailCommand({ Name: 'missing' }));
    await call(new DescribeTrailsCommand({ trailNameList: ['audit'] }));
    await call(new GetTrailStatusCommand({ Name: 'audit' }));
    await call(new GetEventSelectorsCommand({ TrailName: 'audit' }));
    await call(new ListTagsCommand({ ResourceIdList: [arn] }));
    await call(new UpdateTrailCommand({ Name: 'audit', IncludeGlobalServiceEvents: false }));
    await call(
      new PutEventSelectorsCommand({
        TrailName: 'audit',
        EventSelectors: [{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true }],
      }),
    );
    await call(new StartLoggingCommand({ Name: 'audit' }));
    await call(new StopLoggingCommand({ Name: 'audit' }));
    await call(new AddTagsCommand(tags));
    await call(new RemoveTagsCommand(tags));
    await call(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateTrail' }],
        StartTime: new Date(Date.UTC(2026, 9, 26, 23, 50, 52, 345)),
        EndTime: new Date(Date.UTC(2026, 9, 27, 0, 0, 52)),
        MaxResults: 5,
      }),
    );
    await call(new DeleteTrailCommand({ Name: 'missing' }));
    await call(new DeleteTrailCommand({ Name: 'audit' }));
    await recordingClient(world, calls, { userAgent: CUSTOM_AGENT })(new ListTrailsCommand({}));
    await recordingClient(world, calls, { userAgent: LONG_AGENT })(new ListTrailsCommand({}));
    await recordingClient(world, userCalls, user)(new DescribeTrailsCommand({}));
    await recordingClient(world, regionCalls, { region: 'eu-west-1' })(new DescribeTrailsCommand({}));
    finished = Date.now();
    await world.historyCaughtUp();
    const lookups = [
      world.cloudtrail(),
      world.cloudtrail({ credentials: other.root }),
      world.cloudtrail({ region: 'eu-west-1' }),
    ];
    for (const client of lookups) {
      for (const event of await cloudTrailEvents(client)) {
        const id = event['requestID'] as string;
        assert.ok(!recorded.has(id), `one event per request (${id})`);
        recorded.set(id, event);
      }
    }
  });
  after(() => server.stop());

  test('records every call, successful or failed, under the request id the caller got', () => {
    for (const call of [...calls, ...userCalls, ...regionCalls]) {
      const event = eventOf(call);
      assert.ok(event, `${call.eventName} (${call.requestId}) is recorded`);
      assert.match(call.requestId, GUID);
      assert.equal(event['eventName'], call.eventName);
      assert.equal(event['eventSource'], 'cloudtrail.amazonaws.com');
    }
    assert.equal(calls.filter((c) => c.error).length, 2);
  });

  test('marks Get, Describe, List and Lookup calls read-only, and every other call not', () => {
    for (const call of [...calls, ...userCalls, ...regionCalls]) {
      const readOnly = /^(Get|Describe|List|Lookup)/.test(call.eventName);
      assert.ok(readOnly || /^(Create|Update|Delete|Put|Start|Stop|Add|Remove)/.test(call.eventName));
      assert.equal(eventOf(call)['readOnly'], readOnly, call.eventName);
    }
  });

  test('records request members with lower-camel names', () => {
    assert.deepEqual(find('CreateTrail')['requestParameters'], { name: 'audit', s3BucketName: 'audit-bucket' });
    assert.deepEqual(find('GetTrail', true)['requestParameters'], { name: 'missing' });
    // Times as AWS's records write them: Java's date text, UTC, to the second (a real LookupEvents record
    // reads "startTime":"Oct 26, 2025, 11:50:52 PM").
    assert.deepEqual(find('LookupEvents')['requestParameters'], {
      lookupAttributes: [{ attributeKey: 'EventName', attributeValue: 'CreateTrail' }],
      startTime: 'Oct 26, 2026, 11:50:52 PM',
      endTime: 'Oct 27, 2026, 12:00:52 AM',
      maxResults: 5,
    });
    assert.equal(recordedDate(new Date(Date.UTC(2026, 0, 5, 12, 7, 9))), 'Jan 5, 2026, 12:07:09 PM');
    assert.equal(recordedDate(new Date(Date.UTC(2026, 11, 31, 13, 0, 0))), 'Dec 31, 2026, 1:00:00 PM');
    assert.deepEqual(find('PutEventSelectors')['requestParameters'], {
      trailName: 'audit',
      eventSelectors: [{ readWriteType: 'WriteOnly', includeManagementEvents: true }],
    });
    assert.deepEqual(find('DescribeTrails')['requestParameters'], { trailNameList: ['audit'] });
  });

  test('records responses of successful mutating calls only, with the members AWS records', () => {
    const real = realCloudTrailApiRecords().all;
    const realResponse = (name: string) =>
      real.find((r) => r['eventName'] === name && r['responseElements'] !== null)?.['responseElements'] as Json;
    for (const name of ['CreateTrail', 'PutEventSelectors']) {
      const response = find(name)['responseElements'] as Json;
      assert.deepEqual(Object.keys(response).sort(), Object.keys(realResponse(name)).sort(), name);
    }
    assert.equal(
      (find('CreateTrail')['responseElements'] as Json)['trailARN'],
      `arn:aws:cloudtrail:us-east-1:${admin}:trail/audit`,
    );
    // AWS records null for calls that answer nothing (StartLogging, DeleteTrail), for reads and for failures.
    for (const call of calls) {
      const response = eventOf(call)['responseElements'];
      if (call.error || !/^(Create|Update|Put)/.test(call.eventName)) assert.equal(response, null, call.eventName);
      else assert.equal(jsonType(response), 'object', call.eventName);
    }
  });

  test('records errorCode and errorMessage of a failed call, and neither of a successful one', () => {
    for (const call of calls) {
      const event = eventOf(call);
      if (call.error) {
        assert.equal(event['errorCode'], 'TrailNotFoundException');
        assert.equal(event['errorCode'], call.error.name);
        assert.equal(event['errorMessage'], call.error.message);
      } else {
        assert.ok(!('errorCode' in event) && !('errorMessage' in event), call.eventName);
      }
    }
  });

  test('identifies the account root by account id, root ARN and access key', () => {
    for (const call of calls) {
      assert.deepEqual(eventOf(call)['userIdentity'], {
        type: 'Root',
        principalId: admin,
        arn: `arn:aws:iam::${admin}:root`,
        accountId: admin,
        accessKeyId: world.adminCredentials.accessKeyId,
      });
      assert.equal(eventOf(call)['recipientAccountId'], admin);
    }
  });

  test('identifies an IAM user by user id, user ARN, access key and name, in its own account', () => {
    const event = eventOf(userCalls[0]);
    const identity = event['userIdentity'] as Json;
    assert.match(identity['principalId'] as string, /^AIDA[A-Z0-9]{17}$/);
    assert.deepEqual(identity, {
      type: 'IAMUser',
      principalId: identity['principalId'],
      arn: `arn:aws:iam::${user.accountId}:user/carol`,
      accountId: user.accountId,
      accessKeyId: user.credentials.accessKeyId,
      userName: 'carol',
    });
    assert.equal(event['recipientAccountId'], user.accountId);
  });

  test('records where, when and how each call came in', () => {
    const all = [...calls, ...userCalls, ...regionCalls];
    const eventIds = new Set<unknown>();
    for (const call of all) {
      const event = eventOf(call);
      assert.equal(event['sourceIPAddress'], '127.0.0.1');
      assert.equal(event['userAgent'], call.userAgent.slice(0, 1024));
      assert.match(event['eventID'] as string, GUID);
      eventIds.add(event['eventID']);
      assert.match(event['eventTime'] as string, EVENT_TIME);
      const time = Date.parse(event['eventTime'] as string);
      assert.ok(time >= started && time <= finished, `${event['eventTime']} is when the call was made`);
      assert.equal(event['eventType'], 'AwsApiCall');
      assert.equal(event['eventCategory'], 'Management');
      assert.equal(event['managementEvent'], true);
      assert.match(event['eventVersion'] as string, /^1\.\d+$/);
      assert.equal(event['awsRegion'], call === regionCalls[0] ? 'eu-west-1' : 'us-east-1');
    }
    assert.equal(eventIds.size, all.length);
    assert.match(calls[0]?.userAgent ?? '', /^aws-sdk-js\/3\./);
    assert.deepEqual(
      calls.filter((c) => c.eventName === 'ListTrails').map((c) => c.userAgent),
      [CUSTOM_AGENT, LONG_AGENT],
    );
  });

  test('emits only keys AWS uses, every key AWS always emits, with the value types AWS uses', () => {
    const { delivered, all: real } = realCloudTrailApiRecords();
    assert.ok(real.length >= 30, 'the real records are there');
    // Always present in AWS's records of API calls; checked against the real records too.
    const required = ['eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion'];
    required.push('sourceIPAddress', 'userAgent', 'requestParameters', 'responseElements', 'requestID', 'eventID');
    required.push('readOnly', 'eventType', 'managementEvent', 'recipientAccountId', 'eventCategory');
    const awsTypes = new Map<string, Set<string>>();
    const identityKeys = new Set<string>();
    for (const r of real) {
      for (const key of required) assert.ok(key in r, `AWS always emits ${key}`);
      for (const [key, value] of Object.entries(r))
        awsTypes.set(key, (awsTypes.get(key) ?? new Set()).add(jsonType(value)));
      for (const key of Object.keys(r['userIdentity'] as Json)) identityKeys.add(key);
    }
    // Like AWS's, our records of CloudTrail calls carry no `resources`: event history derives the trail.
    // We serve plain HTTP, so there is no `tlsDetails` to record; AWS includes it for TLS connections.
    for (const event of recorded.values()) {
      for (const key of required) assert.ok(key in event, `${event['eventName']} has ${key}`);
      for (const [key, value] of Object.entries(event)) {
        assert.ok(awsTypes.has(key), `${event['eventName']}: ${key} is a key AWS uses`);
        assert.ok(awsTypes.get(key)?.has(jsonType(value)), `${event['eventName']}: ${key} is a ${jsonType(value)}`);
      }
      for (const r of delivered) {
        const ours = Object.keys(event).filter((k) => k in r);
        assert.deepEqual(
          ours,
          Object.keys(r).filter((k) => k in event),
          `${event['eventName']} keys in AWS's order`,
        );
      }
      for (const [key, value] of Object.entries(event['userIdentity'] as Json)) {
        assert.ok(identityKeys.has(key), `userIdentity.${key} is a key AWS uses`);
        assert.equal(typeof value, 'string', `userIdentity.${key} is a string`);
      }
    }
  });
});

describe('the caller address of a call to a dual-stack listener (--host ::)', () => {
  test('is written as AWS writes it: an IPv4 caller as a dotted quad, an IPv6 one as it is', async () => {
    assert.equal(recordedAddress('::ffff:203.0.113.9'), '203.0.113.9');
    assert.equal(recordedAddress('::FFFF:10.0.0.1'), '10.0.0.1');
    for (const kept of ['203.0.113.9', '::1', '2001:db8::ffff:1', '::ffff:2001:db8']) {
      assert.equal(recordedAddress(kept), kept);
    }

    const server = await startTestServer({ argv: ['--host', '::'] });
    try {
      const { port } = new URL(server.world.url);
      // An IPv4 caller: node gives its address as ::ffff:127.0.0.1 on a socket listening on ::.
      const overIpv4 = new CloudTrailClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: server.world.adminCredentials,
      });
      await overIpv4.send(new ListTrailsCommand({}));
      overIpv4.destroy();
      await server.world.historyCaughtUp();
      const [listed] = (await cloudTrailEvents(server.world.cloudtrail())).filter(
        (e) => e['eventName'] === 'ListTrails',
      );
      assert.equal(listed?.['sourceIPAddress'], '127.0.0.1');
    } finally {
      await server.stop();
    }
  });
});

describe('the Region a call is recorded in', () => {
  test("is the caller's, except for Organizations, whose calls AWS records in us-east-1", async () => {
    const server = await startTestServer();
    try {
      const { world } = server;
      const inIreland = {
        url: world.url,
        credentials: world.adminCredentials,
        region: 'eu-west-1',
        contentType: JSON_11,
        body: '{}',
      };
      // The admin account is in no organization: refused, and recorded all the same.
      const described = await rawRequest({
        ...inIreland,
        service: 'organizations',
        target: 'AWSOrganizationsV20161128.DescribeOrganization',
      });
      assert.equal(described.json?.['__type'], 'AWSOrganizationsNotInUseException');
      await world.cloudtrail({ region: 'eu-west-1' }).send(new ListTrailsCommand({}));
      await world.historyCaughtUp();
      const lookup = (region: string, eventSource: string) =>
        cloudTrailEvents(world.cloudtrail({ region }), eventSource);
      const [organizations] = await lookup('us-east-1', 'organizations.amazonaws.com');
      assert.equal(organizations?.['eventName'], 'DescribeOrganization');
      assert.equal(organizations?.['awsRegion'], 'us-east-1');
      assert.deepEqual(await lookup('eu-west-1', 'organizations.amazonaws.com'), []);
      const [listed] = await lookup('eu-west-1', 'cloudtrail.amazonaws.com');
      assert.equal(listed?.['eventName'], 'ListTrails');
      assert.equal(listed?.['awsRegion'], 'eu-west-1');
    } finally {
      await server.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CloudTrailClient, LookupEventsCommand, paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import { ADMIN_SIGNING_NAME } from '../../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../../src/api/ingest-api.ts';
import type { Credentials, JsonApiError } from '../../src/client/json-api-client.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';
import { rawRequest } from '../helpers/signed-request.ts';

/**
 * The ingest API (`OpenTrailIngest_20261101.PutRecords`): each record is checked alone, the good ones are
 * stored in the caller's account and found by LookupEvents, and ingest calls are never management events.
 */

type Json = Record<string, unknown>;
interface PutRecordsAnswer {
  Successful: { Index: number; EventID: string }[];
  Failed: { Index: number; ErrorCode: string; ErrorMessage: string }[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function record(more: Json = {}): Json {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE0000000001', userName: 'dana' },
    eventTime: iso(Date.now() - 3600 * 1000),
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.9',
    requestParameters: null,
    responseElements: null,
    readOnly: true,
    ...more,
  };
}

async function rejectsWithType(promise: Promise<unknown>, type: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: JsonApiError) => {
    assert.equal(error.type, type, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** A body sent as written: no JSON.stringify could serialise the nesting these tests send. */
function putRaw(world: TestWorld, body: string | Buffer) {
  return rawRequest({
    url: world.url,
    credentials: world.adminCredentials,
    target: `${INGEST_TARGET_PREFIX}.PutRecords`,
    service: ADMIN_SIGNING_NAME,
    body,
  });
}

const nested = (depth: number, open: string, close: string, inner: string) =>
  open.repeat(depth) + inner + close.repeat(depth);
/** 100,000 levels of {"a": …}: JSON.parse takes it (it does not recurse), JSON.stringify overflows the stack. */
const DEEP = nested(100_000, '{"a":', '}', '1');

/** A record's JSON with `member` set to raw JSON text. */
const withRawMember = (eventID: string, member: string, json: string) =>
  `${JSON.stringify(record({ eventID, [member]: undefined })).slice(0, -1)},"${member}":${json}}`;

/**
 * Sends good records around records nested 100,000 levels deep in each place a record is serialised
 * (the record, its routing header, a resource): each deep one is refused alone, the others are stored.
 */
async function deeplyNestedRecordsAreRefusedAlone(world: TestWorld): Promise<void> {
  const good = [randomUUID(), randomUUID()];
  const deep: [string, string][] = [
    ['requestParameters', DEEP],
    ['userIdentity', DEEP],
    ['additionalEventData', `{"x":${DEEP}}`],
    // bucketName is copied into the routing header the log keeps beside the record.
    ['requestParameters', `{"bucketName":${DEEP}}`],
    ['resources', `[{"ARN":"arn:aws:s3:::b","type":"AWS::S3::Bucket","tags":${DEEP}}]`],
  ];
  const deepIds = deep.map(() => randomUUID());
  const records = [
    JSON.stringify(record({ eventID: good[0] })),
    ...deep.map(([member, json], i) => withRawMember(deepIds[i] as string, member, json)),
    JSON.stringify(record({ eventID: good[1] })),
  ];
  const response = await putRaw(world, `{"Records":[${records.join(',')}]}`);
  assert.equal(response.status, 200, response.text.slice(0, 300));
  const answer = response.json as unknown as PutRecordsAnswer;
  assert.deepEqual(answer.Successful, [
    { Index: 0, EventID: good[0] },
    { Index: records.length - 1, EventID: good[1] },
  ]);
  assert.deepEqual(
    answer.Failed.map((f) => [f.Index, f.ErrorCode]),
    deep.map((_, i) => [i + 1, 'InvalidRecord']),
  );
  for (const [i, failure] of answer.Failed.entries()) {
    assert.match(failure.ErrorMessage, new RegExp(`^${deep[i]?.[0]} is nested too deeply to store .*; flatten it\\.$`));
  }
  await world.historyCaughtUp();
  const ct = world.cloudtrail();
  for (const id of [...good, ...deepIds]) {
    const { Events = [] } = await ct.send(
      new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: id }] }),
    );
    assert.equal(Events.length, good.includes(id) ? 1 : 0);
  }
}

describe('PutRecords', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let world: TestWorld;
  let admin: string;
  let ct: CloudTrailClient;
  const put = (Records: unknown, credentials?: Credentials) =>
    world.ingestApi(credentials).call<PutRecordsAnswer>('PutRecords', { Records });
  const byId = async (id: string, client = ct) => {
    const { Events = [] } = await client.send(
      new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: id }] }),
    );
    return Events.map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as Json);
  };

  before(async () => {
    server = await startTestServer();
    world = server.world;
    admin = world.app.admin.accountId;
    ct = world.cloudtrail();
  });
  after(() => server.stop());

  test('acknowledges good records with one EventID each, keeping given eventIDs and filling GUIDs', async () => {
    const given = randomUUID();
    const answer = await put([record({ eventID: given }), record(), record({ eventID: 'my-own-id-0001' })]);
    assert.deepEqual(answer.Failed, []);
    assert.deepEqual(
      answer.Successful.map((s) => s.Index),
      [0, 1, 2],
    );
    const [first, filled, custom] = answer.Successful.map((s) => s.EventID) as [string, string, string];
    assert.equal(first, given);
    assert.match(filled, GUID);
    assert.equal(custom, 'my-own-id-0001');
    await world.historyCaughtUp();
    for (const id of [first, filled, custom]) {
      const [stored] = await byId(id);
      assert.equal(stored?.['eventID'], id);
      assert.equal(stored?.['recipientAccountId'], admin);
    }
  });

  test('reads a record without eventCategory but with managementEvent false as a data event, as older logs write them', async () => {
    const [data, management] = [randomUUID(), randomUUID()];
    const older = (eventID: string, managementEvent: boolean) => {
      const { eventCategory: _, ...rest } = record({ eventID, managementEvent });
      return rest;
    };
    assert.deepEqual((await put([older(data, false), older(management, true)])).Failed, []);
    await world.historyCaughtUp();
    assert.deepEqual(await byId(data), [], 'a data event is not in event history');
    assert.equal((await byId(management))[0]?.['eventCategory'], 'Management');
  });

  test('keeps a member named __proto__ as a member of the stored record', async () => {
    const id = randomUUID();
    const withProto = { ...record({ eventID: id }), ...JSON.parse('{"__proto__":{"eventName":"Polluted"}}') };
    assert.deepEqual((await put([withProto])).Failed, []);
    await world.historyCaughtUp();
    const [stored] = await byId(id);
    assert.deepEqual(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value, { eventName: 'Polluted' });
    assert.notEqual(stored?.['eventName'], 'Polluted');
  });

  test('reports each bad record by Index with an ErrorCode and what to fix, and stores the good ones', async () => {
    const bad: [unknown, string, RegExp][] = [
      [record({ eventTime: undefined }), 'MissingField', /eventTime/],
      [record({ eventTime: '2026-13-01T00:00:00Z' }), 'InvalidEventTime', /2026-13-01T00:00:00Z.*YYYY-MM-DDTHH:MM:SSZ/],
      [record({ eventTime: '2026-01-01T10:00:00+02:00' }), 'InvalidEventTime', /must be UTC.*YYYY-MM-DDTHH:MM:SSZ/],
      [record({ readOnly: 'true' }), 'InvalidFieldType', /readOnly must be true or false/],
      [record({ requestParameters: 'x=1' }), 'InvalidFieldType', /requestParameters must be a JSON object or null/],
      [record({ additionalEventData: { blob: 'x'.repeat(300 * 1024) } }), 'RecordTooLarge', /at most 262144 bytes/],
      [record({ userAgent: 'u'.repeat(1025) }), 'FieldTooLarge', /userAgent is 1025 bytes; the limit is 1024/],
      [record({ recipientAccountId: '111122223333' }), 'AccountMismatch', /111122223333 is not your account/],
      // Shaped like one, but no Region opentrail answers in: no lookup could ever find the record.
      [record({ awsRegion: 'eu-west-9' }), 'InvalidFieldValue', /eu-west-9' is not a Region opentrail serves/],
      [42, 'InvalidRecord', /must be a JSON object/],
      [null, 'InvalidRecord', /must be a JSON object/],
      [['not', 'a', 'record'], 'InvalidRecord', /must be a JSON object/],
    ];
    const goodIds = [randomUUID(), randomUUID()];
    const badIds = bad.map(() => randomUUID());
    const withId = (r: unknown, eventID: string) =>
      r !== null && typeof r === 'object' && !Array.isArray(r) ? { ...r, eventID } : r;
    const batch = [
      record({ eventID: goodIds[0] }),
      ...bad.map(([r], i) => withId(r, badIds[i] as string)),
      record({ eventID: goodIds[1] }),
    ];
    const answer = await put(batch);
    assert.deepEqual(answer.Successful, [
      { Index: 0, EventID: goodIds[0] },
      { Index: batch.length - 1, EventID: goodIds[1] },
    ]);
    assert.deepEqual(
      answer.Failed.map((f) => [f.Index, f.ErrorCode]),
      bad.map(([, code], i) => [i + 1, code]),
    );
    for (const [i, failure] of answer.Failed.entries()) assert.match(failure.ErrorMessage, bad[i]?.[2] as RegExp);
    await world.historyCaughtUp();
    for (const id of goodIds) assert.equal((await byId(id)).length, 1);
    for (const id of badIds) assert.deepEqual(await byId(id), []);
  });

  test('answers a body that is not UTF-8 with SerializationException, rather than store the bytes changed', async () => {
    const text = JSON.stringify({ Records: [record({ eventName: 'BadXX' })] });
    const latin1 = Buffer.from(text.replace('BadXX', 'Bad\u00e9X'), 'latin1');
    const answer = await putRaw(world, latin1);
    assert.equal(answer.status, 400);
    assert.equal(answer.json?.['__type'], 'SerializationException');
    assert.match(String(answer.json?.['message']), /not valid UTF-8/);
  });

  test('answers a body whose Records is not a list, or missing, with SerializationException', async () => {
    await rejectsWithType(put('x'), 'SerializationException', /\{"Records":\[…\]\}/);
    await rejectsWithType(world.ingestApi().call('PutRecords', {}), 'SerializationException');
    await rejectsWithType(world.ingestApi().call('PutRecords', { records: [] }), 'SerializationException');
  });

  test('refuses a record nested 100,000 levels deep alone with InvalidRecord, on a worker that lives on', async () => {
    const [worker] = world.app.services.ingestCheckers.threads;
    assert.ok(worker, 'the server checks batches on a worker thread');
    const threadId = worker.threadId;
    await deeplyNestedRecordsAreRefusedAlone(world);
    assert.deepEqual(
      world.app.services.ingestCheckers.threads.map((t) => t.threadId),
      [threadId],
    );
  });

  test('answers a body nested too deeply to be a batch with SerializationException or InvalidRecord', async () => {
    const unterminated = await putRaw(world, `{"Records":${'['.repeat(100_000)}`);
    assert.equal(unterminated.status, 400);
    assert.equal(unterminated.json?.['__type'], 'SerializationException');
    assert.match(String(unterminated.json?.['message']), /not valid JSON/);
    const deepList = await putRaw(world, `{"Records":[${nested(100_000, '[', ']', '')}]}`);
    assert.equal(deepList.status, 200);
    assert.deepEqual(deepList.json, {
      Successful: [],
      Failed: [{ Index: 0, ErrorCode: 'InvalidRecord', ErrorMessage: 'A record must be a JSON object.' }],
    });
  });

  test('refuses more than 10,000 records with ValidationException and stores none of them', async () => {
    const eventID = randomUUID();
    const records = Array.from({ length: 10_001 }, (_, i) => (i === 0 ? record({ eventID }) : record()));
    await rejectsWithType(put(records), 'ValidationException', /at most 10000 records; you sent 10001/);
    await world.historyCaughtUp();
    assert.deepEqual(await byId(eventID), []);
  });

  test("keeps an IAM user of another account out of the admin's account", async () => {
    const other = await world.newAccount('mallory');
    const mallory = other.user as Credentials;
    const eventID = randomUUID();
    const answer = await put([record({ eventID }), record({ recipientAccountId: admin })], mallory);
    assert.deepEqual(answer.Successful, [{ Index: 0, EventID: eventID }]);
    assert.deepEqual(
      answer.Failed.map((f) => [f.Index, f.ErrorCode]),
      [[1, 'AccountMismatch']],
    );
    assert.match(answer.Failed[0]?.ErrorMessage ?? '', new RegExp(`${admin} is not your account ${other.accountId}`));
    await world.historyCaughtUp();
    assert.deepEqual(await byId(eventID), []);
    const [stored] = await byId(eventID, world.cloudtrail({ credentials: other.root }));
    assert.equal(stored?.['recipientAccountId'], other.accountId);
  });

  test('never records ingest calls as management events', async () => {
    const other = await world.newAccount('ingester');
    await put([record()]);
    await put([record()], other.user);
    await world.historyCaughtUp();
    for (const client of [ct, world.cloudtrail({ credentials: other.root })]) {
      for (const [AttributeKey, AttributeValue] of [
        ['EventName', 'PutRecords'],
        ['EventSource', 'ingest.opentrail.local'],
      ] as const) {
        const { Events } = await client.send(
          new LookupEventsCommand({ LookupAttributes: [{ AttributeKey, AttributeValue }] }),
        );
        assert.deepEqual(Events, []);
      }
    }
  });

  test('records admin API calls, without the secret of a new access key', async () => {
    const api = world.adminApi();
    const { AccountId } = await api.call<{ AccountId: string }>('CreateAccount', {});
    const key = await api.call<{ AccessKeyId: string; SecretAccessKey: string }>('CreateAccessKey', { AccountId });
    await world.historyCaughtUp();
    const texts: string[] = [];
    const input = {
      LookupAttributes: [{ AttributeKey: 'EventSource' as const, AttributeValue: 'admin.opentrail.local' }],
    };
    for await (const page of paginateLookupEvents({ client: ct }, input)) {
      texts.push(...(page.Events ?? []).map((e) => e.CloudTrailEvent ?? ''));
    }
    const events = texts.map((t) => JSON.parse(t) as Json);
    const created = events.find((e) => (e['responseElements'] as Json | null)?.['accessKeyId'] === key.AccessKeyId);
    assert.ok(created, 'the CreateAccessKey call is in event history');
    assert.equal(created['eventName'], 'CreateAccessKey');
    assert.equal(created['eventSource'], 'admin.opentrail.local');
    assert.equal(created['readOnly'], false);
    assert.deepEqual(created['requestParameters'], { accountId: AccountId });
    assert.deepEqual(created['responseElements'], { accessKeyId: key.AccessKeyId, accountId: AccountId });
    assert.ok(
      events.some(
        (e) => e['eventName'] === 'CreateAccount' && (e['responseElements'] as Json)['accountId'] === AccountId,
      ),
    );
    for (const text of texts) assert.ok(!text.includes(key.SecretAccessKey), 'no record holds the secret access key');
  });
});

describe('PutRecords checked on the main thread (--ingest-workers 0)', () => {
  test('refuses a record nested 100,000 levels deep alone with InvalidRecord', async () => {
    const { world, stop } = await startTestServer({ argv: ['--ingest-workers', '0'] });
    try {
      assert.deepEqual(world.app.services.ingestCheckers.threads, []);
      await deeplyNestedRecordsAreRefusedAlone(world);
    } finally {
      await stop();
    }
  });
});

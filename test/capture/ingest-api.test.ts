import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CloudTrailClient, LookupEventsCommand, paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import type { Credentials, JsonApiError } from '../../src/client/json-api-client.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';

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

  test('answers a body whose Records is not a list, or missing, with SerializationException', async () => {
    await rejectsWithType(put('x'), 'SerializationException', /\{"Records":\[…\]\}/);
    await rejectsWithType(world.ingestApi().call('PutRecords', {}), 'SerializationException');
    await rejectsWithType(world.ingestApi().call('PutRecords', { records: [] }), 'SerializationException');
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

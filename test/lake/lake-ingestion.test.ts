import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CreateEventDataStoreCommand,
  DeleteEventDataStoreCommand,
  GetEventDataStoreCommand,
  ListEventDataStoresCommand,
  StartEventDataStoreIngestionCommand,
  StopEventDataStoreIngestionCommand,
  UpdateEventDataStoreCommand,
} from '@aws-sdk/client-cloudtrail';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { LAKE_COLUMNS } from '../../src/lake/index.ts';
import { LAKE_RELATION_COLUMNS } from '../../src/lake/lake-table.ts';
import { isoSeconds, ManualClock } from '../../src/model/clock.ts';
import { managementRecord } from '../helpers/records.ts';
import { startTestServer, type TestWorld, withServer } from '../helpers/server.ts';

const DAY_MS = 24 * 3600 * 1000;
/** A fixed admin, so a restarted server on the same data directory signs requests with a known secret. */
const ADMIN_ENV = {
  OPENTRAIL_ACCOUNT_ID: '111122223333',
  OPENTRAIL_ACCESS_KEY_ID: 'AKIALAKERESTART00001',
  OPENTRAIL_SECRET_ACCESS_KEY: 'lake-restart-secret-L4k3-Secret-9xQ7vK2m',
};

function ec2Call(account: string, eventName: string, eventTime: string, region = 'us-east-1') {
  return managementRecord(account, {
    eventTime,
    eventName,
    awsRegion: region,
    requestParameters: { instanceId: 'i-1', filter: { a: [1, 2] } },
  });
}

function s3DataRecord(account: string, eventTime: string) {
  return {
    ...ec2Call(account, 'PutObject', eventTime),
    eventSource: 's3.amazonaws.com',
    requestParameters: { bucketName: 'logs-bucket', key: 'a.txt' },
    resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::logs-bucket/a.txt' }],
    managementEvent: false,
    eventCategory: 'Data',
  };
}

async function ingest(w: TestWorld, credentials: Credentials, records: unknown[]): Promise<void> {
  const answer = await w.ingestApi(credentials).call<{ Failed: unknown[] }>('PutRecords', { Records: records });
  assert.deepEqual(answer.Failed, []);
}

const S3_SELECTORS = [
  {
    Name: 's3 writes',
    FieldSelectors: [
      { Field: 'eventCategory', Equals: ['Data'] },
      { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
    ],
  },
];

async function counts(w: TestWorld, ids: Record<string, string>): Promise<Record<string, number>> {
  await w.app.lakeCaughtUp();
  const out: Record<string, number> = {};
  for (const [name, id] of Object.entries(ids)) out[name] = await w.app.services.eventDataStores.countEvents(id);
  return out;
}

const idOf = (arn: string | undefined) => (arn ?? '').split('/').pop() ?? '';

describe('event data store ingestion', () => {
  it('takes the records its selectors select, of its own account, from API calls and the ingest API', async () => {
    await withServer(async (w) => {
      const a = await w.newAccount();
      const b = await w.newAccount();
      const ct = w.cloudtrail({ credentials: a.root });
      const now = isoSeconds(Date.now());
      const mgmt = idOf((await ct.send(new CreateEventDataStoreCommand({ Name: 'mgmt' }))).EventDataStoreArn);
      const data = idOf(
        (await ct.send(new CreateEventDataStoreCommand({ Name: 'data', AdvancedEventSelectors: S3_SELECTORS })))
          .EventDataStoreArn,
      );
      const home = idOf(
        (await ct.send(new CreateEventDataStoreCommand({ Name: 'home', MultiRegionEnabled: false }))).EventDataStoreArn,
      );
      const before = await counts(w, { mgmt, data, home });
      // A's own API calls are management events of A: one ListEventDataStores call.
      await ct.send(new ListEventDataStoresCommand({}));
      await ingest(w, a.root, [
        ec2Call(a.accountId, 'RunInstances', now),
        ec2Call(a.accountId, 'RunInstances', now, 'eu-west-1'),
        s3DataRecord(a.accountId, now),
      ]);
      // B's records and calls never reach A's stores.
      await ingest(w, b.root, [ec2Call(b.accountId, 'RunInstances', now), s3DataRecord(b.accountId, now)]);
      await w.cloudtrail({ credentials: b.root }).send(new ListEventDataStoresCommand({}));
      const after = await counts(w, { mgmt, data, home });
      assert.deepEqual(
        Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)])),
        // mgmt: the API call and both RunInstances; home: the same but the eu-west-1 one; data: the PutObject.
        { mgmt: 3, data: 1, home: 2 },
      );
    });
  });

  it('stores typed Lake columns: structs, maps of strings and JSON text, timestamps, the record itself', async () => {
    const record = { eventID: '' };
    let id = '';
    await afterServer(
      async (w) => {
        const a = await w.newAccount();
        const ct = w.cloudtrail({ credentials: a.root });
        id = idOf((await ct.send(new CreateEventDataStoreCommand({ Name: 'typed' }))).EventDataStoreArn);
        const r = ec2Call(a.accountId, 'RunInstances', '2026-01-02T03:04:05Z');
        record.eventID = r['eventID'] as string;
        await ingest(w, a.root, [r]);
        await w.app.lakeCaughtUp();
        return a.accountId;
      },
      async (conn, accountId) => {
        const columns = (
          await conn.runAndReadAll(
            'SELECT column_name FROM duckdb_columns() WHERE table_name = $1 ORDER BY column_index',
            ['lake_events'],
          )
        )
          .getRows()
          .map((r) => String(r[0]));
        // Every Lake column is stored, in Lake's order, but the checksum: the store's relation computes it.
        const stored = LAKE_COLUMNS.filter((c) => c !== 'eventjsonchecksum');
        assert.deepEqual(columns.slice(0, stored.length + 1), ['store_id', ...stored]);
        const reader = await conn.runAndReadAll(
          `SELECT eventname, useridentity.arn AS arn, CAST(eventtime AS VARCHAR) AS eventtime,
          element_at(requestparameters, 'instanceId')[1] AS instance, element_at(requestparameters, 'filter')[1] AS filter,
          readonly, eventjson, eventjsonchecksum = sha256(eventjson) AS checksum_ok
        FROM (SELECT ${LAKE_RELATION_COLUMNS} FROM lake_events WHERE store_id = $1 AND eventid = $2)`,
          [id, record.eventID],
        );
        const [row] = reader.getRowObjectsJson();
        assert.ok(row);
        assert.equal(row['eventname'], 'RunInstances');
        assert.equal(row['arn'], `arn:aws:iam::${accountId}:user/alice`);
        assert.equal(row['eventtime'], '2026-01-02 03:04:05');
        assert.equal(row['instance'], 'i-1');
        assert.equal(row['filter'], '{"a":[1,2]}');
        assert.equal(row['readonly'], false);
        assert.equal(row['checksum_ok'], true);
        assert.equal(JSON.parse(String(row['eventjson'])).eventID, record.eventID);
      },
    );
  });

  it('takes nothing while stopped and resumes from when ingestion starts again, not from the past', async () => {
    await withServer(async (w) => {
      const a = await w.newAccount();
      const ct = w.cloudtrail({ credentials: a.root });
      const now = isoSeconds(Date.now());
      const arn = (
        await ct.send(new CreateEventDataStoreCommand({ Name: 'stopping', AdvancedEventSelectors: S3_SELECTORS }))
      ).EventDataStoreArn;
      const late = idOf(
        (
          await ct.send(
            new CreateEventDataStoreCommand({
              Name: 'late',
              AdvancedEventSelectors: S3_SELECTORS,
              StartIngestion: false,
            }),
          )
        ).EventDataStoreArn,
      );
      await ingest(w, a.root, [s3DataRecord(a.accountId, now)]);
      await ct.send(new StopEventDataStoreIngestionCommand({ EventDataStore: arn }));
      await ingest(w, a.root, [s3DataRecord(a.accountId, now), s3DataRecord(a.accountId, now)]);
      assert.deepEqual(await counts(w, { s: idOf(arn), late }), { s: 1, late: 0 });
      await ct.send(new StartEventDataStoreIngestionCommand({ EventDataStore: arn }));
      await ct.send(new StartEventDataStoreIngestionCommand({ EventDataStore: late }));
      await ingest(w, a.root, [s3DataRecord(a.accountId, now)]);
      assert.deepEqual(await counts(w, { s: idOf(arn), late }), { s: 2, late: 1 });
    });
  });

  it('takes the member accounts of its organization when organization-enabled', async () => {
    await withServer(async (w) => {
      const admin = w.adminApi();
      const { OrganizationId } = await admin.call<{ OrganizationId: string }>('CreateOrganization', {
        ManagementAccountId: w.app.admin.accountId,
      });
      const member = await w.newAccount();
      const outsider = await w.newAccount();
      await admin.call('AddAccountToOrganization', { OrganizationId, AccountId: member.accountId });
      const ct = w.cloudtrail();
      const org = idOf(
        (
          await ct.send(
            new CreateEventDataStoreCommand({
              Name: 'org',
              OrganizationEnabled: true,
              AdvancedEventSelectors: S3_SELECTORS,
            }),
          )
        ).EventDataStoreArn,
      );
      const now = isoSeconds(Date.now());
      await ingest(w, member.root, [s3DataRecord(member.accountId, now)]);
      await ingest(w, outsider.root, [s3DataRecord(outsider.accountId, now)]);
      assert.deepEqual(await counts(w, { org }), { org: 1 });
      // A member account does not see the management account's store.
      const listed = await w.cloudtrail({ credentials: member.root }).send(new ListEventDataStoresCommand({}));
      assert.deepEqual(listed.EventDataStores, []);
    });
  });

  it('drops events past the retention period and all events of a store gone after pending deletion', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    await withServer(
      async (w) => {
        const a = await w.newAccount();
        let ct = w.cloudtrail({ credentials: a.root });
        const keep = idOf(
          (await ct.send(new CreateEventDataStoreCommand({ Name: 'keep', AdvancedEventSelectors: S3_SELECTORS })))
            .EventDataStoreArn,
        );
        const short = (
          await ct.send(
            new CreateEventDataStoreCommand({
              Name: 'short',
              AdvancedEventSelectors: S3_SELECTORS,
              RetentionPeriod: 7,
              TerminationProtectionEnabled: false,
            }),
          )
        ).EventDataStoreArn;
        const old = isoSeconds(clock.now() - 3 * DAY_MS);
        await ingest(w, a.root, [s3DataRecord(a.accountId, old), s3DataRecord(a.accountId, isoSeconds(clock.now()))]);
        assert.deepEqual(await counts(w, { keep, short: idOf(short) }), { keep: 2, short: 2 });

        // Five days on, the three-day-old event is eight days old: past 7 days, within 366.
        await clock.advance(5 * DAY_MS);
        await until(async () => (await counts(w, { short: idOf(short) }))['short'] === 1);
        assert.deepEqual(await counts(w, { keep, short: idOf(short) }), { keep: 2, short: 1 });

        ct = w.cloudtrail({ credentials: a.root });
        await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: short }));
        await clock.advance(DAY_MS);
        assert.equal((await counts(w, { short: idOf(short) }))['short'], 1, 'kept while restorable');
        await clock.advance(7 * DAY_MS);
        await until(async () => (await counts(w, { short: idOf(short) }))['short'] === 0);
        assert.equal((await counts(w, { keep }))['keep'], 2);
      },
      { clock },
    );
  });

  it('keeps stores, their settings and their events across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-lake-'));
    try {
      let id = '';
      let account: { accountId: string; root: Credentials } | undefined;
      const first = await startTestServer({ dataDir, env: ADMIN_ENV });
      try {
        const w = first.world;
        account = await w.newAccount();
        const ct = w.cloudtrail({ credentials: account.root });
        id = idOf(
          (await ct.send(new CreateEventDataStoreCommand({ Name: 'kept', AdvancedEventSelectors: S3_SELECTORS })))
            .EventDataStoreArn,
        );
        await ct.send(new UpdateEventDataStoreCommand({ EventDataStore: id, RetentionPeriod: 90 }));
        await ingest(w, account.root, [s3DataRecord(account.accountId, isoSeconds(Date.now()))]);
        assert.equal((await counts(w, { id }))['id'], 1);
      } finally {
        await first.stop();
      }
      const second = await startTestServer({ dataDir, env: ADMIN_ENV });
      try {
        const w = second.world;
        const ct = w.cloudtrail({ credentials: account.root });
        const got = await ct.send(new GetEventDataStoreCommand({ EventDataStore: id }));
        assert.equal(got.Name, 'kept');
        assert.equal(got.RetentionPeriod, 90);
        assert.equal((await counts(w, { id }))['id'], 1);
        await ingest(w, account.root, [s3DataRecord(account.accountId, isoSeconds(Date.now()))]);
        assert.equal((await counts(w, { id }))['id'], 2);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs `serve` against a server, stops it, then `inspect`s its database file directly (a test-only path). */
async function afterServer<T>(
  serve: (w: TestWorld) => Promise<T>,
  inspect: (conn: DuckDBConnection, served: T) => Promise<void>,
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-lake-'));
  try {
    const server = await startTestServer({ dataDir });
    let served: T;
    try {
      served = await serve(server.world);
    } finally {
      await server.stop();
    }
    const db = await DuckDBInstance.create(join(dataDir, 'opentrail.duckdb'));
    const conn = await db.connect();
    try {
      await inspect(conn, served);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

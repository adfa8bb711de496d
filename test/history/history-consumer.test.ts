import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CreateEventDataStoreCommand, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { HistoryConsumer, HistoryIndex } from '../../src/history/index.ts';
import { ConsumerRunner, PassedCursorSaves } from '../../src/log/consumer.ts';
import { EventLog } from '../../src/log/event-log.ts';
import { encodePayload } from '../../src/log/record-payload.ts';
import { Connection, Database } from '../../src/store/database.ts';
import { FIXED_ADMIN } from '../helpers/child-server.ts';
import { lakeQueryRows } from '../helpers/lake.ts';
import { withServer } from '../helpers/server.ts';

/**
 * The history consumer stores every record it can: a failing store is retried until the batch goes
 * through; only a record DuckDB cannot take is skipped, reported by its sequence number.
 */
const ACCOUNT = '123456789012';

function record(eventID: string, more: Record<string, unknown> = {}): string {
  return JSON.stringify({
    eventVersion: '1.09',
    eventTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 's3.amazonaws.com',
    eventName: 'CreateBucket',
    awsRegion: 'us-east-1',
    eventID,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...more,
  });
}

/** A record DuckDB cannot store: its eventTime is no time at all. */
const poison = (eventID: string) => record(eventID, { eventTime: 'yesterday' });

/** A connection whose inserts into history_events fail while `failInsert()` says so, like a full disk. */
class FaultyConnection extends Connection {
  failInsert: () => boolean = () => false;
  inserts = 0;

  override runPrepared(sql: string, values: Parameters<Connection['runPrepared']>[1]): Promise<void> {
    if (sql.includes('INSERT INTO history_events')) {
      this.inserts++;
      if (this.failInsert()) return Promise.reject(new Error('IO Error: could not write to the database file'));
    }
    return super.runPrepared(sql, values);
  }
}

interface World {
  log: EventLog;
  conn: FaultyConnection;
  consumer: HistoryConsumer;
  runner: ConsumerRunner;
  skipped: number[];
  errors: unknown[];
  delays: number[];
  savesClock: { ms: number };
  /** Called after each skip and each reported error: tests change the store's behaviour from here. */
  hooks: { afterSkip(): void; afterError(): void };
  storedSeqs(): Promise<number[]>;
}

async function withHistory(fn: (world: World) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'opentrail-history-consumer-'));
  const db = await Database.open(join(dir, 'opentrail.duckdb'), Date.now());
  const log = await EventLog.open(join(dir, 'log'));
  const conn = new FaultyConnection((await db.connect()).raw);
  const skipped: number[] = [];
  const errors: unknown[] = [];
  const delays: number[] = [];
  const hooks = { afterSkip() {}, afterError() {} };
  // The pace of cursor-only saves runs on a clock of the test's own, standing still unless a test moves it.
  const savesClock = { ms: 0 };
  const consumer = new HistoryConsumer(
    conn,
    (seq) => {
      skipped.push(seq);
      hooks.afterSkip();
    },
    { passedSaves: new PassedCursorSaves(() => savesClock.ms) },
  );
  const runner = new ConsumerRunner(log, consumer, {
    onError: (_name, error) => {
      errors.push(error);
      hooks.afterError();
    },
    // Backoff without real time: record each delay, yield one turn of the event loop.
    sleep: async (ms) => {
      delays.push(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
  });
  const storedSeqs = async () =>
    (await conn.raw.runAndReadAll('SELECT seq FROM history_events ORDER BY seq')).getRows().map((r) => Number(r[0]));
  try {
    await runner.start();
    await fn({ log, conn, consumer, runner, skipped, errors, delays, savesClock, hooks, storedSeqs });
  } finally {
    await runner.stop();
    await log.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const appendAll = (log: EventLog, records: string[]) => log.append(records.map((r) => Buffer.from(r)));

describe('history consumer when the store fails', { timeout: 20_000 }, () => {
  it('loses nothing when a few inserts fail: a failure that is not about the data skips no record', async () => {
    await withHistory(async ({ log, conn, consumer, runner, skipped, storedSeqs }) => {
      let failures = 3;
      conn.failInsert = () => failures-- > 0;
      await appendAll(
        log,
        ['a', 'b', 'c', 'd', 'e'].map((id) => record(id)),
      );
      await runner.caughtUp(5);
      assert.deepEqual(await storedSeqs(), [1, 2, 3, 4, 5]);
      assert.deepEqual(skipped, []);
      assert.equal(consumer.skipped, 0);
    });
  });

  it('keeps retrying while the store stays down, and stores everything once it is back', async () => {
    await withHistory(async ({ log, conn, runner, skipped, errors, delays, storedSeqs }) => {
      // Down for the whole batch, each half and the first record alone, until the test brings it back.
      let down = true;
      conn.failInsert = () => down;
      await appendAll(
        log,
        ['a', 'b', 'c'].map((id) => record(id)),
      );
      while (errors.length < 4 && skipped.length === 0) await new Promise((resolve) => setImmediate(resolve));
      down = false;
      await runner.caughtUp(3);
      assert.deepEqual(await storedSeqs(), [1, 2, 3]);
      assert.deepEqual(skipped, []);
      assert.match(String(errors[0]), /IO Error/);
      assert.deepEqual(delays.slice(0, 4), [50, 100, 200, 400], 'each retry waits longer');
    });
  });
});

describe('history consumer and records it cannot store', { timeout: 20_000 }, () => {
  it('skips only the record DuckDB cannot parse, reporting its sequence number', async () => {
    await withHistory(async ({ log, consumer, runner, skipped, storedSeqs }) => {
      await appendAll(log, [record('a'), record('b'), poison('c'), record('d'), record('e')]);
      await appendAll(log, [record('f'), '{"eventTime": ', record('h')]);
      await runner.caughtUp(8);
      assert.deepEqual(await storedSeqs(), [1, 2, 4, 5, 6, 8]);
      assert.deepEqual(skipped, [3, 7]);
      assert.equal(consumer.skipped, 2);
      assert.equal(runner.cursor, 8);
    });
  });

  it('skips a bad record that arrives alone instead of retrying it forever', async () => {
    await withHistory(async ({ log, runner, skipped, storedSeqs }) => {
      await appendAll(log, [record('a')]);
      await runner.caughtUp(1);
      await appendAll(log, [poison('b')]);
      await runner.caughtUp(2);
      await appendAll(log, [record('c')]);
      await runner.caughtUp(3);
      assert.deepEqual(await storedSeqs(), [1, 3]);
      assert.deepEqual(skipped, [2]);
    });
  });

  it('stores nothing twice when the store fails while a bad record is being isolated', async () => {
    await withHistory(async ({ log, conn, runner, skipped, errors, hooks, storedSeqs }) => {
      // Right after the bad record is skipped the store goes down, until the runner has reported it.
      let down = false;
      conn.failInsert = () => down;
      hooks.afterSkip = () => {
        down = true;
      };
      hooks.afterError = () => {
        down = false;
      };
      await appendAll(log, [record('a'), poison('b'), record('c'), record('d')]);
      await runner.caughtUp(4);
      assert.deepEqual(await storedSeqs(), [1, 3, 4]);
      assert.deepEqual(skipped, [2]);
      assert.equal(errors.length, 1, 'the store failed part-way and the batch came back');
    });
  });

  it('counts skipped records in /health across restarts, and history and the Lake keep the records around them', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-skips-'));
    const skippedRecords = async (url: string) =>
      ((await (await fetch(new URL('/health', url))).json()) as { skippedRecords: Record<string, number> })
        .skippedRecords;
    try {
      const [before, undated, after] = [randomUUID(), randomUUID(), randomUUID()];
      await withServer(
        async (world) => {
          const account = world.app.admin.accountId;
          const client = world.cloudtrail();
          const store = await client.send(new CreateEventDataStoreCommand({ Name: 'skips' }));
          await world.app.services.capture.appendPayloads(
            [
              record(before, { recipientAccountId: account }),
              // Not JSON, and without a header: history and the Lake both step over it.
              '{"eventTime": ',
              // A time history cannot store; the Lake keeps the event, with no eventTime.
              record(undated, { recipientAccountId: account, eventTime: 'yesterday' }),
              record(after, { recipientAccountId: account }),
            ].map((r) => Buffer.from(r)),
          );
          await world.historyCaughtUp();
          await world.app.lakeCaughtUp();
          assert.deepEqual(await skippedRecords(world.url), { history: 2, lake: 1 });
          for (const id of [before, after]) {
            const found = await client.send(
              new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: id }] }),
            );
            assert.deepEqual(
              found.Events?.map((e) => e.EventId),
              [id],
            );
          }
          const storeId = (store.EventDataStoreArn as string).split('/').pop();
          const rows = await lakeQueryRows(
            client,
            `SELECT eventID FROM ${storeId} WHERE eventSource = 's3.amazonaws.com'`,
          );
          assert.deepEqual(rows.map((r) => r['eventID']).sort(), [before, undated, after].sort());
        },
        { dataDir, env: FIXED_ADMIN },
      );
      await withServer(async (world) => assert.deepEqual(await skippedRecords(world.url), { history: 2, lake: 1 }), {
        dataDir,
        env: FIXED_ADMIN,
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('history consumer and records that hold nothing for it', { timeout: 20_000 }, () => {
  /** A data event as the service logs it: with the routing header that lets history pass it unparsed. */
  const dataEvent = (eventID: string) => {
    const fields = JSON.parse(
      record(eventID, { eventName: 'GetObject', managementEvent: false, eventCategory: 'Data' }),
    );
    return encodePayload(fields, JSON.stringify(fields));
  };
  const savedCursor = async (conn: Connection) =>
    Number(
      (await conn.raw.runAndReadAll("SELECT seq FROM consumer_cursors WHERE consumer = 'history'")).getRows()[0]?.[0],
    );

  it('saves a cursor that only passed data events once a second; a restart finds nothing in them again', async () => {
    await withHistory(async ({ log, conn, runner, savesClock, storedSeqs }) => {
      const passData = async (id: string) => {
        await log.append([dataEvent(id)]);
        await runner.caughtUp(log.committedSeq);
      };
      await appendAll(log, [record('a')]);
      await runner.caughtUp(1);
      await passData('b');
      savesClock.ms += PassedCursorSaves.INTERVAL_MS;
      await passData('c');
      assert.equal(await savedCursor(conn), 3, 'a second after the last save, passing data events saves the cursor');
      await passData('d');
      await passData('e');
      // Each of these came alone, less than a second after a save: neither saved the cursor.
      assert.equal(runner.cursor, 5);
      assert.equal(await savedCursor(conn), 3);

      // A crash now: a new consumer starts from the saved cursor, reads the data events again, keeps none.
      await runner.stop();
      const again = new HistoryConsumer(conn, () => assert.fail('nothing is skipped'));
      const rerun = new ConsumerRunner(log, again);
      await rerun.start();
      try {
        assert.equal(rerun.cursor, 3);
        await appendAll(log, [record('f')]);
        await rerun.caughtUp(6);
        assert.deepEqual(await storedSeqs(), [1, 6]);
        assert.equal(await savedCursor(conn), 6, 'a batch with a record to store saves its cursor with it');
      } finally {
        await rerun.stop();
      }
    });
  });
});

describe('history consumer and its hash index', { timeout: 20_000 }, () => {
  it('stores a batch whose index extension fails, reports that failure alone, and extends with a later batch', async () => {
    await withHistory(async ({ log, conn, runner, errors, storedSeqs }) => {
      const index = await HistoryIndex.load(conn, 2);
      let failures = 1;
      const extend = index.extend.bind(index);
      index.extend = async (c, last) => {
        if (failures-- > 0) throw new Error('Out of Memory Error: could not sort the run');
        return extend(c, last);
      };
      const indexErrors: unknown[] = [];
      const consumer = new HistoryConsumer(conn, () => assert.fail('nothing is skipped'), {
        index,
        onIndexError: (error) => indexErrors.push(error),
      });
      // The world's own consumer stops; this one, with the failing index, takes over the same log.
      await runner.stop();
      const indexed = new ConsumerRunner(log, consumer, { onError: (_name, error) => errors.push(error) });
      await indexed.start();
      try {
        await appendAll(log, [record('a'), record('b')]);
        await indexed.caughtUp(2);
        assert.deepEqual(await storedSeqs(), [1, 2]);
        assert.equal(index.watermark, 0);
        assert.match(String(indexErrors[0]), /could not sort the run/);
        await appendAll(log, [record('c'), record('d')]);
        await indexed.caughtUp(4);
        assert.deepEqual(await storedSeqs(), [1, 2, 3, 4]);
        assert.equal(index.watermark, 4, 'the next batch built the run');
        assert.deepEqual(errors, [], 'the runner saw no failed batch');
      } finally {
        await indexed.stop();
      }
    });
  });
});

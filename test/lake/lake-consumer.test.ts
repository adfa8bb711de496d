import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IdentityStore } from '../../src/identity/index.ts';
import { EventDataStoreStore } from '../../src/lake/event-data-store-store.ts';
import { LakeConsumer } from '../../src/lake/lake-consumer.ts';
import { ConsumerRunner, PassedCursorSaves } from '../../src/log/consumer.ts';
import { EventLog } from '../../src/log/event-log.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { cryptoIds } from '../../src/model/ids.ts';
import { Database } from '../../src/store/database.ts';

/**
 * The Lake consumer with no event data store: every record passes it by, and its cursor is saved at most
 * once a second rather than in a transaction per batch.
 */
describe('lake consumer without event data stores', { timeout: 20_000 }, () => {
  it('saves the cursor it moves past records no store takes once a second, not per batch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opentrail-lake-consumer-'));
    const db = await Database.open(join(dir, 'opentrail.duckdb'), Date.now());
    const log = await EventLog.open(join(dir, 'log'));
    try {
      const conn = await db.connect();
      const savesClock = { ms: 0 };
      const consumer = new LakeConsumer({
        conn,
        stores: await EventDataStoreStore.load(conn),
        identity: await IdentityStore.load(conn, join(dir, 'access-keys.json'), new ManualClock(0), cryptoIds),
        isGone: () => false,
        onSkip: () => assert.fail('nothing is skipped'),
        firstCursor: () => 0,
        passedSaves: new PassedCursorSaves(() => savesClock.ms),
      });
      const runner = new ConsumerRunner(log, consumer);
      await runner.start();
      const savedCursor = async () =>
        Number(
          (await conn.raw.runAndReadAll("SELECT seq FROM consumer_cursors WHERE consumer = 'lake'")).getRows()[0]?.[0],
        );
      const pass = async () => {
        await log.append([Buffer.from('{"eventVersion":"1.11"}')]);
        await runner.caughtUp(log.committedSeq);
      };
      try {
        await pass();
        assert.equal(await savedCursor(), 1, 'the first batch saves the cursor');
        await pass();
        await pass();
        assert.equal(runner.cursor, 3);
        assert.equal(await savedCursor(), 1, 'batches within a second of a save leave it where it was');
        savesClock.ms += PassedCursorSaves.INTERVAL_MS;
        await pass();
        assert.equal(await savedCursor(), 4);
      } finally {
        await runner.stop();
      }
    } finally {
      await log.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

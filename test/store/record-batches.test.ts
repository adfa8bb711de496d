import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { insertRecords, recordBatch } from '../../src/history/history-table.ts';
import { insertLakeBatch, lakeBatch } from '../../src/lake/lake-table.ts';
import { Connection } from '../../src/store/database.ts';
import { migrate } from '../../src/store/migrations.ts';
import { managementRecord } from '../helpers/records.ts';

/**
 * Event history and the lake consumer hand DuckDB a batch of records as one value that the INSERT splits
 * (recordBatch, lakeBatch). The records here carry what could trip the split: multi-byte characters before
 * and after the offsets, and the separators themselves inside strings (JSON escapes them).
 */
const AWKWARD = ['é', '𝄞 emoji 🙂', 'a\u001eb\u001fc', 'x'.repeat(5000)];

function records(): { json: string; eventID: string; userAgent: string }[] {
  return AWKWARD.map((userAgent, i) => {
    const record = managementRecord('111122223333', { eventID: `e-${i}`, userAgent, eventName: `Op${i}` });
    return { json: JSON.stringify(record), eventID: `e-${i}`, userAgent };
  });
}

async function migrated() {
  const instance = await DuckDBInstance.create(':memory:');
  const raw = await instance.connect();
  await migrate(raw, 0);
  const conn = new Connection(raw);
  const close = () => {
    raw.closeSync();
    instance.closeSync();
  };
  return { conn, close };
}

describe('record batches bound as one value', () => {
  it('event history stores every record of a batch whole, with its seq and flag', async () => {
    const { conn, close } = await migrated();
    try {
      const given = records();
      const batch = recordBatch(
        given.map((r, i) => ({ seq: 10 + i, json: Buffer.from(r.json), mayHaveExtra: i % 2 === 1 })),
      );
      await insertRecords(conn, batch);
      const rows = (
        await conn.raw.runAndReadAll('SELECT seq, event_id, user_agent, event_name FROM history_events ORDER BY seq')
      ).getRowsJS();
      assert.deepEqual(
        rows,
        given.map((r, i) => [BigInt(10 + i), r.eventID, r.userAgent, `Op${i}`]),
      );
    } finally {
      close();
    }
  });

  it('the lake stores each record for each of its stores, its text unchanged', async () => {
    const { conn, close } = await migrated();
    try {
      const given = records();
      const stores = ['6ca5ea12-54f5-4f1e-9fa3-1234567890ab', 'another-store'];
      const rows = stores.flatMap((storeId) =>
        given.map((r, i) => ({ storeId, seq: 2 ** 40 + i, json: Buffer.from(r.json) })),
      );
      await insertLakeBatch(conn, lakeBatch(rows));
      const stored = (
        await conn.raw.runAndReadAll(
          'SELECT store_id, seq, eventid, useragent, eventjson FROM lake_events ORDER BY store_id, seq',
        )
      ).getRowsJS();
      assert.deepEqual(
        stored,
        stores.flatMap((storeId) =>
          given.map((r, i) => [storeId, BigInt(2 ** 40 + i), r.eventID, r.userAgent, r.json]),
        ),
      );
    } finally {
      close();
    }
  });

  it('refuses bytes that are not UTF-8 with a data error, as DuckDB words it', async () => {
    const { conn, close } = await migrated();
    try {
      const bad = lakeBatch([{ storeId: 's', seq: 1, json: Buffer.from([0x7b, 0xff, 0x7d]) }]);
      await assert.rejects(insertLakeBatch(conn, bad), /^Error: (Conversion|Invalid Input) Error/);
      // The statement is prepared once per connection: a refused batch leaves it usable for the next.
      const [good] = records();
      await insertLakeBatch(conn, lakeBatch([{ storeId: 's', seq: 2, json: Buffer.from(good?.json ?? '') }]));
      const stored = (await conn.raw.runAndReadAll('SELECT seq, eventid FROM lake_events')).getRowsJS();
      assert.deepEqual(stored, [[2n, good?.eventID]]);
    } finally {
      close();
    }
  });
});

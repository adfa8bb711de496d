import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CREATE_LAKE_STAGING, insertStagedLakeEvents, LAKE_RELATION_COLUMNS } from '../../src/lake/lake-table.ts';
import { Database } from '../../src/store/database.ts';
import { migrate } from '../../src/store/migrations.ts';
import { managementRecord } from '../helpers/records.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

const withDataDir = (fn: (dir: string) => Promise<void>) => withTempDir('migrations', fn);

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Records with a kilobyte of request parameters each, as Lake stores them: enough for DuckDB to compress. */
function lakeTexts(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return JSON.stringify(
      managementRecord('111122223333', {
        eventName: `Describe${i % 7}`,
        eventID: `e-${String(i).padStart(6, '0')}`,
        requestParameters: { filter: `instance-${i}-${'x'.repeat(900 + (i % 50))}` },
      }),
    );
  });
}

async function storeTexts(conn: DuckDBConnection, texts: readonly string[]): Promise<void> {
  await conn.run(CREATE_LAKE_STAGING);
  const appender = await conn.createAppender('lake_staging', 'main', 'temp');
  for (const [i, json] of texts.entries()) {
    appender.appendVarchar('store-1');
    appender.appendBigInt(BigInt(i + 1));
    appender.appendVarchar(json);
    appender.endRow();
  }
  appender.closeSync();
  await insertStagedLakeEvents(conn);
  await conn.run('DELETE FROM lake_staging');
}

/** How the stored eventjson column is compressed, after a checkpoint wrote it. */
async function eventJsonCompression(conn: DuckDBConnection): Promise<string[]> {
  await conn.run('CHECKPOINT');
  const rows = await conn.runAndReadAll(
    "SELECT DISTINCT compression FROM pragma_storage_info('lake_events') WHERE column_name = 'eventjson' AND segment_type = 'VARCHAR' ORDER BY 1",
  );
  return rows.getRows().map((r) => String(r[0]));
}

async function storedTexts(conn: DuckDBConnection): Promise<string[]> {
  const rows = await conn.runAndReadAll('SELECT eventjson FROM lake_events ORDER BY eventid');
  return rows.getRows().map((r) => String(r[0]));
}

describe('migrations', () => {
  it('11 keeps every stored Lake event and computes eventjsonchecksum when read instead of at each insert', async () => {
    await withDataDir(async (dir) => {
      const file = join(dir, 'opentrail.duckdb');
      const texts = ['RunInstances', 'StopInstances'].map((eventName, i) =>
        JSON.stringify(
          managementRecord('111122223333', { eventName, eventTime: `2026-01-02T03:04:0${i}Z`, eventID: `e-${i}` }),
        ),
      );
      // A database as migration 10 left it, with events stored through the lake's own INSERT.
      const old = await DuckDBInstance.create(file);
      const conn = await old.connect();
      await migrate(conn, 0, 10);
      await conn.run(CREATE_LAKE_STAGING);
      for (const [i, json] of texts.entries()) {
        await conn.run('INSERT INTO lake_staging VALUES ($1, $2, $3)', ['store-1', i + 1, json]);
      }
      await insertStagedLakeEvents(conn);
      conn.closeSync();
      old.closeSync();

      const db = await Database.open(file, 0);
      try {
        const { raw } = await db.connect();
        const columns = (
          await raw.runAndReadAll("SELECT column_name FROM duckdb_columns() WHERE table_name = 'lake_events'")
        )
          .getRows()
          .map((r) => String(r[0]));
        assert.ok(columns.includes('eventjson'));
        assert.ok(!columns.includes('eventjsonchecksum'));
        const rows = (
          await raw.runAndReadAll(
            `SELECT eventname, eventid, eventjson, eventjsonchecksum FROM (SELECT ${LAKE_RELATION_COLUMNS} FROM lake_events) ORDER BY eventid`,
          )
        ).getRowObjectsJson();
        assert.deepEqual(
          rows,
          texts.map((json) => {
            const { eventName, eventID } = JSON.parse(json);
            return { eventname: eventName, eventid: eventID, eventjson: json, eventjsonchecksum: sha256(json) };
          }),
        );
      } finally {
        db.close();
      }
    });
  });

  it('13 stores Lake eventjson with zstd in a data directory created now', async () => {
    await withDataDir(async (dir) => {
      const db = await Database.open(join(dir, 'opentrail.duckdb'), 0);
      try {
        const { raw } = await db.connect();
        const texts = lakeTexts(3000);
        await storeTexts(raw, texts);
        assert.deepEqual(await eventJsonCompression(raw), ['ZSTD']);
        assert.deepEqual(await storedTexts(raw), texts);
      } finally {
        db.close();
      }
    });
  });

  it('13 leaves an older file its events and FSST, never an uncompressed column', async () => {
    await withDataDir(async (dir) => {
      const file = join(dir, 'opentrail.duckdb');
      // A file as DuckDB creates it without a storage version (v1.0), migrated before 13, holding events.
      const old = await DuckDBInstance.create(file);
      const conn = await old.connect();
      await migrate(conn, 0, 12);
      const before = lakeTexts(1500);
      await storeTexts(conn, before);
      conn.closeSync();
      old.closeSync();

      const db = await Database.open(file, 0);
      try {
        const { raw } = await db.connect();
        const applied = await raw.runAndReadAll('SELECT count(*) FROM schema_migrations WHERE version = 13');
        assert.equal(Number(applied.getRows()[0]?.[0]), 1);
        const after = lakeTexts(1500, 1500);
        await storeTexts(raw, after);
        const compression = await eventJsonCompression(raw);
        assert.ok(!compression.includes('Uncompressed') && !compression.includes('ZSTD'), compression.join());
        assert.deepEqual(await storedTexts(raw), [...before, ...after]);
      } finally {
        db.close();
      }
    });
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { CREATE_LAKE_STAGING, insertStagedLakeEvents, LAKE_RELATION_COLUMNS } from '../../src/lake/lake-table.ts';
import { Database } from '../../src/store/database.ts';
import { migrate } from '../../src/store/migrations.ts';
import { managementRecord } from '../helpers/records.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

const withDataDir = (fn: (dir: string) => Promise<void>) => withTempDir('migrations', fn);

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

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
});

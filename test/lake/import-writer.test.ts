import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkImportedRecord } from '../../src/lake/import-record.ts';
import { type ImportedRecord, ImportWriter, prepareImportConnection } from '../../src/lake/import-writer.ts';
import { Database } from '../../src/store/database.ts';
import { managementRecord } from '../helpers/records.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

/** The ImportWriter on a real DuckDB file: whole commits, each eventID once, and what a failure leaves. */

function imported(eventID: string, extra: Record<string, unknown> = {}): ImportedRecord {
  const verdict = checkImportedRecord(managementRecord('111122223333', { eventID, ...extra }));
  assert.equal(verdict.kind, 'ok');
  return verdict.record;
}

async function withConnection(fn: (conn: DuckDBConnection) => Promise<void>): Promise<void> {
  await withTempDir('import-writer', async (dir) => {
    const db = await Database.open(join(dir, 'opentrail.duckdb'), 0);
    try {
      const { raw } = await db.connect();
      await prepareImportConnection(raw);
      await fn(raw);
    } finally {
      db.close();
    }
  });
}

async function storedIds(conn: DuckDBConnection): Promise<string[]> {
  const rows = await conn.runAndReadAll("SELECT eventid FROM lake_events WHERE store_id = 's' ORDER BY eventid");
  return rows.getRows().map((r) => String(r[0]));
}

describe('ImportWriter', () => {
  it('commits whole groups across batches, and stores each eventID once', async () => {
    await withConnection(async (conn) => {
      const writer = new ImportWriter('s', 3);
      const commits: number[] = [];
      const options = (final: boolean) => ({
        final,
        progress: async (_tx: DuckDBConnection, committed: number) => {
          commits.push(committed);
        },
      });
      // a repeats within the batch; b repeats across batches while still uncommitted; c once stored.
      assert.deepEqual(await writer.write(conn, [imported('a'), imported('b'), imported('a')], options(false)), {
        imported: 2,
        duplicates: 1,
      });
      assert.deepEqual(commits, []);
      await writer.write(conn, [imported('b'), imported('c'), imported('d')], options(false));
      assert.deepEqual(commits, [3]);
      await writer.write(conn, [imported('c'), imported('e')], options(true));
      assert.deepEqual(commits, [3, 5]);
      assert.deepEqual(await storedIds(conn), ['a', 'b', 'c', 'd', 'e']);
    });
  });

  it('keeps what it committed before a failure later in the batch, and says so', async () => {
    await withConnection(async (conn) => {
      const writer = new ImportWriter('s', 2);
      // JSON DuckDB refuses: a lone surrogate's escape (checkImportedRecord refuses such records before).
      const bad = {
        eventID: 'c',
        json: JSON.stringify(managementRecord('111122223333', { eventID: 'c', eventName: '\ud800' })),
      };
      const progress: number[] = [];
      let committed = 0;
      await assert.rejects(
        writer.write(conn, [imported('a'), imported('b'), bad], {
          final: true,
          progress: async (_tx, n) => {
            progress.push(n);
          },
          committed: () => {
            committed++;
          },
        }),
      );
      assert.deepEqual(progress, [2]);
      assert.equal(committed, 1);
      assert.deepEqual(await storedIds(conn), ['a', 'b']);
    });
  });
});

describe('checkImportedRecord', () => {
  it('refuses a record with a lone surrogate, and keeps pairs and escaped backslashes', () => {
    const lone = checkImportedRecord(managementRecord('111122223333', { eventID: 'x', userAgent: 'a\udc00b' }));
    assert.equal(lone.kind, 'rejected');
    assert.match(lone.kind === 'rejected' ? lone.reason : '', /^InvalidData: .*surrogate/);
    for (const userAgent of ['emoji 😀', '\\ud800 as text', '\\\\\ud83d\ude00']) {
      const verdict = checkImportedRecord(managementRecord('111122223333', { eventID: 'y', userAgent }));
      assert.equal(verdict.kind, 'ok', userAgent);
    }
  });
});

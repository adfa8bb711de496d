import type { DuckDBConnection } from '@duckdb/node-api';
import { inTransaction } from '../store/database.ts';
import { CREATE_LAKE_STAGING, insertStagedLakeEvents } from './lake-table.ts';

/**
 * Writes imported records into one event data store, each eventID at most once: an import run twice, or
 * two imports of overlapping files, store every event once (facts §8.5). Imported records keep their own
 * eventIDs and come from no log position (`seq` 0).
 *
 * The store's eventIDs are found in two steps because reading the eventid column of a large store costs
 * ~15 ms per million events while its 4-byte `eventid_hash` costs a tenth of that: first the hashes that
 * the store shares with the batch, then, only when there are any, the eventIDs behind those hashes.
 */
export interface ImportedRecord {
  eventID: string;
  json: string;
}

export interface ImportWriteResult {
  imported: number;
  duplicates: number;
}

const CREATE_IMPORT_IDS = 'CREATE OR REPLACE TEMP TABLE import_ids (eid VARCHAR)';

/** Creates the connection's temporary tables; once per connection before the first write. */
export async function prepareImportConnection(conn: DuckDBConnection): Promise<void> {
  await conn.run(CREATE_LAKE_STAGING);
  await conn.run(CREATE_IMPORT_IDS);
}

/**
 * Stages the records that are new to the store; `commit` then runs inside one transaction with the insert,
 * so whatever the caller records about the batch (an import's progress) commits with its events or not at all.
 */
export async function writeImportedRecords(
  conn: DuckDBConnection,
  storeId: string,
  records: readonly ImportedRecord[],
  commit: (conn: DuckDBConnection, result: ImportWriteResult) => Promise<void>,
): Promise<ImportWriteResult> {
  const unique = new Map<string, string>();
  for (const r of records) if (!unique.has(r.eventID)) unique.set(r.eventID, r.json);
  const stored = await storedEventIds(conn, storeId, [...unique.keys()]);
  await conn.run('DELETE FROM lake_staging');
  const appender = await conn.createAppender('lake_staging', 'main', 'temp');
  let imported = 0;
  try {
    for (const [eventID, json] of unique) {
      if (stored.has(eventID)) continue;
      appender.appendVarchar(storeId);
      appender.appendBigInt(0n);
      appender.appendVarchar(json);
      appender.endRow();
      imported++;
    }
  } finally {
    appender.closeSync();
  }
  const result = { imported, duplicates: records.length - imported };
  await inTransaction(conn, async (tx) => {
    if (imported > 0) await insertStagedLakeEvents(tx);
    await commit(tx, result);
  });
  return result;
}

/** Which of `eventIds` the store holds already. */
async function storedEventIds(conn: DuckDBConnection, storeId: string, eventIds: string[]): Promise<Set<string>> {
  await conn.run('DELETE FROM import_ids');
  const appender = await conn.createAppender('import_ids', 'main', 'temp');
  try {
    for (const id of eventIds) {
      appender.appendVarchar(id);
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE import_hashes AS
       SELECT DISTINCT eventid_hash AS h FROM main.lake_events
       WHERE store_id = $1 AND eventid_hash IN (SELECT ('0x' || substr(md5(eid), 1, 8))::UINTEGER FROM import_ids)`,
    [storeId],
  );
  const candidates = await conn.runAndReadAll('SELECT count(*) FROM import_hashes');
  if (Number(candidates.getRows()[0]?.[0] ?? 0) === 0) return new Set();
  const rows = await conn.runAndReadAll(
    `SELECT eventid FROM main.lake_events
     WHERE store_id = $1 AND eventid_hash IN (SELECT h FROM import_hashes) AND eventid IN (SELECT eid FROM import_ids)`,
    [storeId],
  );
  return new Set(rows.getRows().map((r) => String(r[0])));
}

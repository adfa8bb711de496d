import { blobValue, type DuckDBConnection } from '@duckdb/node-api';
import { BATCH_LINES, lineBatch } from '../store/line-batch.ts';
import { insertImportBatch } from './lake-table.ts';

/**
 * Writes imported records into one event data store, each eventID at most once: an import run twice, or
 * two imports of overlapping files, store every event once (facts §8.5). Imported records keep their own
 * eventIDs and come from no log position (`seq` 0).
 *
 * An import's records go into one transaction after another, each committed when it holds `rowsPerCommit`
 * (DuckDB's row group, ROW_GROUP_ROWS) and at the end: DuckDB writes a transaction's appended rows straight to
 * the file, compressed, as each row group fills, so such a commit writes no WAL and the next checkpoint has
 * nothing to compress again. Committing batches of 20,000 instead cost twice DuckDB's CPU an event. So a
 * writer holds its connection's transaction open between batches: give it a connection of its own.
 *
 * The store's eventIDs are found in two steps because reading the eventid column of a large store costs
 * ~15 ms per million events while its 4-byte `eventid_hash` costs a tenth of that: first the hashes that
 * the store shares with the batch, then, only when there are any, the eventIDs behind those hashes. The
 * open transaction sees its own rows, so what is written and not yet committed counts as stored.
 */
export interface ImportedRecord {
  eventID: string;
  json: string;
}

export interface ImportWriteResult {
  imported: number;
  duplicates: number;
}

/** DuckDB's rows per row group. */
export const ROW_GROUP_ROWS = 122_880;

/**
 * A batch being written: per record a number `k` (0, 1, …), its eventID and its JSON. It arrives as one bound
 * BLOB that DuckDB splits (line-batch.ts), not an appender row per record (which cost the main thread ~7 µs a
 * record): per line the eventID as a JSON string, 0x1F, then the record's JSON. Neither holds 0x1F unescaped.
 */
const CREATE_IMPORT_BATCH = 'CREATE OR REPLACE TEMP TABLE import_batch (k BIGINT, eid VARCHAR, j VARCHAR)';
const INSERT_IMPORT_BATCH = `
  INSERT INTO import_batch
  SELECT row_number() OVER () - 1, json_extract_string(substr(line, 1, p - 1), '$'), substr(line, p + 1)
  FROM (SELECT line, position(chr(31) IN line) AS p FROM ${BATCH_LINES})`;

/** Creates the temporary table a writer uses; once per connection before its first write. */
export async function prepareImportConnection(conn: DuckDBConnection): Promise<void> {
  await conn.run(CREATE_IMPORT_BATCH);
}

export interface WriteOptions {
  /** Commit what is written, however much: the import's last batch, or a call of `opentrail import`. */
  final: boolean;
  /**
   * Runs inside each commit's transaction with how many records are committed in all by then, and whether
   * all of the batch's are written, so whatever the caller records about them (an import's progress) commits
   * with them or not at all. It also runs in a transaction of its own after a batch that left none open, as
   * the batch may have news (files read, failures).
   */
  progress(tx: DuckDBConnection, committed: number, batchWritten: boolean): Promise<void>;
  /** Runs after each commit: what `progress` recorded is now durable. */
  committed?(): void;
}

export class ImportWriter {
  readonly #storeId: string;
  readonly #rowsPerCommit: number;
  /** Records written, and of them committed; the difference is in the open transaction. */
  #written = 0;
  #committed = 0;
  /** A transaction is open on the connection (begun by this writer). */
  #open = false;

  constructor(storeId: string, rowsPerCommit: number = ROW_GROUP_ROWS) {
    this.#storeId = storeId;
    this.#rowsPerCommit = rowsPerCommit;
  }

  /** Records written so far, committed or not: a batch's files are done once `committed` reaches it. */
  get written(): number {
    return this.#written;
  }

  /** Writes the records new to the store; a failure rolls the open transaction back, with the records it held. */
  async write(
    conn: DuckDBConnection,
    records: readonly ImportedRecord[],
    options: WriteOptions,
  ): Promise<ImportWriteResult> {
    try {
      return await this.#write(conn, records, options);
    } catch (error) {
      if (this.#open) await conn.run('ROLLBACK').catch(() => undefined);
      this.#open = false;
      this.#written = this.#committed;
      throw error;
    }
  }

  async #write(
    conn: DuckDBConnection,
    records: readonly ImportedRecord[],
    { final, progress, committed }: WriteOptions,
  ): Promise<ImportWriteResult> {
    const imported = records.length === 0 ? 0 : await this.#stageNew(conn, records);
    let endedInCommit = false;
    for (let from = 0; from < imported; ) {
      if (!this.#open) await this.#begin(conn);
      const take = Math.min(imported - from, this.#rowsPerCommit - (this.#written - this.#committed));
      await insertImportBatch(conn, this.#storeId, from, from + take);
      from += take;
      this.#written += take;
      endedInCommit = this.#written - this.#committed === this.#rowsPerCommit;
      if (endedInCommit) await this.#commit(conn, progress, committed, from === imported);
    }
    // The batch's news (files read, failures) commits now, unless records wait in the transaction for a whole
    // row group, or the batch's last commit took it.
    if (!endedInCommit && (final || !this.#open)) {
      if (!this.#open) await this.#begin(conn);
      await this.#commit(conn, progress, committed, true);
    }
    return { imported, duplicates: records.length - imported };
  }

  async #begin(conn: DuckDBConnection): Promise<void> {
    await conn.run('BEGIN TRANSACTION');
    this.#open = true;
  }

  async #commit(
    conn: DuckDBConnection,
    progress: WriteOptions['progress'],
    committed: WriteOptions['committed'],
    batchWritten: boolean,
  ): Promise<void> {
    await progress(conn, this.#written, batchWritten);
    await conn.run('COMMIT');
    this.#open = false;
    this.#committed = this.#written;
    committed?.();
  }

  /** Leaves in `import_batch` the batch's records that the store holds neither before nor in the open transaction. */
  async #stageNew(conn: DuckDBConnection, records: readonly ImportedRecord[]): Promise<number> {
    // Each eventID once: its first record in the batch.
    const unique = new Map<string, string>();
    for (const r of records) if (!unique.has(r.eventID)) unique.set(r.eventID, r.json);
    await conn.run('DELETE FROM import_batch');
    const lines = [...unique].map(([eventID, json]) => ({ prefix: `${JSON.stringify(eventID)}\u001f`, json }));
    await conn.run(INSERT_IMPORT_BATCH, [blobValue(lineBatch(lines))]);
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE import_hashes AS
         SELECT DISTINCT eventid_hash AS h FROM main.lake_events
         WHERE store_id = $1 AND eventid_hash IN (SELECT ('0x' || substr(md5(eid), 1, 8))::UINTEGER FROM import_batch)`,
      [this.#storeId],
    );
    const candidates = await conn.runAndReadAll('SELECT count(*) FROM import_hashes');
    if (Number(candidates.getRows()[0]?.[0] ?? 0) === 0) return unique.size;
    // Rare (the files were imported before): the batch is numbered again without the stored records.
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE import_new AS
         SELECT row_number() OVER () - 1 AS k, eid, j FROM import_batch
         WHERE eid NOT IN (SELECT eventid FROM main.lake_events WHERE store_id = $1
           AND eventid_hash IN (SELECT h FROM import_hashes) AND eventid IN (SELECT eid FROM import_batch))`,
      [this.#storeId],
    );
    await conn.run('DROP TABLE import_batch');
    await conn.run('ALTER TABLE import_new RENAME TO import_batch');
    const left = await conn.runAndReadAll('SELECT count(*) FROM import_batch');
    return Number(left.getRows()[0]?.[0] ?? 0);
  }
}

/** Writes records sent by `opentrail import` into a store at once, with `progress` as in WriteOptions. */
export function writeImportedRecords(
  conn: DuckDBConnection,
  storeId: string,
  records: readonly ImportedRecord[],
  progress: WriteOptions['progress'],
): Promise<ImportWriteResult> {
  return new ImportWriter(storeId, Number.MAX_SAFE_INTEGER).write(conn, records, { final: true, progress });
}

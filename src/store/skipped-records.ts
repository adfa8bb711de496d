import type { DuckDBConnection } from '@duckdb/node-api';
import type { Connection } from './database.ts';

/**
 * Records a log consumer stepped over because DuckDB refused their data, in `skipped_records` (migration 15):
 * one row per consumer and seq, written in the transaction that moves the consumer past the record, so the
 * count in /health survives a restart and a record skipped again after a crash is counted once.
 */
/**
 * Whether DuckDB refused a record for its data (its Invalid Input, Conversion, Constraint or Out of Range
 * errors: JSON it cannot parse, a time it cannot read, a required member missing), so retrying the same
 * record cannot succeed, unlike a disk that is full or a database that went away.
 */
export function isDataError(error: unknown): boolean {
  return error instanceof Error && DATA_ERROR.test(error.message);
}

const DATA_ERROR = /^(Invalid Input|Conversion|Constraint|Out of Range) Error:/;

export function saveSkip(conn: Connection, consumer: string, seq: number, error: unknown): Promise<void> {
  const reason = error instanceof Error ? error.message : String(error);
  return conn.runPrepared('INSERT OR REPLACE INTO skipped_records VALUES ($1, $2, $3)', [consumer, seq, reason]);
}

/** How many records the consumer has skipped, as stored. */
export async function skippedCount(raw: DuckDBConnection, consumer: string): Promise<number> {
  const rows = (
    await raw.runAndReadAll('SELECT count(*) FROM skipped_records WHERE consumer = $1', [consumer])
  ).getRows();
  return Number(rows[0]?.[0] ?? 0);
}

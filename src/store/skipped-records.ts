// Records a log consumer stepped over (`skipped_records`, migration 15): DuckDB refused their data, or, for the
// Lake, a bare record is not JSON. One row per consumer and seq, written in the transaction that moves the
// consumer's cursor past the record, so /health's count survives a restart and counts each record once.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Connection } from './database.ts';

const DATA_ERROR = /^(Invalid Input|Conversion|Constraint|Out of Range) Error:/;

/**
 * Whether DuckDB refused a record for its data (its Invalid Input, Conversion, Constraint or Out of Range
 * errors: JSON it cannot parse, a time it cannot read, a required member missing), so retrying the same
 * record cannot succeed, unlike a disk that is full or a database that went away.
 */
export function isDataError(error: unknown): boolean {
  return error instanceof Error && DATA_ERROR.test(error.message);
}

/** Stores that the consumer stepped over `seq`, in the caller's transaction. */
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

import type { DuckDBConnection } from '@duckdb/node-api';
import type { Connection } from './database.ts';

/** A log consumer's saved cursor in `consumer_cursors`, or undefined when it has saved none yet. */
export async function storedCursor(raw: DuckDBConnection, consumer: string): Promise<number | undefined> {
  const rows = (await raw.runAndReadAll('SELECT seq FROM consumer_cursors WHERE consumer = $1', [consumer])).getRows();
  return rows.length === 0 ? undefined : Number(rows[0]?.[0]);
}

/**
 * Stores a log consumer's cursor in `consumer_cursors`, in the caller's transaction, as the connection's
 * prepared statement: every batch a consumer applies saves it.
 */
export function saveCursor(conn: Connection, consumer: string, seq: number): Promise<void> {
  return conn.upsert('consumer_cursors', 'consumer', consumer, 'seq', seq);
}

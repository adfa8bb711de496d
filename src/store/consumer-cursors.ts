import type { Connection } from './database.ts';

/**
 * Stores a log consumer's cursor in `consumer_cursors`, in the caller's transaction, as the connection's
 * prepared statement: every batch a consumer applies saves it.
 */
export function saveCursor(conn: Connection, consumer: string, seq: number): Promise<void> {
  return conn.runPrepared('INSERT OR REPLACE INTO consumer_cursors VALUES ($1, $2)', [consumer, seq]);
}

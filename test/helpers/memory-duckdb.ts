import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** Runs `fn` with a connection to a DuckDB of its own, in memory, closed after. */
export async function withMemoryDuckDB<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

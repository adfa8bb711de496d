import type { DuckDBConnection } from '@duckdb/node-api';
import type { Connection } from '../store/database.ts';
import type { ImportFailure, ImportFailureChange, ImportRecord } from './import.ts';

/**
 * Imports persisted as one JSON document each in `lake_imports`, held in memory (there are few, and GetImport
 * is polled), with their failures in `lake_import_failures` (one entry per location), read from the table page
 * by page. An import's progress is written with `putIn` inside the transaction that stores the events it counts.
 */
export class ImportStore {
  readonly #conn: Connection;
  readonly #imports = new Map<string, ImportRecord>();

  private constructor(conn: Connection) {
    this.#conn = conn;
  }

  static async load(conn: Connection): Promise<ImportStore> {
    const store = new ImportStore(conn);
    const rows = await conn.serial(async (raw) => (await raw.runAndReadAll('SELECT doc FROM lake_imports')).getRows());
    for (const [doc] of rows) {
      const record = JSON.parse(String(doc)) as ImportRecord;
      store.#imports.set(record.id, record);
    }
    return store;
  }

  get(id: string): ImportRecord | undefined {
    return this.#imports.get(id);
  }

  all(): ImportRecord[] {
    return [...this.#imports.values()];
  }

  async put(record: ImportRecord, failures: readonly ImportFailureChange[] = []): Promise<void> {
    await this.#conn.withTransaction((raw) => this.putIn(raw, record, failures));
    this.remember(record);
  }

  /** Writes the import (and changed failures) on a connection already inside a transaction; memory follows the caller's commit. */
  async putIn(raw: DuckDBConnection, record: ImportRecord, failures: readonly ImportFailureChange[]): Promise<void> {
    await raw.run('INSERT OR REPLACE INTO main.lake_imports VALUES ($1, $2, $3, $4)', [
      record.id,
      record.accountId,
      record.region,
      JSON.stringify(record),
    ]);
    for (const f of failures) {
      if (!('errorType' in f)) {
        await raw.run(
          'UPDATE main.lake_import_failures SET status = $3, updated_at_ms = $4 WHERE import_id = $1 AND location = $2',
          [record.id, f.location, f.status, f.updatedAtMs],
        );
        continue;
      }
      await raw.run('DELETE FROM main.lake_import_failures WHERE import_id = $1 AND location = $2', [
        record.id,
        f.location,
      ]);
      await raw.run('INSERT INTO main.lake_import_failures VALUES ($1, $2, $3, $4, $5, $6)', [
        record.id,
        f.location,
        f.status,
        f.errorType,
        f.errorMessage,
        f.updatedAtMs,
      ]);
    }
  }

  /** Forgets an import whose first write failed (start() makes it visible before writing it). */
  forget(id: string): void {
    this.#imports.delete(id);
  }

  /** Makes a committed write visible to readers. */
  remember(record: ImportRecord): void {
    this.#imports.set(record.id, record);
  }

  async failures(importId: string, offset: number, limit: number): Promise<ImportFailure[]> {
    return this.#failures(`WHERE import_id = $1 ORDER BY updated_at_ms, location LIMIT $2 OFFSET $3`, [
      importId,
      limit,
      offset,
    ]);
  }

  /** The import's entries in one status (a retry reads the FAILED ones again). */
  async failuresIn(importId: string, status: ImportFailure['status']): Promise<ImportFailure[]> {
    return this.#failures('WHERE import_id = $1 AND status = $2 ORDER BY location', [importId, status]);
  }

  async #failures(where: string, params: (string | number)[]): Promise<ImportFailure[]> {
    const rows = await this.#conn.serial(async (raw) =>
      (
        await raw.runAndReadAll(
          `SELECT location, status, error_type, error_message, updated_at_ms FROM main.lake_import_failures ${where}`,
          params,
        )
      ).getRows(),
    );
    return rows.map(([location, status, errorType, errorMessage, updatedAtMs]) => ({
      location: String(location),
      status: String(status) as ImportFailure['status'],
      errorType: String(errorType),
      errorMessage: String(errorMessage),
      updatedAtMs: Number(updatedAtMs),
    }));
  }
}

import type { ConsumerHandler } from '../log/consumer.ts';
import type { LogEntry } from '../log/frame.ts';
import { recordBytes } from '../log/record-payload.ts';
import type { Connection } from '../store/database.ts';
import { CREATE_STAGING, insertResources, insertStagedRecords } from './history-table.ts';

/**
 * Feeds event history from the log: each batch is appended raw to a staging table, then moved into
 * `history_events` together with the new cursor in one transaction, so a crash repeats or loses nothing.
 */
export const HISTORY_CONSUMER = 'history';

export class HistoryConsumer implements ConsumerHandler {
  readonly name = HISTORY_CONSUMER;
  readonly #conn: Connection;
  readonly #onSkip: (seq: number, error: unknown) => void;

  constructor(conn: Connection, onSkip: (seq: number, error: unknown) => void) {
    this.#conn = conn;
    this.#onSkip = onSkip;
  }

  loadCursor(): Promise<number> {
    return this.#conn.serial(async (raw) => {
      await raw.run(CREATE_STAGING);
      const rows = (
        await raw.runAndReadAll('SELECT seq FROM consumer_cursors WHERE consumer = $1', [this.name])
      ).getRows();
      return rows.length === 0 ? 0 : Number(rows[0]?.[0]);
    });
  }

  async apply(entries: LogEntry[]): Promise<void> {
    try {
      await this.#applyBatch(entries);
    } catch (error) {
      if (entries.length === 1) throw error;
      // One bad record must not hold history back: apply one by one and skip (report) what fails.
      for (const entry of entries) {
        try {
          await this.#applyBatch([entry]);
        } catch (single) {
          this.#onSkip(entry.seq, single);
          await this.#saveCursorOnly(entry.seq);
        }
      }
    }
  }

  #applyBatch(entries: LogEntry[]): Promise<void> {
    const last = (entries[entries.length - 1] as LogEntry).seq;
    return this.#conn.serial(async (raw) => {
      await raw.run('DELETE FROM history_staging');
      const appender = await raw.createAppender('history_staging', 'main', 'temp');
      try {
        for (const e of entries) {
          appender.appendBigInt(BigInt(e.seq));
          appender.appendVarchar(recordBytes(e.payload).toString('utf8'));
          appender.endRow();
        }
      } finally {
        appender.closeSync();
      }
      await raw.run('BEGIN TRANSACTION');
      try {
        await insertStagedRecords(raw);
        await insertResources(raw, (entries[0] as LogEntry).seq);
        await raw.run('INSERT OR REPLACE INTO consumer_cursors VALUES ($1, $2)', [this.name, last]);
        await raw.run('COMMIT');
      } catch (error) {
        await raw.run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  #saveCursorOnly(seq: number): Promise<void> {
    return this.#conn.withTransaction(async (raw) => {
      await raw.run('INSERT OR REPLACE INTO consumer_cursors VALUES ($1, $2)', [this.name, seq]);
    });
  }
}

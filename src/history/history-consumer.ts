import { type ConsumerHandler, PassedCursorSaves } from '../log/consumer.ts';
import type { LogEntry } from '../log/frame.ts';
import { headerCategory, mayHaveExtraMembers, recordBytes } from '../log/record-payload.ts';
import { saveCursor, storedCursor } from '../store/consumer-cursors.ts';
import type { Connection } from '../store/database.ts';
import { isDataError, saveSkip, skippedCount } from '../store/skipped-records.ts';
import type { HistoryIndex } from './history-index.ts';
import { insertRecords, insertResources, recordBatch } from './history-table.ts';

/**
 * Feeds event history from the log: each batch goes to DuckDB as one value (`recordBatch`) and into
 * `history_events` together with the new cursor in one transaction, so a crash repeats or loses nothing.
 *
 * A failed batch is split in halves until the failure is pinned to single records. Only a record that
 * fails alone, twice, with an error about its data (DuckDB's Invalid Input, Conversion, Constraint or Out of
 * Range errors: JSON it cannot parse, a time it cannot read, a required member missing) is skipped: its
 * sequence number is reported and the cursor moves past it. Any other error (disk full, out of memory,
 * a database that went away) is thrown, and the runner retries the batch with backoff until it goes
 * through, so a passing fault never costs a record. Trade-off: a bad record whose error DuckDB words in
 * another way holds history back (loudly, through the runner's onError) instead of being dropped.
 */
export const HISTORY_CONSUMER = 'history';

/**
 * Event history keeps management and Insights events only (facts §6); the routing header says which a record
 * is, so data events (most of a proxy's traffic) never cost DuckDB a JSON parse. Bare payloads, which carry
 * no header, are left to the INSERT's own filter.
 */
function isHistoryRecord(entry: LogEntry): boolean {
  const category = headerCategory(entry.payload);
  return category === undefined || category === 'Management' || category === 'Insight';
}

/** Attempts of one record on its own before it is judged bad rather than unlucky. */
const ATTEMPTS_ALONE = 2;

export class HistoryConsumer implements ConsumerHandler {
  readonly name = HISTORY_CONSUMER;
  readonly #conn: Connection;
  readonly #onSkip: (seq: number, error: unknown) => void;
  /** Records up to here are stored, skipped, or held nothing for history; the saved cursor may lag behind. */
  #appliedThrough = 0;
  #skipped = 0;
  readonly #passedSaves: PassedCursorSaves;
  readonly #index: HistoryIndex | undefined;
  readonly #onIndexError: (error: unknown) => void;

  /**
   * `index` is extended after the batches that store records; a failure to extend it is reported to
   * `onIndexError`, not as the batch's (which is stored), and the next batch tries again. Tests pass
   * `passedSaves` with their own clock.
   */
  constructor(
    conn: Connection,
    onSkip: (seq: number, error: unknown) => void,
    options: { index?: HistoryIndex; onIndexError?: (error: unknown) => void; passedSaves?: PassedCursorSaves } = {},
  ) {
    this.#conn = conn;
    this.#onSkip = onSkip;
    this.#index = options.index;
    this.#onIndexError = options.onIndexError ?? (() => {});
    this.#passedSaves = options.passedSaves ?? new PassedCursorSaves();
  }

  /** Records skipped, restarts included (each one was reported to `onSkip` and stored in `skipped_records`). */
  get skipped(): number {
    return this.#skipped;
  }

  async loadCursor(): Promise<number> {
    await this.#conn.serial(async (raw) => {
      this.#appliedThrough = (await storedCursor(raw, this.name)) ?? 0;
      this.#skipped = await skippedCount(raw, this.name);
    });
    return this.#appliedThrough;
  }

  async apply(entries: LogEntry[]): Promise<void> {
    // A batch that failed part-way through isolating a bad record comes back whole: its start is stored.
    const fresh = entries.filter((e) => e.seq > this.#appliedThrough);
    if (fresh.length === 0) return;
    const last = (fresh[fresh.length - 1] as LogEntry).seq;
    const kept = fresh.filter(isHistoryRecord);
    if (kept.length === 0) {
      if (this.#passedSaves.due()) return this.#saveCursorOnly(last);
      this.#appliedThrough = last;
      return;
    }
    await this.#applyIsolating(kept);
    // The cursor moves to the batch's last record also when that one was left out.
    if (this.#appliedThrough < last) await this.#saveCursorOnly(last);
    // A failure here must not fail the stored batch: the runner would retry it, holding history back.
    await this.#index?.extend(this.#conn, last).catch(this.#onIndexError);
  }

  /** Applies `entries`; when that fails, applies each half the same way, down to single records. */
  async #applyIsolating(entries: LogEntry[]): Promise<void> {
    if (entries.length === 1) return this.#applyAlone(entries[0] as LogEntry);
    try {
      await this.#applyBatch(entries);
    } catch {
      // Split on any error: a batch too big for the memory limit goes through in halves, and a store that
      // is down fails the first single record too, which throws for the runner to retry.
      const half = Math.ceil(entries.length / 2);
      await this.#applyIsolating(entries.slice(0, half));
      await this.#applyIsolating(entries.slice(half));
    }
  }

  async #applyAlone(entry: LogEntry): Promise<void> {
    let error: unknown;
    for (let attempt = 0; attempt < ATTEMPTS_ALONE; attempt++) {
      try {
        return await this.#applyBatch([entry]);
      } catch (e) {
        if (!isDataError(e)) throw e;
        error = e;
      }
    }
    await this.#saveCursorOnly(entry.seq, { error });
    this.#skipped++;
    this.#onSkip(entry.seq, error);
  }

  async #applyBatch(entries: LogEntry[]): Promise<void> {
    const last = (entries[entries.length - 1] as LogEntry).seq;
    const batch = recordBatch(
      entries.map((e) => ({ seq: e.seq, json: recordBytes(e.payload), mayHaveExtra: mayHaveExtraMembers(e.payload) })),
    );
    await this.#conn.withTransaction(async () => {
      await insertRecords(this.#conn, batch);
      await insertResources(this.#conn, (entries[0] as LogEntry).seq);
      await saveCursor(this.#conn, this.name, last);
    });
    this.#appliedThrough = last;
    this.#passedSaves.saved();
  }

  /** Moves the cursor to `seq`, past a record skipped for `skip.error` when given. */
  async #saveCursorOnly(seq: number, skip?: { error: unknown }): Promise<void> {
    await this.#conn.withTransaction(async () => {
      if (skip !== undefined) await saveSkip(this.#conn, this.name, seq, skip.error);
      await saveCursor(this.#conn, this.name, seq);
    });
    this.#appliedThrough = seq;
    this.#passedSaves.saved();
  }
}

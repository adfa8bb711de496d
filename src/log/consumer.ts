import type { EventLog, LogReader } from './event-log.ts';
import type { LogEntry } from './frame.ts';

/**
 * A consumer of the event log with its own persisted cursor (design.md). `apply` must make its output and
 * the new cursor durable together (one transaction, or output named by sequence ranges), so a restart at
 * any point neither loses nor repeats a record. The runner reads after the cursor in batches, never blocks
 * ingestion, retries failed batches with backoff, and tells `onAdvance` where it stands so the log can
 * drop segments every consumer is past. Once it stops (stop(), or the log closing or failing), whoever
 * awaits `caughtUp` is told so with a ConsumerStoppedError rather than left waiting.
 */
export interface ConsumerHandler {
  readonly name: string;
  /** The last sequence number already applied (0 when none). */
  loadCursor(): Promise<number>;
  /**
   * Applies entries (consecutive, after the cursor) and persists the cursor `entries.at(-1).seq`. When the
   * entries held nothing for it, it may persist that cursor later (PassedCursorSaves).
   */
  apply(entries: LogEntry[]): Promise<void>;
}

/**
 * Paces the saves of a cursor that moved only past records holding nothing for the consumer (data events,
 * for event history; every record, for a Lake without stores). Each save is a DuckDB transaction (2-4 ms
 * of CPU when measured, about 1.4 since cursors are saved by an UPDATE), and saving after every lingering
 * batch cost a proxy that serves data events about a tenth of a core. One a second is enough: after a
 * crash, the records passed since are read again and again hold nothing (or are gone from the log, which
 * drops records once every consumer is past them in memory).
 */
export class PassedCursorSaves {
  static readonly INTERVAL_MS = 1000;
  readonly #nowMs: () => number;
  #lastMs = Number.NEGATIVE_INFINITY;

  /** Real time by default, like the consumers' linger: it paces work, it is not a cadence of the service. */
  constructor(nowMs: () => number = () => performance.now()) {
    this.#nowMs = nowMs;
  }

  /** Whether a cursor-only save is due. */
  due(): boolean {
    return this.#nowMs() - this.#lastMs >= PassedCursorSaves.INTERVAL_MS;
  }

  /** Call whenever the consumer's cursor was saved, with records or without. */
  saved(): void {
    this.#lastMs = this.#nowMs();
  }
}

export interface ConsumerOptions {
  maxBatchEntries?: number;
  /**
   * When fewer than `lingerEntries` records are waiting, wait up to this long (real time) for more before
   * applying: under light load each record would otherwise cost a transaction of its own.
   */
  lingerMs?: number;
  /**
   * How many waiting records end the linger (default `maxBatchEntries`). Lower, a steady stream is applied
   * in batches of about this many as they arrive, rather than in one burst per `lingerMs`.
   */
  lingerEntries?: number;
  maxBatchBytes?: number;
  onAdvance?: (consumer: string, cursor: number) => void;
  onError?: (consumer: string, error: unknown) => void;
  /**
   * Waits out the backoff before a failed batch is retried; real time by default (it paces retries, it is
   * not a cadence of the service, so it is not the Clock). Tests pass one that returns at once.
   */
  sleep?: (ms: number) => Promise<void>;
}

/** The runner stopped before the records a caller waits for were applied. */
export class ConsumerStoppedError extends Error {
  override readonly name = 'ConsumerStoppedError';
}

const MAX_BACKOFF_MS = 5_000;

export class ConsumerRunner {
  readonly #log: EventLog;
  readonly #handler: ConsumerHandler;
  readonly #options: ConsumerOptions;
  #cursor = 0;
  /** Where reading resumes: after the cursor, or the oldest record kept when the cursor is older. */
  #resumeSeq = 1;
  /** Made inside the loop's error handling, and dropped after a failed batch to re-read from #resumeSeq. */
  #reader: LogReader | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Set once the loop has ended: later `caughtUp` calls fail at once. */
  #ended: Error | undefined;
  /** Wakes whatever the loop is waiting on when stop() is called. */
  readonly #onStop = new Set<() => void>();
  #waiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(log: EventLog, handler: ConsumerHandler, options: ConsumerOptions = {}) {
    this.#log = log;
    this.#handler = handler;
    this.#options = options;
  }

  get name(): string {
    return this.#handler.name;
  }

  /** The last applied sequence number. */
  get cursor(): number {
    return this.#cursor;
  }

  async start(): Promise<void> {
    this.#cursor = await this.#handler.loadCursor();
    // A consumer whose cursor is older than the log (a new one, on a log that already dropped segments)
    // starts at the oldest record kept.
    this.#resumeSeq = Math.max(this.#cursor + 1, this.#log.firstSeq);
    this.#running = this.#loop().then(
      () => this.#end(new ConsumerStoppedError(`consumer ${this.name} stopped at ${this.#cursor}`)),
      (cause: unknown) => this.#end(new ConsumerStoppedError(`consumer ${this.name} failed`, { cause })),
    );
  }

  /** Resolves once every record up to `seq` has been applied; rejects if the runner stops first. */
  caughtUp(seq: number): Promise<void> {
    if (this.#cursor >= seq) return Promise.resolve();
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const wake of this.#onStop) wake();
    await this.#running;
    // Also when start() never ran, or failed: nobody may wait on a runner that will not run.
    this.#end(new ConsumerStoppedError(`consumer ${this.name} stopped at ${this.#cursor}`));
  }

  #end(error: Error): void {
    this.#ended ??= error;
    for (const w of this.#waiters.splice(0)) w.reject(this.#ended);
  }

  async #loop(): Promise<void> {
    let backoffMs = 50;
    while (!this.#stopped) {
      try {
        await this.#untilStopped(this.#log.waitForCommit(this.#resumeSeq - 1));
      } catch {
        return; // the log closed or failed: nothing more will arrive
      }
      if (this.#stopped) return;
      const maxEntries = this.#options.maxBatchEntries ?? 20_000;
      await this.#linger(this.#options.lingerEntries ?? maxEntries);
      if (this.#stopped) return;
      try {
        // Made here, inside the try: a reader that cannot be made (its records were dropped) is a failed
        // batch to report and retry, not an error that escapes the runner.
        this.#reader ??= this.#log.reader(this.#resumeSeq);
        const entries = await this.#reader.read(maxEntries, this.#options.maxBatchBytes);
        if (entries.length === 0) {
          // Records are committed after the cursor, yet none could be read: never spin on that.
          throw new Error(`no records readable after ${this.#cursor} though ${this.#log.committedSeq} are committed`);
        }
        await this.#handler.apply(entries);
        this.#advance((entries[entries.length - 1] as LogEntry).seq);
        backoffMs = 50;
      } catch (error) {
        this.#report(error);
        // Re-read after the cursor: the failed batch was not applied.
        this.#reader = undefined;
        const sleep = this.#options.sleep;
        await (sleep ? this.#untilStopped(sleep(backoffMs)).catch(() => undefined) : this.#sleep(backoffMs));
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /**
   * Waits up to lingerMs for `entries` records to be waiting, looking every tenth of it: a waiter on the
   * log's commits could not be taken back when the records never come.
   */
  async #linger(entries: number): Promise<void> {
    const linger = this.#options.lingerMs ?? 0;
    const until = performance.now() + linger;
    const step = Math.max(1, linger / 10);
    while (!this.#stopped && this.#log.committedSeq - this.#cursor < entries && performance.now() < until) {
      await this.#sleep(Math.min(step, until - performance.now()));
    }
  }

  /** Waits `ms` of real time, or until the runner stops (the timer is cleared then, so it holds nothing). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onStop.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#onStop.add(wake);
    });
  }

  /**
   * Resolves with `promise`, or early when the runner stops. (Racing against one long-lived "stopped"
   * promise instead would leave a reaction on it per wait, which grows without bound.)
   */
  #untilStopped(promise: Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const wake = () => resolve(undefined);
      this.#onStop.add(wake);
      promise.then(
        (value) => {
          this.#onStop.delete(wake);
          resolve(value);
        },
        (error: unknown) => {
          this.#onStop.delete(wake);
          reject(error);
        },
      );
    });
  }

  /** Hands a failed batch's error to onError; a reporter that throws must not end the runner. */
  #report(error: unknown): void {
    try {
      this.#options.onError?.(this.#handler.name, error);
    } catch {
      // Nothing better to do with it: the batch is retried either way.
    }
  }

  #advance(cursor: number): void {
    this.#cursor = cursor;
    this.#resumeSeq = cursor + 1;
    this.#waiters = this.#waiters.filter((w) => {
      if (w.seq > cursor) return true;
      w.resolve();
      return false;
    });
    this.#options.onAdvance?.(this.#handler.name, cursor);
  }
}

import type { EventLog, LogReader } from './event-log.ts';
import type { LogEntry } from './frame.ts';

/**
 * A consumer of the event log with its own persisted cursor (design.md). `apply` must make its output and
 * the new cursor durable together (one transaction, or output named by sequence ranges), so a restart at
 * any point neither loses nor repeats a record. The runner reads after the cursor in batches, never blocks
 * ingestion, retries failed batches with backoff, and tells `onAdvance` where it stands so the log can
 * drop segments every consumer is past.
 */
export interface ConsumerHandler {
  readonly name: string;
  /** The last sequence number already applied (0 when none). */
  loadCursor(): Promise<number>;
  /** Applies entries (consecutive, after the cursor) and persists the cursor `entries.at(-1).seq`. */
  apply(entries: LogEntry[]): Promise<void>;
}

export interface ConsumerOptions {
  maxBatchEntries?: number;
  /**
   * When fewer than `maxBatchEntries` records are waiting, wait this long (real time) for more before
   * applying: under light load each record would otherwise cost a transaction of its own.
   */
  lingerMs?: number;
  maxBatchBytes?: number;
  onAdvance?: (consumer: string, cursor: number) => void;
  onError?: (consumer: string, error: unknown) => void;
}

const MAX_BACKOFF_MS = 5_000;

export class ConsumerRunner {
  readonly #log: EventLog;
  readonly #handler: ConsumerHandler;
  readonly #options: ConsumerOptions;
  #cursor = 0;
  #reader: LogReader | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Wakes whatever the loop is waiting on when stop() is called. */
  readonly #onStop = new Set<() => void>();
  #waiters: { seq: number; resolve: () => void }[] = [];

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
    this.#reader = this.#log.reader(Math.max(this.#cursor + 1, this.#log.firstSeq));
    this.#running = this.#loop();
  }

  /** Resolves once every record up to `seq` has been applied. */
  caughtUp(seq: number): Promise<void> {
    if (this.#cursor >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const wake of this.#onStop) wake();
    await this.#running;
  }

  async #loop(): Promise<void> {
    let backoffMs = 50;
    while (!this.#stopped) {
      try {
        await this.#untilStopped(this.#log.waitForCommit(this.#cursor));
      } catch {
        return; // the log closed or failed: nothing more will arrive
      }
      if (this.#stopped) return;
      const linger = this.#options.lingerMs ?? 0;
      const maxEntries = this.#options.maxBatchEntries ?? 20_000;
      if (linger > 0 && this.#log.committedSeq - this.#cursor < maxEntries) {
        await this.#sleep(linger);
        if (this.#stopped) return;
      }
      const reader = this.#reader as LogReader;
      try {
        const entries = await reader.read(maxEntries, this.#options.maxBatchBytes);
        if (entries.length === 0) {
          // Records are committed after the cursor, yet none could be read: never spin on that.
          throw new Error(`no records readable after ${this.#cursor} though ${this.#log.committedSeq} are committed`);
        }
        await this.#handler.apply(entries);
        this.#advance((entries[entries.length - 1] as LogEntry).seq);
        backoffMs = 50;
      } catch (error) {
        this.#options.onError?.(this.#handler.name, error);
        // Re-read from the cursor: the failed batch was not applied.
        this.#reader = this.#log.reader(this.#cursor + 1);
        // Backoff is real time, not the injectable clock: it paces retries, it is not a cadence of the service.
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
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

  #advance(cursor: number): void {
    this.#cursor = cursor;
    this.#waiters = this.#waiters.filter((w) => {
      if (w.seq > cursor) return true;
      w.resolve();
      return false;
    });
    this.#options.onAdvance?.(this.#handler.name, cursor);
  }
}

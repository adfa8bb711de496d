import type { Clock, TimerHandle } from './clock.ts';
import { DeliveryError } from './errors/delivery-error.ts';
import { RecordRejectedError } from './errors/record-rejected-error.ts';
import type { RecorderError } from './errors/recorder-error.ts';
import { type IngestClient, IngestFailure } from './ingest-client.ts';
import type { Spool, SpoolBatch } from './spool.ts';

/**
 * Sends the spool's sealed batches to opentrail, oldest first, one batch at a time. States: idle (nothing
 * sealed), sending, waiting (a batch failed: it is tried again after a backoff that doubles from
 * `retryBaseDelayMs` up to `retryMaxDelayMs`, with jitter so that many recorders coming back from the same
 * outage do not retry in step) and closed. A batch leaves the spool only when opentrail answered 200, that
 * is once it is durably stored; records opentrail refused one by one (its `Failed` list) are reported and
 * leave with it, since they would be refused again.
 */
export interface ShipperOptions {
  spool: Spool;
  client: IngestClient;
  clock: Clock;
  random: () => number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  onDelivered(count: number): void;
  onRejected(error: RecordRejectedError): void;
  onError(error: RecorderError): void;
}

export class Shipper {
  readonly #o: ShipperOptions;
  #running: Promise<boolean> | undefined;
  #retry: TimerHandle | undefined;
  /** Consecutive failed attempts. */
  #failures = 0;
  #closed = false;

  constructor(options: ShipperOptions) {
    this.#o = options;
  }

  /** A batch is ready: sends it unless a batch is on the wire or a backoff is running. */
  kick(): void {
    if (this.#closed || this.#running !== undefined || this.#retry !== undefined) return;
    void this.#start();
  }

  /** Sends everything sealed now, skipping any backoff; true when nothing sealed is left unsent. */
  async flush(): Promise<boolean> {
    if (this.#closed) return this.#o.spool.stats().sealedRecords === 0;
    this.#retry?.cancel();
    this.#retry = undefined;
    for (;;) {
      if (!(await (this.#running ?? this.#start()))) return false;
      if (this.#o.spool.stats().sealedRecords === 0) return true;
    }
  }

  close(): void {
    this.#closed = true;
    this.#retry?.cancel();
    this.#retry = undefined;
  }

  #start(): Promise<boolean> {
    const run = this.#run().finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  async #run(): Promise<boolean> {
    for (;;) {
      const batch = this.#o.spool.nextBatch();
      if (batch === undefined) return true;
      if (!(await this.#send(batch))) return false;
    }
  }

  async #send(batch: SpoolBatch): Promise<boolean> {
    let records = 0;
    try {
      const { count, chunks } = await this.#o.spool.read(batch);
      records = count;
      const answer = count === 0 ? { failed: [] } : await this.#o.client.putRecords(chunks);
      await this.#o.spool.acknowledge(batch);
      this.#failures = 0;
      const lines = answer.failed.length === 0 ? [] : Buffer.concat(chunks).toString('utf8').split('\n');
      for (const f of answer.failed) {
        this.#o.onRejected(new RecordRejectedError(eventIdOf(lines[f.index]), f.errorCode, f.errorMessage));
      }
      this.#o.onDelivered(count - answer.failed.length);
      return true;
    } catch (error) {
      this.#o.spool.release(batch);
      this.#failures += 1;
      const retryInMs = backoffDelay(this.#failures, this.#o.retryBaseDelayMs, this.#o.retryMaxDelayMs, this.#o.random);
      const failure = error instanceof IngestFailure ? error : undefined;
      this.#o.onError(
        new DeliveryError(
          `${records} records were not delivered (attempt ${this.#failures}, next in ${retryInMs} ms): ${(error as Error).message}`,
          {
            ...(failure?.status !== undefined ? { status: failure.status } : {}),
            ...(failure?.errorType !== undefined ? { errorType: failure.errorType } : {}),
            records,
            attempt: this.#failures,
            retryInMs,
          },
          { cause: error },
        ),
      );
      if (!this.#closed) {
        this.#retry = this.#o.clock.schedule(() => {
          this.#retry = undefined;
          this.kick();
        }, retryInMs);
      }
      return false;
    }
  }
}

/**
 * The wait after the `failures`-th failure in a row: the exponential step `base × 2^(failures-1)`, capped at
 * `max`, of which a random half is waited ("equal jitter": never less than half the step, never in step
 * with other recorders).
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

function eventIdOf(line: string | undefined): string | undefined {
  try {
    const id: unknown = JSON.parse(line ?? '').eventID;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

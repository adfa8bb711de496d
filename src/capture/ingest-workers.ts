import { Worker } from 'node:worker_threads';
import { type CheckedBatch, checkBatch, type RejectedBatch } from './check-batch.ts';
import type { IngestJob } from './ingest-worker.ts';

/**
 * Where ingest bodies are parsed and checked. JSON.parse, the per-record checks and re-serialising are
 * most of the ingest path's CPU; on the main thread they capped acknowledged throughput at about 43,000
 * events/s here, with the main thread saturated. With workers the main thread keeps only HTTP, SigV4 and
 * the log write. With `workers: 0` bodies are checked inline, with the service's injectable id source.
 */
interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not answered yet. */
  jobs: Map<number, { resolve: (r: CheckedBatch | RejectedBatch) => void; reject: (e: Error) => void }>;
}

export class IngestCheckers {
  readonly #slots: Slot[] = [];
  readonly #newEventId: () => string;
  readonly #onWorkerError: (error: unknown) => void;
  #nextId = 0;
  #closed = false;

  private constructor(newEventId: () => string, onWorkerError: (error: unknown) => void) {
    this.#newEventId = newEventId;
    this.#onWorkerError = onWorkerError;
  }

  static async start(
    workers: number,
    newEventId: () => string,
    onWorkerError: (error: unknown) => void,
  ): Promise<IngestCheckers> {
    const checkers = new IngestCheckers(newEventId, onWorkerError);
    try {
      for (let i = 0; i < workers; i++) checkers.#slots.push(await checkers.#spawn());
    } catch (error) {
      await checkers.close();
      throw error;
    }
    return checkers;
  }

  /** Starts a worker running ingest-worker.ts through tsx's loader (workers do not inherit it on Node 20). */
  async #spawn(): Promise<Slot> {
    const entry = new URL('./ingest-worker.ts', import.meta.url).href;
    const worker = new Worker(
      `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`,
      { eval: true },
    );
    worker.unref();
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
    });
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (m: { id: number; result: CheckedBatch | RejectedBatch }) => {
      slot.jobs.get(m.id)?.resolve(m.result);
      slot.jobs.delete(m.id);
    });
    // A worker that dies fails its jobs (the calls answer InternalFailure, nothing was acknowledged)
    // and is replaced.
    worker.on('error', (error) => this.#onWorkerError(error));
    worker.on('exit', () => {
      for (const job of slot.jobs.values()) job.reject(new Error('the ingest worker exited'));
      slot.jobs.clear();
      const i = this.#slots.indexOf(slot);
      if (i >= 0 && !this.#closed) {
        this.#slots.splice(i, 1);
        this.#spawn().then((s) => this.#slots.push(s), this.#onWorkerError);
      }
    });
    return slot;
  }

  check(body: Buffer, accountId: string): Promise<CheckedBatch | RejectedBatch> {
    const slot = this.#slots.reduce<Slot | undefined>(
      (best, s) => (best === undefined || s.jobs.size < best.jobs.size ? s : best),
      undefined,
    );
    if (slot === undefined) return Promise.resolve(checkBatch(body, accountId, this.#newEventId));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject });
      const job: IngestJob = { id, body, accountId };
      slot.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }
}

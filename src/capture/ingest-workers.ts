import { Worker } from 'node:worker_threads';
import { type AuditChannel, type CheckedAuditEvents, checkAuditEvents } from '../lake/audit-batch.ts';
import type { AuditEventInput } from '../lake/channel-audit-event.ts';
import { ServiceError } from '../model/service-error.ts';
import { type CheckedBatch, checkBatch, type RejectedBatch, uncheckedBatch } from './check-batch.ts';
import type { IngestJob, IngestReply } from './ingest-worker.ts';

/**
 * Where ingest bodies (PutRecords) and PutAuditEvents' events are parsed and checked. JSON.parse, the
 * per-record checks and re-serialising are most of the ingest path's CPU; on the main thread they capped
 * acknowledged throughput at about 43,000 events/s here, with the main thread saturated. With workers the
 * main thread keeps only HTTP, SigV4 and the log write. With `workers: 0` they are checked inline, with the
 * service's injectable id source.
 *
 * States: open (each slot's worker answers every job; a worker that dies fails its unanswered jobs with
 * ServiceUnavailableException, and a replacement is started) → closed (`close()`: every worker, running
 * or still starting, is terminated and awaited, and none is started again). Nothing here is durable: a
 * batch is acknowledged only after the log has stored what a worker handed back.
 */
interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not answered yet. */
  jobs: Map<number, { resolve: (r: IngestReply['result']) => void; reject: (e: Error) => void }>;
}

export class IngestCheckers {
  readonly #slots: Slot[] = [];
  /** Workers started but not ready yet, so that `close()` can stop them too. */
  readonly #starting = new Set<Worker>();
  /** Replacements under way; `close()` waits for them. */
  readonly #respawns = new Set<Promise<void>>();
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
    // Started side by side: each loads the sources it runs (the checks), a few tenths of a second of a core.
    const started = await Promise.allSettled(Array.from({ length: workers }, () => checkers.#spawn()));
    for (const s of started) if (s.status === 'fulfilled') checkers.#slots.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      await checkers.close();
      throw failed.reason;
    }
    return checkers;
  }

  /** The running worker threads (not those still starting): for /health-style checks and tests. */
  get threads(): readonly Worker[] {
    return this.#slots.map((s) => s.worker);
  }

  /** Batches sent to a worker and not answered yet. */
  get pendingJobs(): number {
    return this.#slots.reduce((n, s) => n + s.jobs.size, 0);
  }

  /**
   * Starts a worker running ingest-worker.ts through bin/ts-loader.js, as `opentrail` runs the sources (workers
   * do not inherit the parent's loader on Node 20): with tsx's, two workers made a start ~0.2 s slower.
   */
  async #spawn(): Promise<Slot> {
    const entry = new URL('./ingest-worker.ts', import.meta.url).href;
    const loader = new URL('../../bin/ts-loader.js', import.meta.url).href;
    const worker = new Worker(
      // Source maps as in the main thread (bin/opentrail.js): a worker's stack traces name lines of the .ts files.
      `process.setSourceMapsEnabled(true); import('node:module').then(({ register }) => { register(${JSON.stringify(loader)}); return import(${JSON.stringify(entry)}); });`,
      { eval: true },
    );
    worker.unref();
    this.#starting.add(worker);
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        // Terminated by close() while starting: no 'error' and no ready message would ever come.
        worker.once('exit', (code) => reject(new Error(`the ingest worker exited with code ${code} while starting`)));
        worker.once('message', () => resolve());
      });
    } finally {
      this.#starting.delete(worker);
    }
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (m: IngestReply) => {
      const job = slot.jobs.get(m.id);
      slot.jobs.delete(m.id);
      if (m.result.kind === 'fault') {
        job?.reject(new Error(`checking audit events failed in an ingest worker: ${m.result.fault}`));
        return;
      }
      if (m.result.kind === 'rejected' && m.result.fault !== undefined) this.#onWorkerError(m.result.fault);
      job?.resolve(m.result);
    });
    worker.on('error', (error) => this.#onWorkerError(error));
    worker.on('exit', () => this.#lost(slot));
    return slot;
  }

  /**
   * A worker exited: its unanswered batches fail with a retryable error (nothing of them was stored),
   * and, unless the pool is closing, a replacement starts.
   */
  #lost(slot: Slot): void {
    for (const job of slot.jobs.values()) {
      job.reject(
        new ServiceError(
          'ServiceUnavailableException',
          'The worker checking this batch stopped before answering; nothing was stored. Retry the call.',
        ),
      );
    }
    slot.jobs.clear();
    const i = this.#slots.indexOf(slot);
    if (i < 0 || this.#closed) return;
    this.#slots.splice(i, 1);
    const respawn = this.#spawn().then(
      async (replacement) => {
        // close() ran while it started: it must not outlive the pool.
        if (this.#closed) await replacement.worker.terminate();
        else this.#slots.push(replacement);
      },
      (error: unknown) => {
        if (!this.#closed) this.#onWorkerError(error);
      },
    );
    this.#respawns.add(respawn);
    void respawn.finally(() => this.#respawns.delete(respawn));
  }

  /** Checks a body on the least busy worker. The body's memory goes to the worker: do not read it after. */
  async check(body: Buffer, accountId: string): Promise<CheckedBatch | RejectedBatch> {
    const slot = this.#leastBusy();
    if (slot === undefined) return this.#checkInline(body, accountId);
    // The request's body is read by nobody after this: handed over, not copied (~600 KB a batch on the main
    // thread). A body that shares its memory with other buffers is copied.
    const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const job: IngestJob = { id: this.#nextId++, kind: 'records', body, accountId };
    return (await this.#send(slot, job, whole ? [body.buffer as ArrayBuffer] : [])) as CheckedBatch | RejectedBatch;
  }

  /** Checks a PutAuditEvents call's events on the least busy worker (audit-batch.ts); rejects on a fault of ours. */
  async checkAuditEvents(
    events: readonly AuditEventInput[],
    channel: AuditChannel,
    ingestionTime: string,
  ): Promise<CheckedAuditEvents> {
    const slot = this.#leastBusy();
    if (slot === undefined) return checkAuditEvents(events, channel, ingestionTime, this.#newEventId);
    const job: IngestJob = { id: this.#nextId++, kind: 'audit', events, channel, ingestionTime };
    return (await this.#send(slot, job, [])) as CheckedAuditEvents;
  }

  #leastBusy(): Slot | undefined {
    return this.#slots.reduce<Slot | undefined>(
      (best, s) => (best === undefined || s.jobs.size < best.jobs.size ? s : best),
      undefined,
    );
  }

  #send(slot: Slot, job: IngestJob, transfer: ArrayBuffer[]): Promise<IngestReply['result']> {
    return new Promise((resolve, reject) => {
      slot.jobs.set(job.id, { resolve, reject });
      slot.worker.postMessage(job, transfer);
    });
  }

  /** With no worker (none configured, or all being replaced), on the main thread, answering as a worker does. */
  #checkInline(body: Buffer, accountId: string): CheckedBatch | RejectedBatch {
    try {
      return checkBatch(body, accountId, this.#newEventId);
    } catch (error) {
      this.#onWorkerError(error);
      return uncheckedBatch(error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const stopping = [...this.#slots.splice(0).map((s) => s.worker), ...this.#starting];
    await Promise.all(stopping.map((w) => w.terminate()));
    await Promise.all(this.#respawns);
  }
}

/** An ingest worker thread: checks request bodies off the main thread (see ingest-workers.ts). */
import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type CheckedBatch, checkBatch, type RejectedBatch, uncheckedBatch } from './check-batch.ts';

export interface IngestJob {
  id: number;
  body: Uint8Array;
  accountId: string;
}

export interface IngestReply {
  id: number;
  result: CheckedBatch | RejectedBatch;
}

const port = parentPort;
if (port === null) throw new Error('ingest-worker.ts runs as a worker thread');
// Every job is answered: an exception escaping this handler would kill the thread and fail every batch
// queued on it, so whatever checking throws becomes that one batch's answer.
port.on('message', (job: IngestJob) => {
  try {
    const result = checkBatch(job.body, job.accountId, randomUUID);
    const transfer = result.kind === 'checked' ? [result.payload.buffer, result.offsets.buffer] : [];
    port.postMessage({ id: job.id, result } satisfies IngestReply, transfer as ArrayBuffer[]);
  } catch (error) {
    port.postMessage({ id: job.id, result: uncheckedBatch(error) } satisfies IngestReply);
  }
});
port.postMessage({ ready: true });

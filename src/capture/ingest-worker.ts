/** An ingest worker thread: checks request bodies off the main thread (see ingest-workers.ts). */
import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { checkBatch } from './check-batch.ts';

export interface IngestJob {
  id: number;
  body: Uint8Array;
  accountId: string;
}

const port = parentPort;
if (port === null) throw new Error('ingest-worker.ts runs as a worker thread');
port.on('message', (job: IngestJob) => {
  const result = checkBatch(job.body, job.accountId, randomUUID);
  const transfer = result.kind === 'checked' ? [result.payload.buffer, result.offsets.buffer] : [];
  port.postMessage({ id: job.id, result }, transfer as ArrayBuffer[]);
});
port.postMessage({ ready: true });

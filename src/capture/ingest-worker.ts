/** An ingest worker thread: checks request bodies and audit events off the main thread (see ingest-workers.ts). */
import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type AuditChannel, type CheckedAuditEvents, checkAuditEvents } from '../lake/audit-batch.ts';
import type { AuditEventInput } from '../lake/channel-audit-event.ts';
import { type CheckedBatch, checkBatch, type RejectedBatch, uncheckedBatch } from './check-batch.ts';

export type IngestJob =
  /** A PutRecords body. */
  | { id: number; kind: 'records'; body: Uint8Array; accountId: string }
  /** A PutAuditEvents call's events. */
  | { id: number; kind: 'audit'; events: readonly AuditEventInput[]; channel: AuditChannel; ingestionTime: string };

/** What checking audit events threw: a fault of ours (a 500 for the call), not the caller's data. */
export interface CheckFault {
  kind: 'fault';
  fault: string;
}

export interface IngestReply {
  id: number;
  result: CheckedBatch | RejectedBatch | CheckedAuditEvents | CheckFault;
}

const port = parentPort;
if (port === null) throw new Error('ingest-worker.ts runs as a worker thread');
// Every job is answered: an exception escaping this handler would kill the thread and fail every batch
// queued on it, so whatever checking throws becomes that one job's answer.
port.on('message', (job: IngestJob) => {
  try {
    const result =
      job.kind === 'records'
        ? checkBatch(job.body, job.accountId, randomUUID)
        : checkAuditEvents(job.events, job.channel, job.ingestionTime, randomUUID);
    const transfer =
      result.kind === 'checked' || result.kind === 'audit' ? [result.payload.buffer, result.offsets.buffer] : [];
    port.postMessage({ id: job.id, result } satisfies IngestReply, transfer as ArrayBuffer[]);
  } catch (error) {
    const result: IngestReply['result'] =
      job.kind === 'records' ? uncheckedBatch(error) : { kind: 'fault', fault: faultText(error) };
    port.postMessage({ id: job.id, result } satisfies IngestReply);
  }
});
port.postMessage({ ready: true });

function faultText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

import { isUtf8 } from 'node:buffer';
import { type EncodedPayloads, encodePayloads, hasExtraMembers, routingHeader } from '../log/record-payload.ts';
import { checkIngestedRecord, type IngestContext, type RecordVerdict, uncheckableRecord } from './ingest-records.ts';

/**
 * Checks one ingest request body, `{"Records":[…]}`, record by record, and returns the accepted records'
 * JSON as one UTF-8 buffer with offsets: the shape that crosses from an ingest worker to the main thread
 * without copying, and that the log writes without encoding again.
 */
export const MAX_INGEST_RECORDS = 10_000;

/** The accepted records' log payloads (header + JSON), and each record's verdict. */
export interface CheckedBatch extends EncodedPayloads {
  kind: 'checked';
  successful: { Index: number; EventID: string }[];
  failed: { Index: number; ErrorCode: string; ErrorMessage: string }[];
}

/** A body that is not a batch at all: the whole call fails with this AWS error. */
export interface RejectedBatch {
  kind: 'rejected';
  error: 'SerializationException' | 'ValidationException';
  message: string;
  /** Set when checking threw unexpectedly: what threw, for the service's log (never sent to the caller). */
  fault?: string;
}

/** The refusal of a body that is not UTF-8; ImportRecords answers it with the same words. */
export const NOT_UTF8_MESSAGE = 'The request body is not valid UTF-8 text; send records as UTF-8 JSON.';

export function checkBatch(
  body: Uint8Array,
  accountId: string,
  newEventId: () => string,
): CheckedBatch | RejectedBatch {
  // Decoding would put U+FFFD in place of bytes that are not UTF-8, and the record would be stored changed.
  if (!isUtf8(body)) {
    return { kind: 'rejected', error: 'SerializationException', message: NOT_UTF8_MESSAGE };
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    // V8's JSON.parse does not recurse, but a parse that runs out of memory or stack is the body's fault too.
    const message =
      cause instanceof SyntaxError
        ? `The request body is not valid JSON: ${cause.message}`
        : `The request body is too large or too deeply nested to parse (${(cause as Error).message}); send fewer or flatter records.`;
    return { kind: 'rejected', error: 'SerializationException', message };
  }
  const records = (parsed as { Records?: unknown } | null)?.Records;
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray(records)) {
    return {
      kind: 'rejected',
      error: 'SerializationException',
      message: 'The body must be {"Records":[…]}, the shape of a CloudTrail log file.',
    };
  }
  if (records.length > MAX_INGEST_RECORDS) {
    return {
      kind: 'rejected',
      error: 'ValidationException',
      message: `A call takes at most ${MAX_INGEST_RECORDS} records; you sent ${records.length}. Split the batch.`,
    };
  }
  const accepted: { header: string; json: string; extra: boolean }[] = [];
  const successful: CheckedBatch['successful'] = [];
  const failed: CheckedBatch['failed'] = [];
  records.forEach((raw, index) => {
    const verdict = checkRecord(raw, { accountId, newEventId });
    if (verdict.ok) {
      accepted.push({ header: verdict.header, json: verdict.json, extra: hasExtraMembers(verdict.record) });
      successful.push({ Index: index, EventID: verdict.record.eventID });
    } else {
      failed.push({ Index: index, ErrorCode: verdict.errorCode, ErrorMessage: verdict.errorMessage });
    }
  });
  return { kind: 'checked', ...encodePayloads(accepted), successful, failed };
}

/**
 * One record's verdict and routing header. Whatever checking one record throws (JSON.stringify runs out
 * of stack on a member nested 100,000 levels deep) rejects that record alone, never the batch.
 */
function checkRecord(raw: unknown, ctx: IngestContext): (RecordVerdict & { ok: false }) | AcceptedRecord {
  try {
    const verdict = checkIngestedRecord(raw, ctx);
    if (!verdict.ok) return verdict;
    return { ...verdict, header: JSON.stringify(routingHeader(verdict.record)) };
  } catch (error) {
    return uncheckableRecord(raw, error);
  }
}

type AcceptedRecord = RecordVerdict & { ok: true; header: string };

/**
 * The answer for a batch whose check threw (a bug, or a body beyond what the checks could handle): the
 * call fails as a whole, nothing is stored, and `fault` tells the service's log what threw.
 */
export function uncheckedBatch(error: unknown): RejectedBatch {
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    kind: 'rejected',
    error: 'SerializationException',
    message: `The batch could not be checked (${what}); nothing was stored. Send fewer or smaller records.`,
    fault: error instanceof Error ? (error.stack ?? what) : what,
  };
}

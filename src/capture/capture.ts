import type { AppendResult, EventLog } from '../log/event-log.ts';
import { encodePayload } from '../log/record-payload.ts';
import type { CloudTrailRecord } from '../model/record.ts';

/**
 * The one way records enter the durable log: serialised as the JSON CloudTrail delivers, appended as one
 * atomic batch; the promise resolves when the batch is committed (design.md, Capture).
 */
export class Capture {
  readonly #log: EventLog;

  constructor(log: EventLog) {
    this.#log = log;
  }

  append(records: readonly CloudTrailRecord[]): Promise<AppendResult> {
    return this.#log.append(records.map((r) => encodePayload(r, JSON.stringify(r))));
  }

  /** For callers that already hold each record's payload (the ingest API encodes them in a worker). */
  appendPayloads(records: readonly Uint8Array[]): Promise<AppendResult> {
    return this.#log.append(records);
  }
}

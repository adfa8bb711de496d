import type { AppendResult, EventLog } from '../log/event-log.ts';
import { encodePayload } from '../log/record-payload.ts';
import { wellFormedJson } from '../model/lone-surrogate.ts';
import type { CloudTrailRecord } from '../model/record.ts';

/** The one way records enter the durable log, as one atomic batch each (design.md, Capture). */
export class Capture {
  readonly #log: EventLog;

  constructor(log: EventLog) {
    this.#log = log;
  }

  /**
   * The record of a call (one to our own API, or a proxied one), serialised as CloudTrail delivers it.
   * Resolves once it is written, so a crash of the process after the call's answer keeps it; the group's
   * fdatasync follows within SYNC_DELAY_MS. Nobody sent us this record, so no acknowledgement waits for the
   * disk: the caller's answer is what waits, and on AWS the record of a call is not even written before it.
   */
  recordCall(record: CloudTrailRecord): Promise<AppendResult> {
    // A proxied call's members are whatever its caller or upstream sent: a lone surrogate in them becomes
    // U+FFFD, or history and the Lake could not store the record at all.
    const json = wellFormedJson(JSON.stringify(record));
    return this.#log.append([encodePayload(record, json)], { ackWhen: 'written' });
  }

  /**
   * Records sent to us (the ingest APIs; their payloads encoded in a worker). Resolves once they are
   * committed: that is what the caller's acknowledgement promises.
   */
  appendPayloads(records: readonly Uint8Array[]): Promise<AppendResult> {
    return this.#log.append(records);
  }
}

import { type EncodedPayloads, encodePayloads, routingHeader } from '../log/record-payload.ts';
import {
  type AuditEventInput,
  type AuditEventVerdict,
  checkAuditEvent,
  integrationRecord,
} from './channel-audit-event.ts';
import { CHANNEL_DESTINATIONS_MEMBER } from './channel-routing.ts';

/**
 * The events of one PutAuditEvents call checked and made into log payloads: pure (the caller passes the time
 * and the ids), so an ingest worker runs it off the main thread as it checks PutRecords bodies (parsing each
 * eventData, checking it and serialising the record were ~35% of the main thread's time per call).
 */

/** What the events need of their channel; `destinations` are its stores' ids, as the channel stands now. */
export interface AuditChannel {
  arn: string;
  accountId: string;
  region: string;
  destinations: string[];
}

/** The accepted events' log payloads, and each event's verdict. */
export interface CheckedAuditEvents extends EncodedPayloads {
  kind: 'audit';
  successful: { id: string; eventID: string }[];
  failed: { id: string; errorCode: string; errorMessage: string }[];
}

export function checkAuditEvents(
  events: readonly AuditEventInput[],
  channel: AuditChannel,
  ingestionTime: string,
  newEventId: () => string,
): CheckedAuditEvents {
  const successful: CheckedAuditEvents['successful'] = [];
  const failed: CheckedAuditEvents['failed'] = [];
  const items: { header: string; json: string; extra: boolean }[] = [];
  for (const e of events) {
    const accepted = acceptEvent(e, channel, ingestionTime, newEventId);
    if (!accepted.ok) {
      failed.push({ id: e.id, errorCode: accepted.errorCode, errorMessage: accepted.errorMessage });
      continue;
    }
    // The routing header carries the destinations, so the lake consumer delivers to exactly those stores.
    const header = routingHeader(accepted.record) as Record<string, unknown>;
    header[CHANNEL_DESTINATIONS_MEMBER] = channel.destinations;
    items.push({ header: JSON.stringify(header), json: accepted.json, extra: true });
    successful.push({ id: e.id, eventID: accepted.eventId });
  }
  return { kind: 'audit', ...encodePayloads(items), successful, failed };
}

/**
 * One event's record and its JSON, or why it is refused. JSON.stringify runs out of stack on eventData
 * nested a few thousand levels deep, which JSON.parse reads without complaint: that refuses the event
 * alone, never the whole call.
 */
function acceptEvent(
  e: AuditEventInput,
  channel: AuditChannel,
  ingestionTime: string,
  newEventId: () => string,
):
  | { ok: true; eventId: string; record: Record<string, unknown>; json: string }
  | Extract<AuditEventVerdict, { ok: false }> {
  try {
    const verdict = checkAuditEvent(e, channel.accountId);
    if (!verdict.ok) return verdict;
    const eventId = newEventId();
    const record = integrationRecord({
      eventId,
      eventTime: verdict.eventTime,
      region: channel.region,
      accountId: channel.accountId,
      ingestionTime,
      channelArn: channel.arn,
      eventData: verdict.eventData,
    });
    return { ok: true, eventId, record, json: JSON.stringify(record) };
  } catch (error) {
    // Anything else is a fault of ours, for the service's log and a 500, not the caller's data.
    if (!(error instanceof RangeError)) throw error;
    return {
      ok: false,
      errorCode: 'InvalidData',
      errorMessage: `eventData is nested too deeply to store (${error.message}); flatten it.`,
    };
  }
}

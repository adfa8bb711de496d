import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { isoSeconds } from '../model/clock.ts';
import { LONE_SURROGATE_ADVICE, sentLoneSurrogate } from '../model/lone-surrogate.ts';
import { utcFieldsMs } from '../model/utc-time.ts';

/**
 * One PutAuditEvents entry checked against AWS's integration schema (facts §4.5, §8.6) and wrapped into the
 * record CloudTrail stores. Over-limit content is rejected, never truncated; each rejection names AWS's
 * per-event error code. Pure: no clock, no ids (the caller passes them).
 */
export type AuditEventErrorCode =
  | 'FieldTooLong'
  | 'FieldNotFound'
  | 'InvalidChecksum'
  | 'InvalidData'
  | 'InvalidRecipient'
  | 'InvalidEventSource';

export interface AuditEventInput {
  id: string;
  eventData: string;
  eventDataChecksum?: string;
}

export type AuditEventVerdict =
  | { ok: true; eventData: Record<string, unknown>; eventTime: string }
  | { ok: false; errorCode: AuditEventErrorCode; errorMessage: string };

/** The eventVersion AWS gives integration records (the facts do not say; AWS's examples show 0.01). */
export const INTEGRATION_EVENT_VERSION = '0.01';

const KB = 1024;
/** Top-level eventData members: whether required, and the longest string or JSON text allowed. */
const STRINGS: Record<string, { required: boolean; max: number }> = {
  version: { required: true, max: 256 },
  userAgent: { required: false, max: 1024 },
  eventSource: { required: true, max: 1024 },
  eventName: { required: true, max: 1024 },
  eventTime: { required: true, max: 256 },
  UID: { required: true, max: 1024 },
  errorCode: { required: false, max: 256 },
  errorMessage: { required: false, max: 256 },
  sourceIPAddress: { required: false, max: 256 },
  recipientAccountId: { required: true, max: 12 },
};
const JSON_MEMBERS: Record<string, number> = {
  requestParameters: 100 * KB,
  responseElements: 100 * KB,
  additionalEventData: 28 * KB,
};
const IDENTITY_STRINGS: Record<string, number> = { type: 128, principalId: 1024 };

type Failure = Extract<AuditEventVerdict, { ok: false }>;
const fail = (errorCode: AuditEventErrorCode, errorMessage: string): Failure => ({
  ok: false,
  errorCode,
  errorMessage,
});

/** base64 of the SHA-256 of the eventData string's UTF-8 bytes (facts §8.6). */
export function eventDataChecksum(eventData: string): string {
  return createHash('sha256').update(eventData, 'utf8').digest('base64');
}

export function checkAuditEvent(event: AuditEventInput, ownerAccountId: string): AuditEventVerdict {
  if (event.eventDataChecksum !== undefined && event.eventDataChecksum !== eventDataChecksum(event.eventData)) {
    return fail('InvalidChecksum', 'eventDataChecksum is not the base64 SHA-256 of the eventData string.');
  }
  let data: unknown;
  try {
    data = JSON.parse(event.eventData);
  } catch {
    return fail('InvalidData', 'eventData is not valid JSON.');
  }
  if (!isObject(data)) return fail('InvalidData', 'eventData must be a JSON object.');
  if (sentLoneSurrogate(event.eventData, data)) {
    return fail('InvalidData', `A string of eventData ${LONE_SURROGATE_ADVICE}.`);
  }
  const shape = checkShape(data, event.eventData.length);
  if (shape !== undefined) return shape;
  const time = utcTime(data['eventTime'] as string);
  if (Number.isNaN(time)) {
    return fail(
      'InvalidData',
      `eventData.eventTime '${data['eventTime']}' is not a UTC time like 2026-01-01T00:00:00 (yyyy-MM-ddTHH:mm:ss).`,
    );
  }
  const ip = data['sourceIPAddress'];
  if (typeof ip === 'string' && isIP(ip) === 0) {
    return fail('InvalidData', `eventData.sourceIPAddress '${ip}' is not an IPv4 or IPv6 address.`);
  }
  if (data['recipientAccountId'] !== ownerAccountId) {
    return fail(
      'InvalidRecipient',
      `eventData.recipientAccountId must be ${ownerAccountId}, the account that owns the channel.`,
    );
  }
  // Events from outside AWS cannot claim to come from an AWS service (opentrail's rule: AWS names no other).
  if ((data['eventSource'] as string).endsWith('.amazonaws.com')) {
    return fail('InvalidEventSource', `eventData.eventSource ${data['eventSource']} is an AWS service's name.`);
  }
  return { ok: true, eventData: data, eventTime: isoSeconds(time) };
}

/** The integration schema's eventTime: `yyyy-MM-ddTHH:mm:ss` in UTC (facts §8.6), with a `Z` or fraction allowed. */
const EVENT_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3})\d*)?Z?$/;

/** Epoch ms of an eventTime, read as UTC whether or not it ends in `Z`; NaN when it names no real time. */
function utcTime(text: string): number {
  const m = EVENT_TIME.exec(text);
  if (m === null) return Number.NaN;
  return utcFieldsMs(m.slice(1, 7)) + Number((m[7] ?? '').padEnd(3, '0'));
}

/** `textLength` is eventData's length in UTF-16 units: a member's UTF-8 bytes are at most three times it. */
function checkShape(data: Record<string, unknown>, textLength: number): Failure | undefined {
  for (const name of Object.keys(data)) {
    if (!(name in STRINGS) && !(name in JSON_MEMBERS) && name !== 'userIdentity') {
      return fail('InvalidData', `eventData has a member ${name} the integration schema does not define.`);
    }
  }
  const identity = data['userIdentity'];
  if (identity === undefined) return fail('FieldNotFound', 'eventData.userIdentity is required.');
  if (!isObject(identity)) return fail('InvalidData', 'eventData.userIdentity must be an object.');
  for (const name of Object.keys(identity)) {
    if (!(name in IDENTITY_STRINGS) && name !== 'details') {
      return fail('InvalidData', `eventData.userIdentity has a member ${name} the schema does not define.`);
    }
  }
  if (identity['details'] !== undefined && !isObject(identity['details'])) {
    return fail('InvalidData', 'eventData.userIdentity.details must be a JSON object.');
  }
  for (const [name, max] of Object.entries(IDENTITY_STRINGS)) {
    const problem = checkString(identity[name], `userIdentity.${name}`, true, max);
    if (problem !== undefined) return problem;
  }
  for (const [name, rule] of Object.entries(STRINGS)) {
    const problem = checkString(data[name], name, rule.required, rule.max);
    if (problem !== undefined) return problem;
  }
  for (const [name, max] of Object.entries(JSON_MEMBERS)) {
    const value = data[name];
    if (value === undefined || value === null) continue;
    if (!isObject(value)) return fail('InvalidData', `eventData.${name} must be a JSON object.`);
    // Nearly every event is far below the caps: only a text that could hold a member too long is measured.
    if (textLength * 3 > max && Buffer.byteLength(JSON.stringify(value)) > max) {
      return fail('FieldTooLong', `eventData.${name} is longer than ${max / KB} KB.`);
    }
  }
  return undefined;
}

function checkString(value: unknown, name: string, required: boolean, max: number): Failure | undefined {
  if (value === undefined || value === null) {
    return required ? fail('FieldNotFound', `eventData.${name} is required.`) : undefined;
  }
  if (typeof value !== 'string') return fail('InvalidData', `eventData.${name} must be a string.`);
  if (value.length > max) return fail('FieldTooLong', `eventData.${name} is longer than ${max} characters.`);
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The record AWS stores for an accepted event (facts §4.5): CloudTrail's members around the caller's eventData. */
export function integrationRecord(input: {
  eventId: string;
  eventTime: string;
  region: string;
  accountId: string;
  ingestionTime: string;
  channelArn: string;
  eventData: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    eventVersion: INTEGRATION_EVENT_VERSION,
    eventCategory: 'ActivityAuditLog',
    eventType: 'ActivityLog',
    eventID: input.eventId,
    eventTime: input.eventTime,
    awsRegion: input.region,
    recipientAccountId: input.accountId,
    metadata: { ingestionTime: input.ingestionTime, channelARN: input.channelArn },
    eventData: input.eventData,
  };
}

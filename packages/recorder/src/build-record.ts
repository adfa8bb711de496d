import { isoSeconds } from './clock.ts';
import type { CloudTrailRecord, RecordResource, UserIdentity } from './cloudtrail-record.ts';
import { ADDITIONAL_DATA_BYTES, capped, MEMBER_OBJECT_BYTES, truncated } from './request-parameters.ts';

/** The record format version the recorder writes (the current CloudTrail one). */
export const EVENT_VERSION = '1.11';

/** One event as your code or the middleware describes it; `buildRecord` fills in the rest (undefined: absent). */
export interface RecordInput {
  eventName: string;
  userIdentity?: UserIdentity | undefined;
  /** When the request arrived (epoch ms); now by default. */
  eventTimeMs?: number | undefined;
  sourceIPAddress?: string | undefined;
  userAgent?: string | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  requestParameters?: Record<string, unknown> | null | undefined;
  responseElements?: Record<string, unknown> | null | undefined;
  additionalEventData?: Record<string, unknown> | undefined;
  resources?: RecordResource[] | undefined;
  requestID?: string | undefined;
  readOnly?: boolean | undefined;
}

export interface RecordDefaults {
  eventSource: string;
  awsRegion: string;
  now(): number;
  newEventId(): string;
}

/**
 * A management event in the shape the ingest API takes (facts §4.1), members in AWS's order. opentrail
 * fills `recipientAccountId` itself: records always land in the account whose key signed the batch.
 * requestParameters and responseElements are capped when the record is serialised (`recordJson`).
 */
export function buildRecord(input: RecordInput, defaults: RecordDefaults): CloudTrailRecord {
  const eventID = defaults.newEventId();
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: input.userIdentity ?? { type: 'Unknown' },
    eventTime: isoSeconds(input.eventTimeMs ?? defaults.now()),
    eventSource: defaults.eventSource,
    eventName: input.eventName,
    awsRegion: defaults.awsRegion,
    ...(input.sourceIPAddress !== undefined ? { sourceIPAddress: input.sourceIPAddress } : {}),
    ...(input.userAgent !== undefined ? { userAgent: truncated(input.userAgent) } : {}),
    ...(input.errorCode !== undefined ? { errorCode: truncated(input.errorCode) } : {}),
    ...(input.errorMessage !== undefined ? { errorMessage: truncated(input.errorMessage) } : {}),
    requestParameters: input.requestParameters ?? null,
    responseElements: input.responseElements ?? null,
    ...(input.additionalEventData !== undefined ? { additionalEventData: input.additionalEventData } : {}),
    requestID: truncated(input.requestID ?? eventID),
    eventID,
    readOnly: input.readOnly ?? false,
    ...(input.resources !== undefined && input.resources.length > 0 ? { resources: input.resources } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    eventCategory: 'Management',
  };
}

/**
 * The record as the ingest API takes it, requestParameters or responseElements over CloudTrail's 100 KB
 * replaced by a marker (`capped`). Serialised once: only a record long enough to hold such a member (a
 * UTF-16 code unit is at most 3 bytes of UTF-8) has its members measured, and is serialised again.
 * With `buildRecord`, this is the definition of a record's text; `recordText` writes the same text faster.
 */
export function recordJson(record: CloudTrailRecord): string {
  const json = JSON.stringify(record);
  if (json.length * 3 <= ADDITIONAL_DATA_BYTES) return wellFormed(json);
  return wellFormed(
    JSON.stringify({
      ...record,
      requestParameters: capped(record.requestParameters),
      responseElements: capped(record.responseElements),
      ...(record.additionalEventData !== undefined
        ? { additionalEventData: capped(record.additionalEventData, ADDITIONAL_DATA_BYTES) }
        : {}),
    }),
  );
}

const HEAD = `{"eventVersion":${JSON.stringify(EVENT_VERSION)}`;
const TAIL = ',"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management"}';
const UNKNOWN_IDENTITY = ',"userIdentity":{"type":"Unknown"}';

/**
 * `recordJson(buildRecord(input, defaults))`, character for character (a test compares them on generated
 * inputs), written as text: each member is serialised on its own and the fixed ones are constants, so no
 * record object is built, and a member over 100 KB is measured on its own text. It is on every recorded
 * request's path; building the record and serialising it was most of what the recorder cost a request.
 */
export function recordText(input: RecordInput, defaults: RecordDefaults, eventID: string): string {
  let text =
    HEAD +
    (input.userIdentity == null ? UNKNOWN_IDENTITY : member('userIdentity', input.userIdentity)) +
    `,"eventTime":"${isoSeconds(input.eventTimeMs ?? defaults.now())}"` +
    member('eventSource', defaults.eventSource) +
    member('eventName', input.eventName) +
    member('awsRegion', defaults.awsRegion);
  if (input.sourceIPAddress !== undefined) text += member('sourceIPAddress', input.sourceIPAddress);
  if (input.userAgent !== undefined) text += member('userAgent', truncated(input.userAgent));
  if (input.errorCode !== undefined) text += member('errorCode', truncated(input.errorCode));
  if (input.errorMessage !== undefined) text += member('errorMessage', truncated(input.errorMessage));
  text +=
    cappedMember('requestParameters', input.requestParameters) +
    cappedMember('responseElements', input.responseElements);
  if (input.additionalEventData !== undefined) {
    text += cappedMember('additionalEventData', input.additionalEventData, ADDITIONAL_DATA_BYTES);
  }
  text +=
    member('requestID', truncated(input.requestID ?? eventID)) +
    member('eventID', eventID) +
    member('readOnly', input.readOnly ?? false);
  if (input.resources !== undefined && input.resources.length > 0) text += member('resources', input.resources);
  return wellFormed(text + TAIL);
}

/**
 * JSON.stringify writes a lone UTF-16 surrogate (half a pair, from a request body's `"\ud800"`) as an
 * escape, and opentrail refuses a record holding one, which is not Unicode text: each becomes U+FFFD, so
 * the request is still recorded. An escape, not an escaped backslash before `ud800`: an even run before it.
 */
function wellFormed(json: string): string {
  return json.includes('\\ud') ? json.replace(/(?<=(?:^|[^\\])(?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '\\ufffd') : json;
}

/** `,"name":value`, or nothing for a value JSON leaves out of an object (undefined, a function). */
function member(name: string, value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? '' : `,"${name}":${json}`;
}

/** A member object (null when absent), or `capped`'s marker in its place when it is over `limit` bytes of UTF-8. */
function cappedMember(
  name: string,
  members: Record<string, unknown> | null | undefined,
  limit = MEMBER_OBJECT_BYTES,
): string {
  if (members == null) return `,"${name}":null`;
  const json = JSON.stringify(members) as string | undefined;
  if (json === undefined) return '';
  if (json.length * 3 <= limit) return `,"${name}":${json}`;
  const bytes = Buffer.byteLength(json);
  return `,"${name}":${bytes <= limit ? json : JSON.stringify({ truncated: true, originalBytes: bytes })}`;
}

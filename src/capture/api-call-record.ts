import type { Caller } from '../identity/index.ts';
import { isoSeconds } from '../model/clock.ts';
import { type CloudTrailRecord, EVENT_VERSION, type RecordResource } from '../model/record.ts';
import { lowerCamelMembers } from './camel-case.ts';

/** One call to an API opentrail serves, as the service saw it. */
export interface ApiCall {
  caller: Caller;
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  /** The validated request members (wire names); recorded lower-camel. */
  request: Record<string, unknown>;
  /** The response members, for successful non-read-only calls. */
  response?: Record<string, unknown>;
  error?: { code: string; message: string };
  resources?: RecordResource[];
  requestId: string;
  eventId: string;
  timeMs: number;
  sourceIp: string;
  userAgent?: string;
  tls?: { tlsVersion: string; cipherSuite: string; clientProvidedHostHeader: string };
}

/** AWS truncates these record members at 1 KB (facts §4.1). */
const SHORT_FIELD_BYTES = 1024;
/** requestParameters and responseElements are capped at 100 KB (facts §4.1, §11). */
const MEMBER_OBJECT_BYTES = 100 * 1024;

/** The management event AWS would write for the call (facts §4.1, §4.2), key order as in real records. */
export function buildApiCallRecord(call: ApiCall): CloudTrailRecord {
  const p = call.caller.principal;
  const record: CloudTrailRecord = {
    eventVersion: EVENT_VERSION,
    userIdentity: {
      type: p.type,
      principalId: p.principalId,
      arn: p.arn,
      accountId: p.accountId,
      accessKeyId: call.caller.accessKeyId,
      ...(p.userName !== undefined ? { userName: p.userName } : {}),
    },
    eventTime: isoSeconds(call.timeMs),
    eventSource: call.eventSource,
    eventName: call.eventName,
    awsRegion: call.caller.region,
    sourceIPAddress: call.sourceIp,
    ...(call.userAgent !== undefined ? { userAgent: truncate(call.userAgent) } : {}),
    ...(call.error !== undefined
      ? { errorCode: truncate(call.error.code), errorMessage: truncate(call.error.message) }
      : {}),
    requestParameters: capped(call.request),
    // Read-only calls and failures record no response (facts §4.1).
    responseElements: call.readOnly || call.error !== undefined ? null : capped(call.response),
    requestID: call.requestId,
    eventID: call.eventId,
    readOnly: call.readOnly,
    ...(call.resources !== undefined && call.resources.length > 0 ? { resources: call.resources } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: p.accountId,
    eventCategory: 'Management',
    ...(call.tls !== undefined ? { tlsDetails: call.tls } : {}),
  };
  return record;
}

/**
 * A member object as recorded, or null when there is none. JSON cut at 100 KB would not parse, so an
 * oversized member is replaced by a marker that says what happened, rather than cut.
 */
function capped(members: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (members === undefined || Object.keys(members).length === 0) return null;
  const recorded = lowerCamelMembers(members) as Record<string, unknown>;
  const bytes = Buffer.byteLength(JSON.stringify(recorded));
  return bytes <= MEMBER_OBJECT_BYTES ? recorded : { truncated: true, originalBytes: bytes };
}

function truncate(text: string): string {
  if (Buffer.byteLength(text) <= SHORT_FIELD_BYTES) return text;
  return Buffer.from(text)
    .subarray(0, SHORT_FIELD_BYTES)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

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
  /** requestParameters as recorded (see `recordedMembers`); null when the call had none. */
  requestParameters: Record<string, unknown> | null;
  /** responseElements as recorded, for successful non-read-only calls. */
  responseElements?: Record<string, unknown> | null;
  error?: { code: string; message: string };
  resources?: RecordResource[];
  /** A data event (S3 objects, DynamoDB items, ...); management events otherwise. */
  dataEvent?: boolean;
  additionalEventData?: Record<string, unknown>;
  /** The service API's version, for the services whose records carry it. */
  apiVersion?: string;
  requestId: string;
  eventId: string;
  timeMs: number;
  sourceIp: string;
  userAgent?: string;
  tls?: { tlsVersion: string; cipherSuite: string; clientProvidedHostHeader: string };
}

/**
 * Services whose one endpoint is in us-east-1: AWS records their calls there, whatever Region the caller's
 * client is set to (facts §6; every IAM record in the real logs reads us-east-1). Pointed at opentrail, an SDK
 * signs such a call for its own Region. STS is not among them: a call to a Regional STS endpoint is recorded
 * in that Region, and the SDK signs a call to the global one for us-east-1.
 */
const US_EAST_1_SOURCES = new Set([
  'iam.amazonaws.com',
  'cloudfront.amazonaws.com',
  'route53.amazonaws.com',
  'organizations.amazonaws.com',
]);

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
    awsRegion: US_EAST_1_SOURCES.has(call.eventSource) ? 'us-east-1' : call.caller.region,
    sourceIPAddress: call.sourceIp,
    ...(call.userAgent !== undefined ? { userAgent: truncate(call.userAgent) } : {}),
    ...(call.error !== undefined
      ? { errorCode: truncate(call.error.code), errorMessage: truncate(call.error.message) }
      : {}),
    requestParameters: capped(call.requestParameters),
    // Read-only calls and failures record no response (facts §4.1).
    responseElements: call.readOnly || call.error !== undefined ? null : capped(call.responseElements ?? null),
    ...(call.additionalEventData !== undefined ? { additionalEventData: call.additionalEventData } : {}),
    requestID: call.requestId,
    eventID: call.eventId,
    readOnly: call.readOnly,
    ...(call.resources !== undefined && call.resources.length > 0 ? { resources: call.resources } : {}),
    eventType: 'AwsApiCall',
    ...(call.apiVersion !== undefined ? { apiVersion: call.apiVersion } : {}),
    managementEvent: call.dataEvent !== true,
    recipientAccountId: p.accountId,
    eventCategory: call.dataEvent === true ? 'Data' : 'Management',
    ...(call.tls !== undefined ? { tlsDetails: call.tls } : {}),
  };
  return record;
}

/** Members of a JSON API's request or response as CloudTrail records them: lower-camel, or null when none. */
export function recordedMembers(members: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (members === undefined || Object.keys(members).length === 0) return null;
  return lowerCamelMembers(members) as Record<string, unknown>;
}

/**
 * JSON cut at 100 KB would not parse, so an oversized member object is replaced by a marker that says what
 * happened, rather than cut.
 */
function capped(recorded: Record<string, unknown> | null): Record<string, unknown> | null {
  if (recorded === null) return null;
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

import { LONE_SURROGATE_ADVICE, stringifiedLoneSurrogate } from '../model/lone-surrogate.ts';
import { type CloudTrailRecord, EVENT_VERSION, inRecordOrder } from '../model/record.ts';
import { isKnownRegion } from '../model/regions.ts';
import { utcFieldsMs } from '../model/utc-time.ts';

/**
 * Checks one record sent to the ingest API and fills what the service owns (design.md, Capture): the
 * record must look like a delivered CloudTrail record (facts §4.1) and belong to the caller's account.
 * A bad record is rejected alone, with a reason; the others in the batch are kept.
 */
export type RecordVerdict =
  | { ok: true; record: CloudTrailRecord; json: string }
  | { ok: false; errorCode: IngestErrorCode; errorMessage: string };

export type IngestErrorCode =
  | 'InvalidRecord'
  | 'MissingField'
  | 'InvalidFieldType'
  | 'InvalidFieldValue'
  | 'InvalidEventTime'
  | 'FieldTooLarge'
  | 'RecordTooLarge'
  | 'AccountMismatch';

/** AWS caps a whole event at 256 KB (facts §4.1). */
export const MAX_RECORD_BYTES = 256 * 1024;
const KB = 1024;
/** Size caps of single members (facts §11): AWS truncates its own; ours are refused so nothing is cut silently. */
const MEMBER_LIMITS: readonly (readonly [string, number])[] = [
  ['userAgent', KB],
  ['errorCode', KB],
  ['errorMessage', KB],
  ['requestID', KB],
  ['requestParameters', 100 * KB],
  ['responseElements', 100 * KB],
  ['serviceEventDetails', 100 * KB],
  ['additionalEventData', 28 * KB],
  ['edgeDeviceDetails', 28 * KB],
];
const STRING_MEMBERS = [
  'eventVersion',
  'eventTime',
  'eventSource',
  'eventName',
  'awsRegion',
  'sourceIPAddress',
  'userAgent',
  'errorCode',
  'errorMessage',
  'requestID',
  'eventID',
  'eventType',
  'apiVersion',
  'recipientAccountId',
  'sharedEventID',
  'vpcEndpointId',
  'eventCategory',
] as const;
const BOOLEAN_MEMBERS = ['readOnly', 'managementEvent'] as const;
const OBJECT_OR_NULL_MEMBERS = ['requestParameters', 'responseElements'] as const;
const OBJECT_MEMBERS = [
  'userIdentity',
  'additionalEventData',
  'serviceEventDetails',
  'tlsDetails',
  'addendum',
] as const;
const EVENT_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const CATEGORIES = ['Management', 'Data', 'NetworkActivity', 'Insight'];
const MANAGEMENT_TYPES = ['AwsApiCall', 'AwsConsoleAction', 'AwsConsoleSignIn', 'AwsServiceEvent'];

export interface IngestContext {
  accountId: string;
  newEventId(): string;
}

export function checkIngestedRecord(raw: unknown, ctx: IngestContext): RecordVerdict {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail('InvalidRecord', 'A record must be a JSON object.');
  }
  const r = raw as Record<string, unknown>;
  const problem = recordShapeProblem(r) ?? checkRouting(r, ctx);
  if (problem !== undefined) return problem;
  const record = fill(r, ctx);
  // Serialised once, here: the size checks and the log both use this text.
  const json = JSON.stringify(record);
  if (stringifiedLoneSurrogate(json)) return fail('InvalidRecord', `A string of the record ${LONE_SURROGATE_ADVICE}.`);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: records far below the cap (nearly all) are not measured,
  // and checkSizes only needs an upper bound.
  const bound = json.length * 3;
  const size = bound > MAX_RECORD_BYTES ? Buffer.byteLength(json) : bound;
  if (size > MAX_RECORD_BYTES) {
    return fail(
      'RecordTooLarge',
      `The record is ${size} bytes; a CloudTrail event is at most ${MAX_RECORD_BYTES} bytes.`,
    );
  }
  return checkSizes(r, size) ?? { ok: true, record, json };
}

/**
 * What is wrong with a record's shape (member types, required members, their values), whoever sent it and
 * wherever it belongs; undefined when nothing is. Lake imports check records with this alone: imported logs
 * keep the accounts and Region names they were written with (redacted ones included).
 */
export function recordShapeProblem(r: Record<string, unknown>): (RecordVerdict & { ok: false }) | undefined {
  return checkTypes(r) ?? checkRequired(r) ?? checkValues(r);
}

/**
 * The verdict for a record whose check threw: JSON.stringify recurses, so a member nested tens of
 * thousands of levels deep overflows the stack (a RangeError, at a depth that depends on the thread's
 * stack). The message names the member that cannot be serialised, found only now that one has failed.
 */
export function uncheckableRecord(raw: unknown, error: unknown): RecordVerdict & { ok: false } {
  const members = isObject(raw) ? Object.keys(raw) : [];
  const culprit = members.find((m) => !serialisable((raw as Record<string, unknown>)[m]));
  if (error instanceof RangeError) {
    return {
      ok: false,
      errorCode: 'InvalidRecord',
      errorMessage: `${culprit ?? 'The record'} is nested too deeply to store (${error.message}); flatten it.`,
    };
  }
  const what = error instanceof Error ? error.message : String(error);
  return { ok: false, errorCode: 'InvalidRecord', errorMessage: `The record could not be checked: ${what}.` };
}

/** Whether JSON.stringify can write the value (it recurses: a value nested deep enough overflows its stack). */
export function serialisable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

function fail(errorCode: IngestErrorCode, errorMessage: string): RecordVerdict & { ok: false } {
  return { ok: false, errorCode, errorMessage };
}

function checkTypes(r: Record<string, unknown>): (RecordVerdict & { ok: false }) | undefined {
  for (const m of STRING_MEMBERS) {
    if (r[m] !== undefined && typeof r[m] !== 'string') return fail('InvalidFieldType', `${m} must be a string.`);
  }
  for (const m of BOOLEAN_MEMBERS) {
    if (r[m] !== undefined && typeof r[m] !== 'boolean') return fail('InvalidFieldType', `${m} must be true or false.`);
  }
  for (const m of OBJECT_OR_NULL_MEMBERS) {
    if (r[m] !== undefined && r[m] !== null && !isObject(r[m])) {
      return fail('InvalidFieldType', `${m} must be a JSON object or null.`);
    }
  }
  for (const m of OBJECT_MEMBERS) {
    if (r[m] !== undefined && !isObject(r[m])) return fail('InvalidFieldType', `${m} must be a JSON object.`);
  }
  if (r['resources'] !== undefined) {
    const resources = r['resources'];
    if (
      !Array.isArray(resources) ||
      !resources.every((x) => isObject(x) && stringMembers(x, ['ARN', 'accountId', 'type']))
    ) {
      return fail('InvalidFieldType', 'resources must be a list of objects with string ARN, accountId and type.');
    }
  }
  return undefined;
}

function checkRequired(r: Record<string, unknown>): (RecordVerdict & { ok: false }) | undefined {
  const insight = r['eventType'] === 'AwsCloudTrailInsight';
  // Insights records carry no caller, event source or name at the top level (facts §4.4).
  const required = insight
    ? ['eventVersion', 'eventTime', 'awsRegion']
    : ['eventVersion', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'userIdentity'];
  const missing = required.filter((m) => r[m] === undefined || r[m] === '');
  if (missing.length > 0) return fail('MissingField', `The record has no ${missing.join(', ')}.`);
  return undefined;
}

function checkValues(r: Record<string, unknown>): (RecordVerdict & { ok: false }) | undefined {
  const time = r['eventTime'] as string;
  const m = EVENT_TIME.exec(time);
  if (m === null || !validDate(m)) {
    return fail('InvalidEventTime', `eventTime '${time}' must be UTC in the form YYYY-MM-DDTHH:MM:SSZ.`);
  }
  if (!/^\d+\.\d+$/.test(r['eventVersion'] as string)) {
    return fail('InvalidFieldValue', `eventVersion '${r['eventVersion']}' must look like ${EVENT_VERSION}.`);
  }
  const category = r['eventCategory'];
  if (category !== undefined && !CATEGORIES.includes(category as string)) {
    return fail('InvalidFieldValue', `eventCategory must be one of ${CATEGORIES.join(', ')}.`);
  }
  const eventId = r['eventID'];
  if (eventId !== undefined && ((eventId as string).length === 0 || (eventId as string).length > 128)) {
    return fail('InvalidFieldValue', 'eventID must be 1-128 characters.');
  }
  return undefined;
}

/** Where a record goes: a real Region (it picks trails and shadow trails), and the caller's own account. */
function checkRouting(r: Record<string, unknown>, ctx: IngestContext): RecordVerdict | undefined {
  if (!REGION.test(r['awsRegion'] as string)) {
    return fail('InvalidFieldValue', `awsRegion '${r['awsRegion']}' is not a Region name like us-east-1.`);
  }
  // A record of a Region opentrail does not answer in could never be looked up (its requests are refused).
  if (!isKnownRegion(r['awsRegion'] as string)) {
    return fail(
      'InvalidFieldValue',
      `awsRegion '${r['awsRegion']}' is not a Region opentrail serves; use one of AWS's commercial Regions, such as us-east-1.`,
    );
  }
  const recipient = r['recipientAccountId'];
  if (recipient !== undefined && recipient !== ctx.accountId) {
    return fail(
      'AccountMismatch',
      `recipientAccountId ${String(recipient)} is not your account ${ctx.accountId}; records can only be written to the caller's account.`,
    );
  }
  return undefined;
}

/** `recordBytes` is the record's size or an upper bound of it. */
function checkSizes(r: Record<string, unknown>, recordBytes: number): RecordVerdict | undefined {
  for (const [member, limit] of MEMBER_LIMITS) {
    const v = r[member];
    if (v === undefined || v === null) continue;
    // A member cannot be larger than the record, nor a string larger than 3 bytes a UTF-16 unit: skip
    // measuring what cannot be over its limit.
    if (typeof v === 'string' ? v.length * 3 <= limit : recordBytes <= limit) continue;
    const bytes = typeof v === 'string' ? Buffer.byteLength(v) : Buffer.byteLength(JSON.stringify(v));
    if (bytes > limit) return fail('FieldTooLarge', `${member} is ${bytes} bytes; the limit is ${limit} bytes.`);
  }
  return undefined;
}

/**
 * Fills the members the service owns; the caller's own values are kept where they are valid. The parsed
 * request object is ours, so it is completed in place: a copy per record was a measurable share of
 * ingest's garbage-collection time.
 */
function fill(r: Record<string, unknown>, ctx: IngestContext): CloudTrailRecord {
  const eventType = (r['eventType'] as string | undefined) ?? 'AwsApiCall';
  // Records written before eventCategory existed (2021) tell a data event by managementEvent: false alone.
  const eventCategory =
    (r['eventCategory'] as string | undefined) ??
    (eventType === 'AwsCloudTrailInsight' ? 'Insight' : r['managementEvent'] === false ? 'Data' : 'Management');
  r['eventID'] ??= ctx.newEventId();
  r['eventType'] = eventType;
  if (r['managementEvent'] === undefined && MANAGEMENT_TYPES.includes(eventType)) {
    r['managementEvent'] = eventCategory === 'Management';
  }
  r['recipientAccountId'] = ctx.accountId;
  r['eventCategory'] = eventCategory;
  return inRecordOrder(r) as CloudTrailRecord;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stringMembers(o: Record<string, unknown>, names: string[]): boolean {
  return names.every((n) => o[n] === undefined || o[n] === null || typeof o[n] === 'string');
}

function validDate(m: RegExpExecArray): boolean {
  return !Number.isNaN(utcFieldsMs(m.slice(1, 7)));
}

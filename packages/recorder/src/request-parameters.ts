import { HIDDEN } from './cloudtrail-record.ts';
import { isRedacted, redact, setMember } from './redact.ts';

/** CloudTrail caps requestParameters and responseElements at 100 KB (facts §4.1, §11). */
export const MEMBER_OBJECT_BYTES = 100 * 1024;
/** And additionalEventData at 28 KB (facts §4.1): opentrail refuses a record with more. */
export const ADDITIONAL_DATA_BYTES = 28 * 1024;

/**
 * requestParameters as recorded: the query string, then the JSON body's members, then the path parameters
 * (they name the resource, so they win a clash), each redacted; null when the request had none. A JSON array
 * body is kept under `body`; a body parsed as text or bytes is not recorded, since no member name marks its
 * secrets for redaction. Over 100 KB they are replaced by a marker when the record is serialised
 * (`recordText`), which measures their text then.
 */
export function requestParameters(
  parts: { query: URLSearchParams | undefined; body: unknown; params: Record<string, string> },
  redacted: ReadonlySet<string>,
): Record<string, unknown> | null {
  const members: Record<string, unknown> = {};
  if (parts.query !== undefined) {
    for (const key of new Set(parts.query.keys())) {
      const values = parts.query.getAll(key);
      put(members, key, values.length === 1 ? values[0] : values, redacted);
    }
  }
  if (isPlainObject(parts.body)) {
    for (const key of Object.keys(parts.body)) put(members, key, parts.body[key], redacted);
  } else if (Array.isArray(parts.body)) {
    put(members, 'body', parts.body, redacted);
  }
  for (const key of Object.keys(parts.params)) put(members, key, parts.params[key], redacted);
  return Object.keys(members).length === 0 ? null : members;
}

function put(members: Record<string, unknown>, key: string, value: unknown, redacted: ReadonlySet<string>): void {
  // Depth 1: the members object is the root, as the proxy counts.
  setMember(members, key, isRedacted(key, redacted) ? HIDDEN : redact(value, redacted, 1));
}

/**
 * JSON cut at 100 KB would not parse, so an oversized member object is replaced by a marker that says what
 * happened, as opentrail does for its own records.
 */
export function capped(
  members: Record<string, unknown> | null,
  limit = MEMBER_OBJECT_BYTES,
): Record<string, unknown> | null {
  if (members === null) return null;
  const bytes = Buffer.byteLength(JSON.stringify(members));
  return bytes <= limit ? members : { truncated: true, originalBytes: bytes };
}

/** CloudTrail truncates userAgent, errorCode, errorMessage and requestID at 1 KB (facts §4.1). */
export function truncated(text: string, maxBytes = 1024): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most texts need not be measured.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text)
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/**
 * CloudTrail records request members with their first letter lowered (`S3BucketName` → `s3BucketName`,
 * `LookupAttributes[].AttributeKey` → `lookupAttributes[].attributeKey`), as the real records show.
 * Dates are written as AWS's records write them (`recordedDate`). Nesting deeper than any CloudTrail request is
 * cut off, so no input can make recording overflow the stack.
 */
export const MAX_RECORDED_DEPTH = 32;
/** What stands in for a value nested deeper than MAX_RECORDED_DEPTH. */
export const TOO_DEEP = '(nested too deep to record)';

export function lowerCamelMembers(value: unknown, depth = 0): unknown {
  if (value instanceof Date) return recordedDate(value);
  if (depth >= MAX_RECORDED_DEPTH && value !== null && typeof value === 'object') return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => lowerCamelMembers(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      ownMember(out, k.charAt(0).toLowerCase() + k.slice(1), lowerCamelMembers(v, depth + 1));
    }
    return out;
  }
  return value;
}

/**
 * Sets a member under a name a caller chose, always as the object's own member: an assignment to
 * `__proto__` would replace the object's prototype instead (and the member would vanish from the record).
 */
export function ownMember<T>(target: Record<string | number, unknown>, name: string | number, value: T): T {
  Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  return value;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A timestamp member of a request or response as CloudTrail records it: Java's default date text, in UTC, to
 * the second (`Oct 26, 2025, 11:50:52 PM`). A real LookupEvents record's startTime reads so, as do Secrets
 * Manager's deletionDate, STS's expiration and IAM's createDate in the real logs.
 */
export function recordedDate(date: Date): string {
  const hours = date.getUTCHours();
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ` +
    `${hours % 12 === 0 ? 12 : hours % 12}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`
  );
}

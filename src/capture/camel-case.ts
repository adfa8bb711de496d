import { ownMember } from '../model/own-member.ts';

/**
 * CloudTrail records request members with their first letter lowered (`S3BucketName` → `s3BucketName`,
 * `LookupAttributes[].AttributeKey` → `lookupAttributes[].attributeKey`), as the real records show.
 * Dates are written as AWS's records write them (`recordedDate`). Nesting deeper than any CloudTrail request is
 * cut off, so no input can make recording overflow the stack.
 */
export const MAX_RECORDED_DEPTH = 32;
/** What stands in for a value nested deeper than MAX_RECORDED_DEPTH. */
export const TOO_DEEP = '(nested too deep to record)';

const NO_MAPS: ReadonlySet<string> = new Set();

/**
 * `maps` names the members that are maps: their keys are the caller's (tag keys, attribute names), kept as
 * sent, while the values under them are walked as members again.
 */
export function lowerCamelMembers(value: unknown, maps: ReadonlySet<string> = NO_MAPS): unknown {
  const walk = (v: unknown, depth: number, keys: 'members' | 'kept'): unknown => {
    if (v instanceof Date) return recordedDate(v);
    if (depth >= MAX_RECORDED_DEPTH && v !== null && typeof v === 'object') return TOO_DEEP;
    if (Array.isArray(v)) return v.map((e) => walk(e, depth + 1, keys));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, member] of Object.entries(v)) {
      const name = keys === 'kept' ? k : lowerFirst(k);
      ownMember(out, name, walk(member, depth + 1, keys === 'members' && maps.has(k) ? 'kept' : 'members'));
    }
    return out;
  };
  return walk(value, 0, 'members');
}

/** A member name as CloudTrail writes it: `TableName` → `tableName`. */
export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
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

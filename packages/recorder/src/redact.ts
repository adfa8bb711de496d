import { HIDDEN } from './cloudtrail-record.ts';

/** Nesting deeper than this is recorded as TOO_DEEP, as opentrail records its own calls and proxied ones. */
const MAX_DEPTH = 32;
const TOO_DEEP = '(nested too deep to record)';

/**
 * A copy of `value` in which every member named in `names` (compared case-insensitively, at any depth,
 * inside arrays too) is replaced by CloudTrail's `HIDDEN_DUE_TO_SECURITY_REASONS`. A body nested thousands
 * of levels deep (JSON.parse reads one) is cut at MAX_DEPTH: walking or serialising it would run out of
 * stack, and the request would go unrecorded.
 */
export function redact(value: unknown, names: ReadonlySet<string>, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => redact(v, names, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    setMember(out, key, isRedacted(key, names) ? HIDDEN : redact(v, names, depth + 1));
  }
  return out;
}

/**
 * Whether a member's value is hidden: its name is in `names`, or one of its parts is, as query strings name
 * nested members (`auth[token]`, `user.password`, `password[]`).
 */
export function isRedacted(key: string, names: ReadonlySet<string>): boolean {
  const lower = key.toLowerCase();
  if (names.has(lower)) return true;
  return /[[.]/.test(lower) && lower.split(/[[\].]+/).some((part) => names.has(part));
}

/**
 * Sets a member whose name a client chose as the object's own: assigning to `__proto__` would replace the
 * object's prototype instead, and the member would be missing from the record.
 */
export function setMember(target: Record<string, unknown>, name: string, value: unknown): void {
  // Only `__proto__` assigns anything but an own member; defining every member cost a request about 1 µs.
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

/** The set `redact` takes, from the names as configured. */
export function redactionSet(names: readonly string[]): ReadonlySet<string> {
  return new Set(names.map((n) => n.toLowerCase()));
}

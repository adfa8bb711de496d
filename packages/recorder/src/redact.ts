import { HIDDEN } from './cloudtrail-record.ts';

/**
 * A copy of `value` in which every member named in `names` (compared case-insensitively, at any depth,
 * inside arrays too) is replaced by CloudTrail's `HIDDEN_DUE_TO_SECURITY_REASONS`.
 */
export function redact(value: unknown, names: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, names));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = names.has(key.toLowerCase()) ? HIDDEN : redact(v, names);
  }
  return out;
}

/** The set `redact` takes, from the names as configured. */
export function redactionSet(names: readonly string[]): ReadonlySet<string> {
  return new Set(names.map((n) => n.toLowerCase()));
}

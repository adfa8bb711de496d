import { ServiceError } from '../model/service-error.ts';
import type { ServiceModel, Shape, ShapeRef } from './model/service-model.ts';

/**
 * Checks a decoded JSON request against the operation's input shape, as AWS's request layer does before
 * an operation runs: wrong JSON types are `SerializationException`; missing required members and values
 * outside the model's length, range, pattern and enum constraints are `ValidationException`, listing every
 * violation with its member path (`lookupAttributes.1.member.attributeValue`). Timestamps become `Date`s;
 * explicit `null`s are dropped, as AWS treats them as absent; unknown members are ignored, as AWS does.
 */
export interface Violation {
  /** Model member names from the root, e.g. `['LookupAttributes', '1', 'AttributeValue']`. */
  members: string[];
  text: string;
}

export function validateInput(
  model: ServiceModel,
  shapeName: string | undefined,
  input: unknown,
): { value: Record<string, unknown>; violations: Violation[] } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ServiceError('SerializationException', 'The request body must be a JSON object.');
  }
  if (shapeName === undefined) return { value: {}, violations: [] };
  const violations: Violation[] = [];
  const value = walk(model, { shape: shapeName }, input, [], violations) as Record<string, unknown>;
  return { value, violations };
}

/** AWS's validation message: `1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: …`. */
export function validationMessage(violations: Violation[]): string {
  const count = violations.length;
  const head = `${count} validation error${count === 1 ? '' : 's'} detected: `;
  return head + violations.map((v) => v.text).join('; ');
}

/** Coral's member path: lower-camel member names, list items as `N.member` (1-based). */
function memberPath(members: string[]): string {
  const parts: string[] = [];
  for (const m of members) {
    if (/^\d+$/.test(m)) parts.push(m, 'member');
    else parts.push(m.charAt(0).toLowerCase() + m.slice(1));
  }
  return parts.join('.');
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `'${value.length > 80 ? `${value.slice(0, 80)}…` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return `'${value}'`;
  return `'${boundedJson(value)}'`;
}

/** The start of a list's or object's JSON; one nested too deep to serialise is named by its type instead. */
function boundedJson(value: unknown): string {
  try {
    return JSON.stringify(value).slice(0, 80);
  } catch {
    return jsonType(value);
  }
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function mismatch(path: string[], expected: string, value: unknown): ServiceError {
  const where = path.length === 0 ? 'the request' : `'${memberPath(path)}'`;
  return new ServiceError(
    'SerializationException',
    `Expected ${expected} at ${where}, but found ${jsonType(value)}; send ${expected} there.`,
  );
}

const patternCache = new Map<string, RegExp>();
function compiledPattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    // Model patterns are Java regexes matched in full; `(?s)` becomes JavaScript's dotAll flag.
    const dotAll = pattern.startsWith('(?s)');
    re = new RegExp(`^(?:${dotAll ? pattern.slice(4) : pattern})$`, dotAll ? 'su' : 'u');
    patternCache.set(pattern, re);
  }
  return re;
}

function codePointLength(s: string): number {
  // Surrogate pairs count once, as in AWS's character counts.
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

function walk(model: ServiceModel, ref: ShapeRef, value: unknown, path: string[], out: Violation[]): unknown {
  const shape = model.shapes[ref.shape];
  if (shape === undefined) throw new Error(`model has no shape ${ref.shape}`);
  switch (shape.type) {
    case 'structure':
      return walkStructure(model, shape, value, path, out);
    case 'list': {
      if (!Array.isArray(value)) throw mismatch(path, 'a list', value);
      checkSize(shape, value.length, 'length', out, path, value);
      const member = shape.member as ShapeRef;
      return value.map((item, i) => {
        if (item === null) throw mismatch([...path, String(i + 1)], 'a value', item);
        return walk(model, member, item, [...path, String(i + 1)], out);
      });
    }
    case 'map': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw mismatch(path, 'a map', value);
      const entries = Object.entries(value);
      checkSize(shape, entries.length, 'length', out, path, value);
      const result: Record<string, unknown> = {};
      for (const [k, v] of entries) {
        walk(model, shape.key as ShapeRef, k, [...path, k], out);
        result[k] = walk(model, shape.value as ShapeRef, v, [...path, k], out);
      }
      return result;
    }
    case 'string': {
      if (typeof value !== 'string') throw mismatch(path, 'a string', value);
      // Counted only when bounded: eventData-like strings are long and most have no bounds.
      if (shape.min !== undefined || shape.max !== undefined)
        checkSize(shape, codePointLength(value), 'length', out, path, value);
      if (shape.pattern !== undefined && !compiledPattern(shape.pattern).test(value)) {
        violation(out, path, value, `Member must satisfy regular expression pattern: ${shape.pattern}`);
      }
      if (shape.enum !== undefined && !shape.enum.includes(value)) {
        violation(out, path, value, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw mismatch(path, 'a boolean (true or false)', value);
      return value;
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw mismatch(path, 'an integer', value);
      checkSize(shape, value, 'value', out, path, value);
      return value;
    case 'float':
    case 'double':
      if (typeof value !== 'number') throw mismatch(path, 'a number', value);
      checkSize(shape, value, 'value', out, path, value);
      return value;
    case 'timestamp':
      return parseTimestamp(value, path, (constraint) => violation(out, path, value, constraint));
    case 'blob':
      if (typeof value !== 'string') throw mismatch(path, 'a base64 string', value);
      return value;
  }
}

function violation(out: Violation[], path: string[], value: unknown, constraint: string): void {
  out.push({
    members: path,
    text: `Value ${describe(value)} at '${memberPath(path)}' failed to satisfy constraint: ${constraint}`,
  });
}

function walkStructure(
  model: ServiceModel,
  shape: Shape,
  value: unknown,
  path: string[],
  out: Violation[],
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw mismatch(path, 'an object', value);
  const input = value as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const v = input[name];
    if (v === undefined || v === null) continue;
    result[name] = walk(model, ref, v, [...path, name], out);
  }
  for (const name of shape.required ?? []) {
    if (result[name] === undefined) {
      out.push({
        members: [...path, name],
        text: `Value null at '${memberPath([...path, name])}' failed to satisfy constraint: Member must not be null`,
      });
    }
  }
  return result;
}

function checkSize(
  shape: Shape,
  size: number,
  what: 'length' | 'value',
  out: Violation[],
  path: string[],
  value: unknown,
): void {
  if (shape.min !== undefined && size < shape.min) {
    violation(out, path, value, `Member must have ${what} greater than or equal to ${shape.min}`);
  }
  if (shape.max !== undefined && size > shape.max) {
    violation(out, path, value, `Member must have ${what} less than or equal to ${shape.max}`);
  }
}

/**
 * The times a timestamp member can hold: a JavaScript Date's range, ±100,000,000 days from 1970 (years
 * -271821 to 275760), in epoch seconds. Also well inside what DuckDB's TIMESTAMP holds.
 */
const MAX_TIMESTAMP_SECONDS = 8_640_000_000_000;

/**
 * Epoch seconds as sent by the SDKs (integer or fractional); ISO-8601 text is accepted defensively (facts §1.4).
 * A value that is no time at all is a SerializationException; a number outside the range a time can take
 * (1e20, -1e20, or 1e400, which JSON.parse makes Infinity) is a constraint violation, so an operation can
 * answer it with its own error (LookupEvents: InvalidTimeRangeException). The value is then kept as sent.
 */
function parseTimestamp(value: unknown, path: string[], fail: (constraint: string) => void): unknown {
  let ms: number;
  if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') ms = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  else throw mismatch(path, 'a timestamp in epoch seconds', value);
  if (Number.isNaN(ms)) {
    throw new ServiceError(
      'SerializationException',
      `Value ${describe(value)} at '${memberPath(path)}' is not a timestamp; send epoch seconds or ISO-8601 text.`,
    );
  }
  if (!(Math.abs(ms) <= MAX_TIMESTAMP_SECONDS * 1000)) {
    fail(
      `Member must be a time between -${MAX_TIMESTAMP_SECONDS} and ${MAX_TIMESTAMP_SECONDS} epoch seconds (years -271821 to 275760)`,
    );
    return value;
  }
  return new Date(ms);
}

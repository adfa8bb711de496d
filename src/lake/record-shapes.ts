/**
 * The shapes CloudTrail records are kept in on disk, for `opentrail import` (facts §8.5 and the real logs'
 * README): a delivered log file (`{"Records":[…]}`), a JSON array of records, NDJSON (one record per line),
 * and LookupEvents output, whose entries carry the record as the `CloudTrailEvent` string (`{"Events":[…]}`,
 * an array of entries, or one entry per line). Records exported by Logstash, with `@timestamp` in place of
 * `eventTime`, are read leniently: the timestamp becomes eventTime and Logstash's own members are dropped.
 */
export class RecordShapeError extends Error {
  override readonly name = 'RecordShapeError';
}

export function recordsOfText(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let values: unknown[];
  try {
    const whole: unknown = JSON.parse(trimmed);
    values = Array.isArray(whole) ? whole : [whole];
  } catch (error) {
    // Not one JSON value: NDJSON, one value per line.
    values = trimmed.split(/\r?\n/).flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line)];
      } catch {
        throw new RecordShapeError(
          `neither JSON nor NDJSON: line ${i + 1} does not parse (${(error as Error).message})`,
        );
      }
    });
  }
  return values.flatMap(unwrap).map(lenient);
}

/** A delivered file or LookupEvents answer yields its records; a LookupEvents entry its CloudTrailEvent. */
function unwrap(value: unknown): unknown[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [value];
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Records'])) return v['Records'];
  if (Array.isArray(v['Events'])) return v['Events'].flatMap(unwrap);
  if (typeof v['CloudTrailEvent'] === 'string') {
    try {
      return [JSON.parse(v['CloudTrailEvent'])];
    } catch (error) {
      throw new RecordShapeError(`a CloudTrailEvent string is not JSON (${(error as Error).message})`);
    }
  }
  return [value];
}

function lenient(record: unknown): unknown {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return record;
  const r = record as Record<string, unknown>;
  const stamp = r['@timestamp'];
  if (r['eventTime'] !== undefined || typeof stamp !== 'string') return record;
  const time = Date.parse(stamp);
  if (Number.isNaN(time)) return record;
  const { '@timestamp': _stamp, '@version': _version, ...rest } = r;
  return { ...rest, eventTime: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

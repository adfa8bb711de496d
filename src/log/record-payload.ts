import { RECORD_MEMBER_ORDER } from '../model/record.ts';

/**
 * A record's payload in the log: a small routing header, then the record's JSON exactly as it will be
 * delivered. Consumers that only decide where a record goes (trail delivery at 50,000 records/s) parse the
 * ~200-byte header instead of the whole ~1.3 KB record, and copy the record's bytes without touching them.
 *
 *   mark | header length (u32 LE) | header JSON | record JSON
 *
 * The mark is 0x01, or 0x02 when the record has top-level members besides RECORD_MEMBER_ORDER's: event
 * history keeps those in a column of their own, and working that out costs DuckDB a second parse of the
 * record, which most records (none of the SDKs', ingest's or the proxy's usual ones) never need.
 * A payload that starts with `{` is a bare record (the format before headers); readers accept all three.
 */
export interface RoutingHeader {
  eventCategory?: string;
  eventSource?: string;
  eventName?: string;
  eventType?: string;
  eventTime?: string;
  readOnly?: boolean;
  managementEvent?: boolean;
  recipientAccountId?: string;
  awsRegion?: string;
  errorCode?: string;
  sessionCredentialFromConsole?: string;
  vpcEndpointId?: string;
  userIdentity?: { arn?: string };
  resources?: unknown[];
  /** Only the members routing reads: S3's bucketName and key, CloudTrail's trail name. */
  requestParameters?: { bucketName?: unknown; key?: unknown; name?: unknown };
}

const HEADER_MARK = 0x01;
const HEADER_MARK_WITH_EXTRA = 0x02;
const hasHeader = (payload: Buffer) => payload[0] === HEADER_MARK || payload[0] === HEADER_MARK_WITH_EXTRA;
const ORDERED_MEMBERS: ReadonlySet<string> = new Set(RECORD_MEMBER_ORDER);

/** True when the record has a top-level member event history has no column for. */
export function hasExtraMembers(record: Record<string, unknown>): boolean {
  for (const name in record) if (!ORDERED_MEMBERS.has(name)) return true;
  return false;
}

/** Whether a payload's record may have members beyond the typed ones (bare records: unknown, so yes). */
export function mayHaveExtraMembers(payload: Buffer): boolean {
  return payload[0] !== HEADER_MARK;
}
const ROUTED_MEMBERS = [
  'eventCategory',
  'eventSource',
  'eventName',
  'eventType',
  'eventTime',
  'readOnly',
  'managementEvent',
  'recipientAccountId',
  'awsRegion',
  'errorCode',
  'sessionCredentialFromConsole',
  'vpcEndpointId',
  'resources',
] as const;

export function routingHeader(record: Record<string, unknown>): RoutingHeader {
  const header: Record<string, unknown> = {};
  for (const m of ROUTED_MEMBERS) if (record[m] !== undefined) header[m] = record[m];
  const arn = (record['userIdentity'] as { arn?: unknown } | undefined)?.arn;
  if (typeof arn === 'string') header['userIdentity'] = { arn };
  const params = record['requestParameters'] as Record<string, unknown> | null | undefined;
  if (params) {
    const picked: Record<string, unknown> = {};
    for (const k of ['bucketName', 'key', 'name']) if (params[k] !== undefined) picked[k] = params[k];
    if (Object.keys(picked).length > 0) header['requestParameters'] = picked;
  }
  return header as RoutingHeader;
}

/** Bytes of header and record for one record, as `encodeInto` would write them. */
export function payloadLength(headerJson: string, recordJson: string): number {
  return 5 + Buffer.byteLength(headerJson) + Buffer.byteLength(recordJson);
}

/** At least `payloadLength`, without reading the strings: a UTF-16 code unit is at most 3 UTF-8 bytes. */
export function maxPayloadLength(headerJson: string, recordJson: string): number {
  return 5 + 3 * (headerJson.length + recordJson.length);
}

/** Writes one payload into `target` at `offset`; returns the offset after it. */
export function encodeInto(
  target: Buffer,
  offset: number,
  headerJson: string,
  recordJson: string,
  extraMembers: boolean,
): number {
  target[offset] = extraMembers ? HEADER_MARK_WITH_EXTRA : HEADER_MARK;
  const headerBytes = target.write(headerJson, offset + 5, 'utf8');
  target.writeUInt32LE(headerBytes, offset + 1);
  return offset + 5 + headerBytes + target.write(recordJson, offset + 5 + headerBytes, 'utf8');
}

/** Payloads back to back: payload i is bytes [offsets[i], offsets[i + 1]); both transferable to another thread. */
export interface EncodedPayloads {
  payload: Uint8Array;
  offsets: Uint32Array;
}

/**
 * Payloads written back to back into one buffer. The buffer is sized for the worst case (a UTF-16 code unit
 * is at most 3 UTF-8 bytes), so no string is measured before it is written, and has its own ArrayBuffer (not
 * Node's shared pool), so it can be transferred to another thread. One buffer for a batch: a buffer apiece
 * (too big for the pool) cost more than the encoding.
 */
export function encodePayloads(items: readonly { header: string; json: string; extra: boolean }[]): EncodedPayloads {
  let bound = 0;
  for (const item of items) bound += maxPayloadLength(item.header, item.json);
  const buffer = Buffer.allocUnsafeSlow(bound);
  const offsets = new Uint32Array(items.length + 1);
  let end = 0;
  for (const [i, item] of items.entries()) {
    offsets[i] = end;
    end = encodeInto(buffer, end, item.header, item.json, item.extra);
  }
  offsets[items.length] = end;
  return { payload: new Uint8Array(buffer.buffer, 0, end), offsets };
}

/** The payloads of `encodePayloads` as separate views, ready for the log. */
export function payloadViews({ payload, offsets }: EncodedPayloads): Uint8Array[] {
  const views: Uint8Array[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) {
    views.push(payload.subarray(offsets[i] as number, offsets[i + 1] as number));
  }
  return views;
}

export function encodePayload(record: Record<string, unknown>, recordJson: string): Buffer {
  const headerJson = JSON.stringify(routingHeader(record));
  const out = Buffer.allocUnsafe(payloadLength(headerJson, recordJson));
  encodeInto(out, 0, headerJson, recordJson, hasExtraMembers(record));
  return out;
}

/** The record's JSON bytes of a payload (a view, not a copy). */
export function recordBytes(payload: Buffer): Buffer {
  if (!hasHeader(payload)) return payload;
  return payload.subarray(5 + payload.readUInt32LE(1));
}

/** The routing header of a payload; for a bare record, the record itself (which holds every routed member). */
export function readHeader(payload: Buffer): RoutingHeader {
  if (!hasHeader(payload)) return JSON.parse(payload.toString('utf8')) as RoutingHeader;
  return JSON.parse(payload.toString('utf8', 5, 5 + payload.readUInt32LE(1))) as RoutingHeader;
}

/**
 * The routing header of a payload, or undefined for a bare record that is not JSON: with no header and no
 * record to read one from, nothing can route it, and consumers step over it rather than fail on it.
 */
export function routableHeader(payload: Buffer): RoutingHeader | undefined {
  try {
    return readHeader(payload);
  } catch {
    return undefined;
  }
}

const CATEGORY_FIRST = Buffer.from('{"eventCategory":"');
const QUOTE = 0x22;

/**
 * The eventCategory a payload's header carries; undefined for a bare record, which has no header to read.
 * `routingHeader` puts eventCategory first, so the category is read in place: event history asks this of
 * every record, and parsing each header cost the main thread more than the rest of its check.
 */
export function headerCategory(payload: Buffer): string | undefined {
  if (!hasHeader(payload)) return undefined;
  const start = 5 + CATEGORY_FIRST.length;
  if (payload.compare(CATEGORY_FIRST, 0, CATEGORY_FIRST.length, 5, start) === 0) {
    const end = payload.indexOf(QUOTE, start);
    // Categories are plain words; anything escaped is left to the parser.
    if (end > start && payload.lastIndexOf(0x5c, end) < start) return payload.toString('latin1', start, end);
  }
  return readHeader(payload).eventCategory;
}

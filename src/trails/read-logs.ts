import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { MINUTE_MS } from '../model/clock.ts';
import { utcFieldsMs } from '../model/utc-time.ts';
import { isObjectStoreError, type ObjectReader } from '../objectstore/readers.ts';

/**
 * Reads delivered log files back out of a bucket (facts §4.3, §5.1): every `{"Records":[…]}` file under a
 * prefix, gzipped (as CloudTrail and opentrail deliver them) or plain (as real exported logs often are), in key
 * order. Files are told apart by their names alone, so logs copied out of their date folders still read, and
 * digests (`_CloudTrail-Digest_`) never do. A file that cannot be read is reported, never skipped silently.
 */
export interface ReadLogsOptions {
  /** Keep files whose name's minute (`YYYYMMDDTHHmmZ`, the delivery time rounded up) ends after this (epoch ms). */
  startMs?: number | undefined;
  /** Keep files whose name's minute starts at or before this (epoch ms). */
  endMs?: number | undefined;
  /** Also read Insights files (`_CloudTrail-Insight_`). */
  insights?: boolean | undefined;
  /** Only keys after this one (a resumed reading goes on after the last file it finished). */
  startAfter?: string | undefined;
  /** Called with each key just before it is read. */
  onFile?: ((key: string) => void) | undefined;
  /**
   * Called for a file that does not gunzip or is not `{"Records":[{…}…]}`; reading goes on with the next file.
   * Without it such a file ends the reading with a LogFileReadError, so none is ever skipped unnoticed.
   */
  onError?: ((key: string, reason: string) => void) | undefined;
}

export interface DeliveredLogFile {
  key: string;
  records: Record<string, unknown>[];
}

/** The parts of a log file's name: `<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique16>.json[.gz]`. */
export interface LogFileName {
  accountId: string;
  region: string;
  /** The minute in the name (epoch ms): the delivery time, rounded up. */
  timeMs: number;
  insights: boolean;
}

export class LogFileReadError extends Error {
  override readonly name = 'LogFileReadError';
  readonly key: string;

  constructor(key: string, reason: string) {
    super(`${key}: ${reason}`);
    this.key = key;
  }
}

const LOG_FILE_NAME =
  /(?:^|\/)(\d{12})_(CloudTrail|CloudTrail-Insight)_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[A-Za-z0-9]{16}\.json(?:\.gz)?$/;
/** Files read ahead of the one being yielded: S3 round trips overlap, memory stays bounded. */
const READ_AHEAD = 8;
const gunzipAsync = promisify(gunzip);

/** The name's parts when `key` names a log (or Insights) file, else undefined. */
export function parseLogFileKey(key: string): LogFileName | undefined {
  const m = LOG_FILE_NAME.exec(key);
  if (m === null) return undefined;
  const [, accountId = '', kind, region = ''] = m;
  const timeMs = utcFieldsMs(m.slice(4, 9));
  if (Number.isNaN(timeMs)) return undefined;
  return { accountId, region, timeMs, insights: kind === 'CloudTrail-Insight' };
}

export function readDeliveredLogs(
  store: ObjectReader,
  bucket: string,
  prefix: string,
  options: ReadLogsOptions = {},
): AsyncGenerator<DeliveredLogFile> {
  return readLogFiles(store, bucket, logFileKeys(store, bucket, prefix, options), options);
}

/** Reads the given log files in their order, as `readDeliveredLogs` reads the files it lists. */
export async function* readLogFiles(
  store: ObjectReader,
  bucket: string,
  keys: AsyncIterable<string> | Iterable<string>,
  options: Pick<ReadLogsOptions, 'onFile' | 'onError'> = {},
): AsyncGenerator<DeliveredLogFile> {
  const pending: { key: string; read: Promise<Parsed> }[] = [];
  const listed = (Symbol.asyncIterator in keys ? keys[Symbol.asyncIterator]() : keys[Symbol.iterator]()) as
    | AsyncIterator<string>
    | Iterator<string>;
  let next = await listed.next();
  for (;;) {
    while (pending.length < READ_AHEAD && next.done !== true) {
      const key = next.value;
      const read = readLogFile(store, bucket, key);
      // Rejections (store failures) surface when the file's turn comes, not as unhandled ones meanwhile.
      read.catch(() => undefined);
      pending.push({ key, read });
      next = await listed.next();
    }
    const file = pending.shift();
    if (file === undefined) return;
    options.onFile?.(file.key);
    const parsed = await file.read;
    if ('records' in parsed) {
      yield { key: file.key, records: parsed.records };
    } else if (options.onError !== undefined) {
      options.onError(file.key, parsed.error);
    } else {
      throw new LogFileReadError(file.key, parsed.error);
    }
  }
}

/** The keys of the log files under a prefix that `readDeliveredLogs` reads, in key order (names and window only). */
export async function* logFileKeys(
  store: ObjectReader,
  bucket: string,
  prefix: string,
  options: ReadLogsOptions,
): AsyncGenerator<string> {
  let startAfter = options.startAfter;
  for (;;) {
    const page = await store.listObjects(bucket, {
      ...(prefix !== '' ? { prefix } : {}),
      ...(startAfter !== undefined ? { startAfter } : {}),
    });
    for (const { key } of page.objects) {
      const name = parseLogFileKey(key);
      if (name === undefined || (name.insights && options.insights !== true)) continue;
      if (options.startMs !== undefined && name.timeMs + MINUTE_MS <= options.startMs) continue;
      if (options.endMs !== undefined && name.timeMs > options.endMs) continue;
      yield key;
    }
    if (!page.isTruncated || page.nextStartAfter === undefined) return;
    startAfter = page.nextStartAfter;
  }
}

type Parsed = { records: Record<string, unknown>[] } | { error: string };

async function readLogFile(store: ObjectReader, bucket: string, key: string): Promise<Parsed> {
  let bytes: Uint8Array;
  try {
    bytes = (await store.getObject(bucket, key)).body;
  } catch (error) {
    // Listed, then deleted (or a failed file named again by a retried import): that file's problem alone.
    if (isObjectStoreError(error, 'NoSuchKey')) return { error: 'the file no longer exists' };
    throw error;
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (error) {
      return { error: `not a valid gzip file (${(error as Error).message})` };
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  const records = (parsed as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return { error: 'not a CloudTrail log file ({"Records":[…]})' };
  const bad = records.findIndex((r) => typeof r !== 'object' || r === null || Array.isArray(r));
  if (bad !== -1) return { error: `Records[${bad}] is not an object` };
  return { records: records as Record<string, unknown>[] };
}

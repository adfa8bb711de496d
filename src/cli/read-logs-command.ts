import { parseArgs } from 'node:util';
import { isObjectStoreError, type ObjectReader, openObjectReader } from '../objectstore/readers.ts';
import { readDeliveredLogs } from '../trails/read-logs.ts';
import { type CliIo, UsageError } from './io.ts';

/**
 * `opentrail read-logs s3://bucket/prefix`: every record of the log files delivered under the prefix, one
 * JSON object per line (NDJSON) on stdout, read from the local store or an S3 endpoint. A file that cannot be
 * read is named on stderr and makes the exit code 1; the others are still printed.
 */
export function readLogsUsage(): string {
  return [
    '  opentrail read-logs s3://BUCKET[/PREFIX] [--start-time T] [--end-time T] [--data-dir DIR | --s3-endpoint URL]',
    '      print the records of delivered log files as NDJSON',
  ].join('\n');
}

/** Where objects are read from: the local store of a data directory, or an S3-compatible endpoint. */
export const STORE_OPTIONS = {
  'data-dir': { type: 'string' },
  's3-endpoint': { type: 'string' },
} as const;

/**
 * A reader of the object store the flags name. S3 credentials come from OPENTRAIL_S3_ACCESS_KEY_ID/
 * _SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; its Region from AWS_REGION/
 * AWS_DEFAULT_REGION, else us-east-1.
 */
export function objectReaderFor(
  values: { 'data-dir'?: string | undefined; 's3-endpoint'?: string | undefined },
  io: CliIo,
): Promise<ObjectReader> {
  const endpoint = values['s3-endpoint'];
  if (endpoint === undefined) return openObjectReader({ dataDir: values['data-dir'] ?? './data' });
  if (values['data-dir'] !== undefined) throw new UsageError('give --data-dir or --s3-endpoint, not both');
  const own = io.env['OPENTRAIL_S3_ACCESS_KEY_ID'] && io.env['OPENTRAIL_S3_SECRET_ACCESS_KEY'];
  const accessKeyId = own ? io.env['OPENTRAIL_S3_ACCESS_KEY_ID'] : io.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = own ? io.env['OPENTRAIL_S3_SECRET_ACCESS_KEY'] : io.env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError(
      '--s3-endpoint needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or OPENTRAIL_S3_ACCESS_KEY_ID and OPENTRAIL_S3_SECRET_ACCESS_KEY)',
    );
  }
  const region = io.env['AWS_REGION'] || io.env['AWS_DEFAULT_REGION'] || 'us-east-1';
  return openObjectReader({ dataDir: '.', s3: { endpoint, region, accessKeyId, secretAccessKey } });
}

/**
 * A time flag as the AWS CLI takes one: epoch seconds, or ISO 8601 (`2026-01-08T05:21:42Z`, a date alone, a
 * space for the `T`); a time without a zone is UTC. Epoch milliseconds.
 */
export function parseTimeFlag(flag: string, text: string): number {
  const trimmed = text.trim();
  if (/^\d{8}$/.test(trimmed))
    return parseTimeFlag(flag, `${trimmed.slice(0, 4)}-${trimmed.slice(4, 6)}-${trimmed.slice(6)}`);
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  let iso = trimmed.replace(' ', 'T');
  if (/^\d{8}T\d{4,6}Z?$/.test(iso)) iso = compactToIso(iso);
  if (/T/.test(iso) && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z';
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso) || Number.isNaN(ms)) {
    throw new UsageError(
      `--${flag}: ${JSON.stringify(text)} is not a time (ISO 8601, e.g. 2026-01-08T05:21:42Z, or epoch seconds)`,
    );
  }
  return ms;
}

/** `20260108T0521Z` / `20260108T052142Z`, the layout of CloudTrail's file names. */
function compactToIso(s: string): string {
  const secs = s.length >= 15 ? s.slice(13, 15) : '00';
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${secs}Z`;
}

/** `s3://bucket/prefix` → bucket and prefix (the prefix as given, possibly empty). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (m === null) throw new UsageError(`expected s3://BUCKET[/PREFIX], not ${JSON.stringify(url)}`);
  return { bucket: m[1] ?? '', prefix: m[2] ?? '' };
}

export async function readLogsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...STORE_OPTIONS, 'start-time': { type: 'string' }, 'end-time': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('read-logs needs one s3://BUCKET[/PREFIX]');
  const { bucket, prefix } = parseS3Url(positionals[0] as string);
  const startMs = values['start-time'] === undefined ? undefined : parseTimeFlag('start-time', values['start-time']);
  const endMs = values['end-time'] === undefined ? undefined : parseTimeFlag('end-time', values['end-time']);
  const store = await objectReaderFor(values, io);
  let failed = 0;
  try {
    const files = readDeliveredLogs(store, bucket, prefix, {
      startMs,
      endMs,
      onError: (key, reason) => {
        failed++;
        io.stderr.write(`opentrail read-logs: s3://${bucket}/${key}: ${reason}\n`);
      },
    });
    for await (const file of files) {
      const lines: string[] = [];
      for (const [index, record] of file.records.entries()) {
        try {
          lines.push(JSON.stringify(record));
        } catch (error) {
          // JSON.stringify recurses: a record nested deeper than its stack is reported, and the others written.
          if (!(error instanceof RangeError)) throw error;
          failed++;
          io.stderr.write(
            `opentrail read-logs: s3://${bucket}/${file.key}: Records[${index}] is nested too deeply to write\n`,
          );
        }
      }
      if (lines.length > 0) await write(io.stdout, `${lines.join('\n')}\n`);
    }
  } catch (error) {
    // A bucket that is missing or refuses reads ends the command; a bad file does not.
    if (!isObjectStoreError(error)) throw error;
    io.stderr.write(`opentrail read-logs: ${error.message}\n`);
    return 1;
  } finally {
    store.close();
  }
  return failed === 0 ? 0 : 1;
}

/** Writes with backpressure, so piping a large bucket into `head` or a slow consumer holds little memory. */
function write(stream: CliIo['stdout'], text: string): Promise<void> {
  if (stream.write(text)) return Promise.resolve();
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}

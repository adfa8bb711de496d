import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { SingleBar } from 'cli-progress';
import { INGEST_TARGET_PREFIX } from '../api/ingest-api.ts';
import { CLIENT_OPTIONS, clientFor } from './client-options.ts';
import { type CliIo, UsageError } from './io.ts';

/**
 * `opentrail ingest FILE…`: sends CloudTrail log files (`{"Records":[…]}`, gzipped or not) to a running
 * server's ingest API in batches, with a progress bar on a terminal and a summary at the end.
 */
const BATCH_RECORDS = 1000;

export async function ingestCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CLIENT_OPTIONS },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError('ingest needs at least one file');
  const client = clientFor(INGEST_TARGET_PREFIX, values, io);
  const files = await Promise.all(positionals.map(async (path) => ({ path, records: await readRecords(path) })));
  const total = files.reduce((n, f) => n + f.records.length, 0);
  const bar = io.stderr.isTTY ? new SingleBar({ format: 'ingest [{bar}] {value}/{total} records' }) : undefined;
  bar?.start(total, 0);
  let accepted = 0;
  let rejected = 0;
  for (const file of files) {
    for (let i = 0; i < file.records.length; i += BATCH_RECORDS) {
      const batch = file.records.slice(i, i + BATCH_RECORDS);
      const result = await client.call<{
        Successful: unknown[];
        Failed: { Index: number; ErrorCode: string; ErrorMessage: string }[];
      }>('PutRecords', { Records: batch });
      accepted += result.Successful.length;
      rejected += result.Failed.length;
      for (const f of result.Failed) {
        io.stderr.write(`${file.path}: record ${i + f.Index}: ${f.ErrorCode}: ${f.ErrorMessage}\n`);
      }
      bar?.increment(batch.length);
    }
  }
  bar?.stop();
  io.stdout.write(`${accepted} records accepted, ${rejected} rejected, from ${files.length} file(s)\n`);
  return rejected === 0 ? 0 : 1;
}

async function readRecords(path: string): Promise<unknown[]> {
  let bytes = await readFile(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const records = (parsed as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) throw new UsageError(`${path} is not a CloudTrail log file ({"Records":[…]})`);
  return records;
}

import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { INGEST_TARGET_PREFIX } from '../api/ingest-api.ts';
import { CLIENT_OPTIONS, clientFor } from './client-options.ts';
import { type CliIo, UsageError } from './io.ts';
import { FileProblem, readRecordText, sendWritable, TOO_DEEP_TO_SEND } from './record-files.ts';

/**
 * `opentrail ingest FILE…`: sends CloudTrail log files (`{"Records":[…]}`, gzipped or not) to a running
 * server's ingest API in batches, with a progress bar on a terminal and a summary at the end.
 */
const BATCH_RECORDS = 1000;
/** Characters of records a call sends at most: the ingest API takes bodies up to 32 MiB. */
const BATCH_CHARS = 8 * 1024 * 1024;

export async function ingestCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CLIENT_OPTIONS },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError('ingest needs at least one file');
  const client = clientFor(INGEST_TARGET_PREFIX, values, io);
  // A file that cannot be read is named and passed over; the others are still sent.
  const files: { path: string; records: unknown[] }[] = [];
  let badFiles = 0;
  for (const path of positionals) {
    try {
      files.push({ path, records: await readRecords(path) });
    } catch (error) {
      if (!(error instanceof FileProblem)) throw error;
      badFiles++;
      io.stderr.write(`${path}: ${error.message}\n`);
    }
  }
  const total = files.reduce((n, f) => n + f.records.length, 0);
  const bar = io.stderr.isTTY ? new SingleBar({ format: 'ingest [{bar}] {value}/{total} records' }) : undefined;
  bar?.start(total, 0);
  let accepted = 0;
  let rejected = 0;
  for (const file of files) {
    for (const batch of batchesOf(file.records)) {
      const result = await sendWritable(
        batch,
        (b) => b.record,
        (items) =>
          client.call<{
            Successful: unknown[];
            Failed: { Index: number; ErrorCode: string; ErrorMessage: string }[];
          }>('PutRecords', { Records: items.map((b) => b.record) }),
        (b) => {
          rejected++;
          io.stderr.write(`${file.path}: record ${b.at}: ${TOO_DEEP_TO_SEND}\n`);
        },
      );
      if (result !== undefined) {
        accepted += result.answer.Successful.length;
        rejected += result.answer.Failed.length;
        for (const f of result.answer.Failed) {
          io.stderr.write(`${file.path}: record ${result.sent[f.Index]?.at}: ${f.ErrorCode}: ${f.ErrorMessage}\n`);
        }
      }
      bar?.increment(batch.length);
    }
  }
  bar?.stop();
  io.stdout.write(
    `${accepted} records accepted, ${rejected} rejected, from ${files.length} file(s)${badFiles > 0 ? `; ${badFiles} file(s) could not be read` : ''}\n`,
  );
  return rejected === 0 && badFiles === 0 ? 0 : 1;
}

/** A file's records in calls of at most BATCH_RECORDS and BATCH_CHARS, each with its place in the file. */
function* batchesOf(records: readonly unknown[]): Generator<{ at: number; record: unknown }[]> {
  let batch: { at: number; record: unknown }[] = [];
  let chars = 0;
  for (const [at, record] of records.entries()) {
    const size = textLength(record);
    if (batch.length > 0 && (batch.length >= BATCH_RECORDS || chars + size > BATCH_CHARS)) {
      yield batch;
      batch = [];
      chars = 0;
    }
    batch.push({ at, record });
    chars += size;
  }
  if (batch.length > 0) yield batch;
}

/** A record's JSON length; 0 for one too deep to write, which sendWritable reports on its own. */
function textLength(record: unknown): number {
  try {
    return JSON.stringify(record)?.length ?? 0;
  } catch {
    return 0;
  }
}

async function readRecords(path: string): Promise<unknown[]> {
  const text = await readRecordText(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FileProblem(`is not JSON: ${(error as Error).message}`);
  }
  const records = (parsed as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) throw new FileProblem('is not a CloudTrail log file ({"Records":[…]})');
  return records;
}

import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { INGEST_TARGET_PREFIX } from '../api/ingest-api.ts';
import { RecordShapeError, recordsOfText } from '../lake/record-shapes.ts';
import { CLIENT_OPTIONS, clientFor } from './client-options.ts';
import { type CliIo, UsageError } from './io.ts';
import { FileProblem, filesUnder, readRecordText, sendWritable, TOO_DEEP_TO_SEND } from './record-files.ts';

/**
 * `opentrail import PATH… --event-data-store STORE`: imports CloudTrail records from files on this machine
 * (folders are walked) into an event data store of a running server, each eventID once. Reads delivered log
 * files, JSON arrays, NDJSON and LookupEvents output, gzipped or not (src/lake/record-shapes.ts); shows a
 * progress bar on a terminal and a summary at the end. A file that does not parse, and each record that is
 * not a CloudTrail record, is named on stderr and makes the exit code 1; the others are still imported.
 */
export function importUsage(): string {
  return [
    '  opentrail import PATH… --event-data-store ARN|ID [--endpoint-url URL] [--region R]',
    '      import CloudTrail records from files and folders into an event data store',
  ].join('\n');
}

/** Records per call, and their text at most (estimated from their file): well inside the server's body limit. */
const BATCH_RECORDS = 2000;
const BATCH_CHARS = 8 * 1024 * 1024;
/** Files a synced bucket holds beside its logs: digests and Insights events are not records to import. */
const NOT_LOGS = /_CloudTrail-(Digest|Insight)_/;
/** Lines about bad records printed per file before they are only counted. */
const SHOWN_PER_FILE = 5;

interface ImportAnswer {
  Imported: number;
  Duplicates: number;
  Failed: { Index: number; ErrorCode: string; ErrorMessage: string }[];
}

export async function importCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CLIENT_OPTIONS, 'event-data-store': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const store = values['event-data-store'];
  if (store === undefined) throw new UsageError('import needs --event-data-store, the ARN or id of the store to fill');
  if (positionals.length === 0) throw new UsageError('import needs at least one file or folder');
  const client = clientFor(INGEST_TARGET_PREFIX, values, io);
  const totals = { imported: 0, duplicates: 0, rejected: 0, badFiles: 0, files: 0 };
  const files = await filesUnder(
    positionals,
    (path, why) => {
      totals.badFiles++;
      io.stderr.write(`${path}: ${why}\n`);
    },
    (name) => NOT_LOGS.test(name),
  );
  const totalBytes = files.reduce((n, f) => n + f.bytes, 0);
  const bar = io.stderr.isTTY
    ? new SingleBar({
        format: 'import [{bar}] {percentage}% | {files} files | {imported} events | ETA {eta_formatted}',
        stream: io.stderr,
      })
    : undefined;
  bar?.start(totalBytes, 0, { files: 0, imported: 0 });
  // Records of several small files share a call; each keeps its file and position for the error lines.
  let pending: { path: string; index: number; record: unknown }[] = [];
  let pendingChars = 0;
  const shown = new Map<string, number>();
  const reject = (at: { path: string; index: number }, message: string) => {
    const count = (shown.get(at.path) ?? 0) + 1;
    shown.set(at.path, count);
    if (count <= SHOWN_PER_FILE) io.stderr.write(`\n${at.path}: record ${at.index + 1}: ${message}\n`);
  };
  const send = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingChars = 0;
    const result = await sendWritable(
      batch,
      (p) => p.record,
      (items) =>
        client.call<ImportAnswer>('ImportRecords', { EventDataStore: store, Records: items.map((p) => p.record) }),
      (at) => {
        totals.rejected++;
        reject(at, TOO_DEEP_TO_SEND);
      },
    );
    if (result === undefined) return;
    const { sent, answer } = result;
    totals.imported += answer.Imported;
    totals.duplicates += answer.Duplicates;
    totals.rejected += answer.Failed.length;
    for (const f of answer.Failed) {
      const at = sent[f.Index];
      if (at !== undefined) reject(at, f.ErrorMessage);
    }
  };
  for (const file of files) {
    let records: unknown[];
    let text: string;
    try {
      text = await readRecordText(file.path);
      records = recordsOfText(text);
    } catch (error) {
      if (!(error instanceof RecordShapeError) && !(error instanceof FileProblem)) throw error;
      totals.badFiles++;
      io.stderr.write(`\n${file.path}: ${(error as Error).message}\n`);
      bar?.increment(file.bytes);
      continue;
    }
    const charsEach = records.length === 0 ? 0 : text.length / records.length;
    for (const [index, record] of records.entries()) {
      if (pending.length > 0 && pendingChars + charsEach > BATCH_CHARS) await send();
      pending.push({ path: file.path, index, record });
      pendingChars += charsEach;
      if (pending.length >= BATCH_RECORDS) await send();
    }
    totals.files++;
    bar?.increment(file.bytes, { files: totals.files, imported: totals.imported });
  }
  await send();
  for (const [path, count] of shown) {
    if (count > SHOWN_PER_FILE) io.stderr.write(`${path}: ${count - SHOWN_PER_FILE} more records rejected\n`);
  }
  bar?.stop();
  io.stdout.write(
    `${totals.imported} events imported, ${totals.duplicates} already in the store, ${totals.rejected} records rejected, from ${totals.files} file(s)${totals.badFiles > 0 ? `; ${totals.badFiles} file(s) could not be read` : ''}\n`,
  );
  return totals.rejected === 0 && totals.badFiles === 0 ? 0 : 1;
}

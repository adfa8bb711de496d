/**
 * Lake import benchmark (issue 5): gzipped delivered log files in AWS's layout, in a bucket folder of the
 * local store, imported by StartImport into an empty event data store of the server started as `npm start`
 * starts it. End to end: list, read, gunzip, parse, check, de-duplicate and store. Figure: events/s from
 * StartImport to COMPLETED (GetImport polled every 100 ms), the median of the rounds, each into a new store.
 * Target ≥ 50,000. Beside it, the same files taken in by DuckDB alone (engineOnly), in two steps timed apart:
 * splitting the gunzipped files into records (the import does this in JavaScript, with its checks), and
 * storing those records in the Lake's typed columns, which is the storage engine's share of an import.
 * Run: npm run bench:import [-- --events 500000 --rounds 3]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CloudTrailClient,
  CreateEventDataStoreCommand,
  GetImportCommand,
  StartImportCommand,
} from '@aws-sdk/client-cloudtrail';
import { ROW_GROUP_ROWS } from '../src/lake/import-writer.ts';
import { insertImportBatch } from '../src/lake/lake-table.ts';
import { Database, inTransaction } from '../src/store/database.ts';
import { FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS, startChildServer } from '../test/helpers/child-server.ts';
import { RecordGenerator } from './lib/records.ts';
import { median, report } from './lib/stats.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '3' } },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
/** Records per file: a busy account's 5-minute file. */
const PER_FILE = 2500;
const TARGET = 50_000;

const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-bench-import-'));
try {
  const gen = new RecordGenerator(FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID);
  const account = FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID;
  const start = Date.UTC(2026, 10, 1);
  let bytes = 0;
  const files: Buffer[] = [];
  for (let first = 0, f = 0; first < EVENTS; first += PER_FILE, f++) {
    const time = new Date(start + f * 5 * 60_000);
    const records = Array.from({ length: Math.min(PER_FILE, EVENTS - first) }, (_, i) =>
      gen.record(time.getTime() - (PER_FILE - i) * 100),
    );
    const iso = time.toISOString();
    const folder = join(
      dataDir,
      'buckets',
      'bench-import',
      'AWSLogs',
      account,
      'CloudTrail',
      'us-east-1',
      iso.slice(0, 4),
      iso.slice(5, 7),
      iso.slice(8, 10),
    );
    const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
    await mkdir(folder, { recursive: true });
    const body = gzipSync(JSON.stringify({ Records: records }));
    bytes += body.length;
    files.push(body);
    await writeFile(
      join(folder, `${account}_CloudTrail_us-east-1_${stamp}_${String(f).padStart(16, '0')}.json.gz`),
      body,
    );
  }
  console.log(
    `${EVENTS.toLocaleString('en-US')} events in ${Math.ceil(EVENTS / PER_FILE)} files, ${(bytes / 1e6).toFixed(1)} MB gzipped`,
  );

  const server = await startChildServer(dataDir);
  const rates: number[] = [];
  try {
    const ct = new CloudTrailClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: FIXED_ADMIN_CREDENTIALS,
    });
    for (let round = 0; round < ROUNDS; round++) {
      const store = await ct.send(
        new CreateEventDataStoreCommand({ Name: `import-${round}`, StartIngestion: false, RetentionPeriod: 3653 }),
      );
      const t0 = performance.now();
      const { ImportId } = await ct.send(
        new StartImportCommand({
          Destinations: [store.EventDataStoreArn as string],
          ImportSource: {
            S3: {
              S3LocationUri: 's3://bench-import/AWSLogs/',
              S3BucketRegion: 'us-east-1',
              S3BucketAccessRoleArn: `arn:aws:iam::${account}:role/import`,
            },
          },
        }),
      );
      let got = await ct.send(new GetImportCommand({ ImportId }));
      while (got.ImportStatus === 'INITIALIZING' || got.ImportStatus === 'IN_PROGRESS') {
        await new Promise((r) => setTimeout(r, 100));
        got = await ct.send(new GetImportCommand({ ImportId }));
      }
      const seconds = (performance.now() - t0) / 1000;
      const done = got.ImportStatistics?.EventsCompleted ?? 0;
      if (got.ImportStatus !== 'COMPLETED' || done !== EVENTS) {
        throw new Error(`round ${round + 1}: ${got.ImportStatus} with ${done} of ${EVENTS} events`);
      }
      rates.push(done / seconds);
      console.log(
        `round ${round + 1}: ${done.toLocaleString('en-US')} events in ${seconds.toFixed(2)} s = ${Math.round(done / seconds).toLocaleString('en-US')} events/s`,
      );
    }
    ct.destroy();
  } finally {
    await server.stop();
  }
  const rate = median(rates);
  const engine = await engineOnly(files, join(dataDir, 'engine-only'));
  const target = `>= ${TARGET.toLocaleString('en-US')}`;
  console.log(report('Import of gzipped delivered logs', rate, 'events/s', target, rate >= TARGET));
  console.log(report('  DuckDB alone: splitting the files', engine.split, 'events/s', '', true));
  console.log(report('  DuckDB alone: storing the records', engine.store, 'events/s', '', true));
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

/**
 * The same files taken in with no server and no JavaScript per event, as two timed steps: DuckDB gunzipped
 * files split into records by DuckDB itself and numbered (where the import parses and checks each record
 * in JavaScript), then stored with the import's own INSERT in transactions of whole row groups, as the import
 * commits them, and checkpointed. The second is the storage engine's own cost of an import on this machine.
 */
async function engineOnly(bodies: Buffer[], dir: string): Promise<{ split: number; store: number }> {
  await mkdir(dir, { recursive: true });
  const db = await Database.open(join(dir, 'engine.duckdb'), Date.now(), { memoryLimit: '1GB' });
  try {
    const { raw } = await db.connect();
    await raw.run('CREATE TEMP TABLE files (t VARCHAR)');
    await raw.run('CREATE TEMP TABLE records (j VARCHAR)');
    const t0 = performance.now();
    for (let i = 0; i < bodies.length; i += 8) {
      const appender = await raw.createAppender('files', 'main', 'temp');
      for (const body of bodies.slice(i, i + 8)) {
        appender.appendVarchar(gunzipSync(body).toString('utf8'));
        appender.endRow();
      }
      appender.closeSync();
      await raw.run(
        `INSERT INTO records SELECT unnest(json_transform(t, '{"Records":["JSON"]}').Records)::VARCHAR FROM files`,
      );
      await raw.run('DELETE FROM files');
    }
    // The table the import's INSERT reads: per record its number k, its eventID (unused here) and its JSON.
    await raw.run(
      'CREATE TEMP TABLE import_batch AS SELECT row_number() OVER () - 1 AS k, NULL::VARCHAR AS eid, j FROM records',
    );
    await raw.run('DROP TABLE records');
    const t1 = performance.now();
    for (let from = 0; from < EVENTS; from += ROW_GROUP_ROWS) {
      await inTransaction(raw, (tx) => insertImportBatch(tx, 'engine', from, Math.min(EVENTS, from + ROW_GROUP_ROWS)));
    }
    await raw.run('CHECKPOINT');
    const t2 = performance.now();
    console.log(
      `DuckDB alone: ${EVENTS.toLocaleString('en-US')} events split in ${((t1 - t0) / 1000).toFixed(2)} s, stored in ${((t2 - t1) / 1000).toFixed(2)} s`,
    );
    return { split: EVENTS / ((t1 - t0) / 1000), store: EVENTS / ((t2 - t1) / 1000) };
  } finally {
    db.close();
  }
}

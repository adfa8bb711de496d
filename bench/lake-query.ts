/**
 * CloudTrail Lake query benchmark (issue 5): an event data store of 10 million realistic events spread over
 * 85 days, queried through the Lake API (StartQuery, DescribeQuery until FINISHED, GetQueryResults, over
 * HTTP with SigV4, as `npm start` serves) and with the same question written by hand in SQL straight to
 * DuckDB on the same file, in alternating rounds (the server and a direct connection cannot hold the file
 * at once). Targets: a top-N GROUP BY eventName and a count by userIdentity.arn over one week ≤ 500 ms
 * each; a point lookup by eventID ≤ 50 ms; every query within 1.5× of the hand-written SQL's time.
 * The store is loaded straight into `lake_events` through the lake consumer's own INSERT (ingestion speed
 * is the ingest benchmark's business) and reused with --data-dir.
 * Run: npm run bench:lake-query [-- --events 10000000 --rounds 3 --runs 7 --data-dir DIR]
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  CloudTrailClient,
  CreateEventDataStoreCommand,
  DescribeQueryCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudtrail';
import { CREATE_LAKE_STAGING, insertStagedLakeEvents, LAKE_RELATION_COLUMNS } from '../src/lake/lake-table.ts';
import { Database } from '../src/store/database.ts';
import { FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS, startChildServer } from '../test/helpers/child-server.ts';
import { RecordGenerator } from './lib/records.ts';
import { median, report } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    rounds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '7' },
    'data-dir': { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const RUNS = Number(values.runs);
const SPAN_MS = 85 * 24 * 3600 * 1000;
const WEEK_MS = 7 * 24 * 3600 * 1000;
const BATCH = 100_000;
const dataDir = values['data-dir'] ?? join(tmpdir(), `opentrail-bench-lake-${EVENTS}`);
const samplesFile = join(dataDir, 'bench-lake-samples.json');
const dbFile = join(dataDir, 'opentrail.duckdb');
/** The server's DuckDB settings (config defaults), for the direct connection too. */
const DB_OPTIONS = { memoryLimit: '384MB' };

interface Samples {
  storeId: string;
  eventIds: string[];
  arns: string[];
  endMs: number;
}

async function load(): Promise<Samples> {
  const server = await startChildServer(dataDir);
  const client = new CloudTrailClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: FIXED_ADMIN_CREDENTIALS,
  });
  // Not ingesting: the store holds exactly the events loaded below.
  const made = await client.send(new CreateEventDataStoreCommand({ Name: 'bench', StartIngestion: false }));
  client.destroy();
  await server.stop();
  const storeId = made.EventDataStoreArn?.split('/').pop() as string;

  const gen = new RecordGenerator(FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID);
  const endMs = Date.now();
  const samples: Samples = { storeId, eventIds: [], arns: [], endMs };
  const db = await Database.open(dbFile, Date.now(), DB_OPTIONS);
  const conn = await db.connect();
  const t0 = Date.now();
  try {
    await conn.raw.run(CREATE_LAKE_STAGING);
    for (let first = 0; first < EVENTS; first += BATCH) {
      const appender = await conn.raw.createAppender('lake_staging', 'main', 'temp');
      for (let i = first; i < Math.min(first + BATCH, EVENTS); i++) {
        const record = gen.record(endMs - SPAN_MS + Math.floor((i / EVENTS) * SPAN_MS)) as {
          eventID: string;
          userIdentity?: { arn?: string };
        };
        if (i % 100_000 === 7) {
          samples.eventIds.push(record.eventID);
          if (record.userIdentity?.arn) samples.arns.push(record.userIdentity.arn);
        }
        appender.appendVarchar(storeId);
        appender.appendBigInt(BigInt(i + 1));
        appender.appendVarchar(JSON.stringify(record));
        appender.endRow();
      }
      appender.closeSync();
      await conn.withTransaction(async (raw) => {
        await insertStagedLakeEvents(raw);
        await raw.run('DELETE FROM lake_staging');
      });
      process.stdout.write(
        `\rloaded ${(first + BATCH).toLocaleString('en-US')} events (${Math.round((first + BATCH) / ((Date.now() - t0) / 1000))}/s)   `,
      );
    }
    await conn.raw.run('CHECKPOINT');
  } finally {
    db.close();
  }
  console.log(`\nloaded ${EVENTS.toLocaleString('en-US')} events in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return samples;
}

interface Case {
  name: string;
  target: number;
  lake: (s: Samples, i: number) => string;
  direct: (s: Samples, i: number) => string;
}

const pick = <T>(a: readonly T[], i: number) => a[(i * 7919) % a.length] as T;
const weekOf = (s: Samples, i: number) => {
  const to = s.endMs - (i % 10) * WEEK_MS;
  return [new Date(to - WEEK_MS), new Date(to)].map((d) => d.toISOString().replace('T', ' ').slice(0, 19));
};

const CASES: Case[] = [
  {
    name: 'top-N GROUP BY eventName',
    target: 500,
    lake: (s) => `SELECT eventName, count(*) AS n FROM ${s.storeId} GROUP BY eventName ORDER BY n DESC LIMIT 10`,
    direct: (s) =>
      `SELECT eventname, count(*) AS n FROM lake_events WHERE store_id = '${s.storeId}' GROUP BY eventname ORDER BY n DESC LIMIT 10`,
  },
  {
    name: 'count by userIdentity.arn over a week',
    target: 500,
    lake: (s, i) => {
      const [from, to] = weekOf(s, i);
      return `SELECT count(*) FROM ${s.storeId} WHERE userIdentity.arn = '${pick(s.arns, i)}' AND eventTime >= '${from}' AND eventTime < '${to}'`;
    },
    direct: (s, i) => {
      const [from, to] = weekOf(s, i);
      return `SELECT count(*) FROM lake_events WHERE store_id = '${s.storeId}' AND useridentity.arn = '${pick(s.arns, i)}' AND eventtime >= '${from}' AND eventtime < '${to}'`;
    },
  },
  {
    name: 'point lookup by eventID',
    target: 50,
    lake: (s, i) => `SELECT * FROM ${s.storeId} WHERE eventID = '${pick(s.eventIds, i)}'`,
    // The columns a Lake SELECT * gives, eventjsonchecksum (computed when read) included.
    direct: (s, i) =>
      `SELECT ${LAKE_RELATION_COLUMNS} FROM lake_events WHERE store_id = '${s.storeId}' AND eventid = '${pick(s.eventIds, i)}'`,
  },
];

/** One round of hand-written SQL on a direct connection: each case's times (ms), results materialised. */
async function directRound(s: Samples): Promise<Map<string, number[]>> {
  const db = await Database.open(dbFile, Date.now(), DB_OPTIONS);
  const conn = await db.connect();
  const times = new Map<string, number[]>();
  try {
    for (const c of CASES) {
      const t: number[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const t0 = performance.now();
        (await conn.raw.runAndReadAll(c.direct(s, i))).getRowsJS();
        if (i > 0) t.push(performance.now() - t0); // the first run warms the cache
      }
      times.set(c.name, t);
    }
  } finally {
    db.close();
  }
  return times;
}

/** One round through the Lake API of a server on the same file: StartQuery to the last result page. */
async function lakeRound(s: Samples): Promise<{ times: Map<string, number[]>; answers: Map<string, string> }> {
  const server = await startChildServer(dataDir);
  const client = new CloudTrailClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: FIXED_ADMIN_CREDENTIALS,
  });
  const times = new Map<string, number[]>();
  const answers = new Map<string, string>();
  try {
    for (const c of CASES) {
      const t: number[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const t0 = performance.now();
        const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: c.lake(s, i) }));
        for (;;) {
          const d = await client.send(new DescribeQueryCommand({ QueryId }));
          if (d.QueryStatus === 'FINISHED') break;
          if (d.QueryStatus !== 'QUEUED' && d.QueryStatus !== 'RUNNING')
            throw new Error(`${c.name}: ${d.ErrorMessage}`);
          await sleep(1);
        }
        const rows = await client.send(new GetQueryResultsCommand({ QueryId }));
        if (i > 0) t.push(performance.now() - t0);
        if (i === 1) answers.set(c.name, JSON.stringify(rows.QueryResultRows).slice(0, 120));
      }
      times.set(c.name, t);
    }
  } finally {
    client.destroy();
    await server.stop();
  }
  return { times, answers };
}

await mkdir(dataDir, { recursive: true });
const samples: Samples = existsSync(samplesFile)
  ? (JSON.parse(await readFile(samplesFile, 'utf8')) as Samples)
  : await load();
await writeFile(samplesFile, JSON.stringify(samples));
const lakeTimes = new Map<string, number[]>();
const directTimes = new Map<string, number[]>();
let answers = new Map<string, string>();
for (let round = 0; round < ROUNDS; round++) {
  const direct = await directRound(samples);
  const lake = await lakeRound(samples);
  answers = lake.answers;
  for (const c of CASES) {
    directTimes.set(c.name, [...(directTimes.get(c.name) ?? []), ...(direct.get(c.name) ?? [])]);
    lakeTimes.set(c.name, [...(lakeTimes.get(c.name) ?? []), ...(lake.times.get(c.name) ?? [])]);
  }
  console.log(
    `round ${round + 1}: ${CASES.map((c) => `${c.name} lake ${median(lake.times.get(c.name) ?? []).toFixed(0)} ms, direct ${median(direct.get(c.name) ?? []).toFixed(0)} ms`).join('; ')}`,
  );
}
console.log(
  `${EVENTS.toLocaleString('en-US')} events; ${ROUNDS} alternating rounds of ${RUNS} runs per query; medians`,
);
for (const c of CASES) {
  const lake = median(lakeTimes.get(c.name) ?? []);
  const direct = median(directTimes.get(c.name) ?? []);
  console.log(`  ${c.name}: ${answers.get(c.name)}`);
  console.log(report(`Lake ${c.name}`, lake, 'ms', `<= ${c.target} ms`, lake <= c.target));
  console.log(report(`  same SQL by hand, straight to DuckDB`, direct, 'ms', '', true));
  console.log(report(`  Lake / hand-written`, lake / direct, '×', '<= 1.5×', lake / direct <= 1.5));
}

/**
 * Event history benchmark (issue 2): a store of 10 million events, loaded through the ingest API and
 * spread over 85 days, then LookupEvents pages (50 events) for each lookup attribute and for bare time
 * ranges, each timed end to end over HTTP with SigV4. Also storage per event and the server's RSS.
 * Targets: p50 ≤ 10 ms and p99 ≤ 50 ms per page; ≤ 300 bytes per event on disk; RSS ≤ 1 GB.
 * Run: npm run bench:lookup [-- --events 10000000 --queries 200 --data-dir DIR]
 * With --data-dir, a store loaded by an earlier run is reused (loading 10 million events takes minutes), first
 * topped up to now at the same rate: a live service's newest hours hold events, a stale store's would not.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ADMIN_SIGNING_NAME } from '../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../src/api/ingest-api.ts';
import { RUN_EVENTS } from '../src/history/history-index.ts';
import {
  FIXED_ADMIN,
  FIXED_ADMIN_CREDENTIALS,
  startChildServer,
  waitForConsumers,
} from '../test/helpers/child-server.ts';
import { RecordGenerator } from './lib/records.ts';
import { SignedPoster } from './lib/signed-post.ts';
import { percentile, report, rssBytes } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    queries: { type: 'string', default: '200' },
    'data-dir': { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const QUERIES = Number(values.queries);
const SPAN_MS = 85 * 24 * 3600 * 1000;
const dataDir = values['data-dir'] ?? join(tmpdir(), `opentrail-bench-lookup-${EVENTS}`);
const samplesFile = join(dataDir, 'bench-samples.json');

interface Samples {
  eventIds: string[];
  resourceArns: string[];
  /** The newest event time loaded, and how many events were loaded in all (top-ups included). */
  endMs: number;
  events: number;
}

/** Loads `count` events spread evenly over [startMs, endMs] into `samples` (samples every 50,000th). */
async function load(
  server: Awaited<ReturnType<typeof startChildServer>>,
  samples: Samples,
  count: number,
  startMs: number,
  endMs: number,
): Promise<void> {
  const gen = new RecordGenerator(FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID);
  const ingest = new SignedPoster(server.url, FIXED_ADMIN_CREDENTIALS, ADMIN_SIGNING_NAME, 8);
  const BATCH = 1000;
  let sent = 0;
  const t0 = Date.now();
  const worker = async () => {
    while (sent < count) {
      const first = sent;
      sent += BATCH;
      const records = Array.from({ length: Math.min(BATCH, count - first) }, (_, i) =>
        gen.record(startMs + Math.floor(((first + i) / count) * (endMs - startMs))),
      );
      if (first % 50_000 === 0) {
        const r = records[0] as { eventID: string; resources?: { ARN: string }[] };
        samples.eventIds.push(r.eventID);
        const withResource = records.find((x) => (x as { resources?: unknown }).resources) as
          | { resources: { ARN: string }[] }
          | undefined;
        if (withResource) samples.resourceArns.push((withResource.resources[0] as { ARN: string }).ARN);
      }
      const body = JSON.stringify({ Records: records });
      const res = await ingest.post(await ingest.sign(`${INGEST_TARGET_PREFIX}.PutRecords`, body), body);
      if (res.status !== 200) throw new Error(`ingest failed: ${res.status} ${res.body.slice(0, 300)}`);
      if (first % 500_000 === 0)
        process.stdout.write(
          `\rloaded ${first.toLocaleString('en-US')} events (${Math.round(first / ((Date.now() - t0) / 1000))}/s)   `,
        );
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  ingest.close();
  console.log(
    `\nloaded ${count.toLocaleString('en-US')} events in ${((Date.now() - t0) / 1000).toFixed(0)} s; waiting for history`,
  );
  await waitForConsumers(server, 3_600_000);
  console.log(`history caught up ${((Date.now() - t0) / 1000).toFixed(0)} s after the load began`);
  samples.endMs = endMs;
  samples.events += count;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.name !== 'bench-samples.json') total += (await stat(p)).size;
  }
  return total;
}

await mkdir(dataDir, { recursive: true });
// A store from an earlier version may migrate on start (minutes for 10 million events).
let server = await startChildServer(dataDir, [], {}, 1_800_000);
try {
  let samples: Samples;
  if (existsSync(samplesFile)) {
    // A store saved before top-ups holds exactly the events it was loaded with.
    const saved = JSON.parse(await readFile(samplesFile, 'utf8')) as Omit<Samples, 'events'> & { events?: number };
    samples = { ...saved, events: saved.events ?? EVENTS };
    console.log(`reusing the store in ${dataDir}`);
    const now = Date.now();
    const gap = Math.round((EVENTS * (now - samples.endMs)) / SPAN_MS);
    if (gap >= 1000) await load(server, samples, gap, samples.endMs + 1, now);
  } else {
    samples = { eventIds: [], resourceArns: [], endMs: 0, events: 0 };
    const now = Date.now();
    await load(server, samples, EVENTS, now - SPAN_MS, now);
  }
  await writeFile(samplesFile, JSON.stringify(samples));
  // Restart, so storage is measured after a clean shutdown checkpoint and RSS from a fresh process.
  await server.stop();
  server = await startChildServer(dataDir);
  const gen = new RecordGenerator(FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID);
  const poster = new SignedPoster(server.url, FIXED_ADMIN_CREDENTIALS, 'cloudtrail', 4);
  // A store made before the hash index (migration 14) has it built once, after the first batch history
  // stores: one recorded call is that batch. Lookups are measured once it covers the store.
  const probe = JSON.stringify({ MaxResults: 1 });
  await poster.post(await poster.sign('CloudTrail_20131101.LookupEvents', probe), probe);
  // Below RUN_EVENTS no run is ever built: lookups read the hash columns themselves.
  if (samples.events >= RUN_EVENTS) {
    const indexed = Date.now();
    for (;;) {
      const health = (await (await fetch(new URL('/health', server.url))).json()) as {
        historyIndex?: { watermark: number };
      };
      if ((health.historyIndex?.watermark ?? 1) > 0) break;
      if (Date.now() - indexed > 600_000) throw new Error('the hash index was not built within 10 minutes');
      await sleep(500);
    }
    console.log(`hash index covers the store (${((Date.now() - indexed) / 1000).toFixed(1)} s)`);
  }
  const bytes = await dirBytes(dataDir);
  const pick = <T>(a: readonly T[], i: number) => a[(i * 7919) % a.length] as T;
  const sources = [
    ...new Set(
      gen.eventNames.map(
        (_, i) =>
          `${['ec2', 's3', 'iam', 'sts', 'lambda', 'dynamodb', 'kms', 'cloudtrail', 'rds', 'logs'][i % 10]}.amazonaws.com`,
      ),
    ),
  ];
  const attribute = (key: string, value: (i: number) => string) => (i: number) => ({
    LookupAttributes: [{ AttributeKey: key, AttributeValue: value(i) }],
  });
  const cases: [string, (i: number) => Record<string, unknown>][] = [
    ['EventId', attribute('EventId', (i) => pick(samples.eventIds, i))],
    ['EventName', attribute('EventName', (i) => pick(gen.eventNames, i))],
    ['ReadOnly', attribute('ReadOnly', (i) => (i % 2 === 0 ? 'true' : 'false'))],
    ['Username', attribute('Username', (i) => pick(gen.users, i).name)],
    ['ResourceType', attribute('ResourceType', (i) => `AWS::${['EC2', 'S3', 'IAM', 'KMS'][i % 4]}::Resource`)],
    ['ResourceName', attribute('ResourceName', (i) => pick(samples.resourceArns, i))],
    ['EventSource', attribute('EventSource', (i) => pick(sources, i))],
    ['AccessKeyId', attribute('AccessKeyId', (i) => pick(gen.users, i).key)],
    [
      'time range only',
      (i) => {
        const end = samples.endMs - ((i * 7_777_777) % (80 * 24 * 3600 * 1000));
        return { StartTime: (end - 6 * 3600 * 1000) / 1000, EndTime: end / 1000 };
      },
    ],
  ];
  const lines: string[] = [];
  let allMet = true;
  let peakRss = 0;
  for (const [name, input] of cases) {
    const times: number[] = [];
    let empty = 0;
    for (let i = 0; i < QUERIES; i++) {
      const body = JSON.stringify({ ...input(i), MaxResults: 50 });
      const headers = await poster.sign('CloudTrail_20131101.LookupEvents', body);
      const t0 = performance.now();
      const res = await poster.post(headers, body);
      times.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.body.slice(0, 300)}`);
      if ((JSON.parse(res.body) as { Events: unknown[] }).Events.length === 0) empty++;
    }
    peakRss = Math.max(peakRss, await rssBytes(server.process.pid as number));
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    allMet &&= p50 <= 10 && p99 <= 50;
    lines.push(report(`LookupEvents ${name}: p50 / p99 (${empty} empty)`, p50, 'ms', '<= 10 ms', p50 <= 10));
    lines.push(report(`LookupEvents ${name}: p99`, p99, 'ms', '<= 50 ms', p99 <= 50));
  }
  poster.close();
  console.log(lines.join('\n'));
  console.log(
    report(
      'storage per event (data directory / events)',
      bytes / samples.events,
      'bytes',
      '<= 300',
      bytes / samples.events <= 300,
    ),
  );
  console.log(report('server RSS while serving lookups (peak)', peakRss / 1e6, 'MB', '<= 1,000 MB', peakRss <= 1e9));
  console.log(allMet ? 'all lookup targets met' : 'some lookup targets missed');
} finally {
  await server.stop();
}

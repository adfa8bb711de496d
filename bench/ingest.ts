/**
 * Ingest benchmark (issue 2): SigV4-signed PutRecords batches of 500 realistic records (~1.2 KB each)
 * from 8 concurrent clients against the server started as `npm start` starts it.
 *   Phase 1, saturation: acknowledged events/s (median of per-second counts). Target ≥ 50,000 (goal 100,000).
 *   Phase 2, offered 5,000 events/s as 50 batches of 100 per second: acknowledgement latency p50/p99. Target p99 ≤ 20 ms.
 * Run: npm run bench:ingest  [-- --seconds 20]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ADMIN_SIGNING_NAME } from '../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../src/api/ingest-api.ts';
import {
  FIXED_ADMIN,
  FIXED_ADMIN_CREDENTIALS,
  startChildServer,
  waitForConsumers,
} from '../test/helpers/child-server.ts';
import { RecordGenerator } from './lib/records.ts';
import { SignedPoster } from './lib/signed-post.ts';
import { median, percentile, perSecondCounts, report, rssBytes } from './lib/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const SECONDS = Number(values.seconds);
const CLIENTS = 8;
const BATCH = 500;
const TARGET = `${INGEST_TARGET_PREFIX}.PutRecords`;

const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-bench-ingest-'));
const server = await startChildServer(dataDir);
const gen = new RecordGenerator(FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID);
const poster = new SignedPoster(server.url, FIXED_ADMIN_CREDENTIALS, ADMIN_SIGNING_NAME, CLIENTS * 2);

function bodies(count: number, size: number): string[] {
  const now = Date.now();
  return Array.from({ length: count }, () =>
    JSON.stringify({ Records: Array.from({ length: size }, () => gen.record(now)) }),
  );
}

try {
  const big = bodies(64, BATCH);
  const avg = big.reduce((n, b) => n + b.length, 0) / big.length / BATCH;
  console.log(`records average ${avg.toFixed(0)} bytes; ${CLIENTS} clients, batches of ${BATCH}, ${SECONDS} s`);

  // Phase 1: saturation.
  let acked = 0;
  let errors = 0;
  let running = true;
  const client = async (offset: number) => {
    let i = offset;
    while (running) {
      const body = big[i++ % big.length] as string;
      const res = await poster.post(await poster.sign(TARGET, body), body);
      if (res.status === 200) acked += BATCH;
      else errors++;
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, i) => client(i * 8));
  const perSecond = await perSecondCounts(() => acked, SECONDS);
  running = false;
  console.log(`per-second acknowledged: ${perSecond.join(' ')}`);
  await Promise.all(clients);
  const rss = await rssBytes(server.process.pid as number);
  const lagStart = Date.now();
  await waitForConsumers(server, 600_000);
  const catchUp = (Date.now() - lagStart) / 1000;

  // Phase 2: latency at an offered 5,000 events/s. Phase 1 leaves gigabytes of dirty pages for the kernel to
  // write back, which would stall this phase's fdatasyncs: they are flushed first, and the first 2 s at the
  // offered rate are not timed.
  execFileSync('sync');
  const small = bodies(64, 100);
  const latencies: number[] = [];
  const warmEnd = Date.now() + 2000;
  const deadline = warmEnd + SECONDS * 1000;
  let n = 0;
  const inflight: Promise<void>[] = [];
  while (Date.now() < deadline) {
    const body = small[n++ % small.length] as string;
    const headers = await poster.sign(TARGET, body);
    const timed = Date.now() >= warmEnd;
    const t0 = performance.now();
    const sent = poster.post(headers, body);
    inflight.push(timed ? sent.then(() => void latencies.push(performance.now() - t0)) : sent.then(() => undefined));
    await sleep(20); // 50 batches of 100 a second
  }
  await Promise.all(inflight);
  latencies.sort((a, b) => a - b);

  const rate = median(perSecond);
  console.log(
    `errors: ${errors}; server RSS after phase 1: ${(rss / 1e6).toFixed(0)} MB; history caught up ${catchUp.toFixed(1)} s after the load stopped`,
  );
  console.log(report('ingest, acknowledged events/s (median)', rate, 'events/s', '>= 50,000', rate >= 50_000));
  console.log(report('ack latency p50 at 5,000 events/s offered', percentile(latencies, 50), 'ms', '', true));
  console.log(
    report(
      'ack latency p99 at 5,000 events/s offered',
      percentile(latencies, 99),
      'ms',
      '<= 20 ms',
      percentile(latencies, 99) <= 20,
    ),
  );
} finally {
  poster.close();
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}

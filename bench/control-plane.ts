/**
 * Control-plane benchmark (issue 2): GetTrail, SigV4-verified, as many requests per second as the server
 * answers from 32 concurrent keep-alive connections. Every call is also self-recorded as a management
 * event, as in production. The load generator replays signed requests (valid for 15 minutes, as on AWS)
 * so its own CPU stays small beside the server's. Target ≥ 3,000 requests/s.
 * Run: npm run bench:control-plane [-- --seconds 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudTrailClient, CreateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { FIXED_ADMIN_CREDENTIALS, startChildServer } from '../test/helpers/child-server.ts';
import { SignedPoster } from './lib/signed-post.ts';
import { median, percentile, perSecondCounts, report } from './lib/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const SECONDS = Number(values.seconds);
const CONCURRENCY = 32;

const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-bench-cp-'));
const server = await startChildServer(dataDir);
const poster = new SignedPoster(server.url, FIXED_ADMIN_CREDENTIALS, 'cloudtrail', CONCURRENCY);
try {
  const sdk = new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials: FIXED_ADMIN_CREDENTIALS });
  await sdk.send(new CreateTrailCommand({ Name: 'bench-trail', S3BucketName: 'bench-bucket' }));
  sdk.destroy();
  const body = JSON.stringify({ Name: 'bench-trail' });
  const headers = await poster.sign('CloudTrail_20131101.GetTrail', body);
  let done = 0;
  let errors = 0;
  const latencies: number[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const t0 = performance.now();
      const res = await poster.post(headers, body);
      latencies.push(performance.now() - t0);
      if (res.status === 200) done++;
      else errors++;
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  const perSecond = await perSecondCounts(
    () => done,
    SECONDS,
    () => {
      latencies.length = 0;
    },
  );
  running = false;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  const rate = median(perSecond);
  console.log(
    `per-second: ${perSecond.join(' ')}; errors ${errors}; latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
  );
  console.log(report('GetTrail, SigV4-verified and self-recorded (median)', rate, 'req/s', '>= 3,000', rate >= 3000));
} finally {
  poster.close();
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}

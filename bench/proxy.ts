/**
 * Recording proxy benchmark (issue 4): the same S3 SDK client calls moto_server directly and through
 * opentrail's proxy (which verifies SigV4, re-signs, forwards, records and commits a CloudTrail record before
 * the answer ends), in alternating rounds of one run.
 *  - latency: sequential small GetObject calls (1 KB), direct and proxied in turn, p50 of each; target ≤ 1 ms
 *    added at p50;
 *  - throughput: 16 concurrent clients for a few seconds each way; target ≤ 10% fewer calls/s through the proxy;
 *  - streaming: one 100 MB PutObject and GetObject through the proxy; target: server RSS grows ≤ 50 MB.
 * Run: npm run bench:proxy [-- --rounds 5 --calls 400 --seconds 5]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startMotoServer } from '../src/proxy/index.ts';
import { FIXED_ADMIN_CREDENTIALS, startChildServer } from '../test/helpers/child-server.ts';
import { median, percentile, report, rssBytes } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    calls: { type: 'string', default: '400' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
  },
});
const ROUNDS = Number(values.rounds);
const CALLS = Number(values.calls);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const BIG_BYTES = 100 * 1024 * 1024;

const moto = await startMotoServer();
const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-bench-proxy-'));
const server = await startChildServer(dataDir, ['--upstream', moto.endpoint], {
  OPENTRAIL_UPSTREAM_ACCESS_KEY_ID: 'testing',
  OPENTRAIL_UPSTREAM_SECRET_ACCESS_KEY: 'testing',
});

function client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
  });
}
const direct = client(moto.endpoint, { accessKeyId: 'testing', secretAccessKey: 'testing' });
const proxied = client(server.url, FIXED_ADMIN_CREDENTIALS);

try {
  await proxied.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await proxied.send(new PutObjectCommand({ Bucket: 'bench', Key: 'small', Body: randomBytes(1024) }));
  const getSmall = async (s3: S3Client) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'small' }));
    await res.Body?.transformToByteArray();
  };
  // Both paths warm (JIT, connections, the server's first records) before anything is timed.
  for (let i = 0; i < 1000; i++) await Promise.all([getSmall(direct), getSmall(proxied)]);

  // Direct and proxied calls take turns, call by call, so both see moto at the same moments: its own
  // latency drifts by a millisecond and more between blocks of calls, as much as the figure measured.
  const latency = async () => {
    const samples = { direct: [] as number[], proxied: [] as number[] };
    for (let i = 0; i < CALLS; i++) {
      for (const [name, s3] of [
        ['direct', direct],
        ['proxied', proxied],
      ] as const) {
        const t = performance.now();
        await getSmall(s3);
        samples[name].push(performance.now() - t);
      }
    }
    for (const list of Object.values(samples)) list.sort((a, b) => a - b);
    return samples;
  };
  const throughput = async (s3: S3Client) => {
    let done = 0;
    const until = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          await getSmall(s3);
          done++;
        }
      }),
    );
    return done / SECONDS;
  };

  const p50 = { direct: [] as number[], proxied: [] as number[] };
  const p99 = { direct: [] as number[], proxied: [] as number[] };
  const rate = { direct: [] as number[], proxied: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    const samples = await latency();
    for (const [name, s3] of [
      ['direct', direct],
      ['proxied', proxied],
    ] as const) {
      p50[name].push(percentile(samples[name], 50));
      p99[name].push(percentile(samples[name], 99));
      rate[name].push(await throughput(s3));
    }
    console.log(
      `round ${round}: p50 direct ${p50.direct.at(-1)?.toFixed(2)} ms, proxied ${p50.proxied.at(-1)?.toFixed(2)} ms; ` +
        `calls/s direct ${rate.direct.at(-1)?.toFixed(0)}, proxied ${rate.proxied.at(-1)?.toFixed(0)}`,
    );
  }
  const addedP50 = median(p50.proxied.map((v, i) => v - (p50.direct[i] as number)));
  const loss = 1 - median(rate.proxied.map((v, i) => v / (rate.direct[i] as number)));

  // One 100 MB object up and down through the proxy, from a stream the client does not hold whole.
  const pid = server.process.pid as number;
  const rssBefore = await rssBytes(pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssBytes(pid).then(
      (v) => {
        rssPeak = Math.max(rssPeak, v);
      },
      () => undefined,
    );
  }, 50);
  const chunk = randomBytes(1024 * 1024);
  const t0 = performance.now();
  await proxied.send(
    new PutObjectCommand({
      Bucket: 'bench',
      Key: 'big',
      ContentLength: BIG_BYTES,
      Body: Readable.from(
        (function* () {
          for (let i = 0; i < BIG_BYTES / chunk.length; i++) yield chunk;
        })(),
      ),
    }),
  );
  const putSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const got = await proxied.send(new GetObjectCommand({ Bucket: 'bench', Key: 'big' }));
  let received = 0;
  for await (const part of got.Body as AsyncIterable<Uint8Array>) received += part.length;
  const getSeconds = (performance.now() - t1) / 1000;
  clearInterval(sampler);
  if (received !== BIG_BYTES) throw new Error(`GetObject returned ${received} bytes, not ${BIG_BYTES}`);
  const growthMb = (rssPeak - rssBefore) / 1024 / 1024;

  console.log(
    `${ROUNDS} alternating rounds of ${CALLS} sequential 1 KB GetObject calls and ${SECONDS} s at ${CONCURRENCY} concurrent clients; medians`,
  );
  console.log(
    `p50 direct ${median(p50.direct).toFixed(2)} ms, proxied ${median(p50.proxied).toFixed(2)} ms; p99 direct ${median(p99.direct).toFixed(2)} ms, proxied ${median(p99.proxied).toFixed(2)} ms`,
  );
  console.log(
    `100 MB PutObject ${(100 / putSeconds).toFixed(0)} MB/s, GetObject ${(100 / getSeconds).toFixed(0)} MB/s through the proxy`,
  );
  console.log(report('latency added at p50 (1 KB GetObject)', addedP50, 'ms', '<= 1 ms', addedP50 <= 1));
  console.log(report('throughput lost through the proxy', loss * 100, '%', '<= 10%', loss <= 0.1));
  console.log(report('server RSS growth, 100 MB put and get', growthMb, 'MB', '<= 50 MB', growthMb <= 50));
} finally {
  direct.destroy();
  proxied.destroy();
  await server.stop();
  await moto.stop();
  await rm(dataDir, { recursive: true, force: true });
}

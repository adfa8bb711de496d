/**
 * validate-logs benchmark (issue 3): `opentrail validate-logs` beside `aws cloudtrail validate-logs` (AWS CLI v1)
 * on the same 24 hours of one trail's output in moto's S3: 288 log files (a 5-minute cadence, RECORDS_PER_FILE
 * records each) and 24 hourly digests. Both run as the commands users run, alternately, ROUNDS times each; the
 * figure is the ratio of their median wall times. Target: ours ≥ 10× faster.
 *
 * S3 answers from another machine in real use: `--latency-ms N` (default 20) puts a proxy in front of moto that
 * holds every request N ms, for both commands alike, and serves objects it has fetched once from memory, as S3
 * serves many requests at once where moto serves one (see latencyProxy). A first run of each is not counted.
 * Run: npm run bench:validate-logs [-- --latency-ms 20]
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateBucketCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { ManualClock } from '../src/model/clock.ts';
import { MOTO_CREDENTIALS, startMoto } from '../test/helpers/moto.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { RecordGenerator } from './lib/records.ts';
import { median, report } from './lib/stats.ts';

const { values } = parseArgs({ options: { 'latency-ms': { type: 'string', default: '20' } } });
const LATENCY_MS = Number(values['latency-ms']);
const ROUNDS = 3;
const RECORDS_PER_FILE = 200;
const MINUTE_MS = 60_000;
const HOURS = 24;
const BUCKET = 'validate-bench';

const moto = await startMoto();
const proxy = await latencyProxy(moto.endpoint, LATENCY_MS);
// The server's clock ends near real time: both commands sign their requests with the real clock.
const startMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - HOURS * 60 * MINUTE_MS - 5 * MINUTE_MS;
const clock = new ManualClock(startMs);
const { world, stop } = await startTestServer({
  clock,
  argv: ['--delivery-interval', '300', '--digest-interval', '3600'],
  env: {
    OPENTRAIL_S3_ENDPOINT: moto.endpoint,
    OPENTRAIL_S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    OPENTRAIL_S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
  },
});
try {
  const account = world.app.admin.accountId;
  const s3 = new (await import('@aws-sdk/client-s3')).S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: cloudTrailPolicy(account) }));
  s3.destroy();
  const { TrailARN } = await world
    .cloudtrail()
    .send(new CreateTrailCommand({ Name: 'bench', S3BucketName: BUCKET, EnableLogFileValidation: true }));
  await world.cloudtrail().send(new StartLoggingCommand({ Name: 'bench' }));

  process.stderr.write(`delivering ${HOURS} hours of log files and digests into moto…\n`);
  const gen = new RecordGenerator(account);
  const ingest = world.ingestApi();
  for (let interval = 0; interval < HOURS * 12; interval++) {
    const Records = Array.from({ length: RECORDS_PER_FILE }, (_, i) => gen.record(clock.now() + i));
    await ingest.call('PutRecords', { Records });
    await clock.advance(5 * MINUTE_MS);
    await world.app.deliveryIdle();
  }

  const display = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
  const range = [
    '--trail-arn',
    TrailARN as string,
    '--start-time',
    display(startMs),
    '--end-time',
    display(clock.now()),
  ];
  const credentials = {
    AWS_ACCESS_KEY_ID: world.adminCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: world.adminCredentials.secretAccessKey,
  };
  const theirs = () =>
    timed('aws', ['cloudtrail', 'validate-logs', ...range, '--endpoint-url', world.url, '--region', 'us-east-1'], {
      ...credentials,
      AWS_ENDPOINT_URL_S3: proxy.endpoint,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    });
  const ours = () =>
    timed(
      process.execPath,
      ['bin/opentrail.js', 'validate-logs', ...range, '--endpoint-url', world.url, '--s3-endpoint', proxy.endpoint],
      {
        ...credentials,
        OPENTRAIL_S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        OPENTRAIL_S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      },
    );
  // A first run of each, not counted, fills the proxy's memory (and tsx's and Python's caches).
  await theirs();
  await ours();
  const awsTimes: number[] = [];
  const ourTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    awsTimes.push(await theirs());
    ourTimes.push(await ours());
    process.stderr.write(`round ${round + 1}: aws ${awsTimes.at(-1)} ms, opentrail ${ourTimes.at(-1)} ms\n`);
  }
  const ratio = median(awsTimes) / median(ourTimes);
  console.log(
    `${HOURS} h: ${HOURS * 12} log files of ${RECORDS_PER_FILE} records, ${HOURS} digests; ` +
      `${LATENCY_MS} ms added to each S3 request; medians of ${ROUNDS} alternating runs`,
  );
  console.log(report('aws cloudtrail validate-logs', median(awsTimes), 'ms', '', true));
  console.log(report('opentrail validate-logs', median(ourTimes), 'ms', '', true));
  console.log(report('speed-up (aws time / opentrail time)', ratio, '×', '>= 10×', ratio >= 10));
} finally {
  await stop();
  proxy.close();
  await moto.stop();
}

/** Runs a command to completion; its wall time in ms. Both validators must find everything valid. */
async function timed(command: string, args: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', AWS_DEFAULT_REGION: 'us-east-1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = Math.round(performance.now() - started);
  const summary = `${HOURS}/${HOURS} digest files valid`;
  // The file delivered with the last digest's hour falls after it: the digests list one file fewer than delivered.
  if (code !== 0 || !out.includes(summary) || !/\n(28[78])\/\1 log files valid/.test(out)) {
    throw new Error(`${command} ${args[0]} exited ${code}, not all ${HOURS} digests and their files valid:\n${out}`);
  }
  return ms;
}

/**
 * S3 as the validators see it: answers after `latencyMs`, from memory once an answer is known. moto serves one
 * request at a time (Python's GIL), ~3 ms each, so fetching every object from it would measure moto, not the
 * validators; the objects do not change during the runs, so each distinct GET or LIST goes to moto once.
 */
async function latencyProxy(target: string, latencyMs: number): Promise<{ endpoint: string; close(): void }> {
  const upstream = new URL(target);
  const answers = new Map<string, Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>>();
  const fetchOnce = (req: IncomingMessage) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const forwarded = request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () =>
            resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
          );
          answer.on('error', reject);
        },
      );
      forwarded.on('error', reject);
      req.pipe(forwarded);
    });
  const server = createServer((req, res) => {
    const id = `${req.method} ${req.url}`;
    let answer = req.method === 'GET' || req.method === 'HEAD' ? answers.get(id) : undefined;
    if (answer === undefined) {
      answer = fetchOnce(req);
      if (req.method === 'GET' || req.method === 'HEAD') answers.set(id, answer);
    } else {
      req.resume();
    }
    const started = Date.now();
    answer.then(
      ({ status, headers, body }) =>
        setTimeout(
          () => {
            // Hop-by-hop headers are the proxy's own: connections to it stay open as they would to S3.
            const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...passed } = headers;
            res.writeHead(status, { ...passed, 'content-length': String(body.length) });
            res.end(req.method === 'HEAD' ? undefined : body);
          },
          Math.max(0, latencyMs - (Date.now() - started)),
        ),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function cloudTrailPolicy(account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${BUCKET}`,
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${BUCKET}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  });
}

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  ListTrailsCommand,
  paginateLookupEvents,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ManualClock } from '../../src/model/clock.ts';
import { createObjectStore, type ObjectStore } from '../../src/objectstore/index.ts';
import { readDeliveredLogs } from '../../src/trails/read-logs.ts';
import { MOTO_CREDENTIALS, useMoto } from '../helpers/moto.ts';
import { realLogs } from '../helpers/real-logs.ts';
import { withServer } from '../helpers/server.ts';

const run = promisify(execFile);
const MINUTE_MS = 60_000;
const REAL_GZIPPED = realLogs(
  'flosell__trailscraper/tests/cloudtrail/data/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz',
);
const REAL_PLAIN = realLogs(
  'invictus-ir__aws_dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json',
);

const moto = useMoto();

/** Runs `bin/opentrail.js`; resolves with the exit code and output instead of throwing on failure. */
async function opentrail(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/opentrail.js', ...args], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function readAll(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  options: Parameters<typeof readDeliveredLogs>[3] = {},
) {
  const files: { key: string; records: Record<string, unknown>[] }[] = [];
  for await (const file of readDeliveredLogs(store, bucket, prefix, options)) files.push(file);
  return files;
}

describe('reading delivered logs back', () => {
  it('reads back exactly the events LookupEvents shows, with the library and with opentrail read-logs', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    const t0 = clock.now();
    await withServer(
      async (w) => {
        const bucket = 'read-back-bucket';
        await w.cloudtrail().send(new CreateTrailCommand({ Name: 'read-back', S3BucketName: bucket }));
        await w.cloudtrail().send(new StartLoggingCommand({ Name: 'read-back' }));
        await clock.advance(MINUTE_MS);
        await w.app.deliveryIdle();
        // Calls in two delivery intervals, then one more delivery: every call is in a file.
        for (let i = 0; i < 2; i++) {
          const client = w.cloudtrail();
          await client.send(new DescribeTrailsCommand({}));
          await client.send(new ListTrailsCommand({}));
          await client.send(new GetTrailStatusCommand({ Name: 'read-back' }));
          await clock.advance(MINUTE_MS);
          await w.app.deliveryIdle();
        }
        await w.historyCaughtUp();
        const looked: string[] = [];
        const pages = paginateLookupEvents(
          { client: w.cloudtrail() },
          { StartTime: new Date(t0 + MINUTE_MS), EndTime: new Date(t0 + 2.5 * MINUTE_MS) },
        );
        for await (const page of pages) for (const e of page.Events ?? []) looked.push(e.EventId as string);
        assert.equal(looked.length, 6);

        const store = createObjectStore({ dataDir: w.dataDir });
        try {
          const files = await readAll(store, bucket, 'AWSLogs/');
          assert.equal(files.length, 3, 'StartLogging, then one file per interval with calls');
          const records = files.flatMap((f) => f.records);
          assert.equal(records[0]?.['eventName'], 'StartLogging');
          const afterStart = records.filter((r) => Date.parse(String(r['eventTime'])) >= t0 + MINUTE_MS);
          assert.deepEqual(afterStart.map((r) => r['eventID']).sort(), [...looked].sort());

          const cli = await opentrail(['read-logs', `s3://${bucket}`, '--data-dir', w.dataDir]);
          assert.equal(cli.stderr, '');
          assert.equal(cli.code, 0);
          const lines = cli.stdout.trimEnd().split('\n');
          assert.deepEqual(
            lines.map((l) => JSON.parse(l)),
            records,
          );

          // The time filter goes by the file name's delivery minute: only the last interval's file.
          const last = await opentrail([
            'read-logs',
            `s3://${bucket}/AWSLogs`,
            '--data-dir',
            w.dataDir,
            '--start-time',
            new Date(t0 + 3 * MINUTE_MS).toISOString(),
          ]);
          assert.equal(last.code, 0);
          assert.deepEqual(
            last.stdout
              .trimEnd()
              .split('\n')
              .map((l) => JSON.parse(l)),
            files[2]?.records,
          );
        } finally {
          store.close();
        }
      },
      { clock, argv: ['--delivery-interval', '60'] },
    );
  });

  describe('real log files and a corrupt one in a local bucket', () => {
    let dataDir: string;
    let store: ObjectStore;
    const bucket = 'real-logs';
    const gzKey =
      'AWSLogs/111111111111/CloudTrail/eu-central-1/2017/12/11/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz';
    const plainKey = 'exported/218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json';
    const corruptKey =
      'AWSLogs/111111111111/CloudTrail/eu-central-1/2017/12/11/111111111111_CloudTrail_eu-central-1_20171211T1510Z_CorruptCorrupt12.json.gz';
    const digestKey =
      'AWSLogs/111111111111/CloudTrail-Digest/eu-central-1/2017/12/11/111111111111_CloudTrail-Digest_eu-central-1_t_eu-central-1_20171211T160000Z.json.gz';

    before(async () => {
      // Copied at test time into a temporary bucket folder, never into the repository.
      dataDir = await mkdtemp(join(tmpdir(), 'opentrail-read-logs-'));
      const root = join(dataDir, 'buckets', bucket);
      for (const [from, key] of [
        [REAL_GZIPPED, gzKey],
        [REAL_PLAIN, plainKey],
      ] as const) {
        const to = join(root, ...key.split('/'));
        await mkdir(join(to, '..'), { recursive: true });
        await copyFile(from, to);
      }
      store = createObjectStore({ dataDir });
      await store.putObject({ bucket, key: corruptKey, body: gzipSync('{"Records":[{"eventName":') });
      await store.putObject({ bucket, key: digestKey, body: gzipSync('{"logFiles":[]}') });
    });

    after(async () => {
      store.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('reads a real gzipped delivered file and a real uncompressed one, and reports the corrupt one by key', async () => {
      const errors: [string, string][] = [];
      const seen: string[] = [];
      const files = await readAll(store, bucket, '', {
        onError: (key, reason) => errors.push([key, reason]),
        onFile: (key) => seen.push(key),
      });
      const gz = JSON.parse(gunzipSync(await readFile(REAL_GZIPPED)).toString()).Records;
      const plain = JSON.parse(await readFile(REAL_PLAIN, 'utf8')).Records;
      assert.deepEqual(
        files.map((f) => [f.key, f.records.length]),
        [
          [gzKey, gz.length],
          [plainKey, plain.length],
        ],
      );
      assert.deepEqual(files[0]?.records, gz);
      assert.deepEqual(files[1]?.records, plain);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.[0], corruptKey);
      assert.match(errors[0]?.[1] ?? '', /^not JSON/);
      assert.deepEqual(seen, [gzKey, corruptKey, plainKey], 'digests are not log files');
    });

    it('throws for a corrupt file when no onError is given, rather than skipping it', async () => {
      await assert.rejects(readAll(store, bucket, 'AWSLogs/'), { name: 'LogFileReadError', key: corruptKey });
    });

    it('opentrail read-logs prints the readable records and names the corrupt file, exit 1', async () => {
      const r = await opentrail(['read-logs', `s3://${bucket}/AWSLogs/`, '--data-dir', dataDir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`s3://${bucket}/${corruptKey}: not JSON`));
      const gz = JSON.parse(gunzipSync(await readFile(REAL_GZIPPED)).toString()).Records;
      assert.deepEqual(
        r.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
        gz,
      );
    });
  });

  it('opentrail read-logs writes the records it can, and names one nested deeper than it can write', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-read-logs-deep-'));
    try {
      const store = createObjectStore({ dataDir });
      const key =
        'AWSLogs/111111111111/CloudTrail/us-east-1/2026/01/01/111111111111_CloudTrail_us-east-1_20260101T0000Z_DeepDeepDeepDeep.json';
      // Written as text: JSON.parse reads 20,000 levels, JSON.stringify cannot write them back.
      const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
      const body = `{"Records":[{"eventName":"Shallow"},{"eventName":"Deep","requestParameters":${deep}}]}`;
      await store.createBucket('deep');
      await store.putObject({ bucket: 'deep', key, body: Buffer.from(body) });
      store.close();
      const r = await opentrail(['read-logs', 's3://deep', '--data-dir', dataDir]);
      assert.equal(r.code, 1);
      assert.deepEqual(JSON.parse(r.stdout), { eventName: 'Shallow' });
      assert.match(r.stderr, new RegExp(`s3://deep/${key}: Records\\[1\\] is nested too deeply to write`));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('opentrail read-logs ends quietly, exit 0, when its reader closes the pipe early (| head)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-read-logs-pipe-'));
    try {
      // Copies of a real file, at test time into a temporary bucket: far more output than a pipe holds.
      const folder = join(dataDir, 'buckets', 'many', 'exported');
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < 60; i++) {
        await copyFile(
          REAL_PLAIN,
          join(
            folder,
            `218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6U${String(i).padStart(2, '0')}.json`,
          ),
        );
      }
      const child = spawn(process.execPath, ['bin/opentrail.js', 'read-logs', 's3://many', '--data-dir', dataDir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      await once(child.stdout, 'data');
      child.stdout.destroy();
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('opentrail read-logs reads the same files from an S3 endpoint', async () => {
    const s3 = moto.s3();
    const bucket = 'real-logs-on-s3';
    const gzKey =
      'AWSLogs/111111111111/CloudTrail/eu-central-1/2017/12/11/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz';
    const plainKey =
      'AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json';
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: gzKey, Body: await readFile(REAL_GZIPPED) }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: plainKey, Body: await readFile(REAL_PLAIN) }));
      const r = await opentrail(['read-logs', `s3://${bucket}/AWSLogs/`, '--s3-endpoint', moto.endpoint()], {
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      });
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      const gz = JSON.parse(gunzipSync(await readFile(REAL_GZIPPED)).toString()).Records;
      const plain = JSON.parse(await readFile(REAL_PLAIN, 'utf8')).Records;
      assert.deepEqual(
        r.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
        [...gz, ...plain],
      );
    } finally {
      s3.destroy();
    }
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import {
  createRecorder,
  type Recorder,
  type RecorderError,
  type RecorderOptions,
  RecordsDroppedError,
} from '../../packages/recorder/src/index.ts';
import { withServer } from '../helpers/server.ts';
import { deadPort, eventually, makeNodeHttpApp, ORDERS_OPERATIONS } from './orders-apps.ts';

/**
 * The spool is bounded by bytes: when it is full the oldest records make room for new ones, and every
 * record dropped is counted and reported. What it kept is delivered once opentrail can be reached.
 */

const MAX_SPOOL_BYTES = 16 * 1024;

/**
 * Records 100 events with opentrail unreachable and a spool that holds about 37 of them: 5 first, whose
 * batch fails once (then a long backoff, so no batch is on the wire while the spool fills), then 95 more,
 * in steps of 5 that the spool writes before the next (`spaced`) or in one burst. Closes the recorder and
 * returns what the spool kept.
 */
async function fillSpool(spaced: boolean) {
  const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  const eventSource = `bound-${randomUUID().slice(0, 8)}.example.com`;
  const ids: string[] = [];
  const errors: RecorderError[] = [];
  const options = (endpoint: string): RecorderOptions => ({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAUNUSED', secretAccessKey: 'unused' },
    eventSource,
    operations: {},
    spoolDir,
    maxBatchRecords: 5,
    maxBatchBytes: 4096,
    maxSpoolBytes: MAX_SPOOL_BYTES,
    retryBaseDelayMs: 60_000,
    newEventId: () => {
      const id = randomUUID();
      ids.push(id);
      return id;
    },
    onError: (e) => errors.push(e),
  });
  const down = createRecorder(options(`http://127.0.0.1:${await deadPort()}`));
  const record = (i: number) => down.record({ eventName: 'ExportReport', requestParameters: { report: i } });
  for (let i = 0; i < 5; i++) record(i);
  await eventually('the first batch to fail', () => errors.some((e) => e.name === 'DeliveryError'));
  for (let i = 5; i < 100; i++) {
    record(i);
    if (spaced && i % 5 === 4) await eventually('the records written', () => writtenRecords(spoolDir, i + 1, down));
  }
  // close() writes what is pending, tries opentrail once more and leaves the records in the spool.
  await down.close();
  const files = (await readdir(spoolDir)).filter((f) => f.endsWith('.ndjson')).sort();
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(spoolDir, f))).size));
  const kept = (await Promise.all(files.map((f) => readFile(join(spoolDir, f), 'utf8'))))
    .flatMap((text) => text.split('\n').filter((l) => l !== ''))
    .map((line) => JSON.parse(line).eventID as string);
  const drops = errors.filter((e): e is RecordsDroppedError => e instanceof RecordsDroppedError);
  return {
    spoolDir,
    eventSource,
    ids,
    kept,
    drops,
    stats: down.stats(),
    bytesOnDisk: sizes.reduce((a, b) => a + b, 0),
    options,
  };
}

/** Whether the spool has taken the first `n` records (kept or dropped) and its files hold what it says. */
async function writtenRecords(spoolDir: string, n: number, recorder: Recorder): Promise<boolean> {
  const { spooledRecords, dropped, spooledBytes } = recorder.stats();
  const files = (await readdir(spoolDir)).filter((f) => f.endsWith('.ndjson'));
  // A file listed may be gone by the time it is looked at: not settled yet.
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(spoolDir, f)).catch(() => undefined))?.size));
  const bytes = sizes.reduce<number>((a, b) => a + (b ?? Number.NaN), 0);
  return spooledRecords + dropped === n && bytes === spooledBytes;
}

function assertNewestKept(result: Awaited<ReturnType<typeof fillSpool>>) {
  const { ids, kept, drops, stats, bytesOnDisk } = result;
  assert.ok(stats.dropped > 0, 'records were dropped');
  assert.ok(stats.spooledBytes <= MAX_SPOOL_BYTES, `${stats.spooledBytes} bytes in the spool`);
  assert.equal(bytesOnDisk, stats.spooledBytes);
  assert.equal(stats.spooledRecords, kept.length);
  assert.deepEqual(kept, ids.slice(100 - kept.length), 'the newest records are kept, in order');
  assert.equal(stats.dropped, 100 - kept.length);
  assert.ok(drops.every((e) => e.reason === 'spool-full'));
  assert.equal(
    drops.reduce((n, e) => n + e.count, 0),
    stats.dropped,
    'every dropped record is reported',
  );
}

test('a full spool drops its oldest records, counts and reports them, and delivers the rest later', async () => {
  const result = await fillSpool(true);
  try {
    assertNewestKept(result);
    assert.ok(
      result.drops.some((e) => /reached its bound of 16384 bytes/.test(e.message)),
      'records written to disk were dropped',
    );
    await withServer(async (world) => {
      const up = createRecorder({ ...result.options(world.url), credentials: world.adminCredentials });
      assert.equal(await up.flush(), true);
      await up.close();
      assert.equal(up.stats().delivered, result.kept.length);
      await world.historyCaughtUp();
      const stored: string[] = [];
      const pages = paginateLookupEvents(
        { client: world.cloudtrail() },
        { LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: result.eventSource }] },
      );
      for await (const page of pages) for (const e of page.Events ?? []) stored.push(e.EventId as string);
      assert.deepEqual(stored.sort(), [...result.kept].sort());
    });
  } finally {
    await rm(result.spoolDir, { recursive: true, force: true });
  }
});

test('a burst larger than the spool keeps its newest records too', async () => {
  const result = await fillSpool(false);
  try {
    assertNewestKept(result);
  } finally {
    await rm(result.spoolDir, { recursive: true, force: true });
  }
});

test('a second live recorder on the same spool directory is refused, and says so', async () => {
  const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  const errors: RecorderError[] = [];
  const options: RecorderOptions = {
    endpoint: `http://127.0.0.1:${await deadPort()}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAUNUSED', secretAccessKey: 'unused' },
    eventSource: 'locks.example.com',
    operations: {},
    spoolDir,
    onError: (e) => errors.push(e),
  };
  try {
    // A lock left by a live process that is not this one: the test runner's parent.
    await writeFile(join(spoolDir, 'spool.lock'), `${process.ppid}\n`);
    const recorder = createRecorder(options);
    recorder.record({ eventName: 'Nothing' });
    await eventually('the record to be dropped', () => recorder.stats().dropped === 1);
    await recorder.close();
    assert.deepEqual(
      errors.map((e) => e.name),
      ['SpoolError', 'RecordsDroppedError'],
    );
    assert.match(errors[0]?.message ?? '', new RegExp(`in use by process ${process.ppid}`));
    assert.equal(await readFile(join(spoolDir, 'spool.lock'), 'utf8'), `${process.ppid}\n`, 'the lock is not taken');
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
});

test('an unusable spool directory is reported and its records counted as dropped; the app answers as before', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  const notADirectory = join(parent, 'file');
  await writeFile(notADirectory, 'not a directory');
  const errors: RecorderError[] = [];
  const recorder = createRecorder({
    endpoint: `http://127.0.0.1:${await deadPort()}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAUNUSED', secretAccessKey: 'unused' },
    eventSource: 'broken.example.com',
    operations: ORDERS_OPERATIONS,
    spoolDir: join(notADirectory, 'spool'),
    onError: (e) => errors.push(e),
  });
  const app = await makeNodeHttpApp(recorder);
  try {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${app.url}/orders`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 201);
    }
    await eventually('the records to be dropped', () => recorder.stats().dropped === 3);
  } finally {
    await app.close();
    await recorder.close();
    await rm(parent, { recursive: true, force: true });
  }
  assert.equal(errors[0]?.name, 'SpoolError');
  assert.match(errors[0]?.message ?? '', /cannot be used: ENOTDIR/);
  const drops = errors.filter((e): e is RecordsDroppedError => e instanceof RecordsDroppedError);
  assert.ok(drops.every((e) => e.reason === 'spool-unavailable'));
  assert.equal(
    drops.reduce((n, e) => n + e.count, 0),
    3,
  );
});

test('a spool file torn by a crash is delivered up to its last whole record, and the torn one is counted', async () => {
  const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  const eventSource = `torn-${randomUUID().slice(0, 8)}.example.com`;
  const record = (eventID: string) =>
    JSON.stringify({
      eventVersion: '1.11',
      userIdentity: { type: 'Unknown' },
      eventTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      eventSource,
      eventName: 'Crash',
      awsRegion: 'us-east-1',
      requestParameters: null,
      responseElements: null,
      eventID,
    });
  const [a, b] = [randomUUID(), randomUUID()];
  // What a process killed in the middle of a write leaves: whole lines, then part of one.
  await writeFile(join(spoolDir, '0000000000000007.ndjson'), `${record(a)}\n${record(b)}\n${record('c').slice(0, 40)}`);
  await writeFile(join(spoolDir, 'spool.lock'), '999999999\n');
  const errors: RecorderError[] = [];
  try {
    await withServer(async (world) => {
      const recorder = createRecorder({
        endpoint: world.url,
        region: 'us-east-1',
        credentials: world.adminCredentials,
        eventSource,
        operations: {},
        spoolDir,
        onError: (e) => errors.push(e),
      });
      assert.equal(await recorder.flush(), true);
      await recorder.close();
      assert.deepEqual(recorder.stats(), {
        recorded: 0,
        delivered: 2,
        rejected: 0,
        dropped: 1,
        spooledRecords: 0,
        spooledBytes: 0,
      });
      assert.deepEqual(
        errors.map((e) => [e.name, (e as RecordsDroppedError).reason]),
        [['RecordsDroppedError', 'spool-damaged']],
      );
      assert.deepEqual(await readdir(spoolDir), [], 'the stale lock of a dead process was taken over and given back');
      await world.historyCaughtUp();
      const stored: string[] = [];
      const pages = paginateLookupEvents(
        { client: world.cloudtrail() },
        { LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: eventSource }] },
      );
      for await (const page of pages) for (const e of page.Events ?? []) stored.push(e.EventId as string);
      assert.deepEqual(stored.sort(), [a, b].sort());
    });
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
});

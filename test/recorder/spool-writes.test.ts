import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import { createRecorder, type RecorderError } from '../../packages/recorder/src/index.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { withServer } from '../helpers/server.ts';
import { deadPort, eventually } from './orders-apps.ts';

/**
 * Records reach the spool's files in groups: `writeDelayMs` after the first of them, or at once when they
 * fill a batch. What was written survives the host process dying, SIGKILL included, and is sent by the next
 * start; a host that ends on its own without close() still writes its last records first.
 */

const RECORDER = new URL('../../packages/recorder/src/index.ts', import.meta.url).href;
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

async function spooledLines(spoolDir: string): Promise<string[]> {
  const files = (await readdir(spoolDir)).filter((f) => f.endsWith('.ndjson')).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(spoolDir, f), 'utf8')));
  return texts.flatMap((text) => text.split('\n').filter((line) => line !== ''));
}

/** Runs a host process that records `count` events into the spool, then does what `end` says. */
async function runHost(spoolDir: string, count: number, end: 'exit on its own' | 'SIGKILL once written') {
  const script = join(spoolDir, '..', `host-${randomUUID()}.mts`);
  await writeFile(
    script,
    `import { createRecorder } from ${JSON.stringify(RECORDER)};
const recorder = createRecorder({
  endpoint: 'http://127.0.0.1:${await deadPort()}',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIAUNUSED', secretAccessKey: 'unused' },
  eventSource: 'crash.example.com',
  operations: {},
  spoolDir: ${JSON.stringify(spoolDir)},
  writeDelayMs: 20,
  onError: () => {},
});
for (let i = 0; i < ${count}; i++) recorder.record({ eventName: 'Crash', requestParameters: { i } });
${end === 'SIGKILL once written' ? "setTimeout(() => process.kill(process.pid, 'SIGKILL'), 500);" : ''}
`,
  );
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', script]).catch((error: { signal?: string }) => {
      if (error.signal !== 'SIGKILL') throw error;
    });
  } finally {
    await rm(script, { force: true });
  }
}

test('records are written together writeDelayMs after the first of them, or at once when they fill a batch', async () => {
  const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  const clock = new ManualClock(Date.now());
  const recorder = createRecorder({
    endpoint: `http://127.0.0.1:${await deadPort()}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAUNUSED', secretAccessKey: 'unused' },
    eventSource: 'writes.example.com',
    operations: {},
    spoolDir,
    maxBatchRecords: 5,
    flushIntervalMs: 60_000,
    writeDelayMs: 20,
    clock,
  });
  try {
    recorder.record({ eventName: 'First' });
    await clock.advance(10);
    recorder.record({ eventName: 'Second' });
    await settle();
    assert.deepEqual(await spooledLines(spoolDir), [], 'nothing is written before writeDelayMs');
    assert.equal(recorder.stats().spooledRecords, 2, 'records waiting to be written are counted');
    await clock.advance(9);
    await settle();
    assert.deepEqual(await spooledLines(spoolDir), []);
    await clock.advance(1);
    await eventually('both records written in one go', async () => (await spooledLines(spoolDir)).length === 2);
    assert.equal(recorder.stats().spooledBytes, (await spooledLines(spoolDir)).join('\n').length + 1);

    for (let i = 0; i < 5; i++) recorder.record({ eventName: 'Burst' });
    await eventually('a full batch written without waiting', async () => (await spooledLines(spoolDir)).length === 7);
    assert.deepEqual(
      (await spooledLines(spoolDir)).map((line) => JSON.parse(line).eventName),
      ['First', 'Second', 'Burst', 'Burst', 'Burst', 'Burst', 'Burst'],
    );
  } finally {
    await recorder.close();
    await rm(spoolDir, { recursive: true, force: true });
  }
});

test('a host that ends on its own without close() has written its last records to the spool', async () => {
  const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  try {
    await runHost(spoolDir, 3, 'exit on its own');
    assert.deepEqual(
      (await spooledLines(spoolDir)).map((line) => JSON.parse(line).requestParameters.i),
      [0, 1, 2],
    );
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
});

test('records a killed host had written are sent by the next start, with the same eventIDs', async () => {
  const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  try {
    await runHost(spoolDir, 50, 'SIGKILL once written');
    const left = (await spooledLines(spoolDir)).map((line) => JSON.parse(line).eventID as string);
    assert.equal(left.length, 50, 'every record older than writeDelayMs was in the spool when the host died');
    const errors: RecorderError[] = [];
    await withServer(async (world) => {
      const recorder = createRecorder({
        endpoint: world.url,
        region: 'us-east-1',
        credentials: world.adminCredentials,
        eventSource: 'crash.example.com',
        operations: {},
        spoolDir,
        onError: (e) => errors.push(e),
      });
      assert.equal(await recorder.flush(), true);
      await recorder.close();
      assert.equal(recorder.stats().delivered, 50);
      await world.historyCaughtUp();
      const stored: string[] = [];
      const pages = paginateLookupEvents(
        { client: world.cloudtrail() },
        { LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'crash.example.com' }] },
      );
      for await (const page of pages) for (const e of page.Events ?? []) stored.push(e.EventId as string);
      assert.deepEqual(stored.sort(), [...left].sort());
    });
    assert.deepEqual(errors, []);
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
});

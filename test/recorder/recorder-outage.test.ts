import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CloudTrailClient, paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import { createRecorder, type Recorder, type RecorderError } from '../../packages/recorder/src/index.ts';
import {
  type ChildServer,
  FIXED_ADMIN_CREDENTIALS,
  startChildServer,
  waitForConsumers,
} from '../helpers/child-server.ts';
import { deadPort, eventually, makeNodeHttpApp, ORDERS_OPERATIONS } from './orders-apps.ts';

/**
 * opentrail down: the host app answers as fast as ever, its records wait in the spool on disk, and once
 * opentrail is back (a new process on the same data directory and port) every one of them is delivered
 * exactly once. A recorder started over a spool an earlier run left sends what it holds.
 */

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** The eventIDs in the spool's files, in order. */
async function spooledEventIds(spoolDir: string): Promise<string[]> {
  const files = (await readdir(spoolDir)).filter((f) => f.endsWith('.ndjson')).sort();
  const ids: string[] = [];
  for (const f of files) {
    const text = await readFile(join(spoolDir, f), 'utf8');
    for (const line of text.split('\n').filter((l) => l !== '')) ids.push(JSON.parse(line).eventID as string);
  }
  return ids;
}

async function storedEventIds(url: string, eventSource: string): Promise<string[]> {
  const client = new CloudTrailClient({ endpoint: url, region: 'us-east-1', credentials: FIXED_ADMIN_CREDENTIALS });
  const ids: string[] = [];
  const pages = paginateLookupEvents(
    { client },
    { LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: eventSource }] },
  );
  for await (const page of pages) for (const e of page.Events ?? []) ids.push(e.EventId as string);
  client.destroy();
  return ids;
}

function recorderFor(endpoint: string, spoolDir: string, eventSource: string, ids: string[], errors: RecorderError[]) {
  return createRecorder({
    endpoint,
    region: 'us-east-1',
    credentials: FIXED_ADMIN_CREDENTIALS,
    eventSource,
    operations: ORDERS_OPERATIONS,
    spoolDir,
    maxBatchRecords: 10,
    flushIntervalMs: 50,
    retryBaseDelayMs: 50,
    retryMaxDelayMs: 400,
    requestTimeoutMs: 2_000,
    newEventId: () => {
      const id = randomUUID();
      ids.push(id);
      return id;
    },
    onError: (e) => errors.push(e),
  });
}

/** Sends `n` orders to the app; returns the slowest answer's time in ms. */
async function placeOrders(url: string, n: number): Promise<number> {
  let slowestMs = 0;
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: `item-${i}` }),
    });
    await response.arrayBuffer();
    assert.equal(response.status, 201);
    slowestMs = Math.max(slowestMs, performance.now() - started);
  }
  return slowestMs;
}

test('while opentrail is down the app answers fast and records wait on disk; after its restart each is delivered once', async () => {
  const dataDir = await tempDir('opentrail-data-');
  const spoolDir = await tempDir('recorder-spool-');
  const eventSource = `outage-${randomUUID().slice(0, 8)}.example.com`;
  const ids: string[] = [];
  const errors: RecorderError[] = [];
  let server: ChildServer | undefined = await startChildServer(dataDir);
  const port = new URL(server.url).port;
  const recorder: Recorder = recorderFor(server.url, spoolDir, eventSource, ids, errors);
  const app = await makeNodeHttpApp(recorder);
  try {
    await placeOrders(app.url, 5);
    await eventually('the first orders delivered', () => recorder.stats().delivered === 5);

    await server.kill();
    server = undefined;
    const slowestMs = await placeOrders(app.url, 30);
    assert.ok(slowestMs < 250, `the app answered within ${slowestMs} ms while opentrail was down`);
    await eventually('30 records in the spool files', async () => (await spooledEventIds(spoolDir)).length === 30);
    assert.deepEqual(await spooledEventIds(spoolDir), ids.slice(5), 'the spool holds exactly the undelivered records');
    assert.ok(
      errors.some((e) => e.name === 'DeliveryError'),
      'failed deliveries are reported',
    );
    assert.equal(recorder.stats().delivered, 5);

    server = await startChildServer(dataDir, ['--port', port]);
    await eventually('the spooled records delivered', () => recorder.stats().delivered === 35);
    assert.deepEqual(await spooledEventIds(spoolDir), []);
    await waitForConsumers(server);
    const stored = await storedEventIds(server.url, eventSource);
    assert.equal(stored.length, 35, 'no record lost and none stored twice');
    assert.deepEqual([...stored].sort(), [...ids].sort());
    assert.deepEqual(
      errors.filter((e) => e.name !== 'DeliveryError'),
      [],
    );
  } finally {
    await app.close();
    await recorder.close();
    await server?.stop();
  }
});

test('a recorder sends what an earlier run left in its spool when it starts', async () => {
  const dataDir = await tempDir('opentrail-data-');
  const spoolDir = await tempDir('recorder-spool-');
  const eventSource = `restart-${randomUUID().slice(0, 8)}.example.com`;
  const ids: string[] = [];
  const errors: RecorderError[] = [];

  // The first run never reaches opentrail; close() tries once more and leaves the records in the spool.
  const first = recorderFor(`http://127.0.0.1:${await deadPort()}`, spoolDir, eventSource, ids, errors);
  const app = await makeNodeHttpApp(first);
  await placeOrders(app.url, 12);
  await app.close();
  const started = performance.now();
  await first.close();
  assert.ok(performance.now() - started < 1_000, 'close() does not wait out the backoff');
  assert.equal(first.stats().delivered, 0);
  assert.deepEqual(await spooledEventIds(spoolDir), ids);

  const server = await startChildServer(dataDir);
  const second = recorderFor(server.url, spoolDir, eventSource, [], errors);
  try {
    assert.equal(await second.flush(), true);
    assert.deepEqual(second.stats(), {
      recorded: 0,
      delivered: 12,
      rejected: 0,
      dropped: 0,
      spooledRecords: 0,
      spooledBytes: 0,
    });
    await waitForConsumers(server);
    assert.deepEqual((await storedEventIds(server.url, eventSource)).sort(), [...ids].sort());
  } finally {
    await second.close();
    await server.stop();
  }
});

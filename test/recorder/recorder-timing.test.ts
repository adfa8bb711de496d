import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createRecorder,
  DeliveryError,
  type RecorderError,
  type RecorderOptions,
} from '../../packages/recorder/src/index.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { withServer } from '../helpers/server.ts';
import { deadPort, eventually } from './orders-apps.ts';

/**
 * Time is the recorder's `clock` option: a batch goes when it is full or `flushIntervalMs` after its first
 * record, and a failed batch is retried after a backoff that doubles, with jitter from `random`.
 */

async function withSpool<T>(fn: (spoolDir: string) => Promise<T>): Promise<T> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
  try {
    return await fn(spoolDir);
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

test('a batch is sent when it is full, or flushIntervalMs after its first record', async () => {
  await withServer(async (world) => {
    await withSpool(async (spoolDir) => {
      // Signed requests carry the clock's time, which opentrail checks: start it at the real time.
      const clock = new ManualClock(Date.now());
      const recorder = createRecorder({
        endpoint: world.url,
        region: 'us-east-1',
        credentials: world.adminCredentials,
        eventSource: 'timing.example.com',
        operations: {},
        spoolDir,
        maxBatchRecords: 3,
        flushIntervalMs: 1_000,
        clock,
      });
      try {
        for (let i = 0; i < 4; i++) recorder.record({ eventName: 'Tick' });
        await eventually('the full batch delivered', () => recorder.stats().delivered === 3);
        await settle();
        assert.equal(recorder.stats().delivered, 3, 'the fourth record waits for its batch to fill or age');
        await clock.advance(999);
        await settle();
        assert.equal(recorder.stats().delivered, 3);
        await clock.advance(1);
        await eventually('the aged batch delivered', () => recorder.stats().delivered === 4);
      } finally {
        await recorder.close();
      }
    });
  });
});

test('a failed batch is retried after a doubling backoff with jitter, and each failure is reported', async () => {
  await withSpool(async (spoolDir) => {
    const clock = new ManualClock(Date.now());
    const errors: RecorderError[] = [];
    const options: RecorderOptions = {
      endpoint: `http://127.0.0.1:${await deadPort()}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAUNUSED', secretAccessKey: 'unused' },
      eventSource: 'timing.example.com',
      operations: {},
      spoolDir,
      maxBatchRecords: 1,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 1_000,
      clock,
      random: () => 0.5,
      onError: (e) => errors.push(e),
    };
    const recorder = createRecorder(options);
    const failures = () => errors.filter((e): e is DeliveryError => e instanceof DeliveryError);
    try {
      recorder.record({ eventName: 'Tick' });
      await eventually('the first failure', () => failures().length === 1);
      // Each wait is three quarters of its step (random() = 0.5): steps of 200, 400, 800, then the cap of 1,000.
      for (const [attempt, waitMs] of [
        [2, 150],
        [3, 300],
        [4, 600],
        [5, 750],
        [6, 750],
      ] as const) {
        await clock.advance(waitMs - 1);
        await settle();
        assert.equal(failures().length, attempt - 1, `attempt ${attempt} waits ${waitMs} ms`);
        await clock.advance(1);
        await eventually(`attempt ${attempt}`, () => failures().length === attempt);
      }
      assert.deepEqual(
        failures().map((e) => [e.attempt, e.retryInMs, e.records, e.status]),
        [
          [1, 150, 1, undefined],
          [2, 300, 1, undefined],
          [3, 600, 1, undefined],
          [4, 750, 1, undefined],
          [5, 750, 1, undefined],
          [6, 750, 1, undefined],
        ],
      );
      assert.match(failures()[0]?.message ?? '', /ECONNREFUSED/);
      assert.equal(recorder.stats().spooledRecords, 1);
    } finally {
      await recorder.close();
    }
  });
});

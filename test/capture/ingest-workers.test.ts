import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import type { JsonApiError } from '../../src/client/json-api-client.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';

/**
 * The pool of ingest worker threads behind PutRecords: a worker that dies costs only the batches it held
 * (answered with a retryable error, never a hang or a 500) and is replaced, and a closed server leaves no
 * worker thread behind, not even one started to replace a dead one.
 */

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const record = (eventID = randomUUID()) => ({
  eventVersion: '1.09',
  userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE0000000001', userName: 'dana' },
  eventTime: iso(Date.now() - 3600 * 1000),
  eventSource: 'ec2.amazonaws.com',
  eventName: 'DescribeInstances',
  awsRegion: 'us-east-1',
  eventID,
  // ~1 KB of parameters, so that checking 10,000 of them keeps a worker busy for a while.
  requestParameters: { filterSet: { items: Array.from({ length: 20 }, (_, i) => ({ name: `tag:k${i}`, v: 'x' })) } },
});

const put = (world: TestWorld, Records: unknown[]) =>
  world.ingestApi().call<{ Successful: unknown[]; Failed: unknown[] }>('PutRecords', { Records });

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await sleep(1);
  }
}

/** Kills the worker thread the moment a batch is in its hands. */
async function killWorkerMidBatch(world: TestWorld): Promise<Worker> {
  const checkers = world.app.services.ingestCheckers;
  await until(() => checkers.pendingJobs > 0, 'the batch reaches the worker');
  const [worker] = checkers.threads;
  assert.ok(worker);
  await worker.terminate();
  return worker;
}

describe('ingest worker pool', () => {
  test('answers a batch whose worker dies mid-check with ServiceUnavailableException, and replaces the worker', async () => {
    const { world, stop } = await startTestServer({ argv: ['--ingest-workers', '1'] });
    try {
      const checkers = world.app.services.ingestCheckers;
      const ids = Array.from({ length: 10_000 }, () => randomUUID());
      const call = put(
        world,
        ids.map((id) => record(id)),
      );
      const [killed] = await Promise.all([killWorkerMidBatch(world), call.catch(() => undefined)]);
      await assert.rejects(call, (error: JsonApiError) => {
        assert.equal(error.status, 503);
        assert.equal(error.type, 'ServiceUnavailableException');
        assert.match(error.message, /stopped before answering; nothing was stored\. Retry the call\./);
        return true;
      });
      await until(() => checkers.threads.length === 1, 'a replacement worker runs');
      const replacement = checkers.threads[0] as Worker;
      assert.notEqual(replacement, killed);
      assert.equal(killed.threadId, -1, 'the killed thread is gone');
      // The retried call is checked by the replacement.
      const answer = await put(world, [record(ids[0])]);
      assert.deepEqual(answer.Failed, []);
      assert.equal(answer.Successful.length, 1);
      assert.equal(checkers.pendingJobs, 0);
    } finally {
      await stop();
    }
  });

  test('starts no replacement once closed, even for a worker that died just before', async () => {
    const { world, stop } = await startTestServer({ argv: ['--ingest-workers', '2'] });
    const checkers = world.app.services.ingestCheckers;
    const original = [...checkers.threads];
    assert.equal(original.length, 2);
    // A batch big enough to be seen in a worker's hands: a single record can be checked between two polls.
    const call = put(
      world,
      Array.from({ length: 10_000 }, () => record()),
    ).then(
      () => 'answered',
      (error: JsonApiError) => error.type,
    );
    await until(() => checkers.pendingJobs > 0, 'the batch reaches a worker');
    // Both die; their replacements are starting when the server closes.
    await Promise.all(original.map((w) => w.terminate()));
    await stop();
    assert.ok(['answered', 'ServiceUnavailableException'].includes(await call), 'the call was answered');
    assert.deepEqual(checkers.threads, []);
    // A replacement that slipped past close() would show up here once started (~0.1 s).
    await sleep(1_000);
    assert.deepEqual(checkers.threads, []);
    assert.deepEqual(
      process.getActiveResourcesInfo().filter((r) => r === 'MessagePort'),
      [],
      'no worker thread outlives the server',
    );
  });

  test('answers a job whose check throws, with the worker still serving', async () => {
    const { world, stop } = await startTestServer({ argv: ['--ingest-workers', '1'] });
    try {
      const checkers = world.app.services.ingestCheckers;
      const [worker] = checkers.threads;
      // No HTTP body reaches the batch-level code in a shape it throws on, so a non-buffer stands in for one.
      const result = await checkers.check(42 as unknown as Buffer, world.app.admin.accountId);
      assert.equal(result.kind, 'rejected');
      assert.equal(result.kind === 'rejected' && result.error, 'SerializationException');
      assert.match(result.kind === 'rejected' ? result.message : '', /could not be checked.*nothing was stored/);
      assert.deepEqual(checkers.threads, [worker]);
      assert.deepEqual((await put(world, [record()])).Failed, []);
    } finally {
      await stop();
    }
  });
});

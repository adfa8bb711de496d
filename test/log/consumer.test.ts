import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ConsumerHandler, ConsumerRunner, ConsumerStoppedError } from '../../src/log/consumer.ts';
import { EventLog } from '../../src/log/event-log.ts';
import type { LogEntry } from '../../src/log/frame.ts';

class MemoryHandler implements ConsumerHandler {
  readonly name = 'memory';
  readonly applied: number[] = [];
  failNext = 0;

  async loadCursor(): Promise<number> {
    return this.applied.at(-1) ?? 0;
  }

  async apply(entries: LogEntry[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('the store is down');
    }
    this.applied.push(...entries.map((e) => e.seq));
  }
}

async function withLog(fn: (log: EventLog) => Promise<void>, segmentBytes = 64 * 1024 * 1024): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'opentrail-consumer-'));
  const log = await EventLog.open(dir, { segmentBytes });
  try {
    await fn(log);
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('consumer runner', () => {
  it('applies every record once, in order, across many dropped segments', async () => {
    await withLog(async (log) => {
      const handler = new MemoryHandler();
      // Awaited before the log's folder is removed: a drop still running then would fail on a missing folder.
      const drops: Promise<number>[] = [];
      const runner = new ConsumerRunner(log, handler, {
        lingerMs: 5,
        onAdvance: (_name, cursor) => void drops.push(log.truncateBefore(cursor + 1)),
      });
      await runner.start();
      for (let i = 0; i < 300; i++) {
        await log.append([Buffer.from(`record ${i} `.padEnd(80, '.'))]);
        if (i % 7 === 0) await runner.caughtUp(log.committedSeq);
      }
      await runner.caughtUp(log.committedSeq);
      await runner.stop();
      await Promise.all(drops);
      assert.deepEqual(
        handler.applied,
        Array.from({ length: 300 }, (_, i) => i + 1),
      );
      assert.ok(log.firstSeq > 250, 'consumed segments were dropped');
    }, 200);
  });

  it('retries a failed batch from its cursor without skipping or repeating records', async () => {
    await withLog(async (log) => {
      const handler = new MemoryHandler();
      const errors: unknown[] = [];
      const runner = new ConsumerRunner(log, handler, { onError: (_n, e) => errors.push(e) });
      await runner.start();
      handler.failNext = 2;
      await log.append([Buffer.from('a'), Buffer.from('b')]);
      await runner.caughtUp(2);
      await log.append([Buffer.from('c')]);
      await runner.caughtUp(3);
      await runner.stop();
      assert.deepEqual(handler.applied, [1, 2, 3]);
      assert.equal(errors.length, 2);
    });
  });

  it('lingers for records until lingerEntries are waiting, then applies them in one batch', async () => {
    await withLog(async (log) => {
      const batches: number[][] = [];
      const handler = new MemoryHandler();
      const apply = handler.apply.bind(handler);
      handler.apply = async (entries) => {
        batches.push(entries.map((e) => e.seq));
        await apply(entries);
      };
      const runner = new ConsumerRunner(log, handler, { lingerMs: 10_000, lingerEntries: 3 });
      await runner.start();
      const started = Date.now();
      await log.append([Buffer.from('a')]);
      await log.append([Buffer.from('b'), Buffer.from('c')]);
      await runner.caughtUp(3);
      assert.ok(Date.now() - started < 5_000, 'three waiting records end the linger of ten seconds');
      assert.deepEqual(batches, [[1, 2, 3]]);
      await runner.stop();
    });
  });

  it('stops promptly while waiting for records', async () => {
    await withLog(async (log) => {
      const runner = new ConsumerRunner(log, new MemoryHandler(), { lingerMs: 10_000 });
      await runner.start();
      const started = Date.now();
      await runner.stop();
      assert.ok(Date.now() - started < 1000);
    });
  });
});

/** A backoff that records its delays and yields one turn of the event loop instead of waiting them out. */
function recordingSleep(delays: number[]): (ms: number) => Promise<void> {
  return async (ms) => {
    delays.push(ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('consumer runner when it stops', () => {
  it('rejects a caller waiting for caughtUp when the runner stops, instead of leaving it hanging', {
    timeout: 5_000,
  }, async () => {
    await withLog(async (log) => {
      const runner = new ConsumerRunner(log, new MemoryHandler());
      await runner.start();
      const waiting = runner.caughtUp(5);
      await runner.stop();
      await assert.rejects(waiting, ConsumerStoppedError);
      await assert.rejects(runner.caughtUp(5), { name: 'ConsumerStoppedError' }, 'a later caller is told at once');
      await runner.caughtUp(0);
    });
  });

  it('rejects waiters when the log closes under the runner', { timeout: 5_000 }, async () => {
    await withLog(async (log) => {
      const runner = new ConsumerRunner(log, new MemoryHandler());
      await runner.start();
      await log.append([Buffer.from('a')]);
      await runner.caughtUp(1);
      const waiting = assert.rejects(runner.caughtUp(2), ConsumerStoppedError);
      await log.close();
      await waiting;
      await runner.stop();
    });
  });

  it('reports and retries a batch whose reader cannot be made rather than letting the error escape', {
    timeout: 5_000,
  }, async () => {
    await withLog(async (log) => {
      for (let i = 0; i < 12; i++) await log.append([Buffer.from(`record ${i}`.padEnd(60, '.'))]);
      const errors: unknown[] = [];
      const delays: number[] = [];
      const handler = new MemoryHandler();
      handler.apply = async () => {
        // While this batch fails, the segments it was reading are dropped under it.
        await log.truncateBefore(log.committedSeq);
        throw new Error('the store is down');
      };
      const runner = new ConsumerRunner(log, handler, {
        onError: (_n, e) => errors.push(e),
        sleep: recordingSleep(delays),
      });
      await runner.start();
      await until(() => errors.length >= 3);
      await runner.stop();
      assert.equal((errors[0] as Error).message, 'the store is down');
      assert.ok(errors[1] instanceof RangeError, `a reader that cannot be made is reported: ${errors[1]}`);
      assert.match((errors[1] as Error).message, /records before \d+ were dropped; cannot read from 1/);
      assert.deepEqual(delays.slice(0, 3), [50, 100, 200], 'each retry waits longer');
      assert.deepEqual(handler.applied, [], 'nothing was skipped over');
    }, 200);
  });
});

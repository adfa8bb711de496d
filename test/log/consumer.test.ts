import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ConsumerHandler, ConsumerRunner } from '../../src/log/consumer.ts';
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
      const runner = new ConsumerRunner(log, handler, {
        lingerMs: 5,
        onAdvance: (_name, cursor) => void log.truncateBefore(cursor + 1),
      });
      await runner.start();
      for (let i = 0; i < 300; i++) {
        await log.append([Buffer.from(`record ${i} `.padEnd(80, '.'))]);
        if (i % 7 === 0) await runner.caughtUp(log.committedSeq);
      }
      await runner.caughtUp(log.committedSeq);
      await runner.stop();
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

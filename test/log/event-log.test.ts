import assert from 'node:assert/strict';
import { appendFile, type FileHandle, open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EventLog } from '../../src/log/event-log.ts';
import { encodeFrames, FRAME_HEADER_BYTES } from '../../src/log/frame.ts';
import { writeFully } from '../../src/log/write-fully.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

const withLogDir = (fn: (dir: string) => Promise<void>) => withTempDir('log', fn);

const payload = (s: string) => Buffer.from(s);

async function readAll(log: EventLog, from = 1): Promise<string[]> {
  const reader = log.reader(from);
  const out: string[] = [];
  for (;;) {
    const batch = await reader.read(1000);
    if (batch.length === 0) return out;
    out.push(...batch.map((e) => e.payload.toString()));
  }
}

describe('event log', () => {
  it('numbers records from 1 and reads back what was appended', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir);
      assert.deepEqual(await log.append([payload('a'), payload('b')]), { firstSeq: 1, lastSeq: 2 });
      assert.deepEqual(await log.append([payload('c')]), { firstSeq: 3, lastSeq: 3 });
      assert.equal(log.committedSeq, 3);
      assert.deepEqual(await readAll(log), ['a', 'b', 'c']);
      assert.deepEqual(await readAll(log, 2), ['b', 'c']);
      await log.close();
    });
  });

  it('gives concurrent batches contiguous, non-overlapping ranges', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => log.append(Array.from({ length: 10 }, (_, j) => payload(`${i}:${j}`)))),
      );
      const ranges = results.map((r) => [r.firstSeq, r.lastSeq] as const).sort((a, b) => a[0] - b[0]);
      let expected = 1;
      for (const [first, last] of ranges) {
        assert.equal(first, expected);
        assert.equal(last, first + 9);
        expected = last + 1;
      }
      const all = await readAll(log);
      assert.equal(all.length, 500);
      for (const r of results) {
        const batch = all.slice(r.firstSeq - 1, r.lastSeq);
        assert.equal(new Set(batch.map((s) => s.split(':')[0])).size, 1, 'a batch stays together');
      }
      await log.close();
    });
  });

  it('keeps numbering across a reopen', async () => {
    await withLogDir(async (dir) => {
      let log = await EventLog.open(dir);
      await log.append([payload('a'), payload('b')]);
      await log.close();
      log = await EventLog.open(dir);
      assert.equal(log.committedSeq, 2);
      assert.deepEqual(await log.append([payload('c')]), { firstSeq: 3, lastSeq: 3 });
      assert.deepEqual(await readAll(log), ['a', 'b', 'c']);
      await log.close();
    });
  });

  it('cuts a torn tail off the last segment on open', async () => {
    await withLogDir(async (dir) => {
      let log = await EventLog.open(dir);
      await log.append([payload('one'), payload('two')]);
      await log.close();
      const [segment] = await readdir(dir);
      const path = join(dir, segment as string);
      const goodSize = (await stat(path)).size;
      // A frame whose write was interrupted: header present, payload short.
      await appendFile(path, Buffer.from([1, 2, 3, 4, 200, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 42]));
      log = await EventLog.open(dir);
      assert.equal(log.committedSeq, 2);
      assert.equal((await stat(path)).size, goodSize);
      await log.append([payload('three')]);
      assert.deepEqual(await readAll(log), ['one', 'two', 'three']);
      await log.close();
    });
  });

  it('drops a record whose bytes were cut short and never acknowledged', async () => {
    await withLogDir(async (dir) => {
      let log = await EventLog.open(dir);
      await log.append([payload('kept')]);
      await log.append([payload('half-written')]);
      await log.close();
      const [segment] = await readdir(dir);
      const path = join(dir, segment as string);
      await truncate(path, (await stat(path)).size - 3);
      log = await EventLog.open(dir);
      assert.deepEqual(await readAll(log), ['kept']);
      await log.close();
    });
  });

  it('rotates segments, reads across them and drops consumed ones', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir, { segmentBytes: 200 });
      for (let i = 0; i < 30; i++) await log.append([payload(`record-${i}`.padEnd(40, '.'))]);
      const segments = (await readdir(dir)).length;
      assert.ok(segments > 5, `expected several segments, found ${segments}`);
      const all = await readAll(log);
      assert.equal(all.length, 30);
      assert.equal(all[29]?.startsWith('record-29'), true);
      const reader = log.reader(17);
      assert.equal((await reader.read(1))[0]?.payload.toString().startsWith('record-16'), true);
      await log.truncateBefore(20);
      assert.ok(log.firstSeq <= 20 && log.firstSeq > 1);
      assert.ok((await readdir(dir)).length < segments);
      assert.deepEqual((await readAll(log, 20)).length, 11);
      assert.throws(() => log.reader(1), RangeError);
      await log.close();
      const reopened = await EventLog.open(dir, { segmentBytes: 200 });
      assert.equal(reopened.committedSeq, 30);
      await reopened.close();
    });
  });

  it('wakes a waiting consumer when a record is committed', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir);
      let woke = false;
      const waiting = log.waitForCommit(0).then(() => {
        woke = true;
      });
      await new Promise((r) => setImmediate(r));
      assert.equal(woke, false);
      await log.append([payload('x')]);
      await waiting;
      assert.equal(woke, true);
      await log.close();
      await assert.rejects(log.waitForCommit(5), { name: 'LogUnavailableError' });
    });
  });

  it('refuses appends after close', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir);
      await log.close();
      await assert.rejects(log.append([payload('late')]), { name: 'LogUnavailableError' });
    });
  });
});

describe('event log readers and dropped segments', () => {
  it('keeps reading after the segment it finished was dropped', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir, { segmentBytes: 100 });
      const reader = log.reader(1);
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        await log.append([payload(`r${i}`.padEnd(60, '.'))]);
        const batch = await reader.read(100);
        seen.push(...batch.map((e) => e.payload.toString().slice(0, 3).replace(/\.+$/, '')));
        // A consumer past these records lets the log drop their segments before the next read.
        await log.truncateBefore(reader.nextSeq);
      }
      assert.equal(seen.length, 20);
      assert.deepEqual(seen.slice(0, 3), ['r0', 'r1', 'r2']);
      await log.close();
    });
  });
});

/** The test's hold on a segment file: each fdatasync waits for `release`; writes wait too while `holdWrites`. */
interface Gate {
  release?: () => void;
  fail?: boolean;
  holdWrites?: boolean;
  releaseWrite?: () => void;
}

/** A segment file whose fdatasync waits until the test releases it (or fails when told to). */
async function openWithHeldSync(path: string, gate: Gate): Promise<FileHandle> {
  const fd = await open(path, 'a+');
  return new Proxy(fd, {
    get(target, prop) {
      if (prop === 'datasync') {
        return async () => {
          await new Promise<void>((resolve) => {
            gate.release = resolve;
          });
          if (gate.fail) throw new Error('EIO: the disk failed');
          return target.datasync();
        };
      }
      if (prop === 'write') {
        return async (buf: Uint8Array, offset: number, length: number) => {
          if (gate.holdWrites) {
            await new Promise<void>((resolve) => {
              gate.releaseWrite = resolve;
            });
          }
          return target.write(buf, offset, length);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Resolves once `done()` holds, checking after each turn of the event loop. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

describe('event log acknowledgement when written', () => {
  it('writes and acknowledges while the group before is still being synced, and commits in order', async () => {
    await withLogDir(async (dir) => {
      const gate: Gate = {};
      const log = await EventLog.open(dir, { openSegment: (p) => openWithHeldSync(p, gate) });
      assert.deepEqual(await log.append([payload('first call')], { ackWhen: 'written' }), { firstSeq: 1, lastSeq: 1 });
      await until(() => gate.release !== undefined);
      // The first group's fdatasync is held; the next group is written meanwhile.
      let committedAcked = false;
      const committed = log.append([payload('ingested')]).then((r) => {
        committedAcked = true;
        return r;
      });
      assert.deepEqual(await log.append([payload('second call')], { ackWhen: 'written' }), { firstSeq: 3, lastSeq: 3 });
      assert.equal(log.writtenSeq, 3);
      assert.equal(log.committedSeq, 0);
      assert.deepEqual(await log.reader(1).read(10), [], 'readers see only committed records');
      gate.release?.();
      await until(() => log.committedSeq === 1);
      assert.equal(committedAcked, false, 'a group written during a sync waits for a sync of its own');
      assert.deepEqual(
        await log
          .reader(1)
          .read(10)
          .then((e) => e.map((x) => x.payload.toString())),
        ['first call'],
      );
      gate.release?.();
      assert.deepEqual(await committed, { firstSeq: 2, lastSeq: 2 });
      assert.equal(log.committedSeq, 3);
      assert.deepEqual(await readAll(log), ['first call', 'ingested', 'second call']);
      await log.close();
      const reopened = await EventLog.open(dir);
      assert.deepEqual(await readAll(reopened), ['first call', 'ingested', 'second call']);
      await reopened.close();
    });
  });

  it('keeps a written acknowledgement when the fdatasync after it fails, and refuses what waited for it', async () => {
    await withLogDir(async (dir) => {
      const gate: Gate = {};
      const log = await EventLog.open(dir, { openSegment: (p) => openWithHeldSync(p, gate) });
      await log.append([payload('first call')], { ackWhen: 'written' });
      await until(() => gate.release !== undefined);
      const committed = log.append([payload('ingested')]);
      assert.deepEqual(await log.append([payload('second call')], { ackWhen: 'written' }), { firstSeq: 3, lastSeq: 3 });
      gate.fail = true;
      gate.release?.();
      await assert.rejects(committed, { name: 'LogUnavailableError' });
      await assert.rejects(log.append([payload('later')], { ackWhen: 'written' }), { name: 'LogUnavailableError' });
      await log.close();
    });
  });

  it('refuses a written acknowledgement whose write ends after a fdatasync failed', async () => {
    await withLogDir(async (dir) => {
      const gate: Gate = {};
      const log = await EventLog.open(dir, {
        inlineWriteBytes: 0,
        openSegment: (p) => openWithHeldSync(p, gate),
      });
      await log.append([payload('first call')], { ackWhen: 'written' });
      await until(() => gate.release !== undefined);
      gate.holdWrites = true;
      const second = log.append([payload('second call')], { ackWhen: 'written' });
      await until(() => gate.releaseWrite !== undefined);
      gate.fail = true;
      gate.release?.();
      await assert.rejects(log.waitForCommit(1), { name: 'LogUnavailableError' });
      gate.holdWrites = false;
      gate.releaseWrite?.();
      await assert.rejects(second, { name: 'LogUnavailableError' });
      await log.close();
    });
  });

  it('gives a position to save only once it is committed, so a crash of the machine never hands its seq out again', async () => {
    await withLogDir(async (dir) => {
      const gate: Gate = {};
      const log = await EventLog.open(dir, { openSegment: (p) => openWithHeldSync(p, gate) });
      await log.append([payload('call record')], { ackWhen: 'written' });
      let saved: number | undefined;
      const position = log.loggedSeq().then((seq) => {
        saved = seq;
      });
      await until(() => gate.release !== undefined);
      assert.equal(saved, undefined, 'the position waits for its record to be committed');
      gate.release?.();
      await position;
      assert.equal(saved, 1);
      assert.ok(log.committedSeq >= 1, 'a crash of the machine can lose only what comes after the saved position');
      await log.close();
    });
  });

  it('lets written records share a fdatasync until a batch or a caller needs the commit', async () => {
    await withLogDir(async (dir) => {
      let syncs = 0;
      const counted = async (path: string) => {
        const fd = await open(path, 'a+');
        const datasync = fd.datasync.bind(fd);
        fd.datasync = () => {
          syncs++;
          return datasync();
        };
        return fd;
      };
      const log = await EventLog.open(dir, { openSegment: counted, syncDelayMs: 60_000 });
      for (const r of ['one', 'two', 'three']) await log.append([payload(r)], { ackWhen: 'written' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual([syncs, log.committedSeq], [0, 0], 'nobody waits for these commits yet');
      assert.deepEqual(await log.append([payload('ingested')]), { firstSeq: 4, lastSeq: 4 });
      assert.deepEqual([syncs, log.committedSeq], [1, 4], 'one fdatasync for all four');
      await log.append([payload('four')], { ackWhen: 'written' });
      assert.equal(await log.loggedSeq(), 5, 'a position to save is committed at once');
      await log.append([payload('five')], { ackWhen: 'written' });
      await log.close();
      assert.equal(syncs, 3, 'closing syncs what was written');
      const reopened = await EventLog.open(dir);
      assert.deepEqual(await readAll(reopened), ['one', 'two', 'three', 'ingested', 'four', 'five']);
      await reopened.close();
    });
  });

  // Without the fix the second fdatasync waits out syncDelayMs (a minute): the timeout fails the test instead.
  it('commits at once for a position asked for while a fdatasync is under way', { timeout: 5_000 }, async () => {
    await withLogDir(async (dir) => {
      const gate: Gate = {};
      const log = await EventLog.open(dir, { openSegment: (p) => openWithHeldSync(p, gate), syncDelayMs: 60_000 });
      const ingested = log.append([payload('ingested')]);
      await until(() => gate.release !== undefined);
      const first = gate.release as () => void;
      await log.append([payload('call')], { ackWhen: 'written' });
      let saved: number | undefined;
      const position = log.loggedSeq().then((seq) => {
        saved = seq;
      });
      first();
      await ingested;
      // The next fdatasync starts without the minute-long wait for more written records.
      await until(() => gate.release !== first);
      gate.release?.();
      await position;
      assert.equal(saved, 2);
      assert.equal(log.committedSeq, 2);
      await log.close();
    });
  });

  it('makes readers only from committed records on', async () => {
    await withLogDir(async (dir) => {
      const gate: Gate = {};
      const log = await EventLog.open(dir, { openSegment: (p) => openWithHeldSync(p, gate) });
      await log.append([payload('one')], { ackWhen: 'written' });
      await log.append([payload('two')], { ackWhen: 'written' });
      assert.throws(() => log.reader(2), RangeError, 'seq 2 is written, not committed');
      assert.deepEqual(await log.reader(1).read(10), []);
      while (log.committedSeq < 2) {
        gate.release?.();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.deepEqual(
        (await log.reader(2).read(10)).map((e) => e.payload.toString()),
        ['two'],
      );
      await log.close();
    });
  });

  it('starts a new segment only when the groups written to the old one are synced', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir, { segmentBytes: 200 });
      const written = Array.from({ length: 40 }, (_, i) => `call-${i}`.padEnd(40, '.'));
      // One group per append: each written acknowledgement is awaited, committed ones are not.
      const committed: Promise<unknown>[] = [];
      for (const [i, r] of written.entries()) {
        if (i % 3 === 0) committed.push(log.append([payload(r)]));
        else await log.append([payload(r)], { ackWhen: 'written' });
      }
      await Promise.all(committed);
      await until(() => log.committedSeq === 40);
      assert.deepEqual(await readAll(log), written);
      await log.close();
      assert.ok((await readdir(dir)).length > 3, 'the log rotated');
      const reopened = await EventLog.open(dir, { segmentBytes: 200 });
      assert.equal(reopened.committedSeq, 40);
      assert.deepEqual(await readAll(reopened), written);
      await reopened.close();
    });
  });
});

/** A segment file whose every write takes at most `maxBytes`, as a write interrupted by a signal may. */
async function openWithShortWrites(path: string, maxBytes: number): Promise<FileHandle> {
  const fd = await open(path, 'a+');
  return new Proxy(fd, {
    get(target, prop) {
      if (prop === 'write') {
        return (buf: Uint8Array, offset: number, length: number) =>
          target.write(buf, offset, Math.min(length, maxBytes));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('event log inline writes', () => {
  it('writes small groups on the calling thread and large ones through the thread pool', async () => {
    await withLogDir(async (dir) => {
      let pooled = 0;
      const openSegment = async (path: string) => {
        const fd = await open(path, 'a+');
        return new Proxy(fd, {
          get(target, prop) {
            if (prop === 'write') {
              return (buf: Uint8Array, offset: number, length: number) => {
                pooled++;
                return target.write(buf, offset, length);
              };
            }
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      };
      const log = await EventLog.open(dir, { openSegment, inlineWriteBytes: 1000 });
      await log.append([payload('a call record')], { ackWhen: 'written' });
      await log.append([payload('an ingested record')]);
      assert.equal(pooled, 0, 'small groups were written inline');
      const big = 'x'.repeat(5000);
      await log.append([payload(big)]);
      assert.equal(pooled, 1, 'a large group went through the pool');
      assert.deepEqual(await readAll(log), ['a call record', 'an ingested record', big]);
      await log.close();
    });
  });
});

describe('event log short writes', () => {
  it('writes every byte of a group when the file takes only a few bytes per write', async () => {
    await withLogDir(async (dir) => {
      const log = await EventLog.open(dir, {
        inlineWriteBytes: 0,
        segmentBytes: 300,
        openSegment: (p) => openWithShortWrites(p, 7),
      });
      const written = Array.from({ length: 12 }, (_, i) => `record-${i}`.padEnd(50, '.'));
      for (let i = 0; i < written.length; i += 3) await log.append(written.slice(i, i + 3).map(payload));
      assert.deepEqual(await readAll(log), written);
      await log.close();
      const reopened = await EventLog.open(dir, { segmentBytes: 300 });
      assert.equal(reopened.committedSeq, 12, 'nothing was cut off as a torn tail on reopen');
      assert.deepEqual(await readAll(reopened), written);
      await reopened.close();
    });
  });

  it('fails a write that makes no progress instead of retrying it forever', async () => {
    const stuck = { write: async () => ({ bytesWritten: 0 }) };
    await assert.rejects(writeFully(stuck, Buffer.from('abc')), /stopped after 0 of 3 bytes/);
  });

  it('continues each write where the short one stopped', async () => {
    const received: number[] = [];
    const file = {
      write: async (buf: Uint8Array, offset: number, length: number) => {
        const n = Math.min(length, 2);
        received.push(...buf.subarray(offset, offset + n));
        return { bytesWritten: n };
      },
    };
    await writeFully(file, Buffer.from([1, 2, 3, 4, 5]));
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
  });
});

/** Writes records `firstSeq…` as one segment file, as the log would have; returns its path and bytes. */
async function writeSegment(
  dir: string,
  firstSeq: number,
  records: string[],
): Promise<{ path: string; bytes: Buffer }> {
  const path = join(dir, `${String(firstSeq).padStart(20, '0')}.seg`);
  const bytes = encodeFrames(firstSeq, records.map(payload));
  await writeFile(path, bytes);
  return { path, bytes };
}

const flipBits = (buf: Buffer, at: number, mask: number) => buf.writeUInt8(buf.readUInt8(at) ^ mask, at);

/** Byte offset of the `index`-th frame (0-based) of same-sized records. */
const frameAt = (index: number, recordBytes: number) => index * (FRAME_HEADER_BYTES + recordBytes);

describe('event log recovery on open', () => {
  const records = ['alpha', 'bravo', 'charl', 'delta', 'echo!'];

  it('refuses to open a segment damaged in the middle, naming the file and offset, and changes nothing', async () => {
    await withLogDir(async (dir) => {
      const { path, bytes } = await writeSegment(dir, 1, records);
      const damaged = Buffer.from(bytes);
      const at = frameAt(2, 5);
      flipBits(damaged, at + FRAME_HEADER_BYTES + 1, 0x04); // one flipped bit in the payload of record 3
      await writeFile(path, damaged);
      await assert.rejects(EventLog.open(dir), (error: Error) => {
        assert.equal(error.name, 'LogCorruptError');
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, new RegExp(`damaged at byte ${at} \\(record 3: checksum mismatch\\)`));
        assert.match(error.message, new RegExp(`valid record \\(4\\) follows at byte ${frameAt(3, 5)}`));
        return true;
      });
      assert.deepEqual(await readFile(path), damaged, 'the acknowledged records after the damage are still there');
    });
  });

  it('refuses to open when a damaged length field of a middle record points past the end of the file', async () => {
    await withLogDir(async (dir) => {
      const { path, bytes } = await writeSegment(dir, 1, records);
      const damaged = Buffer.from(bytes);
      damaged.writeUInt32LE(1_000_000, frameAt(1, 5) + 4);
      await writeFile(path, damaged);
      await assert.rejects(EventLog.open(dir), {
        name: 'LogCorruptError',
        message: new RegExp(`damaged at byte ${frameAt(1, 5)} \\(record 2: its length runs past the end`),
      });
      assert.equal((await stat(path)).size, bytes.length);
    });
  });

  it('cuts a zero-filled tail (a write the crash left unwritten) and keeps every record before it', async () => {
    await withLogDir(async (dir) => {
      const { path, bytes } = await writeSegment(dir, 1, records);
      await appendFile(path, Buffer.alloc(4096));
      const log = await EventLog.open(dir);
      assert.equal(log.committedSeq, 5);
      assert.equal((await stat(path)).size, bytes.length);
      assert.deepEqual(await readAll(log), records);
      await log.close();
    });
  });

  it('cuts a tail of stray bytes that holds no valid record', async () => {
    await withLogDir(async (dir) => {
      const { path, bytes } = await writeSegment(dir, 1, records);
      // The first frame of an unacknowledged group with its checksum and half its payload, then other bytes.
      const torn = encodeFrames(6, [payload('foxtrot-was-never-acknowledged')]);
      flipBits(torn, torn.length - 1, 0xff);
      await appendFile(path, Buffer.concat([torn, Buffer.from('stray bytes of an older file on that block')]));
      const log = await EventLog.open(dir);
      assert.equal(log.committedSeq, 5);
      assert.equal((await stat(path)).size, bytes.length);
      await log.close();
    });
  });

  it('closes the segment file when cutting the torn tail fails', async () => {
    await withLogDir(async (dir) => {
      const { path } = await writeSegment(dir, 1, records);
      await appendFile(path, Buffer.alloc(10));
      let closed = false;
      const openSegment = async (p: string) => {
        const fd = await open(p, 'a+');
        return new Proxy(fd, {
          get(target, prop) {
            if (prop === 'truncate') return async () => Promise.reject(new Error('EIO: the disk failed'));
            if (prop === 'close') closed = true;
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      };
      await assert.rejects(EventLog.open(dir, { openSegment }), /the disk failed/);
      assert.equal(closed, true);
    });
  });

  it('opens again once the operator cuts the segment at the named offset', async () => {
    await withLogDir(async (dir) => {
      const { path, bytes } = await writeSegment(dir, 1, records);
      const damaged = Buffer.from(bytes);
      flipBits(damaged, frameAt(3, 5), 0x01); // record 4's checksum
      await writeFile(path, damaged);
      const error = await EventLog.open(dir).then(
        () => assert.fail('the damaged segment opened'),
        (e: Error) => e,
      );
      const offset = Number(/truncate the file to (\d+) bytes/.exec(error.message)?.[1]);
      assert.equal(offset, frameAt(3, 5));
      await truncate(path, offset);
      const log = await EventLog.open(dir);
      assert.deepEqual(await readAll(log), records.slice(0, 3));
      await log.close();
    });
  });
});

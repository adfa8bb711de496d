import { closeSync, fsyncSync, openSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DecodeResult,
  decodeFrame,
  encodeFrames,
  FRAME_HEADER_BYTES,
  findFrame,
  type LogEntry,
  MAX_FRAME_PAYLOAD_BYTES,
  type Payload,
  payloadBytes,
} from './frame.ts';
import { writeFully, writeFullySync } from './write-fully.ts';

/**
 * The durable event log: append-only segment files of checksummed frames (design.md).
 *
 * States of a record: pending (in memory, not acknowledged) → written (in the segment file, so in the
 * kernel's page cache: it survives a crash of this process, kill -9 included, but not of the machine) →
 * committed (fdatasync'd; only now do readers see it) → consumed by every consumer → dropped with its whole
 * segment by `truncateBefore`. `append` resolves when its batch is committed, or already when it is
 * written if the caller asks (`ackWhen: 'written'`). A crash of the process loses only pending records,
 * which were never acknowledged; a crash of the machine can also lose what was written after the last
 * fdatasync that returned, which holds no committed record, only records acknowledged as written. On open
 * the torn tail of the last segment is cut off, but damage with valid records after it stops the open
 * instead (`recoverTail`).
 *
 * Trade-off: commits are grouped. While a group is being written, every batch that arrives joins the next
 * group; while one is being fdatasync'd, the next ones are written, and the next fdatasync covers them all.
 * So one fsync serves many requests (one commit per request would cap throughput at the disk's fsync rate,
 * ~1,000–7,000/s here, however many records each carried), and a write waits for the disk only when a
 * full segment is sealed.
 */
export interface AppendResult {
  firstSeq: number;
  lastSeq: number;
}

export interface AppendOptions {
  /**
   * When the append resolves: once the batch is `committed` (the default: what an acknowledgement of
   * records sent to us promises), or once it is `written`, for a record that is a side effect of a call
   * (the record of an API call or a proxied call): the call's answer then waits for one write, not for the
   * disk, and the fdatasync follows within SYNC_DELAY_MS, shared with the records written meanwhile.
   */
  ackWhen?: 'written' | 'committed';
}

/**
 * How long written records wait for others to share their fdatasync when nobody waits for their commit. At a
 * few hundred proxied calls a second, one fdatasync per call cost about 5% of a core here (kernel and thread
 * pool), CPU that the proxy's upstream needed. Consumers then see such records up to this much later, and
 * a crash of the machine (not of the process) can lose this much more of them.
 */
export const SYNC_DELAY_MS = 10;

export class LogUnavailableError extends Error {
  override readonly name = 'LogUnavailableError';
}

/** The last segment is damaged where acknowledged records follow: cutting it there would lose them. */
export class LogCorruptError extends Error {
  override readonly name = 'LogCorruptError';
}

export interface EventLogOptions {
  /** A segment is sealed and a new one started once it holds this many bytes. */
  segmentBytes?: number;
  /** Opens a segment file for appending (`a+`); tests pass one whose writes come back short. */
  openSegment?: (path: string) => Promise<FileHandle>;
  /**
   * Groups of at most this many bytes are written on the calling thread: a write to the page cache takes
   * microseconds, while the thread-pool hop of an async write took 0.4 ms at p50 (more when DuckDB keeps the
   * cores busy), on the path of every proxied call's answer. Larger groups (ingest batches) go to the pool.
   */
  inlineWriteBytes?: number;
  /** How long written records wait for others to share their fdatasync (SYNC_DELAY_MS; tests make it long). */
  syncDelayMs?: number;
}

interface Segment {
  baseSeq: number;
  path: string;
  /** Bytes that are committed (the active segment grows; readers never look past this). */
  committedBytes: number;
}

interface WrittenGroup {
  group: readonly PendingBatch[];
  firstSeq: number;
  count: number;
  bytes: number;
  segment: Segment;
}

interface PendingBatch {
  payloads: readonly Payload[];
  ackWhen: 'written' | 'committed';
  resolve: (r: AppendResult) => void;
  reject: (e: Error) => void;
}

const SEGMENT_SUFFIX = '.seg';

export class EventLog {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #openSegment: (path: string) => Promise<FileHandle>;
  readonly #inlineWriteBytes: number;
  readonly #syncDelayMs: number;
  #segments: Segment[];
  #fd: FileHandle;
  /** The sequence number the next written record gets. */
  #nextSeq: number;
  #committedSeq: number;
  /** Bytes written to the active segment: its committed bytes plus the groups awaiting their fdatasync. */
  #activeBytes: number;
  #pending: PendingBatch[] = [];
  /** Groups written and not yet fdatasync'd, oldest first. */
  #unsynced: WrittenGroup[] = [];
  #writing: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  /** Ends the sync loop's wait for more written records (SYNC_DELAY_MS), when something needs the commit now. */
  #syncNow: (() => void) | undefined;
  /** A caller needs what is written committed now (loggedSeq, rotation): the next sync does not wait. */
  #syncUrgent = false;
  #waiters: { afterSeq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #failure: Error | undefined;
  #closed = false;

  private constructor(
    dir: string,
    options: Required<EventLogOptions>,
    segments: Segment[],
    fd: FileHandle,
    nextSeq: number,
  ) {
    this.#dir = dir;
    this.#segmentBytes = options.segmentBytes;
    this.#openSegment = options.openSegment;
    this.#inlineWriteBytes = options.inlineWriteBytes;
    this.#syncDelayMs = options.syncDelayMs;
    this.#segments = segments;
    this.#fd = fd;
    this.#nextSeq = nextSeq;
    this.#committedSeq = nextSeq - 1;
    this.#activeBytes = (segments[segments.length - 1] as Segment).committedBytes;
  }

  /** Opens (or creates) the log in `dir`, cutting a torn tail off the last segment. */
  static async open(dir: string, options: EventLogOptions = {}): Promise<EventLog> {
    const resolved: Required<EventLogOptions> = {
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      openSegment: options.openSegment ?? ((path) => open(path, 'a+')),
      inlineWriteBytes: options.inlineWriteBytes ?? 64 * 1024,
      syncDelayMs: options.syncDelayMs ?? SYNC_DELAY_MS,
    };
    await mkdir(dir, { recursive: true });
    const names = (await readdir(dir)).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    const segments: Segment[] = names.map((n) => ({
      baseSeq: Number(n.slice(0, -SEGMENT_SUFFIX.length)),
      path: join(dir, n),
      committedBytes: 0,
    }));
    if (segments.length === 0) {
      segments.push({ baseSeq: 1, path: segmentPath(dir, 1), committedBytes: 0 });
    }
    // Sealed segments are whole: they were fsync'd before the next one was created.
    for (const s of segments.slice(0, -1)) s.committedBytes = await fileSize(s.path);
    const last = segments[segments.length - 1] as Segment;
    const { validBytes, count } = await recoverTail(last);
    const fd = await resolved.openSegment(last.path);
    try {
      if ((await fd.stat()).size !== validBytes) {
        await fd.truncate(validBytes);
        await fd.sync();
      }
      fsyncDir(dir);
    } catch (error) {
      // A log that could not open holds no file: a failed start must not keep the segment open.
      await fd.close();
      throw error;
    }
    last.committedBytes = validBytes;
    return new EventLog(dir, resolved, segments, fd, last.baseSeq + count);
  }

  /** The highest committed sequence number (0 when the log is empty). */
  get committedSeq(): number {
    return this.#committedSeq;
  }

  /**
   * The highest sequence number handed out (written, maybe not yet committed): what caught-up checks wait for.
   * Readers see only `committedSeq`; a position to save comes from `loggedSeq`.
   */
  get writtenSeq(): number {
    return this.#nextSeq - 1;
  }

  /**
   * Where the log stands, as a position to save: waits until every record written so far is committed, then
   * returns the last one's seq. A saved position must be committed, because a crash of the machine can lose
   * records that were only written, and their seqs would be handed out again to other records.
   */
  async loggedSeq(): Promise<number> {
    const seq = this.writtenSeq;
    if (seq > this.committedSeq) {
      this.#commitNow();
      await this.waitForCommit(seq - 1);
    }
    return seq;
  }

  /** The lowest sequence number still on disk. */
  get firstSeq(): number {
    return (this.#segments[0] as Segment).baseSeq;
  }

  /** Appends the batch atomically; resolves with its sequence numbers once it is committed (or written). */
  append(payloads: readonly Payload[], options: AppendOptions = {}): Promise<AppendResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new LogUnavailableError('the event log is closed'));
    for (const p of payloads) {
      // A UTF-8 text is at most three bytes per UTF-16 unit: only long texts need measuring.
      const bytes = typeof p === 'string' && p.length * 3 <= MAX_FRAME_PAYLOAD_BYTES ? 0 : payloadBytes(p);
      if (bytes > MAX_FRAME_PAYLOAD_BYTES) {
        return Promise.reject(new RangeError(`a record of ${bytes} bytes exceeds ${MAX_FRAME_PAYLOAD_BYTES}`));
      }
    }
    if (payloads.length === 0) return Promise.resolve({ firstSeq: this.#nextSeq, lastSeq: this.#nextSeq - 1 });
    return new Promise((resolve, reject) => {
      this.#pending.push({ payloads, ackWhen: options.ackWhen ?? 'committed', resolve, reject });
      this.#kickWrites();
    });
  }

  /**
   * Writes and fdatasyncs run as two loops, so a group is written while the one before it is being synced:
   * a record acknowledged when written waits for one write, never for the disk.
   */
  #kickWrites(): void {
    if (this.#writing) return;
    this.#writing = this.#writeLoop().finally(() => {
      this.#writing = undefined;
      if (this.#pending.length > 0 && !this.#failure) this.#kickWrites();
    });
  }

  /** Commits what is written without the sync loop's wait, whether it is waiting now or syncing. */
  #commitNow(): void {
    this.#syncUrgent = true;
    this.#syncNow?.();
  }

  /** Waits `syncDelayMs`, or less when `#syncNow` is called (a batch or a caller waits for the commit). */
  #syncDelay(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#syncNow?.(), this.#syncDelayMs);
      this.#syncNow = () => {
        clearTimeout(timer);
        this.#syncNow = undefined;
        resolve();
      };
    });
  }

  #kickSyncs(): void {
    if (this.#syncing) return;
    this.#syncing = this.#syncLoop().finally(() => {
      this.#syncing = undefined;
      if (this.#unsynced.length > 0 && !this.#failure) this.#kickSyncs();
    });
  }

  async #writeLoop(): Promise<void> {
    while (this.#pending.length > 0 && !this.#failure) {
      const group = this.#pending;
      this.#pending = [];
      const firstSeq = this.#nextSeq;
      const payloads = group.length === 1 ? (group[0] as PendingBatch).payloads : group.flatMap((b) => b.payloads);
      const frames = encodeFrames(firstSeq, payloads);
      try {
        // The segment is open O_APPEND and only this loop writes, so the group lands at the end.
        if (frames.length <= this.#inlineWriteBytes) writeFullySync(this.#fd.fd, frames);
        else await writeFully(this.#fd, frames);
        // A fdatasync that failed meanwhile leaves the file's state unknown: nothing more is acknowledged.
        if (this.#failure) throw this.#failure;
      } catch (cause) {
        // After a failed write the file's state is unknown: refuse everything until a restart re-reads the
        // log from disk, rather than acknowledge records that may not be there.
        const error = this.#failure ?? new LogUnavailableError('the event log could not be written', { cause });
        this.#fail(error);
        for (const b of group) b.reject(error);
        break;
      }
      this.#nextSeq = firstSeq + payloads.length;
      this.#activeBytes += frames.length;
      settle(group, firstSeq, 'written');
      this.#unsynced.push({
        group,
        firstSeq,
        count: payloads.length,
        bytes: frames.length,
        segment: this.#activeSegment,
      });
      if (awaitsCommit(group)) this.#syncNow?.();
      this.#kickSyncs();
      if (this.#activeBytes >= this.#segmentBytes) await this.#rotate();
    }
    if (this.#failure) for (const b of this.#pending.splice(0)) b.reject(this.#failure);
  }

  async #syncLoop(): Promise<void> {
    while (this.#unsynced.length > 0 && !this.#failure) {
      if (!this.#syncUrgent && !this.#unsynced.some((g) => awaitsCommit(g.group))) {
        await this.#syncDelay();
        if (this.#failure) break;
      }
      this.#syncUrgent = false;
      // Every group written before this fdatasync starts is on disk when it returns.
      const groups = this.#unsynced;
      this.#unsynced = [];
      try {
        await this.#fd.datasync();
      } catch (cause) {
        const error = new LogUnavailableError('the event log could not be synced to disk', { cause });
        this.#fail(error);
        for (const g of groups) for (const b of g.group) if (b.ackWhen === 'committed') b.reject(error);
        break;
      }
      for (const g of groups) {
        g.segment.committedBytes += g.bytes;
        this.#committedSeq = g.firstSeq + g.count - 1;
        settle(g.group, g.firstSeq, 'committed');
      }
      this.#wake();
    }
    if (this.#failure) {
      for (const g of this.#unsynced.splice(0))
        for (const b of g.group) if (b.ackWhen === 'committed') b.reject(this.#failure);
    }
  }

  get #activeSegment(): Segment {
    return this.#segments[this.#segments.length - 1] as Segment;
  }

  /**
   * Starts a new segment once every group written to this one is synced: a sealed segment is whole, and the
   * sync loop only ever syncs the active file.
   */
  async #rotate(): Promise<void> {
    this.#commitNow();
    while (this.#syncing) await this.#syncing;
    if (this.#failure) return;
    const next: Segment = { baseSeq: this.#nextSeq, path: segmentPath(this.#dir, this.#nextSeq), committedBytes: 0 };
    try {
      const fd = await this.#openSegment(next.path);
      try {
        fsyncDir(this.#dir);
      } catch (error) {
        await fd.close();
        throw error;
      }
      await this.#fd.close();
      this.#fd = fd;
      this.#segments.push(next);
      this.#activeBytes = 0;
    } catch (cause) {
      this.#fail(new LogUnavailableError('the event log could not start a new segment', { cause }));
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  #wake(): void {
    const committed = this.committedSeq;
    this.#waiters = this.#waiters.filter((w) => {
      if (committed <= w.afterSeq) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when a record after `afterSeq` is committed; rejects when the log closes or fails. */
  waitForCommit(afterSeq: number): Promise<void> {
    if (this.committedSeq > afterSeq) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new LogUnavailableError('the event log is closed'));
    return new Promise((resolve, reject) => this.#waiters.push({ afterSeq, resolve, reject }));
  }

  /** A sequential reader of committed records from `fromSeq` on. */
  reader(fromSeq: number): LogReader {
    if (fromSeq < this.firstSeq) {
      throw new RangeError(`records before ${this.firstSeq} were dropped; cannot read from ${fromSeq}`);
    }
    // Readers find their place among committed frames only (wait for the commit first: waitForCommit).
    if (fromSeq > this.committedSeq + 1) {
      throw new RangeError(`records up to ${this.committedSeq} are committed; cannot read from ${fromSeq} yet`);
    }
    return new LogReader(this, fromSeq);
  }

  /** @internal The segment holding `seq`, with its committed size. */
  segmentFor(seq: number): Segment | undefined {
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      const s = this.#segments[i] as Segment;
      if (s.baseSeq <= seq) return s;
    }
    return undefined;
  }

  /**
   * @internal The segment whose first record is `seq`, if any. Readers move on by sequence number, not by
   * position in the list: the segment a reader just finished may already have been dropped.
   */
  segmentStartingAt(seq: number): Segment | undefined {
    return this.#segments.find((s) => s.baseSeq === seq);
  }

  /** Deletes whole segments that only hold records before `seq` (every consumer is past them). */
  async truncateBefore(seq: number): Promise<number> {
    let dropped = 0;
    while (this.#segments.length > 1) {
      const next = this.#segments[1] as Segment;
      if (next.baseSeq > seq) break;
      const gone = this.#segments.shift() as Segment;
      await rm(gone.path, { force: true });
      dropped++;
    }
    if (dropped > 0) fsyncDir(this.#dir);
    return dropped;
  }

  /** Finishes the commit in flight, then closes; later appends are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#syncNow?.();
    while (this.#writing || this.#syncing) await (this.#writing ?? this.#syncing);
    for (const w of this.#waiters.splice(0)) w.reject(new LogUnavailableError('the event log is closed'));
    await this.#fd.close();
  }
}

/** Reads committed frames in order, remembering its place between calls. */
export class LogReader {
  readonly #log: EventLog;
  #nextSeq: number;
  #segment: Segment | undefined;
  #offset = 0;
  #positioned = false;

  constructor(log: EventLog, fromSeq: number) {
    this.#log = log;
    this.#nextSeq = fromSeq;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Up to `maxEntries` committed records (and about `maxBytes`), or none when caught up. */
  async read(maxEntries: number, maxBytes = 8 * 1024 * 1024): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    if (!this.#positioned) await this.#position();
    let bytes = 0;
    while (out.length < maxEntries && bytes < maxBytes && this.#nextSeq <= this.#log.committedSeq) {
      const segment = this.#segment as Segment;
      if (this.#offset >= segment.committedBytes) {
        const next = this.#log.segmentStartingAt(this.#nextSeq);
        if (next === undefined || next === segment) break;
        this.#segment = next;
        this.#offset = 0;
        continue;
      }
      const chunk = await readRange(
        segment.path,
        this.#offset,
        Math.min(segment.committedBytes, this.#offset + maxBytes),
      );
      let pos = 0;
      while (out.length < maxEntries && bytes < maxBytes) {
        const r = decodeFrame(chunk, pos, this.#nextSeq);
        if (r.kind === 'incomplete') {
          if (pos === 0) {
            // A single frame larger than maxBytes: read exactly that frame.
            const len = chunk.length >= 8 ? chunk.readUInt32LE(4) : 0;
            const whole = await readRange(segment.path, this.#offset, this.#offset + FRAME_HEADER_BYTES + len);
            const again = decodeFrame(whole, 0, this.#nextSeq);
            if (again.kind !== 'frame') throw new Error(`corrupt log frame at seq ${this.#nextSeq} in ${segment.path}`);
            out.push(again.entry);
            this.#offset += again.bytes;
            this.#nextSeq++;
            bytes += again.bytes;
          }
          break;
        }
        if (r.kind === 'corrupt')
          throw new Error(`corrupt log frame at seq ${this.#nextSeq} in ${segment.path}: ${r.reason}`);
        out.push(r.entry);
        pos += r.bytes;
        bytes += r.bytes;
        this.#offset += r.bytes;
        this.#nextSeq++;
      }
    }
    return out;
  }

  /** Finds the byte offset of `nextSeq` by skipping frame headers from its segment's start. */
  async #position(): Promise<void> {
    const segment = this.#log.segmentFor(this.#nextSeq);
    if (segment === undefined) throw new RangeError(`no segment holds seq ${this.#nextSeq}`);
    this.#segment = segment;
    let seq = segment.baseSeq;
    let offset = 0;
    const chunkBytes = 4 * 1024 * 1024;
    while (seq < this.#nextSeq && offset < segment.committedBytes) {
      const chunk = await readRange(segment.path, offset, Math.min(segment.committedBytes, offset + chunkBytes));
      let pos = 0;
      while (seq < this.#nextSeq && pos + FRAME_HEADER_BYTES <= chunk.length) {
        pos += FRAME_HEADER_BYTES + chunk.readUInt32LE(pos + 4);
        seq++;
      }
      offset += pos;
      if (pos === 0) break;
    }
    this.#offset = offset;
    this.#positioned = true;
  }
}

/** Whether a batch of the group is acknowledged only once committed: its fdatasync does not wait. */
function awaitsCommit(group: readonly PendingBatch[]): boolean {
  return group.some((b) => b.ackWhen === 'committed');
}

/** Resolves the batches of `group` (first record `firstSeq`) that asked to be told at this stage. */
function settle(group: readonly PendingBatch[], firstSeq: number, stage: PendingBatch['ackWhen']): void {
  let seq = firstSeq;
  for (const b of group) {
    if (b.ackWhen === stage) b.resolve({ firstSeq: seq, lastSeq: seq + b.payloads.length - 1 });
    seq += b.payloads.length;
  }
}

async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const fd = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fd.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fd.close();
  }
}

/**
 * Scans the last segment: how many whole, valid frames it holds and where they end.
 *
 * A crash mid-write leaves a torn tail: a partial frame, or zeroed or stale bytes up to the end of the file.
 * Those records were never acknowledged as committed (their fdatasync never returned), so cutting them off
 * is right; only a crash of the machine can leave one acknowledged as written in a torn tail.
 * A bad frame with valid frames after it is most likely something else (a flipped bit, a damaged disk
 * block): the frames after it may be committed, and cutting the segment would silently drop them. (A crash
 * of the machine whose disk wrote back unsynced pages out of order can leave the same picture with nothing
 * committed after the damage; nothing on disk tells the two apart.) So the log refuses
 * to open and names the file and offset; the operator decides, knowing what each choice costs. (Skipping
 * the bad frame instead would leave a hole in the sequence numbers that consumers rely on.) What cannot be
 * told apart is damage to the very last frame alone, which looks like a torn tail and is cut off.
 */
async function recoverTail(segment: Segment): Promise<{ validBytes: number; count: number }> {
  let buf: Buffer;
  try {
    buf = await readRange(segment.path, 0, await fileSize(segment.path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { validBytes: 0, count: 0 };
    throw e;
  }
  let offset = 0;
  let count = 0;
  let bad: DecodeResult = { kind: 'incomplete' };
  while (offset < buf.length) {
    bad = decodeFrame(buf, offset, segment.baseSeq + count);
    if (bad.kind !== 'frame') break;
    offset += bad.bytes;
    count++;
  }
  if (offset < buf.length) {
    const lastSeq = segment.baseSeq + count - 1;
    const next = findFrame(buf, offset + 1, lastSeq);
    if (next !== undefined) {
      const reason = bad.kind === 'corrupt' ? bad.reason : 'its length runs past the end of the file';
      throw new LogCorruptError(
        `log segment ${segment.path} is damaged at byte ${offset} (record ${lastSeq + 1}: ${reason}), ` +
          `yet a valid record (${next.seq}) follows at byte ${next.offset}, so this is not a torn write: ` +
          `the records after the damage may have been acknowledged and the log will not cut them off. Restore the ` +
          `segment from a backup; or, to accept losing every record from byte ${offset} on, truncate the file ` +
          `to ${offset} bytes and start again.`,
      );
    }
  }
  return { validBytes: offset, count };
}

async function fileSize(path: string): Promise<number> {
  const fd = await open(path, 'r');
  try {
    return (await fd.stat()).size;
  } finally {
    await fd.close();
  }
}

function segmentPath(dir: string, baseSeq: number): string {
  return join(dir, `${String(baseSeq).padStart(20, '0')}${SEGMENT_SUFFIX}`);
}

/** Makes a created or removed file name durable. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

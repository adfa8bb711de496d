import { type FileHandle, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, TimerHandle } from './clock.ts';
import type { RecorderError } from './errors/recorder-error.ts';
import { type DropReason, RecordsDroppedError } from './errors/records-dropped-error.ts';
import { SpoolError } from './errors/spool-error.ts';
import { lockSpool } from './spool-lock.ts';

/**
 * The spool: every record is on disk from shortly after it is recorded until opentrail has acknowledged it,
 * so an opentrail outage or restart, or a restart of the host, loses nothing.
 *
 * A directory of append-only NDJSON files, one per batch, named by an increasing sequence number
 * (`0000000000000007.ndjson`). A file is
 * - pending: its records are still in memory, waiting to be written together with those that follow them
 *   (`writeDelayMs` after the first at most, or as soon as they fill a batch);
 * - open: the newest file, appended to. It is sealed when it holds `maxBatchRecords` or `maxBatchBytes`, or
 *   `flushIntervalMs` after it was opened;
 * - sealed: fsync'd and never written again; waiting to be sent, oldest first;
 * - sending: in the batch on the wire; it cannot be dropped;
 * - gone: unlinked once opentrail acknowledged its batch (or dropped to make room).
 * Durability: an appended record survives the host process dying (it is in the OS's cache); a sealed one
 * survives the machine dying. A pending record is only in memory: a host crash loses the last writeDelayMs.
 * Memory: what was written to the open file and to the KEPT_FILES newest sealed ones is also kept, so that
 * they are sent without being read back (at most KEPT_FILES + 1 times maxBatchBytes).
 * Bound: the files stay within `maxBytes`. To make room the oldest sealed files that are not being sent are
 * deleted and their records counted as dropped; when no file can go, the new record is dropped instead.
 * Trade-offs: one file per batch makes an acknowledgement one unlink, at the cost of many small files in a
 * long outage at low traffic. Pending records are written in groups, not one write each as they came: at a
 * few thousand requests a second a write each (a promise, a thread-pool job and a system call on the host's
 * own core) cost the host more CPU than building the records; the price is the writeDelayMs a host crash
 * can lose. Delivery is at least once: a host crash between opentrail's acknowledgement
 * and the unlink sends that batch again, with the same eventIDs.
 */
export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  /** Records are written this long after the first of them at the latest (fewer, larger writes). */
  writeDelayMs: number;
  clock: Clock;
  /** A batch was sealed (or found on start) and can be sent. */
  onSealed(): void;
  /** Records were lost; the error says how many and why. */
  onDropped(error: RecordsDroppedError): void;
  onError(error: RecorderError): void;
}

interface SpoolFile {
  seq: number;
  path: string;
  bytes: number;
  records: number;
  sending: boolean;
  /** Written by this process, so its records are whole unless a write failed (see `read`). */
  ours: boolean;
  /**
   * What this process wrote to the file, write by write: kept for the newest files so that sending them
   * reads nothing back from disk. Undefined for a file an earlier run left, or once let go (see KEPT_FILES).
   */
  written: Buffer[] | undefined;
}

interface OpenFile extends SpoolFile {
  handle: FileHandle;
  timer: TimerHandle;
  written: Buffer[];
}

export interface SpoolBatch {
  readonly files: readonly SpoolFile[];
}

/** A batch's records: `count` JSON texts, each ended by a newline, in `chunks`. */
export interface SpoolRecords {
  readonly count: number;
  readonly chunks: readonly Buffer[];
}

const FILE_NAME = /^(\d{16})\.ndjson$/;
/**
 * Sealed files whose text stays in memory until sent (at most this many times maxBatchBytes). Reading each
 * batch back from disk to send it cost the recorder about as much CPU as writing it (the kernel's reads and
 * page faults); the newest files are the ones sent next, an older one is read back, as after an outage.
 */
const KEPT_FILES = 2;
/** Pending records past this many bytes are written at once, whatever writeDelayMs says. */
const WRITE_NOW_BYTES = 256 * 1024;

export class Spool {
  readonly #o: SpoolOptions;
  readonly #sealed: SpoolFile[] = [];
  #open: OpenFile | undefined;
  #nextSeq = 1;
  /** Bytes of the open and sealed files. */
  #bytes = 0;
  #pending: string[] = [];
  /** The UTF-8 bytes of each pending line, measured once. */
  #pendingSizes: number[] = [];
  #pendingBytes = 0;
  /** When the oldest pending record was added (clock ms). */
  #pendingSinceMs = 0;
  /** A write of pending records is queued or under way. */
  #writing = false;
  #writeTimer: TimerHandle | undefined;
  /** Every write to the directory, in order, starting with opening it. */
  #work: Promise<void>;
  #broken: SpoolError | undefined;
  #unlock: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(options: SpoolOptions) {
    this.#o = options;
    this.#work = this.#start();
  }

  /** Takes one record's JSON; never throws, never waits. */
  add(json: string): void {
    if (this.#closed) {
      this.#drop(1, 'closed', 'A record arrived after close(); it was not recorded.');
      return;
    }
    const line = `${json}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.#pending.length === 0) this.#pendingSinceMs = this.#o.clock.now();
    this.#pending.push(line);
    this.#pendingSizes.push(bytes);
    this.#pendingBytes += bytes;
    // Memory is bounded like the disk, and the same records go: more than maxBytes waiting could never all
    // be kept on disk, and a stalled disk must not make the host grow without limit.
    let dropped = 0;
    while (this.#pendingBytes > this.#o.maxBytes && this.#pending.length > 1) {
      this.#pending.shift();
      this.#pendingBytes -= this.#pendingSizes.shift() as number;
      dropped += 1;
    }
    if (dropped > 0) {
      this.#drop(
        dropped,
        'spool-full',
        `The spool cannot keep up; its ${dropped} oldest unwritten records were dropped.`,
      );
    }
    this.#scheduleWrite();
  }

  /** Writes what is pending and seals the open file, so everything recorded so far can be sent. */
  seal(): Promise<void> {
    this.#writeTimer?.cancel();
    this.#writeTimer = undefined;
    return this.#enqueue(async () => {
      // A write already queued takes what is pending; this takes what came after it.
      await this.#writePending();
      await this.#sealOpen();
    });
  }

  /** The oldest sealed files not being sent, as many as fit one batch; they are marked as being sent. */
  nextBatch(): SpoolBatch | undefined {
    const files: SpoolFile[] = [];
    let records = 0;
    let bytes = 0;
    for (const f of this.#sealed) {
      if (f.sending) continue;
      if (
        files.length > 0 &&
        (records + f.records > this.#o.maxBatchRecords || bytes + f.bytes > this.#o.maxBatchBytes)
      ) {
        break;
      }
      files.push(f);
      records += f.records;
      bytes += f.bytes;
    }
    if (files.length === 0) return undefined;
    for (const f of files) f.sending = true;
    return { files };
  }

  /**
   * The batch's records, as newline-ended JSON lines in buffers. A file whose bytes are still in memory is
   * whole records, as this process wrote them; so is one it wrote that holds exactly the bytes it wrote.
   * Any other (left by an earlier run, or by a failed or short write) has each line parsed, and a line a
   * crash left torn or unreadable is skipped and counted.
   */
  async read(batch: SpoolBatch): Promise<SpoolRecords> {
    const chunks: Buffer[] = [];
    let count = 0;
    let damaged = 0;
    for (const f of batch.files) {
      if (f.written !== undefined) {
        chunks.push(...f.written);
        count += f.records;
        continue;
      }
      const data = await readFile(f.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return Buffer.alloc(0);
        throw error;
      });
      if (f.ours && data.length === f.bytes) {
        chunks.push(data);
        count += f.records;
        continue;
      }
      const { valid, invalid } = completeLines(data.toString('utf8'));
      if (valid.length > 0) chunks.push(Buffer.from(`${valid.join('\n')}\n`));
      count += valid.length;
      damaged += invalid;
    }
    if (damaged > 0) {
      this.#drop(damaged, 'spool-damaged', `${damaged} unreadable records in the spool (a torn write) were skipped.`);
    }
    return { count, chunks };
  }

  /** opentrail has the batch: its files go. */
  async acknowledge(batch: SpoolBatch): Promise<void> {
    for (const f of batch.files) this.#forget(f);
    await Promise.all(batch.files.map((f) => this.#unlink(f.path)));
  }

  /** The batch was not delivered: its files wait to be sent again. */
  release(batch: SpoolBatch): void {
    for (const f of batch.files) f.sending = false;
  }

  /** Records waiting (in memory, open or sealed) and the bytes of the spool's files. */
  stats(): { records: number; bytes: number; sealedRecords: number } {
    const sealedRecords = this.#sealed.reduce((n, f) => n + f.records, 0);
    return {
      records: this.#pending.length + (this.#open?.records ?? 0) + sealedRecords,
      bytes: this.#bytes,
      sealedRecords,
    };
  }

  /** Writes and seals what is pending and gives the directory back; unsent files wait for the next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.seal();
    await this.#unlock?.().catch((error: unknown) => this.#report('The spool lock could not be removed', error));
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.#work.then(step);
    this.#work = next.catch((error: unknown) => this.#report('The spool failed', error));
    return this.#work;
  }

  async #start(): Promise<void> {
    try {
      await mkdir(this.#o.dir, { recursive: true });
      this.#unlock = await lockSpool(this.#o.dir);
      await this.#recover();
    } catch (error) {
      this.#broken =
        error instanceof SpoolError
          ? error
          : new SpoolError(`The spool directory ${this.#o.dir} cannot be used: ${(error as Error).message}`, {
              cause: error,
            });
      this.#o.onError(this.#broken);
    }
  }

  /** Files left by an earlier run are sealed batches; they are sent first. */
  async #recover(): Promise<void> {
    const names = (await readdir(this.#o.dir)).filter((n) => FILE_NAME.test(n)).sort();
    for (const name of names) {
      const path = join(this.#o.dir, name);
      const text = await readFile(path, 'utf8');
      const records = completeLines(text).valid.length;
      const seq = Number(FILE_NAME.exec(name)?.[1]);
      this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
      if (records === 0) {
        await this.#unlink(path);
        continue;
      }
      const bytes = Buffer.byteLength(text);
      this.#sealed.push({ seq, path, bytes, records, sending: false, ours: false, written: undefined });
      this.#bytes += bytes;
    }
    // maxBytes may be smaller than in the last run.
    await this.#makeRoom(0);
    if (this.#sealed.length > 0) this.#o.onSealed();
  }

  /**
   * Pending records are written together: at once when they fill a batch or WRITE_NOW_BYTES, otherwise
   * `writeDelayMs` after the first of them, and never while a write is under way (it schedules the next).
   * A write a record cost the host more than building the record did (a promise, a thread-pool job and a
   * system call, on the host's own core).
   */
  #scheduleWrite(): void {
    if (this.#writing || this.#pending.length === 0) return;
    if (this.#pending.length >= this.#o.maxBatchRecords || this.#pendingBytes >= WRITE_NOW_BYTES) {
      this.#writeTimer?.cancel();
      this.#writeTimer = undefined;
      this.#writing = true;
      void this.#enqueue(() => this.#drain());
    } else {
      // Kept alive: a host that ends on its own (no close()) still writes its last records.
      this.#writeTimer ??= this.#o.clock.schedule(
        () => {
          this.#writeTimer = undefined;
          this.#writing = true;
          void this.#enqueue(() => this.#drain());
        },
        this.#o.writeDelayMs,
        { keepAlive: true },
      );
    }
  }

  /** The scheduled write: what is pending now, then the next one is scheduled if more came meanwhile. */
  async #drain(): Promise<void> {
    try {
      await this.#writePending();
    } finally {
      this.#writing = false;
      this.#scheduleWrite();
    }
  }

  /** Writes what is pending now, in one write (more when it fills batches). */
  async #writePending(): Promise<void> {
    const lines = this.#pending;
    const sizes = this.#pendingSizes;
    const sinceMs = this.#pendingSinceMs;
    if (lines.length === 0) return;
    this.#pending = [];
    this.#pendingSizes = [];
    this.#pendingBytes = 0;
    if (this.#broken !== undefined) {
      this.#drop(lines.length, 'spool-unavailable', this.#broken.message, this.#broken);
      return;
    }
    try {
      await this.#write(lines, sizes, sinceMs);
    } catch (error) {
      // #write handles the failures it expects; this is the last guard, so the writer never stalls.
      this.#drop(lines.length, 'spool-unavailable', `Records could not be spooled: ${(error as Error).message}`, error);
    }
  }

  /** `sinceMs`: when the first of the lines was recorded, from which its batch's flushIntervalMs runs. */
  async #write(lines: string[], sizes: number[], sinceMs: number): Promise<void> {
    let group: string[] = [];
    let groupBytes = 0;
    const flush = async () => {
      const open = this.#open;
      if (group.length === 0 || open === undefined) return;
      // Encoded once: the same bytes are written and, while kept, sent.
      const data = Buffer.from(group.join(''));
      const [records, bytes] = [group.length, groupBytes];
      group = [];
      groupBytes = 0;
      try {
        await open.handle.write(data);
        open.written.push(data);
      } catch (error) {
        await this.#abandonOpen(records, bytes, error);
      }
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const bytes = sizes[i] as number;
      // Room is made only when needed: awaiting #makeRoom for every line cost a promise a record.
      if (this.#bytes + bytes > this.#o.maxBytes && !(await this.#makeRoom(bytes))) {
        this.#drop(1, 'spool-full', 'The spool is full of records being sent; a new record was dropped.');
        continue;
      }
      const open = this.#open;
      if (
        open !== undefined &&
        (open.records >= this.#o.maxBatchRecords || (open.records > 0 && open.bytes + bytes > this.#o.maxBatchBytes))
      ) {
        await flush();
        await this.#sealOpen();
      }
      let target = this.#open;
      if (target === undefined) {
        try {
          target = await this.#openFile(sinceMs);
        } catch (error) {
          const left = lines.length - i;
          this.#drop(
            left,
            'spool-unavailable',
            `A spool file could not be created: ${(error as Error).message}`,
            error,
          );
          return;
        }
      }
      group.push(line);
      groupBytes += bytes;
      target.records += 1;
      target.bytes += bytes;
      this.#bytes += bytes;
    }
    await flush();
    if (this.#open !== undefined && this.#open.records >= this.#o.maxBatchRecords) await this.#sealOpen();
  }

  /** A new open file, sealed flushIntervalMs after `sinceMs` (its first record was recorded then). */
  async #openFile(sinceMs: number): Promise<OpenFile> {
    const seq = this.#nextSeq++;
    const path = join(this.#o.dir, `${String(seq).padStart(16, '0')}.ndjson`);
    const handle = await open(path, 'a');
    const timer = this.#o.clock.schedule(
      () => {
        if (this.#open?.seq === seq) void this.seal();
      },
      Math.max(0, this.#o.flushIntervalMs - (this.#o.clock.now() - sinceMs)),
    );
    this.#open = { seq, path, bytes: 0, records: 0, sending: false, ours: true, written: [], handle, timer };
    return this.#open;
  }

  async #sealOpen(): Promise<void> {
    const f = this.#open;
    if (f === undefined) return;
    this.#open = undefined;
    f.timer.cancel();
    await f.handle
      .sync()
      .catch((error: unknown) => this.#report(`The spool file ${f.path} could not be synced`, error));
    await f.handle.close().catch(() => {});
    const { handle: _handle, timer: _timer, ...sealed } = f;
    if (sealed.records === 0) {
      this.#bytes -= sealed.bytes;
      await this.#unlink(sealed.path);
      return;
    }
    this.#sealed.push(sealed);
    // Only the newest files keep their text: memory stays within KEPT_FILES batches in an outage.
    for (let i = this.#sealed.length - 1, kept = 0; i >= 0; i--) {
      const older = this.#sealed[i] as SpoolFile;
      if (older.written !== undefined && ++kept > KEPT_FILES) {
        older.written = undefined;
        break;
      }
    }
    this.#o.onSealed();
  }

  /** A write failed: what reached the file stays there as a sealed batch (a torn tail is skipped on read). */
  async #abandonOpen(lostRecords: number, lostBytes: number, error: unknown): Promise<void> {
    const f = this.#open;
    if (f === undefined) return;
    f.records -= lostRecords;
    f.bytes -= lostBytes;
    this.#bytes -= lostBytes;
    this.#drop(lostRecords, 'spool-unavailable', `Records could not be written to ${f.path}.`, error);
    await this.#sealOpen();
  }

  /** Deletes the oldest files that are not being sent until `bytes` more fit; false when they cannot. */
  async #makeRoom(bytes: number): Promise<boolean> {
    while (this.#bytes + bytes > this.#o.maxBytes) {
      const oldest = this.#sealed.find((f) => !f.sending);
      if (oldest === undefined) return false;
      this.#forget(oldest);
      await this.#unlink(oldest.path);
      this.#drop(
        oldest.records,
        'spool-full',
        `The spool reached its bound of ${this.#o.maxBytes} bytes; its ${oldest.records} oldest records were dropped.`,
      );
    }
    return true;
  }

  #forget(f: SpoolFile): void {
    const i = this.#sealed.indexOf(f);
    if (i === -1) return;
    this.#sealed.splice(i, 1);
    this.#bytes -= f.bytes;
  }

  async #unlink(path: string): Promise<void> {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') this.#report(`The spool file ${path} could not be removed`, error);
    });
  }

  #drop(count: number, reason: DropReason, message: string, cause?: unknown): void {
    this.#o.onDropped(new RecordsDroppedError(count, reason, message, cause === undefined ? undefined : { cause }));
  }

  #report(what: string, error: unknown): void {
    this.#o.onError(new SpoolError(`${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
  }
}

/** The lines a crash cannot have torn: ended by a newline and parseable. */
function completeLines(text: string): { valid: string[]; invalid: number } {
  const parts = text.split('\n');
  // The text after the last newline is empty, or a torn write.
  const torn = parts.pop() === '' ? 0 : 1;
  const valid: string[] = [];
  let invalid = torn;
  for (const line of parts) {
    if (line === '') continue;
    if (parses(line)) valid.push(line);
    else invalid += 1;
  }
  return { valid, invalid };
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

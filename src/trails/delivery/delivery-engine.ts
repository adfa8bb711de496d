import type { Logger } from 'pino';
import type { IdentityStore } from '../../identity/index.ts';
import type { EventLog } from '../../log/event-log.ts';
import type { LogEntry } from '../../log/frame.ts';
import { recordBytes, routableHeader } from '../../log/record-payload.ts';
import type { Clock } from '../../model/clock.ts';
import type { CloudTrailRecord } from '../../model/record.ts';
import type { ObjectStore } from '../../objectstore/index.ts';
import { compileSelectors } from '../selector-match.ts';
import type { TrailRecord } from '../trail.ts';
import type { TrailStore } from '../trail-store.ts';
import {
  type DeliveryPlan,
  type DeliveryStore,
  deliveryKey,
  type PendingLogFile,
  type TrailDeliveryState,
} from './delivery-store.ts';
import { type BuiltLogFile, buildLogFile } from './log-files.ts';
import type { Notifier } from './notifier.ts';
import { type ParsedEntry, type Routed, routeRecords } from './route-records.ts';
import { trailAccounts } from './trail-scope.ts';

/**
 * Trail delivery: every delivery interval (of the service clock), each trail turns the log records after
 * its own cursor into gzipped log files in its bucket.
 *
 * States of a range of records, per trail: read and routed (in memory) → planned (the files it becomes,
 * stored with the delivery time that names them) → written (every file in the bucket) → committed (cursor,
 * logging state, digest queue and status moved in one transaction). A crash before the commit leaves the
 * plan, and the next run routes the same records with the same settings into the same keys and bytes, so
 * every record lands in exactly one file. A trail whose bucket fails keeps its plan and its cursor and is
 * retried every interval; the others go on. Records are read once per chunk for all trails.
 */
export interface DeliveryEngineDeps {
  log: EventLog;
  trails: TrailStore;
  identity: IdentityStore;
  objects: ObjectStore;
  store: DeliveryStore;
  clock: Clock;
  notifier: Notifier;
  logger: Logger;
}

/** Records read per chunk: a chunk's log files for one account and Region stay far below AWS's 50 MB. */
const CHUNK_RECORDS = 25_000;
const CHUNK_BYTES = 48 * 1024 * 1024;

export class DeliveryEngine {
  readonly #deps: DeliveryEngineDeps;
  readonly #states = new Map<string, TrailDeliveryState>();
  readonly #matchers = new WeakMap<TrailRecord, (r: CloudTrailRecord) => boolean>();

  readonly #unreadable = (seq: number): void =>
    this.#deps.logger.warn({ seq }, 'trail delivery stepped over a logged record that is not JSON');

  constructor(deps: DeliveryEngineDeps) {
    this.#deps = deps;
  }

  async load(): Promise<void> {
    for (const s of await this.#deps.store.loadStates()) this.#states.set(s.trailKey, s);
  }

  /** The lowest cursor of any trail: the log keeps everything after it. */
  cursorFloor(): number | undefined {
    let floor: number | undefined;
    for (const s of this.#states.values()) floor = floor === undefined ? s.cursor : Math.min(floor, s.cursor);
    return floor;
  }

  state(trail: TrailRecord): TrailDeliveryState | undefined {
    return this.#states.get(deliveryKey(trail));
  }

  states(): TrailDeliveryState[] {
    return [...this.#states.values()];
  }

  /** One delivery run: every trail up to the records logged when the run starts. */
  async deliver(): Promise<void> {
    this.#syncTrails();
    // A call's record can be written and not yet committed (Capture.recordCall): the run waits for it, so it
    // delivers every call answered before it.
    const target = await this.#deps.log.loggedSeq();
    const blocked = new Set<string>();
    for (const state of this.#states.values()) {
      if (state.plan !== undefined && !(await this.#retryPlan(state))) blocked.add(state.trailKey);
    }
    for (;;) {
      const active = [...this.#states.values()].filter((s) => s.cursor < target && !blocked.has(s.trailKey));
      if (active.length === 0) break;
      const from = Math.min(...active.map((s) => s.cursor)) + 1;
      const entries = await this.#deps.log.reader(from).read(CHUNK_RECORDS, CHUNK_BYTES);
      const chunk = entries.filter((e) => e.seq <= target);
      if (chunk.length === 0) break;
      const parse = parser(this.#unreadable);
      const idle: TrailDeliveryState[] = [];
      for (const state of active) {
        const mine = chunk.filter((e) => e.seq > state.cursor);
        if (mine.length === 0) continue;
        const last = (mine[mine.length - 1] as LogEntry).seq;
        const accounts = trailAccounts(state.trail, this.#deps.identity);
        const routed = routeRecords(mine, this.#routing(state, accounts), parse);
        if (routed.files.length === 0) {
          idle.push(this.#advanced(state, last, routed, this.#deps.clock.now()));
          continue;
        }
        const plan: DeliveryPlan = {
          firstSeq: (mine[0] as LogEntry).seq,
          lastSeq: last,
          loggingAtStart: state.logging,
          trail: state.trail,
          accounts,
          timeMs: this.#deps.clock.now(),
          files: [],
        };
        if (!(await this.#execute(state, plan, routed))) blocked.add(state.trailKey);
      }
      await this.#deps.store.save(idle);
      for (const s of idle) this.#states.set(s.trailKey, s);
    }
  }

  /**
   * Adds trails created since the last run; refreshes the settings of the others. A deleted trail keeps the
   * settings it had until its DeleteTrail is delivered, also when a new trail took its name meanwhile.
   */
  #syncTrails(): void {
    const committed = this.#deps.log.committedSeq;
    for (const trail of this.#deps.trails.all()) {
      const key = deliveryKey(trail);
      const state = this.#states.get(key);
      if (state === undefined) {
        // A new trail reads from where the log stood when it was created: its StartLogging comes after.
        const cursor = Math.max(trail.createdAtSeq ?? committed, this.#deps.log.firstSeq - 1);
        this.#states.set(key, { trailKey: key, cursor, logging: false, trail, status: {} });
      } else if (!state.deleted) {
        state.trail = trail;
      }
    }
  }

  #routing(state: TrailDeliveryState, accounts: string[]) {
    let matches = this.#matchers.get(state.trail);
    if (matches === undefined) {
      matches = compileSelectors({
        ...(state.trail.eventSelectors !== undefined ? { eventSelectors: state.trail.eventSelectors } : {}),
        ...(state.trail.advancedEventSelectors !== undefined
          ? { advancedEventSelectors: state.trail.advancedEventSelectors }
          : {}),
      });
      this.#matchers.set(state.trail, matches);
    }
    return { trail: state.trail, accounts: new Set(accounts), matches, loggingAtStart: state.logging };
  }

  /** The state after a range delivered at `deliveredMs`: a stopped trail's chains end with this delivery. */
  #advanced(state: TrailDeliveryState, last: number, routed: Routed, deliveredMs: number): TrailDeliveryState {
    return {
      ...state,
      cursor: last,
      logging: routed.loggingAtEnd,
      ...(routed.stopped ? { finalDigestAtMs: deliveredMs } : {}),
      ...(routed.deleted ? { deleted: true as const } : {}),
    };
  }

  /**
   * Replays a stored plan: the same records, routed with the same settings, into the same keys. A plan for a
   * destination the trail has since left (UpdateTrail to another bucket, prefix or key) is dropped instead, and
   * its records are routed again with the current settings; files it wrote before failing stay where they are.
   */
  async #retryPlan(state: TrailDeliveryState): Promise<boolean> {
    const plan = state.plan as DeliveryPlan;
    if (destination(plan.trail) !== destination(state.trail)) {
      delete state.plan;
      await this.#deps.store.save([state]);
      return true;
    }
    const entries = await this.#readRange(plan.firstSeq, plan.lastSeq);
    const routing = {
      ...this.#routing({ ...state, trail: plan.trail }, plan.accounts),
      loggingAtStart: plan.loggingAtStart,
    };
    return this.#execute(state, plan, routeRecords(entries, routing, parser(this.#unreadable)));
  }

  /** Plans (if new), writes and commits one trail's files; false when the bucket refused them. */
  async #execute(state: TrailDeliveryState, plan: DeliveryPlan, routed: Routed): Promise<boolean> {
    const files = await Promise.all(routed.files.map((f) => buildLogFile(plan.trail, f, plan.firstSeq, plan.timeMs)));
    if (state.plan === undefined) {
      plan.files = files.map((f) => ({ key: f.key, accountId: f.accountId, region: f.region }));
      state.plan = plan;
      await this.#deps.store.save([state]);
    }
    const now = this.#deps.clock.now();
    // Digests end on whole seconds: a file delivered within a second belongs to the digest ending after it.
    const deliveredMs = Math.ceil(now / 1000) * 1000;
    state.status = { ...state.status, latestDeliveryAttemptMs: now };
    try {
      for (const f of files) await this.#write(plan.trail, f);
    } catch (error) {
      state.status = { ...state.status, latestDeliveryError: deliveryError(error) };
      await this.#deps.store.save([state]);
      this.#deps.logger.warn(
        { err: error, trail: state.trailKey },
        'log file delivery failed; it is retried next interval',
      );
      return false;
    }
    const { latestDeliveryError: _cleared, ...status } = state.status;
    const next: TrailDeliveryState = {
      ...this.#advanced(state, plan.lastSeq, routed, deliveredMs),
      status: { ...status, latestDeliveryMs: now },
    };
    delete next.plan;
    await this.#deps.store.save(
      [next],
      plan.trail.logFileValidationEnabled ? digestEntries(state.trailKey, plan, files, deliveredMs) : [],
    );
    this.#states.set(state.trailKey, next);
    await this.#notify(next, files);
    return true;
  }

  async #write(trail: TrailRecord, file: BuiltLogFile): Promise<void> {
    await this.#deps.objects.putObject({
      bucket: trail.s3BucketName,
      key: file.key,
      body: file.body,
      contentType: 'application/json',
      acl: 'bucket-owner-full-control',
      ...(trail.kmsKeyId !== undefined ? { kmsKeyId: trail.kmsKeyId } : {}),
    });
  }

  /** One SNS message per delivery (facts §5.3); a failure is reported in the status, never blocks delivery. */
  async #notify(state: TrailDeliveryState, files: BuiltLogFile[]): Promise<void> {
    const topic = state.trail.snsTopicArn;
    if (topic === undefined || !this.#deps.notifier.enabled) return;
    state.status = { ...state.status, latestNotificationAttemptMs: this.#deps.clock.now() };
    try {
      await this.#deps.notifier.publish(
        topic,
        state.trail.s3BucketName,
        files.map((f) => f.key),
      );
      const { latestNotificationError: _cleared, ...status } = state.status;
      state.status = { ...status, latestNotificationMs: this.#deps.clock.now() };
    } catch (error) {
      state.status = { ...state.status, latestNotificationError: deliveryError(error) };
    }
    await this.#deps.store.save([state]);
  }

  async #readRange(firstSeq: number, lastSeq: number): Promise<LogEntry[]> {
    const reader = this.#deps.log.reader(firstSeq);
    const out: LogEntry[] = [];
    while (out.length < lastSeq - firstSeq + 1) {
      const batch = await reader.read(Math.min(CHUNK_RECORDS, lastSeq - firstSeq + 1 - out.length), CHUNK_BYTES);
      if (batch.length === 0) break;
      out.push(...batch);
    }
    return out.filter((e) => e.seq <= lastSeq);
  }

  async saveState(state: TrailDeliveryState): Promise<void> {
    await this.#deps.store.save([state]);
    this.#states.set(state.trailKey, state);
  }

  /** Forgets a deleted trail once its final digest is written. */
  async forget(trailKey: string): Promise<void> {
    await this.#deps.store.forget(trailKey);
    this.#states.delete(trailKey);
  }
}

/**
 * Reads each log entry's routing header once per chunk, however many trails look at it. A bare record that is
 * not JSON has no header to route it by: no trail takes it (it could not go into a log file either), where
 * throwing would fail every delivery run after it.
 */
function parser(onUnreadable: (seq: number) => void): (e: LogEntry) => ParsedEntry | undefined {
  const cache = new Map<number, ParsedEntry | undefined>();
  return (entry) => {
    if (cache.has(entry.seq)) return cache.get(entry.seq);
    const record = routableHeader(entry.payload) as CloudTrailRecord | undefined;
    if (record === undefined) onUnreadable(entry.seq);
    const parsed = record === undefined ? undefined : { record, bytes: recordBytes(entry.payload) };
    cache.set(entry.seq, parsed);
    return parsed;
  };
}

/** Where a trail's files go: a plan for another destination is not replayed. */
function destination(trail: TrailRecord): string {
  return JSON.stringify([trail.s3BucketName, trail.s3KeyPrefix ?? '', trail.kmsKeyId ?? '']);
}

function digestEntries(
  trailKey: string,
  plan: DeliveryPlan,
  files: BuiltLogFile[],
  deliveredMs: number,
): (PendingLogFile & { trailKey: string })[] {
  return files.map((f) => ({
    trailKey,
    accountId: f.accountId,
    region: f.region,
    deliveredMs,
    file: { s3Bucket: plan.trail.s3BucketName, ...f.digestEntry },
  }));
}

/** The error text GetTrailStatus shows, as AWS shows S3's error codes (e.g. NoSuchBucket). */
function deliveryError(error: unknown): string {
  const e = error as { code?: string; name?: string; message?: string };
  return e.code ?? e.name ?? String(error);
}

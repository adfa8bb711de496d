import type { IdentityStore } from '../identity/index.ts';
import { type ConsumerHandler, PassedCursorSaves } from '../log/consumer.ts';
import type { LogEntry } from '../log/frame.ts';
import { recordBytes, routableHeader } from '../log/record-payload.ts';
import type { CloudTrailRecord } from '../model/record.ts';
import { saveCursor, storedCursor } from '../store/consumer-cursors.ts';
import type { Connection } from '../store/database.ts';
import { isDataError, saveSkip, skippedCount } from '../store/skipped-records.ts';
import type { RecordPredicate } from '../trails/index.ts';
import { channelDelivers } from './channel-routing.ts';
import { type EventDataStoreRecord, ingestsAt } from './event-data-store.ts';
import type { EventDataStoreStore } from './event-data-store-store.ts';
import { insertLakeBatch, lakeBatch } from './lake-table.ts';
import { compileStoreSelectors } from './store-selectors.ts';

/**
 * Feeds event data stores from the log. Every store has its own cursor (`lake_cursors`), committed in one
 * transaction with the events it took, so a restart neither loses nor repeats one; one runner reads the log
 * for all of them (one read and one header parse per record, however many stores there are).
 *
 * A store takes a record when the record was logged inside one of its ingestion windows (sequence numbers:
 * see IngestionWindow), is of an account it covers (its own, or every member of its organization), of its
 * Region unless it is multi-Region, and its advanced selectors select it. Selection reads the record's
 * routing header; the record itself is parsed only by DuckDB (lake-table.ts).
 *
 * A batch DuckDB rejects is applied record by record; a record it rejects alone for its data is skipped
 * and reported, as event history does. Trade-off: stores are judged with their settings as they are when the
 * consumer reaches a record, not as they were when it was logged (the consumer lags by ~100 ms), except
 * for ingestion on and off, which is judged by sequence number.
 */
export const LAKE_CONSUMER = 'lake';

export interface LakeConsumerDeps {
  conn: Connection;
  stores: EventDataStoreStore;
  identity: IdentityStore;
  /** Whether a store's pending deletion is over: it takes nothing more. */
  isGone: (store: EventDataStoreRecord) => boolean;
  onSkip: (seq: number, error: unknown) => void;
  /** Where a lake that never ran starts: the log's committed position (no store existed before it). */
  firstCursor: () => number;
  /** Paces saves of a cursor that passed records no store takes (tests pass one with their own clock). */
  passedSaves?: PassedCursorSaves;
}

const NOT_ROUTABLE = 'a bare record that is not JSON: no header to route it by';

/** A record stepped over, and why. */
interface Skip {
  seq: number;
  error: unknown;
}

/** A record for one store. */
interface Row {
  storeId: string;
  seq: number;
  json: Uint8Array;
}

interface Route {
  store: EventDataStoreRecord;
  after: number;
  accounts: ReadonlySet<string>;
  matches: RecordPredicate;
}

export class LakeConsumer implements ConsumerHandler {
  readonly name = LAKE_CONSUMER;
  readonly #deps: LakeConsumerDeps;
  #appliedThrough = 0;
  #skipped = 0;
  readonly #storeCursors = new Map<string, number>();
  /** Compiled selectors per stored record (a change stores a new record object). */
  readonly #matchers = new WeakMap<EventDataStoreRecord, RecordPredicate>();
  readonly #passedSaves: PassedCursorSaves;

  constructor(deps: LakeConsumerDeps) {
    this.#deps = deps;
    this.#passedSaves = deps.passedSaves ?? new PassedCursorSaves();
  }

  /** Records skipped, restarts included (each one was reported to `onSkip` and stored in `skipped_records`). */
  get skipped(): number {
    return this.#skipped;
  }

  async loadCursor(): Promise<number> {
    await this.#deps.conn.serial(async (raw) => {
      this.#appliedThrough = (await storedCursor(raw, this.name)) ?? this.#deps.firstCursor();
      this.#skipped = await skippedCount(raw, this.name);
      for (const [id, seq] of (await raw.runAndReadAll('SELECT store_id, seq FROM lake_cursors')).getRows()) {
        this.#storeCursors.set(String(id), Number(seq));
      }
    });
    return this.#appliedThrough;
  }

  async apply(entries: LogEntry[]): Promise<void> {
    const fresh = entries.filter((e) => e.seq > this.#appliedThrough);
    if (fresh.length === 0) return;
    const routes = this.#routes();
    const rows: Row[] = [];
    const skips: Skip[] = [];
    if (routes.length > 0) {
      for (const entry of fresh) {
        const header = routableHeader(entry.payload) as CloudTrailRecord | undefined;
        if (header === undefined) {
          skips.push({ seq: entry.seq, error: NOT_ROUTABLE });
          continue;
        }
        for (const route of routes) {
          if (!this.#takes(route, entry.seq, header)) continue;
          rows.push({ storeId: route.store.id, seq: entry.seq, json: recordBytes(entry.payload) });
        }
      }
    }
    const last = (fresh[fresh.length - 1] as LogEntry).seq;
    // With no store taking records there is no store cursor to move, only the lake's own.
    if (routes.length === 0 && !this.#passedSaves.due()) {
      this.#appliedThrough = last;
      return;
    }
    const storeIds = routes.map((r) => r.store.id);
    try {
      await this.#write(rows, storeIds, last, skips);
    } catch (error) {
      if (rows.length <= 1 && !isDataError(error)) throw error;
      await this.#writeOneByOne(rows, storeIds, last, skips);
    }
  }

  /** Applies rows one record at a time, skipping (and reporting) the records DuckDB rejects for their data. */
  async #writeOneByOne(rows: Row[], storeIds: string[], last: number, skips: Skip[]): Promise<void> {
    const bySeq = new Map<number, Row[]>();
    for (const row of rows) {
      const group = bySeq.get(row.seq);
      if (group === undefined) bySeq.set(row.seq, [row]);
      else group.push(row);
    }
    // Skips not stored yet: each is stored by the first write whose cursor passes it.
    let pending = skips;
    for (const [seq, ofSeq] of bySeq) {
      try {
        await this.#write(
          ofSeq,
          storeIds,
          seq,
          pending.filter((s) => s.seq < seq),
        );
        pending = pending.filter((s) => s.seq > seq);
      } catch (error) {
        if (!isDataError(error)) throw error;
        pending = [...pending, { seq, error }];
      }
    }
    await this.#write([], storeIds, last, pending);
  }

  /**
   * Stores `rows` and moves the cursors to `last`, in one transaction with the records `skips` steps over
   * (`skipped_records`), which are then counted and reported.
   */
  async #write(rows: Row[], storeIds: string[], last: number, skips: readonly Skip[]): Promise<void> {
    const batch = rows.length > 0 ? lakeBatch(rows) : undefined;
    const conn = this.#deps.conn;
    await conn.withTransaction(async () => {
      if (batch !== undefined) await insertLakeBatch(conn, batch);
      for (const id of storeIds) {
        await conn.upsert('lake_cursors', 'store_id', id, 'seq', last);
      }
      for (const skip of skips) await saveSkip(conn, this.name, skip.seq, skip.error);
      await saveCursor(conn, this.name, last);
    });
    this.#appliedThrough = last;
    this.#passedSaves.saved();
    for (const id of storeIds) this.#storeCursors.set(id, last);
    this.#skipped += skips.length;
    for (const skip of [...skips].sort((a, b) => a.seq - b.seq)) this.#deps.onSkip(skip.seq, skip.error);
  }

  /** The stores that may take records now: not gone, and ingesting at some point not yet passed. */
  #routes(): Route[] {
    const routes: Route[] = [];
    for (const store of this.#deps.stores.all()) {
      if (this.#deps.isGone(store)) continue;
      const after = this.#storeCursors.get(store.id) ?? 0;
      if (!store.ingestion.some((w) => w.toSeq === undefined || w.toSeq > after)) continue;
      let matches = this.#matchers.get(store);
      if (matches === undefined) {
        matches = compileStoreSelectors(store.advancedEventSelectors);
        this.#matchers.set(store, matches);
      }
      routes.push({ store, after, accounts: new Set(this.#accounts(store)), matches });
    }
    return routes;
  }

  #takes(route: Route, seq: number, record: CloudTrailRecord): boolean {
    const { store } = route;
    if (seq <= route.after || !ingestsAt(store, seq)) return false;
    if (!route.accounts.has(record.recipientAccountId)) return false;
    if (!store.multiRegionEnabled && record.awsRegion !== store.region) return false;
    // A channel's events go only to the stores the channel named when they were logged (channel-routing.ts).
    if (record.eventCategory === 'ActivityAuditLog' && !channelDelivers(record, store.id)) return false;
    return route.matches(record);
  }

  /** A store covers its own account, or every member account of its organization. */
  #accounts(store: EventDataStoreRecord): string[] {
    if (!store.organizationEnabled || store.organizationId === undefined) return [store.accountId];
    return [store.accountId, ...this.#deps.identity.membersOf(store.organizationId).map((a) => a.accountId)];
  }
}

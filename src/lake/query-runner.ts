import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Caller } from '../identity/index.ts';
import { type Clock, DAY_MS, HOUR_MS, type TimerHandle } from '../model/clock.ts';
import { dropOldest } from '../model/drop-oldest.ts';
import type { IdSource } from '../model/ids.ts';
import { ServiceError } from '../model/service-error.ts';
import { sqlString } from '../model/sql-string.ts';
import { stringHash } from '../model/string-hash.ts';
import type { Connection, ConnectionPool } from '../store/database.ts';
import type { EventDataStoreService } from './event-data-store-service.ts';
import { INTEGRATION_RELATION_COLUMNS, LAKE_RELATION_COLUMNS } from './lake-table.ts';
import type { QueryDelivery, ReadRows } from './query-delivery.ts';
import type {
  DeliveryStatus,
  LakeQueryRecord,
  QueryOrigin,
  QueryStatus,
  QueryStore,
  ResultRow,
} from './query-store.ts';
import { lakeResultText, type ResultText } from './result-text.ts';
import { checkStoreAccess, type LakeStores, type TranslatedQuery, translateLakeQuery } from './sql-sandbox.ts';
import {
  filledTemplate,
  markedStatement,
  type StatementShape,
  statementShape,
  type Template,
  templateOf,
} from './statement-shapes.ts';
import { storeEventKind } from './store-selectors.ts';

/**
 * Lake queries (facts §8.2): StartQuery checks and translates the statement at once (a bad statement or
 * store fails the call), then the query waits its turn: QUEUED → RUNNING → FINISHED | FAILED | CANCELLED.
 * At most 10 per account are unfinished (MaxConcurrentQueriesException); `RUNNERS` of them run at once, each
 * on its own connection so CancelQuery can interrupt it, and so they leave DuckDB's other connections (and
 * the threads the event log writes on) free. Results and statistics are stored with the query for 7 days.
 * A query started with a DeliveryS3Uri is delivered once FINISHED (query-delivery.ts), after its rows are stored,
 * off the runner connection: DeliveryStatus is PENDING until then, and a restart resumes a PENDING delivery from
 * the stored rows. A query that does not finish is not delivered (CANCELLED, or FAILED).
 */
export const MAX_UNFINISHED_QUERIES = 10;
export const QUERY_RETENTION_MS = 7 * DAY_MS;
/** A query that runs longer is stopped and ends TIMED_OUT (facts §8.2: about an hour), on the service's clock. */
export const QUERY_TIMEOUT_MS = HOUR_MS;
/**
 * A query is stored when it is started only once it has been unfinished this long: storing it at once cost
 * a commit (2-3 ms of CPU) taken from the query itself, and most queries end sooner, stored with their
 * outcome. Until then it lives in memory: a crash in that second forgets it (DescribeQuery then answers
 * QueryIdNotFoundException), where a stored one is failed by the restart.
 */
const UNFINISHED_STORED_AFTER_MS = 1000;
/** Finished queries kept in memory, and the most rows one may keep there. */
const RECENT_QUERIES = 100;
const RECENT_ROWS = 10_000;
/** Statements whose translation is kept, the oldest dropped first. */
const TRANSLATIONS_KEPT = 256;
const TERMINAL: ReadonlySet<QueryStatus> = new Set(['FINISHED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

export interface LakeQueriesDeps {
  stores: EventDataStoreService;
  queries: QueryStore;
  /** For parsing and checking statements. */
  reads: ConnectionPool;
  /** Where queries run, one at a time each; a free one also checks a filled template it will run. */
  runners: Connection[];
  clock: Clock;
  ids: IdSource;
  /** Writes results to a query's DeliveryS3Uri. */
  delivery: QueryDelivery;
  /** Where the runners' DuckDB profiles are written (inside the data directory). */
  profileDir: string;
  onError: (error: unknown) => void;
}

/** A checked statement: its translation, and how its rows are read as Lake writes them (result-text.ts). */
interface RunnableQuery extends TranslatedQuery {
  result: ResultText;
}

/** A runner connection `#bind` took for a query, with the statement it prepared there when that is the query. */
interface Runner {
  conn: Connection;
  prepared?: DuckDBPreparedStatement;
}

/** A translation whose result may not be known yet: a template filled in, not yet bound by DuckDB. */
type Translation = TranslatedQuery & { result?: ResultText };

function isBound(translation: Translation): translation is RunnableQuery {
  return translation.result !== undefined;
}

interface Running {
  query: LakeQueryRecord;
  translated: RunnableQuery;
  /** The statement as StartQuery prepared it on the runner that runs it, when it was bound there. */
  prepared?: DuckDBPreparedStatement;
  /** Set while it runs: the connection to interrupt. */
  conn?: Connection;
  /** Settles when the run has stored its outcome. */
  done?: Promise<void>;
  cancelled: boolean;
  /** Set when it ran past QUERY_TIMEOUT_MS and was interrupted for it. */
  timedOut?: boolean;
  /** Stores the query as it stands, unless it ends first (UNFINISHED_STORED_AFTER_MS). */
  store?: TimerHandle | undefined;
  /** Set once a document of it may be stored (unfinished, or an outcome tried): the next replaces it. */
  mayBeStored?: true;
}

export class LakeQueries {
  readonly #deps: LakeQueriesDeps;
  readonly #queue: Running[] = [];
  readonly #idle: Connection[];
  /** Unfinished queries by id (queued or running), in this process. */
  readonly #active = new Map<string, Running>();
  /**
   * Queries that finished in this process, oldest first, with their rows when few: a caller polls a query
   * it just started, then reads its results, and those answers need no trip to DuckDB.
   */
  readonly #recent = new Map<string, { query: LakeQueryRecord; rows?: ResultRow[] }>();
  /**
   * Statements that passed the checks before, by their exact text, with their translation: a dashboard's
   * widgets and a repeated query skip the parser's trips to DuckDB and the binding check (the translation
   * depends on the text alone). Whether the caller may query the stores is still checked on every use.
   */
  readonly #translations = new Map<string, RunnableQuery>();
  /** Templates by statement shape (statement-shapes.ts); null for a shape that has none. */
  readonly #templates = new Map<string, (Template & { storeIds: string[] }) | null>();
  /** Each runner connection's profile file, and how many were named. */
  readonly #profiles = new Map<Connection, string>();
  #profileFiles = 0;
  /** Callers waiting for an unfinished query to end (settled), by query id. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Runs not yet settled (their outcome may be in memory only), awaited by close(). */
  readonly #runs = new Set<Promise<void>>();
  #closing = false;
  /** Writes under way off any caller's path (deliveries, stores of unfinished queries), awaited by close(). */
  readonly #background = new Set<Promise<void>>();

  constructor(deps: LakeQueriesDeps) {
    this.#deps = deps;
    this.#idle = [...deps.runners];
  }

  /** Queries a stopped server left unfinished cannot be resumed: they fail, saying why. */
  async recover(): Promise<void> {
    for (const q of await this.#deps.queries.unfinished()) {
      await this.#deps.queries.put({
        ...q,
        status: 'FAILED',
        finishedMs: this.#deps.clock.now(),
        errorMessage: 'The service restarted while the query was queued or running; start it again.',
        ...(q.deliveryS3Uri !== undefined ? { deliveryStatus: 'FAILED' as const } : {}),
      });
    }
    // Its rows are stored: the delivery starts again and writes the same keys.
    for (const q of await this.#deps.queries.pendingDeliveries()) {
      this.#deliver(q, (offset, limit) => this.#deps.queries.results(q.queryId, offset, limit));
    }
  }

  /**
   * Starts no more runs, interrupts running queries (a restart would mark them FAILED anyway) and waits until
   * every run's outcome is stored: a query answered FINISHED from memory is still FINISHED after a restart.
   */
  async close(): Promise<void> {
    this.#closing = true;
    for (const running of this.#active.values()) {
      // A queued query never runs now: stored (unless its timer stored it), the restart fails it, saying why.
      if (running.conn === undefined && running.store !== undefined) this.#storeUnfinished(running);
    }
    // An interrupt that reaches a connection just before its query begins is lost (the query then ran to its
    // end, seconds later): it is repeated until every run has ended.
    const interrupt = () => {
      for (const running of this.#active.values()) running.conn?.raw.interrupt();
    };
    interrupt();
    const repeating = setInterval(interrupt, 50);
    try {
      await Promise.all(this.#runs);
    } finally {
      clearInterval(repeating);
    }
    await Promise.all(this.#background);
  }

  /** How many of the account's queries are queued or running. */
  unfinished(accountId: string): number {
    return [...this.#active.values()].filter((r) => r.query.accountId === accountId).length;
  }

  /** Checks a statement as StartQuery would, without running it (dashboard widgets, at create and update). */
  async check(caller: Caller, statement: string): Promise<void> {
    const translation = await this.#translate(caller, statement);
    if (!isBound(translation)) await this.#bindOnReads(statement, translation);
  }

  /**
   * `options` may name the dashboard widget (and refresh) a query ran for, so DescribeQuery finds it by alias,
   * and the DeliveryS3Uri its results go to.
   */
  async start(
    caller: Caller,
    statement: string,
    options: QueryOrigin & { deliveryS3Uri?: string } = {},
  ): Promise<string> {
    const { deliveryS3Uri, ...origin } = options;
    const accountId = caller.principal.accountId;
    const unfinished = this.unfinished(accountId);
    if (unfinished >= MAX_UNFINISHED_QUERIES) {
      throw new ServiceError(
        'MaxConcurrentQueriesException',
        `You have ${unfinished} queries queued or running; at most ${MAX_UNFINISHED_QUERIES} may be. Wait for one to finish or cancel one.`,
      );
    }
    // Bound first, so a statement that cannot run is refused as such whatever else is wrong.
    let { translated, runner } = await this.#bind(statement, await this.#translate(caller, statement));
    try {
      if (deliveryS3Uri !== undefined) {
        const storeArns = translated.storeIds.map((id) => this.#deps.stores.resolve(caller, id).arn);
        await this.#deps.delivery.check(deliveryS3Uri, accountId, storeArns);
      }
    } catch (error) {
      if (runner !== undefined) this.#release(runner);
      throw error;
    }
    if (runner !== undefined && this.#closing) {
      this.#release(runner);
      runner = undefined;
    }
    const query: LakeQueryRecord = {
      queryId: this.#deps.ids.uuid(),
      accountId,
      region: caller.region,
      storeIds: translated.storeIds,
      statement,
      status: 'QUEUED',
      createdMs: this.#deps.clock.now(),
      statistics: { eventsMatched: 0, eventsScanned: 0, bytesScanned: 0, executionMs: 0 },
      resultsCount: 0,
      ...origin,
      ...(deliveryS3Uri !== undefined ? { deliveryS3Uri, deliveryStatus: 'PENDING' as const } : {}),
    };
    const running: Running = { query, translated, cancelled: false };
    this.#active.set(query.queryId, running);
    // close() has stored the queries queued before it: one started after is stored now, for the restart to fail.
    if (this.#closing) this.#storeUnfinished(running);
    else running.store = this.#deps.clock.schedule(() => this.#storeUnfinished(running), UNFINISHED_STORED_AFTER_MS);
    if (runner === undefined) {
      this.#queue.push(running);
      this.#next();
    } else {
      if (runner.prepared !== undefined) running.prepared = runner.prepared;
      this.#launch(running, runner.conn);
    }
    return query.queryId;
  }

  /**
   * A translation with its result, bound by DuckDB. A filled template is bound here, by a free runner when
   * there is one, which then runs it: the run executes the statement prepared for the check (when its rows
   * need no cast, lakeResultText) instead of DuckDB planning it a second time, about 1.5 ms at 10 million
   * events and most of what StartQuery cost beyond a trivial call. The runner is the caller's to launch or
   * `#release`.
   */
  async #bind(statement: string, translation: Translation): Promise<{ translated: RunnableQuery; runner?: Runner }> {
    if (isBound(translation)) return { translated: translation };
    const conn = !this.#closing && this.#queue.length === 0 ? this.#idle.pop() : undefined;
    if (conn === undefined) return { translated: await this.#bindOnReads(statement, translation) };
    let prepared: DuckDBPreparedStatement | undefined;
    try {
      prepared = await conn.serial((raw) => prepareChecked(raw, translation.sql));
      const result = lakeResultText(translation.sql, prepared);
      const translated = this.#remember(statement, { ...translation, result });
      if (result.sql === translation.sql) return { translated, runner: { conn, prepared } };
      prepared.destroySync();
      return { translated, runner: { conn } };
    } catch (error) {
      this.#release({ conn, ...(prepared !== undefined ? { prepared } : {}) });
      throw error;
    }
  }

  /** Binds a filled template on the reads pool, as any first translation is, and keeps the result. */
  async #bindOnReads(statement: string, translation: Translation): Promise<RunnableQuery> {
    const result = await this.#deps.reads.use((conn) => conn.serial((raw) => bound(raw, translation.sql)));
    return this.#remember(statement, { ...translation, result });
  }

  /** Hands a runner `#bind` took back unused, to the query queued first if there is one. */
  #release(runner: Runner): void {
    runner.prepared?.destroySync();
    this.#idle.push(runner.conn);
    this.#next();
  }

  #remember(statement: string, translated: RunnableQuery): RunnableQuery {
    this.#translations.set(statement, translated);
    dropOldest(this.#translations, TRANSLATIONS_KEPT);
    return translated;
  }

  /** The statement checked and translated; a filled template comes without its result, not bound yet. */
  async #translate(caller: Caller, statement: string): Promise<Translation> {
    const stores = this.#storesOf(caller);
    const known = this.#translations.get(statement);
    if (known !== undefined) {
      checkStoreAccess(known.storeIds, stores);
      return known;
    }
    const shape = statementShape(statement);
    const template = shape === undefined ? undefined : this.#templates.get(shape.key);
    if (shape !== undefined && template) {
      checkStoreAccess(template.storeIds, stores);
      return { sql: filledTemplate(template, shape.literals), storeIds: template.storeIds };
    }
    const translated = await this.#translateAnew(statement, stores);
    if (shape !== undefined && template === undefined) {
      this.#templates.set(shape.key, await this.#templateOf(shape, translated, stores));
      dropOldest(this.#templates, TRANSLATIONS_KEPT);
    }
    return this.#remember(statement, translated);
  }

  #translateAnew(statement: string, stores: LakeStores): Promise<RunnableQuery> {
    return this.#deps.reads.use((conn) =>
      conn.serial(async (raw) => {
        const t = await translateLakeQuery(conn, statement, stores);
        return { ...t, result: await bound(raw, t.sql) };
      }),
    );
  }

  /** The shape's template, from the statement's translation and its marked one's; null when it has none. */
  async #templateOf(
    shape: StatementShape,
    translated: TranslatedQuery,
    stores: LakeStores,
  ): Promise<(Template & { storeIds: string[] }) | null> {
    try {
      const marked = await this.#deps.reads.use((conn) =>
        conn.serial(() => translateLakeQuery(conn, markedStatement(shape), stores)),
      );
      const template = templateOf(marked.sql, shape, translated.sql);
      return template === undefined ? null : { ...template, storeIds: translated.storeIds };
    } catch {
      return null;
    }
  }

  /**
   * Resolves when the unfinished query ends, or after `maxMs` (real time: this bounds a request's wait, it is
   * not a cadence of the service). DescribeQuery holds a poll of a running query this long, so a caller that
   * polls learns of the end when it happens rather than at its next poll, with fewer polls competing with
   * the query for CPU.
   */
  settled(queryId: string, maxMs: number): Promise<void> {
    if (!this.#active.has(queryId)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(queryId) ?? new Set<() => void>();
      this.#waiters.set(queryId, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      waiters.add(done);
    });
  }

  /** Stores an unfinished query as QUEUED (RUNNING lives in memory only), for a restart to fail it (`recover`). */
  #storeUnfinished(running: Running): void {
    running.store?.cancel();
    running.store = undefined;
    running.mayBeStored = true;
    // The connection's queue keeps this before the query's outcome.
    this.#inBackground(this.#deps.queries.put({ ...running.query, status: 'QUEUED' }));
  }

  /** The caller's query; another account's, or one older than 7 days, is not found. */
  async get(caller: Caller, queryId: string, storeRef?: string): Promise<LakeQueryRecord> {
    const query =
      this.#active.get(queryId)?.query ?? this.#recent.get(queryId)?.query ?? (await this.#deps.queries.get(queryId));
    const visible =
      query !== undefined &&
      query.accountId === caller.principal.accountId &&
      query.createdMs >= this.#deps.clock.now() - QUERY_RETENTION_MS;
    if (!visible) throw new ServiceError('QueryIdNotFoundException', `The query ${queryId} does not exist.`);
    if (storeRef !== undefined) {
      const store = this.#deps.stores.resolve(caller, storeRef);
      if (!query.storeIds.includes(store.id)) {
        throw new ServiceError('QueryIdNotFoundException', `The query ${queryId} does not read ${storeRef}.`);
      }
    }
    for (const id of query.storeIds) this.#refuseDeleted(caller, id);
    return query;
  }

  /**
   * AWS: no ListQueries, DescribeQuery or GetQueryResults on queries of a store pending deletion (facts §8.1).
   * A store gone altogether says nothing more: its queries are past their 7 days.
   */
  #refuseDeleted(caller: Caller, storeId: string): void {
    if (this.#storesOf(caller).access(storeId) === 'inactive') {
      throw new ServiceError(
        'InactiveEventDataStoreException',
        `The event data store ${storeId} is pending deletion; restore it to read its queries.`,
      );
    }
  }

  /**
   * The caller's newest query run for a dashboard widget's alias (in its Region, of the past 7 days), or the
   * one of the given refresh: DescribeQuery's QueryAlias and RefreshId.
   */
  async byAlias(caller: Caller, queryAlias: string, refreshId?: string): Promise<LakeQueryRecord> {
    const cutoff = this.#deps.clock.now() - QUERY_RETENTION_MS;
    const fits = (q: LakeQueryRecord) =>
      q.accountId === caller.principal.accountId &&
      q.region === caller.region &&
      q.queryAlias === queryAlias &&
      (refreshId === undefined || q.refreshId === refreshId) &&
      q.createdMs >= cutoff;
    const inMemory = [...this.#active.values()]
      .map((r) => r.query)
      .concat([...this.#recent.values()].map((r) => r.query));
    const stored = await this.#deps.queries.latestByAlias(
      caller.principal.accountId,
      caller.region,
      queryAlias,
      refreshId,
    );
    const found = [...inMemory, ...(stored === undefined ? [] : [stored])]
      .filter(fits)
      .sort((a, b) => b.createdMs - a.createdMs)[0];
    if (found === undefined) {
      throw new ServiceError(
        'QueryIdNotFoundException',
        `No query ran for the alias ${queryAlias}${refreshId === undefined ? '' : ` in refresh ${refreshId}`} in the past 7 days.`,
      );
    }
    return this.#active.get(found.queryId)?.query ?? this.#recent.get(found.queryId)?.query ?? found;
  }

  async results(caller: Caller, queryId: string, offset: number, limit: number): Promise<ResultRow[]> {
    const query = await this.get(caller, queryId);
    if (query.status !== 'FINISHED') return [];
    const kept = this.#recent.get(queryId)?.rows;
    return kept !== undefined ? kept.slice(offset, offset + limit) : this.#deps.queries.results(queryId, offset, limit);
  }

  /** The caller's queries of the past 7 days that read the store, newest first. */
  async list(caller: Caller, storeRef: string): Promise<LakeQueryRecord[]> {
    const store = this.#deps.stores.resolve(caller, storeRef);
    this.#refuseDeleted(caller, store.id);
    const accountId = caller.principal.accountId;
    const cutoff = this.#deps.clock.now() - QUERY_RETENTION_MS;
    // What is in memory is newer than what is stored, and a query started a moment ago is not stored yet.
    const queries = new Map((await this.#deps.queries.ofAccount(accountId)).map((q) => [q.queryId, q]));
    for (const q of [...this.#recent.values(), ...this.#active.values()]) {
      if (q.query.accountId === accountId) queries.set(q.query.queryId, q.query);
    }
    return [...queries.values()]
      .filter((q) => q.createdMs >= cutoff && q.storeIds.includes(store.id))
      .sort((a, b) => b.createdMs - a.createdMs);
  }

  async cancel(caller: Caller, queryId: string, storeRef?: string): Promise<LakeQueryRecord> {
    const query = await this.get(caller, queryId, storeRef);
    const running = this.#active.get(queryId);
    if (TERMINAL.has(query.status) || running === undefined) {
      throw new ServiceError(
        'InactiveQueryException',
        `The query ${queryId} is ${query.status}; it cannot be cancelled.`,
      );
    }
    running.cancelled = true;
    const queued = this.#queue.indexOf(running);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      await this.#end(running, 'CANCELLED');
    } else {
      running.conn?.raw.interrupt();
      await running.done;
    }
    return running.query;
  }

  async dropExpired(): Promise<void> {
    await this.#deps.queries.dropBefore(this.#deps.clock.now() - QUERY_RETENTION_MS);
  }

  /** How the sandbox sees the caller's stores: its own, in its Region, and not pending deletion. */
  #storesOf(caller: Caller): LakeStores {
    return {
      access: (id) => {
        try {
          return this.#deps.stores.resolve(caller, id).status === 'PENDING_DELETION' ? 'inactive' : 'queryable';
        } catch {
          return 'missing';
        }
      },
      // The eventID's 4-byte key (migration 7) finds its rows without decompressing every eventID, and the
      // rows are then fetched by seq: filtering the full rows on the key alone decoded a whole vector of
      // every column for each vector scanned (85 ms against 30 at 10 million events); the semi-join hands the
      // scan the seqs' range, so zone maps skip to the one row group that holds them. The key stays on the
      // outer scan too: imported events all have seq 0, so their seqs narrow nothing.
      relationSql: (id, eventId) =>
        `SELECT ${this.#relationColumns(caller, id)} FROM main.lake_events WHERE store_id = '${id}'${
          eventId === undefined
            ? ''
            : ` AND seq IN (SELECT seq FROM main.lake_events WHERE store_id = '${id}' AND eventid_hash = ${stringHash(eventId)}) AND eventid_hash = ${stringHash(eventId)}`
        }`,
    };
  }

  /** A store's table: a store of events from outside AWS has its own schema (lake-table.ts). */
  #relationColumns(caller: Caller, storeId: string): string {
    const store = this.#deps.stores.resolve(caller, storeId);
    return storeEventKind(store.advancedEventSelectors) === 'ActivityAuditLog'
      ? INTEGRATION_RELATION_COLUMNS
      : LAKE_RELATION_COLUMNS;
  }

  #next(): void {
    while (!this.#closing && this.#idle.length > 0 && this.#queue.length > 0) {
      this.#launch(this.#queue.shift() as Running, this.#idle.pop() as Connection);
    }
  }

  /** Runs the query on the runner, which goes back to the idle ones when the outcome is stored. */
  #launch(running: Running, conn: Connection): void {
    const done: Promise<void> = this.#run(running, conn)
      .catch(this.#deps.onError)
      .finally(() => {
        this.#runs.delete(done);
        this.#idle.push(conn);
        this.#next();
      });
    running.done = done;
    this.#runs.add(done);
  }

  async #run(running: Running, conn: Connection): Promise<void> {
    running.conn = conn;
    // RUNNING lives in memory only: what is stored says QUEUED until the outcome, which is all a restart needs.
    running.query = { ...running.query, status: 'RUNNING' };
    const started = performance.now();
    const timeout = this.#deps.clock.schedule(() => {
      running.timedOut = true;
      conn.raw.interrupt();
    }, QUERY_TIMEOUT_MS);
    try {
      const { rows, columns, statistics } = await conn.serial(async (raw) => {
        const profile = await this.#profiled(conn);
        // close() interrupts what runs; an interrupt that came while the run was still getting ready was lost.
        if (this.#closing) throw new Error('The service stopped before the query could run.');
        // Every value as Lake sends it: a string, in Trino's text.
        const { sql, text } = running.translated.result;
        const reader = await (running.prepared?.runAndReadAll() ?? raw.runAndReadAll(sql));
        const executionMs = Math.round(performance.now() - started);
        const names = reader.columnNames();
        const rows: ResultRow[] = reader
          .getRowsJS()
          .map((row) =>
            row.map((value, i) => ({ [names[i] as string]: (text[i] as (v: unknown) => string | null)(value) })),
          );
        // Read at once: a few hundred bytes DuckDB has just written, where readFile's four trips through
        // the thread pool (open, stat, read, close) came between the query's end and DescribeQuery's answer.
        const statistics = { ...scanStatistics(JSON.parse(readFileSync(profile, 'utf8'))), executionMs };
        return { rows, columns: names, statistics };
      });
      running.query = { ...running.query, statistics, resultsCount: rows.length, columns };
      await this.#end(running, 'FINISHED', rows);
    } catch (error) {
      if (running.cancelled) await this.#end(running, 'CANCELLED');
      else if (running.timedOut) {
        const limit = `${QUERY_TIMEOUT_MS / 60_000} minutes`;
        await this.#end(
          running,
          'TIMED_OUT',
          [],
          `The query ran longer than ${limit} and was stopped; narrow it down.`,
        );
      } else await this.#end(running, 'FAILED', [], engineMessage(error));
    } finally {
      timeout.cancel();
      running.prepared?.destroySync();
      delete running.prepared;
    }
  }

  /**
   * Turns on DuckDB's profiler for a runner connection (once), writing each query's profile to a file of its
   * own: the statistics come from what the engine did, not from queries run again to count.
   */
  async #profiled(conn: Connection): Promise<string> {
    let file = this.#profiles.get(conn);
    if (file === undefined) {
      file = join(this.#deps.profileDir, `lake-query-profile-${this.#profileFiles++}.json`);
      // Claimed before the first await: two runners starting at once took the same file, and each read the
      // other's profile half written (a FAILED query).
      this.#profiles.set(conn, file);
      try {
        await mkdir(this.#deps.profileDir, { recursive: true });
        await conn.raw.run("PRAGMA enable_profiling = 'json'");
        await conn.raw.run(`SET profiling_output = ${sqlString(file)}`);
        await conn.raw.run(`SET custom_profiling_settings = ${sqlString(PROFILED_METRICS)}`);
      } catch (error) {
        this.#profiles.delete(conn);
        throw error;
      }
    }
    return file;
  }

  async #end(running: Running, status: QueryStatus, rows: ResultRow[] = [], errorMessage?: string): Promise<void> {
    running.store?.cancel();
    const delivery = running.query.deliveryS3Uri === undefined ? undefined : deliveryOnEnd(status);
    running.query = {
      ...running.query,
      status,
      finishedMs: this.#deps.clock.now(),
      ...(errorMessage !== undefined ? { errorMessage } : {}),
      ...(delivery !== undefined ? { deliveryStatus: delivery } : {}),
    };
    // The outcome is answered from memory at once and stored after: results too many to keep in memory are
    // read back through the same connection queue, so they are never read before they are written.
    this.#recent.set(running.query.queryId, {
      query: running.query,
      ...(rows.length <= RECENT_ROWS ? { rows } : {}),
    });
    dropOldest(this.#recent, RECENT_QUERIES);
    this.#active.delete(running.query.queryId);
    for (const wake of this.#waiters.get(running.query.queryId) ?? []) wake();
    this.#waiters.delete(running.query.queryId);
    const replace = running.mayBeStored === true;
    running.mayBeStored = true;
    await this.#deps.queries.finish(running.query, rows, replace);
    // The rows at hand are the stored ones: read them here rather than back from DuckDB.
    if (running.query.deliveryStatus === 'PENDING') {
      this.#deliver(running.query, async (offset, limit) => rows.slice(offset, offset + limit));
    }
  }

  /** Writes a finished query's results in the background, then stores (and answers) its DeliveryStatus. */
  #deliver(query: LakeQueryRecord, readRows: ReadRows): void {
    this.#inBackground(
      (async () => {
        const deliveryStatus = await this.#deps.delivery.deliver(query, readRows);
        const recent = this.#recent.get(query.queryId);
        const updated = { ...(recent?.query ?? query), deliveryStatus };
        if (recent !== undefined) recent.query = updated;
        await this.#deps.queries.put(updated);
      })(),
    );
  }

  /** Lets `work` run on without a caller: its failure is reported, and close() waits for it. */
  #inBackground(work: Promise<void>): void {
    const tracked: Promise<void> = work.catch(this.#deps.onError).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }
}

/**
 * Binding catches what parsing cannot (a column or type that does not exist) while the caller waits, and gives
 * the result's column types, which say how its values are written (result-text.ts).
 */
async function bound(raw: DuckDBConnection, sql: string): Promise<ResultText> {
  const prepared = await prepareChecked(raw, sql);
  try {
    return lakeResultText(sql, prepared);
  } finally {
    prepared.destroySync();
  }
}

async function prepareChecked(raw: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  try {
    return await raw.prepare(sql);
  } catch (error) {
    throw new ServiceError('InvalidQueryStatementException', `The query cannot run: ${engineMessage(error)}`);
  }
}

/**
 * DuckDB's message for the caller, without its error family and without the `LINE 1: …` excerpt, which quotes
 * the translated SQL (the service's own table and columns), not the statement the caller wrote.
 */
function engineMessage(error: unknown): string {
  return (error as Error).message.replace(/^\w+ Error: /, '').replace(/\s*LINE \d+:[\s\S]*$/, '');
}

/** A query that did not finish is not delivered: its DeliveryStatus says so (facts §8.2). */
function deliveryOnEnd(status: QueryStatus): DeliveryStatus {
  if (status === 'FINISHED') return 'PENDING';
  return status === 'CANCELLED' ? 'CANCELLED' : 'FAILED';
}

/**
 * The metrics scanStatistics reads, and no others. DuckDB's default set also times every operator and its
 * CPU: at 10 million events that profile cost a query 0.8-2.0 ms, these four 0.4-0.8 ms (in-process A/B).
 */
const PROFILED_METRICS = JSON.stringify({
  OPERATOR_TYPE: 'true',
  OPERATOR_CARDINALITY: 'true',
  OPERATOR_ROWS_SCANNED: 'true',
  TOTAL_BYTES_READ: 'true',
});

interface ProfileNode {
  operator_type?: string;
  operator_cardinality?: number;
  operator_rows_scanned?: number;
  total_bytes_read?: number;
  children?: ProfileNode[];
}

/**
 * QueryStatistics from a DuckDB profile: EventsScanned is the rows the table scans read (row groups the
 * zone maps skip are not scanned), EventsMatched the rows that left each scan and the filters right above
 * it, BytesScanned what the engine read from the database file (0 when its cache held everything).
 */
export function scanStatistics(profile: ProfileNode): Omit<LakeQueryRecord['statistics'], 'executionMs'> {
  let scanned = 0;
  let matched = 0;
  const walk = (node: ProfileNode, filtered: number | undefined) => {
    const type = node.operator_type ?? '';
    // The highest FILTER in an unbroken run of filters and projections above a scan counts its matches.
    const below =
      type === 'FILTER' ? (filtered ?? node.operator_cardinality) : type === 'PROJECTION' ? filtered : undefined;
    if (type === 'TABLE_SCAN') {
      scanned += node.operator_rows_scanned ?? 0;
      matched += filtered ?? node.operator_cardinality ?? 0;
    }
    for (const child of node.children ?? []) walk(child, below);
  };
  walk(profile, undefined);
  return { eventsScanned: scanned, eventsMatched: matched, bytesScanned: profile.total_bytes_read ?? 0 };
}

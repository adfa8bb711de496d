import { type DuckDBConnection, listValue } from '@duckdb/node-api';
import type { Connection } from '../store/database.ts';

/**
 * Lake queries and their results as they are kept (migration 5): one JSON document per query, and each
 * result row in Lake's wire shape, so a page of GetQueryResults is read without converting anything.
 */
export type QueryStatus = 'QUEUED' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

/** DescribeQuery's DeliveryStatus (facts §8.2): where a query's results stand on their way to S3. */
export type DeliveryStatus =
  | 'SUCCESS'
  | 'FAILED'
  | 'FAILED_SIGNING_FILE'
  | 'PENDING'
  | 'RESOURCE_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'ACCESS_DENIED_SIGNING_FILE'
  | 'CANCELLED'
  | 'UNKNOWN';

export interface QueryStatistics {
  eventsMatched: number;
  eventsScanned: number;
  bytesScanned: number;
  executionMs: number;
}

export interface LakeQueryRecord {
  queryId: string;
  accountId: string;
  region: string;
  /** The stores the statement reads (ListQueries lists a query under each). */
  storeIds: string[];
  statement: string;
  status: QueryStatus;
  createdMs: number;
  finishedMs?: number;
  errorMessage?: string;
  statistics: QueryStatistics;
  resultsCount: number;
  /** The result's column names, in SELECT order (a CSV header even when there are no rows). */
  columns?: string[];
  /** StartQuery's DeliveryS3Uri, as given, and how the delivery of the results there stands. */
  deliveryS3Uri?: string;
  deliveryStatus?: DeliveryStatus;
  /** Set for a dashboard widget's query: its alias, and the refresh that ran it. */
  queryAlias?: string;
  refreshId?: string;
}

export type QueryOrigin = Pick<LakeQueryRecord, 'queryAlias' | 'refreshId'>;

/** One result row as Lake answers it: one single-entry map per column, values as strings (null stays null). */
export type ResultRow = Record<string, string | null>[];

export class QueryStore {
  readonly #conn: Connection;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  async put(query: LakeQueryRecord): Promise<void> {
    await this.#conn.serial(() => this.#store(query));
  }

  /**
   * Stores a finished query with its rows, in one transaction: results are never seen half written. A query
   * finishes once, so none of its rows are stored yet (deleting them first scanned every stored result).
   * `replace` says its document may be stored already (it was unfinished a while, or an earlier outcome was
   * tried); most queries end before, and a plain INSERT of the document costs about 0.5 ms of CPU where
   * INSERT OR REPLACE costs 2.5.
   */
  async finish(query: LakeQueryRecord, rows: readonly ResultRow[], replace: boolean): Promise<void> {
    const conn = this.#conn;
    // Prepared once per connection: every query that ends stores its outcome this way.
    await conn.withTransaction(async () => {
      // One INSERT of a bound list, not an appender: an appender's flush runs on the calling (main) thread,
      // most of a millisecond even for one row, while the answer to the query's DescribeQuery waits to be
      // sent; the list only costs the main thread its making (for 100,000 rows, about what the appender did).
      if (rows.length > 0) {
        await conn.runPrepared(
          `INSERT INTO lake_query_results
           SELECT $1, (i - 1)::INTEGER, row_json FROM unnest($2::VARCHAR[]) WITH ORDINALITY AS t(row_json, i)`,
          [query.queryId, listValue(rows.map((row) => JSON.stringify(row)))],
        );
      }
      await this.#store(query, replace);
    });
  }

  /** The query's document, stored or replaced, from within the connection's turn. */
  #store(query: LakeQueryRecord, replace = true): Promise<void> {
    return this.#conn.runPrepared(
      `INSERT${replace ? ' OR REPLACE' : ''} INTO lake_queries VALUES ($1, $2, $3, $4::JSON)`,
      [query.queryId, query.accountId, query.createdMs, JSON.stringify(query)],
    );
  }

  async get(queryId: string): Promise<LakeQueryRecord | undefined> {
    const rows = await this.#read('SELECT doc FROM lake_queries WHERE query_id = $1', [queryId]);
    return rows[0] === undefined ? undefined : (JSON.parse(String(rows[0][0])) as LakeQueryRecord);
  }

  async ofAccount(accountId: string): Promise<LakeQueryRecord[]> {
    const rows = await this.#read('SELECT doc FROM lake_queries WHERE account_id = $1 ORDER BY created_ms DESC', [
      accountId,
    ]);
    return rows.map((r) => JSON.parse(String(r[0])) as LakeQueryRecord);
  }

  /** The account's newest query in the Region run for a widget alias (and refresh, when given). */
  async latestByAlias(
    accountId: string,
    region: string,
    alias: string,
    refreshId?: string,
  ): Promise<LakeQueryRecord | undefined> {
    const rows = await this.#read(
      `SELECT doc FROM lake_queries WHERE account_id = $1 AND (doc->>'region') = $2 AND (doc->>'queryAlias') = $3${
        refreshId === undefined ? '' : " AND (doc->>'refreshId') = $4"
      } ORDER BY created_ms DESC LIMIT 1`,
      [accountId, region, alias, ...(refreshId === undefined ? [] : [refreshId])],
    );
    return rows[0] === undefined ? undefined : (JSON.parse(String(rows[0][0])) as LakeQueryRecord);
  }

  /** Queries still QUEUED or RUNNING, e.g. those a stopped server left behind. */
  async unfinished(): Promise<LakeQueryRecord[]> {
    const rows = await this.#read(
      "SELECT doc FROM lake_queries WHERE json_extract_string(doc, '$.status') IN ('QUEUED', 'RUNNING') ORDER BY created_ms",
      [],
    );
    return rows.map((r) => JSON.parse(String(r[0])) as LakeQueryRecord);
  }

  /** Finished queries whose results were not yet delivered, e.g. when a stopped server was writing them. */
  async pendingDeliveries(): Promise<LakeQueryRecord[]> {
    const rows = await this.#read(
      "SELECT doc FROM lake_queries WHERE json_extract_string(doc, '$.status') = 'FINISHED' AND json_extract_string(doc, '$.deliveryStatus') = 'PENDING' ORDER BY created_ms",
      [],
    );
    return rows.map((r) => JSON.parse(String(r[0])) as LakeQueryRecord);
  }

  async results(queryId: string, offset: number, limit: number): Promise<ResultRow[]> {
    const rows = await this.#read(
      'SELECT row_json FROM lake_query_results WHERE query_id = $1 AND row_index >= $2 ORDER BY row_index LIMIT $3',
      [queryId, offset, limit],
    );
    return rows.map((r) => JSON.parse(String(r[0])) as ResultRow);
  }

  /** Drops queries created before `cutoffMs`, with their results (Lake keeps them 7 days). */
  async dropBefore(cutoffMs: number): Promise<void> {
    await this.#conn.withTransaction(async (raw) => {
      await raw.run(
        'DELETE FROM lake_query_results WHERE query_id IN (SELECT query_id FROM lake_queries WHERE created_ms < $1)',
        [cutoffMs],
      );
      await raw.run('DELETE FROM lake_queries WHERE created_ms < $1', [cutoffMs]);
    });
  }

  #read(sql: string, params: (string | number)[]): Promise<unknown[][]> {
    return this.#conn.serial(async (raw: DuckDBConnection) => (await raw.runAndReadAll(sql, params)).getRowsJS());
  }
}

import { type DuckDBResultReader, type DuckDBValue, listValue } from '@duckdb/node-api';
import { HOUR_MS } from '../model/clock.ts';
import type { Connection } from '../store/database.ts';
import { type HashIndexed, seqsWithHash } from './history-index.ts';
import { RECORD_COLUMNS } from './history-table.ts';

/**
 * The SQL behind LookupEvents, in two steps, because fetching every column of the 50 newest matches in
 * the same query made DuckDB decode whole row groups of ~30 columns (~14 ms at 10 million events here):
 *   1. page keys: (event time, seq) of the newest matches, from the few columns the filter needs;
 *   2. page rows: the full columns of exactly those seqs, from the narrow seq range they span.
 *
 * Rows arrive roughly in time order, so DuckDB's per-row-group min/max of event_time lets a query on a
 * narrow time window skip almost everything: keys are searched newest-first over growing windows (the
 * newest hour, then eight times wider each time) until the page is full or the range is covered. An
 * EventId or ResourceName lookup first finds the seqs of its value's hash (history-index.ts), then reads
 * those seqs only: when they are no more than a page, their rows in one query, keys and rows at once.
 */
export interface KeyQuery {
  /** `history_events`, or `history_resources` for resource lookups. */
  table: 'history_events' | 'history_resources';
  /** Named parameters: account, region, category, and the attribute's. */
  params: Record<string, DuckDBValue>;
  /** The attribute's condition, or ''. Parameters are cast in SQL so bound JS numbers keep column types. */
  condition: string;
  /** Continue after this (time, seq), exclusive. */
  after: { t: number; s: number } | undefined;
  limit: number;
  /**
   * A value sought by its hash (`params.vh`) in the hash index, with the index's watermark as read now, and
   * the value's test on a history_events row, without the hash (for rows read without keys).
   */
  hashed?: { attribute: HashIndexed; watermark: number; rowCondition: string };
}

/** Seqs of one hash beyond which a value is searched window by window instead (a resource in many events). */
const MAX_HASHED_SEQS = 4096;

export interface PageKey {
  seq: number;
  timeMs: number;
}

export type HistoryRow = Record<string, unknown>;

/**
 * Readies a connection for lookups. DuckDB's late materialization turns a top-N of up to 50 rows into a
 * semi-join back onto the table by rowid, and that second scan reads the whole table (10M events: 1 → 4-6 ms
 * per key query), so a page of 50 keys is cheaper without it.
 */
export async function readyForLookups(conn: Connection): Promise<Connection> {
  await conn.raw.run('SET late_materialization_max_rows = 0');
  return conn;
}

const FIRST_WINDOW_MS = HOUR_MS;
const WINDOW_GROWTH = 8;

/** The rows of a page: the newest `q.limit` matches in [startMs, endMs] after `q.after`, newest first. */
export async function pageOfRows(conn: Connection, q: KeyQuery, startMs: number, endMs: number): Promise<HistoryRow[]> {
  if (q.hashed !== undefined) {
    const seqs = await seqsWithHash(conn, q.hashed.attribute, Number(q.params['vh']), q.hashed.watermark);
    if (seqs.length === 0) return [];
    // No more candidates than a page: reading their rows with every condition saves the key query.
    if (seqs.length <= q.limit) return rowsWhere(conn, q, q.hashed.rowCondition, startMs, endMs, seqs);
    if (seqs.length <= MAX_HASHED_SEQS)
      return pageRows(conn, await keysIn(conn, q, startMs, endMs, false, q.limit, seqs));
  }
  return pageRows(conn, await pageKeys(conn, q, startMs, endMs));
}

async function pageKeys(conn: Connection, q: KeyQuery, startMs: number, endMs: number): Promise<PageKey[]> {
  const keys: PageKey[] = [];
  const first = q.after === undefined ? endMs : Math.min(endMs, q.after.t);
  let top = first;
  let exclusive = false;
  let width = FIRST_WINDOW_MS;
  while (keys.length < q.limit) {
    const from = Math.max(startMs, top - width);
    keys.push(...(await keysIn(conn, q, from, top, exclusive, q.limit - keys.length)));
    if (from <= startMs) break;
    top = from;
    exclusive = true;
    // Size the next window from the rate seen so far (with room to spare), growing at least eightfold
    // when nothing matched yet: one more query usually fills the page.
    const seenMs = first - from;
    width = keys.length === 0 ? width * WINDOW_GROWTH : Math.ceil(((q.limit - keys.length) / keys.length) * seenMs * 2);
  }
  return keys;
}

/**
 * The newest `limit` keys in [fromMs, toMs] (or [fromMs, toMs) when `toExclusive`), after `q.after`, among
 * `seqs` when given: their range lets DuckDB skip the row groups outside it.
 */
async function keysIn(
  conn: Connection,
  q: KeyQuery,
  fromMs: number,
  toMs: number,
  toExclusive: boolean,
  limit: number,
  seqs?: number[],
): Promise<PageKey[]> {
  // A resource lookup can match one event twice (two resources of the same name or type).
  const distinct = q.table === 'history_resources' ? 'DISTINCT ' : '';
  const values = { ...q.params, ...windowValues(q, fromMs, toMs, limit), ...(seqs && seqRange(seqs)) };
  const sql = newestMatching(
    `${distinct}seq, epoch_ms(event_time) AS t`,
    q.table,
    `${pageWindow(toExclusive, q)}${q.condition}${seqs ? ` AND ${AMONG_SEQS}` : ''}`,
  );
  const reader = await conn.readPrepared(sql, values);
  return reader.getRowsJS().map(([seq, t]) => ({ seq: Number(seq), timeMs: Number(t) }));
}

/**
 * The rows among `seqs` (those of `q`'s hash) that pass `condition`, a test on a history_events row, and the
 * rest of `q`, newest first. The rows are read first and tested after (a MATERIALIZED CTE keeps DuckDB from
 * pushing the tests into the scan, where it ran them on every row of the row group: one eventID took 8 ms, not 5).
 */
async function rowsWhere(
  conn: Connection,
  q: KeyQuery,
  condition: string,
  startMs: number,
  endMs: number,
  seqs: number[],
): Promise<HistoryRow[]> {
  // The seqs are those of the value's hash already: the condition tests the value itself, without `$vh`.
  const { vh: _, ...params } = q.params;
  const values = { ...params, ...windowValues(q, startMs, endMs, q.limit), ...seqRange(seqs) };
  const sql = `WITH candidates AS MATERIALIZED (
      SELECT ${ROW_COLUMNS}, account_id, event_time FROM history_events WHERE ${AMONG_SEQS})
    ${newestMatching('* EXCLUDE (account_id, event_time)', 'candidates', `${pageWindow(false, q)} AND ${condition}`)}`;
  return rowObjects(await conn.readPrepared(sql, values));
}

/** The page's window as SQL conditions: account, Region, category, time range, and after the token's place. */
function pageWindow(toExclusive: boolean, q: KeyQuery): string {
  const after =
    q.after === undefined
      ? ''
      : ' AND (event_time < make_timestamp($tt::BIGINT) OR (event_time = make_timestamp($tt::BIGINT) AND seq < $ts::BIGINT))';
  return `account_id = $account::VARCHAR AND region = $region::VARCHAR AND event_category = $category::VARCHAR
      AND event_time >= make_timestamp($from::BIGINT) AND event_time ${toExclusive ? '<' : '<='} make_timestamp($to::BIGINT)${after}`;
}

/** pageWindow's values (times as microseconds), and the limit. */
function windowValues(q: KeyQuery, fromMs: number, toMs: number, limit: number): Record<string, DuckDBValue> {
  const values: Record<string, DuckDBValue> = {
    from: BigInt(fromMs) * 1000n,
    to: BigInt(toMs) * 1000n,
    limit: BigInt(limit),
  };
  if (q.after !== undefined) {
    values['tt'] = BigInt(q.after.t) * 1000n;
    values['ts'] = BigInt(q.after.s);
  }
  return values;
}

/** The newest `$limit` rows of `from` that pass `where`. */
function newestMatching(select: string, from: string, where: string): string {
  return `SELECT ${select} FROM ${from} WHERE ${where} ORDER BY t DESC, seq DESC LIMIT $limit::BIGINT`;
}

/**
 * The rows of the seqs bound by seqRange. The range lets DuckDB skip everything outside the rows it needs;
 * list_contains tests the range's rows in the scan, where `seq IN (…)` planned a hash join (1-2 ms more a page).
 */
const AMONG_SEQS = 'seq BETWEEN $lo::BIGINT AND $hi::BIGINT AND list_contains($seqs::BIGINT[], seq)';

/** AMONG_SEQS's values. */
function seqRange(seqs: number[]): Record<string, DuckDBValue> {
  return { lo: BigInt(Math.min(...seqs)), hi: BigInt(Math.max(...seqs)), seqs: listValue(seqs.map(BigInt)) };
}

/** What a page needs: the record's columns plus the LookupEvents members that are not record members. */
const ROW_COLUMNS = `seq, epoch_ms(event_time) AS t, access_key_id, username, resource_types, resource_names,
  ${RECORD_COLUMNS.join(', ')}`;

/** The full rows of `keys`, in the keys' order. */
async function pageRows(conn: Connection, keys: PageKey[]): Promise<HistoryRow[]> {
  if (keys.length === 0) return [];
  const seqs = keys.map((k) => k.seq);
  const reader = await conn.readPrepared(
    `SELECT ${ROW_COLUMNS} FROM history_events WHERE ${AMONG_SEQS}`,
    seqRange(seqs),
  );
  const bySeq = new Map<number, HistoryRow>();
  for (const row of rowObjects(reader)) bySeq.set(Number(row['seq']), row);
  return seqs.map((s) => bySeq.get(s)).filter((r): r is HistoryRow => r !== undefined);
}

/** A result's rows as objects by column name: DuckDB's getRowObjectsJS took a millisecond for a page of 50. */
function rowObjects(reader: DuckDBResultReader): HistoryRow[] {
  const names = reader.columnNames();
  return reader.getRowsJS().map((values) => {
    const row: HistoryRow = {};
    for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i];
    return row;
  });
}

/** Drops what is older than `cutoffMs` from history and its resource index. */
export async function dropBefore(conn: Connection, cutoffMs: number): Promise<void> {
  await conn.withTransaction(async (raw) => {
    for (const table of ['history_events', 'history_resources']) {
      await raw.run(`DELETE FROM ${table} WHERE event_time < make_timestamp($1::BIGINT * 1000)`, [cutoffMs]);
    }
  });
}

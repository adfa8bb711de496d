import { createHash } from 'node:crypto';
import type { Caller } from '../identity/index.ts';
import type { Clock } from '../model/clock.ts';
import { ServiceError } from '../model/service-error.ts';
import type { Connection, ConnectionPool } from '../store/database.ts';
import { eventIdHash, RECORD_COLUMNS, recordJson } from './history-table.ts';

/**
 * LookupEvents over event history (facts §6): the caller's account and Region, management events (or
 * Insights events), the last 90 days on the service clock, newest first, one lookup attribute at most.
 *
 * Finding the newest matches fast: rows arrive roughly in time order, so DuckDB's per-row-group min/max
 * of event_time lets a query on a narrow time window skip almost everything. Lookups that match most rows
 * (none, ReadOnly) start with the newest hour and widen the window eightfold until the page is full;
 * selective attributes run one top-N query over the range, whose filter DuckDB evaluates on compressed
 * columns; EventId uses the 4-byte hash column instead of comparing strings.
 */
export interface LookupEventsInput {
  LookupAttributes?: { AttributeKey: string; AttributeValue: string }[];
  StartTime?: Date;
  EndTime?: Date;
  EventCategory?: string;
  MaxResults?: number;
  NextToken?: string;
}

export interface LookupEvent {
  EventId: string;
  EventName?: string;
  ReadOnly?: string;
  AccessKeyId?: string;
  EventTime: Date;
  EventSource?: string;
  Username?: string;
  Resources?: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent: string;
}

export const HISTORY_RETENTION_MS = 90 * 24 * 3600 * 1000;
const DEFAULT_MAX_RESULTS = 50;
const FIRST_WINDOW_MS = 3600 * 1000;
const WINDOW_GROWTH = 8;

const ATTRIBUTE_CONDITIONS: Record<string, (param: string) => string> = {
  EventId: (p) => `event_id_hash = ${p}h AND event_id = ${p}`,
  EventName: (p) => `event_name = ${p}`,
  ReadOnly: (p) => `read_only = ${p}`,
  Username: (p) => `username = ${p}`,
  ResourceType: (p) => `list_contains(resource_types, ${p})`,
  ResourceName: (p) => `list_contains(resource_names, ${p})`,
  EventSource: (p) => `event_source = ${p}`,
  AccessKeyId: (p) => `access_key_id = ${p}`,
};
const INSIGHT_ATTRIBUTES = ['EventId', 'EventName', 'EventSource'];

interface PageToken {
  /** Event time (ms) and seq of the last event returned: the next page starts strictly after it. */
  t: number;
  s: number;
  /** Binds the token to the parameters it was issued for. */
  p: string;
}

export class EventHistory {
  readonly #reads: ConnectionPool;
  readonly #clock: Clock;

  constructor(reads: ConnectionPool, clock: Clock) {
    this.#reads = reads;
    this.#clock = clock;
  }

  async lookup(caller: Caller, input: LookupEventsInput): Promise<{ Events: LookupEvent[]; NextToken?: string }> {
    const now = this.#clock.now();
    const category = checkCategory(input.EventCategory);
    const attribute = checkAttribute(input.LookupAttributes ?? [], category);
    const maxResults = input.MaxResults ?? DEFAULT_MAX_RESULTS;
    if (input.StartTime && input.EndTime && input.StartTime.getTime() > input.EndTime.getTime()) {
      throw new ServiceError('InvalidTimeRangeException', 'StartTime must be earlier than or equal to EndTime.');
    }
    const oldest = now - HISTORY_RETENTION_MS;
    const startMs = Math.max(input.StartTime?.getTime() ?? oldest, oldest);
    const endMs = input.EndTime?.getTime() ?? now;
    const binding = parameterHash(caller, input, category);
    const token = input.NextToken === undefined ? undefined : readToken(input.NextToken, binding);
    if (startMs > endMs) return { Events: [] };

    const params: Record<string, unknown> = {
      account: caller.principal.accountId,
      region: caller.region,
      category,
    };
    let condition = '';
    if (attribute !== undefined) {
      params['v'] = attribute.key === 'ReadOnly' ? attribute.value === 'true' : attribute.value;
      if (attribute.key === 'EventId') params['vh'] = eventIdHash(attribute.value);
      condition = ` AND ${(ATTRIBUTE_CONDITIONS[attribute.key] as (p: string) => string)('$v')}`;
    }
    const page: PageQuery = { params, condition, token, limit: maxResults };
    const rows = await this.#reads.use((conn) =>
      attribute === undefined || attribute.key === 'ReadOnly'
        ? windowedSearch(conn, page, startMs, endMs)
        : selectPage(conn, page, startMs, endMs),
    );
    const events = rows.map(toLookupEvent);
    const last = rows[rows.length - 1];
    if (rows.length < maxResults || last === undefined) return { Events: events };
    const more: PageToken = { t: Number(last['t']), s: Number(last['seq']), p: binding };
    return { Events: events, NextToken: Buffer.from(JSON.stringify(more)).toString('base64url') };
  }

  /** Drops events older than the 90-day window (they are already hidden from lookups). */
  async dropExpired(): Promise<void> {
    const cutoff = this.#clock.now() - HISTORY_RETENTION_MS;
    await this.#reads.use((conn) =>
      conn.raw.run('DELETE FROM history_events WHERE event_time < make_timestamp($1::BIGINT * 1000)', [cutoff]),
    );
  }
}

function checkCategory(category: string | undefined): 'Management' | 'Insight' {
  if (category === undefined) return 'Management';
  if (category === 'insight') return 'Insight';
  throw new ServiceError(
    'InvalidEventCategoryException',
    `EventCategory '${category}' is not valid; the only value is insight.`,
  );
}

function checkAttribute(
  attributes: { AttributeKey: string; AttributeValue: string }[],
  category: 'Management' | 'Insight',
): { key: string; value: string } | undefined {
  if (attributes.length > 1) {
    throw new ServiceError(
      'InvalidLookupAttributesException',
      `LookupAttributes can contain only one attribute; you sent ${attributes.length}.`,
    );
  }
  const first = attributes[0];
  if (first === undefined) return undefined;
  const key = first.AttributeKey;
  if (category === 'Insight' && !INSIGHT_ATTRIBUTES.includes(key)) {
    throw new ServiceError(
      'InvalidLookupAttributesException',
      `Insights events can be looked up by ${INSIGHT_ATTRIBUTES.join(', ')} only, not ${key}.`,
    );
  }
  if (key === 'ReadOnly' && first.AttributeValue !== 'true' && first.AttributeValue !== 'false') {
    throw new ServiceError(
      'InvalidLookupAttributesException',
      `The ReadOnly attribute value must be true or false, not '${first.AttributeValue}'.`,
    );
  }
  return { key, value: first.AttributeValue };
}

function parameterHash(caller: Caller, input: LookupEventsInput, category: string): string {
  const bound = [
    caller.principal.accountId,
    caller.region,
    category,
    JSON.stringify(input.LookupAttributes ?? []),
    input.StartTime?.getTime() ?? '',
    input.EndTime?.getTime() ?? '',
  ].join('|');
  return createHash('sha256').update(bound).digest('base64url').slice(0, 16);
}

function readToken(text: string, binding: string): PageToken {
  let token: PageToken | undefined;
  try {
    token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as PageToken;
  } catch {
    token = undefined;
  }
  if (
    token === undefined ||
    typeof token.t !== 'number' ||
    typeof token.s !== 'number' ||
    typeof token.p !== 'string'
  ) {
    throw new ServiceError('InvalidNextTokenException', 'The NextToken is not one LookupEvents returned.');
  }
  if (token.p !== binding) {
    throw new ServiceError(
      'InvalidNextTokenException',
      'The NextToken was issued for different parameters; repeat the call with the parameters of the call that returned it.',
    );
  }
  return token;
}

const SELECT_COLUMNS = `seq, epoch_ms(event_time) AS t, event_id, event_name, read_only, access_key_id, event_source,
  username, resource_types, resource_names, ${RECORD_COLUMNS.join(', ')}`;

type Row = Record<string, unknown>;

interface PageQuery {
  params: Record<string, unknown>;
  /** The lookup attribute's condition, or ''. */
  condition: string;
  token: PageToken | undefined;
  limit: number;
}

/** One query: the newest `limit` matches in [fromMs, toMs] (or [fromMs, toMs)), after the page token if any. */
async function selectPage(
  conn: Connection,
  page: PageQuery,
  fromMs: number,
  toMs: number,
  toExclusive = false,
  limit = page.limit,
): Promise<Row[]> {
  const after =
    page.token === undefined
      ? ''
      : ' AND (event_time < make_timestamp($tt::BIGINT) OR (event_time = make_timestamp($tt::BIGINT) AND seq < $ts::BIGINT))';
  // Prepared once per shape and connection: planning is a real share of a 50-row query.
  const statement = await conn.prepared(`SELECT ${SELECT_COLUMNS} FROM history_events
    WHERE account_id = $account AND region = $region AND event_category = $category
      AND event_time >= make_timestamp($from::BIGINT) AND event_time ${toExclusive ? '<' : '<='} make_timestamp($to::BIGINT)${page.condition}${after}
    ORDER BY event_time DESC, seq DESC LIMIT $limit::BIGINT`);
  const values: Record<string, unknown> = {
    ...page.params,
    from: BigInt(fromMs) * 1000n,
    to: BigInt(toMs) * 1000n,
    limit: BigInt(limit),
  };
  if (page.token !== undefined) {
    values['tt'] = BigInt(page.token.t) * 1000n;
    values['ts'] = BigInt(page.token.s);
  }
  statement.bind(values as never);
  return (await statement.runAndReadAll()).getRowObjectsJS() as Row[];
}

/**
 * Newest-first search over growing, disjoint time windows ending at the top of the range, for lookups
 * that match most rows (a bare time range, ReadOnly): a top-N over the whole range would churn its heap
 * through every row, while the newest hour usually fills the page on its own.
 */
async function windowedSearch(conn: Connection, page: PageQuery, startMs: number, endMs: number): Promise<Row[]> {
  const rows: Row[] = [];
  let top = page.token === undefined ? endMs : Math.min(endMs, page.token.t);
  let exclusive = false;
  let width = FIRST_WINDOW_MS;
  while (rows.length < page.limit) {
    const from = Math.max(startMs, top - width);
    rows.push(...(await selectPage(conn, page, from, top, exclusive, page.limit - rows.length)));
    if (from <= startMs) break;
    top = from;
    exclusive = true;
    width *= WINDOW_GROWTH;
  }
  return rows;
}

function toLookupEvent(row: Row): LookupEvent {
  const types = (row['resource_types'] as (string | null)[] | null) ?? [];
  const names = (row['resource_names'] as (string | null)[] | null) ?? [];
  const resources = types.map((type, i) => ({
    ...(type !== null ? { ResourceType: type } : {}),
    ...(names[i] !== null && names[i] !== undefined ? { ResourceName: names[i] as string } : {}),
  }));
  const optional = (key: string, value: unknown) => (value === null || value === undefined ? {} : { [key]: value });
  return {
    EventId: String(row['event_id']),
    ...optional('EventName', row['event_name']),
    ...optional('ReadOnly', row['read_only'] === null ? null : String(row['read_only'])),
    ...optional('AccessKeyId', row['access_key_id']),
    EventTime: new Date(Number(row['t'])),
    ...optional('EventSource', row['event_source']),
    ...optional('Username', row['username']),
    // AWS sends an empty list for events without resources.
    Resources: resources,
    CloudTrailEvent: recordJson(row),
  } as LookupEvent;
}

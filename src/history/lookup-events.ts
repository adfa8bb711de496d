import { createHash } from 'node:crypto';
import type { Caller } from '../identity/index.ts';
import { type Clock, DAY_MS, MAX_DATE_MS } from '../model/clock.ts';
import { RawJson } from '../model/raw-json.ts';
import { ServiceError } from '../model/service-error.ts';
import { stringHash } from '../model/string-hash.ts';
import type { ConnectionPool } from '../store/database.ts';
import { type HashIndexed, type HistoryIndex, isHashIndexed } from './history-index.ts';
import { dropBefore, type HistoryRow, type KeyQuery, pageOfRows } from './history-queries.ts';
import { recordJson } from './history-table.ts';

/**
 * LookupEvents over event history (facts §6): the caller's account and Region, management events (or
 * Insights events), the last 90 days on the service clock, newest first, one lookup attribute at most.
 * The queries themselves are in history-queries.ts.
 */
export interface LookupEventsInput {
  LookupAttributes?: { AttributeKey: string; AttributeValue: string }[];
  StartTime?: Date;
  EndTime?: Date;
  EventCategory?: string;
  MaxResults?: number;
  NextToken?: string;
}

/** An `Event` of LookupEvents' answer as the API sends it: EventTime in epoch seconds (facts §0.9). */
export interface LookupEvent {
  EventId: string;
  EventName?: string | undefined;
  ReadOnly?: string | undefined;
  AccessKeyId?: string | undefined;
  EventTime: number;
  EventSource?: string | undefined;
  Username?: string | undefined;
  Resources?: { ResourceType?: string | undefined; ResourceName?: string | undefined }[];
  CloudTrailEvent: string;
}

export const HISTORY_RETENTION_MS = 90 * DAY_MS;
const DEFAULT_MAX_RESULTS = 50;
/**
 * Where each lookup attribute is found, and how. Hash columns hold `stringHash` of the value; a value of a
 * hash-indexed attribute has its few seqs found first, in the hash index (history-index.ts), and the key
 * query then reads only the row groups between them.
 */
const ATTRIBUTES: Record<string, { table: KeyQuery['table']; condition: string; boolean?: true }> = {
  EventId: { table: 'history_events', condition: 'event_id_hash = $vh::UINTEGER AND event_id = $v::VARCHAR' },
  EventName: { table: 'history_events', condition: 'event_name = $v::VARCHAR' },
  ReadOnly: { table: 'history_events', condition: 'read_only = $v::BOOLEAN', boolean: true },
  Username: { table: 'history_events', condition: 'username = $v::VARCHAR' },
  ResourceType: { table: 'history_resources', condition: 'resource_type = $v::VARCHAR' },
  ResourceName: { table: 'history_resources', condition: 'name_hash = $vh::UINTEGER AND resource_name = $v::VARCHAR' },
  EventSource: { table: 'history_events', condition: 'event_source = $v::VARCHAR' },
  AccessKeyId: { table: 'history_events', condition: 'access_key_id = $v::VARCHAR' },
};
/**
 * A hash-indexed attribute's test on the event's own row, for the few events of its hash: the value itself
 * (a resource name is one of the row's list of them).
 */
const ROW_CONDITIONS: Record<HashIndexed, string> = {
  EventId: 'event_id = $v::VARCHAR',
  ResourceName: 'list_contains(resource_names, $v::VARCHAR)',
};
/**
 * What an Insights event can be looked up by. Its record names the API it is about in insightDetails, with
 * no eventName or eventSource at the top level (facts §4.4), and insightDetails is kept in `extra`.
 */
const INSIGHT_CONDITIONS: Record<string, string> = {
  EventId: ATTRIBUTES['EventId']?.condition as string,
  EventName: "json_extract_string(extra, '$.insightDetails.eventName') = $v::VARCHAR",
  EventSource: "json_extract_string(extra, '$.insightDetails.eventSource') = $v::VARCHAR",
};
const INSIGHT_ATTRIBUTES = Object.keys(INSIGHT_CONDITIONS);

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
  readonly #index: HistoryIndex;

  constructor(reads: ConnectionPool, clock: Clock, index: HistoryIndex) {
    this.#reads = reads;
    this.#clock = clock;
    this.#index = index;
  }

  /**
   * A page of events. `Events` is a list of LookupEvent as JSON text, made here in one JSON.stringify: the
   * API's serialiser, which looks at every member for timestamps, cost a page a third of a millisecond more.
   */
  async lookup(caller: Caller, input: LookupEventsInput): Promise<{ Events: RawJson; NextToken?: string }> {
    const now = this.#clock.now();
    const category = checkCategory(input.EventCategory);
    const attribute = checkAttribute(input.LookupAttributes ?? [], category);
    const maxResults = input.MaxResults ?? DEFAULT_MAX_RESULTS;
    checkTime('StartTime', input.StartTime);
    checkTime('EndTime', input.EndTime);
    if (input.StartTime && input.EndTime && input.StartTime.getTime() > input.EndTime.getTime()) {
      throw new ServiceError('InvalidTimeRangeException', 'StartTime must be earlier than or equal to EndTime.');
    }
    const oldest = now - HISTORY_RETENTION_MS;
    const startMs = Math.max(input.StartTime?.getTime() ?? oldest, oldest);
    const endMs = input.EndTime?.getTime() ?? now;
    const binding = parameterHash(caller, input, category);
    const token = input.NextToken === undefined ? undefined : readToken(input.NextToken, binding);
    if (startMs > endMs) return { Events: new RawJson('[]') };

    const params: KeyQuery['params'] = {
      account: caller.principal.accountId,
      region: caller.region,
      category,
    };
    const where = attribute === undefined ? undefined : ATTRIBUTES[attribute.key];
    const hashed = attribute !== undefined && isHashIndexed(attribute.key) ? attribute.key : undefined;
    if (attribute !== undefined && where !== undefined) {
      params['v'] = where.boolean ? attribute.value === 'true' : attribute.value;
      if (hashed !== undefined) params['vh'] = stringHash(attribute.value);
    }
    const query: KeyQuery = {
      table: where?.table ?? 'history_events',
      params,
      condition:
        attribute === undefined || where === undefined
          ? ''
          : ` AND ${category === 'Insight' ? INSIGHT_CONDITIONS[attribute.key] : where.condition}`,
      after: token === undefined ? undefined : { t: token.t, s: token.s },
      limit: maxResults,
      // A unique value (an eventID, a resource name) is sought by its hash in the hash index; everything
      // else is searched newest-first, window by window.
      ...(hashed !== undefined
        ? { hashed: { attribute: hashed, watermark: this.#index.watermark, rowCondition: ROW_CONDITIONS[hashed] } }
        : {}),
    };
    const rows = await this.#reads.use((conn) => pageOfRows(conn, query, startMs, endMs));
    const events = new RawJson(JSON.stringify(rows.map(toLookupEvent)));
    const last = rows[rows.length - 1];
    if (rows.length < maxResults || last === undefined) return { Events: events };
    const more: PageToken = { t: Number(last['t']), s: Number(last['seq']), p: binding };
    return { Events: events, NextToken: Buffer.from(JSON.stringify(more)).toString('base64url') };
  }

  /** Drops events older than the 90-day window (they are already hidden from lookups). */
  async dropExpired(): Promise<void> {
    const cutoff = this.#clock.now() - HISTORY_RETENTION_MS;
    await this.#reads.use((conn) => dropBefore(conn, cutoff));
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
  // The model caps AttributeValue at 2000; its documentation adds that these four characters count twice.
  const weighted = first.AttributeValue.length + (first.AttributeValue.match(/[_ ,\n]/g)?.length ?? 0);
  if (weighted > MAX_ATTRIBUTE_VALUE) {
    throw new ServiceError(
      'InvalidLookupAttributesException',
      `AttributeValue counts ${weighted} characters ('_', ' ', ',' and newlines count as two); at most ${MAX_ATTRIBUTE_VALUE} are allowed.`,
    );
  }
  return { key, value: first.AttributeValue };
}

const MAX_ATTRIBUTE_VALUE = 2000;

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

/** The API layer refuses times out of range; this keeps an invalid Date from ever reaching SQL. */
function checkTime(name: string, time: Date | undefined): void {
  if (time !== undefined && Number.isNaN(time.getTime())) {
    throw new ServiceError('InvalidTimeRangeException', `${name} is not a valid time; send epoch seconds.`);
  }
}

function readToken(text: string, binding: string): PageToken {
  const token = decodeToken(text);
  if (token === undefined) {
    throw new ServiceError(
      'InvalidNextTokenException',
      'The NextToken is not one LookupEvents returned; send the NextToken of the previous page unchanged.',
    );
  }
  if (token.p !== binding) {
    throw new ServiceError(
      'InvalidNextTokenException',
      'The NextToken was issued for different parameters; repeat the call with the parameters of the call that returned it.',
    );
  }
  return token;
}

/**
 * A token as LookupEvents issues it, or undefined. Tokens come back from callers, so every number is
 * checked to be one LookupEvents could have written (a non-negative safe integer, a time a Date holds)
 * before it goes into SQL: JSON.parse gives any double, and BigInt() throws on fractions.
 */
function decodeToken(text: string): PageToken | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { t, s, p } = parsed as Record<string, unknown>;
  // A token's time goes into SQL as BIGINT microseconds: no later than a Date can hold, it fits.
  if (!isCount(t) || t > MAX_DATE_MS || !isCount(s) || typeof p !== 'string') return undefined;
  return { t, s, p };
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/** A column's value, or undefined for NULL: JSON.stringify leaves the member out. */
const present = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/** A row as a LookupEvent; a member whose column is NULL is left out (JSON.stringify skips undefined). */
function toLookupEvent(row: HistoryRow): LookupEvent {
  const types = (row['resource_types'] as (string | null)[] | null) ?? [];
  const names = (row['resource_names'] as (string | null)[] | null) ?? [];
  const readOnly = row['read_only'] as boolean | null;
  const insight = row['event_category'] === 'Insight' ? insightDetails(row['extra']) : undefined;
  return {
    EventId: String(row['event_id']),
    EventName: present(row['event_name'] as string | null) ?? insight?.eventName,
    ReadOnly: readOnly === null ? undefined : String(readOnly),
    AccessKeyId: present(row['access_key_id'] as string | null),
    EventTime: Number(row['t']) / 1000,
    EventSource: present(row['event_source'] as string | null) ?? insight?.eventSource,
    Username: present(row['username'] as string | null),
    // AWS sends an empty list for events without resources.
    Resources: types.map((type, i) => ({ ResourceType: present(type), ResourceName: present(names[i]) })),
    CloudTrailEvent: recordJson(row),
  };
}

/** The API an Insights event is about, from its insightDetails (kept in `extra`, the record's other members). */
function insightDetails(extra: unknown): { eventName: string | undefined; eventSource: string | undefined } {
  if (typeof extra !== 'string') return { eventName: undefined, eventSource: undefined };
  const details = (JSON.parse(extra) as { insightDetails?: Record<string, unknown> }).insightDetails;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { eventName: text(details?.['eventName']), eventSource: text(details?.['eventSource']) };
}

import { createHash } from 'node:crypto';
import { ServiceError } from '../../model/service-error.ts';

/**
 * Page tokens carry an offset and a digest of what they were issued for (caller, query or store, filters), so a
 * token is refused with other parameters; they grant nothing: every page is the caller's own query's.
 */
export function pageToken(scope: string, offset: number): string {
  const mac = createHash('sha256').update(`${scope}/${offset}`).digest('base64url').slice(0, 16);
  return Buffer.from(JSON.stringify({ o: offset, m: mac })).toString('base64url');
}

/**
 * The offset a token of `pageToken(scope, …)` carries. Anything else is refused with `invalidToken()`: by
 * default InvalidNextTokenException, for the operations whose model declares it.
 */
export function readToken(
  scope: string,
  token: string | undefined,
  invalidToken: () => ServiceError = () =>
    new ServiceError(
      'InvalidNextTokenException',
      'The NextToken was not issued for this query or these parameters; send the one the previous page returned.',
    ),
): number {
  if (token === undefined) return 0;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (Number.isSafeInteger(t.o) && (t.o as number) >= 0 && pageToken(scope, t.o as number) === token) {
      return t.o as number;
    }
  } catch {
    // fall through
  }
  throw invalidToken();
}

/** For the operations that answer in one page: any NextToken sent to them is one they never issued. */
export function unissuedToken(operation: string): ServiceError {
  return new ServiceError(
    'InvalidTokenException',
    `${operation} answers in one page and issues no NextToken; call it without one.`,
  );
}

/**
 * Pages of a list that can change between calls (stores, channels, dashboards): a token names the last item
 * returned by its place in the list's order, so an item added or removed meanwhile neither repeats nor skips
 * one. Like the offset tokens above, it carries a digest of what it was issued for (`scope`: the operation,
 * page size and filters) and is refused with other parameters.
 */
export interface KeysetOrder<T, K> {
  /** The item's place in the order, as JSON. */
  key(item: T): K;
  /** Whether a token's value has a key's shape (a token is the caller's text). */
  isKey(value: unknown): value is K;
  /** Whether the item comes after the place `key` names. */
  after(item: T, key: K): boolean;
}

/**
 * Lists of resources shown oldest first (event data stores, channels): by creation time, then id, so one created
 * between pages comes at the end.
 */
export const OLDEST_FIRST: KeysetOrder<{ createdAtMs: number; id: string }, [number, string]> = {
  key: (r) => [r.createdAtMs, r.id],
  isKey: (value): value is [number, string] =>
    Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string',
  after: (r, [at, id]) => r.createdAtMs > at || (r.createdAtMs === at && r.id > id),
};

/** A page of `all`; `order` may be written for a wider type than the items (OLDEST_FIRST for any resource). */
export function keysetPage<T extends U, U, K>(
  all: readonly T[],
  order: KeysetOrder<U, K>,
  page: { size: number; token: string | undefined; scope: string },
  invalidToken: () => ServiceError,
): { items: T[]; nextToken?: string } {
  const start = page.token === undefined ? 0 : startAfter(all, order, page.token, page.scope, invalidToken);
  const items = all.slice(start, start + page.size);
  const last = items[items.length - 1];
  if (start + page.size >= all.length || last === undefined) return { items };
  const key = order.key(last);
  return {
    items,
    nextToken: Buffer.from(JSON.stringify({ k: key, m: keyDigest(page.scope, key) })).toString('base64url'),
  };
}

function keyDigest(scope: string, key: unknown): string {
  return createHash('sha256')
    .update(`${scope}/${JSON.stringify(key)}`)
    .digest('base64url')
    .slice(0, 16);
}

function startAfter<T, K>(
  all: readonly T[],
  order: KeysetOrder<T, K>,
  token: string,
  scope: string,
  invalidToken: () => ServiceError,
): number {
  let t: { k?: unknown; m?: unknown };
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: unknown; m?: unknown };
  } catch {
    throw invalidToken();
  }
  if (t === null || typeof t !== 'object' || !order.isKey(t.k) || t.m !== keyDigest(scope, t.k)) throw invalidToken();
  const key = t.k;
  // Resume after the item the token names, or, if it has gone since, after where it stood.
  const index = all.findIndex((item) => order.after(item, key));
  return index === -1 ? all.length : index;
}

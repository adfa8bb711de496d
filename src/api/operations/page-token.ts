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

export function readToken(scope: string, token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (Number.isSafeInteger(t.o) && (t.o as number) >= 0 && pageToken(scope, t.o as number) === token) {
      return t.o as number;
    }
  } catch {
    // fall through
  }
  throw new ServiceError(
    'InvalidNextTokenException',
    'The NextToken was not issued for this query or these parameters; send the one the previous page returned.',
  );
}

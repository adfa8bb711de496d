import { createHash } from 'node:crypto';

/**
 * The 32-bit key of an eventID or resource name, as stored in history's `event_id_hash` and `name_hash` and in
 * the lake's `eventid_hash`: the first 8 hex digits of its MD5, computed the same way in SQL.
 */
export function stringHash(value: string): number {
  return Number.parseInt(createHash('md5').update(value).digest('hex').slice(0, 8), 16);
}

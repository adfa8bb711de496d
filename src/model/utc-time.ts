/**
 * UTC times read from their digits. Date.UTC rolls an impossible time over (Feb 30 becomes Mar 1, 24:00 the
 * next day), so each reader checks that the fields name a real time.
 */

/**
 * Epoch ms of the UTC time whose digits are these: year, month (1-12), day, then hour, minute and second, each
 * 0 when left out (as a regular expression's groups give them). NaN when no such time exists.
 */
export function utcFieldsMs(fields: readonly (string | undefined)[]): number {
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = fields.map((f) => Number(f ?? 0));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  const real =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second;
  return real ? ms : Number.NaN;
}

const COMPACT_STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** A `YYYYMMDDTHHMMSSZ` stamp (SigV4's X-Amz-Date, digest file names) as epoch ms; NaN when it is not one. */
export function compactStampMs(stamp: string): number {
  const m = COMPACT_STAMP.exec(stamp);
  return m === null ? Number.NaN : utcFieldsMs(m.slice(1));
}

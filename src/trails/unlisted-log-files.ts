import { DAY_MS, MINUTE_MS } from '../model/clock.ts';
import type { ObjectReader } from '../objectstore/readers.ts';
import type { DigestContent } from './digest-file.ts';
import { type DigestScope, logFilePrefix } from './digest-keys.ts';
import { parseLogFileKey } from './read-logs.ts';

/**
 * Our validator's check (3), which the AWS CLI lacks: a log file added to the trail's folder is listed by no
 * digest. Only files that must have been digested are judged: those delivered strictly inside the span that
 * valid, adjacent digests cover. A file's name gives its delivery time only to the minute (rounded up; cut down
 * by versions before December 2026), and a delivery that straddles a digest's end lands in the next one, so a
 * margin is kept at each edge of that span: files delivered after the newest digest, or beside a digest that is
 * missing, are never flagged.
 */
export interface Coverage {
  bucket: string;
  /** The digest's `digestStartTime` and `digestEndTime` (epoch ms). */
  startMs: number;
  endMs: number;
}

/**
 * The span a valid digest vouches for. A chain's first digest (no previous one) is trusted only from the first
 * file it lists: its start says when logging began, and a chain restarted by turning validation back on has
 * been seen to claim the whole time since then, files delivered while validation was off included.
 */
export function coverageOf(
  bucket: string,
  digest: { startMs: number; endMs: number; content: DigestContent },
): Coverage | undefined {
  const { startMs, endMs, content } = digest;
  if (content.previousDigestS3Object !== null) return { bucket, startMs, endMs };
  const listed = content.logFiles.map((f) => parseLogFileKey(String(f.s3Object))?.timeMs ?? Number.NaN);
  const first = Math.min(...listed.filter((t) => !Number.isNaN(t)));
  return Number.isFinite(first) ? { bucket, startMs: Math.max(startMs, first), endMs } : undefined;
}

/** A delivery is named when it starts and digested when it is committed; this bounds the time in between. */
const DELIVERY_MARGIN_MS = 5 * MINUTE_MS;

export async function findUnlistedLogFiles(
  store: ObjectReader,
  scope: DigestScope,
  coverage: Coverage[],
  listed: ReadonlySet<string>,
): Promise<{ bucket: string; key: string }[]> {
  const found: { bucket: string; key: string }[] = [];
  for (const [bucket, spans] of groupByBucket(coverage)) {
    const merged = mergeSpans(spans);
    const isCovered = (timeMs: number) =>
      merged.some((s) => timeMs - MINUTE_MS > s.startMs && timeMs + MINUTE_MS + DELIVERY_MARGIN_MS <= s.endMs);
    // The day folders are listed at once; their keys are judged in folder order.
    const folders = dayFolders(logFilePrefix(scope), merged).map((folder) => listKeys(store, bucket, folder));
    for (const keys of await Promise.all(folders)) {
      for (const key of keys) {
        const name = parseLogFileKey(key);
        if (name === undefined || name.insights || name.accountId !== scope.accountId) continue;
        if (name.region !== scope.sourceRegion || !isCovered(name.timeMs)) continue;
        if (!listed.has(`${bucket}/${key}`)) found.push({ bucket, key });
      }
    }
  }
  return found;
}

function groupByBucket(coverage: Coverage[]): Map<string, Coverage[]> {
  const groups = new Map<string, Coverage[]>();
  for (const c of coverage) groups.set(c.bucket, [...(groups.get(c.bucket) ?? []), c]);
  return groups;
}

/** Adjacent or overlapping spans become one: a chain's digests each start where the previous one ended. */
function mergeSpans(spans: Coverage[]): { startMs: number; endMs: number }[] {
  const merged: { startMs: number; endMs: number }[] = [];
  for (const s of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && s.startMs <= last.endMs) last.endMs = Math.max(last.endMs, s.endMs);
    else merged.push({ startMs: s.startMs, endMs: s.endMs });
  }
  return merged;
}

/** The `YYYY/MM/DD/` folders the spans touch, oldest first. */
function dayFolders(prefix: string, spans: { startMs: number; endMs: number }[]): string[] {
  const folders = new Set<string>();
  for (const s of spans) {
    for (let day = Math.floor(s.startMs / DAY_MS) * DAY_MS; day <= s.endMs; day += DAY_MS) {
      folders.add(`${prefix}${new Date(day).toISOString().slice(0, 10).replace(/-/g, '/')}/`);
    }
  }
  return [...folders].sort();
}

async function listKeys(store: ObjectReader, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.listObjects(bucket, { prefix, ...(startAfter !== undefined ? { startAfter } : {}) });
    for (const o of page.objects) keys.push(o.key);
    if (!page.isTruncated || page.nextStartAfter === undefined) return keys;
    startAfter = page.nextStartAfter;
  }
}

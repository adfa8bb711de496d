import type { AwsJsonClient } from '../client/aws-json-client.ts';
import { HOUR_MS, isoSeconds } from '../model/clock.ts';
import { compactStampMs } from '../model/utc-time.ts';
import type { ObjectReader } from '../objectstore/readers.ts';
import {
  backfillKeyLookup,
  checkLogFile,
  type DigestExamination,
  examineDigest,
  loadPublicKeys,
  type PublicKeyLookup,
  ValidateLogsError,
} from './check-digest.ts';
import { sha256Hex } from './digest-file.ts';
import {
  type DigestKeys,
  type DigestScope,
  digestKeyStamp,
  listDigestKeys,
  resolveScope,
  scopeRoot,
} from './digest-keys.ts';
import { type Coverage, coverageOf, findUnlistedLogFiles } from './unlisted-log-files.ts';

/**
 * opentrail's `validate-logs`: what `aws cloudtrail validate-logs` checks (facts §5.7), in its order and with its
 * reasons, fetching objects concurrently, plus three checks the CLI lacks:
 * 1. each digest's `previousDigestHashValue` and `previousDigestSignature` against the previous digest;
 * 2. digests missing between two present ones, however many in a row (aws-cli issue #7054: the CLI reports only
 *    the one the newer digest links to); the span is estimated from the chain's period;
 * 3. log files under the trail's prefix, inside the span valid digests cover, that no digest lists.
 * Nothing is printed here: findings go to `onFinding` in the order the CLI would print them.
 */
export interface ValidateLogsOptions {
  trailArn: string;
  /** Epoch ms. */
  startMs: number;
  endMs: number;
  s3Bucket?: string | undefined;
  s3Prefix?: string | undefined;
  /** The member account whose files an organization trail's are (the CLI's `--account-id`). */
  accountId?: string | undefined;
  /** The `o-…` path segment of an organization trail; found by listing `AWSLogs/` when not given. */
  organizationId?: string | undefined;
  /** The Region whose digests are validated; the trail's home Region when not given. */
  sourceRegion?: string | undefined;
  /** Objects fetched at once. */
  concurrency?: number | undefined;
  /** Once the trail is found, before anything is listed (the CLI prints its first line here). */
  onStart?: (() => void) | undefined;
  onFinding?: ((finding: ValidationFinding) => void) | undefined;
  onProgress?: ((checked: number, total: number) => void) | undefined;
}

export interface ValidateLogsDeps {
  store: ObjectReader;
  /** A client in the source Region: ListPublicKeys answers with that Region's keys. */
  cloudtrail: AwsJsonClient;
}

/** `problem` is absent when the file is valid; a `gap` is a note the CLI prints, never a failure. */
export type ValidationFinding =
  | { kind: 'digest'; backfill: boolean; bucket: string; key: string; problem?: string; count: number }
  | { kind: 'log'; bucket: string; key: string; problem?: string }
  | { kind: 'gap'; backfill: boolean; fromMs: number; toMs: number };

export interface Tally {
  valid: number;
  invalid: number;
}

export interface ValidationResult {
  digests: Tally;
  backfillDigests: Tally;
  logFiles: Tally;
  /** The span valid digests cover, clamped to the requested one; absent when no digest was valid. */
  foundStartMs?: number;
  foundEndMs?: number;
}

export { ValidateLogsError };

/** Objects fetched at once: enough to hide S3's latency, few enough to bound memory (32 × a file's size). */
const DEFAULT_CONCURRENCY = 32;
const PREFETCH_DIGESTS = 8;

export async function validateLogs(deps: ValidateLogsDeps, options: ValidateLogsOptions): Promise<ValidationResult> {
  if (!/^arn:.+:cloudtrail:.+:\d{12}:trail\/.+/.test(options.trailArn)) {
    throw new ValidateLogsError(`Invalid trail ARN provided: ${options.trailArn}`);
  }
  if (options.startMs > options.endMs) {
    throw new ValidateLogsError('Invalid time range specified: start-time must occur before end-time');
  }
  // The keys depend on the range alone: asked for beside DescribeTrails, their failure is still reported after
  // the first line, as the CLI's is, and only once the trail is found.
  const loadingKeys = loadPublicKeys(deps.cloudtrail, options.startMs, options.endMs + 2 * HOUR_MS);
  loadingKeys.catch(() => undefined);
  const scope = await resolveScope(deps.store, deps.cloudtrail, options);
  options.onStart?.();
  const [keys, publicKeys] = await Promise.all([
    listDigestKeys(deps.store, scope, options.startMs, options.endMs),
    loadingKeys,
  ]);
  return new ValidationRun(deps, options, scope, keys, publicKeys).run();
}

class ValidationRun {
  readonly #deps: ValidateLogsDeps;
  readonly #options: ValidateLogsOptions;
  readonly #scope: DigestScope;
  readonly #keys: DigestKeys;
  readonly #regularKeys: PublicKeyLookup;
  readonly #backfillKeys: PublicKeyLookup;
  /** Log file fetches; digests have their own slots, so the walk never queues behind the files it found. */
  readonly #limit: <T>(task: () => Promise<T>) => Promise<T>;
  readonly #digestLimit = limiter(PREFETCH_DIGESTS);
  readonly #examined = new Map<string, Promise<DigestExamination>>();
  readonly #result: ValidationResult = {
    digests: { valid: 0, invalid: 0 },
    backfillDigests: { valid: 0, invalid: 0 },
    logFiles: { valid: 0, invalid: 0 },
  };
  /** Spans (ms) of valid digests that continue a chain: the chain's period. */
  readonly #periods: number[] = [];
  readonly #coverage: Coverage[] = [];
  readonly #listed = new Set<string>();
  /** Findings leave in walk order, whatever order their fetches finish in. */
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown;
  #checked = 0;
  #total: number;

  constructor(
    deps: ValidateLogsDeps,
    options: ValidateLogsOptions,
    scope: DigestScope,
    keys: DigestKeys,
    publicKeys: Map<string, Uint8Array>,
  ) {
    this.#deps = deps;
    this.#options = options;
    this.#scope = scope;
    this.#keys = keys;
    this.#limit = limiter(options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#total = keys.regular.length + keys.backfill.length;
    this.#regularKeys = { find: async (fingerprint) => publicKeys.get(fingerprint) };
    this.#backfillKeys = backfillKeyLookup(deps.cloudtrail);
  }

  async run(): Promise<ValidationResult> {
    await this.#walk(false);
    await this.#walk(true);
    if (this.#failure === undefined) {
      const unlisted = await findUnlistedLogFiles(this.#deps.store, this.#scope, this.#coverage, this.#listed);
      this.#total += unlisted.length;
      this.#emit(
        unlisted.map(({ bucket, key }) => ({ kind: 'log', bucket, key, problem: 'not listed in any digest file' })),
      );
    }
    await this.#tail;
    if (this.#failure !== undefined) throw this.#failure;
    return this.#result;
  }

  /** The digest chain newest → oldest, following `previousDigestS3Object` (facts §5.7 step 4). */
  async #walk(backfill: boolean): Promise<void> {
    let listing = backfill ? this.#keys.backfill : this.#keys.regular;
    let cursor = listing.length;
    /** The newest listed key older than `before` (the newest of all without it); older ones stay listed. */
    const take = (before?: string): string | undefined => {
      while (cursor > 0) {
        const k = listing[--cursor] as string;
        if (before === undefined || digestKeyStamp(k) < digestKeyStamp(before)) return k;
      }
      return undefined;
    };
    let bucket = this.#scope.bucket;
    let key = take();
    let lastStartMs = key === undefined ? 0 : keyEndMs(key);
    let fellBackFromMs: number | undefined;
    while (key !== undefined && this.#options.startMs <= lastStartMs && this.#failure === undefined) {
      this.#prefetch(listing, bucket, key, backfill);
      const examined = await this.#examine(bucket, key, backfill);
      // Past this point the walk needs it no more: what a long range holds in memory stays bounded.
      this.#examined.delete(examinationId(bucket, key, backfill));
      if (fellBackFromMs !== undefined) this.#missingSpan(bucket, keyEndMs(key), fellBackFromMs, examined);
      fellBackFromMs = undefined;
      if (examined.status !== 'valid') {
        const problem = examined.status === 'missing' ? 'not found' : examined.reason;
        this.#emit([{ kind: 'digest', backfill, bucket, key, problem, count: 1 }]);
        // As the CLI: the bad digest's link is not followed; the next older listed digest is.
        if (!backfill) fellBackFromMs = keyEndMs(key);
        key = take(key);
        continue;
      }
      lastStartMs = examined.startMs;
      const { previousDigestS3Bucket: prevBucket, previousDigestS3Object: prevKey } = examined.content;
      const linked = typeof prevBucket === 'string' && typeof prevKey === 'string';
      let problem: string | undefined;
      if (linked && !backfill) {
        this.#periods.push(examined.endMs - examined.startMs);
        if (this.#options.startMs <= lastStartMs)
          problem = linkProblem(examined, await this.#examine(prevBucket, prevKey, false));
      }
      this.#accept(backfill, bucket, key, examined, problem);
      if (!linked) {
        const next = take(key);
        if (next !== undefined) this.#emit([{ kind: 'gap', backfill, fromMs: keyEndMs(next), toMs: lastStartMs }]);
        key = next;
      } else {
        key = prevKey;
        if (prevBucket !== bucket) {
          // The trail wrote to another bucket before: list there too (same prefix), as the CLI does.
          bucket = prevBucket;
          const keys = await listDigestKeys(
            this.#deps.store,
            { ...this.#scope, bucket },
            this.#options.startMs,
            this.#options.endMs,
          );
          listing = backfill ? keys.backfill : keys.regular;
          cursor = listing.length;
        }
      }
    }
  }

  /** A digest whose own signature holds: count it, then check every log file it lists. */
  #accept(
    backfill: boolean,
    bucket: string,
    key: string,
    digest: DigestExamination & { status: 'valid' },
    problem: string | undefined,
  ): void {
    const { startMs, endMs, content } = digest;
    if (problem === undefined) {
      const found = Math.max(startMs, this.#options.startMs);
      const foundEnd = Math.min(endMs, this.#options.endMs);
      this.#result.foundStartMs = Math.min(this.#result.foundStartMs ?? found, found);
      this.#result.foundEndMs = Math.max(this.#result.foundEndMs ?? foundEnd, foundEnd);
    }
    // Its signature holds, so what it lists is authentic even when its link is not.
    const covered = backfill ? undefined : coverageOf(bucket, digest);
    if (covered !== undefined) this.#coverage.push(covered);
    this.#emit([{ kind: 'digest', backfill, bucket, key, ...(problem !== undefined ? { problem } : {}), count: 1 }]);
    for (const entry of content.logFiles) {
      this.#listed.add(`${entry.s3Bucket}/${entry.s3Object}`);
      this.#total++;
      this.#emit(
        this.#limit(() => checkLogFile(this.#deps.store, entry)).then(({ bucket: b, key: k, problem: p }) => [
          { kind: 'log', bucket: b, key: k, ...(p !== undefined ? { problem: p } : {}) },
        ]),
      );
    }
  }

  /**
   * After a missing or invalid digest the walk resumes at the next older listed one; when that one ends well
   * before the bad one must have started (its end minus the chain's period), more digests are missing there.
   */
  #missingSpan(bucket: string, olderEndMs: number, newerEndMs: number, older: DigestExamination): void {
    const own =
      older.status === 'valid' && older.content.previousDigestS3Object !== null ? [older.endMs - older.startMs] : [];
    const period = median(this.#periods.length > 0 ? this.#periods : own) ?? median(stampGaps(this.#keys.regular));
    if (period === undefined || period <= 0) return;
    const untilMs = newerEndMs - period;
    const uncoveredMs = untilMs - olderEndMs;
    if (uncoveredMs < period / 2) return;
    this.#emit([
      {
        kind: 'digest',
        backfill: false,
        bucket,
        key: `${scopeRoot(this.#scope)}CloudTrail-Digest/${this.#scope.sourceRegion}/`,
        problem: `digest files missing between ${isoSeconds(olderEndMs)} and ${isoSeconds(untilMs)}`,
        count: Math.max(1, Math.round(uncoveredMs / period)),
      },
    ]);
  }

  /** The digests the walk will most likely reach next (the listed ones just older) are fetched ahead. */
  #prefetch(listing: string[], bucket: string, key: string, backfill: boolean): void {
    const stamp = digestKeyStamp(key);
    let i = listing.length;
    while (i > 0 && digestKeyStamp(listing[i - 1] as string) >= stamp) i--;
    for (let n = 0; n < PREFETCH_DIGESTS && i > 0; n++) void this.#examine(bucket, listing[--i] as string, backfill);
  }

  #examine(bucket: string, key: string, backfill: boolean): Promise<DigestExamination> {
    const id = examinationId(bucket, key, backfill);
    let examined = this.#examined.get(id);
    if (examined === undefined) {
      const lookup = backfill ? this.#backfillKeys : this.#regularKeys;
      examined = this.#digestLimit(() =>
        examineDigest(this.#deps.store, bucket, key, backfill, lookup, this.#scope.homeRegion),
      );
      examined.catch((error: unknown) => {
        this.#failure ??= error;
      });
      this.#examined.set(id, examined);
    }
    return examined;
  }

  #emit(findings: ValidationFinding[] | Promise<ValidationFinding[]>): void {
    const ready = Promise.resolve(findings);
    ready.catch((error: unknown) => {
      this.#failure ??= error;
    });
    this.#tail = this.#tail.then(async () => {
      for (const finding of await ready) this.#report(finding);
    });
    // Awaited at the end of the run; until then a failure must not count as unhandled.
    this.#tail.catch(() => undefined);
  }

  #report(finding: ValidationFinding): void {
    if (finding.kind !== 'gap') {
      const tally =
        finding.kind === 'log'
          ? this.#result.logFiles
          : finding.backfill
            ? this.#result.backfillDigests
            : this.#result.digests;
      if (finding.problem === undefined) tally.valid++;
      else tally.invalid += finding.kind === 'digest' ? finding.count : 1;
      this.#checked++;
    }
    this.#options.onFinding?.(finding);
    this.#options.onProgress?.(this.#checked, Math.max(this.#total, this.#checked));
  }
}

/** Our check (1): the link a valid digest holds against the previous digest, when that one is valid itself. */
function linkProblem(digest: DigestExamination & { status: 'valid' }, previous: DigestExamination): string | undefined {
  // A previous digest that is missing or invalid is reported on its own when the walk reaches it.
  if (previous.status !== 'valid') return undefined;
  if (digest.content.previousDigestHashValue !== sha256Hex(previous.bytes))
    return 'previous digest hash does not match';
  if (digest.content.previousDigestSignature !== previous.signature) return 'previous digest signature does not match';
  return undefined;
}

function examinationId(bucket: string, key: string, backfill: boolean): string {
  return `${backfill}|${bucket}/${key}`;
}

function keyEndMs(key: string): number {
  return compactStampMs(digestKeyStamp(key));
}

function stampGaps(keys: string[]): number[] {
  return keys.slice(1).map((k, i) => keyEndMs(k) - keyEndMs(keys[i] as string));
}

function median(values: number[]): number | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length === 0 ? undefined : sorted[Math.floor(sorted.length / 2)];
}

/** At most `max` tasks at once; a finished task hands its slot straight to the next waiting one. */
function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next !== undefined) next();
      else active--;
    }
  };
}

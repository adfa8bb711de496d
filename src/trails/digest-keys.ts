import type { AwsJsonClient } from '../client/aws-json-client.ts';
import { HOUR_MS, MINUTE_MS } from '../model/clock.ts';
import type { ObjectReader } from '../objectstore/readers.ts';
import { ValidateLogsError } from './check-digest.ts';
import { digestKey } from './digest-file.ts';

/**
 * Finding one trail's files as `aws cloudtrail validate-logs` finds them (facts §5.7 steps 1–2): its bucket and
 * prefix from DescribeTrails; then its digests, listed from the key the trail would have had a minute before the
 * start, keeping the keys of this trail, account and source Region, stopping at the first one newer than
 * end + 1 h, and splitting regular from backfill digests.
 */
export interface DigestScope {
  bucket: string;
  prefix: string | undefined;
  organizationId: string | undefined;
  accountId: string;
  sourceRegion: string;
  homeRegion: string;
  trailName: string;
}

/** What the user says about the trail (the CLI's flags); the rest comes from DescribeTrails. */
export interface ScopeInput {
  trailArn: string;
  s3Bucket?: string | undefined;
  s3Prefix?: string | undefined;
  accountId?: string | undefined;
  organizationId?: string | undefined;
  sourceRegion?: string | undefined;
}

export interface DigestKeys {
  /** Oldest first, as listed. */
  regular: string[];
  backfill: string[];
}

/** The members of DescribeTrails' answer read here. */
interface DescribedTrail {
  TrailARN?: string;
  S3BucketName?: string;
  S3KeyPrefix?: string;
  IsOrganizationTrail?: boolean;
}

const BACKFILL_SUFFIX = '_backfill.json.gz';

export function isBackfillKey(key: string): boolean {
  return key.endsWith(BACKFILL_SUFFIX);
}

/**
 * The `YYYYMMDDTHHMMSSZ` in a digest key, sliced by fixed offsets from the end as the CLI slices it (facts
 * §0.7). Strings in this layout compare as the times they name.
 */
export function digestKeyStamp(key: string): string {
  return isBackfillKey(key) ? key.slice(-33, -17) : key.slice(-24, -8);
}

export function timeStamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/** `[prefix/]AWSLogs/[o-id/]<account>/`. */
export function scopeRoot(scope: DigestScope): string {
  const head = scope.prefix ? `${scope.prefix}/` : '';
  const org = scope.organizationId ? `${scope.organizationId}/` : '';
  return `${head}AWSLogs/${org}${scope.accountId}/`;
}

/** Where the scope's log files lie: `…/CloudTrail/<sourceRegion>/`. */
export function logFilePrefix(scope: DigestScope): string {
  return `${scopeRoot(scope)}CloudTrail/${scope.sourceRegion}/`;
}

/** Bucket, prefix and path of the trail's files: from DescribeTrails unless `s3Bucket` is given (facts §5.7 step 1). */
export async function resolveScope(
  store: ObjectReader,
  cloudtrail: AwsJsonClient,
  options: ScopeInput,
): Promise<DigestScope> {
  const [, , , homeRegion = '', arnAccount = ''] = options.trailArn.split(':');
  let bucket = options.s3Bucket;
  let prefix = options.s3Prefix;
  let organizationId = options.organizationId;
  if (bucket === undefined) {
    const { trailList = [] } = await cloudtrail.call<{ trailList?: DescribedTrail[] }>('DescribeTrails', {});
    const trail = trailList.find((t) => t.TrailARN === options.trailArn);
    if (trail?.S3BucketName === undefined)
      throw new ValidateLogsError(`A trail could not be found for ${options.trailArn}`);
    bucket = trail.S3BucketName;
    prefix = trail.S3KeyPrefix;
    if (trail.IsOrganizationTrail === true) {
      if (!options.accountId) {
        throw new ValidateLogsError("Missing required parameter for organization trail: '--account-id'");
      }
      organizationId ??= await findOrganizationId(store, bucket, prefix);
    }
  }
  return {
    bucket,
    prefix: prefix || undefined,
    organizationId,
    accountId: options.accountId || arnAccount,
    sourceRegion: options.sourceRegion ?? homeRegion,
    homeRegion,
    trailName: options.trailArn.split('/').pop() ?? '',
  };
}

/** The CLI asks Organizations; we read the `o-…` folder the trail writes under. */
async function findOrganizationId(store: ObjectReader, bucket: string, prefix: string | undefined): Promise<string> {
  const root = `${prefix ? `${prefix}/` : ''}AWSLogs/`;
  const { objects } = await store.listObjects(bucket, { prefix: `${root}o-`, maxKeys: 1 });
  const id = objects[0]?.key.slice(root.length).split('/')[0];
  if (id === undefined) {
    throw new ValidateLogsError(`no organization folder under s3://${bucket}/${root}: give --organization-id`);
  }
  return id;
}

export async function listDigestKeys(
  store: ObjectReader,
  scope: DigestScope,
  startMs: number,
  endMs: number,
): Promise<DigestKeys> {
  const marker = digestKey({
    prefix: scope.prefix,
    organizationId: scope.organizationId,
    accountId: scope.accountId,
    region: scope.sourceRegion,
    trailName: scope.trailName,
    homeRegion: scope.homeRegion,
    endMs: startMs - MINUTE_MS,
  });
  const prefix = `${scopeRoot(scope)}CloudTrail-Digest/${scope.sourceRegion}`;
  const ofThisTrail = digestKeyPattern(scope);
  const first = timeStamp(startMs);
  const last = timeStamp(endMs + HOUR_MS);
  const keys: DigestKeys = { regular: [], backfill: [] };
  let startAfter = marker;
  for (;;) {
    const page = await store.listObjects(scope.bucket, { prefix, startAfter });
    for (const { key } of page.objects) {
      if (!ofThisTrail.test(key)) continue;
      const stamp = digestKeyStamp(key);
      if (stamp > last) return keys;
      if (stamp < first) continue;
      (isBackfillKey(key) ? keys.backfill : keys.regular).push(key);
    }
    if (!page.isTruncated || page.nextStartAfter === undefined) return keys;
    startAfter = page.nextStartAfter;
  }
}

function digestKeyPattern(scope: DigestScope): RegExp {
  const acct = escapeRegExp(scope.accountId);
  const region = escapeRegExp(scope.sourceRegion);
  const name = `${acct}_CloudTrail-Digest_${region}_${escapeRegExp(scope.trailName)}_${escapeRegExp(scope.homeRegion)}_`;
  return new RegExp(
    `^${escapeRegExp(scopeRoot(scope))}CloudTrail-Digest/${region}/\\d+/\\d+/\\d+/${name}.+(?:_backfill)?\\.json\\.gz$`,
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

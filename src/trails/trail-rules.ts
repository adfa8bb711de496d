import { ServiceError } from '../model/service-error.ts';

/**
 * Pure validation and normalisation of trail settings (facts §1.5, §3.1, §3.2) and of tags (facts §11, A.11).
 * Message texts follow moto's AWS-like wording where it has one (facts §1.3); elsewhere they say what to fix.
 */

const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z0-9-]+';
const ACCOUNT = '\\d{12}';

// --- Trail names and ARNs (facts §3.1) ---

const SEPARATORS = /[._-]{2}/;
const IPV4_LIKE = /^\d{1,3}(?:\.\d{1,3}){3}$/;

export function validateTrailName(name: string): void {
  const fail = (message: string) => new ServiceError('InvalidTrailNameException', message);
  if (name.length < 3) {
    throw fail(
      `Trail name too short. Minimum allowed length: 3 characters. Specified name length: ${name.length} characters.`,
    );
  }
  if (name.length > 128) {
    throw fail(
      `Trail name too long. Maximum allowed length: 128 characters. Specified name length: ${name.length} characters.`,
    );
  }
  if (!/^[A-Za-z0-9]/.test(name)) throw fail('Trail name must starts with a letter or number.');
  if (!/[A-Za-z0-9]$/.test(name)) throw fail('Trail name must ends with a letter or number.');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw fail(
      'Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).',
    );
  }
  if (SEPARATORS.test(name)) {
    throw fail(
      'Trail name must not have adjacent periods (.), hyphens (-), or underscores (_): names like my-_namespace and my--namespace are not valid.',
    );
  }
  if (IPV4_LIKE.test(name)) {
    throw fail('Trail name must not be in IP address format (for example, 192.168.5.4); add a letter to the name.');
  }
}

export interface TrailArnParts {
  partition: string;
  region: string;
  accountId: string;
  name: string;
}

const TRAIL_ARN = new RegExp(`^arn:(${PARTITION}):cloudtrail:(${REGION}):(${ACCOUNT}):trail/([A-Za-z0-9._-]+)$`);

export function parseTrailArn(arn: string): TrailArnParts {
  const m = TRAIL_ARN.exec(arn);
  if (m === null) {
    throw new ServiceError(
      'CloudTrailARNInvalidException',
      `Invalid trail ARN: ${arn}. A trail ARN has the format arn:aws:cloudtrail:<region>:<12-digit account id>:trail/<trail name>, for example arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail.`,
    );
  }
  return { partition: m[1]!, region: m[2]!, accountId: m[3]!, name: m[4]! };
}

export type TrailNameOrArn = ({ kind: 'arn' } & TrailArnParts) | { kind: 'name'; name: string };

/** Inputs that take "name or ARN" treat anything starting with `arn:` as an ARN (facts §3.1). */
export function parseTrailNameOrArn(value: string): TrailNameOrArn {
  if (value.startsWith('arn:')) return { kind: 'arn', ...parseTrailArn(value) };
  validateTrailName(value);
  return { kind: 'name', name: value };
}

export function trailArn(region: string, accountId: string, name: string, partition = 'aws'): string {
  return `arn:${partition}:cloudtrail:${region}:${accountId}:trail/${name}`;
}

// --- S3 bucket and prefix (facts §3.1) ---

export function validateBucketName(name: string): void {
  const fail = (rule: string) =>
    new ServiceError('InvalidS3BucketNameException', `Invalid S3 bucket name: ${name}. ${rule}`);
  if (name.length < 3 || name.length > 63) throw fail('Bucket names must be between 3 and 63 characters long.');
  if (!/^[a-z0-9.-]+$/.test(name)) {
    throw fail('Bucket names can contain only lower-case letters, numbers, periods (.), and hyphens (-).');
  }
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) throw fail('Bucket names must begin and end with a letter or number.');
  if (name.includes('..')) throw fail('Bucket names must not contain two adjacent periods.');
  if (name.includes('.-') || name.includes('-.')) throw fail('Bucket names must not have a hyphen next to a period.');
  if (IPV4_LIKE.test(name))
    throw fail('Bucket names must not be formatted as an IP address (for example, 192.168.5.4).');
}

/**
 * The model's only documented rule is "The maximum length is 200 characters". A leading `/` is accepted: AWS
 * documents no such rule, and S3 keys may start with `/`, so rejecting it could refuse a trail AWS accepts.
 */
export function validateS3KeyPrefix(prefix: string): void {
  // Control characters have no place in a key S3 can list (its XML cannot hold most of them).
  if ([...prefix].some((c) => c < ' ' || c === '\u007f')) {
    throw new ServiceError('InvalidS3PrefixException', 'S3 key prefix must not contain control characters.');
  }
  if (prefix.length > 200) {
    throw new ServiceError(
      'InvalidS3PrefixException',
      `S3 key prefix too long. Maximum allowed length: 200 characters. Specified prefix length: ${prefix.length} characters.`,
    );
  }
}

// --- SNS topic, KMS key, CloudWatch Logs (facts §1.5, §3.2) ---

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const TOPIC_ARN = new RegExp(`^arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:([A-Za-z0-9_-]{1,256})$`);

/** `SnsTopicName` takes a topic name or a topic ARN; the trail stores both forms (Trail.SnsTopicName/SnsTopicARN). */
export function normaliseSnsTopic(value: string, region: string, accountId: string): { name: string; arn: string } {
  const fromArn = value.length <= 256 ? TOPIC_ARN.exec(value) : null;
  if (fromArn !== null) return { name: fromArn[1]!, arn: value };
  if (TOPIC_NAME.test(value)) return { name: value, arn: `arn:aws:sns:${region}:${accountId}:${value}` };
  throw new ServiceError(
    'InvalidSnsTopicNameException',
    `Invalid SNS topic name or ARN: ${value}. Specify a topic name of 1 to 256 letters, numbers, hyphens (-) and underscores (_), or a topic ARN such as arn:aws:sns:us-east-2:123456789012:MyTopic.`,
  );
}

// Multi-Region keys have ids `mrk-` + 32 hex digits (CreateTrail.KmsKeyId docs mention multi-Region keys).
const KEY_ID = '(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})';
const ALIAS = 'alias/[A-Za-z0-9/_-]{1,250}';
const KMS_ARN = new RegExp(`^arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:(?:key/${KEY_ID}|${ALIAS})$`);
const KMS_KEY_ID = new RegExp(`^${KEY_ID}$`);
const KMS_ALIAS = new RegExp(`^${ALIAS}$`);

/** Returns the ARN form we store in Trail.KmsKeyId: a key ARN for a key id, an alias ARN for an alias name. */
export function normaliseKmsKeyId(value: string, region: string, accountId: string): string {
  if (KMS_ARN.test(value)) return value;
  if (KMS_KEY_ID.test(value)) return `arn:aws:kms:${region}:${accountId}:key/${value}`;
  if (KMS_ALIAS.test(value)) return `arn:aws:kms:${region}:${accountId}:${value}`;
  throw new ServiceError(
    'InvalidKmsKeyIdException',
    `Invalid KMS key ID: ${value}. Specify a key ID (12345678-1234-1234-1234-123456789012), a key ARN, an alias name prefixed by alias/, or an alias ARN.`,
  );
}

const LOG_GROUP_ARN = new RegExp(`^arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:[A-Za-z0-9_/.#-]{1,512}:\\*$`);
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);

/**
 * The group ARN must carry the log-stream wildcard `:*`. An empty string counts as absent, since UpdateTrail
 * clears CloudWatch Logs delivery by sending empty values.
 */
export function validateCloudWatchLogs(groupArn?: string, roleArn?: string): void {
  const hasGroup = groupArn !== undefined && groupArn !== '';
  const hasRole = roleArn !== undefined && roleArn !== '';
  if (hasGroup && !LOG_GROUP_ARN.test(groupArn)) {
    throw new ServiceError(
      'InvalidCloudWatchLogsLogGroupArnException',
      `Invalid CloudWatch Logs log group ARN: ${groupArn}. Use the format arn:aws:logs:<region>:<account id>:log-group:<log group name>:*`,
    );
  }
  if (hasRole && !ROLE_ARN.test(roleArn)) {
    throw new ServiceError(
      'InvalidCloudWatchLogsRoleArnException',
      `Invalid CloudWatch Logs role ARN: ${roleArn}. Use the format arn:aws:iam::<account id>:role/<role name>.`,
    );
  }
  if (hasGroup && !hasRole) {
    throw new ServiceError(
      'InvalidCloudWatchLogsRoleArnException',
      'A CloudWatch Logs log group ARN was given without a role: also specify CloudWatchLogsRoleArn.',
    );
  }
  if (hasRole && !hasGroup) {
    throw new ServiceError(
      'InvalidCloudWatchLogsLogGroupArnException',
      'A CloudWatch Logs role ARN was given without a log group: also specify CloudWatchLogsLogGroupArn.',
    );
  }
}

// --- Tags (facts §11, A.11) ---

export interface Tag {
  Key: string;
  Value?: string;
}

/** Effective per-resource limit; the model allows 200 in one request (facts §11). */
export const MAX_TAGS = 50;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const charCount = (s: string) => [...s].length;
const invalidTag = (message: string) => new ServiceError('InvalidTagParameterException', message);

export function validateTagKey(key: string): void {
  if (charCount(key) < 1 || charCount(key) > 128) {
    throw invalidTag(`Tag key "${key}" must be between 1 and 128 characters long.`);
  }
  if (key.toLowerCase().startsWith('aws:')) {
    throw invalidTag(`Tag key "${key}" must not start with "aws:", which is reserved for AWS use.`);
  }
  if (!TAG_TEXT.test(key)) {
    throw invalidTag(
      `Tag key "${key}" contains characters that are not allowed: use letters, numbers, spaces and _ . : / = + - @ only.`,
    );
  }
}

function validateTagValue(tag: Tag): void {
  const value = tag.Value;
  if (value === undefined) return;
  if (charCount(value) > 256) {
    throw invalidTag(`The value of tag "${tag.Key}" must be at most 256 characters long.`);
  }
  if (!TAG_TEXT.test(value)) {
    throw invalidTag(
      `The value of tag "${tag.Key}" contains characters that are not allowed: use letters, numbers, spaces and _ . : / = + - @ only.`,
    );
  }
}

/**
 * Checks the tags of one CreateTrail/AddTags request against the resource's existing tags. The limit counts
 * distinct keys after the merge, since AddTags overwrites the value of an existing key.
 */
export function validateTags(tags: readonly Tag[], existing: readonly Tag[] = []): void {
  const seen = new Set<string>();
  for (const tag of tags) {
    validateTagKey(tag.Key);
    validateTagValue(tag);
    if (seen.has(tag.Key)) throw invalidTag(`Tag key "${tag.Key}" appears more than once: tag keys must be unique.`);
    seen.add(tag.Key);
  }
  const total = mergeTags(existing, tags).length;
  if (total > MAX_TAGS) {
    throw new ServiceError(
      'TagsLimitExceededException',
      `The resource would have ${total} tags; the limit is ${MAX_TAGS}. Remove tags before adding new ones.`,
    );
  }
}

/** AddTags: new keys are appended, existing keys take the new value (or none, if Value is omitted). */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = new Map<string, Tag>(existing.map((t) => [t.Key, { ...t }]));
  for (const tag of added) merged.set(tag.Key, { ...tag });
  return [...merged.values()];
}

/**
 * RemoveTags: the model leaves open what a given Value means. As moto does, a tag whose Value is given is
 * removed only when the stored value matches; a tag given by key alone is removed whatever its value.
 */
export function removeTags(existing: readonly Tag[], removed: readonly Tag[]): Tag[] {
  const matches = (stored: Tag, r: Tag) => stored.Key === r.Key && (r.Value === undefined || r.Value === stored.Value);
  return existing.filter((stored) => !removed.some((r) => matches(stored, r))).map((t) => ({ ...t }));
}

/** A resource's tags after AddTags (`add`) or RemoveTags (`remove`), the given tags checked as each checks them. */
export function retaggedTags(existing: readonly Tag[], tags: readonly Tag[], mode: 'add' | 'remove'): Tag[] {
  if (mode === 'add') {
    validateTags(tags, existing);
    return mergeTags(existing, tags);
  }
  for (const t of tags) validateTagKey(t.Key);
  return removeTags(existing, tags);
}

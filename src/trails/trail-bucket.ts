import { ServiceError } from '../model/service-error.ts';
import type { ObjectStore } from '../objectstore/index.ts';

/**
 * The checks CreateTrail and UpdateTrail make on a trail's bucket (facts §3.2). On an S3 endpoint the
 * bucket must exist and its policy must let CloudTrail write, as AWS checks; on the local store, where
 * nobody else can create buckets, a missing bucket is created as a folder.
 */
export async function prepareTrailBucket(
  store: ObjectStore,
  trail: { bucket: string; prefix?: string; accountId: string; organizationId?: string },
): Promise<void> {
  if (store.kind === 'local') {
    await store.createBucket(trail.bucket);
    return;
  }
  if (!(await store.bucketExists(trail.bucket))) {
    throw new ServiceError('S3BucketDoesNotExistException', `S3 bucket ${trail.bucket} does not exist!`);
  }
  const policy = await store.getBucketPolicy(trail.bucket);
  const logPrefix = `arn:aws:s3:::${trail.bucket}/${trail.prefix ? `${trail.prefix}/` : ''}AWSLogs/`;
  const writable = [`${logPrefix}${trail.accountId}/*`];
  if (trail.organizationId !== undefined) writable.push(`${logPrefix}${trail.organizationId}/*`);
  if (
    policy === undefined ||
    !allowsCloudTrail(policy, 's3:GetBucketAcl', `arn:aws:s3:::${trail.bucket}`) ||
    !writable.some((resource) => allowsCloudTrail(policy, 's3:PutObject', resource))
  ) {
    throw new ServiceError(
      'InsufficientS3BucketPolicyException',
      `Incorrect S3 bucket policy is detected for bucket: ${trail.bucket}. The policy must allow the service principal cloudtrail.amazonaws.com s3:GetBucketAcl on arn:aws:s3:::${trail.bucket} and s3:PutObject on ${writable[0]}.`,
    );
  }
}

interface Statement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
}

/** Whether an Allow statement for the CloudTrail service principal grants `action` on `resource`. */
export function allowsCloudTrail(policyText: string, action: string, resource: string): boolean {
  let policy: { Statement?: Statement | Statement[] };
  try {
    policy = JSON.parse(policyText) as typeof policy;
  } catch {
    return false;
  }
  const statements = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : [];
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      namesCloudTrail(s.Principal) &&
      asList(s.Action).some((a) => wildcardMatch(a.toLowerCase(), action.toLowerCase())) &&
      asList(s.Resource).some((r) => wildcardMatch(r, resource)),
  );
}

function namesCloudTrail(principal: unknown): boolean {
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object') return false;
  const service = (principal as { Service?: unknown }).Service;
  return asList(service).includes('cloudtrail.amazonaws.com');
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** IAM policy wildcards: `*` any run of characters, `?` one character. */
function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

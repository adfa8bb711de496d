import { ServiceError } from '../model/service-error.ts';
import { assertObjectKey, type ObjectStore, ObjectStoreError } from '../objectstore/index.ts';
import { policyAllowsCloudTrail } from './bucket-policy.ts';

export interface TrailBucketUse {
  arn: string;
  bucket: string;
  prefix?: string;
  accountId: string;
  organizationId?: string;
}

/**
 * The checks CreateTrail and UpdateTrail make on a trail's bucket (facts §3.2). On an S3 endpoint the bucket
 * must exist and its policy must let CloudTrail write, as AWS checks. On the local store, which stands in for
 * S3 and its one namespace of bucket names, a missing bucket is created as a folder and belongs to the trail's
 * account from then on; a bucket another account owns is checked as AWS checks a bucket in another account:
 * only its policy (`bucket-policies/<bucket>.json`) can let CloudTrail write there for this trail.
 * moto mode skips the policy check (`checkPolicy: false`): moto's users create buckets without policies.
 */
export async function prepareTrailBucket(
  store: ObjectStore,
  trail: TrailBucketUse,
  options: { checkPolicy: boolean } = { checkPolicy: true },
): Promise<void> {
  if (store.kind === 'local') {
    if (trail.prefix !== undefined) checkLocalPrefix(trail.prefix, trail.accountId);
    await store.createBucket(trail.bucket, trail.accountId);
    if ((await store.bucketOwner(trail.bucket)) === trail.accountId) return;
  } else if (!(await store.bucketExists(trail.bucket))) {
    throw new ServiceError('S3BucketDoesNotExistException', `S3 bucket ${trail.bucket} does not exist!`);
  }
  if (options.checkPolicy) await checkBucketPolicy(store, trail);
}

/**
 * The local store keeps each key as a file path, so it cannot hold every key S3 can (a backslash, an empty
 * or `..` segment, a leading `/`): a prefix that makes such keys is refused now, not at every delivery.
 */
function checkLocalPrefix(prefix: string, accountId: string): void {
  try {
    assertObjectKey(`${prefix}/AWSLogs/${accountId}/CloudTrail`);
  } catch (error) {
    if (!(error instanceof ObjectStoreError)) throw error;
    throw new ServiceError(
      'InvalidS3PrefixException',
      `S3 key prefix ${JSON.stringify(prefix)} makes keys the local object store cannot hold (${error.message}). Use path segments separated by single slashes, without backslashes, or an S3 endpoint.`,
    );
  }
}

async function checkBucketPolicy(store: ObjectStore, trail: TrailBucketUse): Promise<void> {
  const policy = await store.getBucketPolicy(trail.bucket);
  const logPrefix = `arn:aws:s3:::${trail.bucket}/${trail.prefix ? `${trail.prefix}/` : ''}AWSLogs/`;
  const writable = [`${logPrefix}${trail.accountId}/*`];
  if (trail.organizationId !== undefined) writable.push(`${logPrefix}${trail.organizationId}/*`);
  const context = { trailArn: trail.arn, accountId: trail.accountId };
  if (
    policy === undefined ||
    !policyAllowsCloudTrail(policy, 's3:GetBucketAcl', `arn:aws:s3:::${trail.bucket}`, context) ||
    !writable.some((resource) => policyAllowsCloudTrail(policy, 's3:PutObject', resource, context))
  ) {
    throw new ServiceError(
      'InsufficientS3BucketPolicyException',
      `Incorrect S3 bucket policy is detected for bucket: ${trail.bucket}. The policy must allow the service principal cloudtrail.amazonaws.com s3:GetBucketAcl on arn:aws:s3:::${trail.bucket} and s3:PutObject on ${writable[0]}.`,
    );
  }
}

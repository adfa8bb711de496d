import { ServiceError } from '../model/service-error.ts';
import type { ObjectStore } from '../objectstore/index.ts';
import { policyAllowsCloudTrail, validateBucketName } from '../trails/index.ts';

/**
 * Where StartQuery's `DeliveryS3Uri` (`s3://bucket[/prefix]`, facts §8.2) sends a query's results, and the checks
 * StartQuery makes on it before it accepts the query. Files go under
 * `[prefix/]AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<QueryId>/` (the User Guide's sign file
 * location), the date being the query's completion day (UTC).
 */
export interface DeliveryLocation {
  bucket: string;
  /** Without a trailing slash; empty for none. */
  prefix: string;
}

const URI = /^s3:\/\/([^/]+)(?:\/(.*))?$/s;
/** What follows the prefix in the longest key written: `/AWSLogs/<12>/CloudTrail-Lake/Query/yyyy/mm/dd/<uuid>/result_sign.json`. */
const LONGEST_KEY_TAIL = 112;
const MAX_KEY_BYTES = 1024;

export function parseDeliveryS3Uri(uri: string): DeliveryLocation {
  const m = URI.exec(uri);
  if (m === null) {
    throw new ServiceError(
      'InvalidParameterException',
      `DeliveryS3Uri ${uri} is not an S3 location; write it as s3://bucket or s3://bucket/prefix.`,
    );
  }
  const bucket = m[1] as string;
  validateBucketName(bucket);
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (Buffer.byteLength(prefix) + LONGEST_KEY_TAIL > MAX_KEY_BYTES) {
    throw new ServiceError(
      'InvalidS3PrefixException',
      `The prefix of DeliveryS3Uri is too long: result keys add ${LONGEST_KEY_TAIL} bytes to it and S3 keys hold at most ${MAX_KEY_BYTES}; use a prefix of at most ${MAX_KEY_BYTES - LONGEST_KEY_TAIL} bytes.`,
    );
  }
  return { bucket, prefix };
}

/** The folder (a key prefix ending in `/`) a query's result files and sign file are written to. */
export function queryResultFolder(
  location: DeliveryLocation,
  accountId: string,
  queryId: string,
  completedMs: number,
): string {
  const day = new Date(completedMs).toISOString().slice(0, 10).replaceAll('-', '/');
  const root = location.prefix === '' ? '' : `${location.prefix}/`;
  return `${root}AWSLogs/${accountId}/CloudTrail-Lake/Query/${day}/${queryId}/`;
}

export interface DeliveryBucketUse {
  accountId: string;
  /** The ARNs of the stores the query reads: CloudTrail writes as each (`aws:SourceArn`). */
  storeArns: readonly string[];
  /** S3 endpoints only; moto mode skips it, as for trails (moto's users make buckets without policies). */
  checkPolicy: boolean;
}

/**
 * As for a trail's bucket (src/trails/trail-bucket.ts): the bucket must exist, and unless it is the caller's own
 * bucket of the local store, its policy must let CloudTrail write the results, as the User Guide's Lake policy
 * does. On the local store a bucket another account claimed is checked as AWS checks a bucket in another account.
 */
export async function checkDeliveryBucket(
  objects: ObjectStore,
  location: DeliveryLocation,
  use: DeliveryBucketUse,
): Promise<void> {
  const { bucket } = location;
  if (!(await objects.bucketExists(bucket))) {
    throw new ServiceError(
      'S3BucketDoesNotExistException',
      `S3 bucket ${bucket} does not exist! Create it, or give a DeliveryS3Uri in a bucket you have.`,
    );
  }
  if (objects.kind === 'local') {
    const owner = await objects.bucketOwner(bucket);
    if (owner === undefined || owner === use.accountId) return;
  } else if (!use.checkPolicy) {
    return;
  }
  const policy = await objects.getBucketPolicy(bucket);
  const root = location.prefix === '' ? '' : `${location.prefix}/`;
  const folder = `arn:aws:s3:::${bucket}/${root}AWSLogs/${use.accountId}/*`;
  const allowed = (sourceArn: string) => {
    const context = { trailArn: sourceArn, accountId: use.accountId };
    return (
      policy !== undefined &&
      policyAllowsCloudTrail(policy, 's3:GetBucketAcl', `arn:aws:s3:::${bucket}`, context) &&
      policyAllowsCloudTrail(policy, 's3:PutObject', folder, context)
    );
  };
  if (!use.storeArns.every(allowed)) {
    throw new ServiceError(
      'InsufficientS3BucketPolicyException',
      `Incorrect S3 bucket policy is detected for bucket: ${bucket}. The policy must allow the service principal cloudtrail.amazonaws.com s3:GetBucketAcl on arn:aws:s3:::${bucket} and s3:PutObject on ${folder} for the event data stores the query reads.`,
    );
  }
}

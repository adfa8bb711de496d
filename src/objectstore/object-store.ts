/**
 * Object storage behind one small interface (design.md, Storage): a local folder by default, any
 * S3-compatible endpoint otherwise. Both run `test/helpers/object-store-contract.ts`.
 */

export interface PutObjectInput {
  bucket: string;
  key: string;
  body: Uint8Array;
  contentType?: string;
  contentEncoding?: string;
  /** User metadata (sent as `x-amz-meta-*`); keys are stored lower-case. */
  metadata?: Record<string, string>;
  /**
   * Encrypt at rest under this KMS key: SSE-KMS on an S3 endpoint, envelope encryption on the local store
   * (see encrypting-object-store.ts). Readers get the plaintext either way.
   */
  kmsKeyId?: string;
  /** Canned ACL, e.g. CloudTrail's `bucket-owner-full-control` (S3 endpoints only). */
  acl?: 'bucket-owner-full-control';
}

export interface ObjectHead {
  key: string;
  /** Bytes. */
  size: number;
  lastModified: Date;
  contentType?: string;
  contentEncoding?: string;
  /** User metadata: keys lower-case, without the `x-amz-meta-` prefix. */
  metadata: Record<string, string>;
}

export interface StoredObject extends ObjectHead {
  body: Uint8Array;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ListObjectsOptions {
  prefix?: string;
  /** Only keys after this one (UTF-8 byte order), as ListObjectsV2's StartAfter. */
  startAfter?: string;
  /** Clamped to 1..1000; 1000 by default. */
  maxKeys?: number;
}

export interface ListObjectsResult {
  /** In S3 order: UTF-8 bytes ascending. */
  objects: ListedObject[];
  isTruncated: boolean;
  /** The last key returned, to pass as `startAfter` for the next page; set only when truncated. */
  nextStartAfter?: string;
}

export interface OwnedBucket {
  name: string;
  /** When the account claimed it. */
  createdAt: Date;
}

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  bucketExists(bucket: string): Promise<boolean>;
  /**
   * Idempotent. With `owner` (an account id), also claims the bucket for that account unless an account owns it
   * already: bucket names are one namespace across accounts, as S3's are, and the first account to claim a name
   * keeps it (local store; an S3 endpoint keeps its own owners and ignores `owner`).
   */
  createBucket(bucket: string, owner?: string): Promise<void>;
  /** The account that owns the bucket: on the local store the first to claim it; undefined when none did, and on S3. */
  bucketOwner(bucket: string): Promise<string | undefined>;
  /** The buckets `owner` claimed, by name (local store); an S3 endpoint keeps its owners to itself: none. */
  ownedBuckets(owner: string): Promise<OwnedBucket[]>;
  /** The bucket must exist: no store creates one on write. */
  putObject(input: PutObjectInput): Promise<void>;
  getObject(bucket: string, key: string): Promise<StoredObject>;
  /** `undefined` when the key is missing; NoSuchBucket when the bucket is. */
  headObject(bucket: string, key: string): Promise<ObjectHead | undefined>;
  /** Idempotent. */
  deleteObject(bucket: string, key: string): Promise<void>;
  listObjects(bucket: string, options?: ListObjectsOptions): Promise<ListObjectsResult>;
  /** The policy JSON text, `undefined` when the bucket has none. */
  getBucketPolicy(bucket: string): Promise<string | undefined>;
  close(): void;
}

/**
 * What reading delivered files takes (validate-logs, read-logs): a whole store, or the CLI's bare S3 reader
 * (s3-object-reader.ts), which loads and answers faster than the SDK-backed store.
 */
export type ObjectReader = Pick<ObjectStore, 'getObject' | 'listObjects' | 'close'>;

export type ObjectStoreErrorCode =
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'InvalidObjectKey'
  | 'InvalidBucketName'
  | 'AccessDenied'
  | 'StoreUnavailable';

export class ObjectStoreError extends Error {
  override readonly name = 'ObjectStoreError';
  readonly code: ObjectStoreErrorCode;

  constructor(code: ObjectStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isObjectStoreError(error: unknown, code?: ObjectStoreErrorCode): error is ObjectStoreError {
  return error instanceof ObjectStoreError && (code === undefined || error.code === code);
}

export const MAX_KEYS = 1000;
export const MAX_KEY_BYTES = 1024;

/** S3's own limit on keys, which every store enforces: 1 to 1024 bytes of UTF-8. */
export function assertKeySize(key: string): void {
  if (key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new ObjectStoreError('InvalidObjectKey', `Object key must be 1 to ${MAX_KEY_BYTES} bytes of UTF-8`);
  }
}

// S3's general purpose bucket rules, minus the reserved prefixes and suffixes:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d+\.\d+\.\d+\.\d+$/;

export function assertBucketName(bucket: string): void {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..') || IP_ADDRESS.test(bucket)) {
    throw new ObjectStoreError('InvalidBucketName', `Invalid bucket name: ${JSON.stringify(bucket)}`);
  }
}

/** S3 caps a page at 1000 keys whatever the caller asks for. */
export function pageSize(maxKeys: number | undefined): number {
  return Math.min(Math.max(Math.trunc(maxKeys ?? MAX_KEYS), 1), MAX_KEYS);
}

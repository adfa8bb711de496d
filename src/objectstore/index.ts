import { createLocalStore } from './local-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';

export { assertObjectKey, LocalObjectStore, type LocalObjectStoreOptions } from './local-object-store.ts';
export {
  isObjectStoreError,
  type ListedObject,
  type ListObjectsOptions,
  type ListObjectsResult,
  type ObjectHead,
  type ObjectReader,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreErrorCode,
  type OwnedBucket,
  type PutObjectInput,
  type StoredObject,
} from './object-store.ts';
export { S3ObjectReader } from './s3-object-reader.ts';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';

export interface ObjectStoreConfig {
  dataDir: string;
  /** An S3-compatible endpoint; without it objects live in `<dataDir>/buckets`. */
  s3?: S3ObjectStoreOptions;
}

/** The local store encrypts KMS-keyed objects itself; an S3 endpoint does it with SSE-KMS. */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  if (config.s3 !== undefined) return new S3ObjectStore(config.s3);
  return createLocalStore(config.dataDir);
}

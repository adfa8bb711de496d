import { LocalObjectStore } from './local-object-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';

export { LocalObjectStore, type LocalObjectStoreOptions } from './local-object-store.ts';
export {
  isObjectStoreError,
  type ListedObject,
  type ListObjectsOptions,
  type ListObjectsResult,
  type ObjectHead,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreErrorCode,
  type PutObjectInput,
  type StoredObject,
} from './object-store.ts';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';

export interface ObjectStoreConfig {
  dataDir: string;
  /** An S3-compatible endpoint; without it objects live in `<dataDir>/buckets`. */
  s3?: S3ObjectStoreOptions;
}

export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  return config.s3 === undefined ? new LocalObjectStore({ dataDir: config.dataDir }) : new S3ObjectStore(config.s3);
}

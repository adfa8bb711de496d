import type { ObjectStoreConfig } from './index.ts';
import type { ObjectReader } from './object-store.ts';

/**
 * The object store's entry for the CLI's readers (validate-logs, read-logs), beside index.ts: importing it
 * loads neither the AWS SDK nor the local store, and opening a reader loads only the one it opens. An S3
 * endpoint is read with the bare S3ObjectReader, not the SDK-backed store.
 */
export {
  isObjectStoreError,
  type ListObjectsResult,
  type ObjectReader,
  ObjectStoreError,
  type StoredObject,
} from './object-store.ts';

export async function openObjectReader(config: ObjectStoreConfig): Promise<ObjectReader> {
  if (config.s3 !== undefined) {
    const { S3ObjectReader } = await import('./s3-object-reader.ts');
    return new S3ObjectReader(config.s3);
  }
  const { createLocalStore } = await import('./local-store.ts');
  return createLocalStore(config.dataDir);
}

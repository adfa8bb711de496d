import { join } from 'node:path';
import { EncryptingObjectStore } from './encrypting-object-store.ts';
import { LocalObjectStore } from './local-object-store.ts';
import type { ObjectStore } from './object-store.ts';

/** The local store as opentrail uses it: `<dataDir>/buckets`, KMS-keyed objects encrypted by the store itself. */
export function createLocalStore(dataDir: string): ObjectStore {
  return new EncryptingObjectStore(new LocalObjectStore({ dataDir }), join(dataDir, 'secrets', 'kms-master-keys.json'));
}

import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import type { AwsJsonClient } from '../client/aws-json-client.ts';
import { HOUR_MS, isoSeconds } from '../model/clock.ts';
import { isObjectStoreError, type ObjectReader } from '../objectstore/readers.ts';
import { type DigestContent, type DigestLogFile, verifyDigest } from './digest-file.ts';

/**
 * The checks of one digest file and of one log file it lists, in the order and with the reasons of `aws
 * cloudtrail validate-logs` (facts §5.7 step 4). A missing object is a finding; any other store failure
 * (access denied, endpoint down) throws, and the whole validation stops, as the CLI's does.
 */
export type DigestExamination =
  | { status: 'missing' }
  | { status: 'invalid'; reason: string }
  | {
      status: 'valid';
      content: DigestContent;
      /** The uncompressed bytes: what is signed, and hashed by the next digest. */
      bytes: Buffer;
      signature: string;
      startMs: number;
      endMs: number;
    };

/** A Region's public keys by fingerprint (DER PKCS#1); for backfill digests fetched around their generation time. */
export interface PublicKeyLookup {
  find(fingerprint: string, backfillGeneratedAt: string | undefined): Promise<Uint8Array | undefined>;
}

/** What stops a validation (no such trail, no public keys…), as the CLI's fatal errors do. */
export class ValidateLogsError extends Error {
  override readonly name = 'ValidateLogsError';
}

const REQUIRED_KEYS = [
  'digestPublicKeyFingerprint',
  'digestS3Bucket',
  'digestS3Object',
  'previousDigestSignature',
  'digestEndTime',
  'digestStartTime',
] as const;

const gunzipAsync = promisify(gunzip);

export async function examineDigest(
  store: ObjectReader,
  bucket: string,
  key: string,
  backfill: boolean,
  keys: PublicKeyLookup,
  homeRegion: string,
): Promise<DigestExamination> {
  const object = await getOrMissing(store, bucket, key);
  if (object === undefined) return { status: 'missing' };
  let bytes: Buffer;
  let content: Record<string, unknown>;
  try {
    bytes = await gunzipAsync(object.body);
    content = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { status: 'invalid', reason: 'invalid format' };
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    return { status: 'invalid', reason: 'invalid format' };
  }
  const { signature, 'signature-algorithm': algorithm } = object.metadata;
  if (signature === undefined || algorithm === undefined) {
    return { status: 'invalid', reason: 'signature verification failed' };
  }
  const generatedAt = object.metadata['backfill-generation-timestamp'];
  if (backfill && generatedAt === undefined) return { status: 'invalid', reason: 'invalid format' };
  // Unlike the CLI (which would crash on it), a digest without a `logFiles` array is reported as malformed.
  if (REQUIRED_KEYS.some((k) => !(k in content)) || !Array.isArray(content['logFiles'])) {
    return { status: 'invalid', reason: 'invalid format' };
  }
  if (content['digestS3Bucket'] !== bucket || content['digestS3Object'] !== key) {
    return { status: 'invalid', reason: 'has been moved from its original location' };
  }
  const fingerprint = String(content['digestPublicKeyFingerprint']);
  const der = await keys.find(fingerprint, generatedAt);
  if (der === undefined) {
    return { status: 'invalid', reason: `public key not found in region ${homeRegion} for fingerprint ${fingerprint}` };
  }
  const digest = content as unknown as DigestContent;
  let verified: boolean;
  try {
    verified = verifyDigest(digest, bytes, signature, der);
  } catch {
    return { status: 'invalid', reason: `Unable to load PKCS #1 key with fingerprint ${fingerprint}` };
  }
  if (!verified) return { status: 'invalid', reason: 'signature verification failed' };
  const startMs = parseTime(content['digestStartTime']);
  const endMs = parseTime(content['digestEndTime']);
  if (Number.isNaN(endMs)) return { status: 'invalid', reason: unparsable(content['digestEndTime']) };
  if (Number.isNaN(startMs)) return { status: 'invalid', reason: unparsable(content['digestStartTime']) };
  return { status: 'valid', content: digest, bytes, signature, startMs, endMs };
}

/** ListPublicKeys once over a range (facts §5.6); none at all stops the validation, as in the CLI. */
export async function loadPublicKeys(
  cloudtrail: AwsJsonClient,
  startMs: number,
  endMs: number,
): Promise<Map<string, Uint8Array>> {
  // The JSON protocol's times are epoch seconds, its blobs base64.
  const { PublicKeyList = [] } = await cloudtrail.call<{ PublicKeyList?: { Fingerprint?: string; Value?: string }[] }>(
    'ListPublicKeys',
    { StartTime: startMs / 1000, EndTime: endMs / 1000 },
  );
  const keys = new Map<string, Uint8Array>();
  for (const k of PublicKeyList) if (k.Fingerprint && k.Value) keys.set(k.Fingerprint, Buffer.from(k.Value, 'base64'));
  if (keys.size === 0) {
    throw new ValidateLogsError(`No public keys found between ${isoSeconds(startMs)} and ${isoSeconds(endMs)}`);
  }
  return keys;
}

/** Backfill digests carry no range: their keys are asked for around their generation time (facts §5.6). */
export function backfillKeyLookup(cloudtrail: AwsJsonClient): PublicKeyLookup {
  const known = new Map<string, Uint8Array>();
  return {
    async find(fingerprint, generatedAt) {
      const atMs = generatedAt === undefined ? Number.NaN : Date.parse(generatedAt);
      if (!known.has(fingerprint) && !Number.isNaN(atMs)) {
        for (const [fp, der] of await loadPublicKeys(cloudtrail, atMs - HOUR_MS, atMs + HOUR_MS)) known.set(fp, der);
      }
      return known.get(fingerprint);
    },
  };
}

export interface LogFileCheck {
  bucket: string;
  key: string;
  /** Absent when the file is valid. */
  problem?: string;
}

/** SHA-256 of the uncompressed file against the digest's `hashValue` (facts §5.4). */
export async function checkLogFile(store: ObjectReader, entry: DigestLogFile): Promise<LogFileCheck> {
  const bucket = String(entry.s3Bucket);
  const key = String(entry.s3Object);
  if (typeof entry.s3Bucket !== 'string' || typeof entry.s3Object !== 'string' || entry.s3Object === '') {
    return { bucket, key, problem: 'invalid format' };
  }
  const object = await getOrMissing(store, bucket, key);
  if (object === undefined) return { bucket, key, problem: 'not found' };
  let hash: string;
  try {
    hash = await gunzipSha256(object.body);
  } catch {
    return { bucket, key, problem: 'invalid format' };
  }
  if (hash !== entry.hashValue) return { bucket, key, problem: "hash value doesn't match" };
  return { bucket, key };
}

async function getOrMissing(store: ObjectReader, bucket: string, key: string) {
  try {
    return await store.getObject(bucket, key);
  } catch (error) {
    // A key the store refuses outright (too long, `..` on the local store) cannot exist there either.
    if (isObjectStoreError(error, 'NoSuchKey') || isObjectStoreError(error, 'InvalidObjectKey')) return undefined;
    throw error;
  }
}

/** Hashes while it inflates: a log file's uncompressed bytes (up to ~10× its 50 MB) are never held at once. */
function gunzipSha256(body: Uint8Array): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    // 256 KB chunks: zlib's default 16 KB makes a callback per 16 KB, a third of the time on small files; 1 MB
    // ones cost more to allocate than they save. Plain events: a pipeline's iterators doubled the time.
    const inflate = createGunzip({ chunkSize: 1 << 18 });
    inflate.on('data', (chunk: Buffer) => hash.update(chunk));
    inflate.on('end', () => resolve(hash.digest('hex')));
    inflate.on('error', reject);
    inflate.end(body);
  });
}

function parseTime(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}

function unparsable(value: unknown): string {
  return `Unable to parse date value: ${String(value)}`;
}

import { createHash, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { isoSeconds } from '../model/clock.ts';
import { signSha256WithRsa, verifySha256WithRsa } from './rsa-signature.ts';

/**
 * The digest file (facts §5.4), its object keys and those of log files (facts §5.1), and its signature
 * (facts §5.5), as pure functions. `aws cloudtrail validate-logs` is the reader they are written for.
 */
export const DIGEST_SIGNATURE_ALGORITHM = 'SHA256withRSA';
export const HASH_ALGORITHM = 'SHA-256';

export interface DigestLogFile {
  s3Bucket: string;
  s3Object: string;
  /** Lowercase hex SHA-256 of the uncompressed log file. */
  hashValue: string;
  hashAlgorithm: typeof HASH_ALGORITHM;
  newestEventTime: string;
  oldestEventTime: string;
}

/** A digest's fields, in the order AWS writes them. Times are `YYYY-MM-DDTHH:MM:SSZ` (`digestTime`). */
export interface DigestContent {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  digestPublicKeyFingerprint: string;
  digestSignatureAlgorithm: typeof DIGEST_SIGNATURE_ALGORITHM;
  /** Null when `logFiles` is empty. */
  newestEventTime: string | null;
  oldestEventTime: string | null;
  /** The five `previous*` fields are null in a chain's first digest. */
  previousDigestS3Bucket: string | null;
  previousDigestS3Object: string | null;
  /** Lowercase hex SHA-256 of the previous digest's uncompressed bytes. */
  previousDigestHashValue: string | null;
  previousDigestHashAlgorithm: typeof HASH_ALGORITHM | null;
  /** The previous digest's signature, as in its `signature` metadata. */
  previousDigestSignature: string | null;
  logFiles: DigestLogFile[];
}

/** Where a trail's files go: `[prefix/]AWSLogs/[o-id/]<account>/`. */
export interface KeyRoot {
  prefix?: string | undefined;
  organizationId?: string | undefined;
  accountId: string;
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the digest's time format. */
export function digestTime(ms: number): string {
  return isoSeconds(ms);
}

/**
 * `…/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<homeRegion>_<YYYYMMDDTHHMMSSZ>.json.gz`.
 * The CLI slices the timestamp out of the last 24 characters by fixed offsets (facts §0.7), so nothing may
 * follow it but `.json.gz`.
 */
export function digestKey(
  input: KeyRoot & { region: string; trailName: string; homeRegion: string; endMs: number },
): string {
  const { accountId, region, trailName, homeRegion, endMs } = input;
  const t = utcParts(endMs);
  const name = `${accountId}_CloudTrail-Digest_${region}_${trailName}_${homeRegion}_${t.compactSeconds}.json.gz`;
  return `${keyRoot(input)}CloudTrail-Digest/${region}/${t.folders}/${name}`;
}

/** `…/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique16>.json.gz`. */
export function logFileKey(input: KeyRoot & { region: string; timeMs: number; unique16: string }): string {
  const { accountId, region, timeMs, unique16 } = input;
  if (!/^[A-Za-z0-9]{16}$/.test(unique16)) throw new RangeError(`unique16 must be 16 alphanumerics, not ${unique16}`);
  const t = utcParts(timeMs);
  const name = `${accountId}_CloudTrail_${region}_${t.compactMinutes}_${unique16}.json.gz`;
  return `${keyRoot(input)}CloudTrail/${region}/${t.folders}/${name}`;
}

function keyRoot({ prefix, organizationId, accountId }: KeyRoot): string {
  // An empty prefix adds nothing, not a leading `/` (facts §5.1).
  const head = prefix ? `${prefix}/` : '';
  const org = organizationId ? `${organizationId}/` : '';
  return `${head}AWSLogs/${org}${accountId}/`;
}

function utcParts(ms: number): { folders: string; compactMinutes: string; compactSeconds: string } {
  const iso = new Date(ms).toISOString(); // 2026-01-01T00:00:00.000Z
  const [y, mo, d, h, mi, s] = [
    iso.slice(0, 4),
    iso.slice(5, 7),
    iso.slice(8, 10),
    iso.slice(11, 13),
    iso.slice(14, 16),
    iso.slice(17, 19),
  ];
  return {
    folders: `${y}/${mo}/${d}`,
    compactMinutes: `${y}${mo}${d}T${h}${mi}Z`,
    compactSeconds: `${y}${mo}${d}T${h}${mi}${s}Z`,
  };
}

/**
 * The digest's uncompressed bytes: compact UTF-8 JSON with the fields in AWS's order, whatever order the
 * caller built them in. These are the bytes that are signed, gzipped, and hashed by the next digest.
 */
export function serializeDigest(content: DigestContent): Buffer {
  const ordered: DigestContent = {
    awsAccountId: content.awsAccountId,
    digestStartTime: content.digestStartTime,
    digestEndTime: content.digestEndTime,
    digestS3Bucket: content.digestS3Bucket,
    digestS3Object: content.digestS3Object,
    digestPublicKeyFingerprint: content.digestPublicKeyFingerprint,
    digestSignatureAlgorithm: content.digestSignatureAlgorithm,
    newestEventTime: content.newestEventTime,
    oldestEventTime: content.oldestEventTime,
    previousDigestS3Bucket: content.previousDigestS3Bucket,
    previousDigestS3Object: content.previousDigestS3Object,
    previousDigestHashValue: content.previousDigestHashValue,
    previousDigestHashAlgorithm: content.previousDigestHashAlgorithm,
    previousDigestSignature: content.previousDigestSignature,
    logFiles: content.logFiles.map((f) => ({
      s3Bucket: f.s3Bucket,
      s3Object: f.s3Object,
      hashValue: f.hashValue,
      hashAlgorithm: f.hashAlgorithm,
      newestEventTime: f.newestEventTime,
      oldestEventTime: f.oldestEventTime,
    })),
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

/** Lowercase hex SHA-256: log files' `hashValue`, `previousDigestHashValue`, and the signed string's hash. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The string that is signed (facts §5.5): end time, `bucket/key`, the hash of the uncompressed digest and
 * the previous signature, a null one written as the text `null`, joined by `\n`.
 */
export function signatureString(content: DigestContent, uncompressedBytes: Uint8Array): string {
  return [
    content.digestEndTime,
    `${content.digestS3Bucket}/${content.digestS3Object}`,
    sha256Hex(uncompressedBytes),
    content.previousDigestSignature ?? 'null',
  ].join('\n');
}

/** RSA PKCS#1 v1.5 with SHA-256 (`SHA256withRSA`), lowercase hex, as AWS's `signature` metadata. */
export function signDigest(content: DigestContent, uncompressedBytes: Uint8Array, privateKey: KeyObject): string {
  return signSha256WithRsa(signatureString(content, uncompressedBytes), privateKey);
}

/**
 * Checks a digest's signature with a PKCS#1 DER public key, as ListPublicKeys hands it out. A signature
 * that is not hex is false; a key that is not PKCS#1 DER throws (the CLI's "Unable to load PKCS #1 key").
 */
export function verifyDigest(
  content: DigestContent,
  uncompressedBytes: Uint8Array,
  signatureHex: string,
  publicKeyDerBytes: Uint8Array,
): boolean {
  return verifySha256WithRsa(signatureString(content, uncompressedBytes), signatureHex, publicKeyDerBytes);
}

/** The S3 user metadata a digest object carries (`x-amz-meta-signature`, `x-amz-meta-signature-algorithm`). */
export function digestMetadata(signatureHex: string): {
  signature: string;
  'signature-algorithm': typeof DIGEST_SIGNATURE_ALGORITHM;
} {
  return { signature: signatureHex, 'signature-algorithm': DIGEST_SIGNATURE_ALGORITHM };
}

/** One gzip member: the CLI's gunzip reads only the first (facts §0.8). */
export function gzipOneMember(bytes: Uint8Array): Buffer {
  return gzipSync(bytes);
}

import type { KeyObject } from 'node:crypto';
import { isoSeconds } from '../model/clock.ts';
import { DIGEST_SIGNATURE_ALGORITHM, HASH_ALGORITHM, signSha256WithRsa } from '../trails/index.ts';

/**
 * `result_sign.json` (facts §5.8): each result file's name and the SHA-256 of its compressed bytes, signed with
 * the Region's key pair that signs digests, so ListPublicKeys (around queryCompleteTime) finds the key to check it.
 */
export interface ResultFileHash {
  fileName: string;
  /** Lowercase hex SHA-256 of the file as stored (gzipped). */
  fileHashValue: string;
}

/** What is signed: the files' hash values joined by single spaces, in `files` order. */
export function resultSignString(files: readonly ResultFileHash[]): string {
  return files.map((f) => f.fileHashValue).join(' ');
}

export function resultSignFile(input: {
  region: string;
  files: readonly ResultFileHash[];
  queryCompleteMs: number;
  key: { fingerprint: string; privateKey: KeyObject };
}): string {
  // Members in the order of the User Guide's example.
  return JSON.stringify({
    version: '1.0',
    region: input.region,
    files: input.files.map((f) => ({ fileHashValue: f.fileHashValue, fileName: f.fileName })),
    hashAlgorithm: HASH_ALGORITHM,
    signatureAlgorithm: DIGEST_SIGNATURE_ALGORITHM,
    queryCompleteTime: isoSeconds(input.queryCompleteMs),
    hashSignature: signSha256WithRsa(resultSignString(input.files), input.key.privateKey),
    publicKeyFingerprint: input.key.fingerprint,
  });
}

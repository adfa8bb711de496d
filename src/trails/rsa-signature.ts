import { constants, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * `SHA256withRSA` (RSA PKCS#1 v1.5 over SHA-256) as CloudTrail writes it: lowercase hex. Digest files
 * (facts §5.5) and Lake's query-result sign files (facts §5.8) are both signed with a Region key pair.
 */
export function signSha256WithRsa(text: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(text, 'utf8'), { key: privateKey, padding: constants.RSA_PKCS1_PADDING }).toString(
    'hex',
  );
}

/**
 * Checks a signature with a PKCS#1 DER public key, as ListPublicKeys hands it out. A signature that is not hex
 * is false; a key that is not PKCS#1 DER throws (the CLI's "Unable to load PKCS #1 key").
 */
export function verifySha256WithRsa(text: string, signatureHex: string, publicKeyDerBytes: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeyDerBytes), format: 'der', type: 'pkcs1' });
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(signatureHex)) return false;
  return verify(
    'sha256',
    Buffer.from(text, 'utf8'),
    { key, padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(signatureHex, 'hex'),
  );
}

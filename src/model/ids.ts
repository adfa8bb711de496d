import { randomBytes, randomUUID } from 'node:crypto';

/** Sources of identifiers; injectable so tests can make them predictable (style.md item 3). */
export interface IdSource {
  /** A GUID in CloudTrail's eventID / requestID form. */
  uuid(): string;
  /** `n` characters drawn uniformly from `alphabet`. */
  randomString(n: number, alphabet: string): string;
}

export const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const DIGITS = '0123456789';

export const cryptoIds: IdSource = {
  uuid: () => randomUUID(),
  randomString(n, alphabet) {
    // Rejection sampling keeps the distribution uniform for any alphabet size.
    const limit = 256 - (256 % alphabet.length);
    let out = '';
    while (out.length < n) {
      for (const byte of randomBytes(n * 2)) {
        if (byte < limit) out += alphabet[byte % alphabet.length];
        if (out.length === n) break;
      }
    }
    return out;
  },
};

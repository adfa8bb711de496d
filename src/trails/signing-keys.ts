import { createHash, createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readSecretFile, writeSecretFile } from '../identity/index.ts';
import { type Clock, DAY_MS } from '../model/clock.ts';
import { SerialQueue } from '../model/serial-queue.ts';

/**
 * The Region signing keys: their private halves sign digest files (facts §5.5), their public halves are
 * what ListPublicKeys lists (facts §5.6).
 *
 * States, per Region: no key yet → one current key → rotated: several keys, the newest current. A key is
 * valid 30 days (AWS's 2592000 s); once the current key has less than 7 days left, the next `current()`
 * makes a new key valid from then, so validity ranges overlap, as AWS's do. Old keys are never dropped:
 * their public halves validate old digests.
 *
 * Durable: every key is in `signing-keys.json` (0600, replaced atomically) before `current()` hands it
 * out, so nothing is ever signed with a key a restart would forget. One file holds every Region, so its
 * writes are serialised; a Region's key generation is shared by concurrent callers, so two first uses of a
 * Region make one key. The trade-off: the whole file is rewritten per new key, which happens once a month
 * per Region.
 */
export interface SigningKey {
  fingerprint: string;
  privateKey: KeyObject;
}

/** One PublicKey of a ListPublicKeys answer, in wire names; `Value` is the base64 text the wire carries. */
export interface PublicKey {
  Value: string;
  ValidityStartTime: Date;
  ValidityEndTime: Date;
  Fingerprint: string;
}

interface StoredKey {
  fingerprint: string;
  /** PKCS#8 (or PKCS#1) PEM. */
  privateKeyPem: string;
  /** DER `RSAPublicKey` (PKCS#1), base64. */
  publicKeyDerBase64: string;
  validityStartMs: number;
  validityEndMs: number;
}

interface SigningKeysFile {
  regions: Record<string, StoredKey[]>;
}

export const KEY_VALIDITY_MS = 2_592_000 * 1000;
export const ROTATE_BEFORE_END_MS = 7 * DAY_MS;
const RSA_MODULUS_BITS = 2048;

const generateRsaKeyPair = promisify(generateKeyPair);

/** DER `RSAPublicKey` (PKCS#1) of a key: what `validate-logs` loads (facts §0.1). Private keys give their public half. */
export function publicKeyDer(key: KeyObject): Buffer {
  return key.export({ type: 'pkcs1', format: 'der' });
}

/** Lowercase hex MD5 of the PKCS#1 DER bytes (facts §0.2). */
export function keyFingerprint(publicKeyDerBytes: Uint8Array): string {
  return createHash('md5').update(publicKeyDerBytes).digest('hex');
}

export class SigningKeys {
  readonly #path: string;
  readonly #clock: Clock;
  readonly #regions: Map<string, StoredKey[]>;
  readonly #privateKeys = new Map<string, KeyObject>();
  /** A Region's key being made; concurrent callers share it. */
  readonly #making = new Map<string, Promise<StoredKey>>();
  readonly #writes = new SerialQueue();

  private constructor(path: string, clock: Clock, regions: Map<string, StoredKey[]>) {
    this.#path = path;
    this.#clock = clock;
    this.#regions = regions;
  }

  /** Opens (or starts) `<dir>/signing-keys.json`; a file that is not a key file fails the start. */
  static async open(dir: string, clock: Clock): Promise<SigningKeys> {
    const path = join(dir, 'signing-keys.json');
    const file = await readSecretFile<SigningKeysFile>(path);
    if (file !== undefined && (typeof file.regions !== 'object' || file.regions === null)) {
      throw new Error(`${path} is not a signing key file (no "regions" object); restore it from a backup`);
    }
    return new SigningKeys(path, clock, new Map(Object.entries(file?.regions ?? {})));
  }

  /** The key to sign with now, made on a Region's first use and when the current one nears its end. */
  async current(region: string): Promise<SigningKey> {
    const key = this.#usable(region) ?? (await this.#make(region));
    return { fingerprint: key.fingerprint, privateKey: this.#privateKey(key) };
  }

  /** Every key of the Region whose validity overlaps [startMs, endMs], oldest first. */
  publicKeys(region: string, startMs: number, endMs: number): PublicKey[] {
    return (this.#regions.get(region) ?? [])
      .filter((k) => k.validityStartMs <= endMs && k.validityEndMs >= startMs)
      .sort((a, b) => a.validityStartMs - b.validityStartMs)
      .map((k) => ({
        Value: k.publicKeyDerBase64,
        ValidityStartTime: new Date(k.validityStartMs),
        ValidityEndTime: new Date(k.validityEndMs),
        Fingerprint: k.fingerprint,
      }));
  }

  privateKeyFor(region: string, fingerprint: string): KeyObject | undefined {
    const key = this.#regions.get(region)?.find((k) => k.fingerprint === fingerprint);
    return key === undefined ? undefined : this.#privateKey(key);
  }

  /** The newest key valid now, unless it has less than 7 days left. */
  #usable(region: string): StoredKey | undefined {
    const nowMs = this.#clock.now();
    let newest: StoredKey | undefined;
    for (const k of this.#regions.get(region) ?? []) {
      if (k.validityStartMs > nowMs || k.validityEndMs < nowMs) continue;
      if (newest === undefined || k.validityStartMs > newest.validityStartMs) newest = k;
    }
    return newest !== undefined && newest.validityEndMs - nowMs >= ROTATE_BEFORE_END_MS ? newest : undefined;
  }

  #make(region: string): Promise<StoredKey> {
    const making = this.#making.get(region);
    if (making !== undefined) return making;
    const made = this.#generate(region).finally(() => this.#making.delete(region));
    this.#making.set(region, made);
    return made;
  }

  async #generate(region: string): Promise<StoredKey> {
    const { privateKey, publicKey } = await generateRsaKeyPair('rsa', { modulusLength: RSA_MODULUS_BITS });
    const der = publicKeyDer(publicKey);
    // Whole seconds, as the wire carries validity times and as AWS's keys show them.
    const startMs = Math.floor(this.#clock.now() / 1000) * 1000;
    const key: StoredKey = {
      fingerprint: keyFingerprint(der),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyDerBase64: der.toString('base64'),
      validityStartMs: startMs,
      validityEndMs: startMs + KEY_VALIDITY_MS,
    };
    await this.#writes.run(async () => {
      const keys = [...(this.#regions.get(region) ?? []), key];
      const regions = Object.fromEntries([...this.#regions, [region, keys]]);
      await writeSecretFile(this.#path, { regions } satisfies SigningKeysFile);
      // Only once it is on disk does the key become usable.
      this.#regions.set(region, keys);
    });
    this.#privateKeys.set(key.fingerprint, privateKey);
    return key;
  }

  #privateKey(key: StoredKey): KeyObject {
    let privateKey = this.#privateKeys.get(key.fingerprint);
    if (privateKey === undefined) {
      privateKey = createPrivateKey(key.privateKeyPem);
      this.#privateKeys.set(key.fingerprint, privateKey);
    }
    return privateKey;
  }
}

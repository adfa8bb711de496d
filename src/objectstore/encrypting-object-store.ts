import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readSecretFile, writeSecretFile } from '../identity/index.ts';
import type { ObjectHead, ObjectStore, OwnedBucket, PutObjectInput, StoredObject } from './object-store.ts';

/**
 * KMS-style encryption at rest for the local store: each object encrypted with a fresh AES-256-GCM data
 * key, the data key wrapped (AES-256-GCM) under a master key per KMS key id, kept in the data directory in a
 * 0600 file. The envelope travels in a reserved user-metadata entry; readers through this store get the
 * plaintext and never see the entry. Without the master key file the bytes on disk cannot be read.
 */
export const ENVELOPE_METADATA = 'opentrail-envelope';

interface Envelope {
  /** The KMS key id the data key is wrapped under. */
  k: string;
  /** Wrapped data key, its IV and tag; the body's IV and tag. All base64. */
  wk: string;
  wiv: string;
  wtag: string;
  iv: string;
  tag: string;
}

export class EncryptingObjectStore implements ObjectStore {
  readonly #inner: ObjectStore;
  readonly #keysPath: string;
  #masterKeys: Promise<Record<string, string>> | undefined;

  constructor(inner: ObjectStore, keysPath: string) {
    this.#inner = inner;
    this.#keysPath = keysPath;
  }

  get kind(): ObjectStore['kind'] {
    return this.#inner.kind;
  }

  bucketExists(bucket: string): Promise<boolean> {
    return this.#inner.bucketExists(bucket);
  }

  createBucket(bucket: string, owner?: string): Promise<void> {
    return this.#inner.createBucket(bucket, owner);
  }

  bucketOwner(bucket: string): Promise<string | undefined> {
    return this.#inner.bucketOwner(bucket);
  }

  ownedBuckets(owner: string): Promise<OwnedBucket[]> {
    return this.#inner.ownedBuckets(owner);
  }

  async putObject(input: PutObjectInput): Promise<void> {
    const { kmsKeyId, ...plain } = input;
    if (kmsKeyId === undefined) return this.#inner.putObject(plain);
    const master = await this.#masterKey(kmsKeyId, true);
    const dataKey = randomBytes(32);
    const wrapped = seal(master, dataKey);
    const body = seal(dataKey, input.body);
    const envelope: Envelope = {
      k: kmsKeyId,
      wk: wrapped.ciphertext.toString('base64'),
      wiv: wrapped.iv.toString('base64'),
      wtag: wrapped.tag.toString('base64'),
      iv: body.iv.toString('base64'),
      tag: body.tag.toString('base64'),
    };
    return this.#inner.putObject({
      ...plain,
      body: body.ciphertext,
      metadata: { ...plain.metadata, [ENVELOPE_METADATA]: Buffer.from(JSON.stringify(envelope)).toString('base64url') },
    });
  }

  async getObject(bucket: string, key: string): Promise<StoredObject> {
    const stored = await this.#inner.getObject(bucket, key);
    const envelope = readEnvelope(stored.metadata);
    if (envelope === undefined) return stored;
    const master = await this.#masterKey(envelope.k, false);
    const dataKey = open(master, Buffer.from(envelope.wk, 'base64'), envelope.wiv, envelope.wtag);
    const body = open(dataKey, Buffer.from(stored.body), envelope.iv, envelope.tag);
    return { ...stored, body, size: body.length, metadata: withoutEnvelope(stored.metadata) };
  }

  async headObject(bucket: string, key: string): Promise<ObjectHead | undefined> {
    const head = await this.#inner.headObject(bucket, key);
    if (head === undefined || readEnvelope(head.metadata) === undefined) return head;
    // GCM adds no padding: the plaintext is as long as the ciphertext.
    return { ...head, metadata: withoutEnvelope(head.metadata) };
  }

  deleteObject(bucket: string, key: string): Promise<void> {
    return this.#inner.deleteObject(bucket, key);
  }

  listObjects(...args: Parameters<ObjectStore['listObjects']>): ReturnType<ObjectStore['listObjects']> {
    return this.#inner.listObjects(...args);
  }

  getBucketPolicy(bucket: string): Promise<string | undefined> {
    return this.#inner.getBucketPolicy(bucket);
  }

  close(): void {
    this.#inner.close();
  }

  async #masterKey(kmsKeyId: string, create: boolean): Promise<Buffer> {
    this.#masterKeys ??= readSecretFile<Record<string, string>>(this.#keysPath).then((k) => k ?? {});
    const keys = await this.#masterKeys;
    const existing = keys[kmsKeyId];
    if (existing !== undefined) return Buffer.from(existing, 'base64');
    if (!create)
      throw new Error(`the master key for ${kmsKeyId} is not in ${this.#keysPath}: the object cannot be decrypted`);
    const key = randomBytes(32);
    const next = { ...keys, [kmsKeyId]: key.toString('base64') };
    await writeSecretFile(this.#keysPath, next);
    this.#masterKeys = Promise.resolve(next);
    return key;
  }
}

function seal(key: Buffer, plaintext: Uint8Array): { ciphertext: Buffer; iv: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, iv, tag: cipher.getAuthTag() };
}

function open(key: Buffer, ciphertext: Buffer, iv: string, tag: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function readEnvelope(metadata: Record<string, string>): Envelope | undefined {
  const text = metadata[ENVELOPE_METADATA];
  return text === undefined ? undefined : (JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Envelope);
}

function withoutEnvelope(metadata: Record<string, string>): Record<string, string> {
  const { [ENVELOPE_METADATA]: _envelope, ...rest } = metadata;
  return rest;
}

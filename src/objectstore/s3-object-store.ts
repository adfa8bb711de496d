/**
 * Object storage on any S3-compatible endpoint (AWS, MinIO, moto), addressed path-style so bucket names need no
 * DNS. The SDK's errors become ObjectStoreError codes through s3-errors.ts, as the CLI's reader's do.
 */
import type {
  BucketLocationConstraint,
  CreateBucketCommandInput,
  ListObjectsV2CommandInput,
  PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { type FirstUse, firstUse } from '../model/first-use.ts';
import {
  assertBucketName,
  assertKeySize,
  type ListedObject,
  type ListObjectsOptions,
  type ListObjectsResult,
  type ObjectHead,
  type ObjectStore,
  ObjectStoreError,
  type OwnedBucket,
  type PutObjectInput,
  pageSize,
  type StoredObject,
} from './object-store.ts';
import { storeError } from './s3-errors.ts';

export interface S3ObjectStoreOptions {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The fields HeadObject and GetObject share. */
interface ObjectHeaders {
  ContentLength?: number | undefined;
  LastModified?: Date | undefined;
  ContentType?: string | undefined;
  ContentEncoding?: string | undefined;
  Metadata?: Record<string, string> | undefined;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3';
  readonly #region: string;
  /**
   * The SDK and the client, loaded on first use: importing the SDK's S3 client costs ~0.1 s and ~20 MB, which
   * every server paid at start (this module is imported with the object stores), most of them with local ones.
   */
  readonly #s3: FirstUse<{ sdk: S3Sdk; client: S3Client }>;

  constructor(options: S3ObjectStoreOptions) {
    const { endpoint, region, accessKeyId, secretAccessKey } = options;
    this.#region = region;
    this.#s3 = firstUse(
      async () => {
        const sdk = await import('@aws-sdk/client-s3');
        const credentials = { accessKeyId, secretAccessKey };
        return { sdk, client: new sdk.S3Client({ endpoint, region, forcePathStyle: true, credentials }) };
      },
      ({ client }) => client.destroy(),
    );
  }

  async bucketExists(bucket: string): Promise<boolean> {
    assertBucketName(bucket);
    try {
      const { sdk, client } = await this.#s3.get();
      await client.send(new sdk.HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      throw toStoreError(error, 'bucket', bucket);
    }
  }

  async createBucket(bucket: string): Promise<void> {
    assertBucketName(bucket);
    const input: CreateBucketCommandInput = { Bucket: bucket };
    // us-east-1 is the one region that rejects an explicit location constraint.
    if (this.#region !== 'us-east-1') {
      input.CreateBucketConfiguration = { LocationConstraint: this.#region as BucketLocationConstraint };
    }
    try {
      const { sdk, client } = await this.#s3.get();
      await client.send(new sdk.CreateBucketCommand(input));
    } catch (error) {
      if (errorName(error) === 'BucketAlreadyOwnedByYou') return;
      throw toStoreError(error, 'bucket', bucket);
    }
  }

  /** The endpoint keeps who owns its buckets (and refuses other accounts itself); nothing to answer here. */
  async bucketOwner(bucket: string): Promise<string | undefined> {
    if (!(await this.bucketExists(bucket))) throw noSuchBucket(bucket);
    return undefined;
  }

  /** See bucketOwner: no bucket is known here to belong to an account. */
  async ownedBuckets(_owner: string): Promise<OwnedBucket[]> {
    return [];
  }

  async putObject(input: PutObjectInput): Promise<void> {
    assertBucketName(input.bucket);
    assertKeySize(input.key);
    const command: PutObjectCommandInput = { Bucket: input.bucket, Key: input.key, Body: input.body };
    if (input.contentType !== undefined) command.ContentType = input.contentType;
    if (input.contentEncoding !== undefined) command.ContentEncoding = input.contentEncoding;
    if (input.metadata !== undefined) command.Metadata = input.metadata;
    if (input.kmsKeyId !== undefined) {
      command.ServerSideEncryption = 'aws:kms';
      command.SSEKMSKeyId = input.kmsKeyId;
    }
    if (input.acl !== undefined) command.ACL = input.acl;
    try {
      const { sdk, client } = await this.#s3.get();
      await client.send(new sdk.PutObjectCommand(command));
    } catch (error) {
      throw toStoreError(error, 'bucket', input.bucket);
    }
  }

  async getObject(bucket: string, key: string): Promise<StoredObject> {
    assertBucketName(bucket);
    assertKeySize(key);
    try {
      const { sdk, client } = await this.#s3.get();
      const output = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = (await output.Body?.transformToByteArray()) ?? new Uint8Array();
      return { ...toHead(key, output), size: body.byteLength, body };
    } catch (error) {
      throw toStoreError(error, 'key', key);
    }
  }

  async headObject(bucket: string, key: string): Promise<ObjectHead | undefined> {
    assertBucketName(bucket);
    assertKeySize(key);
    try {
      const { sdk, client } = await this.#s3.get();
      return toHead(key, await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key })));
    } catch (error) {
      if (httpStatus(error) !== 404) throw toStoreError(error, 'key', key);
    }
    // A HEAD answer has no body to say which is missing; ask about the bucket only on a miss.
    if (!(await this.bucketExists(bucket))) throw noSuchBucket(bucket);
    return undefined;
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    assertBucketName(bucket);
    assertKeySize(key);
    try {
      const { sdk, client } = await this.#s3.get();
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      throw toStoreError(error, 'bucket', bucket);
    }
  }

  async listObjects(bucket: string, options: ListObjectsOptions = {}): Promise<ListObjectsResult> {
    assertBucketName(bucket);
    const input: ListObjectsV2CommandInput = { Bucket: bucket, MaxKeys: pageSize(options.maxKeys) };
    if (options.prefix !== undefined) input.Prefix = options.prefix;
    if (options.startAfter !== undefined) input.StartAfter = options.startAfter;
    try {
      const { sdk, client } = await this.#s3.get();
      const output = await client.send(new sdk.ListObjectsV2Command(input));
      const objects: ListedObject[] = (output.Contents ?? []).map((o) => ({
        key: o.Key ?? '',
        size: o.Size ?? 0,
        lastModified: o.LastModified ?? new Date(0),
      }));
      const last = objects[objects.length - 1];
      if (output.IsTruncated === true && last !== undefined) {
        return { objects, isTruncated: true, nextStartAfter: last.key };
      }
      return { objects, isTruncated: false };
    } catch (error) {
      throw toStoreError(error, 'bucket', bucket);
    }
  }

  async getBucketPolicy(bucket: string): Promise<string | undefined> {
    assertBucketName(bucket);
    try {
      const { sdk, client } = await this.#s3.get();
      return (await client.send(new sdk.GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
    } catch (error) {
      if (errorName(error) === 'NoSuchBucketPolicy') return undefined;
      throw toStoreError(error, 'bucket', bucket);
    }
  }

  close(): void {
    this.#s3.close();
  }
}

function toHead(key: string, output: ObjectHeaders): ObjectHead {
  const head: ObjectHead = {
    key,
    size: output.ContentLength ?? 0,
    lastModified: output.LastModified ?? new Date(0),
    metadata: output.Metadata ?? {},
  };
  if (output.ContentType !== undefined) head.contentType = output.ContentType;
  if (output.ContentEncoding !== undefined) head.contentEncoding = output.ContentEncoding;
  return head;
}

/** An SDK error as a store error: its name is S3's error code, its `$metadata` the answer's status. */
function toStoreError(error: unknown, subject: 'bucket' | 'key', name: string): ObjectStoreError {
  const message = error instanceof Error ? error.message : String(error);
  return storeError({ code: errorName(error), status: httpStatus(error), message, cause: error }, subject, name);
}

function noSuchBucket(bucket: string): ObjectStoreError {
  return new ObjectStoreError('NoSuchBucket', `No such bucket: ${bucket}`);
}

function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** The SDK puts the answer's status on `$metadata`; errors raised before any answer have none. */
function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

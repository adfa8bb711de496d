import { ServiceError } from '../model/service-error.ts';
import {
  isObjectStoreError,
  type ListObjectsResult,
  type ObjectHead,
  type ObjectStore,
  type ObjectStoreError,
} from '../objectstore/index.ts';
import { escapeXml } from './protocol-errors.ts';

/**
 * The reads of S3 that `aws cloudtrail validate-logs` and `aws s3 ls`/`cp` make (ListBuckets included), answered from the local object
 * store when no S3 upstream is configured (`AWS_ENDPOINT_URL_S3=http://127.0.0.1:4790`): with the local store,
 * the default, the AWS CLI could otherwise not read the files it validates. Only the bucket's owning account
 * may read it, as a bucket without a policy on S3; anything but these reads is NotImplemented. The caller has
 * already been verified (SigV4) by the recording proxy, which records each read as it records a proxied call.
 */
export const LOCAL_S3_READS = new Set([
  'ListBuckets',
  'GetBucketLocation',
  'HeadBucket',
  'ListObjects',
  'ListObjectsV2',
  'HeadObject',
  'GetObject',
]);

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface LocalS3Read {
  operation: string | undefined;
  labels: Record<string, string>;
  query: URLSearchParams;
  accountId: string;
  requestId: string;
  /** The request's Range header (GetObject). */
  range?: string | undefined;
}

export interface LocalS3Answer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

/** The answer to a read; what S3 would refuse is thrown as a ServiceError (NoSuchKey, AccessDenied, …). */
export async function answerLocalS3Read(objects: ObjectStore, read: LocalS3Read): Promise<LocalS3Answer> {
  try {
    return await answer(objects, read);
  } catch (error) {
    throw isObjectStoreError(error) ? asS3Error(error, read) : error;
  }
}

/** S3's NoSuchKey names the key, and NoSuchBucket the bucket, in members of their own. */
function noSuchKey(key: string): ServiceError {
  return new ServiceError('NoSuchKey', 'The specified key does not exist.', { detail: { Key: key } });
}

function noSuchBucket(bucket: string): ServiceError {
  return new ServiceError('NoSuchBucket', 'The specified bucket does not exist', { detail: { BucketName: bucket } });
}

/**
 * The store's refusals in S3's words. A key or bucket name the local store cannot hold (`..`, a backslash)
 * names nothing it could hold, as S3 would say of a key it does not have.
 */
function asS3Error(error: ObjectStoreError, read: LocalS3Read): ServiceError | ObjectStoreError {
  switch (error.code) {
    case 'InvalidObjectKey':
    case 'NoSuchKey':
      return noSuchKey(read.labels['Key'] ?? '');
    case 'InvalidBucketName':
    case 'NoSuchBucket':
      return noSuchBucket(read.labels['Bucket'] ?? '');
    case 'AccessDenied':
      return new ServiceError('AccessDenied', 'Access Denied');
    default:
      return error;
  }
}

async function answer(objects: ObjectStore, read: LocalS3Read): Promise<LocalS3Answer> {
  const { operation, labels, query } = read;
  if (operation === undefined || !LOCAL_S3_READS.has(operation)) {
    throw new ServiceError(
      'NotImplemented',
      `opentrail serves only reads of its local buckets over S3 (${[...LOCAL_S3_READS].join(', ')}); start it with an S3 endpoint (--s3-endpoint) or an upstream (--upstream) for ${operation ?? 'this request'}.`,
    );
  }
  if (operation === 'ListBuckets') {
    return xml({ 'x-amz-request-id': read.requestId }, await bucketList(objects, read.accountId));
  }
  const bucket = labels['Bucket'] ?? '';
  if (!(await objects.bucketExists(bucket))) {
    throw noSuchBucket(bucket);
  }
  if ((await objects.bucketOwner(bucket)) !== read.accountId) {
    throw new ServiceError('AccessDenied', `Access Denied: bucket ${bucket} belongs to another account.`);
  }
  const headers = { 'x-amz-request-id': read.requestId };
  switch (operation) {
    case 'GetBucketLocation':
      return xml(headers, `<LocationConstraint xmlns="${XMLNS}"></LocationConstraint>`);
    case 'HeadBucket':
      return { status: 200, headers };
    case 'ListObjects':
    case 'ListObjectsV2':
      return xml(headers, await listing(objects, bucket, query, operation === 'ListObjectsV2'));
    default: {
      const key = labels['Key'] ?? '';
      if (operation === 'HeadObject') {
        const head = await objects.headObject(bucket, key);
        if (head === undefined) throw noSuchKey(key);
        return { status: 200, headers: objectHeaders(headers, head, head.size) };
      }
      // One read: the object comes with its head. A view of its bytes, not a copy.
      const object = await objects.getObject(bucket, key).catch((error: unknown) => {
        throw isObjectStoreError(error, 'NoSuchKey') ? noSuchKey(key) : error;
      });
      const body = Buffer.from(object.body.buffer, object.body.byteOffset, object.body.byteLength);
      const whole = objectHeaders(headers, object, body.length);
      const range = read.range === undefined ? undefined : byteRange(read.range, body.length);
      if (range === undefined) return { status: 200, headers: whole, body };
      const [first, last] = range;
      return {
        status: 206,
        headers: {
          ...whole,
          'content-length': String(last - first + 1),
          'content-range': `bytes ${first}-${last}/${body.length}`,
        },
        body: body.subarray(first, last + 1),
      };
    }
  }
}

/**
 * ListBuckets: the caller's own buckets, as `aws s3 ls` lists them. The owner's ID is the account's: S3 would
 * give a canonical user ID, which this store has no notion of.
 */
async function bucketList(objects: ObjectStore, accountId: string): Promise<string> {
  const buckets = (await objects.ownedBuckets(accountId))
    .map(
      (b) =>
        `<Bucket><Name>${escapeXml(b.name)}</Name><CreationDate>${b.createdAt.toISOString()}</CreationDate></Bucket>`,
    )
    .join('');
  return `<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>${accountId}</ID></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`;
}

/** What S3 says of an object in HeadObject's and GetObject's headers; `length` is the bytes sent whole. */
function objectHeaders(base: Record<string, string>, head: ObjectHead, length: number): Record<string, string> {
  return {
    ...base,
    'content-type': head.contentType ?? 'binary/octet-stream',
    'content-length': String(length),
    'accept-ranges': 'bytes',
    'last-modified': head.lastModified.toUTCString(),
    ...(head.contentEncoding !== undefined ? { 'content-encoding': head.contentEncoding } : {}),
    ...Object.fromEntries(Object.entries(head.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])),
  };
}

/**
 * The first and last byte a `Range: bytes=…` header asks for (`a-b`, `a-`, `-n`), as S3 reads it: a header it
 * cannot read, or several ranges, is ignored (the whole object is sent); a range that starts past the end is
 * InvalidRange. The AWS CLI downloads large objects in ranged parts.
 */
function byteRange(header: string, size: number): [number, number] | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  const [from, to] = [m[1] as string, m[2] as string];
  const [first, last] =
    from === ''
      ? [Math.max(0, size - Number(to)), size - 1]
      : [Number(from), to === '' ? size - 1 : Math.min(Number(to), size - 1)];
  if (from !== '' && to !== '' && Number(to) < first) return undefined;
  if (first >= size || (from === '' && Number(to) === 0)) {
    throw new ServiceError('InvalidRange', `The requested range is not satisfiable: the object is ${size} bytes.`);
  }
  return [first, last];
}

/** ListObjects (Marker) or ListObjectsV2 (StartAfter, ContinuationToken), without a delimiter. */
async function listing(objects: ObjectStore, bucket: string, query: URLSearchParams, v2: boolean): Promise<string> {
  if (query.get('delimiter')) {
    throw new ServiceError(
      'NotImplemented',
      'Listing local buckets with a delimiter is not supported; list without one.',
    );
  }
  const encoding = query.get('encoding-type');
  if (encoding !== null && encoding !== 'url') {
    throw new ServiceError('InvalidArgument', `Invalid Encoding Method specified in Request: ${encoding}`);
  }
  const maxKeysText = query.get('max-keys') ?? '1000';
  if (!/^\d+$/.test(maxKeysText)) {
    throw new ServiceError('InvalidArgument', `max-keys must be a whole number from 0; got ${maxKeysText}.`);
  }
  const maxKeys = Math.min(1000, Number(maxKeysText));
  const prefix = query.get('prefix') ?? '';
  const token = v2 ? query.get('continuation-token') : null;
  const after = v2 ? (token !== null ? tokenKey(token) : query.get('start-after')) : query.get('marker');
  const page: ListObjectsResult =
    maxKeys === 0
      ? { objects: [], isTruncated: false }
      : await objects.listObjects(bucket, {
          ...(prefix !== '' ? { prefix } : {}),
          ...(after ? { startAfter: after } : {}),
          maxKeys,
        });
  // What the SDKs ask for: keys URL-encoded, so any key survives XML. Otherwise one XML cannot hold is refused.
  const text = (value: string) => {
    if (encoding === 'url') return escapeXml(encodeURIComponent(value).replaceAll('%2F', '/'));
    if (NOT_XML.test(value)) {
      throw new ServiceError(
        'InvalidArgument',
        'A key, prefix or marker holds a character XML cannot carry; list with encoding-type=url.',
      );
    }
    return escapeXml(value);
  };
  const contents = page.objects
    .map(
      (o) =>
        `<Contents><Key>${text(o.key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  const common = `<Name>${escapeXml(bucket)}</Name><Prefix>${text(prefix)}</Prefix><MaxKeys>${maxKeys}</MaxKeys>${
    encoding === 'url' ? '<EncodingType>url</EncodingType>' : ''
  }<IsTruncated>${page.isTruncated}</IsTruncated>`;
  const next = page.isTruncated ? page.nextStartAfter : undefined;
  if (v2) {
    return `<ListBucketResult xmlns="${XMLNS}">${common}<KeyCount>${page.objects.length}</KeyCount>${
      token !== null ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : ''
    }${next !== undefined ? `<NextContinuationToken>${continuationToken(next)}</NextContinuationToken>` : ''}${
      query.get('start-after') !== null && token === null ? `<StartAfter>${text(after ?? '')}</StartAfter>` : ''
    }${contents}</ListBucketResult>`;
  }
  return `<ListBucketResult xmlns="${XMLNS}">${common}<Marker>${text(after ?? '')}</Marker>${
    next !== undefined ? `<NextMarker>${text(next)}</NextMarker>` : ''
  }${contents}</ListBucketResult>`;
}

/** Characters XML 1.0 cannot carry, even escaped. */
const NOT_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** A ListObjectsV2 continuation token: the last key returned, which the caller must not need to read. */
function continuationToken(key: string): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

function tokenKey(token: string): string {
  const text = Buffer.from(token, 'base64url').toString();
  if (!text.startsWith('k:') || continuationToken(text.slice(2)) !== token) {
    throw new ServiceError('InvalidArgument', 'The continuation token provided is incorrect.');
  }
  return text.slice(2);
}

function xml(headers: Record<string, string>, document: string): LocalS3Answer {
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${document}`);
  return {
    status: 200,
    headers: { ...headers, 'content-type': 'application/xml', 'content-length': String(body.length) },
    body,
  };
}

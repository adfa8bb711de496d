import { type HttpAnswer, SignedHttpClient, uriEncode } from '../client/signed-http-client.ts';
import {
  assertBucketName,
  assertKeySize,
  type ListedObject,
  type ListObjectsOptions,
  type ListObjectsResult,
  type ObjectReader,
  type ObjectStoreError,
  pageSize,
  type StoredObject,
} from './object-store.ts';
import { storeError } from './s3-errors.ts';
import type { S3ObjectStoreOptions } from './s3-object-store.ts';

/**
 * GetObject and ListObjectsV2 on an S3-compatible endpoint, path-style, without the AWS SDK: what the CLI's
 * readers need, answered as S3ObjectStore answers them (same objects, same error codes and messages). The
 * SDK's S3 client took longer to load than validate-logs takes to check a day of files, and its middleware
 * cost more per GetObject than gunzipping and hashing the file.
 */
export class S3ObjectReader implements ObjectReader {
  readonly #http: SignedHttpClient;

  constructor(options: S3ObjectStoreOptions) {
    this.#http = new SignedHttpClient({
      endpoint: options.endpoint,
      region: options.region,
      service: 's3',
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    });
  }

  async getObject(bucket: string, key: string): Promise<StoredObject> {
    assertBucketName(bucket);
    assertKeySize(key);
    const path = `/${bucket}/${key.split('/').map(uriEncode).join('/')}`;
    const answer = await this.#send({ method: 'GET', path }, 'key', key);
    const { headers, body } = answer;
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice(11)] = value;
    }
    const object: StoredObject = {
      key,
      size: body.byteLength,
      lastModified: headers['last-modified'] ? new Date(headers['last-modified']) : new Date(0),
      metadata,
      body,
    };
    if (headers['content-type'] !== undefined) object.contentType = headers['content-type'];
    if (typeof headers['content-encoding'] === 'string') object.contentEncoding = headers['content-encoding'];
    return object;
  }

  async listObjects(bucket: string, options: ListObjectsOptions = {}): Promise<ListObjectsResult> {
    assertBucketName(bucket);
    const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(pageSize(options.maxKeys)) };
    if (options.prefix !== undefined) query['prefix'] = options.prefix;
    if (options.startAfter !== undefined) query['start-after'] = options.startAfter;
    const xml = (await this.#send({ method: 'GET', path: `/${bucket}`, query }, 'bucket', bucket)).body.toString();
    // A flat, fixed document: each <Contents> holds one object's fields, and no value holds a raw `<`.
    const objects: ListedObject[] = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, entry = '']) => ({
      key: element(entry, 'Key') ?? '',
      size: Number(element(entry, 'Size') ?? 0),
      lastModified: new Date(element(entry, 'LastModified') ?? 0),
    }));
    const last = objects[objects.length - 1];
    if (element(xml, 'IsTruncated') === 'true' && last !== undefined) {
      return { objects, isTruncated: true, nextStartAfter: last.key };
    }
    return { objects, isTruncated: false };
  }

  close(): void {
    this.#http.close();
  }

  /** A 2xx answer, or the store error S3's answer (or the lack of one) stands for. */
  async #send(
    request: Parameters<SignedHttpClient['send']>[0],
    subject: 'bucket' | 'key',
    name: string,
  ): Promise<HttpAnswer> {
    let answer: HttpAnswer;
    try {
      answer = await this.#http.send(request);
    } catch (error) {
      throw storeError(
        { code: undefined, status: undefined, message: (error as Error).message, cause: error },
        subject,
        name,
      );
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw answerError(answer, subject, name);
  }
}

/** As the SDK words it: S3's `<Code>` names the error, its `<Message>` (else "UnknownError") says it. */
function answerError({ status, body }: HttpAnswer, subject: 'bucket' | 'key', name: string): ObjectStoreError {
  const xml = body.toString();
  return storeError(
    { code: element(xml, 'Code'), status, message: element(xml, 'Message') ?? 'UnknownError' },
    subject,
    name,
  );
}

/** The text of the first `<tag>` in `xml`, its entities decoded. */
function element(xml: string, tag: string): string | undefined {
  const start = xml.indexOf(`<${tag}>`);
  if (start === -1) return undefined;
  const end = xml.indexOf(`</${tag}>`, start);
  return end === -1 ? undefined : decodeEntities(xml.slice(start + tag.length + 2, end));
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) =>
    entity.startsWith('#x')
      ? String.fromCodePoint(Number.parseInt(entity.slice(2), 16))
      : entity.startsWith('#')
        ? String.fromCodePoint(Number(entity.slice(1)))
        : (ENTITIES[entity] ?? ''),
  );
}

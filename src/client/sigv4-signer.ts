import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4, header form, for the CLI's requests: what the AWS SDK's signer (@smithy/signature-v4)
 * computes, and test/client/sigv4-signer.test.ts checks that it computes the same. The SDK's took longer to load
 * and to sign validate-logs' few hundred GETs (~45 ms) than this takes to do both.
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  /** As sent: already URI-encoded. */
  path: string;
  /** Names and values unencoded. */
  query: Record<string, string>;
  /** Names lower-case. */
  headers: Record<string, string>;
  body?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Headers the SDK leaves unsigned: hop-by-hop ones, and those a proxy may change on the way. */
const UNSIGNED = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);
const EMPTY_SHA256 = createHash('sha256').digest('hex');

export class SigV4Signer {
  readonly #credentials: AwsCredentials;
  readonly #region: string;
  readonly #service: string;
  /** S3 signs the path as sent; every other service signs it encoded once more. */
  readonly #escapePath: boolean;
  /** The signing key of the last day signed on: it changes once a day. */
  #key: { day: string; key: Buffer } | undefined;

  constructor(credentials: AwsCredentials, region: string, service: string) {
    this.#credentials = credentials;
    this.#region = region;
    this.#service = service;
    this.#escapePath = service !== 's3';
  }

  /** The request's headers with `x-amz-date`, `x-amz-content-sha256`, the session token and `authorization`. */
  sign(request: RequestToSign, at: Date): Record<string, string> {
    const amzDate = at.toISOString().replace(/[-:]|\.\d{3}/g, '');
    const day = amzDate.slice(0, 8);
    const payloadHash = request.body === undefined ? EMPTY_SHA256 : sha256(request.body);
    const headers: Record<string, string> = {
      ...request.headers,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
      ...(this.#credentials.sessionToken ? { 'x-amz-security-token': this.#credentials.sessionToken } : {}),
    };
    const names = Object.keys(headers)
      .filter((n) => !UNSIGNED.has(n) && !/^(?:proxy|sec)-/.test(n))
      .sort();
    const signedHeaders = names.join(';');
    const canonical = [
      request.method,
      this.#escapePath ? escapedPath(request.path) : request.path,
      canonicalQuery(request.query),
      names.map((n) => `${n}:${canonicalValue(headers[n] as string)}\n`).join(''),
      signedHeaders,
      payloadHash,
    ].join('\n');
    const scope = `${day}/${this.#region}/${this.#service}/aws4_request`;
    const signature = hmac(this.#signingKey(day), `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256(canonical)}`);
    headers['authorization'] =
      `${ALGORITHM} Credential=${this.#credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature.toString('hex')}`;
    return headers;
  }

  #signingKey(day: string): Buffer {
    if (this.#key?.day !== day) {
      let key = hmac(`AWS4${this.#credentials.secretAccessKey}`, day);
      for (const part of [this.#region, this.#service, 'aws4_request']) key = hmac(key, part);
      this.#key = { day, key };
    }
    return this.#key.key;
  }
}

/** RFC 3986 encoding, as SigV4 encodes query names and values (and paths outside S3). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Each name and value encoded, sorted by encoded name: the sent query must be encoded the same way. */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Line breaks and runs of blanks become one space; one space trimmed at each end. */
function canonicalValue(value: string): string {
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** Outside S3 the path is normalised (no empty, `.` or `..` segments) and encoded once more, slashes kept. */
function escapedPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${trailing}`;
  return uriEncode(normalised).replace(/%2F/g, '/');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

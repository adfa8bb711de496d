import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../model/node-sha256.ts';

/**
 * SigV4-signed requests over node's http with a keep-alive agent, retried as the AWS SDK retries them: the
 * CLI's readers (validate-logs, read-logs) make hundreds of GETs, and the SDK clients cost ~150 ms to load and
 * over a millisecond of middleware per request, most of what validate-logs spent. Answers of any status are
 * returned; only the transport throws.
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedHttpClientOptions {
  endpoint: string;
  region: string;
  /** The signing name: `s3`, `cloudtrail`. */
  service: string;
  credentials: AwsCredentials;
  /** The time to sign with (epoch ms); the system clock's by default. Tests on a manual clock pass theirs. */
  now?: () => number;
}

export interface SignedRequest {
  method: 'GET' | 'POST';
  /** Already URI-encoded, after the endpoint's own path. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The SDK's standard retry mode: three attempts, exponential backoff with full jitter from 100 ms. */
const MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 100;
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
]);
/** Throttling answers that are not 429s (CloudTrail's is a 400). */
const THROTTLING = /Throttl|SlowDown|RequestLimitExceeded|TooManyRequests/;

export class SignedHttpClient {
  readonly #url: URL;
  readonly #basePath: string;
  readonly #signer: SignatureV4;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #now: () => number;

  constructor(options: SignedHttpClientOptions) {
    this.#now = options.now ?? Date.now;
    this.#url = new URL(options.endpoint);
    this.#basePath = this.#url.pathname.replace(/\/+$/, '');
    this.#signer = new SignatureV4({
      credentials: options.credentials,
      region: options.region,
      service: options.service,
      sha256: NodeSha256,
      // S3 signs the path as sent; other services sign it encoded once more.
      uriEscapePath: options.service !== 's3',
    });
    const https = this.#url.protocol === 'https:';
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? httpsRequest : httpRequest;
  }

  async send(request: SignedRequest): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.#once(request);
        if (attempt >= MAX_ATTEMPTS || !isRetryable(answer)) return answer;
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !TRANSIENT_CODES.has((error as { code?: string }).code ?? '')) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BASE_DELAY_MS * 2 ** attempt));
    }
  }

  close(): void {
    this.#agent.destroy();
  }

  async #once(request: SignedRequest): Promise<HttpAnswer> {
    const url = this.#url;
    const path = `${this.#basePath}${request.path}`;
    const signed = await this.#signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path,
        query: request.query ?? {},
        headers: {
          ...request.headers,
          host: url.host,
          // What the calls are recorded with (CloudTrail's `userAgent`), as the SDK's carried its name.
          'user-agent': 'opentrail-cli',
          ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}),
        },
        ...(request.body !== undefined ? { body: request.body } : {}),
      },
      { signingDate: new Date(this.#now()) },
    );
    const query = queryString(request.query ?? {});
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = this.#request(
        {
          agent: this.#agent,
          method: request.method,
          // node wants an IPv6 address without the URL's brackets.
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port,
          path: query === '' ? path : `${path}?${query}`,
          headers: signed.headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(request.body);
    });
  }
}

function isRetryable({ status, body }: HttpAnswer): boolean {
  return status === 429 || status >= 500 || (status >= 400 && THROTTLING.test(body.subarray(0, 512).toString()));
}

/** RFC 3986 encoding, as SigV4's canonical query encodes names and values: the sent query must match it. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryString(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
    .join('&');
}

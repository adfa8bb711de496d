import { type ClientRequest, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Clock } from './clock.ts';
import { NodeSha256 } from './node-sha256.ts';
import type { Credentials } from './recorder-options.ts';

/**
 * A SigV4-signed client for opentrail's ingest API (`OpenTrailIngest_20261101.PutRecords`, AWS JSON 1.1,
 * signing name `opentrail`). One keep-alive connection; its socket never keeps the host process alive.
 */
export const INGEST_TARGET = 'OpenTrailIngest_20261101.PutRecords';
const SIGNING_NAME = 'opentrail';

export interface IngestAnswer {
  successful: number;
  failed: { index: number; errorCode: string; errorMessage: string }[];
}

/** A batch opentrail did not take: no answer, or an error answer for the whole batch. */
export class IngestFailure extends Error {
  override readonly name = 'IngestFailure';
  readonly status: number | undefined;
  readonly errorType: string | undefined;

  constructor(message: string, status?: number, errorType?: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.errorType = errorType;
  }
}

export interface IngestClientOptions {
  endpoint: URL;
  region: string;
  credentials: Credentials | (() => Promise<Credentials>);
  clock: Clock;
  requestTimeoutMs: number;
}

export class IngestClient {
  readonly #o: IngestClientOptions;
  readonly #signer: SignatureV4;
  readonly #agent: HttpAgent;
  readonly #inFlight = new Set<ClientRequest>();
  /** While above zero (a flush or close is waiting), batches on the wire keep the process alive. */
  #holds = 0;

  constructor(options: IngestClientOptions) {
    this.#o = options;
    this.#signer = new SignatureV4({
      credentials: options.credentials,
      region: options.region,
      service: SIGNING_NAME,
      sha256: NodeSha256,
    });
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    this.#agent = options.endpoint.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  /** Sends the records (newline-ended JSON texts, as the spool holds them) as one `{"Records":[…]}` batch. */
  async putRecords(chunks: readonly Buffer[]): Promise<IngestAnswer> {
    const { status, text } = await this.#post(batchBody(chunks));
    const parsed = parseJson(text);
    if (status !== 200) {
      const type = typeof parsed?.['__type'] === 'string' ? parsed['__type'] : undefined;
      const message = typeof parsed?.['message'] === 'string' ? parsed['message'] : text.slice(0, 200);
      throw new IngestFailure(`opentrail answered ${status} ${type ?? ''}: ${message}`.trim(), status, type);
    }
    const failed = Array.isArray(parsed?.['Failed']) ? (parsed['Failed'] as Record<string, unknown>[]) : [];
    const successful = Array.isArray(parsed?.['Successful']) ? parsed['Successful'].length : 0;
    return {
      successful,
      failed: failed.map((f) => ({
        index: Number(f['Index']),
        errorCode: String(f['ErrorCode']),
        errorMessage: String(f['ErrorMessage']),
      })),
    };
  }

  /**
   * Batches sent in the background never keep the host alive (they are still in the spool if it ends), but
   * one a flush or close waits for must: until the returned function is called, they do.
   */
  holdProcess(): () => void {
    this.#holds += 1;
    for (const req of this.#inFlight) req.socket?.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds === 0) for (const req of this.#inFlight) req.socket?.unref();
    };
  }

  /** Ends the connection and any batch on the wire (it stays in the spool). */
  close(): void {
    for (const req of this.#inFlight) req.destroy(new Error('The recorder was closed.'));
    this.#agent.destroy();
  }

  async #post(body: Buffer): Promise<{ status: number; text: string }> {
    const url = this.#o.endpoint;
    const path = url.pathname === '' ? '/' : url.pathname;
    const signed = await this.#signer.sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path,
        query: {},
        headers: {
          host: url.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': INGEST_TARGET,
        },
        body,
      },
      { signingDate: new Date(this.#o.clock.now()) },
    );
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          method: 'POST',
          // node wants an IPv6 address without the URL's brackets.
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port,
          path,
          headers: { ...signed.headers, 'content-length': String(body.length) },
          agent: this.#agent,
          timeout: this.#o.requestTimeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      this.#inFlight.add(req);
      req.on('close', () => this.#inFlight.delete(req));
      req.on('socket', (socket) => (this.#holds > 0 ? socket.ref() : socket.unref()));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#o.requestTimeoutMs} ms`)));
      req.on('error', (error) =>
        reject(new IngestFailure(`opentrail is unreachable: ${error.message}`, undefined, undefined, { cause: error })),
      );
      req.end(body);
    });
  }
}

const BODY_HEAD = Buffer.from('{"Records":[');

/**
 * `{"Records":[r1,r2,…]}` from the records' newline-ended lines, in one buffer (signed and sent as it is):
 * each newline becomes the comma between two records, the last the closing bracket. A record's JSON text
 * holds no newline of its own (JSON escapes it), so each newline ends a record.
 */
export function batchBody(chunks: readonly Buffer[]): Buffer {
  let length = BODY_HEAD.length + 1;
  for (const chunk of chunks) length += chunk.length;
  const body = Buffer.allocUnsafe(length);
  let at = BODY_HEAD.copy(body, 0);
  for (const chunk of chunks) at += chunk.copy(body, at);
  for (let i = body.indexOf(0x0a, BODY_HEAD.length); i !== -1 && i < at; i = body.indexOf(0x0a, i + 1)) body[i] = 0x2c;
  body[at - 1] = 0x5d; // ]
  body[at] = 0x7d; // }
  return body;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

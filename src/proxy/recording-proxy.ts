import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import { queryMembers } from '../api/http-types.ts';
import {
  PRESIGN_PARAMS,
  parseAuthorization,
  UNSIGNED_PAYLOADS,
  verifyPresignedSigV4,
  verifySigV4,
} from '../api/sigv4.ts';
import { buildApiCallRecord } from '../capture/api-call-record.ts';
import type { Capture } from '../capture/capture.ts';
import type { Caller } from '../identity/index.ts';
import type { Principal } from '../identity/principal.ts';
import { recordedAddress } from '../model/client-address.ts';
import type { Clock } from '../model/clock.ts';
import type { IdSource } from '../model/ids.ts';
import { isKnownRegion } from '../model/regions.ts';
import { ServiceError } from '../model/service-error.ts';
import type { ObjectStore } from '../objectstore/index.ts';
import { KeySchemas } from './dynamodb-members.ts';
import { header, type IdentifiedOperation, identifyOperation } from './identify-operation.ts';
import { answerLocalS3Read, type LocalS3Answer } from './local-s3-reads.ts';
import type { OperationTable, ProxiedService } from './operation-table.ts';
import { proxyErrorAnswer, upstreamError } from './protocol-errors.ts';
import { proxiedResources } from './proxied-resources.ts';
import { requestParameters, responseElements } from './recorded-members.ts';
import type { Upstream, Upstreams } from './upstream.ts';

/**
 * The recording proxy: a request signed for a service opentrail does not serve itself (told by its SigV4
 * credential scope) is checked against opentrail's identities, forwarded to that service's upstream signed
 * with the upstream's credentials, and answered with the upstream's answer, unchanged and streamed. Each
 * call becomes one CloudTrail record (management or data event), appended to the log before the answer's
 * last byte leaves, so a caller that got its answer has a record that survives a crash.
 *
 * Bodies: S3 object uploads (and any S3 body over 1 MB or of unknown length) stream through, their SHA-256
 * checked as they pass when one was signed; a mismatch aborts the upstream request before it completes.
 * Other bodies are small API documents, read whole (they name the operation and its parameters).
 * Answers stream back; up to 1 MB of a write's answer, or of an error, is kept for the record.
 */
export interface RecordingProxyDeps {
  table: OperationTable;
  upstreams: Upstreams;
  identity: { resolveAccessKey(id: string): { secretAccessKey: string; principal: Principal } | undefined };
  clock: Clock;
  ids: IdSource;
  capture: Capture;
  logger: Logger;
  /** Signing names opentrail answers itself; requests for them are never proxied. */
  ownServices: ReadonlySet<string>;
  /** X-Amz-Target prefixes of opentrail's own APIs: such a request is opentrail's whatever its scope says. */
  ownTargetPrefixes: ReadonlySet<string>;
  /** Largest body read whole (bytes). */
  bodyLimit: number;
  /** The local object store, whose buckets answer S3 reads when no S3 upstream is configured. */
  localObjects?: ObjectStore;
  /** Paths opentrail itself answers to an unsigned GET (`/health`). */
  ownGetPaths: ReadonlySet<string>;
}

const STREAMED_OPERATIONS = new Set(['PutObject', 'UploadPart']);
const STREAM_ABOVE_BYTES = 1024 * 1024;
const KEPT_ANSWER_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

interface Scope {
  service: string;
  region: string;
  /** Signed in the query string (a presigned URL), not in the Authorization header. */
  presigned: boolean;
  /** Signed with Signature Version 2, which is refused. */
  v2?: true;
}

/** What the proxy reads of a request before it verifies it. */
interface IncomingRequest {
  method: string;
  /** The path as sent (what the caller signed). */
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
  /** The path upstream: path-style for S3, whatever style the caller used. */
  path: string;
  host: string;
  found: IdentifiedOperation | undefined;
  /** The whole body, or undefined when it streams through. */
  body: Buffer | undefined;
}

interface Call extends IncomingRequest {
  receivedMs: number;
  requestId: string;
  scope: Scope;
  service: ProxiedService | undefined;
  caller: Caller;
  req: IncomingMessage;
}

export class RecordingProxy {
  readonly #deps: RecordingProxyDeps;
  readonly #keySchemas = new KeySchemas();

  constructor(deps: RecordingProxyDeps) {
    this.#deps = deps;
  }

  /** Claims a request signed for a service opentrail forwards rather than serves. */
  claim(req: IncomingMessage): ((res: ServerResponse) => void) | undefined {
    const scope = scopeOf(req);
    if (scope === undefined) return this.#anonymousLocalRead(req);
    if (this.#deps.ownServices.has(scope.service)) return undefined;
    const target = header(req.headers, 'x-amz-target');
    if (target !== undefined && this.#deps.ownTargetPrefixes.has(target.slice(0, target.lastIndexOf('.')))) {
      return undefined;
    }
    return (res) => this.#answer(req, res, scope);
  }

  /**
   * An unsigned GET or HEAD of any other path, while the local store answers S3 reads, is an anonymous S3
   * read (`aws s3 … --no-sign-request`, a browser): S3 refuses it for a bucket without a public policy, as
   * every local bucket is, with AccessDenied in XML. Whether the bucket exists is not said to a caller
   * nobody has verified.
   */
  #anonymousLocalRead(req: IncomingMessage): ((res: ServerResponse) => void) | undefined {
    if (this.#deps.localObjects === undefined || this.#deps.upstreams.for('s3') !== undefined) return undefined;
    if (
      (req.method !== 'GET' && req.method !== 'HEAD') ||
      this.#deps.ownGetPaths.has((req.url ?? '/').split('?')[0] ?? '/')
    ) {
      return undefined;
    }
    return (res) => {
      const refused = proxyErrorAnswer(
        'rest-xml',
        new ServiceError('AccessDenied', 'Access Denied'),
        this.#deps.ids.uuid(),
      );
      if (req.method === 'HEAD') {
        res.writeHead(refused.status, refused.headers);
        res.end();
      } else answer(res, refused);
      req.resume();
    };
  }

  #answer(req: IncomingMessage, res: ServerResponse, scope: Scope): void {
    const requestId = this.#deps.ids.uuid();
    this.#handle(req, res, scope, requestId).catch((err: unknown) => {
      this.#deps.logger.error({ err, requestId }, 'proxied request failed');
      if (!res.headersSent) {
        answer(res, proxyErrorAnswer('json', new ServiceError('InternalFailure', 'The proxy failed.'), requestId));
      } else res.destroy();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse, scope: Scope, requestId: string): Promise<void> {
    const receivedMs = this.#deps.clock.now();
    const table = this.#deps.table.services;
    const service = Object.hasOwn(table, scope.service) ? table[scope.service] : undefined;
    const protocol = service?.protocol ?? (req.headers['x-amz-target'] !== undefined ? 'json' : 'rest-json');
    try {
      if (scope.v2) {
        throw new ServiceError(
          'InvalidRequest',
          'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256 (with boto3: Config(signature_version="s3v4")).',
        );
      }
      const incoming = await readRequest(req, service, this.#deps.bodyLimit);
      const caller = await this.#verify(req, scope, incoming);
      const upstream = this.#deps.upstreams.for(scope.service);
      if (upstream === undefined && scope.service === 's3' && this.#deps.localObjects !== undefined) {
        const call: Call = { receivedMs, requestId, scope, service, caller, req, ...incoming };
        return await this.#answerLocally(call, res, this.#deps.localObjects);
      }
      if (upstream === undefined) {
        throw new ServiceError(
          'BadGateway',
          `No upstream is configured for the ${scope.service} service: start opentrail with --upstream URL (or --upstream ${scope.service}=URL).`,
        );
      }
      // A presigned URL's signature is the caller's; upstream the request is signed in headers anew.
      const query = new URLSearchParams(incoming.query);
      if (scope.presigned) for (const name of PRESIGN_PARAMS) query.delete(name);
      const queryText = scope.presigned ? query.toString() : incoming.rawQuery;
      const signed = await this.#deps.upstreams.sign(upstream, {
        method: incoming.method,
        path: incoming.path,
        query,
        headers:
          scope.presigned && service?.model === 's3'
            ? { ...req.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
            : req.headers,
        ...(incoming.body !== undefined ? { body: incoming.body } : {}),
        region: scope.region,
        service: scope.service,
      });
      const call: Call = { receivedMs, requestId, scope, service, caller, req, ...incoming };
      await this.#forward(call, res, upstream, {
        method: incoming.method,
        path: queryText ? `${incoming.path}?${queryText}` : incoming.path,
        signed,
      });
    } catch (thrown) {
      if (!(thrown instanceof ServiceError)) throw thrown;
      if (!res.headersSent) answer(res, proxyErrorAnswer(protocol, thrown, requestId, scope.presigned));
      else res.destroy();
      // A request the proxy refused may not have been read to its end; no more of it is wanted.
      if (!req.complete) req.resume();
    }
  }

  /** An S3 read of the local store's buckets, answered and recorded as a proxied call is. */
  async #answerLocally(call: Call, res: ServerResponse, objects: ObjectStore): Promise<void> {
    let local: LocalS3Answer;
    try {
      local = await answerLocalS3Read(objects, {
        operation: call.found?.name,
        labels: call.found?.labels ?? {},
        query: call.query,
        accountId: call.caller.principal.accountId,
        requestId: call.requestId,
        range: header(call.req.headers, 'range'),
      });
    } catch (thrown) {
      if (!(thrown instanceof ServiceError)) throw thrown;
      const refused = proxyErrorAnswer('rest-xml', thrown, call.requestId);
      local = { status: refused.status, headers: refused.headers, body: Buffer.from(refused.body) };
    }
    const body = call.method === 'HEAD' ? undefined : local.body;
    const bytesOut = body?.length ?? 0;
    await this.#record(
      call,
      { statusCode: local.status, headers: local.headers },
      { bytesOut, ...(local.status >= 300 ? { kept: body } : {}) },
      () => 0,
    );
    res.writeHead(local.status, { 'content-length': String(bytesOut), ...local.headers });
    res.end(body);
  }

  /** The caller, verified by the signature in its Authorization header or its presigned URL. */
  async #verify(req: IncomingMessage, scope: Scope, incoming: IncomingRequest): Promise<Caller> {
    const signed = {
      method: incoming.method,
      path: incoming.rawPath,
      query: queryMembers(incoming.query),
      headers: req.headers,
      body: incoming.body ?? EMPTY,
    };
    const options = {
      nowMs: this.#deps.clock.now(),
      resolveAccessKey: (id: string) => this.#deps.identity.resolveAccessKey(id),
      isKnownRegion,
      services: [scope.service],
      streamedBody: incoming.body === undefined,
    };
    const verified = scope.presigned ? await verifyPresignedSigV4(signed, options) : await verifySigV4(signed, options);
    return { principal: verified.principal, region: verified.region, accessKeyId: verified.accessKeyId };
  }

  #forward(
    call: Call,
    res: ServerResponse,
    upstream: Upstream,
    target: { method: string; path: string; signed: Record<string, string> },
  ): Promise<void> {
    const send = upstream.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const upReq = send({
      hostname: upstream.url.hostname,
      port: upstream.url.port,
      method: target.method,
      path: target.path,
      headers: target.signed,
      agent: upstream.agent,
    });
    let check: PayloadCheck | undefined;
    const bytesIn = () => call.body?.length ?? check?.bytes ?? 0;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: ServiceError) => {
        if (settled) return;
        settled = true;
        upReq.destroy();
        reject(error);
      };
      upReq.on('error', (err) =>
        fail(
          new ServiceError('BadGateway', `The upstream ${upstream.url.origin} did not answer: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      upReq.on('response', (upRes) => {
        const status = upRes.statusCode ?? 502;
        res.writeHead(status, answerHeaders(upRes.headers));
        const keep =
          status >= 300 ||
          (call.found?.op.readOnly !== true && call.service?.model !== 's3') ||
          // A table's description tells its key, which records of item writes show (dynamodb-members.ts).
          (call.service?.model === 'dynamodb' && call.found?.name === 'DescribeTable');
        const answer = new AnswerCopy(keep);
        const brokeOff = (err: unknown) => {
          if (settled) return;
          settled = true;
          this.#deps.logger.warn({ err, requestId: call.requestId }, 'a proxied answer broke off');
          upRes.destroy();
          res.destroy();
          resolve();
        };
        // Plain events, not a stream pipeline: for the small answers of most calls its machinery cost more
        // than the copy. Backpressure: the upstream pauses while the caller's socket is full.
        upRes.on('data', (chunk: Buffer) => {
          answer.add(chunk);
          if (!res.write(chunk)) {
            upRes.pause();
            res.once('drain', () => upRes.resume());
          }
        });
        // A record that needs nothing of the body (a read, or any S3 success, of known length) is appended
        // now, so its commit overlaps the body's way to the caller; others once the body is in.
        const length = call.method === 'HEAD' ? 0 : Number(upRes.headers['content-length']);
        const early =
          !keep && Number.isFinite(length) ? this.#record(call, upRes, { bytesOut: length }, bytesIn) : undefined;
        upRes.on('end', () => {
          // The record is committed before the answer's end leaves.
          const committed =
            early ?? this.#record(call, upRes, { bytesOut: answer.bytes, kept: answer.kept() }, bytesIn);
          void committed.then(() => {
            if (settled) return;
            settled = true;
            res.end(resolve);
          });
        });
        upRes.on('error', brokeOff);
        res.on('close', () => {
          if (!res.writableFinished) brokeOff(new Error('the caller closed the connection'));
        });
      });
      if (call.body !== undefined) {
        upReq.end(call.body);
        return;
      }
      // A presigned URL signs no payload; a signed header's hash claim is checked as the bytes pass.
      const claim = call.scope.presigned ? undefined : header(call.req.headers, 'x-amz-content-sha256');
      check = new PayloadCheck(claim === undefined || UNSIGNED_PAYLOADS.includes(claim) ? undefined : claim);
      pipeline(call.req, check, upReq, (err) => {
        if (err === undefined || err === null) return;
        fail(
          err instanceof ServiceError
            ? err
            : new ServiceError('BadGateway', `The request body did not reach the upstream: ${err.message}`),
        );
      });
    });
  }

  /** Builds the call's record and appends it; resolves when it is committed. Never fails the answer. */
  async #record(
    call: Call,
    upRes: Pick<IncomingMessage, 'statusCode' | 'headers'>,
    answer: { bytesOut: number; kept?: Buffer | undefined },
    bytesIn: () => number,
  ): Promise<void> {
    const { service, found, caller, scope } = call;
    try {
      const status = upRes.statusCode ?? 502;
      const failed = status >= 300 && !(status === 304 && call.method === 'GET');
      const tables = `${caller.principal.accountId}/${scope.region}`;
      if (service?.model === 'dynamodb' && found !== undefined && !failed) {
        this.#keySchemas.learn(tables, found.name, call.body, answer.kept);
      }
      const params =
        service !== undefined && found !== undefined
          ? requestParameters(service, found, {
              host: call.host,
              query: call.query,
              headers: call.req.headers,
              ...(call.body !== undefined ? { body: call.body } : {}),
              keyNames: this.#keySchemas.of(tables),
            })
          : null;
      const readOnly = found?.op.readOnly ?? (call.method === 'GET' || call.method === 'HEAD');
      const upstreamRequestId = header(upRes.headers, 'x-amz-request-id') ?? header(upRes.headers, 'x-amzn-requestid');
      const isS3 = service?.model === 's3';
      const record = buildApiCallRecord({
        caller,
        eventSource: service?.eventSource ?? `${scope.service}.amazonaws.com`,
        eventName: found?.op.eventName ?? found?.name ?? unnamedOperation(call.req),
        readOnly,
        requestParameters: params,
        ...(failed
          ? { error: upstreamError(status, upRes.headers, answer.kept) }
          : service !== undefined && found !== undefined && !readOnly
            ? { responseElements: responseElements(service, found, { headers: upRes.headers, body: answer.kept }) }
            : {}),
        resources:
          service !== undefined && found !== undefined
            ? proxiedResources(service, found, { accountId: caller.principal.accountId, region: scope.region, params })
            : [],
        ...(found?.op.data === true ? { dataEvent: true } : {}),
        // Every DynamoDB record in the DynamoDB Developer Guide carries it; the real logs of other services
        // mostly do not.
        ...(service?.model === 'dynamodb' ? { apiVersion: service.apiVersion } : {}),
        ...(isS3
          ? {
              additionalEventData: {
                SignatureVersion: 'SigV4',
                bytesTransferredIn: bytesIn(),
                AuthenticationMethod: call.scope.presigned ? 'QueryString' : 'AuthHeader',
                ...(upRes.headers['x-amz-id-2'] !== undefined ? { 'x-amz-id-2': upRes.headers['x-amz-id-2'] } : {}),
                bytesTransferredOut: answer.bytesOut,
              },
            }
          : {}),
        requestId: upstreamRequestId ?? call.requestId,
        eventId: this.#deps.ids.uuid(),
        timeMs: call.receivedMs,
        sourceIp: recordedAddress(call.req.socket.remoteAddress ?? '127.0.0.1'),
        ...(call.req.headers['user-agent'] !== undefined ? { userAgent: call.req.headers['user-agent'] } : {}),
      });
      await this.#deps.capture.recordCall(record);
    } catch (err) {
      // The upstream has acted; failing its answer now would not undo that. Say loudly that the record is missing.
      this.#deps.logger.error({ err, requestId: call.requestId }, 'could not record a proxied call');
    }
  }
}

/** What the proxy keeps of an answer while passing it on: its size, and its first MB when asked. */
class AnswerCopy {
  bytes = 0;
  readonly #keep: boolean;
  readonly #chunks: Buffer[] = [];
  #keptBytes = 0;

  constructor(keep: boolean) {
    this.#keep = keep;
  }

  add(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.#keep && this.#keptBytes < KEPT_ANSWER_BYTES) {
      this.#chunks.push(chunk);
      this.#keptBytes += chunk.length;
    }
  }

  kept(): Buffer | undefined {
    return this.#keep ? Buffer.concat(this.#chunks) : undefined;
  }
}

/** Passes a streamed body through, failing at its end when its SHA-256 is not the one signed. */
class PayloadCheck extends Transform {
  bytes = 0;
  readonly #claim: string | undefined;
  readonly #hash = createHash('sha256');

  constructor(claim: string | undefined) {
    super();
    this.#claim = claim;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.#claim !== undefined) this.#hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#claim === undefined || this.#hash.digest('hex') === this.#claim) {
      done();
      return;
    }
    done(
      new ServiceError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      ),
    );
  }
}

/** The signing scope of a signed request (in the Authorization header, or a presigned URL's query). */
function scopeOf(req: IncomingMessage): Scope | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('AWS ')) return { service: 's3', region: 'us-east-1', presigned: false, v2: true };
  if (authorization === undefined) {
    const q = (req.url ?? '').indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : (req.url ?? '').slice(q + 1));
    // S3's Signature Version 2 presigned URLs (botocore's default for us-east-1 S3 presigns).
    if (query.has('AWSAccessKeyId') && query.has('Signature')) {
      return { service: 's3', region: 'us-east-1', presigned: true, v2: true };
    }
    const [, , region, service] = query.get('X-Amz-Credential')?.split('/') ?? [];
    return region && service ? { service, region, presigned: true } : undefined;
  }
  try {
    const { service, region } = parseAuthorization(authorization);
    return { service, region, presigned: false };
  } catch {
    return undefined;
  }
}

/**
 * Reads what names the operation: the route first, for REST services, so that an upload can stream; the
 * body, for the others, whose operation and members are in it.
 */
async function readRequest(
  req: IncomingMessage,
  service: ProxiedService | undefined,
  bodyLimit: number,
): Promise<IncomingRequest> {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
  const query = new URLSearchParams(rawQuery);
  const host = header(req.headers, 'host') ?? '';
  const method = req.method ?? 'GET';
  // Virtual-hosted S3 requests go upstream path-style: the upstream's host name is not the bucket's.
  const bucketInHost = service?.model === 's3' ? hostBucket(host) : undefined;
  const path = bucketInHost === undefined ? rawPath : `/${bucketInHost}${rawPath === '/' ? '' : rawPath}`;
  const clues = { method, path: /^\/[^/]+\/$/.test(path) ? path.slice(0, -1) : path, query, headers: req.headers };
  const rest = service?.protocol === 'rest-xml' || service?.protocol === 'rest-json';
  let found = service !== undefined && rest ? identifyOperation(service, clues) : undefined;
  const body = service?.model === 's3' && isStreamed(req, found) ? undefined : await readBody(req, bodyLimit);
  if (service !== undefined && !rest) found = identifyOperation(service, { ...clues, ...(body ? { body } : {}) });
  return { method, rawPath, rawQuery, query, path, host, found, body };
}

function isStreamed(req: IncomingMessage, found: IdentifiedOperation | undefined): boolean {
  if (req.method !== 'PUT' && req.method !== 'POST') return false;
  if (found !== undefined && STREAMED_OPERATIONS.has(found.name)) return true;
  const length = Number(req.headers['content-length'] ?? Number.NaN);
  return !Number.isFinite(length) || length > STREAM_ABOVE_BYTES;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      throw new ServiceError('RequestEntityTooLargeException', `The request body is larger than ${limit} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The bucket of a virtual-hosted-style S3 host (`bucket.s3.us-east-1.amazonaws.com`, `bucket.localhost`). */
function hostBucket(host: string): string | undefined {
  const name = host.replace(/:\d+$/, '');
  const aws = /^(.+)\.s3[.-]/.exec(name);
  if (aws?.[1] !== undefined) return aws[1];
  if (name.endsWith('.localhost')) return name.slice(0, -'.localhost'.length);
  return undefined;
}

function unnamedOperation(req: IncomingMessage): string {
  const target = header(req.headers, 'x-amz-target');
  // A record's eventName is never empty: a target ending in its dot names no operation.
  const named = target?.slice(target.lastIndexOf('.') + 1);
  return named ? named : `${req.method ?? 'GET'}Request`;
}

const ANSWER_HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade']);

function answerHeaders(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !ANSWER_HOP_HEADERS.has(name)) out[name] = value;
  }
  return out;
}

function answer(res: ServerResponse, a: { status: number; headers: Record<string, string>; body: string }): void {
  res.writeHead(a.status, { ...a.headers, 'content-length': Buffer.byteLength(a.body) });
  res.end(a.body);
}

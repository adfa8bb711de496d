import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { recordedAddress } from '../model/client-address.ts';
import { ServiceError } from '../model/service-error.ts';
import { type AwsJsonDeps, errorResponse, handleAwsJson, type JsonApi, routeTarget } from './aws-json.ts';
import { handlePutAuditEvents, PUT_AUDIT_EVENTS_PATH } from './cloudtrail-data-api.ts';
import { type ApiRequest, type ApiResponse, queryMembers } from './http-types.ts';

/**
 * The one HTTP server (design.md, The API). `POST /` carries the AWS JSON APIs, routed by X-Amz-Target;
 * `POST /PutAuditEvents` the cloudtrail-data REST-JSON API;
 * `GET /health` answers without authentication for liveness checks, with how far the log and its consumers are. Bodies arrive as raw bytes, because
 * SigV4 signs the exact bytes and the protocol layer parses JSON itself to answer SerializationException.
 */
export interface ServerDeps extends AwsJsonDeps {
  apis: readonly JsonApi[];
  logger: Logger;
  /** Largest request body accepted (bytes). */
  bodyLimit: number;
  /** Liveness and progress figures for GET /health (no tenant data). */
  health(): Record<string, unknown>;
  /**
   * Handlers that take a request before fastify reads it (the recording proxy streams bodies of any size;
   * moto's routes): the first that claims it answers it.
   */
  rawHandlers?: readonly RawHandler[];
}

/** Claims a request by returning what answers it (with what the claim already read of it), or declines. */
export interface RawHandler {
  claim(req: IncomingMessage): ((res: ServerResponse) => void) | undefined;
}

/** Liveness and progress figures, the one path opentrail answers to an unsigned GET. */
export const HEALTH_PATH = '/health';

/** Keep-alive connections are reused by the SDKs; close idle ones well before clients give up on them. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export type Server = ReturnType<typeof buildServer>;

/**
 * Routes declare no JSON schemas (requests are checked against the AWS model, validate-input.ts). Given no
 * compilers, Fastify loads Ajv and fast-json-stringify for them at start: ~40 ms of every start, unused.
 */
const NO_SCHEMA_COMPILER = () => () => {
  throw new Error('opentrail routes declare no JSON schemas');
};

export function buildServer(deps: ServerDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
    schemaController: { compilersFactory: { buildValidator: NO_SCHEMA_COMPILER, buildSerializer: NO_SCHEMA_COMPILER } },
    clientErrorHandler: (error, socket) => answerClientError(error, socket, deps.services.ids.uuid()),
    serverFactory: (handler) => {
      const raw = deps.rawHandlers ?? [];
      const server = createServer((req, res) => {
        for (const h of raw) {
          const answer = h.claim(req);
          if (answer !== undefined) return answer(res);
        }
        handler(req, res);
      });
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
  });
  const answer = (reply: FastifyReply, response: ApiResponse) => send(reply, response, deps.services.clock.now());
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/', async (request, reply) => {
    const req = toApiRequest(request);
    const target = typeof request.headers['x-amz-target'] === 'string' ? request.headers['x-amz-target'] : '';
    const route = routeTarget(deps.apis, target);
    if (route === undefined) {
      const error = new ServiceError(
        'UnknownOperationException',
        target === '' ? 'The request has no X-Amz-Target header naming the operation.' : `Unknown operation ${target}.`,
      );
      return answer(reply, errorResponse(error, deps.services.ids.uuid()));
    }
    return answer(reply, await handleAwsJson(route.api, route.operation, req, deps));
  });

  // The cloudtrail-data API (REST-JSON, routed by path; src/api/cloudtrail-data-api.ts).
  app.post(PUT_AUDIT_EVENTS_PATH, async (request, reply) =>
    answer(reply, await handlePutAuditEvents(toApiRequest(request), deps)),
  );

  app.get(HEALTH_PATH, async () => ({ status: 'ok', ...deps.health() }));

  app.setNotFoundHandler((request, reply) => {
    const error = new ServiceError('NotFoundException', `No route for ${request.method} ${request.url.split('?')[0]}.`);
    answer(reply, errorResponse(error, deps.services.ids.uuid()));
  });

  app.setErrorHandler((error: { code?: string; statusCode?: number; message: string }, _request, reply) => {
    const requestId = deps.services.ids.uuid();
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return answer(
        reply,
        errorResponse(
          new ServiceError(
            'RequestEntityTooLargeException',
            `The request body is larger than ${deps.bodyLimit} bytes.`,
          ),
          requestId,
        ),
      );
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return answer(reply, errorResponse(new ServiceError('SerializationException', error.message), requestId));
    }
    deps.onInternalError(error, requestId);
    return answer(
      reply,
      errorResponse(new ServiceError('InternalFailure', 'The request processing has failed.'), requestId),
    );
  });
  return app;
}

function toApiRequest(request: FastifyRequest): ApiRequest {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  const query = queryMembers(new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''));
  return {
    method: request.method,
    path: q >= 0 ? url.slice(0, q) : url,
    query,
    headers: request.headers,
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    sourceIp: recordedAddress(request.ip),
  };
}

/** Sent as bytes: fastify would append `; charset=utf-8` to a string's JSON content type, which AWS does not send. */
function send(reply: FastifyReply, response: ApiResponse, nowMs: number): FastifyReply {
  // The SDKs correct their clock skew from the Date header, so it must be the service clock's time.
  return reply
    .code(response.status)
    .headers({ ...response.headers, date: new Date(nowMs).toUTCString() })
    .send(Buffer.from(response.body, 'utf8'));
}

/**
 * What node's HTTP parser refuses before any route sees it (a bad Content-Length, an unknown method, headers
 * over 16 KB): answered in the AWS JSON shape too, with the parser's reason, instead of fastify's own JSON.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket, requestId: string): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'its headers are larger than 16 KB']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'it did not arrive in time']
        : [400, `${error.code ?? 'unknown'}: ${error.message}`];
  const answer = errorResponse(
    new ServiceError('SerializationException', `The request is not valid HTTP: ${reason}.`),
    requestId,
  );
  if (socket.writable) {
    const headers = Object.entries({
      ...answer.headers,
      'content-length': String(Buffer.byteLength(answer.body)),
      connection: 'close',
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}\r\n${answer.body}`);
  }
  socket.destroy(error);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { MEMBER_OBJECT_BYTES } from './request-parameters.ts';

/**
 * What the recorder learns from node's request and response objects without changing how the host reads
 * or writes them: the request body is seen as the host consumes it, the outcome when the response ends.
 */

/**
 * Watches the JSON body go by as the host's own code (or express.json(), or Fastify) reads it, by observing
 * the stream's 'data' events: the stream is never read, paused or resumed by the recorder. Returns the body
 * as parsed JSON, `{truncated, originalBytes}` when it was larger than CloudTrail keeps, or undefined.
 */
export function watchJsonBody(req: IncomingMessage): () => unknown {
  if (!/\bjson\b|\+json/i.test(req.headers['content-type'] ?? '')) return () => undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  const emit = req.emit;
  req.emit = function observed(this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') {
      const chunk = args[0];
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += buffer.length;
      if (bytes <= MEMBER_OBJECT_BYTES) chunks.push(buffer);
    }
    return emit.call(this, event, ...args);
  } as typeof req.emit;
  return () => {
    if (bytes === 0) return undefined;
    if (bytes > MEMBER_OBJECT_BYTES) return { truncated: true, originalBytes: bytes };
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  };
}

/**
 * Calls `fn` once when the exchange is over: `completed` is false when the connection closed before the
 * response was fully sent (the client went away, or the handler never answered).
 */
export function onExchangeEnd(res: ServerResponse, fn: (completed: boolean) => void): void {
  let done = false;
  const end = (completed: boolean) => {
    if (done) return;
    done = true;
    fn(completed);
  };
  res.once('finish', () => end(true));
  res.once('close', () => end(res.writableFinished));
}

/** The caller's address: the socket's peer, or the first X-Forwarded-For entry behind a trusted proxy. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | undefined {
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  if (trustProxy && first) return first;
  const address = req.socket?.remoteAddress;
  // An IPv4 peer of a dual-stack socket is written as ::ffff:203.0.113.9; CloudTrail writes 203.0.113.9.
  return address?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** The request's path and query, whatever a router has since done to `req.url` (Express rewrites it). */
export function requestUrl(req: IncomingMessage & { originalUrl?: string }): URL {
  const target = req.originalUrl ?? req.url ?? '/';
  try {
    // Prefixed, not resolved against a base: a path like //orders must not be read as a host.
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target, 'http://localhost');
  } catch {
    return new URL('http://localhost/');
  }
}

/** A short header value, when present. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

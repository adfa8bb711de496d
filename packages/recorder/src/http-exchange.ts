import type { IncomingMessage } from 'node:http';
import { MEMBER_OBJECT_BYTES } from './request-parameters.ts';

/**
 * What the recorder learns from node's request object without changing how the host reads it: its target,
 * its peer, and its body as the host consumes it.
 */

/**
 * Watches the JSON body go by as the host's own code (or express.json(), or Fastify) reads it, by observing
 * the stream's 'data' events: the stream is never read, paused or resumed by the recorder. Returns the body
 * as parsed JSON, `{truncated, originalBytes}` when it was larger than CloudTrail keeps, or undefined.
 */
export function watchJsonBody(req: IncomingMessage): () => unknown {
  if (!/\bjson\b|\+json/i.test(req.headers['content-type'] ?? '')) return noBody;
  const chunks: Buffer[] = [];
  let bytes = 0;
  const emit = req.emit;
  // `arguments` passed on as they came: a rest parameter and a spread cost an array on each event.
  req.emit = function (this: IncomingMessage, event: string | symbol, chunk?: unknown): boolean {
    if (event === 'data') {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += buffer.length;
      if (bytes <= MEMBER_OBJECT_BYTES) chunks.push(buffer);
    }
    // biome-ignore lint/complexity/noArguments: the listeners get exactly the arguments emit was given.
    return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
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

/** The caller's address: the socket's peer, or the first X-Forwarded-For entry behind a trusted proxy. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  const address = req.socket?.remoteAddress;
  // An IPv4 peer of a dual-stack socket is written as ::ffff:203.0.113.9; CloudTrail writes 203.0.113.9.
  return address?.startsWith('::ffff:') && IPV4.test(address.slice(7)) ? address.slice(7) : address;
}

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** A request's path and its query string (without the `?`; empty when there is none). */
export interface RequestTarget {
  path: string;
  query: string;
}

/** A target whose path and query a URL parser would keep as they are: printable ASCII, no fragment. */
const VERBATIM_TARGET = /^\/[\w\-.~!$&'()*+,;=:@/%]*(?:\?[!-"$-~]*)?$/;
/** A `.` or `..` segment, which a URL parser would resolve. */
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

/**
 * The request's path and query, whatever a router has since done to `req.url` (Express rewrites it), as
 * node's URL parser reads them. Most targets need no parsing (parsing every one cost more than the rest of
 * matching a request): only one with a dot segment or with characters the parser would encode or drop
 * goes through it.
 */
export function requestTarget(req: IncomingMessage & { originalUrl?: string }): RequestTarget {
  const target = req.originalUrl ?? req.url ?? '/';
  if (VERBATIM_TARGET.test(target)) {
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    if (!DOT_SEGMENT.test(path)) return { path, query: q === -1 ? '' : target.slice(q + 1) };
  }
  const url = parseTarget(target);
  return { path: url.pathname, query: url.search.slice(1) };
}

function parseTarget(target: string): URL {
  try {
    // Prefixed, not resolved against a base: a path like //orders must not be read as a host.
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target, 'http://localhost');
  } catch {
    return new URL('http://localhost/');
  }
}

function noBody(): undefined {
  return undefined;
}

/** A short header value, when present. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

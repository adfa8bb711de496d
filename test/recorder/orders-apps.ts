import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import type { Recorder } from '../../packages/recorder/src/index.ts';

/**
 * The same small orders service written for node:http, Express and Fastify, each with the recorder added
 * in its one line. Routes: POST /orders (201), GET /orders/:id (404 for `missing`), DELETE /orders/:id
 * (204), POST /orders/:id/refund (the handler throws: 500) and GET /health (not an operation).
 */
export const ORDERS_OPERATIONS = {
  'POST /orders': 'CreateOrder',
  'GET /orders/:id': 'GetOrder',
  'DELETE /orders/:id': 'CancelOrder',
  'POST /orders/:id/refund': 'RefundOrder',
} as const;

/** The caller, as these services learn it: an `x-user` header set by the (imaginary) gateway. */
export function identifyByHeader(req: IncomingMessage | FastifyRequest) {
  const user = req.headers['x-user'];
  return typeof user === 'string' ? { type: 'IAMUser', userName: user } : undefined;
}

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

export type AppMaker = (recorder: Recorder) => Promise<RunningApp>;

export const makeNodeHttpApp: AppMaker = async (recorder) => {
  const server = createServer(
    recorder.wrap(async (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      let text = '';
      for await (const chunk of req) text += chunk;
      if (req.method === 'POST' && path === '/orders') {
        JSON.parse(text);
        recorder.annotate(req, { responseElements: { orderId: 'o-1' } });
        return json(res, 201, { orderId: 'o-1' });
      }
      const m = /^\/orders\/([^/]+)(\/refund)?$/.exec(path);
      if (m?.[2] !== undefined) return json(res, 500, { message: 'refunds are broken' });
      if (req.method === 'GET' && m) return m[1] === 'missing' ? json(res, 404, {}) : json(res, 200, { id: m[1] });
      if (req.method === 'DELETE' && m) return json(res, 204, undefined);
      return json(res, 200, { status: 'ok' });
    }),
  );
  return listening(server);
};

export const makeExpressApp: AppMaker = async (recorder) => {
  const app = express();
  app.set('env', 'test'); // Express prints the stack of a handler's error otherwise.
  app.use(recorder.express());
  app.use(express.json());
  app.post('/orders', (req, res) => {
    recorder.annotate(req, { responseElements: { orderId: 'o-1' } });
    res.status(201).json({ orderId: 'o-1' });
  });
  app.get('/orders/:id', (req, res) => {
    if (req.params.id === 'missing') res.status(404).json({});
    else res.json({ id: req.params.id });
  });
  app.delete('/orders/:id', (_req, res) => {
    res.status(204).end();
  });
  app.post('/orders/:id/refund', () => {
    throw new Error('refunds are broken');
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return listening(createServer(app));
};

export const makeFastifyApp: AppMaker = async (recorder) => {
  const app = Fastify();
  await app.register(recorder.fastify);
  app.post('/orders', async (request, reply) => {
    recorder.annotate(request, { responseElements: { orderId: 'o-1' } });
    return reply.code(201).send({ orderId: 'o-1' });
  });
  app.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) => {
    if (request.params.id === 'missing') return reply.code(404).send({});
    return { id: request.params.id };
  });
  app.delete('/orders/:id', async (_request, reply) => reply.code(204).send());
  app.post('/orders/:id/refund', async () => {
    throw new Error('refunds are broken');
  });
  app.get('/health', async () => ({ status: 'ok' }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
};

function json(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function listening(server: Server): Promise<RunningApp> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port nothing listens on: connections to it are refused at once. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Waits for `check` to hold, polling; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

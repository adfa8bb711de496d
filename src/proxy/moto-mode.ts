import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Logger } from 'pino';
import type { IdentityStore } from '../identity/index.ts';
import { MOTO_CREDENTIALS } from './moto-credentials.ts';

/**
 * moto-compatible mode (`--moto`): what test suites written for moto's server mode rely on beyond the AWS
 * APIs. Each relaxation of AWS's behaviour is listed in the README:
 *  - moto's default account, 123456789012, with moto's test keys (`FOOBARKEY`, which moto's `mock_aws` sets,
 *    and `testing`, which its documentation uses); requests are still SigV4-verified with their secrets;
 *  - `/moto-api/*` (reset, seeding, the dashboard) is forwarded unsigned to moto, and `POST /moto-api/reset`
 *    also deletes the trails of moto's account (recorded events stay: the audit record is immutable);
 *  - an unsigned `GET /` answers 200, the readiness check of moto's users;
 *  - trails need no bucket or topic policy granting CloudTrail access (moto's users create neither).
 */
export const MOTO_ACCOUNT_ID = '123456789012';
export const MOTO_TEST_KEYS = [
  { accessKeyId: 'FOOBARKEY', secretAccessKey: 'FOOBARSECRET' },
  MOTO_CREDENTIALS,
] as const;

/** Makes moto's account and test keys exist; keys already there are left as they are. */
export async function provisionMotoIdentity(identity: IdentityStore): Promise<void> {
  if (identity.account(MOTO_ACCOUNT_ID) === undefined) {
    await identity.createAccount({ accountId: MOTO_ACCOUNT_ID, name: 'moto' });
  }
  for (const key of MOTO_TEST_KEYS) {
    if (identity.resolveAccessKey(key.accessKeyId) === undefined) {
      await identity.createAccessKey(MOTO_ACCOUNT_ID, undefined, key);
    }
  }
}

export interface MotoApiDeps {
  /** moto_server's base URL. */
  endpoint: string;
  /** Resets opentrail's side after moto has reset. */
  onReset(): Promise<void>;
  logger: Logger;
}

/** The moto-specific routes, handled before anything else of the server sees the request. */
export class MotoApi {
  readonly #deps: MotoApiDeps;
  readonly #upstream: URL;

  constructor(deps: MotoApiDeps) {
    this.#deps = deps;
    this.#upstream = new URL(deps.endpoint);
  }

  claim(req: IncomingMessage): ((res: ServerResponse) => void) | undefined {
    const path = (req.url ?? '/').split('?')[0];
    if (path?.startsWith('/moto-api/')) {
      return (res) => this.#forward(req, res, req.method === 'POST' && path === '/moto-api/reset');
    }
    if (req.method === 'GET' && path === '/' && !req.headers.authorization) {
      return (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    }
    return undefined;
  }

  #forward(req: IncomingMessage, res: ServerResponse, isReset: boolean): void {
    const { host: _host, connection: _connection, ...headers } = req.headers;
    const upReq = httpRequest({
      hostname: this.#upstream.hostname,
      port: this.#upstream.port,
      method: req.method,
      path: req.url,
      headers,
    });
    upReq.on('error', (err) => {
      this.#deps.logger.warn({ err }, 'moto_server did not answer');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`moto_server: ${err.message}`);
    });
    upReq.on('response', (upRes) => {
      const forward = () => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        pipeline(upRes, res, () => undefined);
      };
      if (!isReset || (upRes.statusCode ?? 500) >= 300) return forward();
      this.#deps.onReset().then(forward, (err: unknown) => {
        this.#deps.logger.error({ err }, 'could not reset opentrail after moto reset');
        upRes.resume();
        res.writeHead(500, { 'content-type': 'text/plain' }).end('opentrail could not reset its trails');
      });
    });
    pipeline(req, upReq, () => undefined);
  }
}

import { Agent, request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { NodeSha256 } from '../../src/model/node-sha256.ts';

/**
 * A lean HTTP client for load generation: keep-alive sockets, SigV4 signing with the SDK's signer,
 * bodies as prepared strings, so the load generator spends as little CPU as it can beside the server.
 */
export class SignedPoster {
  readonly #url: URL;
  readonly #agent: Agent;
  readonly #signer: SignatureV4;

  constructor(endpoint: string, credentials: Credentials, signingName: string, sockets = 16) {
    this.#url = new URL(endpoint);
    this.#agent = new Agent({ keepAlive: true, maxSockets: sockets });
    this.#signer = new SignatureV4({ credentials, region: 'us-east-1', service: signingName, sha256: NodeSha256 });
  }

  /** Signs a JSON 1.1 request for `target` carrying `body`; the headers may be replayed for 15 minutes. */
  async sign(target: string, body: string): Promise<Record<string, string>> {
    const signed = await this.#signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: this.#url.hostname,
      port: Number(this.#url.port),
      path: '/',
      query: {},
      headers: { host: this.#url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body,
    });
    return signed.headers as Record<string, string>;
  }

  /** Signs a REST-JSON POST to `path` with `query` (e.g. cloudtrail-data's PutAuditEvents). */
  async signRest(path: string, query: Record<string, string>, body: string): Promise<Record<string, string>> {
    const signed = await this.#signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: this.#url.hostname,
      port: Number(this.#url.port),
      path,
      query,
      headers: { host: this.#url.host, 'content-type': 'application/json' },
      body,
    });
    return signed.headers as Record<string, string>;
  }

  post(headers: Record<string, string>, body: string, path = '/'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { agent: this.#agent, hostname: this.#url.hostname, port: this.#url.port, path, method: 'POST', headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

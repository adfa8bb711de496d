import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../model/node-sha256.ts';
import { JsonApiError } from './json-api-error.ts';

/**
 * A small SigV4-signing client for opentrail's own JSON APIs (admin and ingest), used by the CLI, tests and
 * benchmarks. (packages/recorder has its own: it is published alone.) CloudTrail itself is called with the
 * official AWS SDK, but by validate-logs, whose start it weighed on (aws-json-client.ts).
 */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface JsonApiClientOptions {
  endpoint: string;
  region: string;
  credentials: Credentials;
  signingName: string;
  targetPrefix: string;
  /** For tests on a manual clock: the time to sign with. */
  now?: () => number;
}

export { JsonApiError } from './json-api-error.ts';

export class JsonApiClient {
  readonly #options: JsonApiClientOptions;
  readonly #signer: SignatureV4;

  constructor(options: JsonApiClientOptions) {
    this.#options = options;
    this.#signer = new SignatureV4({
      credentials: options.credentials,
      region: options.region,
      service: options.signingName,
      sha256: NodeSha256,
    });
  }

  async call<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T> {
    const url = new URL(this.#options.endpoint);
    const body = JSON.stringify(input);
    const signed = await this.#signer.sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: '/',
        query: {},
        headers: {
          host: url.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `${this.#options.targetPrefix}.${operation}`,
        },
        body,
      },
      { signingDate: new Date(this.#options.now?.() ?? Date.now()) },
    );
    const response = await fetch(new URL('/', url), {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
    });
    const text = await response.text();
    const parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    if (!response.ok) {
      throw new JsonApiError(String(parsed['__type'] ?? 'Error'), String(parsed['message'] ?? text), response.status);
    }
    return parsed as T;
  }
}

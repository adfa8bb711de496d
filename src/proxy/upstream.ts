import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { queryMembers } from '../api/http-types.ts';
import { NodeSha256 } from '../model/node-sha256.ts';

/** Where the proxy forwards each service, and the credentials it signs with there. */
export interface UpstreamSettings {
  /** The endpoint for services without their own. */
  readonly default?: string;
  /** Per signing name (`s3`, `dynamodb`), overriding the default. */
  readonly services: Readonly<Record<string, string>>;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Upstream {
  url: URL;
  agent: HttpAgent;
}

/** Headers that describe one hop, not the request: never forwarded (RFC 9110 §7.6.1), nor the caller's signature. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'transfer-encoding',
  // The proxy has already read or is streaming the body; the upstream need not be asked to wait for it.
  'expect',
  'host',
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
]);

export class Upstreams {
  readonly #settings: UpstreamSettings;
  readonly #byUrl = new Map<string, Upstream>();
  /** One signer per Region and service: each keeps its signing key for the day instead of deriving it per call. */
  readonly #signers = new Map<string, SignatureV4>();

  constructor(settings: UpstreamSettings) {
    this.#settings = settings;
  }

  /** The upstream for a signing name, or undefined when none is configured for it. */
  for(service: string): Upstream | undefined {
    const url = this.#settings.services[service] ?? this.#settings.default;
    if (url === undefined) return undefined;
    let upstream = this.#byUrl.get(url);
    if (upstream === undefined) {
      const parsed = new URL(url);
      // Kept-alive connections: a new TCP connection per call would cost more than the whole overhead budget.
      const options = { keepAlive: true, maxSockets: 256 };
      upstream = {
        url: parsed,
        agent: parsed.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options),
      };
      this.#byUrl.set(url, upstream);
    }
    return upstream;
  }

  /**
   * The headers to send upstream: the caller's, less hop-by-hop ones and its signature, signed anew with
   * the upstream's credentials for the same Region and service. A streamed body keeps the caller's
   * `x-amz-content-sha256` claim, which the signer takes as the payload hash.
   */
  async sign(
    upstream: Upstream,
    request: {
      method: string;
      path: string;
      query: URLSearchParams;
      headers: Readonly<Record<string, string | string[] | undefined>>;
      body?: Buffer;
      region: string;
      service: string;
    },
  ): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || HOP_HEADERS.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    headers['host'] = upstream.url.host;
    const signed = await this.#signer(request.region, request.service).sign({
      method: request.method,
      protocol: upstream.url.protocol,
      hostname: upstream.url.hostname,
      path: request.path,
      query: queryMembers(request.query),
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    return signed.headers;
  }

  #signer(region: string, service: string): SignatureV4 {
    const key = `${region}/${service}`;
    let signer = this.#signers.get(key);
    if (signer === undefined) {
      signer = new SignatureV4({
        credentials: { accessKeyId: this.#settings.accessKeyId, secretAccessKey: this.#settings.secretAccessKey },
        region,
        service,
        sha256: NodeSha256,
        uriEscapePath: service !== 's3',
        applyChecksum: false,
      });
      this.#signers.set(key, signer);
    }
    return signer;
  }

  close(): void {
    for (const { agent } of this.#byUrl.values()) agent.destroy();
    this.#byUrl.clear();
  }
}

import type { ServiceEndpoint } from '../config/load-config.ts';

/** What an AWS SDK client is made with for a configured endpoint (KMS, SNS). */
export interface EndpointClientOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

export interface EndpointClient<C> {
  /** The client, made (and its SDK module loaded) on the first call. */
  get(): Promise<C>;
  /** Destroys the client if it was made. */
  close(): void;
}

/**
 * An SDK client for `endpoint`, made on first use: loading an AWS SDK client module takes ~0.1 s and ~20 MB
 * at start, which every server paid although most never send a trail's KMS or SNS request.
 */
export function endpointClient<C extends { destroy(): void }>(
  endpoint: ServiceEndpoint,
  make: (options: EndpointClientOptions) => Promise<C>,
): EndpointClient<C> {
  let client: Promise<C> | undefined;
  return {
    get: () => {
      // A load that failed is not kept: the next request tries again.
      client ??= make({
        endpoint: endpoint.endpoint,
        region: endpoint.region,
        credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
        maxAttempts: 2,
      }).catch((error: unknown) => {
        client = undefined;
        throw error;
      });
      return client;
    },
    close: () => {
      // A client that failed to load has nothing to destroy.
      client?.then((c) => c.destroy()).catch(() => undefined);
    },
  };
}

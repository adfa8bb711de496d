import type { ServiceEndpoint } from '../config/load-config.ts';
import { type FirstUse, firstUse } from '../model/first-use.ts';

/** What an AWS SDK client is made with for a configured endpoint (KMS, SNS). */
export interface EndpointClientOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

/**
 * An SDK module and its client for `endpoint`, loaded on first use, as the S3 object store loads its own:
 * loading an AWS SDK client module takes ~0.1 s and ~20 MB at start, which every server paid although most
 * never send a trail's KMS or SNS request. The module is kept beside the client for its command classes.
 */
export function endpointClient<M, C extends { destroy(): void }>(
  endpoint: ServiceEndpoint,
  load: () => Promise<M>,
  make: (sdk: M, options: EndpointClientOptions) => C,
): FirstUse<{ sdk: M; client: C }> {
  const options: EndpointClientOptions = {
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    maxAttempts: 2,
  };
  return firstUse(
    async () => {
      const sdk = await load();
      return { sdk, client: make(sdk, options) };
    },
    ({ client }) => client.destroy(),
  );
}

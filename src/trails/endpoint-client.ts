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
 * An SDK client for `endpoint`, made on first use: loading an AWS SDK client module takes ~0.1 s and ~20 MB
 * at start, which every server paid although most never send a trail's KMS or SNS request.
 */
export function endpointClient<C extends { destroy(): void }>(
  endpoint: ServiceEndpoint,
  make: (options: EndpointClientOptions) => Promise<C>,
): FirstUse<C> {
  const options: EndpointClientOptions = {
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    maxAttempts: 2,
  };
  return firstUse(
    () => make(options),
    (client) => client.destroy(),
  );
}

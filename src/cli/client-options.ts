import { ADMIN_SIGNING_NAME } from '../api/admin-api.ts';
import { JsonApiClient } from '../client/json-api-client.ts';
import { type CliIo, UsageError } from './io.ts';

/** Endpoint, Region and credentials for commands that call a running server, AWS CLI style. */
export const CLIENT_OPTIONS = {
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
} as const;

export function clientFor(
  targetPrefix: string,
  values: { 'endpoint-url'?: string | undefined; region?: string | undefined },
  io: CliIo,
): JsonApiClient {
  const accessKeyId = io.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = io.env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the credentials to sign with');
  }
  return new JsonApiClient({
    endpoint: values['endpoint-url'] ?? io.env['OPENTRAIL_ENDPOINT'] ?? 'http://127.0.0.1:4790',
    region: values.region ?? io.env['AWS_REGION'] ?? io.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    signingName: ADMIN_SIGNING_NAME,
    targetPrefix,
  });
}

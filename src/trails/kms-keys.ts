import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { ServiceEndpoint } from '../config/load-config.ts';
import { ServiceError } from '../model/service-error.ts';
import { endpointClient } from './endpoint-client.ts';
import { normaliseKmsKeyId } from './trail-rules.ts';

/**
 * Resolves a trail's KmsKeyId as CreateTrail/UpdateTrail do (facts §3.2): alias, alias ARN, key id or key
 * ARN, to the key's full ARN. With a KMS endpoint the key must exist there and be enabled
 * (KmsKeyNotFoundException, KmsException otherwise); without one, the id is only checked for form.
 */
export interface KmsKeys {
  resolve(keyId: string, region: string, accountId: string): Promise<string>;
  close(): void;
}

export function createKmsKeys(endpoint: ServiceEndpoint | undefined): KmsKeys {
  if (endpoint === undefined) {
    return {
      resolve: async (keyId, region, accountId) => normaliseKmsKeyId(keyId, region, accountId),
      close: () => undefined,
    };
  }
  const kms = endpointClient(
    endpoint,
    () => import('@aws-sdk/client-kms'),
    (sdk, options) => new sdk.KMSClient(options),
  );
  return {
    async resolve(keyId, region, accountId) {
      normaliseKmsKeyId(keyId, region, accountId); // InvalidKmsKeyIdException for a malformed id
      let metadata: KeyMetadata | undefined;
      try {
        const { sdk, client } = await kms.get();
        metadata = (await client.send(new sdk.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
      } catch (error) {
        if ((error as { name?: string }).name === 'NotFoundException') {
          throw new ServiceError(
            'KmsKeyNotFoundException',
            `KMS key ${keyId} does not exist, or is not in Region ${region}.`,
          );
        }
        throw new ServiceError('KmsException', `KMS could not describe key ${keyId}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (metadata?.Arn === undefined)
        throw new ServiceError('KmsKeyNotFoundException', `KMS key ${keyId} does not exist.`);
      if (metadata.Enabled === false) {
        throw new ServiceError(
          'KmsException',
          `KMS key ${metadata.Arn} is ${metadata.KeyState ?? 'disabled'}; enable it first.`,
        );
      }
      return metadata.Arn;
    },
    close: () => kms.close(),
  };
}

import type { ServiceEndpoint } from '../config/load-config.ts';
import { ServiceError } from '../model/service-error.ts';
import { policyAllowsCloudTrail } from './bucket-policy.ts';
import { endpointClient } from './endpoint-client.ts';

/**
 * What CreateTrail/UpdateTrail check of a trail's SNS topic when an SNS endpoint is configured: that it
 * exists and that its policy lets CloudTrail publish (InsufficientSnsTopicPolicyException otherwise, as
 * AWS answers both).
 */
export interface SnsTopics {
  check(topicArn: string, trailArn: string, accountId: string): Promise<void>;
  close(): void;
}

/** With `checkPolicy` false (moto mode) only the topic's existence is checked. */
export function createSnsTopics(endpoint: ServiceEndpoint | undefined, checkPolicy = true): SnsTopics {
  if (endpoint === undefined) return { check: async () => undefined, close: () => undefined };
  const sns = endpointClient(
    endpoint,
    () => import('@aws-sdk/client-sns'),
    (sdk, options) => new sdk.SNSClient(options),
  );
  return {
    async check(topicArn, trailArn, accountId) {
      let policy: string | undefined;
      try {
        const { sdk, client } = await sns.get();
        policy = (await client.send(new sdk.GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes?.['Policy'];
      } catch (error) {
        throw new ServiceError(
          'InsufficientSnsTopicPolicyException',
          `SNS topic ${topicArn} does not exist or cannot be read: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (!checkPolicy) return;
      if (policy === undefined || !policyAllowsCloudTrail(policy, 'SNS:Publish', topicArn, { trailArn, accountId })) {
        throw new ServiceError(
          'InsufficientSnsTopicPolicyException',
          `The policy of SNS topic ${topicArn} must allow the service principal cloudtrail.amazonaws.com SNS:Publish on it.`,
        );
      }
    },
    close: () => sns.close(),
  };
}

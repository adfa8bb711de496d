import type { ServiceEndpoint } from '../../config/load-config.ts';
import { endpointClient } from '../endpoint-client.ts';

/**
 * Trail notifications (facts §5.3): one SNS message per delivery, whose `Message` is
 * `{"s3Bucket":"…","s3ObjectKey":["…",…]}`, sent to an SNS-compatible endpoint. Without an endpoint the
 * topic is kept on the trail but nothing is sent (`enabled` is false).
 */
export interface Notifier {
  readonly enabled: boolean;
  publish(topicArn: string, bucket: string, keys: string[]): Promise<void>;
  close(): void;
}

export function createNotifier(endpoint: ServiceEndpoint | undefined): Notifier {
  if (endpoint === undefined) {
    return { enabled: false, publish: async () => undefined, close: () => undefined };
  }
  const sns = endpointClient(
    endpoint,
    () => import('@aws-sdk/client-sns'),
    (sdk, options) => new sdk.SNSClient(options),
  );
  return {
    enabled: true,
    async publish(topicArn, bucket, keys) {
      const { sdk, client } = await sns.get();
      await client.send(
        new sdk.PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys }),
        }),
      );
    },
    close: () => sns.close(),
  };
}

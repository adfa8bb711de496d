import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { ServiceEndpoint } from '../../config/load-config.ts';

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
  const client = new SNSClient({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    maxAttempts: 2,
  });
  return {
    enabled: true,
    async publish(topicArn, bucket, keys) {
      await client.send(
        new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys }) }),
      );
    },
    close: () => client.destroy(),
  };
}

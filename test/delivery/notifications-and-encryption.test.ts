import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  CreateTrailCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SetTopicAttributesCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ManualClock } from '../../src/model/clock.ts';
import { createObjectStore } from '../../src/objectstore/index.ts';
import { MOTO_CREDENTIALS, useMoto } from '../helpers/moto.ts';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';

/**
 * Notifications (facts §5.3) through moto's SNS to an SQS queue, and encryption at rest (facts §5.2):
 * SSE-KMS on an S3 endpoint with the key checked against moto's KMS, envelope encryption on the local store.
 */
const moto = useMoto();
const INTERVALS = ['--delivery-interval', '60', '--digest-interval', '600'];

function motoServerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of ['S3', 'SNS', 'KMS']) {
    env[`OPENTRAIL_${service}_ENDPOINT`] = moto.endpoint();
    env[`OPENTRAIL_${service}_ACCESS_KEY_ID`] = MOTO_CREDENTIALS.accessKeyId;
    env[`OPENTRAIL_${service}_SECRET_ACCESS_KEY`] = MOTO_CREDENTIALS.secretAccessKey;
  }
  return env;
}

const clients = () => {
  const config = { endpoint: moto.endpoint(), region: 'us-east-1', credentials: MOTO_CREDENTIALS };
  return { sns: new SNSClient(config), sqs: new SQSClient(config), kms: new KMSClient(config), s3: moto.s3() };
};

const cloudTrailPolicy = (bucket: string) =>
  JSON.stringify({
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
    ],
  });

async function deliverOnce(w: TestWorld, clock: ManualClock, name: string): Promise<void> {
  await w.cloudtrail().send(new StartLoggingCommand({ Name: name }));
  await w.cloudtrail().send(new GetTrailCommand({ Name: name }));
  await clock.advance(60_000);
  await w.app.deliveryIdle();
}

describe('SNS notifications', () => {
  it('publishes one message per delivery naming the bucket and the delivered keys', async () => {
    const { sns, sqs, s3 } = clients();
    const clock = new ManualClock(Date.UTC(2026, 6, 1, 12));
    await s3.send(new CreateBucketCommand({ Bucket: 'notified-logs' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'notified-logs', Policy: cloudTrailPolicy('notified-logs') }));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'trail-topic' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'trail-queue' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.['QueueArn'] }));
    await withServer(
      async (w) => {
        await rejectsWith(
          w
            .cloudtrail()
            .send(new CreateTrailCommand({ Name: 'notified', S3BucketName: 'notified-logs', SnsTopicName: TopicArn })),
          'InsufficientSnsTopicPolicyException',
          /must allow the service principal cloudtrail\.amazonaws\.com SNS:Publish/,
        );
        await rejectsWith(
          w.cloudtrail().send(
            new CreateTrailCommand({
              Name: 'notified',
              S3BucketName: 'notified-logs',
              SnsTopicName: 'no-such-topic',
            }),
          ),
          'InsufficientSnsTopicPolicyException',
        );
        const policy = {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'cloudtrail.amazonaws.com' },
              Action: 'SNS:Publish',
              Resource: TopicArn,
            },
          ],
        };
        await sns.send(
          new SetTopicAttributesCommand({ TopicArn, AttributeName: 'Policy', AttributeValue: JSON.stringify(policy) }),
        );
        await w
          .cloudtrail()
          .send(new CreateTrailCommand({ Name: 'notified', S3BucketName: 'notified-logs', SnsTopicName: TopicArn }));
        await deliverOnce(w, clock, 'notified');

        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        assert.equal(received.Messages?.length, 1, 'one message for the one delivery');
        const envelope = JSON.parse(received.Messages?.[0]?.Body ?? '{}') as { Message: string; TopicArn: string };
        assert.equal(envelope.TopicArn, TopicArn);
        const message = JSON.parse(envelope.Message) as { s3Bucket: string; s3ObjectKey: string[] };
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'notified-logs', Prefix: 'AWSLogs/' }));
        assert.deepEqual(message, {
          s3Bucket: 'notified-logs',
          s3ObjectKey: (listed.Contents ?? []).map((o) => o.Key).filter((k) => k?.includes('/CloudTrail/')),
        });
        const status = await w.cloudtrail().send(new GetTrailStatusCommand({ Name: 'notified' }));
        assert.equal(status.LatestNotificationTime?.getTime(), clock.now());
        assert.equal(status.LatestNotificationError, undefined);
        const attempt = new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
        assert.equal(status.LatestNotificationAttemptTime, attempt);
        assert.equal(status.LatestNotificationAttemptSucceeded, attempt);
      },
      { clock, argv: INTERVALS, env: motoServerEnv() },
    );
    for (const c of [sns, sqs, s3]) c.destroy();
  });
});

describe('encryption with KmsKeyId', () => {
  it('checks the key against KMS, stores its ARN, and writes SSE-KMS log files and SSE-S3 digest files', async () => {
    const { kms, s3 } = clients();
    const clock = new ManualClock(Date.UTC(2026, 6, 2, 12));
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'trail key' }));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/trail-key', TargetKeyId: KeyMetadata?.KeyId }));
    await s3.send(new CreateBucketCommand({ Bucket: 'sealed-logs' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'sealed-logs', Policy: cloudTrailPolicy('sealed-logs') }));
    await withServer(
      async (w) => {
        await rejectsWith(
          w
            .cloudtrail()
            .send(new CreateTrailCommand({ Name: 'sealed', S3BucketName: 'sealed-logs', KmsKeyId: 'alias/missing' })),
          'KmsKeyNotFoundException',
        );
        const created = await w.cloudtrail().send(
          new CreateTrailCommand({
            Name: 'sealed',
            S3BucketName: 'sealed-logs',
            KmsKeyId: 'alias/trail-key',
            EnableLogFileValidation: true,
          }),
        );
        assert.equal(created.KmsKeyId, KeyMetadata?.Arn, 'the alias resolves to the key ARN, as AWS returns it');
        await deliverOnce(w, clock, 'sealed');
        await clock.advance(600_000);
        await w.app.deliveryIdle();
        const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'sealed-logs' }))).Contents ?? []).map(
          (o) => o.Key as string,
        );
        assert.ok(keys.some((k) => k.includes('/CloudTrail/')) && keys.some((k) => k.includes('/CloudTrail-Digest/')));
        for (const key of keys) {
          const head = await s3.send(new HeadObjectCommand({ Bucket: 'sealed-logs', Key: key }));
          if (key.includes('/CloudTrail-Digest/')) {
            assert.notEqual(head.ServerSideEncryption, 'aws:kms', key);
            assert.equal(head.SSEKMSKeyId, undefined, key);
          } else {
            assert.equal(head.ServerSideEncryption, 'aws:kms', key);
            assert.equal(head.SSEKMSKeyId, KeyMetadata?.Arn, key);
          }
        }
      },
      { clock, argv: INTERVALS, env: motoServerEnv() },
    );
    for (const c of [kms, s3]) c.destroy();
  });

  it('encrypts files at rest on the local store, readable through opentrail only with the master key', async () => {
    const clock = new ManualClock(Date.UTC(2026, 6, 3, 12));
    await withServer(
      async (w) => {
        const keyId = '2b1c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b';
        await w
          .cloudtrail()
          .send(new CreateTrailCommand({ Name: 'local-sealed', S3BucketName: 'local-sealed', KmsKeyId: keyId }));
        await deliverOnce(w, clock, 'local-sealed');
        const root = join(w.dataDir, 'buckets', 'local-sealed');
        const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
        assert.equal(files.length, 1);
        const file = files[0] as (typeof files)[number];
        const key = join(file.parentPath, file.name).slice(root.length + 1);
        const onDisk = await readFile(join(root, key));
        assert.throws(() => gunzipSync(onDisk), 'the bytes on disk are not the gzip file');
        const store = createObjectStore({ dataDir: w.dataDir });
        const read = await store.getObject('local-sealed', key);
        const records = JSON.parse(gunzipSync(read.body).toString()).Records as { eventName: string }[];
        assert.deepEqual(
          records.map((r) => r.eventName),
          ['StartLogging', 'GetTrail'],
        );
        await rm(join(w.dataDir, 'secrets', 'kms-master-keys.json'));
        await assert.rejects(createObjectStore({ dataDir: w.dataDir }).getObject('local-sealed', key), /master key/);
      },
      { clock, argv: INTERVALS },
    );
  });
});

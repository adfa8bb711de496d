import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreateTrailCommand,
  GetTrailStatusCommand,
  type GetTrailStatusCommandOutput,
  StartLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ManualClock } from '../../src/model/clock.ts';
import { useMoto } from '../helpers/moto.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';
import {
  advance,
  bucketKeys,
  gunzipOneMember,
  ingest,
  type Json,
  lookupTexts,
  managementRecord,
} from './delivered-files.ts';

/**
 * GetTrailStatus's delivery members (facts §3.5, §5.2): LatestDeliveryTime and LatestDigestDeliveryTime are
 * the service clock's times of the latest deliveries; a bucket that refuses files shows its S3 error as
 * LatestDeliveryError, and once it is back every record of the failed intervals is delivered, once.
 */

const moto = useMoto();
const START = Date.UTC(2026, 8, 14, 16, 0, 0);
const MINUTE_MS = 60_000;

async function status(w: TestWorld, name: string): Promise<GetTrailStatusCommandOutput> {
  return w.cloudtrail().send(new GetTrailStatusCommand({ Name: name }));
}

async function startTrail(w: TestWorld, input: { Name: string; S3BucketName: string } & Json): Promise<void> {
  await w.cloudtrail().send(new CreateTrailCommand(input));
  await w.cloudtrail().send(new StartLoggingCommand({ Name: input.Name }));
}

describe('GetTrailStatus delivery times', () => {
  it('shows no delivery time, digest time or error before the first delivery', async () => {
    const clock = new ManualClock(START);
    await withServer(
      async (w) => {
        await startTrail(w, { Name: 'fresh', S3BucketName: 'fresh-bucket', EnableLogFileValidation: true });
        const s = await status(w, 'fresh');
        assert.equal(s.IsLogging, true);
        assert.equal(s.StartLoggingTime?.getTime(), START);
        assert.equal(s.LatestDeliveryTime, undefined);
        assert.equal(s.LatestDigestDeliveryTime, undefined);
        assert.equal(s.LatestDeliveryError, undefined);
        assert.equal(s.LatestDigestDeliveryError, undefined);
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', '600'] },
    );
  });

  it('shows the service clock time of the latest delivery as LatestDeliveryTime', async () => {
    const clock = new ManualClock(START);
    await withServer(
      async (w) => {
        await startTrail(w, { Name: 'timed', S3BucketName: 'timed-bucket' });
        await advance(w, clock);
        assert.equal((await status(w, 'timed')).LatestDeliveryTime?.getTime(), START + MINUTE_MS);
        // The GetTrailStatus call above is itself delivered a minute later.
        await advance(w, clock);
        const s = await status(w, 'timed');
        assert.equal(s.LatestDeliveryTime?.getTime(), START + 2 * MINUTE_MS);
        assert.equal(s.LatestDeliveryError, undefined);
        assert.equal(s.LatestDigestDeliveryTime, undefined, 'validation is off');
        const keys = await bucketKeys(w, 'timed-bucket');
        assert.deepEqual(
          keys.map((k) => k.match(/_(\d{8}T\d{4}Z)_/)?.[1]),
          ['20260914T1601Z', '20260914T1602Z'],
        );
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', '600'] },
    );
  });

  it('shows the time of the latest digest as LatestDigestDeliveryTime when validation is on', async () => {
    const clock = new ManualClock(START);
    await withServer(
      async (w) => {
        await startTrail(w, { Name: 'digested', S3BucketName: 'digest-bucket', EnableLogFileValidation: true });
        await startTrail(w, { Name: 'plain', S3BucketName: 'plain-bucket' });
        await advance(w, clock, 10);
        assert.equal((await status(w, 'digested')).LatestDigestDeliveryTime?.getTime(), START + 10 * MINUTE_MS);
        assert.equal((await status(w, 'plain')).LatestDigestDeliveryTime, undefined);
        await advance(w, clock, 10);
        assert.equal((await status(w, 'digested')).LatestDigestDeliveryTime?.getTime(), START + 20 * MINUTE_MS);
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', '600'] },
    );
  });
});

/** The policy of facts §3.2, letting CloudTrail write anywhere in the bucket. */
function cloudTrailPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Sid: 'AWSCloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  });
}

async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: cloudTrailPolicy(bucket) }));
}

/** Every record of every log file in an S3 bucket, by key. */
async function s3LogRecords(s3: S3Client, bucket: string): Promise<Map<string, Json[]>> {
  const files = new Map<string, Json[]>();
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const { Key } of Contents) {
    if (!Key?.includes('/CloudTrail/')) continue;
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    const body = gunzipOneMember(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    files.set(Key, (JSON.parse(body.toString('utf8')) as { Records: Json[] }).Records);
  }
  return files;
}

async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<void> {
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const { Key } of Contents) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** A server on the moto S3 endpoint, with an S3 client for the test's own bucket work. */
async function withS3World(fn: (w: TestWorld, clock: ManualClock, s3: S3Client) => Promise<void>): Promise<void> {
  const clock = new ManualClock(START);
  const s3 = moto.s3();
  const env = {
    OPENTRAIL_S3_ENDPOINT: moto.endpoint(),
    OPENTRAIL_S3_ACCESS_KEY_ID: 'testing',
    OPENTRAIL_S3_SECRET_ACCESS_KEY: 'testing',
  };
  try {
    await withServer((w) => fn(w, clock, s3), {
      clock,
      env,
      argv: ['--delivery-interval', '60', '--digest-interval', '3600'],
    });
  } finally {
    s3.destroy();
  }
}

describe('delivery to a bucket that goes away', () => {
  it('shows NoSuchBucket as LatestDeliveryError, then delivers every record of the failed intervals exactly once', async () => {
    await withS3World(async (w, clock, s3) => {
      await createBucket(s3, 'fragile-bucket');
      await startTrail(w, { Name: 'fragile', S3BucketName: 'fragile-bucket' });
      await advance(w, clock);
      const delivered = [...(await s3LogRecords(s3, 'fragile-bucket')).values()].flat();
      assert.ok(delivered.some((r) => r['eventName'] === 'StartLogging'));
      const firstDelivery = START + MINUTE_MS;
      assert.equal((await status(w, 'fragile')).LatestDeliveryTime?.getTime(), firstDelivery);

      await emptyAndDeleteBucket(s3, 'fragile-bucket');
      const lost: string[] = [];
      for (let i = 0; i < 3; i++) {
        lost.push(...(await ingest(w, [managementRecord(clock), managementRecord(clock, { awsRegion: 'us-east-1' })])));
        await advance(w, clock);
        const s = await status(w, 'fragile');
        assert.equal(s.LatestDeliveryError, 'NoSuchBucket');
        assert.equal(s.LatestDeliveryTime?.getTime(), firstDelivery, 'the last successful delivery');
        assert.equal(s.IsLogging, true);
      }

      await createBucket(s3, 'fragile-bucket');
      lost.push(...(await ingest(w, [managementRecord(clock)])));
      await advance(w, clock);
      const recovered = START + 5 * MINUTE_MS;
      const s = await status(w, 'fragile');
      assert.equal(s.LatestDeliveryError, undefined);
      assert.equal(s.LatestDeliveryTime?.getTime(), recovered);

      const records = [...(await s3LogRecords(s3, 'fragile-bucket')).values()].flat();
      const ids = records.map((r) => r['eventID'] as string);
      assert.equal(new Set(ids).size, ids.length, 'no record delivered twice');
      for (const id of lost) assert.ok(ids.includes(id), `${id} was delivered after the bucket came back`);
      // Every call recorded from the first delivery until the recovery is there, the GetTrailStatus calls
      // made while the bucket was gone included.
      const before = new Set(delivered.map((r) => r['eventID'] as string));
      const history = [...(await lookupTexts(w)).entries()]
        .filter(([, text]) => {
          const ms = Date.parse((JSON.parse(text) as { eventTime: string }).eventTime);
          return ms >= firstDelivery && ms < recovered;
        })
        .map(([id]) => id)
        .filter((id) => !before.has(id));
      assert.ok(history.length >= 3, 'the GetTrailStatus calls of the failed intervals are in event history');
      assert.deepEqual(
        history.filter((id) => !ids.includes(id)),
        [],
        'every event of the failed intervals is delivered',
      );
    });
  });

  it('delivers the records held for a missing bucket to the bucket UpdateTrail moves the trail to', async () => {
    await withS3World(async (w, clock, s3) => {
      await createBucket(s3, 'abandoned-bucket');
      await startTrail(w, { Name: 'moved', S3BucketName: 'abandoned-bucket' });
      await advance(w, clock);
      await emptyAndDeleteBucket(s3, 'abandoned-bucket');
      const held = await ingest(w, [managementRecord(clock)]);
      await advance(w, clock);
      assert.equal((await status(w, 'moved')).LatestDeliveryError, 'NoSuchBucket');
      await createBucket(s3, 'rescue-bucket');
      await w.cloudtrail().send(new UpdateTrailCommand({ Name: 'moved', S3BucketName: 'rescue-bucket' }));
      const later = await ingest(w, [managementRecord(clock)]);
      await advance(w, clock, 2);
      assert.equal((await status(w, 'moved')).LatestDeliveryError, undefined);
      const ids = [...(await s3LogRecords(s3, 'rescue-bucket')).values()].flat().map((r) => r['eventID']);
      for (const id of [...held, ...later]) assert.ok(ids.includes(id), `${id} is in the new bucket`);
    });
  });
});

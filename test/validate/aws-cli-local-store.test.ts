import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CreateTrailCommand, LookupEventsCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import {
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ManualClock } from '../../src/model/clock.ts';
import { awsCli } from '../helpers/aws-cli.ts';
import { deliverMinutes } from '../helpers/delivery.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';

/**
 * `aws cloudtrail validate-logs` on the default local store: with AWS_ENDPOINT_URL_S3 set to opentrail itself,
 * the CLI's S3 reads (GetBucketLocation, ListObjects, GetObject) are answered from the bucket folders, to the
 * bucket's owning account only.
 */
const MINUTE_MS = 60_000;
const PERIOD_MS = 10 * MINUTE_MS;
const PERIODS = 3;
const BUCKET = 'local-cli-bucket';
const display = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';

describe('aws cloudtrail validate-logs on the local store', () => {
  // The server's clock ends near real time: the CLI signs with the real clock.
  const startMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - PERIODS * PERIOD_MS - 2 * MINUTE_MS;
  const clock = new ManualClock(startMs);
  let world: TestWorld;
  let stop: () => Promise<void>;
  let trailArn: string;
  let endMs: number;
  let s3: S3Client;

  before(async () => {
    ({ world, stop } = await startTestServer({
      clock,
      argv: ['--delivery-interval', '60', '--digest-interval', String(PERIOD_MS / 1000)],
    }));
    const created = await world
      .cloudtrail()
      .send(new CreateTrailCommand({ Name: 'local', S3BucketName: BUCKET, EnableLogFileValidation: true }));
    trailArn = created.TrailARN as string;
    await world.cloudtrail().send(new StartLoggingCommand({ Name: 'local' }));
    await deliverMinutes(world, clock, PERIODS * 10, 4);
    endMs = clock.now();
    s3 = new S3Client({
      endpoint: world.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: world.adminCredentials,
    });
  });
  after(async () => {
    s3?.destroy();
    await stop?.();
  });

  const validate = () =>
    awsCli(
      [
        'cloudtrail',
        'validate-logs',
        '--trail-arn',
        trailArn,
        '--start-time',
        display(startMs),
        '--end-time',
        display(endMs),
        '--endpoint-url',
        world.url,
      ],
      world.adminCredentials,
      { AWS_ENDPOINT_URL_S3: world.url },
    );

  async function logFiles(): Promise<string[]> {
    const root = join(world.dataDir, 'buckets', BUCKET);
    const files = await readdir(root, { recursive: true });
    return files.filter((f) => f.endsWith('.json.gz') && f.includes('/CloudTrail/')).map((f) => join(root, f));
  }

  it('calls every digest and log file valid, and names a changed one', async () => {
    const clean = await validate();
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, new RegExp(`\n${PERIODS}/${PERIODS} digest files valid\n`));
    const [file] = (await logFiles()).sort();
    const original = await readFile(file as string);
    await writeFile(file as string, gzipSync('{"Records":[]}'));
    try {
      const tampered = await validate();
      assert.equal(tampered.code, 1);
      assert.match(tampered.stderr, /INVALID: hash value doesn't match/);
    } finally {
      await writeFile(file as string, original);
    }
  });

  it('lets aws s3 cp download a large object in ranged parts, byte for byte', async () => {
    const big = randomBytes(20 * 1024 * 1024);
    await writeFile(join(world.dataDir, 'buckets', BUCKET, 'big.bin'), big);
    const target = join(world.dataDir, 'big-copy.bin');
    const copied = await awsCli(['s3', 'cp', `s3://${BUCKET}/big.bin`, target], world.adminCredentials, {
      AWS_ENDPOINT_URL_S3: world.url,
    });
    assert.equal(copied.code, 0, copied.stderr);
    assert.ok((await readFile(target)).equals(big));
  });

  it('lists the caller its own local buckets with aws s3 ls, and another account none of them', async () => {
    const mine = await awsCli(['s3', 'ls', '--endpoint-url', world.url], world.adminCredentials);
    assert.match(mine.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${BUCKET}$`, 'm'));
    const other = await world.newAccount();
    const theirs = await awsCli(['s3', 'ls', '--endpoint-url', world.url], other.root);
    assert.equal(theirs.stdout.trim(), '');
  });

  it('answers the S3 reads to the owning account only, and refuses writes', async () => {
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: BUCKET }));
    assert.equal(location.LocationConstraint, undefined);
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'AWSLogs/', MaxKeys: 2 }));
    assert.equal(v2.KeyCount, 2);
    assert.equal(v2.IsTruncated, true);
    const rest = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'AWSLogs/', ContinuationToken: v2.NextContinuationToken }),
    );
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: 'AWSLogs/' }));
    const keys = [...(v2.Contents ?? []), ...(rest.Contents ?? [])].map((o) => o.Key);
    assert.deepEqual(
      keys,
      (v1.Contents ?? []).map((o) => o.Key),
    );
    const key = keys[0] as string;
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const body = await got.Body?.transformToByteArray();
    assert.equal(body?.byteLength, head.ContentLength);
    assert.deepEqual(
      Buffer.from(body ?? []),
      await readFile(join(world.dataDir, 'buckets', BUCKET, ...key.split('/'))),
    );

    // Ranged reads, as the AWS CLI makes of large objects.
    const whole = Buffer.from(body ?? []);
    const ranged = async (Range: string) => {
      const part = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range }));
      return { range: part.ContentRange, bytes: Buffer.from((await part.Body?.transformToByteArray()) ?? []) };
    };
    assert.deepEqual(await ranged('bytes=0-9'), { range: `bytes 0-9/${whole.length}`, bytes: whole.subarray(0, 10) });
    assert.deepEqual(await ranged('bytes=-5'), {
      range: `bytes ${whole.length - 5}-${whole.length - 1}/${whole.length}`,
      bytes: whole.subarray(-5),
    });
    await assert.rejects(ranged(`bytes=${whole.length}-`), { name: 'InvalidRange' });
    // Listing arguments S3 refuses, and keys XML cannot carry unless URL-encoded.
    await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: 'garbage' })), {
      name: 'InvalidArgument',
    });
    await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: -1 })), {
      name: 'InvalidArgument',
    });
    await assert.rejects(s3.send(new ListObjectsCommand({ Bucket: BUCKET, Marker: 'a\u0001' })), {
      name: 'InvalidArgument',
    });
    const encoded = await s3.send(
      new ListObjectsCommand({ Bucket: BUCKET, Prefix: 'AWSLogs/', Marker: 'A\u0001', EncodingType: 'url' }),
    );
    // The JS SDK leaves decoding to its caller (botocore decodes).
    assert.equal(decodeURIComponent(encoded.Marker ?? ''), 'A\u0001');
    assert.deepEqual(
      encoded.Contents?.map((o) => o.Key),
      v1.Contents?.map((o) => o.Key),
    );
    // S3's error documents name the missing key or bucket in members of their own.
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${key}.nope` })), {
      name: 'NoSuchKey',
      message: 'The specified key does not exist.',
      Key: `${key}.nope`,
    });
    // Keys that would name a file outside the bucket's folder name nothing.
    for (const outside of ['../../secrets/access-keys.json', 'a/../../../opentrail.duckdb', 'x\\..\\y']) {
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: outside })), {
        name: 'NoSuchKey',
        Key: outside,
      });
    }
    await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: 'secrets' })), { name: 'NoSuchBucket' });
    await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })), {
      name: 'NoSuchBucket',
      BucketName: 'no-such-bucket',
    });
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x', Body: 'x' })), {
      name: 'NotImplemented',
    });
    // Unsigned reads are anonymous S3 reads: refused in S3's XML, whether or not the bucket exists.
    for (const path of [`/${BUCKET}/${key}`, `/${BUCKET}?list-type=2`, '/no-such-bucket/k', '/']) {
      const got = await fetch(new URL(path, world.url));
      assert.equal(got.status, 403, path);
      assert.match(await got.text(), /<Error><Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/, path);
      const head = await fetch(new URL(path, world.url), { method: 'HEAD' });
      assert.equal(head.status, 403, path);
      assert.equal(await head.text(), '', path);
    }
    assert.equal((await fetch(new URL('/health', world.url))).status, 200);
    const other = await world.newAccount();
    const theirs = new S3Client({
      endpoint: world.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: other.root,
    });
    try {
      await assert.rejects(theirs.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'AccessDenied' });
      await assert.rejects(theirs.send(new ListObjectsV2Command({ Bucket: BUCKET })), { name: 'AccessDenied' });
      await assert.rejects(theirs.send(new GetBucketLocationCommand({ Bucket: BUCKET })), { name: 'AccessDenied' });
    } finally {
      theirs.destroy();
    }
    // Each read is recorded as S3 records it: GetBucketLocation is a management event, in each caller's history.
    await world.historyCaughtUp();
    const located = async (client: ReturnType<TestWorld['cloudtrail']>) =>
      (
        await client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GetBucketLocation' }],
          }),
        )
      ).Events?.map((e) => JSON.parse(String(e.CloudTrailEvent)) as { eventSource: string; errorCode?: string }) ?? [];
    const mine = await located(world.cloudtrail());
    assert.ok(mine.length >= 1, 'the location was asked for');
    assert.ok(mine.every((e) => e.eventSource === 's3.amazonaws.com' && e.errorCode === undefined));
    const refused = await located(world.cloudtrail({ credentials: other.root }));
    assert.deepEqual(
      refused.map((e) => e.errorCode),
      ['AccessDenied'],
    );
  });
});

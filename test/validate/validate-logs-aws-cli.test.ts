import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { runCli } from '../../src/cli/run-cli.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { type DigestContent, digestMetadata, serializeDigest, signDigest } from '../../src/trails/index.ts';
import { awsCli, type CliResult } from '../helpers/aws-cli.ts';
import { deliverMinutes } from '../helpers/delivery.ts';
import { useMoto } from '../helpers/moto.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';

/**
 * Our validator beside the real `aws cloudtrail validate-logs` (AWS CLI v1 on PATH), on the same trail, bucket
 * and tampering: a trail with a key prefix delivering to moto's S3. Where the CLI sees a problem, both print the
 * same bytes; where it is blind (two digests deleted in a row, aws-cli #7054), ours says more.
 */
const MINUTE_MS = 60_000;
const PERIOD_MS = 10 * MINUTE_MS;
const PERIODS = 4;
const BUCKET = 'cli-parity-bucket';
const PREFIX = 'pfx';
const display = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';

const moto = useMoto();

describe('opentrail validate-logs beside aws cloudtrail validate-logs', () => {
  // The server's clock ends near real time: both CLIs sign with the real clock.
  const startMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - PERIODS * PERIOD_MS - 2 * MINUTE_MS;
  const clock = new ManualClock(startMs);
  let world: TestWorld;
  let stopServer: () => Promise<void>;
  let s3: S3Client;
  let trailArn: string;
  let endMs: number;
  /** Oldest first. */
  let digestKeys: string[];
  let logKeys: string[];

  before(async () => {
    s3 = moto.s3();
    const server = await startTestServer({
      clock,
      argv: ['--delivery-interval', '60', '--digest-interval', String(PERIOD_MS / 1000)],
      env: {
        OPENTRAIL_S3_ENDPOINT: moto.endpoint(),
        OPENTRAIL_S3_ACCESS_KEY_ID: 'test',
        OPENTRAIL_S3_SECRET_ACCESS_KEY: 'test',
      },
    });
    world = server.world;
    stopServer = server.stop;
    const account = world.app.admin.accountId;
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(cloudTrailPolicy(account)) }));
    const created = await world.cloudtrail().send(
      new CreateTrailCommand({
        Name: 'parity',
        S3BucketName: BUCKET,
        S3KeyPrefix: PREFIX,
        EnableLogFileValidation: true,
      }),
    );
    trailArn = created.TrailARN as string;
    await world.cloudtrail().send(new StartLoggingCommand({ Name: 'parity' }));
    await deliverMinutes(world, clock, PERIODS * 10, 4);
    endMs = clock.now();
    const keys = await listKeys(`${PREFIX}/AWSLogs/`);
    digestKeys = keys.filter((k) => k.includes('/CloudTrail-Digest/'));
    logKeys = keys.filter((k) => k.includes('/CloudTrail/'));
    assert.equal(digestKeys.length, PERIODS);
  });

  after(async () => {
    s3?.destroy();
    await stopServer?.();
  });

  async function listKeys(prefix: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key as string).sort();
  }

  const range = () => ['--trail-arn', trailArn, '--start-time', display(startMs), '--end-time', display(endMs)];

  function awsValidate(extra: string[] = []): Promise<CliResult> {
    return awsCli(
      ['cloudtrail', 'validate-logs', ...range(), ...extra, '--endpoint-url', world.url, '--region', 'us-east-1'],
      world.adminCredentials,
      { AWS_ENDPOINT_URL_S3: moto.endpoint() },
    );
  }

  async function ourValidate(extra: string[] = []): Promise<CliResult> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on('data', (c: Buffer) => out.push(c.toString()));
    stderr.on('data', (c: Buffer) => err.push(c.toString()));
    const env = {
      AWS_ACCESS_KEY_ID: world.adminCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: world.adminCredentials.secretAccessKey,
      OPENTRAIL_S3_ACCESS_KEY_ID: 'test',
      OPENTRAIL_S3_SECRET_ACCESS_KEY: 'test',
    };
    const argv = ['validate-logs', ...range(), ...extra, '--endpoint-url', world.url, '--s3-endpoint', moto.endpoint()];
    const code = await runCli(argv, { env, stdout, stderr });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  async function withObjectsRestored(keys: string[], fn: () => Promise<void>): Promise<void> {
    const saved = await Promise.all(
      keys.map(async (key) => {
        const o = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        return { key, body: await (o.Body?.transformToByteArray() ?? new Uint8Array()), metadata: o.Metadata ?? {} };
      }),
    );
    try {
      await fn();
    } finally {
      for (const { key, body, metadata } of saved) {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
      }
    }
  }

  it('prints the same bytes and exit code as the AWS CLI on untouched output, verbose', async () => {
    const [theirs, ours] = [await awsValidate(['--verbose']), await ourValidate(['--verbose'])];
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.match(theirs.stdout, new RegExp(`\n${PERIODS}/${PERIODS} digest files valid\n`));
    assert.deepEqual(ours, theirs);
  });

  it('prints the same bytes as the AWS CLI for a changed log file and a deleted digest', async () => {
    const changed = logKeys[3] as string;
    const deleted = digestKeys[1] as string;
    await withObjectsRestored([changed, deleted], async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: changed, Body: Buffer.from('{"Records":[]}') }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: deleted }));
      const [theirs, ours] = [await awsValidate(), await ourValidate()];
      assert.equal(theirs.code, 1);
      assert.match(theirs.stderr, /INVALID: not found/);
      assert.deepEqual(ours, theirs);
    });
  });

  it('prints the same bytes as the AWS CLI for a backfill digest, valid and then tampered with', async () => {
    const regular = digestKeys[1] as string;
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: regular }));
    const base = JSON.parse(
      gunzipSync(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString(),
    ) as DigestContent;
    const key = regular.replace(/\.json\.gz$/, '_backfill.json.gz');
    const content: DigestContent = {
      ...base,
      digestS3Object: key,
      previousDigestS3Bucket: null,
      previousDigestS3Object: null,
      previousDigestHashValue: null,
      previousDigestHashAlgorithm: null,
      previousDigestSignature: null,
      logFiles: base.logFiles.slice(0, 1),
    };
    const bytes = serializeDigest(content);
    const privateKey = world.app.services.signingKeys.privateKeyFor('us-east-1', content.digestPublicKeyFingerprint);
    assert.ok(privateKey);
    const metadata = {
      ...digestMetadata(signDigest(content, bytes, privateKey)),
      'backfill-generation-timestamp': display(endMs),
    };
    try {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: gzipSync(bytes), Metadata: metadata }));
      const [theirs, ours] = [await awsValidate(['--verbose']), await ourValidate(['--verbose'])];
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.match(theirs.stdout, /\(backfill\) Digest file\t.*\tvalid\n[\s\S]*\n1\/1 backfill digest files valid\n/);
      assert.deepEqual(ours, theirs);

      const tampered = { ...content, logFiles: [] };
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: gzipSync(serializeDigest(tampered)),
          Metadata: metadata,
        }),
      );
      const [theirs2, ours2] = [await awsValidate(), await ourValidate()];
      assert.equal(theirs2.code, 1);
      assert.equal(
        theirs2.stderr,
        `(backfill) Digest file\ts3://${BUCKET}/${key}\tINVALID: signature verification failed\n\n`,
      );
      assert.deepEqual(ours2, theirs2);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    }
  });

  it('reports the second of two deleted digests, which the AWS CLI does not see', async () => {
    const [older, newer] = [digestKeys[1] as string, digestKeys[2] as string];
    await withObjectsRestored([older, newer], async () => {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: older }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: newer }));
      const [theirs, ours] = [await awsValidate(), await ourValidate()];
      assert.equal(theirs.stderr, `Digest file\ts3://${BUCKET}/${newer}\tINVALID: not found\n\n`);
      const theirCount = `${PERIODS - 2}/${PERIODS - 1} digest files valid, 1/${PERIODS - 1} digest files INVALID`;
      assert.match(theirs.stdout, new RegExp(`\n${theirCount}\n`));
      const olderStart = display(startMs + PERIOD_MS);
      const olderEnd = display(startMs + 2 * PERIOD_MS);
      const folder = `${PREFIX}/AWSLogs/${world.app.admin.accountId}/CloudTrail-Digest/us-east-1/`;
      assert.equal(
        ours.stderr,
        `${theirs.stderr}Digest file\ts3://${BUCKET}/${folder}\tINVALID: digest files missing between ${olderStart} and ${olderEnd}\n\n`,
      );
      assert.equal(
        ours.stdout,
        theirs.stdout.replace(
          theirCount,
          `${PERIODS - 2}/${PERIODS} digest files valid, 2/${PERIODS} digest files INVALID`,
        ),
      );
      assert.equal(ours.code, 1);
    });
  });
});

/** The bucket policy the CloudTrail User Guide documents. */
function cloudTrailPolicy(account: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${BUCKET}`,
      },
      {
        Sid: 'AWSCloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${BUCKET}/${PREFIX}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  };
}

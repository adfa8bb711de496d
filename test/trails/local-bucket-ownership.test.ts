import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import {
  CreateTrailCommand,
  DeleteTrailCommand,
  GetTrailCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { ManualClock } from '../../src/model/clock.ts';
import { FIXED_ADMIN } from '../helpers/child-server.ts';
import { rejectsWith, startTestServer, type TestWorld, withServer } from '../helpers/server.ts';

/**
 * The local object store stands in for S3, whose bucket names are one namespace across accounts: the first
 * account to use a name for a trail owns that bucket. Another account's trail may use it only when the bucket's
 * policy lets CloudTrail write there for that trail, which is what AWS checks for a bucket in another account
 * (facts §3.2); otherwise CreateTrail and UpdateTrail answer InsufficientS3BucketPolicyException.
 */
const INSUFFICIENT = 'InsufficientS3BucketPolicyException';

/** The bucket policy the CloudTrail User Guide documents, letting CloudTrail write for `trailArn` only. */
function policyFor(bucket: string, account: string, trailArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } },
      },
    ],
  });
}

/** An operator's bucket policy for the local store. */
async function putLocalPolicy(w: TestWorld, bucket: string, policy: string): Promise<void> {
  await mkdir(join(w.dataDir, 'bucket-policies'), { recursive: true });
  await writeFile(join(w.dataDir, 'bucket-policies', `${bucket}.json`), policy);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

const trailArn = (account: string, name: string) => `arn:aws:cloudtrail:us-east-1:${account}:trail/${name}`;

describe('local buckets belong to one account', () => {
  it('refuses another account’s CreateTrail and UpdateTrail into a bucket the first account owns', async () => {
    await withServer(async (w) => {
      const a = await w.newAccount();
      const b = await w.newAccount();
      const asA = w.cloudtrail({ credentials: a.root });
      const asB = w.cloudtrail({ credentials: b.root });
      await asA.send(new CreateTrailCommand({ Name: 'owner-trail', S3BucketName: 'claimed-bucket' }));
      // The owner's other trails share its bucket as before.
      await asA.send(new CreateTrailCommand({ Name: 'second-trail', S3BucketName: 'claimed-bucket' }));

      await rejectsWith(
        asB.send(new CreateTrailCommand({ Name: 'intruder', S3BucketName: 'claimed-bucket' })),
        INSUFFICIENT,
        /^Incorrect S3 bucket policy is detected for bucket: claimed-bucket/,
      );
      await rejectsWith(asB.send(new GetTrailCommand({ Name: 'intruder' })), 'TrailNotFoundException');

      await asB.send(new CreateTrailCommand({ Name: 'own-trail', S3BucketName: 'b-own-bucket' }));
      await rejectsWith(
        asB.send(new UpdateTrailCommand({ Name: 'own-trail', S3BucketName: 'claimed-bucket' })),
        INSUFFICIENT,
      );
      const { Trail } = await asB.send(new GetTrailCommand({ Name: 'own-trail' }));
      assert.equal(Trail?.S3BucketName, 'b-own-bucket', 'the refused update changed nothing');

      // A bucket B owns is refused to A in turn; the admin account is no exception.
      await rejectsWith(
        asA.send(new CreateTrailCommand({ Name: 'reverse', S3BucketName: 'b-own-bucket' })),
        INSUFFICIENT,
      );
      await rejectsWith(
        w.cloudtrail().send(new CreateTrailCommand({ Name: 'admin-trail', S3BucketName: 'claimed-bucket' })),
        INSUFFICIENT,
      );
    });
  });

  it('keeps the owner after its trails are deleted and across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-bucket-owner-'));
    try {
      const { world, stop } = await startTestServer({ dataDir, env: FIXED_ADMIN });
      let b: Awaited<ReturnType<TestWorld['newAccount']>>;
      try {
        const a = await world.newAccount();
        b = await world.newAccount();
        const asA = world.cloudtrail({ credentials: a.root });
        await asA.send(new CreateTrailCommand({ Name: 'short-lived', S3BucketName: 'kept-bucket' }));
        await asA.send(new DeleteTrailCommand({ Name: 'short-lived' }));
        await rejectsWith(
          world
            .cloudtrail({ credentials: b.root })
            .send(new CreateTrailCommand({ Name: 'taker', S3BucketName: 'kept-bucket' })),
          INSUFFICIENT,
        );
      } finally {
        await stop();
      }
      await withServer(
        async (w) => {
          await rejectsWith(
            w
              .cloudtrail({ credentials: b.root })
              .send(new CreateTrailCommand({ Name: 'taker', S3BucketName: 'kept-bucket' })),
            INSUFFICIENT,
          );
        },
        { dataDir, env: FIXED_ADMIN },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('gives a bucket folder nobody owns yet to the first account that uses it', async () => {
    await withServer(async (w) => {
      await mkdir(join(w.dataDir, 'buckets', 'unowned-bucket'), { recursive: true });
      const a = await w.newAccount();
      const b = await w.newAccount();
      await w
        .cloudtrail({ credentials: b.root })
        .send(new CreateTrailCommand({ Name: 'first', S3BucketName: 'unowned-bucket' }));
      await rejectsWith(
        w
          .cloudtrail({ credentials: a.root })
          .send(new CreateTrailCommand({ Name: 'second', S3BucketName: 'unowned-bucket' })),
        INSUFFICIENT,
      );
    });
  });

  it('lets another account’s trail deliver when the bucket policy lets CloudTrail write for that trail', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    await withServer(
      async (w) => {
        const a = await w.newAccount();
        const b = await w.newAccount();
        await w
          .cloudtrail({ credentials: a.root })
          .send(new CreateTrailCommand({ Name: 'owner', S3BucketName: 'shared-bucket' }));

        // A policy for another of B's trails does not do.
        await putLocalPolicy(w, 'shared-bucket', policyFor('shared-bucket', b.accountId, trailArn(b.accountId, 'x')));
        const asB = () => w.cloudtrail({ credentials: b.root });
        await rejectsWith(
          asB().send(new CreateTrailCommand({ Name: 'guest', S3BucketName: 'shared-bucket' })),
          INSUFFICIENT,
        );

        await putLocalPolicy(
          w,
          'shared-bucket',
          policyFor('shared-bucket', b.accountId, trailArn(b.accountId, 'guest')),
        );
        await asB().send(new CreateTrailCommand({ Name: 'guest', S3BucketName: 'shared-bucket' }));
        await asB().send(new StartLoggingCommand({ Name: 'guest' }));
        await clock.advance(120_000);
        await w.app.deliveryIdle();

        const files = await filesUnder(join(w.dataDir, 'buckets', 'shared-bucket'));
        assert.ok(
          files.some((f) => f.startsWith(`AWSLogs/${b.accountId}/CloudTrail/`)),
          `B's log files arrive under its own prefix: ${files.join(', ')}`,
        );
        assert.deepEqual(
          files.filter((f) => !f.startsWith(`AWSLogs/${b.accountId}/`)),
          [],
          'and nowhere else',
        );
      },
      { clock, argv: ['--delivery-interval', '60'] },
    );
  });
});

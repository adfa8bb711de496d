import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateTrailCommand, GetTrailCommand, UpdateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { CreateBucketCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { useMoto } from '../helpers/moto.ts';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';

/**
 * On an S3 endpoint the trail's bucket must exist and its policy must let CloudTrail write, as on AWS
 * (facts §3.2). moto plays S3; buckets and policies are made with the S3 SDK, as a user would.
 */

const moto = useMoto();
const motoEndpoint = () => moto.endpoint();
const s3 = () => moto.s3();

function withS3Server(fn: (w: TestWorld, s3: S3Client) => Promise<void>): Promise<void> {
  const client = s3();
  return withServer((w) => fn(w, client), {
    env: {
      OPENTRAIL_S3_ENDPOINT: motoEndpoint(),
      OPENTRAIL_S3_ACCESS_KEY_ID: 'test',
      OPENTRAIL_S3_SECRET_ACCESS_KEY: 'test',
    },
  }).finally(() => client.destroy());
}

/** The bucket policy the CloudTrail User Guide documents, for the trail's account (and prefix). */
function documentedPolicy(bucket: string, account: string, options: { prefix?: string; trailArn?: string } = {}) {
  const sourceArn = options.trailArn ? { 'aws:SourceArn': options.trailArn } : {};
  const prefix = options.prefix ? `${options.prefix}/` : '';
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
        ...(options.trailArn ? { Condition: { StringEquals: sourceArn } } : {}),
      },
      {
        Sid: 'AWSCloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/${prefix}AWSLogs/${account}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', ...sourceArn } },
      },
    ],
  };
}

async function bucketWithPolicy(client: S3Client, bucket: string, policy?: object): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (policy !== undefined) {
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
  }
}

describe('trail buckets on an S3 endpoint', () => {
  it('refuses a bucket that does not exist with S3BucketDoesNotExistException', async () => {
    await withS3Server(async (w) => {
      await rejectsWith(
        w.cloudtrail().send(new CreateTrailCommand({ Name: 'nowhere', S3BucketName: 'no-such-bucket' })),
        'S3BucketDoesNotExistException',
        /^S3 bucket no-such-bucket does not exist!$/,
      );
    });
  });

  it('refuses a bucket without a policy with InsufficientS3BucketPolicyException', async () => {
    await withS3Server(async (w, client) => {
      await bucketWithPolicy(client, 'policy-less');
      await rejectsWith(
        w.cloudtrail().send(new CreateTrailCommand({ Name: 'unwritable', S3BucketName: 'policy-less' })),
        'InsufficientS3BucketPolicyException',
      );
    });
  });

  it('refuses a policy that does not grant CloudTrail both GetBucketAcl and PutObject under AWSLogs/<account>', async () => {
    await withS3Server(async (w, client) => {
      const account = w.app.admin.accountId;
      const documented = documentedPolicy('short-policy', account);
      const [aclCheck, write] = documented.Statement;
      assert.ok(aclCheck && write);
      const insufficient: [string, object][] = [
        ['no GetBucketAcl', { ...documented, Statement: [write] }],
        ['no PutObject', { ...documented, Statement: [aclCheck] }],
        [
          'another account’s folder',
          {
            ...documented,
            Statement: [aclCheck, { ...write, Resource: 'arn:aws:s3:::short-policy/AWSLogs/999999999999/*' }],
          },
        ],
        [
          'another principal',
          { ...documented, Statement: [aclCheck, { ...write, Principal: { Service: 'config.amazonaws.com' } }] },
        ],
        ['a Deny', { ...documented, Statement: [aclCheck, { ...write, Effect: 'Deny' }] }],
      ];
      await bucketWithPolicy(client, 'short-policy');
      for (const [why, policy] of insufficient) {
        await client.send(new PutBucketPolicyCommand({ Bucket: 'short-policy', Policy: JSON.stringify(policy) }));
        await rejectsWith(
          w.cloudtrail().send(new CreateTrailCommand({ Name: 'unwritable', S3BucketName: 'short-policy' })),
          'InsufficientS3BucketPolicyException',
          /short-policy/,
        ).catch((error: Error) => assert.fail(`${why}: ${error.message}`));
      }
    });
  });

  it('refuses a policy for the bucket root when the trail writes under a key prefix', async () => {
    await withS3Server(async (w, client) => {
      await bucketWithPolicy(client, 'root-only', documentedPolicy('root-only', w.app.admin.accountId));
      await rejectsWith(
        w.cloudtrail().send(new CreateTrailCommand({ Name: 'prefixed', S3BucketName: 'root-only', S3KeyPrefix: 'p' })),
        'InsufficientS3BucketPolicyException',
      );
    });
  });

  it('creates the trail when the bucket has the policy the User Guide documents', async () => {
    await withS3Server(async (w, client) => {
      const account = w.app.admin.accountId;
      const trailArn = `arn:aws:cloudtrail:us-east-1:${account}:trail/documented`;
      await bucketWithPolicy(client, 'documented-bucket', documentedPolicy('documented-bucket', account, { trailArn }));
      await bucketWithPolicy(
        client,
        'prefixed-bucket',
        documentedPolicy('prefixed-bucket', account, { prefix: 'audit/logs' }),
      );
      const created = await w
        .cloudtrail()
        .send(new CreateTrailCommand({ Name: 'documented', S3BucketName: 'documented-bucket' }));
      assert.equal(created.TrailARN, trailArn);
      const prefixed = await w
        .cloudtrail()
        .send(new CreateTrailCommand({ Name: 'prefixed', S3BucketName: 'prefixed-bucket', S3KeyPrefix: 'audit/logs' }));
      assert.equal(prefixed.S3KeyPrefix, 'audit/logs');
    });
  });

  it('refuses to move a trail to a missing or unwritable bucket and keeps the old one', async () => {
    await withS3Server(async (w, client) => {
      const account = w.app.admin.accountId;
      await bucketWithPolicy(client, 'current-bucket', documentedPolicy('current-bucket', account));
      await bucketWithPolicy(client, 'locked-bucket');
      const ct = w.cloudtrail();
      await ct.send(new CreateTrailCommand({ Name: 'moving', S3BucketName: 'current-bucket' }));
      await rejectsWith(
        ct.send(new UpdateTrailCommand({ Name: 'moving', S3BucketName: 'vanished-bucket' })),
        'S3BucketDoesNotExistException',
        /^S3 bucket vanished-bucket does not exist!$/,
      );
      await rejectsWith(
        ct.send(new UpdateTrailCommand({ Name: 'moving', S3BucketName: 'locked-bucket' })),
        'InsufficientS3BucketPolicyException',
      );
      // A new prefix needs the policy to cover it too.
      await rejectsWith(
        ct.send(new UpdateTrailCommand({ Name: 'moving', S3KeyPrefix: 'elsewhere' })),
        'InsufficientS3BucketPolicyException',
      );
      const { Trail } = await ct.send(new GetTrailCommand({ Name: 'moving' }));
      assert.equal(Trail?.S3BucketName, 'current-bucket');
      assert.equal(Trail?.S3KeyPrefix, undefined);
    });
  });
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type CloudTrailClient,
  CreateTrailCommand,
  type CreateTrailCommandInput,
  DescribeTrailsCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';

/** Every CreateTrail error opentrail implements, provoked through the SDK (facts §1.3, §3.1, §3.2, §11). */

function create(client: CloudTrailClient, input: Partial<CreateTrailCommandInput> & { Name: string }) {
  return client.send(new CreateTrailCommand({ S3BucketName: 'errors-bucket', ...input }));
}

async function trailNames(client: CloudTrailClient): Promise<string[]> {
  const { trailList = [] } = await client.send(new DescribeTrailsCommand({ includeShadowTrails: false }));
  return trailList.map((t) => t.Name ?? '');
}

/** An organization managed by the admin account, with one member account. */
async function organization(w: TestWorld) {
  const admin = w.adminApi();
  const { OrganizationId } = await admin.call<{ OrganizationId: string }>('CreateOrganization', {
    ManagementAccountId: w.app.admin.accountId,
  });
  const member = await w.newAccount();
  await admin.call('AddAccountToOrganization', { OrganizationId, AccountId: member.accountId });
  return { organizationId: OrganizationId, member };
}

describe('CreateTrail trail names', () => {
  it('rejects names that break the naming rules with InvalidTrailNameException and AWS-like messages', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const cases: [string, RegExp][] = [
        ['ab', /^Trail name too short\. Minimum allowed length: 3 characters\. Specified name length: 2 characters\.$/],
        [
          'a'.repeat(129),
          /^Trail name too long\. Maximum allowed length: 128 characters\. Specified name length: 129 characters\.$/,
        ],
        ['my trail', /can only contain uppercase letters, lowercase letters, numbers, periods/],
        ['my/trail', /can only contain uppercase letters, lowercase letters, numbers, periods/],
        ['-leading', /^Trail name must starts with a letter or number\.$/],
        ['_leading', /^Trail name must starts with a letter or number\.$/],
        ['trailing.', /^Trail name must ends with a letter or number\.$/],
        ['trailing-', /^Trail name must ends with a letter or number\.$/],
        ['my--namespace', /adjacent/],
        ['my-_namespace', /adjacent/],
        ['my..namespace', /adjacent/],
        ['192.168.5.4', /IP address/],
      ];
      for (const [name, message] of cases) {
        await rejectsWith(create(ct, { Name: name }), 'InvalidTrailNameException', message);
      }
      assert.deepEqual(await trailNames(ct), []);
    });
  });

  it('accepts names at the length limits and with single separators', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const name of ['abc', 'a'.repeat(128), 'My.Trail-name_1', '192.168.5.4a']) {
        await create(ct, { Name: name });
      }
      assert.equal((await trailNames(ct)).length, 4);
    });
  });

  it('refuses a second trail with the same name in the same Region with TrailAlreadyExistsException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await create(ct, { Name: 'twice' });
      await rejectsWith(create(ct, { Name: 'twice' }), 'TrailAlreadyExistsException', /twice/);
      // A single-Region trail's name is free in other Regions.
      await create(w.cloudtrail({ region: 'eu-west-1' }), { Name: 'twice' });
    });
  });

  it('refuses a name a multi-Region trail of another Region already holds with TrailAlreadyExistsException', async () => {
    await withServer(async (w) => {
      await create(w.cloudtrail({ region: 'eu-west-1' }), { Name: 'global', IsMultiRegionTrail: true });
      await rejectsWith(create(w.cloudtrail(), { Name: 'global' }), 'TrailAlreadyExistsException');
    });
  });
});

describe('CreateTrail trail limit', () => {
  it('refuses the sixth trail in a Region with MaximumNumberOfTrailsExceededException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (let i = 1; i <= 5; i++) await create(ct, { Name: `trail-${i}` });
      await rejectsWith(create(ct, { Name: 'trail-6' }), 'MaximumNumberOfTrailsExceededException');
      assert.equal((await trailNames(ct)).length, 5);
      // The quota is per Region.
      await create(w.cloudtrail({ region: 'us-west-2' }), { Name: 'trail-6' });
    });
  });

  it('counts a multi-Region trail homed elsewhere as one trail in every Region', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      await create(eu, { Name: 'shadowing', IsMultiRegionTrail: true });
      for (let i = 1; i <= 4; i++) await create(ct, { Name: `local-${i}` });
      await rejectsWith(create(ct, { Name: 'local-5' }), 'MaximumNumberOfTrailsExceededException');
      // eu-west-1 holds only the multi-Region trail, so it has room.
      await create(eu, { Name: 'eu-local' });
    });
  });

  it('refuses a multi-Region trail when a Region it would reach is full', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (let i = 1; i <= 5; i++) await create(ct, { Name: `full-${i}` });
      await rejectsWith(
        create(w.cloudtrail({ region: 'ap-southeast-2' }), { Name: 'reaching', IsMultiRegionTrail: true }),
        'MaximumNumberOfTrailsExceededException',
      );
      await create(w.cloudtrail({ region: 'ap-southeast-2' }), { Name: 'staying' });
    });
  });
});

describe('CreateTrail settings', () => {
  it('rejects bucket names that break the S3 naming rules with InvalidS3BucketNameException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const bucket of ['ab', 'a'.repeat(64), 'Upper-Case', 'under_score', '-leading', 'trailing-', 'a..b']) {
        await rejectsWith(create(ct, { Name: 'bucketed', S3BucketName: bucket }), 'InvalidS3BucketNameException');
      }
      for (const bucket of ['a.-b', 'a-.b', '192.168.5.4']) {
        await rejectsWith(create(ct, { Name: 'bucketed', S3BucketName: bucket }), 'InvalidS3BucketNameException');
      }
      assert.deepEqual(await trailNames(ct), []);
    });
  });

  it('rejects an S3 key prefix longer than 200 characters with InvalidS3PrefixException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await rejectsWith(create(ct, { Name: 'prefixed', S3KeyPrefix: 'p'.repeat(201) }), 'InvalidS3PrefixException');
      const created = await create(ct, { Name: 'prefixed', S3KeyPrefix: 'p'.repeat(200) });
      assert.equal(created.S3KeyPrefix?.length, 200);
    });
  });

  it('rejects a prefix with control characters, or one the local store cannot hold, before claiming the bucket', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const [prefix, reason] of [
        ['logs\u0000', /control characters/],
        ['tab\there', /control characters/],
        ['a\\b', /local object store cannot hold .*backslash/],
        ['/rooted', /local object store cannot hold .*starts or ends with/],
        ['a//b', /local object store cannot hold .*empty/],
        ['a/../b', /local object store cannot hold .*"\.\."/],
      ] as const) {
        await rejectsWith(
          create(ct, { Name: 'prefixed', S3BucketName: 'unclaimed-bucket', S3KeyPrefix: prefix }),
          'InvalidS3PrefixException',
          reason,
        );
      }
      // No refused trail claimed the bucket.
      assert.equal(existsSync(join(w.dataDir, 'buckets', 'unclaimed-bucket')), false);
      const { TrailARN } = await create(ct, { Name: 'prefixed', S3BucketName: 'unclaimed-bucket', S3KeyPrefix: 'a/b' });
      await rejectsWith(
        ct.send(new UpdateTrailCommand({ Name: TrailARN, S3KeyPrefix: 'a\\b' })),
        'InvalidS3PrefixException',
      );
    });
  });

  it('rejects a malformed SNS topic name with InvalidSnsTopicNameException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const topic of ['has space', 'a'.repeat(257), 'arn:aws:sns:us-east-1:123:short-account']) {
        await rejectsWith(create(ct, { Name: 'notified', SnsTopicName: topic }), 'InvalidSnsTopicNameException');
      }
    });
  });

  it('rejects a malformed KMS key id with InvalidKmsKeyIdException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const key of ['not-a-key', 'arn:aws:kms:us-east-1:123456789012:thing/x']) {
        await rejectsWith(create(ct, { Name: 'encrypted', KmsKeyId: key }), 'InvalidKmsKeyIdException');
      }
    });
  });

  it('rejects malformed or unpaired CloudWatch Logs settings by the member at fault', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = w.app.admin.accountId;
      const group = `arn:aws:logs:us-east-1:${account}:log-group:trail-logs:*`;
      const role = `arn:aws:iam::${account}:role/CloudTrailToLogs`;
      const attempt = (CloudWatchLogsLogGroupArn?: string, CloudWatchLogsRoleArn?: string) =>
        create(ct, {
          Name: 'watched',
          ...(CloudWatchLogsLogGroupArn !== undefined ? { CloudWatchLogsLogGroupArn } : {}),
          ...(CloudWatchLogsRoleArn !== undefined ? { CloudWatchLogsRoleArn } : {}),
        });
      await rejectsWith(attempt('not-an-arn', role), 'InvalidCloudWatchLogsLogGroupArnException');
      await rejectsWith(
        attempt(`arn:aws:logs:us-east-1:${account}:log-group:no-wildcard`, role),
        'InvalidCloudWatchLogsLogGroupArnException',
      );
      await rejectsWith(attempt(undefined, role), 'InvalidCloudWatchLogsLogGroupArnException');
      await rejectsWith(attempt(group, 'not-a-role'), 'InvalidCloudWatchLogsRoleArnException');
      await rejectsWith(attempt(group), 'InvalidCloudWatchLogsRoleArnException');
      const created = await attempt(group, role);
      assert.equal(created.CloudWatchLogsLogGroupArn, group);
    });
  });

  it('refuses a multi-Region trail without global service events with InvalidParameterCombinationException', async () => {
    await withServer(async (w) => {
      await rejectsWith(
        create(w.cloudtrail(), { Name: 'narrow', IsMultiRegionTrail: true, IncludeGlobalServiceEvents: false }),
        'InvalidParameterCombinationException',
        /^Multi-Region trail must include global service events\./,
      );
    });
  });
});

describe('CreateTrail organization trails', () => {
  it('refuses an organization trail from an account outside any organization with OrganizationsNotInUseException', async () => {
    await withServer(async (w) => {
      await rejectsWith(
        create(w.cloudtrail(), { Name: 'org-less', IsOrganizationTrail: true }),
        'OrganizationsNotInUseException',
      );
    });
  });

  it('refuses an organization trail from a member account with NotOrganizationMasterAccountException', async () => {
    await withServer(async (w) => {
      const { member } = await organization(w);
      const ct = w.cloudtrail({ credentials: member.root });
      await rejectsWith(
        create(ct, { Name: 'member-org', IsOrganizationTrail: true }),
        'NotOrganizationMasterAccountException',
      );
      assert.deepEqual(await trailNames(ct), []);
    });
  });

  it('creates an organization trail from the management account', async () => {
    await withServer(async (w) => {
      await organization(w);
      const created = await create(w.cloudtrail(), {
        Name: 'org-wide',
        IsOrganizationTrail: true,
        IsMultiRegionTrail: true,
      });
      assert.equal(created.IsOrganizationTrail, true);
      assert.equal(created.IsMultiRegionTrail, true);
    });
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AddTagsCommand,
  type CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  GetEventConfigurationCommand,
  GetEventSelectorsCommand,
  GetInsightSelectorsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
  ListTrailsCommand,
  PutEventConfigurationCommand,
  PutEventSelectorsCommand,
  PutInsightSelectorsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { rejectsWith, withServer } from '../helpers/server.ts';

/** Accounts never see each other's trails; trails and their state survive a restart. */

/** Each account needs a bucket of its own: the local store's buckets belong to the first account to use them. */
function create(
  client: CloudTrailClient,
  Name: string,
  extra: { IsMultiRegionTrail?: boolean; S3BucketName?: string } = {},
) {
  return client.send(new CreateTrailCommand({ Name, S3BucketName: 'isolation-bucket', ...extra }));
}

async function describeNames(client: CloudTrailClient): Promise<string[]> {
  const { trailList = [] } = await client.send(new DescribeTrailsCommand({}));
  return trailList.map((t) => t.TrailARN ?? '').sort();
}

async function listArns(client: CloudTrailClient): Promise<string[]> {
  const { Trails = [] } = await client.send(new ListTrailsCommand({}));
  return Trails.map((t) => t.TrailARN ?? '').sort();
}

describe('account isolation', () => {
  it('never shows one account’s trails to another', async () => {
    await withServer(async (w) => {
      const a = await w.newAccount();
      const b = await w.newAccount();
      const asA = w.cloudtrail({ credentials: a.root });
      const asB = w.cloudtrail({ credentials: b.root });
      const { TrailARN = '' } = await create(asA, 'private', { IsMultiRegionTrail: true });

      assert.deepEqual(await describeNames(asB), []);
      assert.deepEqual(await describeNames(w.cloudtrail({ region: 'eu-west-1', credentials: b.root })), []);
      assert.deepEqual(await listArns(asB), []);
      assert.deepEqual(await describeNames(w.cloudtrail()), [], 'not even the admin account sees it');
      const named = await asB.send(new DescribeTrailsCommand({ trailNameList: [TrailARN] }));
      assert.deepEqual(named.trailList, []);

      const notFound = new RegExp(`^Unknown trail: ${TrailARN} for the user: ${b.accountId}$`);
      await rejectsWith(asB.send(new GetTrailCommand({ Name: TrailARN })), 'TrailNotFoundException', notFound);
      await rejectsWith(asB.send(new GetTrailStatusCommand({ Name: TrailARN })), 'TrailNotFoundException');
      await rejectsWith(asB.send(new GetEventSelectorsCommand({ TrailName: TrailARN })), 'TrailNotFoundException');
    });
  });

  it('refuses every change to another account’s trail as if it did not exist', async () => {
    await withServer(async (w) => {
      const a = await w.newAccount();
      const b = await w.newAccount();
      const asA = w.cloudtrail({ credentials: a.root });
      const asB = w.cloudtrail({ credentials: b.root });
      const { TrailARN = '' } = await create(asA, 'guarded');

      await rejectsWith(
        asB.send(new UpdateTrailCommand({ Name: TrailARN, S3KeyPrefix: 'x' })),
        'TrailNotFoundException',
      );
      await rejectsWith(asB.send(new DeleteTrailCommand({ Name: TrailARN })), 'TrailNotFoundException');
      await rejectsWith(asB.send(new StartLoggingCommand({ Name: TrailARN })), 'TrailNotFoundException');
      await rejectsWith(
        asB.send(
          new PutEventSelectorsCommand({ TrailName: TrailARN, EventSelectors: [{ ReadWriteType: 'ReadOnly' }] }),
        ),
        'TrailNotFoundException',
      );
      // Tagging refuses any ARN of another account by its account, as AWS does: the answer is the same whether
      // or not such a trail exists, and names only the caller's own account.
      const ownAccountOnly = /you can only access resources with AccountID \d{12}\.$/;
      for (const arn of [TrailARN, TrailARN.replace(/trail\/.*/, 'trail/never-made')]) {
        await rejectsWith(
          asB.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'k', Value: 'v' }] })),
          'CloudTrailARNInvalidException',
          ownAccountOnly,
        );
        await rejectsWith(
          asB.send(new ListTagsCommand({ ResourceIdList: [arn] })),
          'CloudTrailARNInvalidException',
          ownAccountOnly,
        );
      }

      const { Trail } = await asA.send(new GetTrailCommand({ Name: 'guarded' }));
      assert.equal(Trail?.S3KeyPrefix, undefined);
      assert.equal((await asA.send(new GetTrailStatusCommand({ Name: 'guarded' }))).IsLogging, false);
      assert.deepEqual((await asA.send(new ListTagsCommand({ ResourceIdList: [TrailARN] }))).ResourceTagList, [
        { ResourceId: TrailARN, TagsList: [] },
      ]);
    });
  });

  it('lets two accounts each have a trail of the same name', async () => {
    await withServer(async (w) => {
      const a = await w.newAccount();
      const b = await w.newAccount();
      const asA = w.cloudtrail({ credentials: a.root });
      const asB = w.cloudtrail({ credentials: b.root });
      const fromA = await create(asA, 'shared-name');
      const fromB = await create(asB, 'shared-name', { S3BucketName: 'isolation-bucket-b' });
      assert.equal(fromA.TrailARN, `arn:aws:cloudtrail:us-east-1:${a.accountId}:trail/shared-name`);
      assert.equal(fromB.TrailARN, `arn:aws:cloudtrail:us-east-1:${b.accountId}:trail/shared-name`);
      assert.deepEqual(await describeNames(asA), [fromA.TrailARN]);
      assert.deepEqual(await describeNames(asB), [fromB.TrailARN]);
      await asB.send(new DeleteTrailCommand({ Name: 'shared-name' }));
      assert.deepEqual(await describeNames(asA), [fromA.TrailARN]);
    });
  });

  it('shows an IAM user the trails of its own account, and its account the trails it creates', async () => {
    await withServer(async (w) => {
      const account = await w.newAccount('alice');
      assert.ok(account.user);
      const asRoot = w.cloudtrail({ credentials: account.root });
      const asAlice = w.cloudtrail({ credentials: account.user });
      const byRoot = (await create(asRoot, 'root-made')).TrailARN;
      const byAlice = (await create(asAlice, 'alice-made')).TrailARN;
      assert.equal(byAlice, `arn:aws:cloudtrail:us-east-1:${account.accountId}:trail/alice-made`);
      const both = [byAlice, byRoot].sort();
      assert.deepEqual(await describeNames(asAlice), both);
      assert.deepEqual(await describeNames(asRoot), both);
      assert.deepEqual(await listArns(asAlice), both);
      assert.equal((await asAlice.send(new GetTrailCommand({ Name: 'root-made' }))).Trail?.TrailARN, byRoot);
      await asAlice.send(new StartLoggingCommand({ Name: 'root-made' }));
      assert.equal((await asRoot.send(new GetTrailStatusCommand({ Name: 'root-made' }))).IsLogging, true);
    });
  });
});

describe('restart', () => {
  /** Fixed admin credentials, so the second start signs in as the first did. */
  const ADMIN_ENV = {
    OPENTRAIL_ACCOUNT_ID: '111122223333',
    OPENTRAIL_ACCESS_KEY_ID: 'AKIAOPENTRAILRESTART',
    OPENTRAIL_SECRET_ACCESS_KEY: 'restart-secret-R3st4rt-Secret-9xQ7vK2mWb',
  };

  /** Everything a user can read about the trails, without per-request metadata. */
  async function snapshot(client: (region?: string) => CloudTrailClient, arns: string[]) {
    const strip = <T extends object>(o: T) => {
      const { $metadata: _metadata, ...rest } = o as T & { $metadata?: unknown };
      return rest;
    };
    const insights = async (arn: string) => {
      try {
        return strip(await client().send(new GetInsightSelectorsCommand({ TrailName: arn })));
      } catch (error) {
        return (error as Error).name;
      }
    };
    const perTrail = [];
    for (const arn of arns) {
      perTrail.push({
        trail: strip(await client().send(new GetTrailCommand({ Name: arn }))),
        status: strip(await client().send(new GetTrailStatusCommand({ Name: arn }))),
        selectors: strip(await client().send(new GetEventSelectorsCommand({ TrailName: arn }))),
        insights: await insights(arn),
        configuration: strip(await client().send(new GetEventConfigurationCommand({ TrailName: arn }))),
      });
    }
    return {
      perTrail,
      // A trail's tags are read in its home Region.
      tags: await Promise.all(
        arns.map(async (arn) =>
          strip(await client(arn.split(':')[3]).send(new ListTagsCommand({ ResourceIdList: [arn] }))),
        ),
      ),
      listed: strip(await client().send(new ListTrailsCommand({}))),
      usEast: strip(await client().send(new DescribeTrailsCommand({}))),
      euWest: strip(await client('eu-west-1').send(new DescribeTrailsCommand({}))),
    };
  }

  it('keeps trails, tags, selectors, event configuration and logging state across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-restart-'));
    try {
      const first = await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          const eu = w.cloudtrail({ region: 'eu-west-1' });
          const basic = await ct.send(
            new CreateTrailCommand({
              Name: 'basic',
              S3BucketName: 'restart-bucket',
              S3KeyPrefix: 'prefix',
              EnableLogFileValidation: true,
              TagsList: [{ Key: 'team', Value: 'audit' }],
            }),
          );
          const advanced = await create(eu, 'advanced', { IsMultiRegionTrail: true });
          const quiet = await create(ct, 'quiet');
          const arns = [basic.TrailARN, advanced.TrailARN, quiet.TrailARN].map((arn) => arn ?? '');
          const [basicArn = '', advancedArn = '', quietArn = ''] = arns;

          await ct.send(
            new PutEventSelectorsCommand({
              TrailName: basicArn,
              EventSelectors: [
                { ReadWriteType: 'WriteOnly', DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }] },
              ],
            }),
          );
          await ct.send(
            new PutInsightSelectorsCommand({
              TrailName: basicArn,
              InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }],
            }),
          );
          await ct.send(
            new PutEventConfigurationCommand({
              TrailName: basicArn,
              AggregationConfigurations: [{ EventCategory: 'Data', Templates: ['RESOURCE_ACCESS'] }],
            }),
          );
          await ct.send(new StartLoggingCommand({ Name: basicArn }));
          await eu.send(
            new PutEventSelectorsCommand({
              TrailName: advancedArn,
              AdvancedEventSelectors: [
                { Name: 'mgmt', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] },
              ],
            }),
          );
          await eu.send(new AddTagsCommand({ ResourceId: advancedArn, TagsList: [{ Key: 'scope', Value: 'global' }] }));
          await eu.send(new StartLoggingCommand({ Name: advancedArn }));
          await eu.send(new StopLoggingCommand({ Name: advancedArn }));
          await ct.send(new UpdateTrailCommand({ Name: quietArn, IncludeGlobalServiceEvents: false }));

          const other = await w.newAccount();
          const otherTrail = await create(w.cloudtrail({ credentials: other.root }), 'other-account', {
            S3BucketName: 'other-account-bucket',
          });
          const state = await snapshot((region) => w.cloudtrail(region ? { region } : {}), arns);
          // The snapshot holds what was set, so comparing it after the restart means something.
          const [b, a, q] = state.perTrail;
          assert.equal(b?.status.IsLogging, true);
          assert.equal(b?.selectors.EventSelectors?.[0]?.ReadWriteType, 'WriteOnly');
          assert.deepEqual(b?.insights, {
            TrailARN: basicArn,
            InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }],
          });
          assert.equal(b?.configuration.AggregationConfigurations?.[0]?.Templates?.[0], 'RESOURCE_ACCESS');
          assert.equal(b?.trail.Trail?.LogFileValidationEnabled, true);
          assert.equal(a?.status.IsLogging, false);
          assert.ok(a?.status.StopLoggingTime instanceof Date);
          assert.equal(a?.selectors.AdvancedEventSelectors?.[0]?.Name, 'mgmt');
          assert.equal(a?.insights, 'InsightNotEnabledException');
          assert.equal(q?.trail.Trail?.IncludeGlobalServiceEvents, false);
          assert.deepEqual(
            state.tags.map((t) => t.ResourceTagList?.[0]?.TagsList),
            [[{ Key: 'team', Value: 'audit' }], [{ Key: 'scope', Value: 'global' }], []],
          );
          assert.equal(state.listed.Trails?.length, 3);
          assert.deepEqual(
            state.euWest.trailList?.map((t) => t.Name),
            ['advanced'],
          );
          return { arns, state, other: other.root, otherArn: otherTrail.TrailARN ?? '' };
        },
        { dataDir, env: ADMIN_ENV },
      );

      await withServer(
        async (w) => {
          assert.equal(w.app.admin.accountId, ADMIN_ENV.OPENTRAIL_ACCOUNT_ID);
          const again = await snapshot((region) => w.cloudtrail(region ? { region } : {}), first.arns);
          assert.deepEqual(again, first.state);
          await assertOtherAccountIntact(w.cloudtrail({ credentials: first.other }), first.otherArn);
        },
        { dataDir, env: ADMIN_ENV },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** The other account's key still signs, and its trail is still its own. */
async function assertOtherAccountIntact(client: CloudTrailClient, arn: string): Promise<void> {
  assert.deepEqual(await describeNames(client), [arn]);
}

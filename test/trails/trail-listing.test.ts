import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  type DescribeTrailsCommandInput,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTrailsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  type TrailInfo,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { JsonApiClient } from '../../src/client/json-api-client.ts';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';

/** DescribeTrails, ListTrails and what organization member accounts see (facts §3.3, §3.4). */

/** Each account needs a bucket of its own: the local store's buckets belong to the first account to use them. */
function create(
  client: CloudTrailClient,
  Name: string,
  extra: { IsMultiRegionTrail?: boolean; S3BucketName?: string } = {},
) {
  return client.send(new CreateTrailCommand({ Name, S3BucketName: 'listing-bucket', ...extra }));
}

async function describeArns(client: CloudTrailClient, input: DescribeTrailsCommandInput) {
  const { trailList = [] } = await client.send(new DescribeTrailsCommand(input));
  return trailList.map((t) => t.TrailARN).sort();
}

/** The raw wire body, to see member names as CloudTrail spells them. */
function rawCloudTrail(w: TestWorld, region = 'us-east-1') {
  return new JsonApiClient({
    endpoint: w.url,
    region,
    credentials: w.adminCredentials,
    signingName: 'cloudtrail',
    targetPrefix: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
  });
}

async function listAll(client: CloudTrailClient): Promise<{ trails: TrailInfo[]; pages: number }> {
  const trails: TrailInfo[] = [];
  let pages = 0;
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListTrailsCommand(NextToken === undefined ? {} : { NextToken }));
    pages++;
    trails.push(...(page.Trails ?? []));
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  return { trails, pages };
}

describe('DescribeTrails', () => {
  it('lists the Region’s trails plus shadow trails by default, and only the Region’s own without shadows', async () => {
    await withServer(async (w) => {
      const us = w.cloudtrail();
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      const local = (await create(us, 'us-local')).TrailARN;
      const global = (await create(us, 'us-global', { IsMultiRegionTrail: true })).TrailARN;
      const euLocal = (await create(eu, 'eu-local')).TrailARN;

      assert.deepEqual(await describeArns(us, {}), [global, local].sort());
      assert.deepEqual(await describeArns(eu, {}), [euLocal, global].sort());
      assert.deepEqual(await describeArns(eu, { includeShadowTrails: true }), [euLocal, global].sort());
      assert.deepEqual(await describeArns(eu, { includeShadowTrails: false }), [euLocal]);
      assert.deepEqual(await describeArns(us, { includeShadowTrails: false }), [global, local].sort());
    });
  });

  it('shows a multi-Region trail created in us-east-1 as a shadow trail homed in us-east-1 in other Regions', async () => {
    await withServer(async (w) => {
      const { TrailARN } = await create(w.cloudtrail(), 'org-audit', { IsMultiRegionTrail: true });
      for (const region of ['eu-west-1', 'ap-southeast-2']) {
        const { trailList = [] } = await w.cloudtrail({ region }).send(new DescribeTrailsCommand({}));
        assert.equal(trailList.length, 1, region);
        const [shadow] = trailList;
        assert.equal(shadow?.TrailARN, TrailARN);
        assert.equal(shadow?.Name, 'org-audit');
        assert.equal(shadow?.HomeRegion, 'us-east-1');
        assert.equal(shadow?.IsMultiRegionTrail, true);
        assert.equal(shadow?.S3BucketName, 'listing-bucket');
      }
    });
  });

  it('takes names of this Region’s trails and ARNs of any, silently leaving out unknown ones', async () => {
    await withServer(async (w) => {
      const us = w.cloudtrail();
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      const local = (await create(us, 'named-here')).TrailARN ?? '';
      const global = (await create(us, 'named-global', { IsMultiRegionTrail: true })).TrailARN ?? '';
      const euOnly = (await create(eu, 'named-eu')).TrailARN ?? '';
      const account = w.app.admin.accountId;

      assert.deepEqual(
        await describeArns(us, {
          trailNameList: ['named-here', euOnly, 'unknown-trail', `arn:aws:cloudtrail:us-east-1:${account}:trail/gone`],
        }),
        [euOnly, local].sort(),
      );
      // From eu-west-1 a name finds only trails homed there; the shadow trail needs its ARN.
      assert.deepEqual(await describeArns(eu, { trailNameList: ['named-global', 'named-eu'] }), [euOnly]);
      assert.deepEqual(await describeArns(eu, { trailNameList: [global] }), [global]);
      assert.deepEqual(await describeArns(eu, { trailNameList: [global], includeShadowTrails: false }), []);
    });
  });

  it('finds the trails among a list of 100,000 names, each named once however often it is listed', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { TrailARN: arn } = await create(ct, 'needle');
      const names = Array.from({ length: 100_000 }, (_, i) => (i % 1000 === 0 ? 'needle' : `unknown-${i}`));
      assert.deepEqual(await describeArns(ct, { trailNameList: [...names, arn as string] }), [arn]);
    });
  });

  it('rejects a malformed ARN in trailNameList with CloudTrailARNInvalidException', async () => {
    await withServer(async (w) => {
      await rejectsWith(
        w.cloudtrail().send(new DescribeTrailsCommand({ trailNameList: ['arn:aws:cloudtrail:us-east-1:nope'] })),
        'CloudTrailARNInvalidException',
      );
    });
  });

  it('speaks camelCase trailNameList, includeShadowTrails and trailList on the wire', async () => {
    await withServer(async (w) => {
      await create(w.cloudtrail(), 'camel', { IsMultiRegionTrail: true });
      const raw = rawCloudTrail(w, 'eu-west-1');
      const named = await raw.call<Record<string, unknown>>('DescribeTrails', { trailNameList: ['camel'] });
      assert.deepEqual(named, { trailList: [] });
      const all = await raw.call<{ trailList: Record<string, unknown>[] }>('DescribeTrails', {
        includeShadowTrails: true,
      });
      assert.deepEqual(Object.keys(all), ['trailList']);
      assert.equal(all.trailList[0]?.['Name'], 'camel');
      assert.equal(all.trailList[0]?.['HomeRegion'], 'us-east-1');
      assert.deepEqual(await raw.call('DescribeTrails', { includeShadowTrails: false }), { trailList: [] });
    });
  });
});

describe('ListTrails', () => {
  const REGIONS = [
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
    'eu-west-1',
    'eu-west-2',
    'eu-central-1',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-northeast-1',
    'sa-east-1',
  ];

  it('lists every trail of the account once, in all Regions, with its home Region, over pages of 50', async () => {
    await withServer(async (w) => {
      const expected: string[] = [];
      for (const region of REGIONS) {
        const client = w.cloudtrail({ region });
        for (let i = 1; i <= 5; i++) {
          const { TrailARN = '' } = await create(client, `${region}-trail-${i}`);
          expected.push(`${TrailARN} ${region}`);
        }
      }
      // Another account's trails never appear.
      const other = await w.newAccount();
      await create(w.cloudtrail({ credentials: other.root }), 'someone-else', { S3BucketName: 'someone-else-bucket' });

      for (const region of ['us-east-1', 'ap-southeast-2']) {
        const { trails, pages } = await listAll(w.cloudtrail({ region }));
        assert.equal(pages, 2, `${region}: 55 trails take two pages`);
        assert.equal(trails.length, 55);
        const seen = trails.map((t) => `${t.TrailARN} ${t.HomeRegion}`);
        assert.deepEqual([...seen].sort(), [...expected].sort());
        for (const t of trails) assert.equal(t.TrailARN?.endsWith(`:trail/${t.Name}`), true);
      }
      const first = await w.cloudtrail().send(new ListTrailsCommand({}));
      assert.equal(first.Trails?.length, 50);
      assert.equal(typeof first.NextToken, 'string');

      // Pages continue after the last trail returned: trails deleted between pages neither make the
      // next page skip a trail nor repeat one.
      for (const region of REGIONS.slice(0, 2)) {
        const client = w.cloudtrail({ region });
        for (let i = 1; i <= 5; i++) await client.send(new DeleteTrailCommand({ Name: `${region}-trail-${i}` }));
      }
      const firstNames = new Set(first.Trails?.map((t) => t.TrailARN));
      const remaining = (await listAll(w.cloudtrail())).trails.map((t) => t.TrailARN);
      const rest = await w.cloudtrail().send(new ListTrailsCommand({ NextToken: first.NextToken }));
      assert.deepEqual(
        rest.Trails?.map((t) => t.TrailARN),
        remaining.filter((arn) => !firstNames.has(arn)),
      );
      assert.equal(rest.NextToken, undefined);
    });
  });

  it('lists a multi-Region trail once, on one page without NextToken', async () => {
    await withServer(async (w) => {
      await create(w.cloudtrail(), 'only-one', { IsMultiRegionTrail: true });
      const page = await w.cloudtrail({ region: 'eu-west-1' }).send(new ListTrailsCommand({}));
      assert.deepEqual(
        page.Trails?.map((t) => [t.Name, t.HomeRegion]),
        [['only-one', 'us-east-1']],
      );
      assert.equal(page.NextToken, undefined);
    });
  });

  it('rejects a NextToken it did not issue with ValidationException', async () => {
    await withServer(async (w) => {
      await rejectsWith(
        w.cloudtrail().send(new ListTrailsCommand({ NextToken: 'not-a-token' })),
        'ValidationException',
      );
    });
  });
});

describe('organization trails seen from a member account', () => {
  async function orgWorld(w: TestWorld) {
    const admin = w.adminApi();
    const { OrganizationId } = await admin.call<{ OrganizationId: string }>('CreateOrganization', {
      ManagementAccountId: w.app.admin.accountId,
    });
    const member = await w.newAccount();
    await admin.call('AddAccountToOrganization', { OrganizationId, AccountId: member.accountId });
    const { TrailARN = '' } = await w.cloudtrail().send(
      new CreateTrailCommand({
        Name: 'org-trail',
        S3BucketName: 'org-bucket',
        IsOrganizationTrail: true,
        IsMultiRegionTrail: true,
      }),
    );
    await w.cloudtrail().send(new StartLoggingCommand({ Name: TrailARN }));
    return { member, TrailARN, memberClient: w.cloudtrail({ credentials: member.root }) };
  }

  it('shows the organization trail to a member as a shadow trail and through GetTrail by ARN', async () => {
    await withServer(async (w) => {
      const { member, memberClient, TrailARN } = await orgWorld(w);
      assert.deepEqual(await describeArns(memberClient, {}), [TrailARN]);
      assert.deepEqual(await describeArns(memberClient, { includeShadowTrails: false }), []);
      const memberInEurope = w.cloudtrail({ region: 'eu-west-1', credentials: member.root });
      assert.deepEqual(await describeArns(memberInEurope, {}), [TrailARN]);
      const { Trail } = await memberClient.send(new GetTrailCommand({ Name: TrailARN }));
      assert.equal(Trail?.IsOrganizationTrail, true);
      assert.equal(Trail?.HomeRegion, 'us-east-1');
      // A name means the member's own trail of that name, which it does not have.
      await rejectsWith(memberClient.send(new GetTrailCommand({ Name: 'org-trail' })), 'TrailNotFoundException');
      assert.equal((await memberClient.send(new GetTrailStatusCommand({ Name: TrailARN }))).IsLogging, true);
    });
  });

  it('refuses changes to the organization trail from a member with NotOrganizationMasterAccountException', async () => {
    await withServer(async (w) => {
      const { memberClient, TrailARN } = await orgWorld(w);
      await rejectsWith(
        memberClient.send(new UpdateTrailCommand({ Name: TrailARN, S3KeyPrefix: 'mine' })),
        'NotOrganizationMasterAccountException',
      );
      await rejectsWith(
        memberClient.send(new DeleteTrailCommand({ Name: TrailARN })),
        'NotOrganizationMasterAccountException',
      );
      await rejectsWith(
        memberClient.send(new StopLoggingCommand({ Name: TrailARN })),
        'NotOrganizationMasterAccountException',
      );
      const { Trail } = await w.cloudtrail().send(new GetTrailCommand({ Name: TrailARN }));
      assert.equal(Trail?.S3KeyPrefix, undefined);
      assert.equal((await w.cloudtrail().send(new GetTrailStatusCommand({ Name: TrailARN }))).IsLogging, true);
    });
  });
});

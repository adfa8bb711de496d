import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AddTagsCommand,
  type CloudTrailClient,
  CreateDashboardCommand,
  CreateEventDataStoreCommand,
  DeleteDashboardCommand,
  GetDashboardCommand,
  ListDashboardsCommand,
  ListTagsCommand,
  RemoveTagsCommand,
  type RequestWidget,
  UpdateDashboardCommand,
} from '@aws-sdk/client-cloudtrail';
import { awsCli } from '../helpers/aws-cli.ts';
import { FIXED_ADMIN } from '../helpers/child-server.ts';
import { rejectsWith, startTestServer, type TestWorld, withServer } from '../helpers/server.ts';

async function storeId(ct: CloudTrailClient, name = 'dash'): Promise<string> {
  const made = await ct.send(new CreateEventDataStoreCommand({ Name: name }));
  return made.EventDataStoreArn?.split('/').pop() as string;
}

function topCalls(id: string): RequestWidget {
  return {
    QueryStatement: `SELECT eventName, count(*) AS calls FROM ${id} WHERE eventTime >= '?' AND eventTime < '?' GROUP BY eventName ORDER BY calls DESC`,
    QueryParameters: ['$StartTime$', '$EndTime$'],
    ViewProperties: { Title: 'Top calls', View: 'Table' },
  };
}

const create = (ct: CloudTrailClient, Name: string, Widgets?: RequestWidget[], more = {}) =>
  ct.send(new CreateDashboardCommand({ Name, ...(Widgets ? { Widgets } : {}), ...more }));

describe('Lake dashboards: lifecycle', () => {
  it('creates, gets, updates, lists and deletes a custom dashboard with AWS names and defaults', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeId(ct);
      const account = w.app.admin.accountId;
      const made = await create(ct, 'ops-view', [topCalls(id)], { TagsList: [{ Key: 'team', Value: 'sec' }] });
      assert.equal(made.DashboardArn, `arn:aws:cloudtrail:us-east-1:${account}:dashboard/ops-view`);
      assert.equal(made.Name, 'ops-view');
      assert.equal(made.Type, 'CUSTOM');
      assert.equal(made.TerminationProtectionEnabled, false);
      assert.deepEqual(made.TagsList, [{ Key: 'team', Value: 'sec' }]);
      assert.equal(made.Widgets?.[0]?.QueryAlias, 'Custom-ops-view-1');
      assert.deepEqual(made.Widgets?.[0]?.QueryParameters, ['$StartTime$', '$EndTime$']);
      assert.equal(made.RefreshSchedule, undefined);

      const got = await ct.send(new GetDashboardCommand({ DashboardId: 'ops-view' }));
      assert.equal(got.Status, 'CREATED');
      assert.equal(got.DashboardArn, made.DashboardArn);
      assert.ok(got.CreatedTimestamp instanceof Date);
      assert.equal(got.LastRefreshId, undefined);
      const byArn = await ct.send(new GetDashboardCommand({ DashboardId: made.DashboardArn }));
      assert.equal(byArn.Widgets?.[0]?.QueryStatement, topCalls(id).QueryStatement);

      const schedule = {
        Frequency: { Unit: 'HOURS' as const, Value: 12 },
        Status: 'ENABLED' as const,
        TimeOfDay: '00:05',
      };
      const updated = await ct.send(
        new UpdateDashboardCommand({
          DashboardId: 'ops-view',
          Widgets: [topCalls(id), { ...topCalls(id), ViewProperties: { Title: 'Again', View: 'BarChart' } }],
          RefreshSchedule: schedule,
          TerminationProtectionEnabled: true,
        }),
      );
      assert.equal(updated.Widgets?.length, 2);
      assert.equal(updated.Widgets?.[1]?.QueryAlias, 'Custom-ops-view-2');
      assert.deepEqual(updated.RefreshSchedule, schedule);
      assert.equal(updated.TerminationProtectionEnabled, true);
      assert.equal((await ct.send(new GetDashboardCommand({ DashboardId: 'ops-view' }))).Status, 'UPDATED');

      const listed = await ct.send(new ListDashboardsCommand({}));
      const arns = listed.Dashboards?.map((d) => `${d.Type} ${d.DashboardArn?.split('/').pop()}`);
      assert.deepEqual(arns, [
        'MANAGED AWSCloudTrail-ActivityOverview',
        'MANAGED AWSCloudTrail-SecurityOverview',
        'CUSTOM ops-view',
      ]);
      const custom = await ct.send(new ListDashboardsCommand({ Type: 'CUSTOM' }));
      assert.deepEqual(custom.Dashboards, [{ DashboardArn: made.DashboardArn, Type: 'CUSTOM' }]);
      const prefixed = await ct.send(new ListDashboardsCommand({ NamePrefix: 'AWSCloudTrail-S' }));
      assert.equal(prefixed.Dashboards?.length, 1);

      await rejectsWith(
        ct.send(new DeleteDashboardCommand({ DashboardId: 'ops-view' })),
        'ConflictException',
        /termination protection/,
      );
      await ct.send(new UpdateDashboardCommand({ DashboardId: 'ops-view', TerminationProtectionEnabled: false }));
      await ct.send(new DeleteDashboardCommand({ DashboardId: made.DashboardArn }));
      await rejectsWith(ct.send(new GetDashboardCommand({ DashboardId: 'ops-view' })), 'ResourceNotFoundException');
      await rejectsWith(ct.send(new DeleteDashboardCommand({ DashboardId: 'ops-view' })), 'ResourceNotFoundException');
    });
  });

  it('pages ListDashboards and refuses a token issued for other filters', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const name of ['alpha', 'bravo', 'charlie']) await create(ct, name);
      const seen: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ct.send(new ListDashboardsCommand({ Type: 'CUSTOM', MaxResults: 2, NextToken }));
        seen.push(...(page.Dashboards ?? []).map((d) => d.DashboardArn?.split('/').pop() as string));
        NextToken = page.NextToken;
        if (NextToken !== undefined) {
          await rejectsWith(
            ct.send(new ListDashboardsCommand({ Type: 'MANAGED', NextToken })),
            'ValidationException',
            /NextToken/,
          );
        }
      } while (NextToken !== undefined);
      assert.deepEqual(seen, ['alpha', 'bravo', 'charlie']);
    });
  });

  it('keeps dashboards across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-dash-'));
    try {
      const first = await startTestServer({ dataDir, env: FIXED_ADMIN });
      try {
        await create(first.world.cloudtrail(), 'kept', [], { TagsList: [{ Key: 'k', Value: 'v' }] });
      } finally {
        await first.stop();
      }
      const second = await startTestServer({ dataDir, env: FIXED_ADMIN });
      try {
        const got = await second.world.cloudtrail().send(new GetDashboardCommand({ DashboardId: 'kept' }));
        assert.equal(got.Status, 'CREATED');
        assert.equal(got.Type, 'CUSTOM');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('creates the Highlights dashboard only with its 6-hour schedule, as a managed dashboard', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const six = { Frequency: { Unit: 'HOURS' as const, Value: 6 }, Status: 'ENABLED' as const };
      await rejectsWith(create(ct, 'AWSCloudTrail-Highlights'), 'ValidationException', /every 6 hours/);
      await rejectsWith(
        create(ct, 'AWSCloudTrail-Highlights', undefined, {
          RefreshSchedule: { ...six, Frequency: { Unit: 'HOURS', Value: 12 } },
        }),
        'ValidationException',
        /every 6 hours/,
      );
      await rejectsWith(
        create(ct, 'AWSCloudTrail-Highlights', [topCalls('x')], { RefreshSchedule: six }),
        'ValidationException',
        /without Widgets/,
      );
      const made = await create(ct, 'AWSCloudTrail-Highlights', undefined, { RefreshSchedule: six });
      assert.equal(made.Type, 'MANAGED');
      assert.ok((made.Widgets?.length ?? 0) >= 5);
      assert.ok(made.Widgets?.every((x) => x.QueryAlias?.startsWith('AWSCloudTrail-Highlights-')));
      await rejectsWith(
        ct.send(new UpdateDashboardCommand({ DashboardId: 'AWSCloudTrail-Highlights', Widgets: [topCalls('x')] })),
        'UnsupportedOperationException',
      );
      await rejectsWith(
        ct.send(
          new UpdateDashboardCommand({
            DashboardId: 'AWSCloudTrail-Highlights',
            RefreshSchedule: { ...six, Status: 'DISABLED' },
          }),
        ),
        'ValidationException',
      );
      const listed = await ct.send(new ListDashboardsCommand({ Type: 'MANAGED' }));
      assert.equal(listed.Dashboards?.length, 3);
      await ct.send(new DeleteDashboardCommand({ DashboardId: 'AWSCloudTrail-Highlights' }));
    });
  });
});

describe('Lake dashboards: errors', () => {
  it('checks widgets with the Lake SQL sandbox and the parameter rules', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeId(ct);
      const widget = (QueryStatement: string, QueryParameters?: string[]): RequestWidget => ({
        QueryStatement,
        ...(QueryParameters ? { QueryParameters } : {}),
        ViewProperties: { Title: 'T' },
      });
      await rejectsWith(create(ct, 'bad', [widget(`DELETE FROM ${id}`)]), 'InvalidQueryStatementException', /Widget 1/);
      await rejectsWith(
        create(ct, 'bad', [widget(`SELECT * FROM read_csv('/etc/passwd')`)]),
        'InvalidQueryStatementException',
      );
      await rejectsWith(
        create(ct, 'bad', [widget(`SELECT nosuchcolumn FROM ${id}`)]),
        'InvalidQueryStatementException',
      );
      await rejectsWith(
        create(ct, 'bad', [widget(`SELECT count(*) FROM ${id} WHERE eventTime > '?'`, ['$StartTime$', '$EndTime$'])]),
        'InvalidQueryStatementException',
        /1 parameter marks .* 2 QueryParameters/,
      );
      await rejectsWith(
        create(ct, 'bad', [widget(`SELECT count(*) FROM ? `, ['$EventDataStoreId$'])]),
        'InvalidQueryStatementException',
        /\$EventDataStoreId\$ is not one/,
      );
      const other = await w.newAccount();
      const theirs = await storeId(w.cloudtrail({ credentials: other.root }), 'theirs');
      await rejectsWith(
        create(ct, 'bad', [widget(`SELECT count(*) FROM ${theirs}`)]),
        'EventDataStoreNotFoundException',
      );
      await rejectsWith(
        create(
          ct,
          'bad',
          Array.from({ length: 11 }, () => widget(`SELECT count(*) FROM ${id}`)),
        ),
        'ServiceQuotaExceededException',
        /at most 10 widgets/,
      );
      await rejectsWith(ct.send(new GetDashboardCommand({ DashboardId: 'bad' })), 'ResourceNotFoundException');
    });
  });

  it('refuses refresh schedules AWS does not offer, names in use and too many tags', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const cases: [object, RegExp][] = [
        [{ Frequency: { Unit: 'HOURS', Value: 5 }, Status: 'ENABLED' }, /1, 6, 12 or 24/],
        [{ Frequency: { Unit: 'DAYS', Value: 2 }, Status: 'ENABLED' }, /only DAYS value is 1/],
        [{ Frequency: { Unit: 'DAYS', Value: 1 }, TimeOfDay: '25:00' }, /HH:MM/],
        [{ Status: 'ENABLED' }, /needs a Frequency/],
        [{ Frequency: { Unit: 'HOURS' } }, /both Unit/],
      ];
      for (const [RefreshSchedule, message] of cases) {
        await rejectsWith(create(ct, 'sched', [], { RefreshSchedule }), 'ValidationException', message);
      }
      await create(ct, 'taken');
      await rejectsWith(create(ct, 'taken'), 'ConflictException', /already exists/);
      await rejectsWith(create(ct, 'AWSCloudTrail-ActivityOverview'), 'ConflictException', /managed/);
      const tags = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      await rejectsWith(create(ct, 'tagged', [], { TagsList: tags }), 'InvalidTagParameterException', /limit is 50/);
      await rejectsWith(
        create(ct, 'tagged', [], { TagsList: [{ Key: 'aws:x', Value: 'v' }] }),
        'InvalidTagParameterException',
      );
    });
  });

  it('leaves the managed dashboards unchangeable and refuses the 101st custom dashboard', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await rejectsWith(
        ct.send(
          new UpdateDashboardCommand({
            DashboardId: 'AWSCloudTrail-ActivityOverview',
            TerminationProtectionEnabled: true,
          }),
        ),
        'UnsupportedOperationException',
      );
      await rejectsWith(
        ct.send(new DeleteDashboardCommand({ DashboardId: 'AWSCloudTrail-SecurityOverview' })),
        'UnsupportedOperationException',
      );
      await rejectsWith(
        ct.send(new UpdateDashboardCommand({ DashboardId: 'nope', TerminationProtectionEnabled: true })),
        'ResourceNotFoundException',
      );
      for (let i = 0; i < 100; i++) await create(ct, `d${String(i).padStart(3, '0')}`);
      await rejectsWith(create(ct, 'one-too-many'), 'ServiceQuotaExceededException', /100 dashboards/);
    });
  });
});

describe('Lake dashboards: accounts, Regions, tags and the AWS CLI', () => {
  it('keeps dashboards to their account and Region', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const made = await create(ct, 'mine');
      const other = await w.newAccount();
      const theirs = w.cloudtrail({ credentials: other.root });
      await rejectsWith(
        theirs.send(new GetDashboardCommand({ DashboardId: made.DashboardArn })),
        'ResourceNotFoundException',
      );
      await rejectsWith(theirs.send(new GetDashboardCommand({ DashboardId: 'mine' })), 'ResourceNotFoundException');
      assert.equal((await theirs.send(new ListDashboardsCommand({ Type: 'CUSTOM' }))).Dashboards?.length, 0);
      // The same name is free in another account and another Region.
      await create(theirs, 'mine');
      const west = w.cloudtrail({ region: 'us-west-2' });
      await rejectsWith(
        west.send(new GetDashboardCommand({ DashboardId: made.DashboardArn })),
        'ResourceNotFoundException',
      );
      const westMade = await create(west, 'mine');
      assert.match(westMade.DashboardArn ?? '', /^arn:aws:cloudtrail:us-west-2:/);
    });
  });

  it('tags a dashboard by ARN with AddTags, ListTags and RemoveTags', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = (await create(ct, 'tagged', [], { TagsList: [{ Key: 'a', Value: '1' }] })).DashboardArn as string;
      await ct.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'b', Value: '2' }] }));
      await ct.send(new RemoveTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'a' }] }));
      const listed = await ct.send(new ListTagsCommand({ ResourceIdList: [arn] }));
      assert.deepEqual(listed.ResourceTagList, [{ ResourceId: arn, TagsList: [{ Key: 'b', Value: '2' }] }]);
      const managed = `arn:aws:cloudtrail:us-east-1:${w.app.admin.accountId}:dashboard/AWSCloudTrail-ActivityOverview`;
      await rejectsWith(
        ct.send(new AddTagsCommand({ ResourceId: managed, TagsList: [{ Key: 'b', Value: '2' }] })),
        'ResourceTypeNotSupportedException',
      );
      await rejectsWith(ct.send(new ListTagsCommand({ ResourceIdList: [`${arn}-gone`] })), 'ResourceNotFoundException');
    });
  });

  it('creates and lists dashboards with the AWS CLI', async () => {
    await withServer(async (w: TestWorld) => {
      const id = await storeId(w.cloudtrail());
      const cli = (args: string[]) =>
        awsCli(
          ['cloudtrail', ...args, '--endpoint-url', w.url, '--region', 'us-east-1', '--output', 'json'],
          w.adminCredentials,
        );
      const made = await cli([
        'create-dashboard',
        '--name',
        'cli-dash',
        '--widgets',
        JSON.stringify([topCalls(id)]),
        '--refresh-schedule',
        JSON.stringify({ Frequency: { Unit: 'DAYS', Value: 1 }, Status: 'ENABLED', TimeOfDay: '06:00' }),
      ]);
      assert.equal(made.code, 0, made.stderr);
      assert.equal(JSON.parse(made.stdout).Type, 'CUSTOM');
      const listed = await cli(['list-dashboards', '--type', 'CUSTOM']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout).Dashboards, [
        { DashboardArn: `arn:aws:cloudtrail:us-east-1:${w.app.admin.accountId}:dashboard/cli-dash`, Type: 'CUSTOM' },
      ]);
    });
  });
});

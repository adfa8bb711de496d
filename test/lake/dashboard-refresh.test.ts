import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CloudTrailClient,
  CreateDashboardCommand,
  CreateEventDataStoreCommand,
  DeleteEventDataStoreCommand,
  DescribeQueryCommand,
  GetDashboardCommand,
  GetQueryResultsCommand,
  StartDashboardRefreshCommand,
  StartQueryCommand,
  UpdateDashboardCommand,
} from '@aws-sdk/client-cloudtrail';
import { HIGHLIGHTS_WIDGETS, MANAGED_DASHBOARDS } from '../../src/lake/index.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { managementRecord } from '../helpers/records.ts';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const USERS = ['alice', 'bob', 'carol'];
const NAMES = ['RunInstances', 'StopInstances', 'DescribeInstances', 'ListBuckets'];
const OUTSIDER = '999988887777';

type Row = Record<string, string | null>;

/**
 * Records the test counts itself, all inside [base, base + 2 h): 60 ordinary calls two minutes apart (every
 * fifth refused), 3 failed console sign-ins, 2 root calls and 4 calls from another account.
 */
function history(account: string, base: number): Record<string, unknown>[] {
  const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const user = (name: string) => ({
    type: 'IAMUser',
    arn: `arn:aws:iam::${account}:user/${name}`,
    accountId: account,
    userName: name,
  });
  const records = Array.from({ length: 60 }, (_, i) =>
    managementRecord(account, {
      userIdentity: user(USERS[i % 3] as string),
      eventTime: at(base + i * 2 * MINUTE),
      eventSource: i % 2 === 0 ? 'ec2.amazonaws.com' : 's3.amazonaws.com',
      eventName: NAMES[i % 4],
      awsRegion: i % 3 === 0 ? 'eu-west-1' : 'us-east-1',
      readOnly: i % 4 >= 2,
      ...(i % 5 === 0 ? { errorCode: 'AccessDenied', errorMessage: 'no' } : {}),
    }),
  );
  for (let i = 0; i < 3; i++) {
    records.push(
      managementRecord(account, {
        userIdentity: user('mallory'),
        eventTime: at(base + (i + 1) * MINUTE),
        eventSource: 'signin.amazonaws.com',
        eventName: 'ConsoleLogin',
        eventType: 'AwsConsoleSignIn',
        responseElements: { ConsoleLogin: 'Failure' },
        additionalEventData: { MFAUsed: 'No' },
      }),
    );
  }
  for (let i = 0; i < 2; i++) {
    records.push(
      managementRecord(account, {
        userIdentity: { type: 'Root', arn: `arn:aws:iam::${account}:root`, accountId: account },
        eventTime: at(base + 90 * MINUTE + i * MINUTE),
      }),
    );
  }
  for (let i = 0; i < 4; i++) {
    records.push(
      managementRecord(account, {
        userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${OUTSIDER}:assumed-role/r/s`, accountId: OUTSIDER },
        eventTime: at(base + 100 * MINUTE + i * MINUTE),
      }),
    );
  }
  return records;
}

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const countBy = (records: Record<string, unknown>[], key: (r: Record<string, unknown>) => unknown) => {
  const out = new Map<string | null, number>();
  for (const r of records) out.set(str(key(r)), (out.get(str(key(r))) ?? 0) + 1);
  return out;
};
const asMap = (rows: Row[], key: string, value: string) =>
  new Map(rows.map((r) => [r[key] ?? null, Number(r[value])] as const));

async function storeWithHistory(w: TestWorld, ct: CloudTrailClient, base: number) {
  const made = await ct.send(new CreateEventDataStoreCommand({ Name: 'dash', TerminationProtectionEnabled: false }));
  const records = history(w.app.admin.accountId, base);
  const answer = await w.ingestApi().call<{ Failed: unknown[] }>('PutRecords', { Records: records });
  assert.deepEqual(answer.Failed, []);
  await w.app.lakeCaughtUp();
  return { id: made.EventDataStoreArn?.split('/').pop() as string, records };
}

/** The finished rows of a widget's query, found as the console finds it: by alias (and refresh). */
async function widgetRows(ct: CloudTrailClient, QueryAlias: string, RefreshId?: string): Promise<Row[]> {
  for (;;) {
    const d = await ct.send(new DescribeQueryCommand({ QueryAlias, ...(RefreshId ? { RefreshId } : {}) }));
    if (d.QueryStatus === 'FINISHED') {
      const got = await ct.send(new GetQueryResultsCommand({ QueryId: d.QueryId }));
      return (got.QueryResultRows ?? []).map((row) => Object.assign({}, ...row));
    }
    assert.ok(
      d.QueryStatus === 'QUEUED' || d.QueryStatus === 'RUNNING',
      `${QueryAlias}: ${d.QueryStatus} ${d.ErrorMessage}`,
    );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The start of the hour two days ago: away from the test's own API calls, which land at now. */
const twoDaysAgo = () => Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

describe('Lake dashboards: refresh', () => {
  it("runs every widget's query with the refresh's parameters and keeps each result under the RefreshId", async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const base = twoDaysAgo();
      const { id, records } = await storeWithHistory(w, ct, base);
      await ct.send(
        new CreateDashboardCommand({
          Name: 'ops',
          Widgets: [
            {
              QueryStatement: `SELECT eventName, count(*) AS n FROM ${id} WHERE eventTime >= '?' AND eventTime < '?' GROUP BY eventName ORDER BY eventName`,
              QueryParameters: ['$StartTime$', '$EndTime$'],
              ViewProperties: { Title: 'Calls', View: 'Table' },
            },
            {
              QueryStatement: `SELECT date_trunc('?', eventTime) AS bucket, count(*) AS n FROM ${id} WHERE eventTime >= '?' AND eventTime < '?' GROUP BY date_trunc('?', eventTime) ORDER BY bucket`,
              QueryParameters: ['$Period$', '$StartTime$', '$EndTime$', '$Period$'],
              ViewProperties: { Title: 'Over time', View: 'LineChart' },
            },
            {
              QueryStatement: `SELECT count(*) AS refused FROM ${id} WHERE eventSource = 'ec2.amazonaws.com' AND errorCode IS NOT NULL`,
              ViewProperties: { Title: 'Refused', View: 'Card' },
            },
          ],
        }),
      );
      const window = { $StartTime$: iso(base), $EndTime$: iso(base + 2 * HOUR) };
      const { RefreshId } = await ct.send(
        new StartDashboardRefreshCommand({ DashboardId: 'ops', QueryParameterValues: { ...window, $Period$: 'hour' } }),
      );
      assert.match(RefreshId ?? '', /^\d{10,20}$/);
      assert.equal((await ct.send(new GetDashboardCommand({ DashboardId: 'ops' }))).LastRefreshId, RefreshId);

      const byName = await widgetRows(ct, 'Custom-ops-1', RefreshId);
      assert.deepEqual(
        asMap(byName, 'eventName', 'n'),
        countBy(records, (r) => r['eventName']),
      );
      const overTime = await widgetRows(ct, 'Custom-ops-2', RefreshId);
      const hourOf = (r: Record<string, unknown>) =>
        `${new Date(Math.floor(Date.parse(String(r['eventTime'])) / HOUR) * HOUR).toISOString().slice(0, 13).replace('T', ' ')}:00:00.000`;
      assert.deepEqual(asMap(overTime, 'bucket', 'n'), countBy(records, hourOf));
      const refused = await widgetRows(ct, 'Custom-ops-3', RefreshId);
      const expectedRefused = records.filter((r) => r['eventSource'] === 'ec2.amazonaws.com' && r['errorCode']).length;
      assert.deepEqual(refused, [{ refused: String(expectedRefused) }]);

      // The first hour only, by StartQuery with the widget's alias and its parameter values in order.
      const { QueryId } = await ct.send(
        new StartQueryCommand({ QueryAlias: 'Custom-ops-1', QueryParameters: [iso(base), iso(base + HOUR)] }),
      );
      const firstHour = await widgetRows(ct, 'Custom-ops-1');
      assert.equal((await ct.send(new DescribeQueryCommand({ QueryAlias: 'Custom-ops-1' }))).QueryId, QueryId);
      const inFirstHour = records.filter((r) => Date.parse(String(r['eventTime'])) < base + HOUR);
      assert.deepEqual(
        asMap(firstHour, 'eventName', 'n'),
        countBy(inFirstHour, (r) => r['eventName']),
      );
      // The refresh's own query is still found under its RefreshId.
      assert.deepEqual(await widgetRows(ct, 'Custom-ops-1', RefreshId), byName);

      // A refresh with no times covers the last 24 hours: the test's own API calls, none of this history.
      const recent = await ct.send(new StartDashboardRefreshCommand({ DashboardId: 'ops' }));
      assert.notEqual(recent.RefreshId, RefreshId);
      const lastDay = await widgetRows(ct, 'Custom-ops-1', recent.RefreshId);
      assert.ok(
        lastDay.every((r) => !byName.some((h) => h['eventName'] === r['eventName'])),
        JSON.stringify(lastDay),
      );
    });
  });

  it('answers each refresh and alias error with its AWS name', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { id } = await storeWithHistory(w, ct, twoDaysAgo());
      const widget = {
        QueryStatement: `SELECT count(*) AS n FROM ${id} WHERE eventTime >= '?'`,
        QueryParameters: ['$StartTime$'],
        ViewProperties: { Title: 'N' },
      };
      await ct.send(new CreateDashboardCommand({ Name: 'errs', Widgets: [widget] }));
      const refresh = (QueryParameterValues?: Record<string, string>, DashboardId = 'errs') =>
        ct.send(
          new StartDashboardRefreshCommand({ DashboardId, ...(QueryParameterValues ? { QueryParameterValues } : {}) }),
        );
      await rejectsWith(refresh(undefined, 'nope'), 'ResourceNotFoundException');
      await rejectsWith(refresh({ $Foo$: 'x' }), 'ValidationException', /\$Foo\$ is not a query parameter/);
      await rejectsWith(refresh({ $EventDataStoreId$: id }), 'ValidationException', /custom dashboards/);
      await rejectsWith(refresh({ $StartTime$: 'yesterday' }), 'ValidationException', /not a time/);
      await rejectsWith(refresh({ $Period$: 'fortnight' }), 'ValidationException', /not a period/);
      await rejectsWith(
        refresh({ $StartTime$: '2026-01-02T00:00:00Z', $EndTime$: '2026-01-01T00:00:00Z' }),
        'ValidationException',
        /after/,
      );
      await rejectsWith(
        refresh(undefined, 'AWSCloudTrail-ActivityOverview'),
        'EventDataStoreNotFoundException',
        /\$EventDataStoreId\$/,
      );
      const other = await w.newAccount();
      const theirs = await w
        .cloudtrail({ credentials: other.root })
        .send(new CreateEventDataStoreCommand({ Name: 'theirs' }));
      await rejectsWith(
        refresh({ $EventDataStoreId$: theirs.EventDataStoreArn as string }, 'AWSCloudTrail-ActivityOverview'),
        'EventDataStoreNotFoundException',
      );

      // A store deleted after the widget was made leaves the refresh with nothing active to read.
      const gone = await ct.send(
        new CreateEventDataStoreCommand({ Name: 'gone', TerminationProtectionEnabled: false }),
      );
      const goneId = gone.EventDataStoreArn?.split('/').pop() as string;
      await ct.send(
        new CreateDashboardCommand({
          Name: 'orphan',
          Widgets: [{ QueryStatement: `SELECT count(*) FROM ${goneId}`, ViewProperties: { Title: 'N' } }],
        }),
      );
      await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: goneId }));
      await rejectsWith(refresh(undefined, 'orphan'), 'InactiveEventDataStoreException');
      await rejectsWith(
        refresh({ $EventDataStoreId$: goneId }, 'AWSCloudTrail-ActivityOverview'),
        'InactiveEventDataStoreException',
      );

      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryAlias: 'Custom-nope-1' })),
        'InvalidParameterException',
        /names no widget/,
      );
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryAlias: 'Custom-errs-1', QueryParameters: ['a', 'b'] })),
        'InvalidParameterException',
        /takes 1 QueryParameters/,
      );
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryAlias: 'Custom-errs-1', QueryParameters: ['soon'] })),
        'InvalidParameterException',
        /not a time/,
      );
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryAlias: 'Custom-errs-1', QueryStatement: `SELECT 1 FROM ${id}` })),
        'InvalidParameterException',
      );
      await rejectsWith(ct.send(new DescribeQueryCommand({ QueryAlias: 'Custom-errs-1' })), 'QueryIdNotFoundException');
      await rejectsWith(ct.send(new DescribeQueryCommand({ RefreshId: '1234567890' })), 'InvalidParameterException');
      const { RefreshId } = await refresh();
      await rejectsWith(
        ct.send(new DescribeQueryCommand({ QueryAlias: 'Custom-errs-1', RefreshId: `9${RefreshId?.slice(1)}` })),
        'QueryIdNotFoundException',
      );
      // Another account cannot find the refresh's query by its alias.
      await rejectsWith(
        w
          .cloudtrail({ credentials: other.root })
          .send(new DescribeQueryCommand({ QueryAlias: 'Custom-errs-1', RefreshId })),
        'QueryIdNotFoundException',
      );
    });
  });
});

describe('Lake dashboards: the managed ones', () => {
  it('every widget of the activity, security and Highlights dashboards runs and counts what the store holds', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const base = twoDaysAgo();
      const { id, records } = await storeWithHistory(w, ct, base);
      await ct.send(
        new CreateDashboardCommand({
          Name: 'AWSCloudTrail-Highlights',
          RefreshSchedule: { Frequency: { Unit: 'HOURS', Value: 6 }, Status: 'ENABLED' },
        }),
      );
      const values = { $EventDataStoreId$: id, $StartTime$: iso(base), $EndTime$: iso(base + 2 * HOUR) };
      const results = new Map<string, Row[]>();
      const dashboards = [...MANAGED_DASHBOARDS, { name: 'AWSCloudTrail-Highlights', widgets: HIGHLIGHTS_WIDGETS }];
      for (const d of dashboards) {
        const { RefreshId } = await ct.send(
          new StartDashboardRefreshCommand({ DashboardId: d.name, QueryParameterValues: values }),
        );
        const got = await ct.send(new GetDashboardCommand({ DashboardId: d.name }));
        assert.equal(got.LastRefreshId, RefreshId);
        assert.equal(got.Type, 'MANAGED');
        for (const widget of d.widgets)
          results.set(widget.queryAlias, await widgetRows(ct, widget.queryAlias, RefreshId));
      }
      const rows = (alias: string) => results.get(alias) ?? [];
      const total = records.length;
      const denied = records.filter((r) => r['errorCode'] === 'AccessDenied').length;

      const overTime = rows('AWSCloudTrail-ActivityOverview-EventsOverTime');
      assert.equal(overTime.length, 2);
      assert.equal(
        overTime.reduce((n, r) => n + Number(r['events']), 0),
        total,
      );
      assert.deepEqual(
        asMap(rows('AWSCloudTrail-ActivityOverview-TopServices'), 'eventSource', 'events'),
        countBy(records, (r) => r['eventSource']),
      );
      assert.deepEqual(
        asMap(rows('AWSCloudTrail-ActivityOverview-Regions'), 'awsRegion', 'events'),
        countBy(records, (r) => r['awsRegion']),
      );
      assert.deepEqual(
        asMap(rows('AWSCloudTrail-ActivityOverview-ReadWrite'), 'readOnly', 'events'),
        countBy(records, (r) => r['readOnly']),
      );
      assert.deepEqual(rows('AWSCloudTrail-ActivityOverview-TopErrors'), [
        { errorCode: 'AccessDenied', events: String(denied) },
      ]);

      assert.deepEqual(rows('AWSCloudTrail-SecurityOverview-FailedSignIns'), [
        {
          identity: `arn:aws:iam::${w.app.admin.accountId}:user/mallory`,
          sourceIPAddress: '192.0.2.1',
          mfaUsed: 'No',
          failures: '3',
        },
      ]);
      assert.equal(rows('AWSCloudTrail-SecurityOverview-RootActivity').length, 2);
      assert.deepEqual(rows('AWSCloudTrail-SecurityOverview-CrossAccountCalls'), [
        { callerAccount: OUTSIDER, events: '4' },
      ]);
      assert.equal(
        rows('AWSCloudTrail-SecurityOverview-AccessDenied').reduce((n, r) => n + Number(r['denied']), 0),
        denied,
      );
      assert.deepEqual(rows('AWSCloudTrail-SecurityOverview-LoggingChanges'), []);

      assert.deepEqual(rows('AWSCloudTrail-Highlights-TotalEvents'), [{ events: String(total) }]);
      assert.deepEqual(rows('AWSCloudTrail-Highlights-FailedSignIns'), [{ failures: '3' }]);
      assert.deepEqual(rows('AWSCloudTrail-Highlights-AccessDenied'), [{ denied: String(denied) }]);
      assert.deepEqual(rows('AWSCloudTrail-Highlights-RootActivity'), [{ rootCalls: '2' }]);
      assert.deepEqual(rows('AWSCloudTrail-Highlights-CrossAccountAccess'), [{ events: '4' }]);
    });
  });
});

describe('Lake dashboards: refresh schedules', () => {
  it('refreshes on the schedule of the clock, stops when disabled, and records why a refresh could not start', async () => {
    const clock = new ManualClock(Math.floor(Date.now() / HOUR) * HOUR + 10 * MINUTE);
    await withServer(
      async (w) => {
        const ct = () => w.cloudtrail();
        const made = await ct().send(new CreateEventDataStoreCommand({ Name: 'sched' }));
        const id = made.EventDataStoreArn?.split('/').pop() as string;
        const records = Array.from({ length: 12 }, (_, i) =>
          managementRecord(w.app.admin.accountId, { eventTime: iso(clock.now() - 2 * HOUR + i * MINUTE) }),
        );
        await w.ingestApi().call('PutRecords', { Records: records });
        await w.app.lakeCaughtUp();
        await ct().send(
          new CreateDashboardCommand({
            Name: 'hourly',
            Widgets: [
              {
                QueryStatement: `SELECT count(*) AS n FROM ${id} WHERE eventSource = 'ec2.amazonaws.com' AND eventTime >= '?' AND eventTime < '?'`,
                QueryParameters: ['$StartTime$', '$EndTime$'],
                ViewProperties: { Title: 'EC2 calls' },
              },
            ],
            RefreshSchedule: { Frequency: { Unit: 'HOURS', Value: 1 }, Status: 'ENABLED', TimeOfDay: '00:30' },
          }),
        );
        const west = () => w.cloudtrail({ region: 'us-west-2' });
        await west().send(
          new CreateDashboardCommand({
            Name: 'AWSCloudTrail-Highlights',
            RefreshSchedule: { Frequency: { Unit: 'HOURS', Value: 6 }, Status: 'ENABLED' },
          }),
        );
        const lastRefresh = async (before?: string) => {
          for (let i = 0; i < 200; i++) {
            const got = await ct().send(new GetDashboardCommand({ DashboardId: 'hourly' }));
            if (got.LastRefreshId !== before) return got.LastRefreshId;
            await new Promise((r) => setTimeout(r, 10));
          }
          return before;
        };

        await clock.advance(15 * MINUTE);
        assert.equal(await lastRefresh(), undefined, 'nothing runs before :30');
        await clock.advance(10 * MINUTE);
        const first = await lastRefresh();
        assert.match(first ?? '', /^\d{10,20}$/);
        assert.deepEqual(await widgetRows(ct(), 'Custom-hourly-1', first), [{ n: '12' }]);
        await clock.advance(HOUR);
        const second = await lastRefresh(first);
        assert.ok(second !== undefined && second !== first, 'the next hour refreshes again');

        await ct().send(
          new UpdateDashboardCommand({
            DashboardId: 'hourly',
            RefreshSchedule: { Frequency: { Unit: 'HOURS', Value: 1 }, Status: 'DISABLED' },
          }),
        );
        await clock.advance(6 * HOUR);
        assert.equal((await ct().send(new GetDashboardCommand({ DashboardId: 'hourly' }))).LastRefreshId, second);

        // us-west-2 holds no event data store for the Highlights dashboard to read.
        let reason: string | undefined;
        for (let i = 0; i < 200 && reason === undefined; i++) {
          reason = (await west().send(new GetDashboardCommand({ DashboardId: 'AWSCloudTrail-Highlights' })))
            .LastRefreshFailureReason;
          if (reason === undefined) await new Promise((r) => setTimeout(r, 10));
        }
        assert.match(reason ?? '', /scheduled refresh could not start: .*\$EventDataStoreId\$/);
      },
      { clock },
    );
  });
});

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CancelQueryCommand,
  CloudTrailClient,
  CreateEventDataStoreCommand,
  DeleteEventDataStoreCommand,
  DescribeQueryCommand,
  GetQueryResultsCommand,
  ListQueriesCommand,
  RestoreEventDataStoreCommand,
  StartQueryCommand,
  UpdateEventDataStoreCommand,
} from '@aws-sdk/client-cloudtrail';
import { ManualClock } from '../../src/model/clock.ts';
import { FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS, startChildServer } from '../helpers/child-server.ts';
import { lakeQueryRows, runawayQuery } from '../helpers/lake.ts';
import { managementRecord } from '../helpers/records.ts';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';

const USERS = ['alice', 'bob', 'carol'];
/** The day `n` days before today (UTC), so events stay inside the store's retention whenever the test runs. */
const dayBefore = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000).toISOString().slice(0, 10);
const NAMES = ['RunInstances', 'StopInstances', 'DescribeInstances', 'TerminateInstances'];

/** Records the test can count itself: event i is by USERS[i % 3], named NAMES[i % 4], failing when i % 5 === 0. */
function records(account: string, n: number) {
  return Array.from({ length: n }, (_, i) =>
    managementRecord(account, {
      userIdentity: {
        type: 'IAMUser',
        arn: `arn:aws:iam::${account}:user/${USERS[i % 3]}`,
        accountId: account,
        userName: USERS[i % 3],
      },
      eventTime: `${dayBefore(6 - (i % 5))}T10:00:00Z`,
      eventName: NAMES[i % 4],
      requestParameters: { instanceId: `i-${i}`, bucketName: i % 2 === 0 ? 'even' : 'odd', dryRun: null },
      ...(i % 5 === 0 ? { errorCode: 'AccessDenied' } : {}),
      readOnly: NAMES[i % 4] === 'DescribeInstances',
    }),
  );
}

async function storeWithEvents(w: TestWorld, ct: CloudTrailClient, n: number): Promise<string> {
  const made = await ct.send(new CreateEventDataStoreCommand({ Name: `q-${randomUUID().slice(0, 8)}` }));
  const id = made.EventDataStoreArn?.split('/').pop() as string;
  const answer = await w
    .ingestApi()
    .call<{ Failed: unknown[] }>('PutRecords', { Records: records(w.app.admin.accountId, n) });
  assert.deepEqual(answer.Failed, []);
  await w.app.lakeCaughtUp();
  return id;
}

async function finished(ct: CloudTrailClient, QueryId: string) {
  for (;;) {
    const d = await ct.send(new DescribeQueryCommand({ QueryId }));
    if (d.QueryStatus !== 'QUEUED' && d.QueryStatus !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Lake queries', () => {
  it('runs Lake SQL over a store and pages its results, with real statistics', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeWithEvents(w, ct, 60);
      const { QueryId } = await ct.send(
        new StartQueryCommand({
          QueryStatement: `SELECT userIdentity.userName, count(*) FROM ${id}
            WHERE eventTime >= '${dayBefore(5)} 00:00:00' AND element_at(requestParameters, 'bucketName') = 'even'
            GROUP BY userIdentity.userName ORDER BY userName`,
        }),
      );
      const done = await finished(ct, QueryId as string);
      assert.equal(done.QueryStatus, 'FINISHED', done.ErrorMessage);
      // Counted here from the same rule the records were made by.
      const expected = new Map<string, number>();
      let matched = 0;
      for (let i = 0; i < 60; i++) {
        if (i % 5 === 0 || i % 2 !== 0) continue;
        matched++;
        const user = USERS[i % 3] as string;
        expected.set(user, (expected.get(user) ?? 0) + 1);
      }
      const stats = done.QueryStatistics;
      // From the engine's profile: every event of the store was scanned (it also took the
      // CreateEventDataStore call itself, a management event of the account), and the WHERE kept `matched`.
      assert.equal(stats?.EventsScanned, await w.app.services.eventDataStores.countEvents(id));
      assert.ok((stats?.EventsScanned ?? 0) >= 60);
      assert.equal(stats?.EventsMatched, matched);
      // What DuckDB read from the database file: a store this small is still in its cache.
      assert.equal(typeof stats?.BytesScanned, 'number');
      assert.equal(done.QueryString?.includes(id), true);

      const first = await ct.send(new GetQueryResultsCommand({ QueryId, MaxQueryResults: 2 }));
      assert.equal(first.QueryStatus, 'FINISHED');
      assert.equal(first.QueryStatistics?.TotalResultsCount, 3);
      assert.deepEqual(first.QueryResultRows, [
        [{ userName: 'alice' }, { _col1: String(expected.get('alice')) }],
        [{ userName: 'bob' }, { _col1: String(expected.get('bob')) }],
      ]);
      const second = await ct.send(new GetQueryResultsCommand({ QueryId, NextToken: first.NextToken }));
      assert.deepEqual(second.QueryResultRows, [[{ userName: 'carol' }, { _col1: String(expected.get('carol')) }]]);
      assert.equal(second.NextToken, undefined);
      await rejectsWith(
        ct.send(new GetQueryResultsCommand({ QueryId, NextToken: 'garbage' })),
        'InvalidNextTokenException',
      );

      const listed = await ct.send(new ListQueriesCommand({ EventDataStore: id }));
      assert.deepEqual(
        listed.Queries?.map((q) => [q.QueryId, q.QueryStatus]),
        [[QueryId, 'FINISHED']],
      );
      await rejectsWith(ct.send(new CancelQueryCommand({ QueryId })), 'InactiveQueryException');
    });
  });

  it('finds an event by its eventID as a full scan finds it, in the store asked only', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      // Both stores take the same events: a lookup narrowed by eventID must keep to the store it names.
      const id = await storeWithEvents(w, ct, 0);
      const other = await storeWithEvents(w, ct, 30);
      const ours = `eventName IN (${NAMES.map((n) => `'${n}'`).join(', ')})`;
      const all = await lakeQueryRows(ct, `SELECT eventID FROM ${id} WHERE ${ours} ORDER BY eventID`);
      assert.equal(all.length, 30);
      assert.equal((await lakeQueryRows(ct, `SELECT eventID FROM ${other} WHERE ${ours}`)).length, 30);
      for (const { eventID } of all.slice(0, 3)) {
        const narrowed = await lakeQueryRows(ct, `SELECT * FROM ${id} WHERE eventID = '${eventID}'`);
        // Not an equality on eventID alone, so read without the key: every row of the store, then the filter.
        const scanned = await lakeQueryRows(ct, `SELECT * FROM ${id} WHERE concat(eventID, '') = '${eventID}'`);
        assert.equal(narrowed.length, 1);
        assert.deepEqual(narrowed, scanned);
      }
      assert.deepEqual(await lakeQueryRows(ct, `SELECT * FROM ${id} WHERE eventID = 'no-such-event'`), []);
    });
  });

  it('writes values as Lake does: timestamps to the millisecond, structs as {name=value}, a join’s like-named columns apart', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = w.app.admin.accountId;
      const id = await storeWithEvents(w, ct, 4);
      const rows = await lakeQueryRows(
        ct,
        `SELECT eventTime, date_trunc('day', eventTime) AS day, userIdentity, userIdentity.arn, tlsDetails,
           requestParameters, readOnly, count(*) OVER () AS n
         FROM ${id} WHERE eventName = 'RunInstances'`,
      );
      assert.deepEqual(rows, [
        {
          eventTime: `${dayBefore(6)} 10:00:00.000`,
          day: `${dayBefore(6)} 00:00:00.000`,
          userIdentity:
            `{type=IAMUser, principalid=null, arn=arn:aws:iam::${account}:user/alice, accountid=${account}, ` +
            'accesskeyid=null, username=alice, sessioncontext=null, invokedby=null, identityprovider=null}',
          arn: `arn:aws:iam::${account}:user/alice`,
          tlsDetails: null,
          requestParameters: '{instanceId=i-0, bucketName=even, dryRun=null}',
          readOnly: 'false',
          n: '1',
        },
      ]);
      const { QueryId } = await ct.send(
        new StartQueryCommand({
          QueryStatement: `SELECT a.eventName, b.eventName, b.eventTime FROM ${id} a JOIN ${id} b
            ON a.userIdentity.arn = b.userIdentity.arn WHERE a.eventName = 'RunInstances' AND b.eventName = 'TerminateInstances'`,
        }),
      );
      assert.equal((await finished(ct, QueryId as string)).QueryStatus, 'FINISHED');
      const joined = await ct.send(new GetQueryResultsCommand({ QueryId }));
      assert.deepEqual(joined.QueryResultRows, [
        [
          { eventName: 'RunInstances' },
          { eventName: 'TerminateInstances' },
          { eventTime: `${dayBefore(3)} 10:00:00.000` },
        ],
      ]);
    });
  });

  it('answers eventJsonChecksum as the SHA-256 of each event’s eventJson', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeWithEvents(w, ct, 5);
      const ours = `eventName IN (${NAMES.map((n) => `'${n}'`).join(', ')})`;
      const rows = await lakeQueryRows(ct, `SELECT eventJson, eventJsonChecksum FROM ${id} WHERE ${ours}`);
      assert.equal(rows.length, 5);
      for (const row of rows) {
        assert.equal(row['eventJsonChecksum'], createHash('sha256').update(String(row['eventJson'])).digest('hex'));
      }
    });
  });

  it('refuses bad statements when they are started, and other accounts’ stores and queries', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeWithEvents(w, ct, 5);
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: `DELETE FROM ${id}` })),
        'InvalidQueryStatementException',
        /Only SELECT/,
      );
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: `SELECT nosuchcolumn FROM ${id}` })),
        'InvalidQueryStatementException',
        // The engine's message, without its excerpt of the translated SQL (the service's own table).
        /^(?![\s\S]*(lake_events|LINE \d))[\s\S]*nosuchcolumn/,
      );
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: `SELECT * FROM ${randomUUID()}` })),
        'EventDataStoreNotFoundException',
      );
      const { QueryId } = await ct.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${id}` }));
      await finished(ct, QueryId as string);

      const other = await w.newAccount();
      const theirs = w.cloudtrail({ credentials: other.root });
      await rejectsWith(
        theirs.send(new StartQueryCommand({ QueryStatement: `SELECT * FROM ${id}` })),
        'EventDataStoreNotFoundException',
      );
      await rejectsWith(theirs.send(new DescribeQueryCommand({ QueryId })), 'QueryIdNotFoundException');
      await rejectsWith(theirs.send(new GetQueryResultsCommand({ QueryId })), 'QueryIdNotFoundException');
      await rejectsWith(ct.send(new DescribeQueryCommand({ QueryId: randomUUID() })), 'QueryIdNotFoundException');
    });
  });

  it('checks the caller’s access to the stores each time, also for a statement it ran before', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeWithEvents(w, ct, 5);
      // The store also takes in the test's own API calls: only the events it put are counted.
      const statement = `SELECT eventName, count(*) AS n FROM ${id} WHERE eventName IN (${NAMES.map((n) => `'${n}'`).join(', ')}) GROUP BY eventName ORDER BY eventName`;
      const run = async () => {
        const { QueryId } = await ct.send(new StartQueryCommand({ QueryStatement: statement }));
        assert.equal((await finished(ct, QueryId as string)).QueryStatus, 'FINISHED');
        return (await ct.send(new GetQueryResultsCommand({ QueryId }))).QueryResultRows;
      };
      const { QueryId: firstId } = await ct.send(new StartQueryCommand({ QueryStatement: statement }));
      await finished(ct, firstId as string);
      const first = await run();
      assert.equal(first?.length, 4);
      // The same text again: translated once, so it must answer the same, and be refused to whoever may not read it.
      assert.deepEqual(await run(), first);
      const theirs = w.cloudtrail({ credentials: (await w.newAccount()).root });
      await rejectsWith(
        theirs.send(new StartQueryCommand({ QueryStatement: statement })),
        'EventDataStoreNotFoundException',
      );
      await ct.send(new UpdateEventDataStoreCommand({ EventDataStore: id, TerminationProtectionEnabled: false }));
      await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: id }));
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: statement })),
        'InactiveEventDataStoreException',
      );
      // Nor are its queries read while it is pending deletion (facts §8.1).
      for (const call of [
        ct.send(new DescribeQueryCommand({ QueryId: firstId })),
        ct.send(new GetQueryResultsCommand({ QueryId: firstId })),
        ct.send(new ListQueriesCommand({ EventDataStore: id })),
      ]) {
        await rejectsWith(call, 'InactiveEventDataStoreException');
      }
      await ct.send(new RestoreEventDataStoreCommand({ EventDataStore: id }));
      assert.equal((await ct.send(new DescribeQueryCommand({ QueryId: firstId }))).QueryStatus, 'FINISHED');
      assert.deepEqual(await run(), first);
      // Paging and status members out of their ranges get the errors the model names for them.
      await rejectsWith(
        ct.send(new GetQueryResultsCommand({ QueryId: firstId, MaxQueryResults: 0 })),
        'InvalidMaxResultsException',
      );
      await rejectsWith(
        ct.send(new ListQueriesCommand({ EventDataStore: id, MaxResults: 1001 })),
        'InvalidMaxResultsException',
      );
      await rejectsWith(
        ct.send(new ListQueriesCommand({ EventDataStore: id, QueryStatus: 'BOGUS' as never })),
        'InvalidQueryStatusException',
      );
    });
  });

  it('answers statements that differ only in their literals each with its own, whoever may run them', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const n = 30;
      const id = await storeWithEvents(w, ct, n);
      const rows = async (statement: string) => (await lakeQueryRows(ct, statement)).map((r) => Object.values(r));
      // One shape, many literals (the first makes its template, the others fill it), each counted by hand.
      const count = (user: string, name: string) =>
        `SELECT count(*) FROM ${id} WHERE userIdentity.userName = '${user}' AND eventName = '${name}'`;
      for (const [u, user] of USERS.entries()) {
        for (const [k, name] of NAMES.entries()) {
          const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === u && i % 4 === k).length;
          assert.deepEqual(await rows(count(user, name)), [[String(expected)]], `${user} ${name}`);
        }
      }
      assert.deepEqual(await rows(count("o''brien", 'RunInstances')), [['0']]);
      // A literal the engine cannot read ends as it does without a template: the first of its shape has none.
      const since = (time: string) =>
        `SELECT count(*) FROM ${id} WHERE eventTime > '${time}' AND eventName = 'RunInstances'`;
      const outcome = async (statement: string) => {
        try {
          const { QueryId } = await ct.send(new StartQueryCommand({ QueryStatement: statement }));
          const d = await finished(ct, QueryId as string);
          return `${d.QueryStatus} ${d.ErrorMessage ?? ''}`;
        } catch (error) {
          return `${(error as Error).name} ${(error as Error).message}`;
        }
      };
      const untemplated = await outcome(since('not a time'));
      assert.match(untemplated, /^FAILED .*not a time/);
      assert.deepEqual(await rows(since(`${dayBefore(30)} 00:00:00`)), [[String(Math.ceil(n / 4))]]);
      const templated = await outcome(since('nor is this'));
      assert.equal(templated.replace('nor is this', 'not a time'), untemplated);
      // A filled template is bound by a free runner: one its literal keeps from binding is refused as any
      // statement is, and gives the runner back (more queries than there are runners follow).
      const member = (name: string, user = 'alice') =>
        `SELECT count(*) FROM ${id} WHERE userIdentity['${name}'] = '${user}'`;
      assert.deepEqual(await rows(member('userName')), [[String(Math.ceil(n / 3))]]);
      for (let i = 0; i < 3; i++) {
        await rejectsWith(
          ct.send(new StartQueryCommand({ QueryStatement: member(`noSuchMember${i}`) })),
          'InvalidQueryStatementException',
          /nosuchmember/i,
        );
      }
      for (let i = 0; i < 3; i++) assert.deepEqual(await rows(member('userName')), [[String(Math.ceil(n / 3))]]);
      // What the runner prepared is what ran, profiled: its statistics are the scan's (no event matches,
      // where the queries before on either runner matched ten).
      const { QueryId } = await ct.send(new StartQueryCommand({ QueryStatement: member('userName', 'nobody') }));
      const statistics = (await finished(ct, QueryId as string)).QueryStatistics;
      assert.equal(statistics?.EventsMatched, 0);
      assert.ok((statistics?.EventsScanned ?? 0) >= n, JSON.stringify(statistics));
      const answer = await ct.send(new GetQueryResultsCommand({ QueryId }));
      assert.deepEqual(answer.QueryResultRows, [[{ _col0: '0' }]]);
      // Another account's statement of the same shape names a store it may not read.
      const theirs = w.cloudtrail({ credentials: (await w.newAccount()).root });
      await rejectsWith(
        theirs.send(new StartQueryCommand({ QueryStatement: count('alice', 'StopInstances') })),
        'EventDataStoreNotFoundException',
      );
      // A literal the scan finds where DuckDB reads a quoted name (a comment ended by \r) cannot close that
      // name and add a sub-query of the service's own tables: such a shape has no template.
      const named = (literal: string) => `SELECT count(*) AS --\r"x\n${literal} --\r"\nFROM ${id}`;
      assert.equal((await rows(named("'lit'")))?.length, 1);
      await rejectsWith(
        ct.send(
          new StartQueryCommand({
            QueryStatement: named(`'", (SELECT list(eventname) FROM main.lake_events) AS others, 1 AS "'`),
          }),
        ),
        'InvalidQueryStatementException',
        /Sub-queries/,
      );
      // Point lookups are narrowed by their eventID, so each finds its own event.
      const ids = await rows(`SELECT eventID FROM ${id} WHERE eventName = 'StopInstances' ORDER BY eventID LIMIT 2`);
      for (const [eventId] of ids) {
        assert.deepEqual(await rows(`SELECT eventID FROM ${id} WHERE eventID = '${eventId}'`), [[eventId]]);
      }
    });
  });

  it('keeps numeric literals as written: doubles with an exponent, integers past 2^53', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeWithEvents(w, ct, 1);
      const [row] = await lakeQueryRows(
        ct,
        `SELECT 1e3 AS a, 9007199254740993 AS b, 123456789012345678901234 AS c, 2.5e0 AS d, max(1e20) AS e FROM ${id}`,
      );
      assert.deepEqual(row, {
        a: '1000.0',
        b: '9007199254740993',
        c: '123456789012345678901234',
        d: '2.5',
        e: '1e+20',
      });
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: `SELECT '\u0001' AS x FROM ${id}` })),
        'InvalidQueryStatementException',
        /U\+0001/,
      );
    });
  });

  it('cancels a running query, and allows at most 10 unfinished per account', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeWithEvents(w, ct, 400);
      const slow = runawayQuery(id);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        ids.push((await ct.send(new StartQueryCommand({ QueryStatement: slow }))).QueryId as string);
      }
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: `SELECT 1 FROM ${id}` })),
        'MaxConcurrentQueriesException',
      );
      const states = await Promise.all(
        ids.map(async (QueryId) => (await ct.send(new DescribeQueryCommand({ QueryId }))).QueryStatus),
      );
      assert.deepEqual(
        states.filter((s) => s === 'RUNNING').length,
        2,
        `two run at once, the rest wait: ${states.join(', ')}`,
      );
      // Listed as they stand, though a query started a moment ago is not stored yet.
      const listed = await ct.send(new ListQueriesCommand({ EventDataStore: id }));
      assert.deepEqual(
        ids.map((q) => listed.Queries?.find((l) => l.QueryId === q)?.QueryStatus),
        states,
      );
      for (const QueryId of ids) {
        const cancelled = await ct.send(new CancelQueryCommand({ QueryId }));
        assert.equal(cancelled.QueryStatus, 'CANCELLED');
      }
      for (const QueryId of ids) assert.equal((await finished(ct, QueryId)).QueryStatus, 'CANCELLED');
    });
  });

  it('stops a query that runs past an hour of the service’s clock: TIMED_OUT, saying why', async () => {
    const clock = new ManualClock(Date.now());
    await withServer(
      async (w) => {
        const ct = w.cloudtrail();
        const id = await storeWithEvents(w, ct, 400);
        const slow = runawayQuery(id);
        const { QueryId } = await ct.send(new StartQueryCommand({ QueryStatement: slow }));
        assert.equal((await ct.send(new DescribeQueryCommand({ QueryId }))).QueryStatus, 'RUNNING');
        // Requests are signed at the server's time, an hour ahead of this machine's by the end.
        const signedAtServerTime = () =>
          new CloudTrailClient({
            endpoint: w.url,
            region: 'us-east-1',
            credentials: w.adminCredentials,
            systemClockOffset: clock.now() - Date.now(),
          });
        await clock.advance(59 * 60_000);
        const later = signedAtServerTime();
        assert.equal((await later.send(new DescribeQueryCommand({ QueryId }))).QueryStatus, 'RUNNING');
        later.destroy();
        await clock.advance(60_000);
        const end = signedAtServerTime();
        try {
          const ended = await finished(end, QueryId as string);
          assert.equal(ended.QueryStatus, 'TIMED_OUT');
          assert.match(ended.ErrorMessage ?? '', /longer than 60 minutes/);
          await rejectsWith(end.send(new CancelQueryCommand({ QueryId })), 'InactiveQueryException', /TIMED_OUT/);
        } finally {
          end.destroy();
        }
      },
      { clock },
    );
  });

  it('fails, once restarted, the queries a killed or stopped server left unfinished', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-lake-unfinished-'));
    const restarted = /restarted while the query was queued or running/;
    try {
      const id = await withServer(async (w) => storeWithEvents(w, w.cloudtrail(), 400), { dataDir, env: FIXED_ADMIN });
      // Killed: a query unfinished for over a second was stored, and the restart fails it.
      const child = await startChildServer(dataDir);
      const killedCt = new CloudTrailClient({
        endpoint: child.url,
        region: 'us-east-1',
        credentials: FIXED_ADMIN_CREDENTIALS,
      });
      let killed: string;
      try {
        killed = (await killedCt.send(new StartQueryCommand({ QueryStatement: runawayQuery(id) }))).QueryId as string;
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal((await killedCt.send(new DescribeQueryCommand({ QueryId: killed }))).QueryStatus, 'RUNNING');
      } finally {
        killedCt.destroy();
        await child.kill();
      }
      // Stopped: the running ones end FAILED as they are interrupted, a queued one is failed by the restart.
      const stopped = await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          const d = await ct.send(new DescribeQueryCommand({ QueryId: killed }));
          assert.equal(d.QueryStatus, 'FAILED');
          assert.match(d.ErrorMessage ?? '', restarted);
          const ids: string[] = [];
          for (let i = 0; i < 3; i++) {
            ids.push((await ct.send(new StartQueryCommand({ QueryStatement: runawayQuery(id) }))).QueryId as string);
          }
          return ids;
        },
        { dataDir, env: FIXED_ADMIN },
      );
      await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          const ended = await Promise.all(
            stopped.map(async (QueryId) => await ct.send(new DescribeQueryCommand({ QueryId }))),
          );
          assert.deepEqual(
            ended.map((d) => d.QueryStatus),
            ['FAILED', 'FAILED', 'FAILED'],
          );
          assert.match(ended[2]?.ErrorMessage ?? '', restarted);
          const listed = await ct.send(new ListQueriesCommand({ EventDataStore: id }));
          assert.ok(
            [killed, ...stopped].every((q) =>
              listed.Queries?.some((l) => l.QueryId === q && l.QueryStatus === 'FAILED'),
            ),
          );
        },
        { dataDir, env: FIXED_ADMIN },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps finished queries and their results across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-lake-restart-'));
    try {
      let queryId = '';
      let before: unknown;
      await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          const id = await storeWithEvents(w, ct, 12);
          const { QueryId } = await ct.send(
            new StartQueryCommand({
              QueryStatement: `SELECT eventName, count(*) AS n FROM ${id} GROUP BY eventName ORDER BY eventName`,
            }),
          );
          queryId = QueryId as string;
          assert.equal((await finished(ct, queryId)).QueryStatus, 'FINISHED');
          before = (await ct.send(new GetQueryResultsCommand({ QueryId: queryId }))).QueryResultRows;
        },
        { dataDir, env: FIXED_ADMIN },
      );
      // A server whose store holds finished queries starts, and still answers them.
      await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          assert.equal((await ct.send(new DescribeQueryCommand({ QueryId: queryId }))).QueryStatus, 'FINISHED');
          assert.deepEqual((await ct.send(new GetQueryResultsCommand({ QueryId: queryId }))).QueryResultRows, before);
        },
        { dataDir, env: FIXED_ADMIN },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

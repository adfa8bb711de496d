import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateEventDataStoreCommand, SearchSampleQueriesCommand } from '@aws-sdk/client-cloudtrail';
import { SAMPLE_QUERIES } from '../../src/lake/index.ts';
import { awsCli } from '../helpers/aws-cli.ts';
import { lakeQueryRows } from '../helpers/lake.ts';
import { managementRecord } from '../helpers/records.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';

/** Yesterday (UTC), so the history stays inside the store's retention whenever the test runs. */
const DAY = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);

/** A small account history with known answers: sign-ins, IAM changes, root calls, refusals. */
function history(account: string) {
  const base = (i: number, eventSource: string, eventName: string, more: Record<string, unknown> = {}) =>
    managementRecord(account, {
      userIdentity: {
        type: 'IAMUser',
        arn: `arn:aws:iam::${account}:user/u${i % 4}`,
        accountId: account,
        userName: `u${i % 4}`,
      },
      eventTime: `${DAY}T${String(10 + (i % 10)).padStart(2, '0')}:00:00Z`,
      eventSource,
      eventName,
      sourceIPAddress: `198.51.100.${i % 3}`,
      ...more,
    });
  const records = [];
  for (let i = 0; i < 7; i++) {
    records.push(
      base(i, 'signin.amazonaws.com', 'ConsoleLogin', {
        eventType: 'AwsConsoleSignIn',
        responseElements: { ConsoleLogin: i < 3 ? 'Failure' : 'Success' },
        additionalEventData: { MFAUsed: 'No' },
        ...(i < 3 ? { errorMessage: 'Failed authentication' } : {}),
      }),
    );
  }
  for (let i = 0; i < 5; i++)
    records.push(base(i, 'iam.amazonaws.com', 'CreateUser', { requestParameters: { userName: `n${i}` } }));
  for (let i = 0; i < 4; i++) records.push(base(i, 'iam.amazonaws.com', 'GetUser', { readOnly: true }));
  for (let i = 0; i < 2; i++) {
    records.push(
      base(i, 'ec2.amazonaws.com', 'RunInstances', {
        userIdentity: { type: 'Root', arn: `arn:aws:iam::${account}:root`, accountId: account },
      }),
    );
  }
  for (let i = 0; i < 6; i++)
    records.push(base(i, 's3.amazonaws.com', 'ListBuckets', { errorCode: 'AccessDenied', readOnly: true }));
  return records;
}

async function storeWithHistory(w: TestWorld): Promise<string> {
  const ct = w.cloudtrail();
  const made = await ct.send(new CreateEventDataStoreCommand({ Name: 'samples' }));
  const answer = await w
    .ingestApi()
    .call<{ Failed: unknown[] }>('PutRecords', { Records: history(w.app.admin.accountId) });
  assert.deepEqual(answer.Failed, []);
  await w.app.lakeCaughtUp();
  return made.EventDataStoreArn?.split('/').pop() as string;
}

describe('sample queries', () => {
  it('every sample runs on a store, and the investigations find what the history holds', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const id = await storeWithHistory(w);
      const results = new Map<string, Record<string, string | null>[]>();
      for (const q of SAMPLE_QUERIES) results.set(q.name, await lakeQueryRows(ct, q.sql.replaceAll('$EDS_ID', id)));

      const failed = results.get('Failed console logins') ?? [];
      assert.equal(failed.length, 3);
      assert.ok(failed.every((r) => r['mfaUsed'] === 'No' && r['errorMessage'] === 'Failed authentication'));
      assert.deepEqual(
        (results.get('Changes to IAM') ?? []).map((r) => r['eventName']),
        ['CreateUser', 'CreateUser', 'CreateUser', 'CreateUser', 'CreateUser'],
      );
      // The admin is the account's root user, so its own API calls (these queries) are root activity too.
      const root = results.get('Root user activity') ?? [];
      assert.equal(root.filter((r) => r['eventName'] === 'RunInstances').length, 2);
      const denied = results.get('Access denied errors by caller') ?? [];
      assert.equal(
        denied.reduce((n, r) => n + Number(r['denied']), 0),
        6,
      );
      const perHour = results.get('API calls per hour') ?? [];
      // The history's hours hold its records; the test's own API calls land in today's.
      assert.equal(
        perHour.filter((r) => r['hour']?.startsWith(DAY)).reduce((n, r) => n + Number(r['calls']), 0),
        history('x').length,
      );
    });
  });

  it('are found by the words of a phrase, most relevant first, through the SDK and the AWS CLI', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const found = await ct.send(new SearchSampleQueriesCommand({ SearchPhrase: 'failed console logins' }));
      assert.equal(found.SearchResults?.[0]?.Name, 'Failed console logins');
      assert.equal(found.SearchResults?.[0]?.Relevance, 1);
      assert.match(found.SearchResults?.[0]?.SQL ?? '', /FROM \$EDS_ID/);
      const paged = await ct.send(
        new SearchSampleQueriesCommand({ SearchPhrase: 'security investigation', MaxResults: 1 }),
      );
      assert.equal(paged.SearchResults?.length, 1);
      assert.ok(paged.NextToken);
      const next = await ct.send(
        new SearchSampleQueriesCommand({
          SearchPhrase: 'security investigation',
          MaxResults: 1,
          NextToken: paged.NextToken,
        }),
      );
      assert.notEqual(next.SearchResults?.[0]?.Name, paged.SearchResults?.[0]?.Name);
      // Its model declares no token error: a token of another phrase is an InvalidParameterException.
      await assert.rejects(
        ct.send(new SearchSampleQueriesCommand({ SearchPhrase: 'failed console logins', NextToken: paged.NextToken })),
        { name: 'InvalidParameterException', message: /NextToken is not one SearchSampleQueries returned/ },
      );

      const id = await storeWithHistory(w);
      const cli = (args: string[]) =>
        awsCli(
          ['cloudtrail', ...args, '--endpoint-url', w.url, '--region', 'us-east-1', '--output', 'json'],
          w.adminCredentials,
        );
      const search = await cli(['search-sample-queries', '--search-phrase', 'changes to IAM']);
      assert.equal(search.code, 0, search.stderr);
      const sql = (JSON.parse(search.stdout).SearchResults[0].SQL as string).replaceAll('$EDS_ID', id);
      const started = await cli(['start-query', '--query-statement', sql]);
      assert.equal(started.code, 0, started.stderr);
      const { QueryId } = JSON.parse(started.stdout) as { QueryId: string };
      let answer: { QueryStatus: string; QueryResultRows?: Record<string, string>[][] };
      do {
        const got = await cli(['get-query-results', '--query-id', QueryId]);
        assert.equal(got.code, 0, got.stderr);
        answer = JSON.parse(got.stdout);
      } while (answer.QueryStatus !== 'FINISHED');
      assert.equal(answer.QueryResultRows?.length, 5);
      assert.deepEqual(answer.QueryResultRows?.[0]?.[2], { eventName: 'CreateUser' });
    });
  });
});

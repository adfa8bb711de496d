import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CreateEventDataStoreCommand, StartImportCommand } from '@aws-sdk/client-cloudtrail';
import { SAMPLE_QUERIES } from '../../src/lake/index.ts';
import { importSettled, lakeQueryRows } from '../helpers/lake.ts';
import { realLogs } from '../helpers/real-logs.ts';
import { withServer } from '../helpers/server.ts';

/**
 * Every sample query on real CloudTrail logs: the Stratus Red Team attacks of ../shared/data/real-logs (2,900
 * records, imported with StartImport), each answer checked against what this test counts in the files.
 */
const INVICTUS = realLogs('invictus-ir__aws_dataset/CloudTrail');

type Rec = Record<string, unknown> & {
  userIdentity?: { arn?: string; type?: string };
  responseElements?: Record<string, unknown> | null;
};
type Row = Record<string, string | null>;

function countBy(records: Rec[], key: (r: Rec) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  return counts;
}

/** A top-N answer: each row's count is the files' count for its key, and the counts are the N largest. */
function assertTop(
  name: string,
  got: Row[],
  expected: Map<string, number>,
  key: (row: Row) => string,
  count: string,
  n: number,
) {
  for (const row of got) assert.equal(Number(row[count]), expected.get(key(row)), `${name}: ${key(row)}`);
  const top = [...expected.values()].sort((a, b) => b - a).slice(0, n);
  assert.deepEqual(
    got.map((r) => Number(r[count])),
    top,
    name,
  );
}

const str = (v: unknown) => (v === undefined || v === null ? 'null' : String(v));

describe('sample queries on real logs', () => {
  it('answer what the imported files hold', async () => {
    const records: Rec[] = [];
    const names = (await readdir(INVICTUS)).sort();
    for (const name of names) records.push(...JSON.parse(await readFile(join(INVICTUS, name), 'utf8')).Records);
    assert.equal(records.length, 2900);
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const name of names) {
        const folder = join(
          w.dataDir,
          'buckets',
          'attacks',
          'AWSLogs',
          '218007301253',
          'CloudTrail',
          'us-east-1',
          '2023',
          '07',
          '10',
        );
        await mkdir(folder, { recursive: true });
        await writeFile(join(folder, name), await readFile(join(INVICTUS, name)));
      }
      const store = await ct.send(
        new CreateEventDataStoreCommand({ Name: 'attacks', RetentionPeriod: 3653, StartIngestion: false }),
      );
      const { ImportId } = await ct.send(
        new StartImportCommand({
          Destinations: [store.EventDataStoreArn as string],
          ImportSource: {
            S3: {
              S3LocationUri: 's3://attacks',
              S3BucketRegion: 'us-east-1',
              S3BucketAccessRoleArn: 'arn:aws:iam::218007301253:role/import',
            },
          },
        }),
      );
      assert.equal((await importSettled(ct, ImportId as string)).ImportStatus, 'COMPLETED');
      const id = (store.EventDataStoreArn as string).split('/').pop() as string;
      const answer = new Map<string, Row[]>();
      for (const q of SAMPLE_QUERIES) answer.set(q.name, await lakeQueryRows(ct, q.sql.replaceAll('$EDS_ID', id)));
      const get = (name: string) => answer.get(name) ?? assert.fail(`no sample named ${name}`);

      assertTop(
        'Top callers',
        get('Top callers'),
        countBy(records, (r) => str(r.userIdentity?.arn)),
        (row) => str(row['caller']),
        'calls',
        10,
      );
      assertTop(
        'Most frequent API calls',
        get('Most frequent API calls'),
        countBy(records, (r) => `${r['eventSource']} ${r['eventName']}`),
        (row) => `${row['eventSource']} ${row['eventName']}`,
        'calls',
        20,
      );
      const deniedCodes = [
        'AccessDenied',
        'AccessDeniedException',
        'UnauthorizedOperation',
        'Client.UnauthorizedOperation',
      ];
      const denied = records.filter((r) => deniedCodes.includes(r['errorCode'] as string));
      assert.ok(denied.length > 0, 'the attacks were refused at times');
      assertTop(
        'Access denied errors by caller',
        get('Access denied errors by caller'),
        countBy(denied, (r) => `${str(r.userIdentity?.arn)} ${r['eventSource']} ${r['eventName']}`),
        (row) => `${str(row['caller'])} ${row['eventSource']} ${row['eventName']}`,
        'denied',
        20,
      );
      assertTop(
        'Calls by source IP address',
        get('Calls by source IP address'),
        countBy(records, (r) => str(r['sourceIPAddress'])),
        (row) => str(row['sourceIPAddress']),
        'calls',
        20,
      );

      // These attacks hold no console sign-ins and no root activity (sample-queries.test.ts covers both); they
      // do stop trails, open security groups and change IAM.
      const failedLogins = records.filter(
        (r) => r['eventName'] === 'ConsoleLogin' && r.responseElements?.['ConsoleLogin'] === 'Failure',
      );
      assert.equal(get('Failed console logins').length, failedLogins.length);
      const iamChanges = records.filter((r) => r['eventSource'] === 'iam.amazonaws.com' && r['readOnly'] === false);
      assert.ok(iamChanges.length > 0, 'the attacks changed IAM');
      assert.deepEqual(
        get('Changes to IAM')
          .map((r) => r['eventName'])
          .sort(),
        iamChanges
          .sort((a, b) => String(b['eventTime']).localeCompare(String(a['eventTime'])))
          .slice(0, 100)
          .map((r) => String(r['eventName']))
          .sort(),
      );
      const root = records.filter((r) => r.userIdentity?.type === 'Root');
      assert.equal(get('Root user activity').length, Math.min(100, root.length));
      const trailChanges = [
        'StopLogging',
        'DeleteTrail',
        'UpdateTrail',
        'PutEventSelectors',
        'DeleteEventDataStore',
        'StopEventDataStoreIngestion',
      ];
      assert.ok(get('CloudTrail logging changes').length > 0);
      assert.equal(
        get('CloudTrail logging changes').length,
        records.filter(
          (r) => r['eventSource'] === 'cloudtrail.amazonaws.com' && trailChanges.includes(r['eventName'] as string),
        ).length,
      );
      const sgChanges = [
        'AuthorizeSecurityGroupIngress',
        'AuthorizeSecurityGroupEgress',
        'RevokeSecurityGroupIngress',
        'RevokeSecurityGroupEgress',
      ];
      assert.ok(get('Security group changes').length > 0);
      assert.equal(
        get('Security group changes').length,
        records.filter((r) => r['eventSource'] === 'ec2.amazonaws.com' && sgChanges.includes(r['eventName'] as string))
          .length,
      );
      const perHour = countBy(records, (r) => `${String(r['eventTime']).slice(0, 13).replace('T', ' ')}:00:00`);
      assert.deepEqual(
        new Map(get('API calls per hour').map((r) => [String(r['hour']).slice(0, 19), Number(r['calls'])])),
        perHour,
      );
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddTagsCommand,
  type CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailCommand,
  ListTrailsCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { ManualClock } from '../../src/model/clock.ts';
import { createObjectStore } from '../../src/objectstore/index.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';
import {
  advance,
  bucketKeys,
  eventIds,
  eventNames,
  ingest,
  type LogFile,
  logFiles,
  lookupTexts,
  managementRecord,
  readObject,
} from './delivered-files.ts';

/**
 * Log files as AWS writes them (facts §4.3, §5.1, §5.2): where each goes, what it is named, that it is one
 * gzip member of `{"Records":[…]}` holding exactly the records event history holds, one per account and
 * Region per delivery, and that no record is delivered twice or from before StartLogging.
 */

const ARGV = ['--delivery-interval', '60', '--digest-interval', '3600'];

function serve(clock: ManualClock, fn: (w: TestWorld) => Promise<void>): Promise<void> {
  return withServer(fn, { clock, argv: ARGV });
}

async function startTrail(w: TestWorld, input: { Name: string; S3BucketName: string } & Record<string, unknown>) {
  const ct: CloudTrailClient = w.cloudtrail();
  await ct.send(new CreateTrailCommand(input));
  await ct.send(new StartLoggingCommand({ Name: input.Name }));
}

/** `{"Records":[…]}` of the CloudTrailEvent texts LookupEvents returns for the files' records, in file order. */
async function recordsAsInHistory(w: TestWorld, files: LogFile[]): Promise<string> {
  const texts = await lookupTexts(w);
  const records = eventIds(files).map((id) => texts.get(id) ?? assert.fail(`${id} is not in event history`));
  return `{"Records":[${records.join(',')}]}`;
}

const keyPattern = (prefix: string, account: string, region: string, day: string, minute: string) =>
  new RegExp(
    `^${prefix}AWSLogs/${account}/CloudTrail/${region}/${day}/${account}_CloudTrail_${region}_${minute}_[A-Za-z0-9]{16}\\.json\\.gz$`,
  );

describe('log file keys', () => {
  it('names a file by its delivery minute and date, not by the time of its events, under AWSLogs/<account>', async () => {
    // Events at 23:59 on the last day of 2026; the delivery a minute later is in 2027.
    const clock = new ManualClock(Date.UTC(2026, 11, 31, 23, 59, 0));
    await serve(clock, async (w) => {
      const account = w.app.admin.accountId;
      await startTrail(w, { Name: 'keys', S3BucketName: 'key-bucket' });
      await advance(w, clock);
      const keys = await bucketKeys(w, 'key-bucket');
      assert.equal(keys.length, 1, keys.join('\n'));
      assert.match(keys[0] as string, keyPattern('', account, 'us-east-1', '2027/01/01', '20270101T0000Z'));
      const [file] = await logFiles(w, 'key-bucket');
      assert.ok(file?.records.every((r) => String(r['eventTime']).startsWith('2026-12-31T23:59')));
    });
  });

  it('puts the S3KeyPrefix first and rounds the delivery time up to the minute, after every event in the file', async () => {
    const clock = new ManualClock(Date.UTC(2026, 6, 4, 10, 15, 42));
    await serve(clock, async (w) => {
      const account = w.app.admin.accountId;
      await startTrail(w, { Name: 'prefixed', S3BucketName: 'prefix-bucket', S3KeyPrefix: 'audit/team-a' });
      // An event in the delivery's own minute: a file holds only events from before its timestamp (facts §5.2).
      await clock.advance(30_000);
      await w.cloudtrail().send(new DescribeTrailsCommand({})); // at 10:16:12
      await advance(w, clock, 1, 30_000); // delivers at 10:16:42
      const keys = await bucketKeys(w, 'prefix-bucket');
      assert.equal(keys.length, 1, keys.join('\n'));
      assert.match(
        keys[0] as string,
        keyPattern('audit/team-a/', account, 'us-east-1', '2026/07/04', '20260704T1017Z'),
      );
      const [file] = await logFiles(w, 'prefix-bucket');
      assert.ok(file?.records.some((r) => r['eventTime'] === '2026-07-04T10:16:12Z'));
      assert.ok(file?.records.every((r) => String(r['eventTime']) < '2026-07-04T10:17:00Z'));
    });
  });

  it('gives files of successive deliveries distinct names, each with its own minute', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 8, 0, 0));
    await serve(clock, async (w) => {
      const account = w.app.admin.accountId;
      await startTrail(w, { Name: 'minutes', S3BucketName: 'minute-bucket' });
      for (let i = 0; i < 3; i++) {
        await w.cloudtrail().send(new DescribeTrailsCommand({}));
        await advance(w, clock);
      }
      const keys = await bucketKeys(w, 'minute-bucket');
      assert.deepEqual(
        keys.map((k) => k.match(/_(\d{8}T\d{4}Z)_/)?.[1]),
        ['20260301T0801Z', '20260301T0802Z', '20260301T0803Z'],
      );
      for (const key of keys) assert.match(key, keyPattern('', account, 'us-east-1', '2026/03/01', '\\d{8}T\\d{4}Z'));
    });
  });
});

describe('log file contents', () => {
  it('writes one gzip member of {"Records":[…]} whose records are, byte for byte, the CloudTrailEvent texts of LookupEvents', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 10, 9, 0, 0));
    await serve(clock, async (w) => {
      await startTrail(w, { Name: 'bytes', S3BucketName: 'bytes-bucket' });
      const ct = w.cloudtrail();
      const { Trail } = await ct.send(new GetTrailCommand({ Name: 'bytes' }));
      // Characters JSON may write in more than one way must come through exactly as recorded.
      await ct.send(
        new AddTagsCommand({ ResourceId: Trail?.TrailARN, TagsList: [{ Key: 'équipe', Value: 'Données 日本 / ü' }] }),
      );
      await ct.send(new DescribeTrailsCommand({}));
      await advance(w, clock);
      const files = await logFiles(w, 'bytes-bucket'); // logFiles checks the single gzip member
      assert.equal(files.length, 1);
      assert.deepEqual(eventNames(files), ['StartLogging', 'GetTrail', 'AddTags', 'DescribeTrails']);
      assert.equal((files[0] as LogFile).text, await recordsAsInHistory(w, files));
    });
  });

  it('writes ingested records, byte for byte, as LookupEvents returns them as CloudTrailEvent', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 10, 9, 0, 0));
    await serve(clock, async (w) => {
      await startTrail(w, { Name: 'ingested', S3BucketName: 'ingested-bucket' });
      await ingest(w, [
        managementRecord(clock, { userAgent: 'naïve/1.0 ✓ "quoted" \\ \u2028 </script>' }),
        managementRecord(clock, { requestParameters: { filter: { name: 'tag:Team', values: ['ünï', '日本'] } } }),
      ]);
      await advance(w, clock);
      const files = await logFiles(w, 'ingested-bucket');
      assert.equal(files.length, 1);
      assert.deepEqual(eventNames(files), ['StartLogging', 'DescribeInstances', 'DescribeInstances']);
      assert.equal((files[0] as LogFile).text, await recordsAsInHistory(w, files));
    });
  });

  it('stores log files as application/json without a Content-Encoding, the gzip bytes as the body', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 10, 9, 0, 0));
    await serve(clock, async (w) => {
      await startTrail(w, { Name: 'typed', S3BucketName: 'typed-bucket' });
      await advance(w, clock);
      const [key] = await bucketKeys(w, 'typed-bucket');
      assert.ok(key);
      const store = createObjectStore({ dataDir: w.dataDir });
      try {
        const head = await store.headObject('typed-bucket', key);
        assert.equal(head?.contentType, 'application/json');
        assert.equal(head?.contentEncoding, undefined);
        const raw = await readObject(w, 'typed-bucket', key);
        assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b]);
      } finally {
        store.close();
      }
    });
  });

  it('writes one file per Region per delivery for a multi-Region trail, each holding only its Region', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 10, 9, 0, 0));
    await serve(clock, async (w) => {
      const account = w.app.admin.accountId;
      await startTrail(w, { Name: 'regions', S3BucketName: 'region-bucket', IsMultiRegionTrail: true });
      await w.cloudtrail({ region: 'eu-west-1' }).send(new ListTrailsCommand({}));
      await w.cloudtrail({ region: 'eu-west-1' }).send(new DescribeTrailsCommand({}));
      await w.cloudtrail({ region: 'ap-southeast-2' }).send(new ListTrailsCommand({}));
      await advance(w, clock);
      const files = await logFiles(w, 'region-bucket');
      const byRegion = new Map(files.map((f) => [f.key.split('/')[3], f]));
      assert.deepEqual([...byRegion.keys()].sort(), ['ap-southeast-2', 'eu-west-1', 'us-east-1']);
      assert.equal(files.length, 3);
      for (const [region, file] of byRegion) {
        assert.match(file.key, keyPattern('', account, region as string, '2026/04/10', '20260410T0901Z'));
        assert.ok(file.records.every((r) => r['awsRegion'] === region && r['recipientAccountId'] === account));
      }
      assert.deepEqual(eventNames([byRegion.get('eu-west-1') as (typeof files)[number]]), [
        'ListTrails',
        'DescribeTrails',
      ]);
    });
  });
});

describe('what a trail delivers over time', () => {
  it('delivers nothing recorded before StartLogging, and the StartLogging call first', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 10, 9, 0, 0));
    await serve(clock, async (w) => {
      const ct = w.cloudtrail();
      await ct.send(new CreateTrailCommand({ Name: 'late', S3BucketName: 'late-bucket' }));
      const before = await ingest(w, [managementRecord(clock), managementRecord(clock)]);
      await ct.send(new DescribeTrailsCommand({}));
      await advance(w, clock);
      assert.deepEqual(await bucketKeys(w, 'late-bucket'), [], 'a trail that is not logging delivers nothing');
      await w.cloudtrail().send(new StartLoggingCommand({ Name: 'late' }));
      const after = await ingest(w, [managementRecord(clock)]);
      await advance(w, clock);
      const files = await logFiles(w, 'late-bucket');
      assert.deepEqual(eventNames(files), ['StartLogging', 'DescribeInstances']);
      assert.deepEqual(eventIds(files).slice(1), after);
      for (const id of before) assert.ok(!eventIds(files).includes(id));
      assert.ok(!eventNames(files).includes('CreateTrail'));
    });
  });

  it('delivers every record exactly once over several intervals', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 10, 9, 0, 0));
    await serve(clock, async (w) => {
      await startTrail(w, { Name: 'once', S3BucketName: 'once-bucket', IsMultiRegionTrail: true });
      const sent: string[] = [];
      for (let i = 0; i < 6; i++) {
        sent.push(
          ...(await ingest(w, [
            managementRecord(clock),
            managementRecord(clock, { awsRegion: 'eu-central-1' }),
            managementRecord(clock, { eventName: 'RunInstances', readOnly: false }),
          ])),
        );
        await w.cloudtrail().send(new DescribeTrailsCommand({}));
        // Some intervals see two deliveries' worth of time, some none of new records.
        await advance(w, clock, i % 2 === 0 ? 1 : 2);
      }
      const files = await logFiles(w, 'once-bucket');
      const delivered = eventIds(files);
      assert.equal(new Set(delivered).size, delivered.length, 'no eventID appears twice');
      for (const id of sent) assert.ok(delivered.includes(id), `${id} was delivered`);
      assert.equal(files.length, 12, 'two Regions in each of six deliveries');
      assert.equal(new Set(files.map((f) => f.key)).size, files.length);
      const history = await lookupTexts(w);
      for (const file of files.filter((f) => f.key.includes('/us-east-1/'))) {
        for (const r of file.records) assert.ok(history.has(r['eventID'] as string));
      }
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { ManualClock } from '../../src/model/clock.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';
import { advance, bucketKeys, eventIds, eventNames, ingest, logFiles, managementRecord } from './delivered-files.ts';

/**
 * When a trail delivers (facts §3.6): from its StartLogging call to its StopLogging or DeleteTrail call,
 * both included, wherever those calls fall between deliveries; a later StartLogging opens a new window
 * without reaching back; settings changed by UpdateTrail apply to later deliveries.
 */

const ARGV = ['--delivery-interval', '60', '--digest-interval', '3600'];

function serve(fn: (w: TestWorld, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock(Date.UTC(2026, 7, 3, 6, 0, 0));
  return withServer((w) => fn(w, clock), { clock, argv: ARGV });
}

/** A fresh client for each call: its signature must carry the manual clock's current time. */
const ct = (w: TestWorld) => w.cloudtrail();

const one = (w: TestWorld, clock: ManualClock) => ingest(w, [managementRecord(clock)]);

describe('logging windows', () => {
  it('delivers nothing for a trail that never started logging', async () => {
    await serve(async (w, clock) => {
      await ct(w).send(new CreateTrailCommand({ Name: 'idle', S3BucketName: 'idle-bucket' }));
      for (let i = 0; i < 3; i++) {
        await one(w, clock);
        await ct(w).send(new DescribeTrailsCommand({}));
        await advance(w, clock);
      }
      assert.deepEqual(await bucketKeys(w, 'idle-bucket'), []);
    });
  });

  it('delivers exactly the events from StartLogging to StopLogging, both calls included', async () => {
    await serve(async (w, clock) => {
      await ct(w).send(new CreateTrailCommand({ Name: 'window', S3BucketName: 'window-bucket' }));
      const before = await one(w, clock);
      await ct(w).send(new StartLoggingCommand({ Name: 'window' }));
      const first = await one(w, clock);
      await advance(w, clock);
      const second = await one(w, clock);
      await ct(w).send(new StopLoggingCommand({ Name: 'window' }));
      const after = await one(w, clock);
      await advance(w, clock, 3);
      const files = await logFiles(w, 'window-bucket');
      assert.deepEqual(eventNames(files), ['StartLogging', 'DescribeInstances', 'DescribeInstances', 'StopLogging']);
      assert.deepEqual(eventIds(files).slice(1, 3), [...first, ...second]);
      for (const id of [...before, ...after]) assert.ok(!eventIds(files).includes(id));
      assert.equal(files.length, 2, 'nothing after the StopLogging delivery');
    });
  });

  it('resumes at a later StartLogging from that call on, never delivering what happened while stopped', async () => {
    await serve(async (w, clock) => {
      await ct(w).send(new CreateTrailCommand({ Name: 'resume', S3BucketName: 'resume-bucket' }));
      await ct(w).send(new StartLoggingCommand({ Name: 'resume' }));
      await ct(w).send(new StopLoggingCommand({ Name: 'resume' }));
      await advance(w, clock);
      const stopped = await one(w, clock);
      await ct(w).send(new DescribeTrailsCommand({}));
      await advance(w, clock, 2);
      assert.equal((await logFiles(w, 'resume-bucket')).length, 1, 'no delivery while stopped');
      const alsoStopped = await one(w, clock);
      await ct(w).send(new StartLoggingCommand({ Name: 'resume' }));
      const resumed = await one(w, clock);
      await advance(w, clock);
      const files = await logFiles(w, 'resume-bucket');
      assert.equal(files.length, 2);
      assert.deepEqual(eventNames(files), ['StartLogging', 'StopLogging', 'StartLogging', 'DescribeInstances']);
      assert.deepEqual(eventIds(files.slice(1)).slice(1), resumed);
      for (const id of [...stopped, ...alsoStopped]) assert.ok(!eventIds(files).includes(id));
    });
  });

  it('opens and closes the window for calls that name the trail by its ARN', async () => {
    await serve(async (w, clock) => {
      const created = await w.cloudtrail().send(new CreateTrailCommand({ Name: 'by-arn', S3BucketName: 'arn-bucket' }));
      const arn = created.TrailARN as string;
      await ct(w).send(new StartLoggingCommand({ Name: arn }));
      const inside = await one(w, clock);
      await ct(w).send(new StopLoggingCommand({ Name: arn }));
      const outside = await one(w, clock);
      await advance(w, clock, 2);
      const files = await logFiles(w, 'arn-bucket');
      assert.deepEqual(eventNames(files), ['StartLogging', 'DescribeInstances', 'StopLogging']);
      assert.deepEqual(eventIds(files)[1], inside[0]);
      assert.ok(!eventIds(files).includes(outside[0] as string));
    });
  });

  it('keeps delivering when another trail of the account stops logging', async () => {
    await serve(async (w, clock) => {
      for (const name of ['keeps', 'stops']) {
        await ct(w).send(new CreateTrailCommand({ Name: name, S3BucketName: `${name}-bucket` }));
        await ct(w).send(new StartLoggingCommand({ Name: name }));
      }
      await ct(w).send(new StopLoggingCommand({ Name: 'stops' }));
      const later = await one(w, clock);
      await advance(w, clock);
      assert.deepEqual(eventIds(await logFiles(w, 'keeps-bucket')).slice(-1), later);
      assert.ok(!eventIds(await logFiles(w, 'stops-bucket')).includes(later[0] as string));
    });
  });
});

describe('deleting and changing a trail', () => {
  it('delivers the DeleteTrail call, then nothing more', async () => {
    await serve(async (w, clock) => {
      await ct(w).send(new CreateTrailCommand({ Name: 'doomed', S3BucketName: 'doomed-bucket' }));
      await ct(w).send(new StartLoggingCommand({ Name: 'doomed' }));
      await advance(w, clock);
      const last = await one(w, clock);
      await ct(w).send(new DeleteTrailCommand({ Name: 'doomed' }));
      const after = await one(w, clock);
      await advance(w, clock);
      await one(w, clock);
      await advance(w, clock, 2);
      const files = await logFiles(w, 'doomed-bucket');
      assert.deepEqual(eventNames(files), ['StartLogging', 'DescribeInstances', 'DeleteTrail']);
      assert.deepEqual(eventIds(files)[1], last[0]);
      assert.ok(!eventIds(files).includes(after[0] as string));
      assert.equal(files.length, 2);
    });
  });

  it('keeps a trail deleted and created again under its name within one interval apart from its successor', async () => {
    await serve(async (w, clock) => {
      await ct(w).send(new CreateTrailCommand({ Name: 'reborn', S3BucketName: 'first-life' }));
      await ct(w).send(new StartLoggingCommand({ Name: 'reborn' }));
      await advance(w, clock);
      await ct(w).send(new DeleteTrailCommand({ Name: 'reborn' }));
      await ct(w).send(new CreateTrailCommand({ Name: 'reborn', S3BucketName: 'second-life' }));
      await ct(w).send(new StartLoggingCommand({ Name: 'reborn' }));
      const early = await one(w, clock);
      await advance(w, clock);
      const late = await one(w, clock);
      await advance(w, clock, 2);
      assert.deepEqual(eventNames(await logFiles(w, 'first-life')), ['StartLogging', 'DeleteTrail']);
      const second = await logFiles(w, 'second-life');
      const ids = eventIds(second);
      assert.equal(new Set(ids).size, ids.length, `no record twice: ${eventNames(second).join(', ')}`);
      assert.deepEqual(eventNames(second), ['StartLogging', 'DescribeInstances', 'DescribeInstances']);
      assert.deepEqual(ids.slice(1), [...early, ...late]);
    });
  });

  it('sends the deliveries after UpdateTrail changes the bucket to the new bucket', async () => {
    await serve(async (w, clock) => {
      await ct(w).send(new CreateTrailCommand({ Name: 'moving', S3BucketName: 'old-home' }));
      await ct(w).send(new StartLoggingCommand({ Name: 'moving' }));
      const before = await one(w, clock);
      await advance(w, clock);
      await ct(w).send(new UpdateTrailCommand({ Name: 'moving', S3BucketName: 'new-home', S3KeyPrefix: 'moved' }));
      const after = await one(w, clock);
      await advance(w, clock);
      const later = await one(w, clock);
      await advance(w, clock);
      const old = await logFiles(w, 'old-home');
      assert.equal(old.length, 1);
      assert.deepEqual(eventIds(old).slice(1), before);
      const moved = await logFiles(w, 'new-home');
      assert.equal(moved.length, 2);
      assert.ok(moved.every((f) => f.key.startsWith(`moved/AWSLogs/${w.app.admin.accountId}/CloudTrail/`)));
      assert.deepEqual(eventNames(moved), ['UpdateTrail', 'DescribeInstances', 'DescribeInstances']);
      assert.deepEqual(eventIds(moved).slice(1), [...after, ...later]);
    });
  });
});

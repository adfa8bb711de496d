import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailCommand,
  LookupEventsCommand,
} from '@aws-sdk/client-cloudtrail';
import { rejectsWith, withServer } from '../helpers/server.ts';

describe('smoke', () => {
  it('creates a trail, describes it and finds the calls in lookup-events', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const created = await ct.send(new CreateTrailCommand({ Name: 'first', S3BucketName: 'my-bucket' }));
      assert.equal(created.TrailARN, `arn:aws:cloudtrail:us-east-1:${w.app.admin.accountId}:trail/first`);
      const described = await ct.send(new DescribeTrailsCommand({}));
      assert.equal(described.trailList?.length, 1);
      await rejectsWith(ct.send(new GetTrailCommand({ Name: 'nope' })), 'TrailNotFoundException');
      await w.historyCaughtUp();
      const found = await ct.send(new LookupEventsCommand({}));
      const names = found.Events?.map((e) => e.EventName);
      assert.deepEqual(names, ['GetTrail', 'DescribeTrails', 'CreateTrail']);
      const record = JSON.parse(found.Events?.[2]?.CloudTrailEvent ?? '{}');
      console.log(JSON.stringify(record, null, 1));
    });
  });
});

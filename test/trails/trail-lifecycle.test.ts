import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { ManualClock } from '../../src/model/clock.ts';
import { rejectsWith, withServer } from '../helpers/server.ts';

/** CreateTrail, UpdateTrail, DeleteTrail, Start/StopLogging, GetTrailStatus and GetTrail (facts §3). */

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

/** The response members, without the SDK's `$metadata`. */
function members(output: object): Record<string, unknown> {
  const { $metadata: _metadata, ...rest } = output as Record<string, unknown>;
  return rest;
}

async function getTrail(client: CloudTrailClient, name: string) {
  const { Trail } = await client.send(new GetTrailCommand({ Name: name }));
  assert.ok(Trail, `GetTrail ${name} returned a trail`);
  return Trail;
}

describe('CreateTrail', () => {
  it('creates a trail that is not logging, with AWS defaults, answering exactly the CreateTrail members', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = w.app.admin.accountId;
      const created = await ct.send(new CreateTrailCommand({ Name: 'defaults', S3BucketName: 'defaults-bucket' }));
      assert.deepEqual(members(created), {
        Name: 'defaults',
        S3BucketName: 'defaults-bucket',
        IncludeGlobalServiceEvents: true,
        IsMultiRegionTrail: false,
        TrailARN: `arn:aws:cloudtrail:us-east-1:${account}:trail/defaults`,
        LogFileValidationEnabled: false,
        IsOrganizationTrail: false,
      });
      const status = await ct.send(new GetTrailStatusCommand({ Name: 'defaults' }));
      assert.equal(status.IsLogging, false);
      assert.equal(status.StartLoggingTime, undefined);
    });
  });

  it('echoes every setting, with the KMS key as a full key ARN and the SNS topic name as a topic ARN', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail({ region: 'eu-west-1' });
      const account = w.app.admin.accountId;
      const created = await ct.send(
        new CreateTrailCommand({
          Name: 'everything',
          S3BucketName: 'everything-bucket',
          S3KeyPrefix: 'logs/prod',
          SnsTopicName: 'trail-topic',
          IncludeGlobalServiceEvents: true,
          IsMultiRegionTrail: true,
          EnableLogFileValidation: true,
          CloudWatchLogsLogGroupArn: `arn:aws:logs:eu-west-1:${account}:log-group:trail-logs:*`,
          CloudWatchLogsRoleArn: `arn:aws:iam::${account}:role/CloudTrailToLogs`,
          KmsKeyId: KEY_ID,
        }),
      );
      assert.deepEqual(members(created), {
        Name: 'everything',
        S3BucketName: 'everything-bucket',
        S3KeyPrefix: 'logs/prod',
        SnsTopicName: 'trail-topic',
        SnsTopicARN: `arn:aws:sns:eu-west-1:${account}:trail-topic`,
        IncludeGlobalServiceEvents: true,
        IsMultiRegionTrail: true,
        TrailARN: `arn:aws:cloudtrail:eu-west-1:${account}:trail/everything`,
        LogFileValidationEnabled: true,
        CloudWatchLogsLogGroupArn: `arn:aws:logs:eu-west-1:${account}:log-group:trail-logs:*`,
        CloudWatchLogsRoleArn: `arn:aws:iam::${account}:role/CloudTrailToLogs`,
        KmsKeyId: `arn:aws:kms:eu-west-1:${account}:key/${KEY_ID}`,
        IsOrganizationTrail: false,
      });
      const trail = await getTrail(ct, 'everything');
      assert.equal(trail.KmsKeyId, `arn:aws:kms:eu-west-1:${account}:key/${KEY_ID}`);
      assert.equal(trail.HomeRegion, 'eu-west-1');
      assert.equal(trail.HasCustomEventSelectors, false);
      assert.equal(trail.HasInsightSelectors, false);
    });
  });

  it('accepts an SNS topic ARN and keeps the topic name beside it', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const topicArn = `arn:aws:sns:us-east-1:${w.app.admin.accountId}:alerts`;
      const created = await ct.send(
        new CreateTrailCommand({ Name: 'with-topic', S3BucketName: 'topic-bucket', SnsTopicName: topicArn }),
      );
      assert.equal(created.SnsTopicName, 'alerts');
      assert.equal(created.SnsTopicARN, topicArn);
    });
  });

  it('creates a missing bucket on the local object store as a folder under <dataDir>/buckets', async () => {
    await withServer(async (w) => {
      await w.cloudtrail().send(new CreateTrailCommand({ Name: 'local', S3BucketName: 'fresh-local-bucket' }));
      const folder = await stat(join(w.dataDir, 'buckets', 'fresh-local-bucket'));
      assert.ok(folder.isDirectory());
    });
  });
});

describe('UpdateTrail', () => {
  it('changes only the members given and keeps the others', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await ct.send(
        new CreateTrailCommand({
          Name: 'partial',
          S3BucketName: 'partial-bucket',
          S3KeyPrefix: 'before',
          SnsTopicName: 'topic',
          EnableLogFileValidation: true,
          KmsKeyId: KEY_ID,
        }),
      );
      const updated = await ct.send(new UpdateTrailCommand({ Name: 'partial', IncludeGlobalServiceEvents: false }));
      assert.equal(updated.IncludeGlobalServiceEvents, false);
      assert.equal(updated.S3BucketName, 'partial-bucket');
      assert.equal(updated.S3KeyPrefix, 'before');
      assert.equal(updated.SnsTopicName, 'topic');
      assert.equal(updated.LogFileValidationEnabled, true);
      assert.match(updated.KmsKeyId ?? '', new RegExp(`:key/${KEY_ID}$`));
      const trail = await getTrail(ct, 'partial');
      assert.equal(trail.IncludeGlobalServiceEvents, false);
      assert.equal(trail.S3KeyPrefix, 'before');
      assert.equal(trail.LogFileValidationEnabled, true);
    });
  });

  it('accepts the trail ARN as Name and moves the trail to another bucket and prefix', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { TrailARN } = await ct.send(new CreateTrailCommand({ Name: 'mover', S3BucketName: 'old-bucket' }));
      const updated = await ct.send(
        new UpdateTrailCommand({ Name: TrailARN, S3BucketName: 'new-bucket', S3KeyPrefix: 'moved/here' }),
      );
      assert.equal(updated.TrailARN, TrailARN);
      assert.equal(updated.Name, 'mover');
      assert.equal(updated.S3BucketName, 'new-bucket');
      assert.equal(updated.S3KeyPrefix, 'moved/here');
      assert.ok((await stat(join(w.dataDir, 'buckets', 'new-bucket'))).isDirectory());
      const trail = await getTrail(ct, 'mover');
      assert.equal(trail.S3BucketName, 'new-bucket');
      assert.equal(trail.S3KeyPrefix, 'moved/here');
    });
  });

  it('makes a trail multi-Region, after which other Regions see it as a shadow trail', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { TrailARN } = await ct.send(new CreateTrailCommand({ Name: 'widening', S3BucketName: 'wide-bucket' }));
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      assert.deepEqual((await eu.send(new DescribeTrailsCommand({}))).trailList, []);
      const updated = await ct.send(new UpdateTrailCommand({ Name: 'widening', IsMultiRegionTrail: true }));
      assert.equal(updated.IsMultiRegionTrail, true);
      const shadows = (await eu.send(new DescribeTrailsCommand({}))).trailList ?? [];
      assert.deepEqual(
        shadows.map((t) => [t.TrailARN, t.HomeRegion, t.IsMultiRegionTrail]),
        [[TrailARN, 'us-east-1', true]],
      );
    });
  });

  it('refuses a change to a multi-Region trail from a Region other than its home with InvalidHomeRegionException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { TrailARN } = await ct.send(
        new CreateTrailCommand({ Name: 'homed', S3BucketName: 'homed-bucket', IsMultiRegionTrail: true }),
      );
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      await rejectsWith(
        eu.send(new UpdateTrailCommand({ Name: TrailARN, S3KeyPrefix: 'elsewhere' })),
        'InvalidHomeRegionException',
      );
      assert.equal((await getTrail(ct, 'homed')).S3KeyPrefix, undefined);
    });
  });

  it('answers TrailNotFoundException for an unknown trail, by name or ARN', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = w.app.admin.accountId;
      await rejectsWith(
        ct.send(new UpdateTrailCommand({ Name: 'ghost', S3KeyPrefix: 'x' })),
        'TrailNotFoundException',
        new RegExp(`Unknown trail: arn:aws:cloudtrail:us-east-1:${account}:trail/ghost for the user: ${account}`),
      );
      await rejectsWith(
        ct.send(new UpdateTrailCommand({ Name: `arn:aws:cloudtrail:us-east-1:${account}:trail/ghost` })),
        'TrailNotFoundException',
      );
    });
  });
});

describe('DeleteTrail', () => {
  it('deletes a trail by name, and another by ARN', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await ct.send(new CreateTrailCommand({ Name: 'by-name', S3BucketName: 'delete-bucket' }));
      const { TrailARN } = await ct.send(new CreateTrailCommand({ Name: 'by-arn', S3BucketName: 'delete-bucket' }));
      await ct.send(new DeleteTrailCommand({ Name: 'by-name' }));
      await ct.send(new DeleteTrailCommand({ Name: TrailARN }));
      assert.deepEqual((await ct.send(new DescribeTrailsCommand({}))).trailList, []);
      await rejectsWith(ct.send(new GetTrailCommand({ Name: 'by-name' })), 'TrailNotFoundException');
      await rejectsWith(ct.send(new DeleteTrailCommand({ Name: 'by-name' })), 'TrailNotFoundException');
      // DeleteTrail leaves the bucket alone (facts §3.6).
      assert.ok((await stat(join(w.dataDir, 'buckets', 'delete-bucket'))).isDirectory());
    });
  });

  it('refuses to delete a multi-Region trail from another Region with InvalidHomeRegionException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { TrailARN } = await ct.send(
        new CreateTrailCommand({ Name: 'anchored', S3BucketName: 'anchored-bucket', IsMultiRegionTrail: true }),
      );
      const ap = w.cloudtrail({ region: 'ap-southeast-2' });
      await rejectsWith(ap.send(new DeleteTrailCommand({ Name: TrailARN })), 'InvalidHomeRegionException');
      assert.equal((await getTrail(ct, 'anchored')).TrailARN, TrailARN);
    });
  });
});

describe('StartLogging, StopLogging and GetTrailStatus', () => {
  it('reports logging state with the start and stop times as dates and the deprecated time strings', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 10, 0, 0));
    await withServer(
      async (w) => {
        await w.cloudtrail().send(new CreateTrailCommand({ Name: 'switch', S3BucketName: 'switch-bucket' }));
        await w.cloudtrail().send(new StartLoggingCommand({ Name: 'switch' }));
        const started = await w.cloudtrail().send(new GetTrailStatusCommand({ Name: 'switch' }));
        assert.equal(started.IsLogging, true);
        assert.ok(started.StartLoggingTime instanceof Date);
        assert.equal(started.StartLoggingTime.toISOString(), '2026-03-01T10:00:00.000Z');
        assert.equal(started.TimeLoggingStarted, '2026-03-01T10:00:00Z');
        assert.equal(started.StopLoggingTime, undefined);
        // The deprecated strings are always there, empty when unset (AWS's User Guide example, and moto's).
        assert.deepEqual(
          [
            started.TimeLoggingStopped,
            started.LatestDeliveryAttemptTime,
            started.LatestDeliveryAttemptSucceeded,
            started.LatestNotificationAttemptTime,
            started.LatestNotificationAttemptSucceeded,
          ],
          ['', '', '', '', ''],
        );

        await clock.advance(90_000);
        const { TrailARN } = await getTrail(w.cloudtrail(), 'switch');
        await w.cloudtrail().send(new StopLoggingCommand({ Name: TrailARN }));
        const stopped = await w.cloudtrail().send(new GetTrailStatusCommand({ Name: TrailARN }));
        assert.equal(stopped.IsLogging, false);
        assert.ok(stopped.StopLoggingTime instanceof Date);
        assert.equal(stopped.StopLoggingTime.toISOString(), '2026-03-01T10:01:30.000Z');
        assert.equal(stopped.TimeLoggingStopped, '2026-03-01T10:01:30Z');
        assert.equal(stopped.StartLoggingTime?.toISOString(), '2026-03-01T10:00:00.000Z');
      },
      { clock },
    );
  });

  it('refuses to start or stop a multi-Region trail outside its home Region', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { TrailARN = '' } = await ct.send(
        new CreateTrailCommand({ Name: 'remote', S3BucketName: 'remote-bucket', IsMultiRegionTrail: true }),
      );
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      await rejectsWith(eu.send(new StartLoggingCommand({ Name: TrailARN })), 'InvalidHomeRegionException');
      await rejectsWith(eu.send(new StopLoggingCommand({ Name: TrailARN })), 'InvalidHomeRegionException');
      // The status of a shadow trail is readable by its ARN (facts §3.5).
      assert.equal((await eu.send(new GetTrailStatusCommand({ Name: TrailARN }))).IsLogging, false);
    });
  });

  it('answers TrailNotFoundException for the status of an unknown trail', async () => {
    await withServer(async (w) => {
      await rejectsWith(w.cloudtrail().send(new GetTrailStatusCommand({ Name: 'nothing' })), 'TrailNotFoundException');
      await rejectsWith(w.cloudtrail().send(new StartLoggingCommand({ Name: 'nothing' })), 'TrailNotFoundException');
    });
  });
});

describe('GetTrail', () => {
  it('finds a trail by name and by ARN', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { TrailARN } = await ct.send(new CreateTrailCommand({ Name: 'findable', S3BucketName: 'find-bucket' }));
      const byName = await getTrail(ct, 'findable');
      const byArn = await getTrail(ct, TrailARN ?? '');
      assert.deepEqual(byName, byArn);
      assert.equal(byName.TrailARN, TrailARN);
      assert.equal(byName.HomeRegion, 'us-east-1');
    });
  });

  it('finds a shadow trail from another Region by ARN but not by name', async () => {
    await withServer(async (w) => {
      const { TrailARN = '' } = await w
        .cloudtrail()
        .send(
          new CreateTrailCommand({ Name: 'everywhere', S3BucketName: 'everywhere-bucket', IsMultiRegionTrail: true }),
        );
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      const shadow = await getTrail(eu, TrailARN);
      assert.equal(shadow.HomeRegion, 'us-east-1');
      assert.equal(shadow.IsMultiRegionTrail, true);
      await rejectsWith(eu.send(new GetTrailCommand({ Name: 'everywhere' })), 'TrailNotFoundException');
    });
  });

  it('rejects a malformed trail ARN with CloudTrailARNInvalidException', async () => {
    await withServer(async (w) => {
      await rejectsWith(
        w.cloudtrail().send(new GetTrailCommand({ Name: 'arn:aws:cloudtrail:us-east-1:12345:trail/short-account' })),
        'CloudTrailARNInvalidException',
      );
    });
  });
});

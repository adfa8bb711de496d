import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AdvancedEventSelector,
  CreateTrailCommand,
  type CreateTrailCommandInput,
  type EventSelector,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';
import {
  advance,
  eventIds,
  ingest,
  type Json,
  type LogFile,
  logFiles,
  managementRecord,
  s3DataRecord,
} from './delivered-files.ts';

/**
 * Which records reach a trail's files (facts §7, §5.1–5.2): its event selectors, its Regions, global
 * service events, its accounts (or organization), and never its own deliveries. Records are ingested so
 * each test controls exactly what arrives; the StartLogging call is the only other record delivered.
 */

const ARGV = ['--delivery-interval', '60', '--digest-interval', '3600'];
const START = Date.UTC(2026, 4, 20, 14, 0, 0);

function serve(fn: (w: TestWorld, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock(START);
  return withServer((w) => fn(w, clock), { clock, argv: ARGV });
}

interface TrailSetup extends Partial<CreateTrailCommandInput> {
  Name: string;
  S3BucketName: string;
  EventSelectors?: EventSelector[];
  AdvancedEventSelectors?: AdvancedEventSelector[];
  credentials?: Credentials;
}

async function startTrail(w: TestWorld, setup: TrailSetup): Promise<void> {
  const { EventSelectors, AdvancedEventSelectors, credentials, ...input } = setup;
  const ct = w.cloudtrail(credentials ? { credentials } : {});
  await ct.send(new CreateTrailCommand(input));
  if (EventSelectors || AdvancedEventSelectors) {
    await ct.send(
      new PutEventSelectorsCommand({
        TrailName: input.Name,
        ...(EventSelectors ? { EventSelectors } : {}),
        ...(AdvancedEventSelectors ? { AdvancedEventSelectors } : {}),
      }),
    );
  }
  await ct.send(new StartLoggingCommand({ Name: input.Name }));
}

/** The delivered eventIDs other than those of the trails' own set-up calls, sorted. */
function ingestedIds(files: LogFile[]): string[] {
  return files
    .flatMap((f) => f.records)
    .filter((r) => r['eventSource'] !== 'cloudtrail.amazonaws.com')
    .map((r) => r['eventID'] as string)
    .sort();
}

/** Ingests `wanted` and `unwanted` records, delivers, and checks that the trail's files hold exactly `wanted`. */
async function deliversExactly(
  w: TestWorld,
  clock: ManualClock,
  bucket: string,
  records: { wanted: Json[]; unwanted: Json[] },
): Promise<LogFile[]> {
  const ids = await ingest(w, [...records.wanted, ...records.unwanted]);
  await advance(w, clock);
  const files = await logFiles(w, bucket);
  assert.deepEqual(ingestedIds(files), ids.slice(0, records.wanted.length).sort());
  return files;
}

describe('event selectors', () => {
  it('delivers management events and no data events with the default selectors', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, { Name: 'default', S3BucketName: 'default-bucket' });
      await deliversExactly(w, clock, 'default-bucket', {
        wanted: [managementRecord(clock), managementRecord(clock, { eventName: 'RunInstances', readOnly: false })],
        unwanted: [s3DataRecord(clock, 'any-bucket', 'a.txt'), s3DataRecord(clock, 'default-bucket', 'b.txt')],
      });
    });
  });

  it('delivers exactly the S3 data events under the buckets and prefixes of a basic selector', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, {
        Name: 'basic',
        S3BucketName: 'basic-bucket',
        EventSelectors: [
          {
            ReadWriteType: 'All',
            IncludeManagementEvents: false,
            DataResources: [
              { Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::data-bucket/', 'arn:aws:s3:::shared/logs/'] },
            ],
          },
        ],
      });
      await deliversExactly(w, clock, 'basic-bucket', {
        wanted: [
          s3DataRecord(clock, 'data-bucket', 'a.txt'),
          s3DataRecord(clock, 'data-bucket', 'deep/down/b.bin', { eventName: 'GetObject', readOnly: true }),
          s3DataRecord(clock, 'shared', 'logs/2026/app.log'),
        ],
        unwanted: [
          s3DataRecord(clock, 'shared', 'tmp/app.log'),
          s3DataRecord(clock, 'data-bucket2', 'a.txt'),
          managementRecord(clock),
          managementRecord(clock, {
            eventSource: 'lambda.amazonaws.com',
            eventName: 'Invoke',
            eventCategory: 'Data',
            managementEvent: false,
            resources: [{ type: 'AWS::Lambda::Function', ARN: 'arn:aws:lambda:us-east-1:111122223333:function:f' }],
          }),
        ],
      });
    });
  });

  it('keeps only writes, of management and data events alike, with ReadWriteType WriteOnly', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, {
        Name: 'writes',
        S3BucketName: 'writes-bucket',
        EventSelectors: [
          {
            ReadWriteType: 'WriteOnly',
            IncludeManagementEvents: true,
            DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }],
          },
        ],
      });
      await deliversExactly(w, clock, 'writes-bucket', {
        wanted: [
          managementRecord(clock, { eventName: 'RunInstances', readOnly: false }),
          s3DataRecord(clock, 'any-bucket', 'a.txt', { eventName: 'DeleteObject' }),
        ],
        unwanted: [
          managementRecord(clock),
          s3DataRecord(clock, 'any-bucket', 'a.txt', { eventName: 'GetObject', readOnly: true }),
        ],
      });
    });
  });

  it('leaves out KMS management events with ExcludeManagementEventSources kms.amazonaws.com', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, {
        Name: 'no-kms',
        S3BucketName: 'no-kms-bucket',
        EventSelectors: [
          { ReadWriteType: 'All', IncludeManagementEvents: true, ExcludeManagementEventSources: ['kms.amazonaws.com'] },
        ],
      });
      await deliversExactly(w, clock, 'no-kms-bucket', {
        wanted: [managementRecord(clock), managementRecord(clock, { eventSource: 'rdsdata.amazonaws.com' })],
        unwanted: [
          managementRecord(clock, { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt' }),
          managementRecord(clock, { eventSource: 'kms.amazonaws.com', eventName: 'CreateKey', readOnly: false }),
        ],
      });
    });
  });

  it('delivers what advanced selectors select: eventName Equals, readOnly, resources.ARN StartsWith and NotEquals', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, {
        Name: 'advanced',
        S3BucketName: 'advanced-bucket',
        AdvancedEventSelectors: [
          {
            Name: 'management writes',
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'readOnly', Equals: ['false'] },
            ],
          },
          {
            Name: 'uploads under in/',
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Data'] },
              { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
              { Field: 'eventName', Equals: ['PutObject', 'DeleteObject'] },
              {
                Field: 'resources.ARN',
                StartsWith: ['arn:aws:s3:::adv-data/in/'],
                NotEquals: ['arn:aws:s3:::adv-data/in/secret.txt'],
              },
            ],
          },
        ],
      });
      await deliversExactly(w, clock, 'advanced-bucket', {
        wanted: [
          managementRecord(clock, { eventName: 'RunInstances', readOnly: false }),
          s3DataRecord(clock, 'adv-data', 'in/a.txt'),
          s3DataRecord(clock, 'adv-data', 'in/b.txt', { eventName: 'DeleteObject' }),
        ],
        unwanted: [
          managementRecord(clock),
          s3DataRecord(clock, 'adv-data', 'in/a.txt', { eventName: 'GetObject', readOnly: true }),
          s3DataRecord(clock, 'adv-data', 'out/a.txt'),
          s3DataRecord(clock, 'adv-data', 'in/secret.txt'),
        ],
      });
    });
  });
});

describe('Regions and global service events', () => {
  it('keeps a single-Region trail to its Region and gives a multi-Region trail one file per Region', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, { Name: 'single', S3BucketName: 'single-bucket' });
      await startTrail(w, { Name: 'multi', S3BucketName: 'multi-bucket', IsMultiRegionTrail: true });
      const regions = ['us-east-1', 'eu-west-1', 'ap-northeast-1'];
      const ids = await ingest(
        w,
        regions.map((awsRegion) => managementRecord(clock, { awsRegion })),
      );
      await advance(w, clock);
      assert.deepEqual(ingestedIds(await logFiles(w, 'single-bucket')), [ids[0]]);
      const multi = await logFiles(w, 'multi-bucket');
      assert.deepEqual(multi.map((f) => f.key.split('/')[3]).sort(), [...regions].sort());
      for (const [i, region] of regions.entries()) {
        const file = multi.find((f) => f.key.split('/')[3] === region) as LogFile;
        assert.ok(eventIds([file]).includes(ids[i] as string));
        assert.ok(file.records.every((r) => r['awsRegion'] === region));
      }
    });
  });

  it('leaves out IAM and STS events when IncludeGlobalServiceEvents is false', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, { Name: 'local-only', S3BucketName: 'local-bucket', IncludeGlobalServiceEvents: false });
      await startTrail(w, { Name: 'with-global', S3BucketName: 'global-bucket' });
      const global = [
        managementRecord(clock, { eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', readOnly: false }),
        managementRecord(clock, { eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity' }),
      ];
      const ids = await ingest(w, [managementRecord(clock), ...global]);
      await advance(w, clock);
      assert.deepEqual(ingestedIds(await logFiles(w, 'local-bucket')), [ids[0]]);
      assert.deepEqual(ingestedIds(await logFiles(w, 'global-bucket')), [...ids].sort());
    });
  });
});

describe('accounts', () => {
  it("delivers a member account's events under AWSLogs/<o-id>/<member>/ and not an outsider's", async () => {
    await serve(async (w, clock) => {
      const admin = w.adminApi();
      const manager = w.app.admin.accountId;
      const { OrganizationId } = await admin.call<{ OrganizationId: string }>('CreateOrganization', {
        ManagementAccountId: manager,
      });
      const member = await w.newAccount();
      const outsider = await w.newAccount();
      await admin.call('AddAccountToOrganization', { OrganizationId, AccountId: member.accountId });
      await startTrail(w, { Name: 'org', S3BucketName: 'org-bucket', IsOrganizationTrail: true });
      const [mine] = await ingest(w, [managementRecord(clock)]);
      const [theirs] = await ingest(w, [managementRecord(clock)], member.root);
      const [outside] = await ingest(w, [managementRecord(clock)], outsider.root);
      await advance(w, clock);
      const files = await logFiles(w, 'org-bucket');
      const memberFiles = files.filter((f) =>
        f.key.startsWith(`AWSLogs/${OrganizationId}/${member.accountId}/CloudTrail/us-east-1/`),
      );
      assert.deepEqual(eventIds(memberFiles), [theirs]);
      assert.match(
        memberFiles[0]?.key ?? '',
        new RegExp(`/${member.accountId}_CloudTrail_us-east-1_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz$`),
      );
      const managerFiles = files.filter((f) => f.key.startsWith(`AWSLogs/${OrganizationId}/${manager}/CloudTrail/`));
      assert.ok(eventIds(managerFiles).includes(mine as string));
      assert.equal(files.length, memberFiles.length + managerFiles.length, files.map((f) => f.key).join('\n'));
      assert.ok(!eventIds(files).includes(outside as string));
    });
  });

  it("never gives one account's trail another account's events", async () => {
    await serve(async (w, clock) => {
      const other = await w.newAccount();
      await startTrail(w, { Name: 'mine', S3BucketName: 'mine-bucket' });
      await startTrail(w, { Name: 'theirs', S3BucketName: 'theirs-bucket', credentials: other.root });
      const mine = await ingest(w, [managementRecord(clock), managementRecord(clock)]);
      const theirs = await ingest(w, [managementRecord(clock)], other.root);
      await advance(w, clock);
      const mineFiles = await logFiles(w, 'mine-bucket');
      const theirFiles = await logFiles(w, 'theirs-bucket');
      assert.deepEqual(ingestedIds(mineFiles), [...mine].sort());
      assert.deepEqual(ingestedIds(theirFiles), theirs);
      assert.ok(mineFiles.every((f) => f.records.every((r) => r['recipientAccountId'] === w.app.admin.accountId)));
      assert.ok(theirFiles.every((f) => f.records.every((r) => r['recipientAccountId'] === other.accountId)));
      assert.ok(theirFiles.every((f) => f.key.startsWith(`AWSLogs/${other.accountId}/CloudTrail/`)));
    });
  });
});

describe('the feedback loop', () => {
  const ownBucketSelectors: EventSelector[] = [
    {
      ReadWriteType: 'All',
      IncludeManagementEvents: true,
      DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::loop-bucket/'] }],
    },
  ];
  /** CloudTrail's own PutObject of a file it delivers, as S3 records it. */
  const delivery = (clock: ManualClock, key: string, more: Json = {}) =>
    s3DataRecord(clock, 'loop-bucket', key, {
      userIdentity: { type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' },
      requestParameters: { bucketName: 'loop-bucket', key, 'x-amz-acl': 'bucket-owner-full-control' },
      ...more,
    });

  it('never delivers S3 data events of its own deliveries into its log prefix, but other keys of its bucket', async () => {
    await serve(async (w, clock) => {
      const account = w.app.admin.accountId;
      const logs = `ct/AWSLogs/${account}`;
      await startTrail(w, {
        Name: 'loop',
        S3BucketName: 'loop-bucket',
        S3KeyPrefix: 'ct',
        EventSelectors: ownBucketSelectors,
      });
      await deliversExactly(w, clock, 'loop-bucket', {
        wanted: [
          s3DataRecord(clock, 'loop-bucket', 'uploads/photo.jpg'),
          // Outside the trail's prefix: not where this trail delivers.
          s3DataRecord(clock, 'loop-bucket', `AWSLogs/${account}/CloudTrail/us-east-1/x.json.gz`),
        ],
        unwanted: [
          delivery(clock, `${logs}/CloudTrail/us-east-1/2026/05/20/${account}_CloudTrail_us-east-1_x.json.gz`),
          delivery(clock, `${logs}/CloudTrail-Digest/us-east-1/2026/05/20/${account}_CloudTrail-Digest_x.json.gz`),
        ],
      });
    });
  });

  it('recognises its own deliveries by the object ARN when a record has no requestParameters', async () => {
    await serve(async (w, clock) => {
      const account = w.app.admin.accountId;
      await startTrail(w, { Name: 'loop', S3BucketName: 'loop-bucket', EventSelectors: ownBucketSelectors });
      const key = `AWSLogs/${account}/CloudTrail/us-east-1/2026/05/20/${account}_CloudTrail_us-east-1_x.json.gz`;
      await deliversExactly(w, clock, 'loop-bucket', {
        wanted: [s3DataRecord(clock, 'loop-bucket', 'uploads/photo.jpg')],
        unwanted: [delivery(clock, key, { requestParameters: null })],
      });
    });
  });
});

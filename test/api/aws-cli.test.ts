import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { awsCli, type CliResult } from '../helpers/aws-cli.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';

/**
 * The AWS CLI v1 (`aws` on PATH) against the real server, with `--endpoint-url` and nothing from this
 * machine's AWS configuration. The CLI prints timestamps as the wire carries them (facts §0.9).
 */
const CLI_TIMEOUT_MS = 60_000;
const HISTORY_WAIT_MS = 5_000;

let world: TestWorld;
let stop: () => Promise<void>;

before(async () => {
  ({ world, stop } = await startTestServer());
});
after(() => stop());

async function aws(...args: string[]): Promise<CliResult> {
  return awsCli(
    ['cloudtrail', ...args, '--endpoint-url', world.url, '--region', 'us-east-1', '--output', 'json'],
    world.adminCredentials,
    {},
    CLI_TIMEOUT_MS,
  );
}

/** A trail made with the SDK, for cases about other commands. */
async function trailNamed(name: string): Promise<string> {
  const created = await world.cloudtrail().send(new CreateTrailCommand({ Name: name, S3BucketName: `${name}-bucket` }));
  return created.TrailARN ?? '';
}

/** Runs a command that must succeed and parses its JSON output. */
async function awsJson(...args: string[]): Promise<Record<string, unknown>> {
  const result = await aws(...args);
  assert.equal(result.code, 0, `aws cloudtrail ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as Record<string, unknown>);
}

describe('the AWS CLI', () => {
  it('creates a trail and describes it', async () => {
    const created = await awsJson('create-trail', '--name', 'cli-created', '--s3-bucket-name', 'cli-created-bucket');
    assert.equal(created['TrailARN'], `arn:aws:cloudtrail:us-east-1:${world.app.admin.accountId}:trail/cli-created`);
    assert.equal(created['S3BucketName'], 'cli-created-bucket');
    const described = await awsJson('describe-trails', '--trail-name-list', 'cli-created');
    const trails = described['trailList'] as { Name: string; HomeRegion: string }[];
    assert.deepEqual(
      trails.map((t) => [t.Name, t.HomeRegion]),
      [['cli-created', 'us-east-1']],
    );
  });

  it('starts logging and prints the status with epoch-second timestamps', async () => {
    await trailNamed('cli-logging');
    await awsJson('start-logging', '--name', 'cli-logging');
    const status = await awsJson('get-trail-status', '--name', 'cli-logging');
    assert.equal(status['IsLogging'], true);
    assert.equal(typeof status['StartLoggingTime'], 'number', `as printed: ${JSON.stringify(status)}`);
    assert.ok(Math.abs((status['StartLoggingTime'] as number) - Date.now() / 1000) < 120);
  });

  it('puts event selectors given as JSON and reads them back', async () => {
    const arn = await trailNamed('cli-selectors');
    const selectors = [
      {
        ReadWriteType: 'ReadOnly',
        IncludeManagementEvents: true,
        DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::cli-selectors-bucket/'] }],
      },
    ];
    const put = await awsJson(
      'put-event-selectors',
      '--trail-name',
      'cli-selectors',
      '--event-selectors',
      JSON.stringify(selectors),
    );
    assert.equal(put['TrailARN'], arn);
    const got = await awsJson('get-event-selectors', '--trail-name', 'cli-selectors');
    const first = (got['EventSelectors'] as Record<string, unknown>[])[0];
    assert.equal(first?.['ReadWriteType'], 'ReadOnly');
    assert.deepEqual(first?.['DataResources'], selectors[0]?.DataResources);
  });

  it('finds its CreateTrail call in lookup-events by EventName', async () => {
    await awsJson('create-trail', '--name', 'cli-looked-up', '--s3-bucket-name', 'cli-looked-up-bucket');
    const deadline = Date.now() + HISTORY_WAIT_MS;
    let record: Record<string, unknown> | undefined;
    while (record === undefined && Date.now() < deadline) {
      const found = await awsJson(
        'lookup-events',
        '--lookup-attributes',
        'AttributeKey=EventName,AttributeValue=CreateTrail',
      );
      const records = (found['Events'] as { CloudTrailEvent: string }[]).map(
        (e) => JSON.parse(e.CloudTrailEvent) as Record<string, unknown> & { requestParameters: { name?: string } },
      );
      record = records.find((r) => r.requestParameters.name === 'cli-looked-up');
      if (record === undefined) await sleep(100);
    }
    assert.ok(record, 'the CreateTrail call reached event history');
    assert.equal(record['eventName'], 'CreateTrail');
    assert.match(String(record['userAgent']), /aws-cli\/1\./);
  });

  it('exits non-zero with TrailNotFoundException on stderr for a missing trail', async () => {
    const result = await aws('get-trail', '--name', 'missing');
    assert.ok([254, 255].includes(result.code), `exit code ${result.code}`);
    assert.match(result.stderr, /TrailNotFoundException/);
    assert.match(result.stderr, /missing/);
    assert.equal(result.stdout, '');
  });
});

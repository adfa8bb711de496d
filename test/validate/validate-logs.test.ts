import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { runCli } from '../../src/cli/run-cli.ts';
import { AwsJsonClient } from '../../src/client/aws-json-client.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { createObjectStore, LocalObjectStore, type ObjectStore } from '../../src/objectstore/index.ts';
import { type ObjectReader, openObjectReader } from '../../src/objectstore/readers.ts';
import { type DigestContent, digestMetadata, serializeDigest, signDigest } from '../../src/trails/index.ts';
import {
  type ValidateLogsOptions,
  type ValidationFinding,
  type ValidationResult,
  validateLogs,
} from '../../src/trails/validate-logs.ts';
import { deliverMinutes } from '../helpers/delivery.ts';
import { startTestServer, type TestWorld, withServer } from '../helpers/server.ts';

const run = promisify(execFile);
const MINUTE_MS = 60_000;
const PERIOD_MS = 10 * MINUTE_MS;
const PERIODS = 4;
const BUCKET = 'validated-trail-bucket';
const TRAIL = 'validated';

/** `2026-01-01T00:00:00Z`, the CLI's display format. */
const display = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';

/** The library with a CloudTrail client as the command builds one, signing on the world's clock. */
async function validateIn(w: TestWorld, store: ObjectReader, options: ValidateLogsOptions): Promise<ValidationResult> {
  const clock = w.clock;
  const cloudtrail = new AwsJsonClient({
    endpoint: w.url,
    region: 'us-east-1',
    service: 'cloudtrail',
    targetPrefix: 'CloudTrail_20131101',
    credentials: w.adminCredentials,
    ...(clock ? { now: () => clock.now() } : {}),
  });
  try {
    return await validateLogs({ store, cloudtrail }, options);
  } finally {
    cloudtrail.close();
  }
}

/**
 * One trail with log file validation, delivering every minute with a digest every 10 minutes, for four
 * digest periods with calls in each. The server's manual clock starts so that it ends near real time: the
 * CLI signs its CloudTrail calls with the real clock, which the server checks against its own (15 min skew).
 */
describe('opentrail validate-logs', () => {
  const startMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - PERIODS * PERIOD_MS - 2 * MINUTE_MS;
  const clock = new ManualClock(startMs);
  let world: TestWorld;
  let stopServer: () => Promise<void>;
  let store: ObjectStore;
  let trailArn: string;
  let accountId: string;
  /** Oldest first. */
  let digests: { key: string; content: DigestContent }[];
  let logFilesListed: number;
  let endMs: number;

  before(async () => {
    const server = await startTestServer({
      clock,
      argv: ['--delivery-interval', '60', '--digest-interval', String(PERIOD_MS / 1000)],
    });
    world = server.world;
    stopServer = server.stop;
    store = createObjectStore({ dataDir: world.dataDir });
    const created = await world
      .cloudtrail()
      .send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET, EnableLogFileValidation: true }));
    trailArn = created.TrailARN as string;
    accountId = trailArn.split(':')[4] as string;
    await world.cloudtrail().send(new StartLoggingCommand({ Name: TRAIL }));
    // A call every third minute; the last one (minute 40) is delivered after the newest digest.
    await deliverMinutes(world, clock, PERIODS * 10 + 1, 3);
    endMs = clock.now();
    digests = [];
    for (const key of await keysUnder(`AWSLogs/${accountId}/CloudTrail-Digest/`)) {
      const object = await store.getObject(BUCKET, key);
      digests.push({ key, content: JSON.parse(gunzipSync(object.body).toString()) as DigestContent });
    }
    logFilesListed = digests.reduce((n, d) => n + d.content.logFiles.length, 0);
  });

  after(async () => {
    store?.close();
    await stopServer?.();
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    const { objects } = await store.listObjects(BUCKET, { prefix });
    return objects.map((o) => o.key);
  }

  const digestAt = (i: number) => digests[i] as { key: string; content: DigestContent };
  const s3 = (key: string) => `s3://${BUCKET}/${key}`;

  /** Runs `opentrail validate-logs` in this process, as bin/opentrail.js would, and captures what it prints. */
  async function validateCommand(
    extra: string[] = [],
    times = ['--start-time', display(startMs), '--end-time', display(endMs)],
    options: { env?: Record<string, string>; endpoint?: string } = {},
  ) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on('data', (c: Buffer) => out.push(c.toString()));
    stderr.on('data', (c: Buffer) => err.push(c.toString()));
    const code = await runCli(
      [
        'validate-logs',
        ...['--trail-arn', trailArn, ...times],
        ...['--data-dir', world.dataDir, '--endpoint-url', options.endpoint ?? world.url, ...extra],
      ],
      { env: { ...credentialsEnv(), ...options.env }, stdout, stderr },
    );
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  function credentialsEnv(): Record<string, string> {
    return {
      AWS_ACCESS_KEY_ID: world.adminCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: world.adminCredentials.secretAccessKey,
    };
  }

  /** The summary the CLI prints after its first line and the failures. */
  function summary(lines: string[]): string {
    return [
      `Results requested for ${display(startMs)} to ${display(endMs)}`,
      `Results found for ${display(startMs)} to ${digestAt(PERIODS - 1).content.digestEndTime}:`,
      '',
      ...lines,
      '',
    ].join('\n');
  }

  const header = () =>
    `Validating log files for trail ${trailArn} between ${display(startMs)} and ${display(endMs)}\n\n`;

  /** Tampers with the bucket, runs `check`, and puts every object touched back as it was. */
  async function tampered(keys: string[], tamper: () => Promise<void>, check: () => Promise<void>): Promise<void> {
    const saved = await Promise.all(keys.map(async (key) => ({ key, object: await store.getObject(BUCKET, key) })));
    try {
      await tamper();
      await check();
    } finally {
      for (const { key, object } of saved) {
        await store.putObject({
          bucket: BUCKET,
          key,
          body: object.body,
          metadata: object.metadata,
          ...(object.contentType !== undefined ? { contentType: object.contentType } : {}),
        });
      }
    }
  }

  async function rewriteDigest(i: number, change: (content: DigestContent, metadata: Record<string, string>) => void) {
    const { key } = digestAt(i);
    const object = await store.getObject(BUCKET, key);
    const content = JSON.parse(gunzipSync(object.body).toString()) as DigestContent;
    const metadata = { ...object.metadata };
    change(content, metadata);
    await store.putObject({ bucket: BUCKET, key, body: gzipSync(JSON.stringify(content)), metadata });
  }

  it('delivered one digest per period, chained, listing the files delivered before the newest digest', () => {
    assert.equal(digests.length, PERIODS);
    assert.equal(digestAt(0).content.digestStartTime, display(startMs));
    assert.equal(digestAt(0).content.previousDigestS3Object, null);
    for (let i = 1; i < PERIODS; i++) {
      assert.equal(digestAt(i).content.previousDigestS3Object, digestAt(i - 1).key);
      assert.equal(digestAt(i).content.digestStartTime, digestAt(i - 1).content.digestEndTime);
    }
    // StartLogging's file, then one per call: minutes 1, 2, 5, 8, …, 38; minute 41's is not digested yet.
    assert.equal(logFilesListed, 14);
  });

  it('finds every digest and log file valid in untouched output and exits 0', async () => {
    const r = await validateCommand(['--verbose']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const valid = [...digests]
      .reverse()
      .flatMap((d) => [
        `Digest file\t${s3(d.key)}\tvalid`,
        ...d.content.logFiles.map((f) => `Log file\t${s3(f.s3Object)}\tvalid`),
      ]);
    assert.equal(
      r.stdout,
      `${header()}${valid.join('\n')}\n\n${summary([`${PERIODS}/${PERIODS} digest files valid`, `${logFilesListed}/${logFilesListed} log files valid`])}`,
    );
  });

  it('reports a changed log file as a hash mismatch', async () => {
    const victim = digestAt(1).content.logFiles[0]?.s3Object as string;
    await tampered(
      [victim],
      async () => {
        const records = JSON.parse(gunzipSync((await store.getObject(BUCKET, victim)).body).toString());
        records.Records[0].eventName = 'NothingToSeeHere';
        await store.putObject({ bucket: BUCKET, key: victim, body: gzipSync(JSON.stringify(records)) });
      },
      async () => {
        const r = await validateCommand();
        assert.equal(r.code, 1);
        assert.equal(r.stderr, `Log file\t${s3(victim)}\tINVALID: hash value doesn't match\n\n`);
        const n = logFilesListed;
        assert.equal(
          r.stdout,
          `${header()}${summary([`${PERIODS}/${PERIODS} digest files valid`, `${n - 1}/${n} log files valid, 1/${n} log files INVALID`])}`,
        );
      },
    );
  });

  it('reports a deleted log file as not found', async () => {
    const victim = digestAt(2).content.logFiles[1]?.s3Object as string;
    await tampered(
      [victim],
      () => store.deleteObject(BUCKET, victim),
      async () => {
        const r = await validateCommand();
        assert.equal(r.code, 1);
        assert.equal(r.stderr, `Log file\t${s3(victim)}\tINVALID: not found\n\n`);
        const n = logFilesListed;
        assert.match(r.stdout, new RegExp(`\n${n - 1}/${n} log files valid, 1/${n} log files INVALID\n$`));
      },
    );
  });

  it('reports a changed digest as failing its signature and skips the files it lists', async () => {
    const { key } = digestAt(1);
    await tampered(
      [key],
      () =>
        rewriteDigest(1, (content) => {
          content.logFiles = content.logFiles.slice(1);
        }),
      async () => {
        const r = await validateCommand();
        assert.equal(r.code, 1);
        assert.equal(r.stderr, `Digest file\t${s3(key)}\tINVALID: signature verification failed\n\n`);
        const n = logFilesListed - digestAt(1).content.logFiles.length;
        assert.equal(
          r.stdout,
          `${header()}${summary([`${PERIODS - 1}/${PERIODS} digest files valid, 1/${PERIODS} digest files INVALID`, `${n}/${n} log files valid`])}`,
        );
      },
    );
  });

  it('reports a changed signature metadata as failing verification', async () => {
    const { key } = digestAt(2);
    await tampered(
      [key],
      () =>
        rewriteDigest(2, (_content, metadata) => {
          const s = metadata['signature'] as string;
          metadata['signature'] = `${s.slice(0, -1)}${s.endsWith('0') ? '1' : '0'}`;
        }),
      async () => {
        const r = await validateCommand();
        assert.equal(r.code, 1);
        assert.equal(r.stderr, `Digest file\t${s3(key)}\tINVALID: signature verification failed\n\n`);
        assert.match(
          r.stdout,
          new RegExp(`\n${PERIODS - 1}/${PERIODS} digest files valid, 1/${PERIODS} digest files INVALID\n`),
        );
      },
    );
  });

  it('reports a deleted digest as not found', async () => {
    const { key } = digestAt(1);
    await tampered(
      [key],
      () => store.deleteObject(BUCKET, key),
      async () => {
        const r = await validateCommand();
        assert.equal(r.code, 1);
        assert.equal(r.stderr, `Digest file\t${s3(key)}\tINVALID: not found\n\n`);
        const n = logFilesListed - digestAt(1).content.logFiles.length;
        assert.equal(
          r.stdout,
          `${header()}${summary([`${PERIODS - 1}/${PERIODS} digest files valid, 1/${PERIODS} digest files INVALID`, `${n}/${n} log files valid`])}`,
        );
      },
    );
  });

  it('reports both of two consecutive deleted digests, where the AWS CLI reports one (aws-cli #7054)', async () => {
    const [older, newer] = [digestAt(1), digestAt(2)];
    await tampered(
      [older.key, newer.key],
      async () => {
        await store.deleteObject(BUCKET, older.key);
        await store.deleteObject(BUCKET, newer.key);
      },
      async () => {
        const r = await validateCommand();
        assert.equal(r.code, 1);
        const folder = `AWSLogs/${accountId}/CloudTrail-Digest/us-east-1/`;
        assert.equal(
          r.stderr,
          [
            `Digest file\t${s3(newer.key)}\tINVALID: not found`,
            '',
            `Digest file\t${s3(folder)}\tINVALID: digest files missing between ${older.content.digestStartTime} and ${older.content.digestEndTime}`,
            '',
            '',
          ].join('\n'),
        );
        const n = logFilesListed - older.content.logFiles.length - newer.content.logFiles.length;
        assert.equal(
          r.stdout,
          `${header()}${summary([`${PERIODS - 2}/${PERIODS} digest files valid, 2/${PERIODS} digest files INVALID`, `${n}/${n} log files valid`])}`,
        );
      },
    );
  });

  it('reports a log file that no digest lists', async () => {
    const minute = startMs + 15 * MINUTE_MS;
    const stamp = display(minute).replace(/[-:]/g, '').slice(0, 13) + 'Z';
    const day = display(minute).slice(0, 10).replace(/-/g, '/');
    const added = `AWSLogs/${accountId}/CloudTrail/us-east-1/${day}/${accountId}_CloudTrail_us-east-1_${stamp}_AddedByIntruder1.json.gz`;
    try {
      await store.putObject({ bucket: BUCKET, key: added, body: gzipSync('{"Records":[]}') });
      const r = await validateCommand();
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Log file\t${s3(added)}\tINVALID: not listed in any digest file\n\n`);
      const n = logFilesListed + 1;
      assert.match(
        r.stdout,
        new RegExp(
          `\n${PERIODS}/${PERIODS} digest files valid\n${n - 1}/${n} log files valid, 1/${n} log files INVALID\n$`,
        ),
      );
    } finally {
      await store.deleteObject(BUCKET, added);
    }
  });

  it('finds untouched output valid through the library, with no finding but valid ones', async () => {
    const findings: ValidationFinding[] = [];
    const result = await validateIn(world, store, { trailArn, startMs, endMs, onFinding: (f) => findings.push(f) });
    assert.deepEqual(result, {
      digests: { valid: PERIODS, invalid: 0 },
      backfillDigests: { valid: 0, invalid: 0 },
      logFiles: { valid: logFilesListed, invalid: 0 },
      foundStartMs: startMs,
      foundEndMs: Date.parse(digestAt(PERIODS - 1).content.digestEndTime),
    });
    assert.deepEqual(
      findings.filter((f) => f.kind === 'gap' || f.problem !== undefined),
      [],
    );
    assert.equal(findings.length, PERIODS + logFilesListed);
  });

  it('reports a digest whose previous digest was replaced by another validly signed one', async () => {
    const [replaced, next] = [digestAt(1), digestAt(2)];
    const dropped = replaced.content.logFiles[0]?.s3Object as string;
    await tampered(
      [replaced.key],
      async () => {
        // Re-signed with the Region's real key: only the chain link can tell.
        const content: DigestContent = { ...replaced.content, logFiles: replaced.content.logFiles.slice(1) };
        const bytes = serializeDigest(content);
        const key = world.app.services.signingKeys.privateKeyFor('us-east-1', content.digestPublicKeyFingerprint);
        assert.ok(key);
        const signature = signDigest(content, bytes, key);
        await store.putObject({
          bucket: BUCKET,
          key: replaced.key,
          body: gzipSync(bytes),
          metadata: digestMetadata(signature),
        });
      },
      async () => {
        const findings: ValidationFinding[] = [];
        const result = await validateIn(world, store, { trailArn, startMs, endMs, onFinding: (f) => findings.push(f) });
        assert.deepEqual(
          findings.filter((f) => f.kind !== 'gap' && f.problem !== undefined),
          [
            {
              kind: 'digest',
              backfill: false,
              bucket: BUCKET,
              key: next.key,
              problem: 'previous digest hash does not match',
              count: 1,
            },
            { kind: 'log', bucket: BUCKET, key: dropped, problem: 'not listed in any digest file' },
          ],
        );
        assert.deepEqual(result.digests, { valid: PERIODS - 1, invalid: 1 });
        assert.deepEqual(result.logFiles, { valid: logFilesListed - 1, invalid: 1 });
      },
    );
  });

  it('runs as bin/opentrail.js validate-logs against the server and its data directory', async () => {
    const args = ['--trail-arn', trailArn, '--start-time', display(startMs), '--end-time', display(endMs)];
    const { stdout, stderr } = await run(
      process.execPath,
      ['bin/opentrail.js', 'validate-logs', ...args, '--data-dir', world.dataDir, '--endpoint-url', world.url],
      { env: { ...process.env, ...credentialsEnv() } },
    );
    assert.equal(stderr, '');
    assert.equal(
      stdout,
      `${header()}${summary([`${PERIODS}/${PERIODS} digest files valid`, `${logFilesListed}/${logFilesListed} log files valid`])}`,
    );
  });

  it('takes times as epoch seconds too, as the AWS CLI takes timestamps elsewhere', async () => {
    const r = await validateCommand([], ['--start-time', String(startMs / 1000), '--end-time', String(endMs / 1000)]);
    assert.deepEqual(r, await validateCommand());
    assert.equal(r.code, 0);
  });

  it('stops with the CLI message when no public key covers the range, exit 1', async () => {
    const [from, to] = [startMs - 10 * 86_400_000, startMs - 9 * 86_400_000];
    const r = await validateCommand([], ['--start-time', display(from), '--end-time', display(to)]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      `Validating log files for trail ${trailArn} between ${display(from)} and ${display(to)}\n\n`,
    );
    assert.equal(
      r.stderr,
      `opentrail validate-logs: No public keys found between ${display(from)} and ${display(to + 2 * 3_600_000)}\n`,
    );
  });

  it("stops with CloudTrail's error, worded as the AWS SDK's, when it refuses the credentials, exit 1", async () => {
    const r = await validateCommand([], undefined, { env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^opentrail validate-logs: InvalidSignatureException: The request signature we calculated does not match/,
    );
  });

  it('stops with the connection error when nothing answers at the endpoint, as the AWS SDK words it, exit 1', async () => {
    const r = await validateCommand([], undefined, { endpoint: 'http://127.0.0.1:1' });
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: 'opentrail validate-logs: Error: connect ECONNREFUSED 127.0.0.1:1\n',
    });
  });

  it('prints usage for a missing --trail-arn, exit 2', async () => {
    const stderr = new PassThrough();
    const err: string[] = [];
    stderr.on('data', (c: Buffer) => err.push(c.toString()));
    const code = await runCli(['validate-logs', '--start-time', display(startMs)], {
      env: credentialsEnv(),
      stdout: new PassThrough(),
      stderr,
    });
    assert.equal(code, 2);
    assert.match(
      err.join(''),
      /^Usage:[\s\S]*opentrail validate-logs --trail-arn ARN[\s\S]*validate-logs needs --trail-arn\n$/,
    );
  });
});

describe('opentrail validate-logs on other trails', () => {
  it("validates a member account's files under the organization folder it finds, and needs the account", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    const startMs = clock.now();
    await withServer(
      async (w) => {
        const admin = w.adminApi();
        const { OrganizationId } = await admin.call<{ OrganizationId: string }>('CreateOrganization', {
          ManagementAccountId: w.app.admin.accountId,
        });
        const member = await w.newAccount();
        await admin.call('AddAccountToOrganization', { OrganizationId, AccountId: member.accountId });
        const created = await w.cloudtrail().send(
          new CreateTrailCommand({
            Name: 'org-validated',
            S3BucketName: 'org-validated-bucket',
            IsOrganizationTrail: true,
            EnableLogFileValidation: true,
          }),
        );
        const trailArn = created.TrailARN as string;
        await w.cloudtrail().send(new StartLoggingCommand({ Name: 'org-validated' }));
        await deliverMinutes(w, clock, 20, 5, w.cloudtrail({ credentials: member.root }));
        const store = createObjectStore({ dataDir: w.dataDir });
        try {
          const { objects } = await store.listObjects('org-validated-bucket', {
            prefix: `AWSLogs/${OrganizationId}/${member.accountId}/CloudTrail/`,
          });
          assert.equal(objects.length, 4, "the member's calls are delivered under the organization folder");
          const options = { trailArn, startMs, endMs: clock.now() };
          const result = await validateIn(w, store, { ...options, accountId: member.accountId });
          assert.deepEqual(result.digests, { valid: 2, invalid: 0 });
          assert.deepEqual(result.logFiles, { valid: 4, invalid: 0 });
          await assert.rejects(validateIn(w, store, options), {
            name: 'ValidateLogsError',
            message: "Missing required parameter for organization trail: '--account-id'",
          });
        } finally {
          store.close();
        }
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', String(PERIOD_MS / 1000)] },
    );
  });

  it('finds the KMS-encrypted files of the local store valid, through the reader the CLI opens', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    const startMs = clock.now();
    await withServer(
      async (w) => {
        const created = await w.cloudtrail().send(
          new CreateTrailCommand({
            Name: 'sealed',
            S3BucketName: 'sealed-bucket',
            KmsKeyId: '2b1c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b',
            EnableLogFileValidation: true,
          }),
        );
        await w.cloudtrail().send(new StartLoggingCommand({ Name: 'sealed' }));
        await deliverMinutes(w, clock, 20, 5);
        const store = await openObjectReader({ dataDir: w.dataDir });
        try {
          const options = { trailArn: created.TrailARN as string, startMs, endMs: clock.now() };
          const result = await validateIn(w, store, options);
          assert.deepEqual(result.digests, { valid: 2, invalid: 0 });
          assert.deepEqual(result.logFiles, { valid: 5, invalid: 0 });
          // Read as stored, undecrypted, the same log files are not the ones their digests hashed.
          const raw = new LocalObjectStore({ dataDir: w.dataDir });
          const sealed = await validateIn(w, raw, options).finally(() => raw.close());
          assert.deepEqual(sealed.logFiles, { valid: 0, invalid: 5 });
        } finally {
          store.close();
        }
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', String(PERIOD_MS / 1000)] },
    );
  });

  it('finds nothing wrong with a trail whose validation was turned off and on again', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    const startMs = clock.now();
    await withServer(
      async (w) => {
        const created = await w
          .cloudtrail()
          .send(
            new CreateTrailCommand({ Name: 'toggled', S3BucketName: 'toggled-bucket', EnableLogFileValidation: true }),
          );
        await w.cloudtrail().send(new StartLoggingCommand({ Name: 'toggled' }));
        for (let minute = 1; minute <= 60; minute++) {
          await clock.advance(MINUTE_MS);
          await w.app.deliveryIdle();
          const client = w.cloudtrail();
          if (minute % 3 === 0) await client.send(new DescribeTrailsCommand({}));
          if (minute === 24)
            await client.send(new UpdateTrailCommand({ Name: 'toggled', EnableLogFileValidation: false }));
          if (minute === 41)
            await client.send(new UpdateTrailCommand({ Name: 'toggled', EnableLogFileValidation: true }));
        }
        const store = createObjectStore({ dataDir: w.dataDir });
        try {
          const findings: ValidationFinding[] = [];
          const result = await validateIn(w, store, {
            trailArn: created.TrailARN as string,
            startMs,
            endMs: clock.now(),
            onFinding: (f) => findings.push(f),
          });
          // Files delivered while validation was off are in no digest, and must not be reported.
          assert.deepEqual(
            findings.filter((f) => f.kind !== 'gap' && f.problem !== undefined),
            [],
          );
          assert.equal(result.digests.invalid + result.logFiles.invalid, 0);
          assert.equal(result.digests.valid, 4);
        } finally {
          store.close();
        }
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', String(PERIOD_MS / 1000)] },
    );
  });
});

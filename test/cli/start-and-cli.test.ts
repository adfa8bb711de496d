import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type ChildServer, FIXED_ADMIN, startChildServer } from '../helpers/child-server.ts';

const run = promisify(execFile);

/** Runs `bin/opentrail.js`; resolves with the exit code and output instead of throwing on failure. */
async function opentrail(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/opentrail.js', ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm start on a fresh data directory', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'opentrail-start-'));
  });
  after(async () => rm(dataDir, { recursive: true, force: true }));

  it('generates the admin credentials, prints them once and keeps the secret in a 0600 file', async () => {
    const unset = { OPENTRAIL_ACCOUNT_ID: '', OPENTRAIL_ACCESS_KEY_ID: '', OPENTRAIL_SECRET_ACCESS_KEY: '' };
    const first = await startChildServer(dataDir, [], unset);
    await first.stop();
    const printed = /AWS_ACCESS_KEY_ID=(\S+)\s+export AWS_SECRET_ACCESS_KEY=(\S+)/.exec(first.output());
    assert.ok(printed, `the first start prints the credentials:\n${first.output()}`);
    const secrets = await stat(join(dataDir, 'secrets', 'access-keys.json'));
    assert.equal(secrets.mode & 0o777, 0o600);

    const second = await startChildServer(dataDir, [], unset);
    const health = await second.health();
    await second.stop();
    assert.equal(health['status' as never], 'ok');
    assert.doesNotMatch(second.output(), /AWS_SECRET_ACCESS_KEY/, 'the second start prints no secret');
    assert.ok(!second.output().includes(printed[2] as string), 'the secret is never printed again');
  });

  it('refuses a second server on the same data directory with a clear message', async () => {
    const server = await startChildServer(dataDir);
    try {
      await assert.rejects(
        startChildServer(dataDir),
        /already has .*opentrail\.duckdb open: stop it, or give this server another --data-dir/,
      );
    } finally {
      await server.stop();
    }
  });
});

describe('the opentrail command', () => {
  let dataDir: string;
  let server: ChildServer;
  const env = () => ({
    AWS_ACCESS_KEY_ID: FIXED_ADMIN.OPENTRAIL_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: FIXED_ADMIN.OPENTRAIL_SECRET_ACCESS_KEY,
    OPENTRAIL_ENDPOINT: server.url,
  });
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'opentrail-cli-'));
    server = await startChildServer(dataDir);
  });
  after(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints usage and exits 2 on an unknown command', async () => {
    const r = await opentrail(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage:[\s\S]*unknown command frobnicate/);
  });

  it('creates an account, a user and an access key through the admin API', async () => {
    const account = await opentrail(['admin', 'create-account', '--account-id', '444455556666'], env());
    assert.equal(account.code, 0, account.stderr);
    assert.equal(JSON.parse(account.stdout).AccountId, '444455556666');
    const user = await opentrail(['admin', 'create-user', '--account-id', '444455556666', '--user-name', 'bob'], env());
    assert.equal(JSON.parse(user.stdout).Arn, 'arn:aws:iam::444455556666:user/bob');
    const key = await opentrail(
      ['admin', 'create-access-key', '--account-id', '444455556666', '--user-name', 'bob'],
      env(),
    );
    assert.match(JSON.parse(key.stdout).AccessKeyId, /^AKIA[A-Z2-7]{16}$/);
    const missing = await opentrail(['admin', 'create-user', '--account-id', '444455556666'], env());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /needs --user-name/);
  });

  it('reports AWS errors from the server and exits 1', async () => {
    const r = await opentrail(['admin', 'create-account', '--account-id', FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /EntityAlreadyExistsException/);
    const unsigned = await opentrail(['admin', 'list-accounts'], {
      OPENTRAIL_ENDPOINT: server.url,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    });
    assert.equal(unsigned.code, 2);
    assert.match(unsigned.stderr, /AWS_ACCESS_KEY_ID/);
  });

  it('ingests gzipped and plain log files and reports rejected records', async () => {
    const rec = (id: string, extra: Record<string, unknown> = {}) => ({
      eventVersion: '1.09',
      userIdentity: { type: 'Root', accountId: FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID },
      eventTime: '2026-11-01T00:00:00Z',
      eventSource: 'cli.example.com',
      eventName: 'CliTest',
      awsRegion: 'us-east-1',
      eventID: id,
      ...extra,
    });
    const gz = join(dataDir, 'a.json.gz');
    const plain = join(dataDir, 'b.json');
    await writeFile(gz, gzipSync(JSON.stringify({ Records: [rec('11111111-1111-1111-1111-111111111111')] })));
    await writeFile(
      plain,
      JSON.stringify({ Records: [rec('22222222-2222-2222-2222-222222222222'), rec('x', { eventTime: 'yesterday' })] }),
    );
    const r = await opentrail(['ingest', gz, plain], env());
    assert.equal(r.code, 1, 'a rejected record makes the exit code 1');
    assert.match(r.stdout, /2 records accepted, 1 rejected, from 2 file\(s\)/);
    assert.match(r.stderr, /b\.json: record 1: InvalidEventTime/);
  });
});

describe('the README ingest example', () => {
  it('sends a record with the AWS SDK signer and gets its eventID back', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-example-'));
    const server = await startChildServer(dataDir);
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/ingest-with-sdk.ts'], {
        env: {
          ...process.env,
          OPENTRAIL_ENDPOINT: server.url,
          AWS_ACCESS_KEY_ID: FIXED_ADMIN.OPENTRAIL_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: FIXED_ADMIN.OPENTRAIL_SECRET_ACCESS_KEY,
        },
      });
      const result = JSON.parse(stdout) as { Successful: { Index: number; EventID: string }[]; Failed: unknown[] };
      assert.equal(result.Failed.length, 0);
      assert.match(result.Successful[0]?.EventID ?? '', /^[0-9a-f-]{36}$/);
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { pino } from 'pino';
import { ADMIN_SIGNING_NAME, ADMIN_TARGET_PREFIX } from '../../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../../src/api/ingest-api.ts';
import { type App, type AppDeps, createApp } from '../../src/app.ts';
import { type Credentials, JsonApiClient } from '../../src/client/json-api-client.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { ManualClock } from '../../src/model/clock.ts';

/**
 * `withServer(async (world) => …)` starts the real server on port 0 with a fresh data directory, hands the
 * test SDK clients signed as the admin (or any account it creates), and always closes and removes both.
 * It fails the test if any operation answered an error its botocore model does not declare.
 */
export interface TestWorld {
  app: App;
  url: string;
  dataDir: string;
  clock: ManualClock | undefined;
  adminCredentials: Credentials;
  /** A CloudTrail SDK client; on a manual clock, make a new one after advancing it. */
  cloudtrail(options?: { region?: string; credentials?: Credentials }): CloudTrailClient;
  adminApi(region?: string): JsonApiClient;
  ingestApi(credentials?: Credentials, region?: string): JsonApiClient;
  /** A new account with a root access key (and an IAM user key when `userName` is given). */
  newAccount(userName?: string): Promise<{ accountId: string; root: Credentials; user?: Credentials }>;
  historyCaughtUp(): Promise<void>;
}

export interface ServerOptions {
  clock?: ManualClock;
  argv?: string[];
  env?: Record<string, string>;
  dataDir?: string;
  deps?: AppDeps;
}

export async function startTestServer(
  options: ServerOptions = {},
): Promise<{ world: TestWorld; stop(): Promise<void> }> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'opentrail-test-')));
  // One ingest worker unless a test asks for more: a worker per core would add a thread start to every server.
  const argv = ['--port', '0', '--data-dir', dataDir, '--log-level', 'silent', '--ingest-workers', '1'];
  const config = loadConfig([...argv, ...(options.argv ?? [])], { ...options.env });
  const undeclared: string[] = [];
  const app = await createApp(config, {
    logger: pino({ level: process.env['OPENTRAIL_TEST_LOG'] ?? 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
    onUndeclaredError: (operation, error) => undeclared.push(`${operation} → ${error}`),
    ...options.deps,
  });
  const url = await app.listen();
  const clock = options.clock;
  const secret = app.admin.generatedSecret ?? options.env?.['OPENTRAIL_SECRET_ACCESS_KEY'];
  assert.ok(secret, 'the admin secret is known to the test');
  const adminCredentials = { accessKeyId: app.admin.accessKeyId, secretAccessKey: secret };
  const now = clock ? () => clock.now() : undefined;

  const jsonClient = (targetPrefix: string, credentials: Credentials, region: string) =>
    new JsonApiClient({
      endpoint: url,
      region,
      credentials,
      signingName: ADMIN_SIGNING_NAME,
      targetPrefix,
      ...(now ? { now } : {}),
    });

  const world: TestWorld = {
    app,
    url,
    dataDir,
    clock,
    adminCredentials,
    cloudtrail: ({ region = 'us-east-1', credentials = adminCredentials } = {}) =>
      new CloudTrailClient({
        endpoint: url,
        region,
        credentials,
        maxAttempts: 1,
        ...(clock ? { systemClockOffset: clock.now() - Date.now() } : {}),
      }),
    adminApi: (region = 'us-east-1') => jsonClient(ADMIN_TARGET_PREFIX, adminCredentials, region),
    ingestApi: (credentials = adminCredentials, region = 'us-east-1') =>
      jsonClient(INGEST_TARGET_PREFIX, credentials, region),
    async newAccount(userName) {
      const admin = world.adminApi();
      const { AccountId } = await admin.call<{ AccountId: string }>('CreateAccount', {});
      const rootKey = await admin.call<{ AccessKeyId: string; SecretAccessKey: string }>('CreateAccessKey', {
        AccountId,
      });
      const root = { accessKeyId: rootKey.AccessKeyId, secretAccessKey: rootKey.SecretAccessKey };
      if (userName === undefined) return { accountId: AccountId, root };
      await admin.call('CreateUser', { AccountId, UserName: userName });
      const userKey = await admin.call<{ AccessKeyId: string; SecretAccessKey: string }>('CreateAccessKey', {
        AccountId,
        UserName: userName,
      });
      return {
        accountId: AccountId,
        root,
        user: { accessKeyId: userKey.AccessKeyId, secretAccessKey: userKey.SecretAccessKey },
      };
    },
    historyCaughtUp: () => app.historyCaughtUp(),
  };
  return {
    world,
    async stop() {
      await app.close();
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
      assert.deepEqual(undeclared, [], 'operations answered errors their model does not declare');
    },
  };
}

export async function withServer<T>(fn: (world: TestWorld) => Promise<T>, options: ServerOptions = {}): Promise<T> {
  const { world, stop } = await startTestServer(options);
  try {
    return await fn(world);
  } finally {
    await stop();
  }
}

/** Asserts that `promise` rejects with the AWS error `name` (SDK errors carry it as `name`). */
export async function rejectsWith(promise: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { name: string }) => {
    assert.equal(error.name, name, `expected ${name}, got ${error.name}: ${error.message}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

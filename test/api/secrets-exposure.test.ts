import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CloudTrailClient, CreateTrailCommand, ListTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { ADMIN_SIGNING_NAME, ADMIN_TARGET_PREFIX } from '../../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../../src/api/ingest-api.ts';
import { JsonApiClient } from '../../src/client/json-api-client.ts';
import { createLogger } from '../../src/model/logger.ts';
import { FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS, startChildServer } from '../helpers/child-server.ts';
import { withServer } from '../helpers/server.ts';
import { rawRequest, SDK_PREFIX } from '../helpers/signed-request.ts';

/**
 * Secrets (the admin secret, secrets the admin API hands out, credentials of configured endpoints) stay in
 * the secrets file and in the response that hands them out: no request handler can reach them through the
 * services it is given, and no log line carries one, whatever the log level.
 */
const KMS_ENV = {
  OPENTRAIL_KMS_ENDPOINT: 'http://127.0.0.1:9',
  OPENTRAIL_KMS_ACCESS_KEY_ID: 'kms-access-key',
  OPENTRAIL_KMS_SECRET_ACCESS_KEY: 'kms-endpoint-secret-never-logged-0123456789',
};

/** The path to each string equal to one of `needles`, among everything enumerable reachable from `root`. */
function findStrings(root: unknown, needles: string[]): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, path: string, depth: number): void => {
    if (typeof value === 'string') {
      if (needles.includes(value)) found.push(path);
      return;
    }
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
    if (depth > 12) return;
    seen.add(value);
    if (value instanceof Map) {
      for (const [k, v] of value) visit(v, `${path}.get(${String(k)})`, depth + 1);
      return;
    }
    for (const key of Object.keys(value)) {
      let child: unknown;
      try {
        child = (value as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      visit(child, `${path}.${key}`, depth + 1);
    }
  };
  visit(root, 'services', 0);
  return found;
}

describe('secrets', () => {
  it('are out of reach of request handlers: the services they get hold no settings or credentials', async () => {
    await withServer(
      async (w) => {
        const secrets = [FIXED_ADMIN.OPENTRAIL_SECRET_ACCESS_KEY, KMS_ENV.OPENTRAIL_KMS_SECRET_ACCESS_KEY];
        assert.deepEqual(findStrings(w.app.services, secrets), []);
        assert.equal('config' in w.app.services, false);
      },
      { env: { ...FIXED_ADMIN, ...KMS_ENV } },
    );
  });

  it('are redacted from anything logged with them: authorization headers, secret keys, credentials', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    const secret = 'a-secret-that-must-not-be-logged-0123456789';
    const signature =
      'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261101/us-east-1/cloudtrail/aws4_request, Signature=0f';
    logger.info({ secretAccessKey: secret, headers: { authorization: signature } }, 'top level');
    logger.info({ req: { headers: { authorization: signature } } }, 'a request');
    logger.info({ output: { AccessKeyId: 'AKIAEXAMPLE', SecretAccessKey: secret } }, 'a response');
    logger.info({ config: { admin: { secretAccessKey: secret } } }, 'settings');
    logger.error({ err: Object.assign(new Error('failed'), { request: { headers: { authorization: signature } } }) });
    logger.child({ requestId: 'r' }).warn({ client: { credentials: { secretAccessKey: secret } } }, 'a client');
    const output = lines.join('');
    assert.equal(lines.length, 6);
    assert.ok(!output.includes(secret), output);
    assert.ok(!output.includes('Signature=0f'), output);
    assert.match(output, /AKIAEXAMPLE/, 'what is not secret stays');
  });

  it('never reach the log of a server at debug level, through signed, refused, admin and ingest calls', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-secrets-log-'));
    const server = await startChildServer(dataDir, ['--log-level', 'debug'], KMS_ENV);
    const handedOut: string[] = [];
    try {
      const client = (credentials: typeof FIXED_ADMIN_CREDENTIALS) =>
        new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
      const json = (targetPrefix: string, credentials = FIXED_ADMIN_CREDENTIALS) =>
        new JsonApiClient({
          endpoint: server.url,
          region: 'us-east-1',
          credentials,
          signingName: ADMIN_SIGNING_NAME,
          targetPrefix,
        });
      const admin = json(ADMIN_TARGET_PREFIX);
      await client(FIXED_ADMIN_CREDENTIALS).send(new ListTrailsCommand({}));
      await client(FIXED_ADMIN_CREDENTIALS).send(
        new CreateTrailCommand({ Name: 'logged', S3BucketName: 'log-bucket' }),
      );
      const { AccountId } = await admin.call<{ AccountId: string }>('CreateAccount', {});
      const key = await admin.call<{ AccessKeyId: string; SecretAccessKey: string }>('CreateAccessKey', { AccountId });
      handedOut.push(key.SecretAccessKey);
      const tenant = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
      await client(tenant).send(new ListTrailsCommand({}));
      await json(INGEST_TARGET_PREFIX, tenant).call('PutRecords', { Records: [{ eventName: 'incomplete' }] });
      // Refused calls: a wrong secret, a non-admin on the admin API, a body that is not JSON.
      const wrong = { ...FIXED_ADMIN_CREDENTIALS, secretAccessKey: `${FIXED_ADMIN_CREDENTIALS.secretAccessKey}x` };
      await assert.rejects(client(wrong).send(new ListTrailsCommand({})));
      await assert.rejects(json(ADMIN_TARGET_PREFIX, tenant).call('ListAccounts', {}));
      const garbage = await rawRequest({
        url: server.url,
        credentials: FIXED_ADMIN_CREDENTIALS,
        target: `${SDK_PREFIX}.ListTrails`,
        body: '{"Secret',
      });
      assert.equal(garbage.status, 400);
      await admin.call('DeleteAccessKey', { AccessKeyId: key.AccessKeyId });
      await assert.rejects(client(tenant).send(new ListTrailsCommand({})));
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
    const output = server.output();
    assert.match(output, /"level":/, 'the server did log');
    for (const secret of [
      FIXED_ADMIN.OPENTRAIL_SECRET_ACCESS_KEY,
      KMS_ENV.OPENTRAIL_KMS_SECRET_ACCESS_KEY,
      ...handedOut,
    ]) {
      assert.ok(!output.includes(secret), `a secret reached the server's output:\n${output}`);
    }
  });
});

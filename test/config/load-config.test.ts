import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';

const fails = (argv: string[], env: Record<string, string>, mentions: RegExp) =>
  assert.throws(
    () => loadConfig(argv, env),
    (e: Error) => e instanceof ConfigError && mentions.test(e.message),
  );

describe('loadConfig', () => {
  it('uses the defaults when nothing is set', () => {
    const c = loadConfig([], {});
    assert.equal(c.port, 4790);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, resolve('./data'));
    assert.deepEqual(c.objectStore, { kind: 'local' });
    assert.equal(c.lookupRateLimit, 0);
    assert.deepEqual(c.admin, {});
    // One ingest worker per core, at most 4: a machine of 96 cores must start with its defaults too.
    assert.equal(c.ingestWorkers, Math.min(availableParallelism(), 4));
    assert.ok(Object.isFrozen(c));
  });

  it('reads every setting from its OPENTRAIL_* variable', () => {
    const c = loadConfig([], {
      OPENTRAIL_PORT: '5000',
      OPENTRAIL_HOST: '0.0.0.0',
      OPENTRAIL_DATA_DIR: '/tmp/x',
      OPENTRAIL_ACCOUNT_ID: '123456789012',
      OPENTRAIL_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      OPENTRAIL_SECRET_ACCESS_KEY: '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',
      OPENTRAIL_S3_ENDPOINT: 'http://127.0.0.1:9000',
      OPENTRAIL_S3_ACCESS_KEY_ID: 'minio',
      OPENTRAIL_S3_SECRET_ACCESS_KEY: 'minio123',
      OPENTRAIL_S3_REGION: 'eu-west-1',
      OPENTRAIL_LOOKUP_RATE_LIMIT: '2',
      OPENTRAIL_MEMORY_LIMIT: '1GB',
      OPENTRAIL_LOG_LEVEL: 'warn',
    });
    assert.equal(c.port, 5000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.dataDir, '/tmp/x');
    assert.deepEqual(c.admin, {
      accountId: '123456789012',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: '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',
    });
    assert.deepEqual(c.objectStore, {
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      accessKeyId: 'minio',
      secretAccessKey: 'minio123',
      region: 'eu-west-1',
    });
    assert.equal(c.lookupRateLimit, 2);
    assert.equal(c.memoryLimit, '1GB');
    assert.equal(c.logLevel, 'warn');
  });

  it('prefers a flag over its variable', () => {
    assert.equal(loadConfig(['--port', '6000'], { OPENTRAIL_PORT: '5000' }).port, 6000);
    assert.equal(loadConfig(['--data-dir', '/a'], { OPENTRAIL_DATA_DIR: '/b' }).dataDir, '/a');
  });

  it('stops with a message naming the flag or variable to fix', () => {
    fails(['--port', 'eighty'], {}, /--port \(OPENTRAIL_PORT\)/);
    fails([], { OPENTRAIL_PORT: '70000' }, /OPENTRAIL_PORT/);
    fails([], { OPENTRAIL_ACCOUNT_ID: '12' }, /OPENTRAIL_ACCOUNT_ID: must be 12 digits/);
    fails([], { OPENTRAIL_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE' }, /OPENTRAIL_SECRET_ACCESS_KEY/);
    fails(
      [],
      { OPENTRAIL_ACCESS_KEY_ID: 'bad key', OPENTRAIL_SECRET_ACCESS_KEY: 'x'.repeat(40) },
      /OPENTRAIL_ACCESS_KEY_ID/,
    );
    fails([], { OPENTRAIL_S3_ENDPOINT: 'not a url' }, /--s3-endpoint/);
    fails([], { OPENTRAIL_S3_ENDPOINT: 'ftp://x' }, /http or https/);
    fails([], { OPENTRAIL_S3_ENDPOINT: 'http://x:9000' }, /OPENTRAIL_S3_ACCESS_KEY_ID/);
    // The SDK clients are made on their first request: a Region they would refuse stops the start instead.
    const s3 = {
      OPENTRAIL_S3_ENDPOINT: 'http://x:9000',
      OPENTRAIL_S3_ACCESS_KEY_ID: 'k',
      OPENTRAIL_S3_SECRET_ACCESS_KEY: 's',
    };
    fails(['--s3-region', ''], s3, /--s3-region \(OPENTRAIL_S3_REGION\): '' is not a Region name/);
    fails(
      [
        '--kms-endpoint',
        'http://x:9000',
        '--kms-access-key-id',
        'k',
        '--kms-secret-access-key',
        's',
        '--kms-region',
        'us east',
      ],
      {},
      /--kms-region/,
    );
    fails(['--lookup-rate-limit', '-1'], {}, /--lookup-rate-limit/);
    fails(['--memory-limit', 'lots'], {}, /--memory-limit/);
    fails(['--log-level', 'loud'], {}, /--log-level/);
    fails(['--no-such-flag'], {}, /no-such-flag/);
  });

  it('refuses an admin secret anyone could guess, without repeating it', () => {
    const weak = {
      short: 'a-secret-of-thirty-one-chars-01',
      example: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      repetitive: 'abcabcabcabcabcabcabcabcabcabcabcabcabca',
      spaced: 'Zq8v3Lk1Pw9Rt5Yx2Nm7 c4Hd6Jf0Gs+AeUiOoTy',
    };
    const why = {
      short: /must be 40 to 128 characters/,
      example: /AWS's published example secret/,
      repetitive: /too repetitive/,
      spaced: /must not contain spaces/,
    };
    for (const [kind, secret] of Object.entries(weak) as [keyof typeof weak, string][]) {
      assert.throws(
        () => loadConfig([], { OPENTRAIL_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', OPENTRAIL_SECRET_ACCESS_KEY: secret }),
        (e: Error) => {
          assert.ok(e instanceof ConfigError, kind);
          assert.match(e.message, /^OPENTRAIL_SECRET_ACCESS_KEY: /, kind);
          assert.match(e.message, why[kind], kind);
          assert.ok(!e.message.includes(secret), `the ${kind} secret is not in the message`);
          return true;
        },
      );
    }
  });

  it('reads the SNS and KMS endpoints with their credentials, and the delivery and worker settings', () => {
    const c = loadConfig(
      ['--delivery-interval', '1', '--digest-interval', '60', '--duckdb-threads', '2', '--ingest-workers', '0'],
      {
        OPENTRAIL_SNS_ENDPOINT: 'http://127.0.0.1:5000',
        OPENTRAIL_SNS_ACCESS_KEY_ID: 'sns-id',
        OPENTRAIL_SNS_SECRET_ACCESS_KEY: 'sns-secret',
        OPENTRAIL_KMS_ENDPOINT: 'https://kms.example:4443',
        OPENTRAIL_KMS_ACCESS_KEY_ID: 'kms-id',
        OPENTRAIL_KMS_SECRET_ACCESS_KEY: 'kms-secret',
        OPENTRAIL_KMS_REGION: 'eu-west-1',
      },
    );
    assert.deepEqual(c.sns, {
      endpoint: 'http://127.0.0.1:5000',
      accessKeyId: 'sns-id',
      secretAccessKey: 'sns-secret',
      region: 'us-east-1',
    });
    assert.deepEqual(c.kms, {
      endpoint: 'https://kms.example:4443',
      accessKeyId: 'kms-id',
      secretAccessKey: 'kms-secret',
      region: 'eu-west-1',
    });
    assert.equal(c.deliveryIntervalMs, 1000);
    assert.equal(c.digestIntervalMs, 60_000);
    assert.equal(c.duckdbThreads, 2);
    assert.equal(c.ingestWorkers, 0);
    const defaults = loadConfig([], {});
    assert.equal(defaults.sns, undefined);
    assert.equal(defaults.kms, undefined);
    assert.equal(defaults.deliveryIntervalMs, 300_000, "AWS's 5 minutes");
    assert.equal(defaults.digestIntervalMs, 3_600_000, 'hourly digests');
  });

  it('refuses delivery and digest intervals and thread counts out of range, naming the setting', () => {
    fails(['--delivery-interval', '0'], {}, /--delivery-interval \(OPENTRAIL_DELIVERY_INTERVAL\): '0' is not seconds/);
    fails([], { OPENTRAIL_DELIVERY_INTERVAL: '1.5' }, /OPENTRAIL_DELIVERY_INTERVAL/);
    fails(['--digest-interval', '59'], {}, /--digest-interval .*60 to 86400/);
    fails(['--digest-interval', '86401'], {}, /--digest-interval/);
    fails(['--duckdb-threads', '-1'], {}, /--duckdb-threads/);
    fails(['--ingest-workers', '65'], {}, /--ingest-workers/);
    fails([], { OPENTRAIL_SNS_ENDPOINT: 'sns.local' }, /--sns-endpoint/);
    fails([], { OPENTRAIL_KMS_ENDPOINT: 'http://127.0.0.1:5000' }, /OPENTRAIL_KMS_ACCESS_KEY_ID/);
  });

  it('reads the proxy upstream: a default URL and one per service, with the credentials to sign with', () => {
    const c = loadConfig(['--upstream', 's3=http://minio:9000, http://127.0.0.1:5000,dynamodb=http://ddb:8000'], {
      OPENTRAIL_UPSTREAM_ACCESS_KEY_ID: 'AKID',
      OPENTRAIL_UPSTREAM_SECRET_ACCESS_KEY: 'secret',
    });
    assert.deepEqual(c.upstream, {
      default: 'http://127.0.0.1:5000',
      services: { s3: 'http://minio:9000', dynamodb: 'http://ddb:8000' },
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
    });
    assert.equal(c.moto, false);
    assert.equal(loadConfig([], {}).upstream, undefined);
  });

  it('turns moto mode on with --moto or OPENTRAIL_MOTO, where the upstream credentials default to moto ones', () => {
    assert.equal(loadConfig(['--moto'], {}).moto, true);
    assert.equal(loadConfig([], { OPENTRAIL_MOTO: 'true' }).moto, true);
    assert.equal(loadConfig([], { OPENTRAIL_MOTO: '0' }).moto, false);
    const c = loadConfig(['--moto', '--upstream', 'http://127.0.0.1:5000'], {});
    assert.equal(c.upstream?.accessKeyId, 'testing');
  });

  it('refuses a bad upstream or moto setting, naming it', () => {
    fails(
      ['--upstream', 'minio:9000'],
      { OPENTRAIL_UPSTREAM_ACCESS_KEY_ID: 'a', OPENTRAIL_UPSTREAM_SECRET_ACCESS_KEY: 'b' },
      /--upstream \(OPENTRAIL_UPSTREAM\)/,
    );
    fails(['--upstream', 'http://a:1,http://b:2'], {}, /at most one URL without a service name/);
    fails(['--upstream', 'http://a:1'], {}, /OPENTRAIL_UPSTREAM_ACCESS_KEY_ID: is required with --upstream/);
    fails([], { OPENTRAIL_MOTO: 'maybe' }, /--moto \(OPENTRAIL_MOTO\): 'maybe' is not 1 or 0/);
  });

  it('has no flag for secrets, so they never show in the process list', () => {
    fails(['--secret-access-key', 'x'], {}, /secret-access-key/);
    fails(['--s3-secret-access-key', 'x'], {}, /s3-secret-access-key/);
  });
});

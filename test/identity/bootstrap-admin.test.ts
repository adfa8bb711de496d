import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ListTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { ConfigError } from '../../src/config/load-config.ts';
import { FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS } from '../helpers/child-server.ts';
import { rejectsWith, startTestServer, withServer } from '../helpers/server.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

/**
 * The admin identity from OPENTRAIL_ACCOUNT_ID / _ACCESS_KEY_ID / _SECRET_ACCESS_KEY: the variables choose it
 * when a data directory is created, and afterwards are only checked against it. Whoever can change a server's
 * environment must not thereby add, replace or bring back admin keys, or make another account the admin.
 */
const OTHER_SECRET = 'Zq8v3Lk1Pw9Rt5Yx2Nm7Bc4Hd6Jf0Gs+AeUiOoTy';

const withDataDir = (fn: (dir: string) => Promise<void>) => withTempDir('bootstrap', fn);

/** Starting on `dataDir` with `env` fails with a ConfigError whose message matches `message`. */
async function refusesToStart(dataDir: string, env: Record<string, string>, message: RegExp): Promise<void> {
  await assert.rejects(startTestServer({ dataDir, env }), (error: Error) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${error.name}: ${error.message}`);
    assert.match(error.message, message);
    for (const secret of [env['OPENTRAIL_SECRET_ACCESS_KEY'], FIXED_ADMIN.OPENTRAIL_SECRET_ACCESS_KEY]) {
      if (secret) assert.ok(!error.message.includes(secret), 'the message never holds a secret');
    }
    return true;
  });
}

describe('admin bootstrap from the environment', () => {
  it('creates a new data directory’s admin account and key from the variables, and keeps them', async () => {
    await withDataDir(async (dataDir) => {
      for (let start = 0; start < 2; start++) {
        await withServer(
          async (w) => {
            assert.equal(w.app.admin.accountId, FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID);
            assert.equal(w.app.admin.generatedSecret, undefined);
            await w.cloudtrail({ credentials: FIXED_ADMIN_CREDENTIALS }).send(new ListTrailsCommand({}));
          },
          { dataDir, env: FIXED_ADMIN },
        );
      }
    });
  });

  it('refuses an OPENTRAIL_ACCOUNT_ID other than the stored admin account instead of making a second admin', async () => {
    await withDataDir(async (dataDir) => {
      await withServer(async () => {}, { dataDir, env: FIXED_ADMIN });
      await refusesToStart(
        dataDir,
        { ...FIXED_ADMIN, OPENTRAIL_ACCOUNT_ID: '999988887777' },
        /^OPENTRAIL_ACCOUNT_ID: this data directory's admin account is 111122223333, not 999988887777/,
      );
      await withServer(
        async (w) => {
          const { Accounts } = await w.adminApi().call<{ Accounts: { AccountId: string }[] }>('ListAccounts', {});
          assert.deepEqual(
            Accounts.map((a) => a.AccountId),
            ['111122223333'],
            'no account was created by the refused start',
          );
        },
        { dataDir, env: FIXED_ADMIN },
      );
    });
  });

  it('refuses an access key the data directory does not hold instead of adding it', async () => {
    await withDataDir(async (dataDir) => {
      await withServer(async () => {}, { dataDir, env: FIXED_ADMIN });
      const planted = { OPENTRAIL_ACCESS_KEY_ID: 'AKIAPLANTEDADMINKEY1', OPENTRAIL_SECRET_ACCESS_KEY: OTHER_SECRET };
      await refusesToStart(
        dataDir,
        { ...FIXED_ADMIN, ...planted },
        /^OPENTRAIL_ACCESS_KEY_ID: AKIAPLANTEDADMINKEY1 is not an access key of this data directory/,
      );
      await withServer(
        async (w) => {
          const credentials = { accessKeyId: planted.OPENTRAIL_ACCESS_KEY_ID, secretAccessKey: OTHER_SECRET };
          await rejectsWith(
            w.cloudtrail({ credentials }).send(new ListTrailsCommand({})),
            'UnrecognizedClientException',
          );
        },
        { dataDir, env: FIXED_ADMIN },
      );
    });
  });

  it('refuses a secret other than the stored one for the admin key', async () => {
    await withDataDir(async (dataDir) => {
      await withServer(async () => {}, { dataDir, env: FIXED_ADMIN });
      await refusesToStart(
        dataDir,
        { ...FIXED_ADMIN, OPENTRAIL_SECRET_ACCESS_KEY: OTHER_SECRET },
        /^OPENTRAIL_SECRET_ACCESS_KEY: does not match the secret stored for AKIAOPENTRAILTEST001/,
      );
    });
  });

  it('does not bring back an admin key deleted through the admin API', async () => {
    await withDataDir(async (dataDir) => {
      const rotated = await withServer(
        async (w) => {
          const key = await w.adminApi().call<{ AccessKeyId: string; SecretAccessKey: string }>('CreateAccessKey', {
            AccountId: FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID,
          });
          await w.adminApi().call('DeleteAccessKey', { AccessKeyId: FIXED_ADMIN.OPENTRAIL_ACCESS_KEY_ID });
          return key;
        },
        { dataDir, env: FIXED_ADMIN },
      );
      await refusesToStart(dataDir, FIXED_ADMIN, /^OPENTRAIL_ACCESS_KEY_ID: AKIAOPENTRAILTEST001 is not an access key/);
      await withServer(
        async (w) => {
          await rejectsWith(
            w.cloudtrail({ credentials: FIXED_ADMIN_CREDENTIALS }).send(new ListTrailsCommand({})),
            'UnrecognizedClientException',
          );
        },
        {
          dataDir,
          env: {
            OPENTRAIL_ACCESS_KEY_ID: rotated.AccessKeyId,
            OPENTRAIL_SECRET_ACCESS_KEY: rotated.SecretAccessKey,
          },
        },
      );
    });
  });

  it('refuses another account’s key as the admin key', async () => {
    await withDataDir(async (dataDir) => {
      const tenant = await withServer(async (w) => w.newAccount(), { dataDir, env: FIXED_ADMIN });
      await refusesToStart(
        dataDir,
        {
          ...FIXED_ADMIN,
          OPENTRAIL_ACCESS_KEY_ID: tenant.root.accessKeyId,
          OPENTRAIL_SECRET_ACCESS_KEY: tenant.root.secretAccessKey,
        },
        new RegExp(
          `^OPENTRAIL_ACCESS_KEY_ID: ${tenant.root.accessKeyId} is a key of arn:aws:iam::${tenant.accountId}:root, not of the admin account`,
        ),
      );
    });
  });
});

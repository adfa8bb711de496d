import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ListTrailsCommand } from '@aws-sdk/client-cloudtrail';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { FIXED_ADMIN } from '../helpers/child-server.ts';
import { rejectsWith, startTestServer, type TestWorld } from '../helpers/server.ts';

/**
 * Admin calls arrive concurrently (scripts provisioning many accounts at once); each must take effect as if
 * it ran alone, and what it wrote must survive a restart: a key the admin API handed out keeps working.
 */
const ACCOUNTS = 4;
const ROOT_KEYS = 3;
const USERS = 2;
const USER_KEYS = 2;

interface Key {
  AccessKeyId: string;
  SecretAccessKey: string;
}

const credentials = (k: Key): Credentials => ({ accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey });

async function authenticates(w: TestWorld, key: Key): Promise<boolean> {
  try {
    await w.cloudtrail({ credentials: credentials(key) }).send(new ListTrailsCommand({}));
    return true;
  } catch {
    return false;
  }
}

describe('concurrent admin mutations', () => {
  it('keeps every account, user and access key created at once, across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-admin-concurrency-'));
    try {
      const first = await startTestServer({ dataDir, env: FIXED_ADMIN });
      const kept: Key[] = [];
      const deleted: Key[] = [];
      let accountIds: string[];
      try {
        const admin = first.world.adminApi();
        accountIds = (
          await Promise.all(
            Array.from({ length: ACCOUNTS }, () => admin.call<{ AccountId: string }>('CreateAccount', {})),
          )
        ).map((a) => a.AccountId);
        // Keys to delete later, so deletions run concurrently with creations.
        const doomed = await Promise.all(
          accountIds.map((AccountId) => admin.call<Key>('CreateAccessKey', { AccountId })),
        );
        const userNames = Array.from({ length: USERS }, (_, i) => `user-${i}`);
        const [rootKeys] = await Promise.all([
          Promise.all(
            accountIds.flatMap((AccountId) =>
              Array.from({ length: ROOT_KEYS }, () => admin.call<Key>('CreateAccessKey', { AccountId })),
            ),
          ),
          Promise.all(
            accountIds.flatMap((AccountId) =>
              userNames.map((UserName) => admin.call('CreateUser', { AccountId, UserName })),
            ),
          ),
          Promise.all(doomed.map((k) => admin.call('DeleteAccessKey', { AccessKeyId: k.AccessKeyId }))),
        ]);
        const userKeys = await Promise.all(
          accountIds.flatMap((AccountId) =>
            userNames.flatMap((UserName) =>
              Array.from({ length: USER_KEYS }, () => admin.call<Key>('CreateAccessKey', { AccountId, UserName })),
            ),
          ),
        );
        kept.push(...rootKeys, ...userKeys);
        deleted.push(...doomed);
        assert.equal(new Set(kept.map((k) => k.AccessKeyId)).size, ACCOUNTS * (ROOT_KEYS + USERS * USER_KEYS));
      } finally {
        await first.stop();
      }

      const second = await startTestServer({ dataDir, env: FIXED_ADMIN });
      try {
        const listed = await second.world.adminApi().call<{ Accounts: { AccountId: string }[] }>('ListAccounts', {});
        const survivors = new Set(listed.Accounts.map((a) => a.AccountId));
        assert.deepEqual(
          accountIds.filter((id) => !survivors.has(id)),
          [],
          'every created account survives',
        );
        const failing: string[] = [];
        for (const key of kept) if (!(await authenticates(second.world, key))) failing.push(key.AccessKeyId);
        assert.deepEqual(failing, [], 'every created access key authenticates after the restart');
        for (const key of deleted) {
          await rejectsWith(
            second.world.cloudtrail({ credentials: credentials(key) }).send(new ListTrailsCommand({})),
            'UnrecognizedClientException',
          );
        }
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { awsCli } from '../helpers/aws-cli.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';

/** The AWS CLI v1 against the real server, with `--endpoint-url` and nothing from this machine's configuration. */
function cloudtrail(w: TestWorld, credentials: Credentials, args: string[]) {
  return awsCli(
    ['cloudtrail', ...args, '--endpoint-url', w.url, '--region', 'us-east-1', '--output', 'json'],
    credentials,
  );
}

describe('event data stores through the AWS CLI', () => {
  it('creates, gets, lists and refuses to delete a protected store, by name of the error', async () => {
    await withServer(async (w) => {
      const creds = w.adminCredentials;
      const made = await cloudtrail(w, creds, [
        'create-event-data-store',
        '--name',
        'cli-store',
        '--retention-period',
        '30',
      ]);
      assert.equal(made.code, 0, made.stderr);
      const store = JSON.parse(made.stdout) as Record<string, unknown>;
      assert.match(String(store['EventDataStoreArn']), /:eventdatastore\/[a-f0-9-]{36}$/);
      assert.equal(store['RetentionPeriod'], 30);
      assert.equal(store['TerminationProtectionEnabled'], true);
      assert.equal(typeof store['CreatedTimestamp'], 'number', 'timestamps are epoch seconds on the wire');

      const id = String(store['EventDataStoreArn']).split('/').pop() ?? '';
      const got = await cloudtrail(w, creds, ['get-event-data-store', '--event-data-store', id]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(JSON.parse(got.stdout).Status, 'ENABLED');

      const listed = await cloudtrail(w, creds, ['list-event-data-stores']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(
        (JSON.parse(listed.stdout).EventDataStores as { Name: string }[]).map((s) => s.Name),
        ['cli-store'],
      );

      const refused = await cloudtrail(w, creds, ['delete-event-data-store', '--event-data-store', id]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /EventDataStoreTerminationProtectedException/);
    });
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { MOTO_ACCOUNT_ID } from '../../src/proxy/index.ts';
import { withServer } from '../helpers/server.ts';

const run = promisify(execFile);
const SUITE = fileURLToPath(new URL('../py/test_moto_server_mode.py', import.meta.url));
const FOOBAR = { accessKeyId: 'FOOBARKEY', secretAccessKey: 'FOOBARSECRET' };

describe('moto-compatible mode (--moto)', () => {
  it('runs a test suite written for moto server mode unchanged, and records what it did', () =>
    withServer(
      async (w) => {
        const ready = await fetch(w.url);
        assert.equal(ready.status, 200, 'the readiness GET / of moto users');

        try {
          await run('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', SUITE], {
            env: { ...process.env, TEST_SERVER_MODE: 'true', TEST_SERVER_MODE_ENDPOINT: w.url },
            timeout: 120_000,
          });
        } catch (error) {
          const { stdout, stderr } = error as { stdout?: string; stderr?: string };
          assert.fail(`the moto-style suite failed\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
        }

        await w.historyCaughtUp();
        const ct = w.cloudtrail({ credentials: FOOBAR });
        const names = async (source: string) => {
          const { Events = [] } = await ct.send(
            new LookupEventsCommand({
              LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: source }],
              MaxResults: 50,
            }),
          );
          return new Set(Events.map((e) => e.EventName));
        };
        const s3 = await names('s3.amazonaws.com');
        assert.ok(s3.has('CreateBucket'));
        assert.ok(!s3.has('PutObject'), 'data events stay out of event history');
        assert.ok((await names('sns.amazonaws.com')).has('CreateTopic'));
        assert.ok((await names('cloudtrail.amazonaws.com')).has('CreateTrail'));
        const { Events = [] } = await ct.send(new LookupEventsCommand({ MaxResults: 1 }));
        const event = JSON.parse(Events[0]?.CloudTrailEvent ?? '{}') as { recipientAccountId?: string };
        assert.equal(event.recipientAccountId, MOTO_ACCOUNT_ID, "moto's test keys belong to moto's account");
      },
      { argv: ['--moto', '--delivery-interval', '1'] },
    ));

  it('still verifies signatures made with moto test keys', () =>
    withServer(
      async (w) => {
        const { rejectsWith } = await import('../helpers/server.ts');
        const ct = w.cloudtrail({ credentials: { accessKeyId: 'FOOBARKEY', secretAccessKey: 'not-the-secret' } });
        await rejectsWith(ct.send(new LookupEventsCommand({})), 'InvalidSignatureException');
      },
      { argv: ['--moto'] },
    ));
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withServer } from '../helpers/server.ts';

/**
 * boto3, the most used AWS SDK, against the real server: test/py/boto3_trails.py makes the calls and
 * asserts on what boto3 hands back (datetimes, camelCase DescribeTrails, modelled exceptions).
 */
const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../py/boto3_trails.py', import.meta.url));
const TIMEOUT_MS = 60_000;

describe('boto3', () => {
  it('manages a trail, reads its status and finds the calls in event history', async () => {
    await withServer(async (w) => {
      const env = {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        OPENTRAIL_ENDPOINT: w.url,
        AWS_ACCESS_KEY_ID: w.adminCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: w.adminCredentials.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        // Nothing from this machine's AWS setup may leak in.
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      try {
        const { stdout } = await run('python3', [SCRIPT], { env, timeout: TIMEOUT_MS });
        assert.match(stdout, /all boto3 checks passed/);
      } catch (error) {
        const { stdout, stderr, code } = error as { stdout?: string; stderr?: string; code?: unknown };
        assert.fail(`python3 ${SCRIPT} exited with ${String(code)}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      }
    });
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Credentials } from '../../src/client/json-api-client.ts';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the AWS CLI v1 (`aws` on PATH) with the given credentials and nothing from this machine's AWS
 * configuration; `env` adds variables such as AWS_ENDPOINT_URL_S3. Resolves with the exit code.
 */
export async function awsCli(
  args: string[],
  credentials: Credentials,
  env: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<CliResult> {
  const fullEnv = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...env,
  };
  try {
    const { stdout, stderr } = await run('aws', args, {
      env: fullEnv,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof code === 'number' ? code : -1, stdout: stdout ?? '', stderr: stderr ?? String(error) };
  }
}

/**
 * A real moto_server for the S3 tests: started on a free port, stopped on `stop`, and killed on process exit
 * should a test run end before its `after` hook. It stays in our process group so Ctrl-C reaches it too; it is
 * one process (the pyenv shim execs into Python, and moto serves with threads).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

/** moto takes 1–3 s to import its services; a loaded machine can take far longer. */
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** Another process may take the free port between our probe and moto's bind. */
const START_ATTEMPTS = 3;

export async function startMoto(): Promise<Moto> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

export async function withMoto<T>(fn: (moto: Moto) => Promise<T>): Promise<T> {
  const moto = await startMoto();
  try {
    return await fn(moto);
  } finally {
    await moto.stop();
  }
}

async function startOnce(port: number): Promise<Moto> {
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopChild(child);
  };
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}) before answering:\n${stderr()}`);
    }
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return; // Any HTTP answer means it is serving.
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS} ms:\n${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Credentials moto accepts (it checks none). */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/**
 * One moto_server for a test file: started in `before`, stopped in `after`. `endpoint()` and `s3()` (an
 * S3 SDK client, path-style, as users would point one at it) are for use inside tests.
 */
export function useMoto(): { endpoint(): string; s3(region?: string): S3Client } {
  let moto: Moto | undefined;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
  });
  const endpoint = () => {
    if (moto === undefined) throw new Error('moto_server is not running (useMoto() registers it in before())');
    return moto.endpoint;
  };
  return {
    endpoint,
    s3: (region = 'us-east-1') =>
      new S3Client({ endpoint: endpoint(), region, forcePathStyle: true, credentials: MOTO_CREDENTIALS }),
  };
}

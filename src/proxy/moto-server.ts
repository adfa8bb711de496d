import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A moto_server child process on a free loopback port: what `--moto` puts behind the proxy, and what the
 * tests use for S3, SNS and KMS. It is killed when this process exits, should nobody stop it first; it is
 * one process (the pyenv shim execs into Python, and moto serves with threads).
 */
export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** moto takes 1–3 s to import its services; a loaded machine can take far longer. */
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** Another process may take the free port between our probe and moto's bind. */
const START_ATTEMPTS = 3;

export async function startMotoServer(command = 'moto_server'): Promise<MotoServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(command, await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(command: string, port: number): Promise<MotoServer> {
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  // spawn reports a missing command as an 'error' event; without a listener it would end the process.
  const spawnFailed = once(child, 'error').then(([err]) => {
    throw new Error(`could not start ${command}: ${(err as Error).message}`);
  });
  spawnFailed.catch(() => {});
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopChild(child);
  };
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitUntilAnswering(endpoint, child, () => stderr), spawnFailed]);
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
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
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

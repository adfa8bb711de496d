import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The real service in a child process, started as `npm start` starts it, so a test can kill it with
 * SIGKILL and start it again on the same data directory.
 */
export interface ChildServer {
  url: string;
  process: ChildProcess;
  /** SIGKILL: no shutdown code runs. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** Figures from GET /health. */
  health(): Promise<{ log: { committedSeq: number; writtenSeq: number }; consumers: Record<string, number> }>;
  output(): string;
}

export const FIXED_ADMIN = {
  OPENTRAIL_ACCOUNT_ID: '111122223333',
  OPENTRAIL_ACCESS_KEY_ID: 'AKIAOPENTRAILTEST001',
  OPENTRAIL_SECRET_ACCESS_KEY: 'opentrail-test-secret-key-000000000000000',
};

export const FIXED_ADMIN_CREDENTIALS = {
  accessKeyId: FIXED_ADMIN.OPENTRAIL_ACCESS_KEY_ID,
  secretAccessKey: FIXED_ADMIN.OPENTRAIL_SECRET_ACCESS_KEY,
};

const START_TIMEOUT_MS = 30_000;

export async function startChildServer(
  dataDir: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
  startTimeoutMs = START_TIMEOUT_MS,
): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [
      // PROF_DIR=dir writes the server's CPU profiles (every thread's) there, for profiling benchmarks.
      ...(process.env['PROF_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['PROF_DIR']}`] : []),
      // As `npm start` runs it (bin/ts-loader.js, which starts ~0.2 s sooner than tsx).
      'bin/opentrail.js',
      'serve',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { env: { ...process.env, ...FIXED_ADMIN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + startTimeoutMs;
  let url: string | undefined;
  while (url === undefined) {
    const m = /serving the CloudTrail API at (http:\/\/\S+)/.exec(out);
    if (m) url = m[1];
    else if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within ${startTimeoutMs} ms:\n${out}`);
    } else await sleep(20);
  }
  // 'close', not 'exit': what the server wrote just before it stopped is read by then (output() holds it).
  const exited = once(child, 'close');
  const serverUrl = url;
  return {
    url: serverUrl,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async health() {
      const res = await fetch(`${serverUrl}/health`);
      return (await res.json()) as Awaited<ReturnType<ChildServer['health']>>;
    },
    output: () => out,
  };
}

/** Waits until every consumer has applied every record logged so far (calls' records included). */
export async function waitForConsumers(server: ChildServer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await server.health();
    if (Object.values(h.consumers).every((c) => c >= h.log.writtenSeq)) return;
    if (Date.now() > deadline) throw new Error(`consumers did not catch up: ${JSON.stringify(h)}`);
    await sleep(25);
  }
}

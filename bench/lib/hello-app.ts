/**
 * The hello-world Express app of bench/recorder.ts, run in a child process of its own (started by `fork`,
 * so it has an IPC channel): `GET /hello` answers `{"message":"hello"}`, `POST /greetings` takes a small
 * JSON body and answers a small JSON document. With `--endpoint` it is the same app with the recorder added
 * in its one line, recording both routes into that opentrail as `--event-source` (the fixed admin key, a
 * fresh spool directory). The bench imports this file's types only: importing it would start the app.
 *
 * Messages from the parent: `usage` answers the process's CPU time so far (µs); `settle` answers once the
 * recorder has shipped every record it holds (at once for the plain app); `finish` closes the app, then the
 * recorder (which sends what is left), answers the recorder's stats and ends the process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import express from 'express';
import { createRecorder, type Recorder, type RecorderStats } from '../../packages/recorder/src/index.ts';
import { FIXED_ADMIN_CREDENTIALS } from '../../test/helpers/child-server.ts';

export type AppMessage =
  | { type: 'listening'; port: number }
  | { type: 'usage'; cpuMicros: number }
  | { type: 'settled' }
  | { type: 'finished'; served: number; stats: RecorderStats | undefined; errors: string[] };

export type ParentMessage = { type: 'usage' } | { type: 'settle' } | { type: 'finish' };

const { values } = parseArgs({
  options: { endpoint: { type: 'string' }, 'event-source': { type: 'string', default: 'hello.example.com' } },
});
const errors: string[] = [];
const spoolDir = values.endpoint === undefined ? undefined : await mkdtemp(join(tmpdir(), 'opentrail-bench-spool-'));
const recorder: Recorder | undefined =
  values.endpoint === undefined || spoolDir === undefined
    ? undefined
    : createRecorder({
        endpoint: values.endpoint,
        region: 'us-east-1',
        credentials: FIXED_ADMIN_CREDENTIALS,
        eventSource: values['event-source'],
        operations: { 'GET /hello': 'GetHello', 'POST /greetings': 'CreateGreeting' },
        identify: (req) => {
          const user = req.headers['x-user'];
          return typeof user === 'string' ? { type: 'IAMUser', userName: user } : undefined;
        },
        spoolDir,
        // Kept short: a long run reports a problem many times over.
        onError: (error) => void (errors.length < 20 && errors.push(`${error.name}: ${error.message}`)),
      });

let served = 0;
const app = express();
if (recorder !== undefined) app.use(recorder.express());
app.use(express.json());
app.get('/hello', (_req, res) => {
  served++;
  res.json({ message: 'hello' });
});
app.post('/greetings', (req, res) => {
  served++;
  res.json({ greeting: `hello, ${String(req.body?.name)}` });
});

const server = createServer(app);
server.listen(0, '127.0.0.1', () => send({ type: 'listening', port: (server.address() as AddressInfo).port }));

process.on('message', async (message: ParentMessage) => {
  if (message.type === 'usage') {
    const { user, system } = process.cpuUsage();
    send({ type: 'usage', cpuMicros: user + system });
  } else if (message.type === 'settle') {
    while (recorder !== undefined && recorder.stats().spooledRecords > 0) await sleep(50);
    send({ type: 'settled' });
  } else if (message.type === 'finish') {
    server.closeAllConnections();
    server.close();
    await recorder?.close();
    // Removed before answering: the parent ends the process once it has the answer.
    if (spoolDir !== undefined) await rm(spoolDir, { recursive: true, force: true });
    send({ type: 'finished', served, stats: recorder?.stats(), errors });
    process.disconnect();
  }
});

function send(message: AppMessage): void {
  process.send?.(message);
}

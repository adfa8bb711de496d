import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import { withServer } from '../helpers/server.ts';
import { eventually } from './orders-apps.ts';

/**
 * examples/orders-service.ts, run as the README says, against a running opentrail: its calls are in event
 * history once it has been stopped with SIGTERM (the recorder sends what is left when it closes).
 */
test('the orders service example records its calls in opentrail', async () => {
  await withServer(async (world) => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/orders-service.ts'], {
      env: {
        ...process.env,
        OPENTRAIL_ENDPOINT: world.url,
        AWS_ACCESS_KEY_ID: world.adminCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: world.adminCredentials.secretAccessKey,
        PORT: '0',
        SPOOL_DIR: spoolDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = once(child, 'exit');
    try {
      await eventually('the service to listen', () => /listening on http:\/\/\S+/.test(output), 20_000);
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1] as string;
      const call = async (method: string, path: string, user: string, body?: unknown) => {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: { 'x-user': user, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        await response.arrayBuffer();
        return response.status;
      };
      assert.equal(await call('POST', '/orders', 'alice', { item: 'book', cardNumber: '4111111111111111' }), 201);
      assert.equal(await call('GET', '/orders/1', 'alice'), 200);
      assert.equal(await call('DELETE', '/orders/2', 'bob'), 404);
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0, output);
      assert.match(output, /"delivered":3/);
      assert.deepEqual(await readdir(spoolDir), []);

      await world.historyCaughtUp();
      const events: Record<string, unknown>[] = [];
      const pages = paginateLookupEvents(
        { client: world.cloudtrail() },
        { LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'orders.example.com' }] },
      );
      for await (const page of pages) {
        for (const e of page.Events ?? []) events.push(JSON.parse(e.CloudTrailEvent ?? '{}'));
      }
      const byName = Object.fromEntries(events.map((e) => [e['eventName'], e]));
      assert.deepEqual(Object.keys(byName).sort(), ['CancelOrder', 'CreateOrder', 'GetOrder']);
      assert.deepEqual(byName['CreateOrder']?.['requestParameters'], {
        item: 'book',
        cardNumber: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      });
      assert.deepEqual(byName['CreateOrder']?.['responseElements'], { orderId: '1' });
      assert.deepEqual(byName['CancelOrder']?.['userIdentity'], { type: 'IAMUser', userName: 'bob' });
      assert.equal(byName['CancelOrder']?.['errorCode'], '404');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LookupEventsCommand, paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import { createRecorder, HIDDEN, type RecorderError, type RecorderOptions } from '../../packages/recorder/src/index.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';
import {
  type AppMaker,
  eventually,
  identifyByHeader,
  makeExpressApp,
  makeFastifyApp,
  makeNodeHttpApp,
  ORDERS_OPERATIONS,
} from './orders-apps.ts';

/**
 * The recorder in a node:http server, an Express app and a Fastify app, against the real opentrail: each
 * request to an operation becomes a CloudTrail record that LookupEvents finds, with path, query and body
 * parameters (redacted where asked), the caller, the outcome and the request's own details.
 */

type Json = Record<string, unknown>;
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('the recorder in a host app', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let world: TestWorld;
  const dirs: string[] = [];

  before(async () => {
    server = await startTestServer();
    world = server.world;
  });
  after(async () => {
    await server.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** What LookupEvents finds of `eventSource` (event history is kept per Region, as on AWS). */
  async function eventsOf(eventSource: string, region = 'us-east-1'): Promise<Json[]> {
    await world.historyCaughtUp();
    const events: Json[] = [];
    const pages = paginateLookupEvents(
      { client: world.cloudtrail({ region }) },
      { LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: eventSource }] },
    );
    for await (const page of pages) {
      for (const e of page.Events ?? []) events.push(JSON.parse(e.CloudTrailEvent ?? '{}') as Json);
    }
    return events;
  }

  /** A recorder sending to the test server, with its own spool directory and the errors it reported. */
  async function testRecorder(options: Omit<RecorderOptions, 'endpoint' | 'credentials' | 'spoolDir' | 'onError'>) {
    const spoolDir = await mkdtemp(join(tmpdir(), 'recorder-spool-'));
    dirs.push(spoolDir);
    const errors: RecorderError[] = [];
    const recorder = createRecorder({
      endpoint: world.url,
      credentials: world.adminCredentials,
      spoolDir,
      onError: (e) => errors.push(e),
      ...options,
    });
    return { recorder, errors, spoolDir };
  }

  /** Drives the orders service built by `makeApp` and returns what opentrail recorded of it. */
  async function recordOrdersCalls(makeApp: AppMaker, eventSource: string) {
    const { recorder, errors, spoolDir } = await testRecorder({
      region: 'eu-west-1',
      eventSource,
      operations: ORDERS_OPERATIONS,
      identify: identifyByHeader,
      redact: ['password', 'cvv'],
    });
    const app = await makeApp(recorder);
    const headers = { 'x-user': 'alice', 'user-agent': 'orders-cli/1.0' };
    const call = async (method: string, path: string, body?: unknown, more: Record<string, string> = {}) => {
      const response = await fetch(`${app.url}${path}`, {
        method,
        headers: { ...headers, ...more, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    try {
      const body = { item: 'book', quantity: 2, password: 'hunter2', card: { number: '4111', cvv: '123' } };
      assert.equal(await call('POST', '/orders', body), 201);
      assert.equal(await call('GET', '/orders/o-1?verbose=true'), 200);
      assert.equal(await call('GET', '/orders/missing'), 404);
      assert.equal(await call('DELETE', '/orders/o%2D1', undefined, { 'x-request-id': 'req-123' }), 204);
      assert.equal(await call('POST', '/orders/o-1/refund', {}), 500);
      assert.equal(await call('GET', '/health'), 200);
    } finally {
      await app.close();
      await recorder.close();
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(await readdir(spoolDir), [], 'the spool is empty once opentrail has everything');
    const events = await eventsOf(eventSource, 'eu-west-1');
    const byName = new Map(events.map((e) => [e['eventName'] as string, e]));
    return { events, byName, stats: recorder.stats() };
  }

  function assertOrdersRecords(result: Awaited<ReturnType<typeof recordOrdersCalls>>, eventSource: string) {
    const { events, byName, stats } = result;
    assert.deepEqual(
      events.map((e) => e['eventName']).sort(),
      ['CancelOrder', 'CreateOrder', 'GetOrder', 'GetOrder', 'RefundOrder'],
      'one record per call to an operation, none for /health',
    );
    assert.deepEqual(stats, { recorded: 5, delivered: 5, rejected: 0, dropped: 0, spooledRecords: 0, spooledBytes: 0 });
    for (const e of events) {
      assert.equal(e['eventSource'], eventSource);
      assert.equal(e['eventVersion'], '1.11');
      assert.equal(e['eventType'], 'AwsApiCall');
      assert.equal(e['eventCategory'], 'Management');
      assert.equal(e['managementEvent'], true);
      assert.equal(e['awsRegion'], 'eu-west-1');
      assert.equal(e['recipientAccountId'], world.app.admin.accountId);
      assert.match(e['eventTime'] as string, EVENT_TIME);
      assert.match(e['eventID'] as string, /^[0-9a-f-]{36}$/);
      assert.deepEqual(e['userIdentity'], { type: 'IAMUser', userName: 'alice' });
      assert.equal(e['sourceIPAddress'], '127.0.0.1');
      assert.equal(e['userAgent'], 'orders-cli/1.0');
    }
    const created = byName.get('CreateOrder') as Json;
    assert.deepEqual(created['requestParameters'], {
      item: 'book',
      quantity: 2,
      password: HIDDEN,
      card: { number: '4111', cvv: HIDDEN },
    });
    assert.deepEqual(created['responseElements'], { orderId: 'o-1' });
    assert.equal(created['readOnly'], false);
    assert.equal(created['errorCode'], undefined);

    const [found, missing] = events
      .filter((e) => e['eventName'] === 'GetOrder')
      .sort((a, b) => (a['errorCode'] === undefined ? -1 : b['errorCode'] === undefined ? 1 : 0));
    assert.deepEqual(found?.['requestParameters'], { verbose: 'true', id: 'o-1' });
    assert.equal(found?.['readOnly'], true);
    assert.equal(found?.['responseElements'], null);
    assert.equal(missing?.['errorCode'], '404');
    assert.equal(missing?.['errorMessage'], 'Not Found');
    assert.deepEqual(missing?.['requestParameters'], { id: 'missing' });

    const cancelled = byName.get('CancelOrder') as Json;
    assert.deepEqual(cancelled['requestParameters'], { id: 'o-1' }, 'path parameters are decoded');
    assert.equal(cancelled['requestID'], 'req-123');
    assert.equal(cancelled['readOnly'], false);
    assert.equal(cancelled['errorCode'], undefined);

    const refund = byName.get('RefundOrder') as Json;
    assert.equal(refund['errorCode'], '500');
    assert.equal(refund['errorMessage'], 'Internal Server Error');
  }

  test('records the calls a node:http server serves, wrapped in one line', async () => {
    const source = 'orders-http.example.com';
    assertOrdersRecords(await recordOrdersCalls(makeNodeHttpApp, source), source);
  });

  test('records the calls an Express app serves, with app.use(recorder.express())', async () => {
    const source = 'orders-express.example.com';
    assertOrdersRecords(await recordOrdersCalls(makeExpressApp, source), source);
  });

  test('records the calls a Fastify app serves, with app.register(recorder.fastify)', async () => {
    const source = 'orders-fastify.example.com';
    assertOrdersRecords(await recordOrdersCalls(makeFastifyApp, source), source);
  });

  test('LookupEvents finds recorded calls by EventName', async () => {
    const source = 'orders-lookup.example.com';
    await recordOrdersCalls(makeExpressApp, source);
    const { Events = [] } = await world
      .cloudtrail({ region: 'eu-west-1' })
      .send(
        new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'RefundOrder' }] }),
      );
    assert.ok(Events.some((e) => e.EventSource === source && e.Username === 'alice'));
  });

  test('a request is still recorded when identify throws or the client leaves before the answer', async () => {
    const { recorder, errors } = await testRecorder({
      region: 'us-east-1',
      eventSource: 'fragile.example.com',
      operations: { 'GET /slow': 'WaitForever', 'GET /who': 'WhoAmI' },
      identify: (req) => {
        if (req.url === '/who') throw new Error('the session store is down');
        return { type: 'IAMUser', userName: 'carol' };
      },
    });
    const slow = createServer(
      recorder.wrap((req, res) => {
        if (req.url === '/who') res.end('you');
        // /slow never answers.
      }),
    );
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    try {
      const who = await fetch(`${slowUrl}/who`);
      assert.equal(await who.text(), 'you', 'the host answers as if nothing happened');
      await assert.rejects(fetch(`${slowUrl}/slow`, { signal: AbortSignal.timeout(200) }));
      await eventually('both requests recorded', () => recorder.stats().recorded === 2);
    } finally {
      slow.closeAllConnections();
      slow.close();
      await once(slow, 'close');
      await recorder.close();
    }
    assert.deepEqual(
      errors.map((e) => [e.name, e.message]),
      [['CaptureError', 'identify threw: the session store is down']],
    );
    const byName = new Map((await eventsOf('fragile.example.com')).map((e) => [e['eventName'], e]));
    assert.deepEqual(byName.get('WhoAmI')?.['userIdentity'], { type: 'Unknown' });
    assert.equal(byName.get('WhoAmI')?.['errorCode'], undefined);
    assert.equal(byName.get('WaitForever')?.['errorCode'], 'ConnectionClosed');
    assert.deepEqual(byName.get('WaitForever')?.['userIdentity'], { type: 'IAMUser', userName: 'carol' });
  });

  test('records events your code describes, and reports what it cannot record without throwing', async () => {
    const { recorder, errors } = await testRecorder({
      region: 'us-east-1',
      eventSource: 'jobs.example.com',
      operations: {},
    });
    const eventID = recorder.record({
      eventName: 'RunNightlyReport',
      userIdentity: { type: 'AWSService', invokedBy: 'scheduler.example.com' },
      requestParameters: { day: '2026-11-01' },
    });
    // A secret in what your code passes is hidden as a request's would be.
    const rotated = recorder.record({ eventName: 'RotateKey', requestParameters: { keyId: 'k-1', password: 'P4ss!' } });
    // JSON has no BigInt: such an event cannot be recorded, and says so.
    assert.equal(recorder.record({ eventName: 'Broken', requestParameters: { n: 10n } }), undefined);
    assert.equal(await recorder.flush(), true);
    await recorder.close();
    assert.deepEqual(
      errors.map((e) => e.name),
      ['CaptureError'],
    );
    const events = await eventsOf('jobs.example.com');
    const event = events.find((e) => e['eventID'] === eventID);
    assert.equal(events.length, 2);
    assert.deepEqual(events.find((e) => e['eventID'] === rotated)?.['requestParameters'], {
      keyId: 'k-1',
      password: 'HIDDEN_DUE_TO_SECURITY_REASONS',
    });
    assert.deepEqual(event?.['requestParameters'], { day: '2026-11-01' });
    assert.deepEqual(event?.['userIdentity'], { type: 'AWSService', invokedBy: 'scheduler.example.com' });
  });
});

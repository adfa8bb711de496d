import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { buildRecord, recordText } from '../../packages/recorder/src/build-record.ts';
import { clientAddress } from '../../packages/recorder/src/http-exchange.ts';
import { createRecorder, HIDDEN } from '../../packages/recorder/src/index.ts';
import { redact, redactionSet } from '../../packages/recorder/src/redact.ts';
import { requestParameters } from '../../packages/recorder/src/request-parameters.ts';
import { compileOperations } from '../../packages/recorder/src/route-map.ts';
import { backoffDelay } from '../../packages/recorder/src/shipper.ts';

/** The recorder's pure parts: route matching, redaction, request parameters, record shape, backoff, options. */

describe('the operation map', () => {
  const match = compileOperations({
    'POST /orders': 'CreateOrder',
    'GET /orders/:id': 'GetOrder',
    'GET /orders/summary': 'SummarizeOrders',
    'POST /orders/search': { eventName: 'SearchOrders', readOnly: true },
    'DELETE /orders/:id/items/:item': 'RemoveItem',
    '* /admin': 'Administer',
  });

  test('matches a method and path, capturing decoded path parameters', () => {
    assert.deepEqual(match('DELETE', '/orders/o%201/items/7'), {
      eventName: 'RemoveItem',
      readOnly: false,
      params: { id: 'o 1', item: '7' },
    });
    assert.deepEqual(match('POST', '/orders/'), { eventName: 'CreateOrder', readOnly: false, params: {} });
  });

  test('prefers the pattern with more literal segments, whatever the order', () => {
    assert.equal(match('GET', '/orders/summary')?.eventName, 'SummarizeOrders');
    assert.equal(match('GET', '/orders/o-1')?.eventName, 'GetOrder');
  });

  test('reads GET, HEAD and OPTIONS as read-only unless the map says otherwise', () => {
    assert.equal(match('GET', '/orders/o-1')?.readOnly, true);
    assert.equal(match('HEAD', '/orders/o-1')?.readOnly, true, 'HEAD is served by the GET route');
    assert.equal(match('POST', '/orders/search')?.readOnly, true);
    assert.equal(match('PUT', '/admin')?.readOnly, false);
  });

  test('matches literal segments whatever their case and percent-encoding, as Express and Fastify route them', () => {
    // Express ignores case and Fastify decodes before routing: the app answers these, so they are recorded.
    assert.equal(match('POST', '/ORDERS')?.eventName, 'CreateOrder');
    assert.equal(match('POST', '/%6Frders')?.eventName, 'CreateOrder');
    assert.equal(match('GET', '/Orders/SUMMARY')?.eventName, 'SummarizeOrders');
    assert.deepEqual(match('DELETE', '/ORDERS/O-1/Items/7'), {
      eventName: 'RemoveItem',
      readOnly: false,
      params: { id: 'O-1', item: '7' },
    });
  });

  test('does not match other methods or paths', () => {
    assert.equal(match('PUT', '/orders'), undefined);
    assert.equal(match('GET', '/orders/o-1/extra'), undefined);
    assert.equal(match('GET', '/health'), undefined);
  });

  test('refuses a malformed pattern when the recorder is created', () => {
    assert.throws(() => compileOperations({ '/orders': 'X' }), /'\/orders' is not 'METHOD \/path'/);
    assert.throws(() => compileOperations({ 'FETCH /orders': 'X' }), /is not 'METHOD \/path'/);
    assert.throws(() => compileOperations({ 'GET /orders': '' }), /needs a non-empty eventName/);
  });
});

describe('redaction', () => {
  test('hides the named members at any depth and in arrays, whatever their case', () => {
    const names = redactionSet(['password', 'cardNumber']);
    assert.deepEqual(
      redact(
        { user: 'a', Password: 'x', cards: [{ CARDNUMBER: '4111', kind: 'visa' }], nested: { password: { a: 1 } } },
        names,
      ),
      { user: 'a', Password: HIDDEN, cards: [{ CARDNUMBER: HIDDEN, kind: 'visa' }], nested: { password: HIDDEN } },
    );
  });

  test('merges query, body and path parameters, path parameters winning, and keeps an array body', () => {
    const none = redactionSet([]);
    assert.deepEqual(
      requestParameters(
        { query: new URLSearchParams('tag=a&tag=b&id=q'), body: { id: 'b', note: 'n' }, params: { id: 'p' } },
        none,
      ),
      { tag: ['a', 'b'], id: 'p', note: 'n' },
    );
    assert.deepEqual(requestParameters({ query: new URLSearchParams(), body: [1, 2], params: {} }, none), {
      body: [1, 2],
    });
    assert.equal(requestParameters({ query: new URLSearchParams(), body: undefined, params: {} }, none), null);
    // A body parsed as text has no member names to redact by: it is not recorded.
    assert.equal(requestParameters({ query: new URLSearchParams(), body: 'password=x', params: {} }, none), null);
  });

  test('hides query members whose nested names are secret (auth[token], user.password, password[])', () => {
    const recorded = requestParameters(
      {
        query: new URLSearchParams('auth[token]=Q1&user[password]=Q2&password[]=Q3&user.password=Q4&page[size]=5'),
        body: undefined,
        params: {},
      },
      redactionSet(['password', 'token']),
    );
    assert.deepEqual(recorded, {
      'auth[token]': HIDDEN,
      'user[password]': HIDDEN,
      'password[]': HIDDEN,
      'user.password': HIDDEN,
      'page[size]': '5',
    });
  });

  test('records members a client names __proto__ as members, touching no prototype', () => {
    const body = JSON.parse('{"__proto__":{"admin":true,"password":"x"},"name":"n"}');
    const recorded = requestParameters(
      { query: new URLSearchParams('__proto__=q'), body, params: {} },
      redactionSet(['password']),
    );
    assert.deepEqual(JSON.parse(JSON.stringify(recorded)), {
      ['__proto__']: { admin: true, password: HIDDEN },
      name: 'n',
    });
    assert.equal(Object.getPrototypeOf(recorded), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['admin'], undefined);
  });

  test('replaces parameters larger than CloudTrail keeps by a marker in the record', () => {
    const big = { text: 'x'.repeat(200 * 1024) };
    const recorded = requestParameters({ query: new URLSearchParams(), body: big, params: {} }, redactionSet([]));
    const defaults = { eventSource: 'orders.example.com', awsRegion: 'us-east-1', now: () => 0, newEventId: () => '' };
    const record = JSON.parse(recordText({ eventName: 'X', requestParameters: recorded }, defaults, 'id-1'));
    assert.deepEqual(record.requestParameters, { truncated: true, originalBytes: JSON.stringify(big).length });
    // additionalEventData over CloudTrail's 28 KB, which opentrail would refuse the whole record for.
    const extra = { note: 'y'.repeat(30 * 1024) };
    const withExtra = JSON.parse(recordText({ eventName: 'X', additionalEventData: extra }, defaults, 'id-2'));
    assert.deepEqual(withExtra.additionalEventData, { truncated: true, originalBytes: JSON.stringify(extra).length });
  });

  test('records a body nested 20,000 levels deep with its nesting cut, its secrets still hidden', () => {
    // JSON.parse (as body parsers use) reads it; walking or serialising it whole would run out of stack.
    const levels = 20_000;
    const body = JSON.parse(`{"password":"x","deep":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`);
    const recorded = requestParameters({ query: new URLSearchParams(), body, params: {} }, redactionSet(['password']));
    const defaults = { eventSource: 'orders.example.com', awsRegion: 'us-east-1', now: () => 0, newEventId: () => '' };
    const record = JSON.parse(recordText({ eventName: 'X', requestParameters: recorded }, defaults, 'id-1'));
    assert.equal(record.requestParameters.password, HIDDEN);
    assert.match(JSON.stringify(record.requestParameters.deep), /nested too deep to record/);
  });
});

describe('sourceIPAddress', () => {
  const req = (forwarded?: string) =>
    ({
      headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
      socket: { remoteAddress: '::ffff:10.0.0.2' },
    }) as unknown as IncomingMessage;

  test('is the peer, an IPv4 peer written without its IPv6 prefix', () => {
    assert.equal(clientAddress(req('203.0.113.9'), false), '10.0.0.2', 'X-Forwarded-For is ignored by default');
  });

  test('is the first X-Forwarded-For entry behind a trusted proxy', () => {
    assert.equal(clientAddress(req('203.0.113.9, 10.0.0.1'), true), '203.0.113.9');
    assert.equal(clientAddress(req(), true), '10.0.0.2');
  });
});

describe('the record', () => {
  test('is a management event in the ingest API shape, eventTime in whole seconds', () => {
    const record = buildRecord(
      { eventName: 'CreateOrder', eventTimeMs: Date.UTC(2026, 10, 1, 12, 30, 15, 987), userAgent: 'é'.repeat(600) },
      { eventSource: 'orders.example.com', awsRegion: 'us-east-1', now: () => 0, newEventId: () => 'id-1' },
    );
    assert.deepEqual(Object.keys(record), [
      'eventVersion',
      'userIdentity',
      'eventTime',
      'eventSource',
      'eventName',
      'awsRegion',
      'userAgent',
      'requestParameters',
      'responseElements',
      'requestID',
      'eventID',
      'readOnly',
      'eventType',
      'managementEvent',
      'eventCategory',
    ]);
    assert.equal(record.eventTime, '2026-11-01T12:30:15Z');
    assert.deepEqual(record.userIdentity, { type: 'Unknown' });
    assert.equal(Buffer.byteLength(record.userAgent ?? ''), 1024, 'userAgent is cut at 1 KB on a character boundary');
    assert.equal(record.requestID, 'id-1');
  });
});

describe('the record of text that is not Unicode', () => {
  test('holds U+FFFD for each half of a surrogate pair alone, which opentrail would refuse, and keeps pairs', () => {
    const defaults = { eventSource: 'orders.example.com', awsRegion: 'us-east-1', now: () => 0, newEventId: () => '' };
    const text = recordText(
      { eventName: 'X', requestParameters: { 'k\udc00': 'a\ud800b', pair: '\ud83d\ude00', slash: '\\ud800' } },
      defaults,
      'id-1',
    );
    assert.deepEqual(JSON.parse(text).requestParameters, { 'k\ufffd': 'a\ufffdb', pair: '😀', slash: '\\ud800' });
  });
});

describe('backoff', () => {
  test('doubles from the base up to the cap, waiting between half and all of each step', () => {
    const steps = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffDelay(n, 200, 30_000, () => 1));
    assert.deepEqual(steps, [200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000]);
    assert.equal(
      backoffDelay(3, 200, 30_000, () => 0),
      400,
    );
    assert.equal(
      backoffDelay(1000, 200, 30_000, () => 0.5),
      22_500,
    );
  });
});

describe('options', () => {
  const valid = {
    endpoint: 'http://127.0.0.1:4790',
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' },
    eventSource: 'orders.example.com',
    operations: {},
    spoolDir: '/tmp/unused-spool',
  };

  test('a mistake throws when the recorder is created, naming the option', () => {
    assert.throws(() => createRecorder({ ...valid, endpoint: 'ftp://x' }), /^TypeError: endpoint:/);
    assert.throws(() => createRecorder({ ...valid, region: 'europe' }), /^TypeError: region:/);
    assert.throws(() => createRecorder({ ...valid, eventSource: '' }), /^TypeError: eventSource:/);
    assert.throws(() => createRecorder({ ...valid, maxBatchRecords: 0 }), /^TypeError: maxBatchRecords:/);
    // The ingest API takes at most 10,000 records a call: a larger batch could never be delivered.
    assert.throws(
      () => createRecorder({ ...valid, maxBatchRecords: 10_001 }),
      /^TypeError: maxBatchRecords: at most 10000/,
    );
    assert.throws(
      () => createRecorder({ ...valid, maxBatchBytes: 1024, maxSpoolBytes: 1500 }),
      /^TypeError: maxSpoolBytes: must hold at least two batches/,
    );
    assert.throws(() => createRecorder({ ...valid, operations: { 'GET orders': 'X' } }), /^TypeError: operations:/);
  });
});

import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { buildRecord, recordJson } from '../../packages/recorder/src/build-record.ts';
import { requestTarget } from '../../packages/recorder/src/http-exchange.ts';
import { capped } from '../../packages/recorder/src/request-parameters.ts';
import { compileOperations } from '../../packages/recorder/src/route-map.ts';

/**
 * The shortcuts the recorder takes on each request's path give what the general way gives: a target read
 * without the URL parser, a route found by its literal path, a record serialised once.
 */

describe('the request target', () => {
  const parsed = (target: string) => {
    const url = new URL(target.startsWith('/') ? `http://localhost${target}` : target, 'http://localhost');
    return { path: url.pathname, query: [...url.searchParams] };
  };

  test('is the path and query node’s URL parser reads, whatever characters, dot segments or fragment it has', () => {
    for (const target of [
      '/hello',
      '/hello?',
      '/orders/o%201/items/7?tag=a&tag=b&flag',
      '//orders',
      '/a/./b',
      '/a/../b',
      '/a/%2e%2E/b',
      '/.well-known/x',
      '/x?q=a+b%20c&r=%C3%A9',
      '/x?q=é',
      '/x?q=Ã%A9',
      '/x?q=\'"<>`{}|^',
      '/x?q=%zz%',
      '/p;x=1@:!$&()*+,=',
      '/x?a=1#fragment',
      '/x/é',
      '/x\\y',
      'http://example.com/a/b?c=d',
    ]) {
      const { path, query } = requestTarget({ url: target } as IncomingMessage);
      assert.deepEqual({ path, query: [...new URLSearchParams(query)] }, parsed(target), target);
    }
  });

  test('is the original URL when a router has rewritten req.url', () => {
    const req = { url: '/42', originalUrl: '/orders/42?x=1' } as IncomingMessage & { originalUrl: string };
    assert.deepEqual(requestTarget(req), { path: '/orders/42', query: 'x=1' });
  });
});

describe('routes without parameters', () => {
  const match = compileOperations({
    '* /admin': 'Administer',
    'GET /admin': 'ReadAdmin',
    'GET /orders/:id': 'GetOrder',
    'GET /orders/latest': 'GetLatestOrder',
    'GET /': 'Home',
  });

  test('are found whatever empty segments the path has, the first listed winning a tie', () => {
    assert.equal(match('GET', '/admin')?.eventName, 'Administer');
    assert.equal(match('GET', '//orders//latest/')?.eventName, 'GetLatestOrder');
    assert.equal(match('HEAD', '/orders/latest')?.eventName, 'GetLatestOrder');
    assert.equal(match('GET', '/')?.eventName, 'Home');
    assert.deepEqual(match('GET', '/orders/7'), { eventName: 'GetOrder', readOnly: true, params: { id: '7' } });
    assert.equal(match('POST', '/orders/latest'), undefined);
  });
});

describe('the serialised record', () => {
  const defaults = {
    eventSource: 'orders.example.com',
    awsRegion: 'us-east-1',
    now: () => 0,
    newEventId: () => 'id-1',
  };
  const json = (members: Record<string, unknown>) =>
    JSON.parse(
      recordJson(buildRecord({ eventName: 'X', requestParameters: members, responseElements: members }, defaults)),
    );

  test('keeps members up to 100 KB and replaces larger ones by a marker, counting UTF-8 bytes', () => {
    for (const members of [
      { text: 'x'.repeat(1000) },
      { text: 'x'.repeat(34 * 1024) },
      { text: 'é'.repeat(45 * 1024) },
      { text: 'é'.repeat(60 * 1024) },
      { text: 'x'.repeat(200 * 1024) },
    ]) {
      const record = json(members);
      assert.deepEqual(record.requestParameters, capped(members));
      assert.deepEqual(record.responseElements, capped(members));
    }
    assert.deepEqual(json({ text: 'é'.repeat(60 * 1024) }).requestParameters, {
      truncated: true,
      originalBytes: Buffer.byteLength(JSON.stringify({ text: 'é'.repeat(60 * 1024) })),
    });
  });
});

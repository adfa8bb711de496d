import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { buildRecord, type RecordInput, recordJson, recordText } from '../../packages/recorder/src/build-record.ts';
import { requestTarget } from '../../packages/recorder/src/http-exchange.ts';
import { batchBody } from '../../packages/recorder/src/ingest-client.ts';
import { capped } from '../../packages/recorder/src/request-parameters.ts';
import { compileOperations } from '../../packages/recorder/src/route-map.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

/**
 * The shortcuts the recorder takes on each request's path give what the general way gives: a target read
 * without the URL parser, a route found by its literal path, a record written as text member by member.
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

describe('the record written as text', () => {
  /** Seeded, so a failure can be replayed. */
  function generator(seed: number) {
    const next = seededRandom(seed);
    const pick = <T>(options: readonly T[]): T => options[Math.floor(next() * options.length)] as T;
    const text = (): string =>
      pick([
        () => '',
        () => 'orders',
        () => 'quote " backslash \\ newline \n tab \t',
        () => 'é☃𝄞 \u0000\u001f \u2028',
        () => 'x'.repeat(1000 + Math.floor(next() * 100)),
        () => 'é'.repeat(300 + Math.floor(next() * 300)),
        () => String(Math.floor(next() * 1e9)),
      ])();
    const value = (depth: number): unknown =>
      pick([
        () => text(),
        () => next() * 1000,
        () => next() < 0.5,
        () => null,
        () => (depth > 2 ? 'leaf' : [value(depth + 1), value(depth + 1)]),
        () => (depth > 2 ? 'leaf' : members(depth + 1)),
      ])();
    const members = (depth: number): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 4); i > 0; i--)
        out[pick(['id', 'name', 'ünï', 'a"b', text().slice(0, 8)])] = value(depth);
      return out;
    };
    const maybe = <T>(make: () => T): T | undefined => (next() < 0.5 ? make() : undefined);
    const big = () => ({ text: pick(['x', 'é', '𝄞']).repeat(20_000 + Math.floor(next() * 60_000)) });
    return (): RecordInput => ({
      eventName: pick(['CreateOrder', 'Get"Order', 'é']),
      userIdentity: pick([undefined, { type: 'IAMUser', userName: text() }, { type: 'Unknown' }]),
      eventTimeMs: maybe(() => Math.floor(next() * 2e12)),
      sourceIPAddress: maybe(text),
      userAgent: maybe(text),
      errorCode: maybe(text),
      errorMessage: maybe(text),
      requestParameters: pick([undefined, null, () => members(0), big]) as RecordInput['requestParameters'],
      responseElements: pick([undefined, null, () => members(0), big]) as RecordInput['responseElements'],
      additionalEventData: maybe(() => members(0)),
      resources: pick([undefined, [], [{ ARN: 'arn:aws:orders:us-east-1:111122223333:order/1', type: 'Order' }]]),
      requestID: maybe(text),
      readOnly: pick([undefined, true, false]),
    });
  }

  test('is, character for character, the record built and serialised the general way', () => {
    const next = generator(20261206);
    const defaults = { eventSource: 'orders.example.com', awsRegion: 'us-east-1', now: () => 1_800_000_000_000 };
    for (let i = 0; i < 2_000; i++) {
      const raw = next();
      // The generator hands out functions for the members to build lazily.
      const input = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [k, typeof v === 'function' ? (v as () => unknown)() : v]),
      ) as unknown as RecordInput;
      const eventID = `id-${i}`;
      const expected = recordJson(buildRecord(input, { ...defaults, newEventId: () => eventID }));
      assert.equal(recordText(input, { ...defaults, newEventId: () => 'unused' }, eventID), expected, `input ${i}`);
    }
  });
});

describe('the batch body', () => {
  test('is {"Records":[…]} of the spool’s newline-ended lines, however they are split into chunks', () => {
    const records = [{ a: 1 }, { text: 'é☃𝄞 "quoted"\n on two lines' }, { n: null }, {}];
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    for (const chunks of [
      [Buffer.from(text)],
      records.map((r) => Buffer.from(`${JSON.stringify(r)}\n`)),
      [Buffer.from(text.slice(0, 3 + text.indexOf('\n'))), Buffer.from(text.slice(3 + text.indexOf('\n')))],
    ]) {
      const body = batchBody(chunks);
      assert.deepEqual(JSON.parse(body.toString('utf8')), { Records: records });
      assert.equal(body.toString('utf8'), `{"Records":[${records.map((r) => JSON.stringify(r)).join(',')}]}`);
    }
  });
});

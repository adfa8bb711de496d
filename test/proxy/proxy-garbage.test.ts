import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { describe, it } from 'node:test';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { Json } from '../delivery/delivered-files.ts';
import { useMoto } from '../helpers/moto.ts';
import { rawRequest } from '../helpers/signed-request.ts';
import { history, withProxy } from './proxy-world.ts';

const moto = useMoto();

/** Sends exactly these bytes of request head and body; resolves with the status (0 when the socket closed). */
function sendRaw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const req = request({ hostname, port, method, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

describe('garbage sent to the recording proxy', () => {
  it('answers malformed signatures, paths and bodies with client errors, never a 500, and keeps serving', () =>
    withProxy(moto.endpoint, async (p) => {
      const scope = `${p.w.adminCredentials.accessKeyId}/20260101/us-east-1`;
      const cases: [string, string, Record<string, string>, string?][] = [
        ['PUT', '/b', { authorization: `AWS4-HMAC-SHA256 Credential=${scope}/s3/aws4_request` }],
        [
          'PUT',
          '/b',
          { authorization: `AWS4-HMAC-SHA256 Credential=${scope}/s3/aws4_request, SignedHeaders=host, Signature=00` },
        ],
        [
          'PUT',
          '/b/%E0%A4%A',
          {
            authorization: `AWS4-HMAC-SHA256 Credential=${scope}/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
            'x-amz-date': 'yesterday',
          },
        ],
        [
          'POST',
          '/',
          {
            authorization: `AWS4-HMAC-SHA256 Credential=${scope}/dynamodb/aws4_request, SignedHeaders=host, Signature=00`,
            'x-amz-target': 'DynamoDB_20120810.',
            'content-type': 'application/x-amz-json-1.0',
          },
          '{not json',
        ],
        [
          'POST',
          '/',
          {
            authorization: `AWS4-HMAC-SHA256 Credential=${scope}/iam/aws4_request, SignedHeaders=host, Signature=00`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          'Action=&&&==%ZZ',
        ],
        [
          'GET',
          '/?Action=ListUsers',
          {
            authorization: `AWS4-HMAC-SHA256 Credential=${scope}/nosuchservice/aws4_request, SignedHeaders=host, Signature=00`,
          },
        ],
      ];
      for (const [method, path, headers, body] of cases) {
        const status = await sendRaw(p.w.url, method, path, headers, body);
        assert.ok(status >= 400 && status < 500, `${method} ${path} answered ${status}`);
      }
      // Correctly signed, for a service nobody knows: forwarded, and the upstream's answer returned.
      const unknown = await rawRequest({
        url: p.w.url,
        service: 'nosuchservice',
        target: 'Nope_20200101.DoThing',
        credentials: p.w.adminCredentials,
        signingDate: new Date(p.clock.now()),
      });
      // moto fails on it (500): that answer is passed on as it came, and is not opentrail's.
      assert.match(unknown.headers.get('server') ?? '', /Werkzeug/, `${unknown.status} came from the upstream`);
      const health = await fetch(`${p.w.url}/health`);
      assert.equal(health.status, 200, 'the server still serves');
    }));

  it('passes on the answer to a body nested 20,000 levels deep, and records the call with the nesting cut', () =>
    withProxy(moto.endpoint, async (p) => {
      await p.dynamodb().send(
        new CreateTableCommand({
          TableName: 'Deep',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      // Written as text: JSON.stringify runs out of stack on an object this deep, JSON.parse does not.
      const levels = 20_000;
      const deep = `${'{"M":{"a":'.repeat(levels)}{"S":"x"}${'}}'.repeat(levels)}`;
      // A member no model has, on a call whose members are recorded as sent (an item's values never are).
      const res = await rawRequest({
        url: p.w.url,
        service: 'dynamodb',
        target: 'DynamoDB_20120810.UpdateTable',
        contentType: 'application/x-amz-json-1.0',
        body: `{"TableName":"Deep","BillingMode":"PAY_PER_REQUEST","Deep":${deep}}`,
        credentials: p.w.adminCredentials,
        signingDate: new Date(p.clock.now()),
      });
      // moto fails on it (500 from Werkzeug): passed on as it came; a 500 of opentrail's own would not be.
      assert.ok(
        res.status < 500 || /Werkzeug/.test(res.headers.get('server') ?? ''),
        `${res.status} ${res.text.slice(0, 200)}`,
      );
      assert.equal((await fetch(`${p.w.url}/health`)).status, 200, 'the server still serves');
      const update = (await history(p.w, 'dynamodb.amazonaws.com')).find((r) => r['eventName'] === 'UpdateTable');
      assert.ok(update !== undefined, 'the call is recorded');
      const params = update['requestParameters'] as Json;
      assert.equal(params['tableName'], 'Deep');
      assert.match(JSON.stringify(params['deep']), /nested too deep to record/);
      if (res.status >= 300) assert.equal(typeof update['errorCode'], 'string');
    }));

  it("records a call whose answer is nested 20,000 levels deep, the answer's nesting cut", async () => {
    // moto cannot send such an answer; any other upstream can.
    const levels = 20_000;
    const deep = `${'{"M":{"a":'.repeat(levels)}{"S":"x"}${'}}'.repeat(levels)}`;
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(`{"TableDescription":{"deep":${deep},"password":"hunter2"}}`);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as { port: number }).port;
    try {
      await withProxy(
        moto.endpoint,
        async (p) => {
          const res = await rawRequest({
            url: p.w.url,
            service: 'dynamodb',
            target: 'DynamoDB_20120810.UpdateTable',
            contentType: 'application/x-amz-json-1.0',
            body: '{"TableName":"Deep","BillingMode":"PAY_PER_REQUEST"}',
            credentials: p.w.adminCredentials,
            signingDate: new Date(p.clock.now()),
          });
          assert.equal(res.status, 200, 'the answer is passed on');
          const update = (await history(p.w, 'dynamodb.amazonaws.com')).find((r) => r['eventName'] === 'UpdateTable');
          assert.ok(update !== undefined, 'the call is recorded');
          const answer = JSON.stringify(update['responseElements']);
          assert.match(answer, /nested too deep to record/);
          assert.doesNotMatch(answer, /hunter2/, 'secrets beside the deep member are still hidden');
        },
        ['--upstream', `dynamodb=http://127.0.0.1:${port}`],
      );
    } finally {
      upstream.close();
    }
  });
});

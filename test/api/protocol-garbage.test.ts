import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { ADMIN_SIGNING_NAME, ADMIN_TARGET_PREFIX } from '../../src/api/admin-api.ts';
import { seededUint32 } from '../helpers/seeded-random.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';
import { JSON_11, type RawResponse, rawRequest, SDK_PREFIX } from '../helpers/signed-request.ts';

/**
 * Whatever arrives, the answer is an AWS JSON error with a 4xx status, never a 500: random bytes, deep
 * nesting, NUL bytes, huge bodies, odd content types (facts §1.3). Bodies are signed, so they reach the
 * parser and the validator rather than stopping at authentication.
 */
let world: TestWorld;
let stop: () => Promise<void>;
const MB = 1024 * 1024;
/** src/app.ts BODY_LIMIT_BYTES. */
const BODY_LIMIT_BYTES = 32 * MB;

before(async () => {
  ({ world, stop } = await startTestServer());
});
after(() => stop());

function send(operation: string, body: string | Buffer, contentType?: string | null) {
  return rawRequest({
    url: world.url,
    credentials: world.adminCredentials,
    target: `${SDK_PREFIX}.${operation}`,
    body,
    ...(contentType !== undefined ? { contentType } : {}),
  });
}

function assertClientError(response: RawResponse, status: number, type: string, message?: RegExp): void {
  assert.equal(
    response.status,
    status,
    `expected ${status} ${type}, got ${response.status}: ${response.text.slice(0, 300)}`,
  );
  assert.ok(response.json, `the body is JSON: ${response.text.slice(0, 300)}`);
  assert.deepEqual(Object.keys(response.json).sort(), ['__type', 'message']);
  assert.equal(response.json['__type'], type);
  if (message) assert.match(String(response.json['message']), message);
  assert.equal(response.headers.get('content-type'), JSON_11);
}

/** Seeded bytes, so a failing body can be reproduced from its seed. */
function randomBytes(seed: number, length: number): Buffer {
  const next = seededUint32(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

const nested = (depth: number, open: string, close: string, inner = '') =>
  open.repeat(depth) + inner + close.repeat(depth);

describe('garbage bodies', () => {
  it('answers random bytes with SerializationException', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const body = randomBytes(seed, 1 + ((seed * 97) % 2000));
      const response = await send('CreateTrail', body);
      assertClientError(response, 400, 'SerializationException', /JSON/);
    }
  });

  it('answers NUL bytes, raw or inside a string, with SerializationException', async () => {
    assertClientError(
      await send('ListTrails', Buffer.from([0, 0, 0, 0])),
      400,
      'SerializationException',
      /not valid JSON/,
    );
    const rawNul = Buffer.from('{"Name":"a\u0000b"}');
    assertClientError(await send('GetTrail', rawNul), 400, 'SerializationException', /not valid JSON/);
  });

  it('treats an escaped NUL in a trail name as an invalid trail name', async () => {
    const response = await send('GetTrail', JSON.stringify({ Name: 'a\u0000b' }));
    assertClientError(response, 400, 'InvalidTrailNameException', /can only contain/);
  });

  it('answers deeply nested arrays with SerializationException', async () => {
    const response = await send('ListTrails', nested(100_000, '[', ']'));
    assertClientError(response, 400, 'SerializationException', /must be a JSON object/);
  });

  it('ignores a deeply nested unknown member, as it ignores any unknown member', async () => {
    const response = await send('ListTrails', `{"Deep":${nested(100_000, '{"x":', '}', '1')}}`);
    assert.equal(response.status, 200, response.text);
  });

  it('answers a deeply nested unknown member in an invalid request with the validation error', async () => {
    const deep = nested(100_000, '{"x":', '}', '1');
    assertClientError(await send('GetTrail', `{"Deep":${deep}}`), 400, 'ValidationException', /'name'/);
    assertClientError(await send('GetTrail', `{"Name":5,"Deep":${deep}}`), 400, 'SerializationException', /'name'/);
  });

  it('answers a deeply nested request to the model-less admin API without a 500', async () => {
    const response = await rawRequest({
      url: world.url,
      credentials: world.adminCredentials,
      service: ADMIN_SIGNING_NAME,
      target: `${ADMIN_TARGET_PREFIX}.ListAccounts`,
      body: `{"Deep":${nested(100_000, '[', ']')}}`,
    });
    assert.equal(response.status, 200, response.text);
  });

  it('answers an over-long list holding deep nesting with TagsLimitExceededException', async () => {
    const tags = `${'{"Key":"k","Value":"v"},'.repeat(200)}{"Key":"k","x":${nested(100_000, '[', ']')}}`;
    const body = `{"ResourceId":"arn:aws:cloudtrail:us-east-1:123456789012:trail/t","TagsList":[${tags}]}`;
    const response = await send('AddTags', body);
    assertClientError(response, 400, 'TagsLimitExceededException', /'tagsList' .*less than or equal to 200/);
  });

  it('answers a 1.5 MB garbage body with SerializationException', async () => {
    const response = await send('ListTrails', randomBytes(7, 1.5 * MB));
    assertClientError(response, 400, 'SerializationException', /not valid JSON/);
  });

  it('answers a 1.5 MB trail name with InvalidTrailNameException', async () => {
    const response = await send('GetTrail', JSON.stringify({ Name: 'x'.repeat(1.5 * MB) }));
    assertClientError(response, 400, 'InvalidTrailNameException', /Maximum allowed length: 128/);
  });

  it('answers a CloudTrail request over 2 MB with 413 RequestEntityTooLargeException, without parsing it', async () => {
    const response = await send('ListTrails', randomBytes(7, 2 * MB + 1));
    assertClientError(response, 413, 'RequestEntityTooLargeException', /at most 2097152 bytes/);
  });

  it('answers a body just over the 32 MB limit with 413 RequestEntityTooLargeException', async () => {
    const response = await send('ListTrails', Buffer.alloc(BODY_LIMIT_BYTES + 1, 0x20));
    assertClientError(response, 413, 'RequestEntityTooLargeException', /larger than 33554432 bytes/);
  });

  it('answers garbage without a signature with 403 MissingAuthenticationTokenException', async () => {
    const response = await rawRequest({
      url: world.url,
      credentials: null,
      target: `${SDK_PREFIX}.ListTrails`,
      body: randomBytes(3, 500),
    });
    assertClientError(response, 403, 'MissingAuthenticationTokenException', /Missing Authentication Token/);
  });
});

/** Sends raw bytes and reads the whole answer, for requests no HTTP client would send. */
async function rawHttp(text: string): Promise<{ status: number; headers: string; body: string }> {
  const url = new URL(world.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.end(text);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const answer = Buffer.concat(chunks).toString();
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body };
}

describe('requests the HTTP parser refuses', () => {
  it('are answered in the AWS JSON shape, with the reason', async () => {
    const cases: [string, number, RegExp][] = [
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400, /not valid HTTP: HPE_/],
      ['FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 400, /not valid HTTP: HPE_/],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /larger than 16 KB/],
    ];
    for (const [text, status, message] of cases) {
      const answer = await rawHttp(text);
      assert.equal(answer.status, status, answer.body);
      assert.match(answer.headers, /content-type: application\/x-amz-json-1\.1/);
      assert.match(answer.headers, /x-amzn-errortype: serializationexception/);
      const json = JSON.parse(answer.body) as { __type: string; message: string };
      assert.deepEqual(Object.keys(json).sort(), ['__type', 'message']);
      assert.equal(json.__type, 'SerializationException');
      assert.match(json.message, message);
    }
  });
});

describe('content types', () => {
  it('parses the body whatever Content-Type says, as the signed bytes are what count', async () => {
    for (const type of ['application/json', 'text/plain', 'application/octet-stream', null]) {
      const response = await send('ListTrails', '{}', type);
      assert.equal(response.status, 200, `${type}: ${response.text}`);
    }
  });

  it('answers garbage sent as application/json with SerializationException', async () => {
    const response = await send('ListTrails', '{nope', 'application/json');
    assertClientError(response, 400, 'SerializationException', /not valid JSON/);
  });
});

describe('what garbage leaves in event history', () => {
  it('records a rejected call with the members the model knows, never the raw body', async () => {
    const response = await send('GetTrail', JSON.stringify({ Name: 5, Junk: 'j'.repeat(1000) }));
    assertClientError(response, 400, 'SerializationException');
    const invalid = await send('GetEventSelectors', JSON.stringify({ Junk: 'j'.repeat(1000) }));
    assertClientError(invalid, 400, 'ValidationException', /'trailName'/);
    await world.historyCaughtUp();
    const found = await world.cloudtrail().send(new LookupEventsCommand({}));
    const recorded = (found.Events ?? []).filter(
      (e) => e.EventName === 'GetTrail' || e.EventName === 'GetEventSelectors',
    );
    assert.ok(recorded.length >= 2, 'both rejected calls are recorded');
    for (const event of recorded) {
      const record = JSON.parse(event.CloudTrailEvent ?? '{}') as Record<string, unknown>;
      assert.ok(!JSON.stringify(record).includes('jjjj'), `no unknown member recorded: ${event.CloudTrailEvent}`);
    }
  });
});

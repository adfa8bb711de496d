import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_SIGNING_NAME, ADMIN_TARGET_PREFIX } from '../../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../../src/api/ingest-api.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';
import {
  BOTOCORE_PREFIX,
  JSON_11,
  type RawRequestOptions,
  type RawResponse,
  rawRequest,
  SDK_PREFIX,
} from '../helpers/signed-request.ts';

/**
 * The AWS JSON 1.1 request ladder (facts §1.1, §1.3), driven over real HTTP with requests signed by the
 * AWS SDK's SigV4 signer: routing by X-Amz-Target, body parsing, model validation, and the wire shape
 * of answers. Garbage bodies and limits are in protocol-garbage.test.ts.
 */
let world: TestWorld;
let stop: () => Promise<void>;

before(async () => {
  ({ world, stop } = await startTestServer());
});
after(() => stop());

function call(operation: string, body: unknown, options: Partial<RawRequestOptions> = {}): Promise<RawResponse> {
  return rawRequest({
    url: world.url,
    credentials: world.adminCredentials,
    target: `${SDK_PREFIX}.${operation}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...options,
  });
}

/** An AWS JSON error: the status, a body of exactly `__type` and `message`, and the message's advice. */
function assertError(response: RawResponse, status: number, type: string, message: RegExp): void {
  assert.equal(response.status, status, `expected ${status} ${type}, got ${response.status}: ${response.text}`);
  assert.equal(response.headers.get('content-type'), JSON_11);
  assert.ok(response.headers.get('x-amzn-requestid'), 'errors carry x-amzn-RequestId');
  assert.deepEqual(Object.keys(response.json ?? {}).sort(), ['__type', 'message'], response.text);
  assert.equal(response.json?.['__type'], type, response.text);
  assert.match(String(response.json?.['message']), message);
}

describe('routing by X-Amz-Target', () => {
  it('answers the short target prefix the JS SDK sends', async () => {
    const response = await call('ListTrails', {});
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.json, { Trails: [] });
  });

  it('answers the long target prefix botocore sends', async () => {
    const response = await call('ListTrails', {}, { target: `${BOTOCORE_PREFIX}.ListTrails` });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.json, { Trails: [] });
  });

  it('rejects an operation the CloudTrail API does not have with UnknownOperationException', async () => {
    assertError(await call('Frobnicate', {}), 400, 'UnknownOperationException', /Frobnicate is not an operation/);
    const botocore = await call('Frobnicate', {}, { target: `${BOTOCORE_PREFIX}.Frobnicate` });
    assertError(botocore, 400, 'UnknownOperationException', /Frobnicate/);
  });

  it('rejects the names every JavaScript object inherits as unknown operations, on every JSON API', async () => {
    const apis = [
      { prefix: SDK_PREFIX, service: 'cloudtrail' },
      { prefix: INGEST_TARGET_PREFIX, service: ADMIN_SIGNING_NAME },
      { prefix: ADMIN_TARGET_PREFIX, service: ADMIN_SIGNING_NAME },
    ];
    for (const { prefix, service } of apis) {
      for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
        const response = await call(name, {}, { target: `${prefix}.${name}`, service });
        assertError(response, 400, 'UnknownOperationException', new RegExp(`${name} is not an operation`));
      }
    }
  });

  it('rejects a target prefix no API answers to with UnknownOperationException', async () => {
    const response = await call('ListTrails', {}, { target: 'DynamoDB_20120810.ListTables' });
    assertError(response, 400, 'UnknownOperationException', /Unknown operation DynamoDB_20120810\.ListTables/);
    const bare = await call('ListTrails', {}, { target: 'ListTrails' });
    assertError(bare, 400, 'UnknownOperationException', /Unknown operation ListTrails/);
  });

  it('rejects a request without X-Amz-Target with UnknownOperationException', async () => {
    const response = await rawRequest({ url: world.url, credentials: world.adminCredentials, body: '{}' });
    assertError(response, 400, 'UnknownOperationException', /no X-Amz-Target header/);
  });
});

describe('parsing the body', () => {
  it('rejects malformed JSON with SerializationException', async () => {
    assertError(await call('ListTrails', '{"NextToken": '), 400, 'SerializationException', /not valid JSON/);
    assertError(await call('ListTrails', "{'single': 'quotes'}"), 400, 'SerializationException', /not valid JSON/);
  });

  it('rejects a body that is JSON but not an object with SerializationException', async () => {
    for (const body of ['[]', '[{"Name":"t"}]', 'null', '"text"', '42', 'true']) {
      assertError(await call('ListTrails', body), 400, 'SerializationException', /must be a JSON object/);
    }
  });

  it('treats an empty body as an empty object', async () => {
    const listed = await call('ListTrails', '');
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json, { Trails: [] });
    const trailless = await call('GetTrail', '');
    assertError(trailless, 400, 'ValidationException', /Value null at 'name'/);
  });

  it('rejects a string where the model wants a boolean with SerializationException naming the member', async () => {
    const response = await call('CreateTrail', { Name: 'typed', S3BucketName: 'b', IsMultiRegionTrail: 'yes' });
    assertError(
      response,
      400,
      'SerializationException',
      /Expected a boolean .* at 'isMultiRegionTrail'.*found a string/,
    );
  });

  it('rejects a number where the model wants a string with SerializationException naming the member', async () => {
    const response = await call('GetTrail', { Name: 42 });
    assertError(response, 400, 'SerializationException', /Expected a string at 'name', but found a number/);
  });

  it('rejects an object where the model wants a list with SerializationException naming the member', async () => {
    const response = await call('DescribeTrails', { trailNameList: { first: 'a' } });
    assertError(response, 400, 'SerializationException', /Expected a list at 'trailNameList', but found an object/);
  });

  it('names the member path inside lists when an item has the wrong type', async () => {
    const response = await call('LookupEvents', {
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: ['CreateTrail'] }],
    });
    assertError(response, 400, 'SerializationException', /'lookupAttributes\.1\.member\.attributeValue'/);
  });

  it('rejects a timestamp that is neither epoch seconds nor ISO-8601 with SerializationException', async () => {
    const response = await call('LookupEvents', { StartTime: 'yesterday' });
    assertError(response, 400, 'SerializationException', /'startTime' is not a timestamp; send epoch seconds/);
  });

  it('ignores members the model does not have, as AWS does', async () => {
    const response = await call('ListTrails', { Frobnicate: true, nested: { deep: [1, 2, 3] } });
    assert.equal(response.status, 200, response.text);
  });
});

describe('validating against the model', () => {
  it('rejects CreateTrail without S3BucketName with AWS validation text', async () => {
    const response = await call('CreateTrail', { Name: 'no-bucket' });
    assertError(
      response,
      400,
      'ValidationException',
      /^1 validation error detected: Value null at 's3BucketName' failed to satisfy constraint: Member must not be null$/,
    );
  });

  it('rejects GetTrail without Name with AWS validation text', async () => {
    const response = await call('GetTrail', {});
    assertError(
      response,
      400,
      'ValidationException',
      /^1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null$/,
    );
  });

  it('treats an explicit null as a missing member', async () => {
    const response = await call('GetTrail', { Name: null });
    assertError(response, 400, 'ValidationException', /Value null at 'name'.*Member must not be null/);
  });

  it('lists every constraint a value breaks in one ValidationException', async () => {
    const response = await call('GetInsightSelectors', { EventDataStore: '!' });
    assertError(
      response,
      400,
      'ValidationException',
      /^2 validation errors detected: Value '!' at 'eventDataStore' failed to satisfy constraint: Member must have length greater than or equal to 3; Value '!' at 'eventDataStore' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
    );
  });

  it('answers LookupEvents MaxResults over 50 with InvalidMaxResultsException', async () => {
    const response = await call('LookupEvents', { MaxResults: 51 });
    assertError(
      response,
      400,
      'InvalidMaxResultsException',
      /^1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50$/,
    );
  });

  it('answers an unknown LookupAttributes AttributeKey with InvalidLookupAttributesException', async () => {
    const response = await call('LookupEvents', {
      LookupAttributes: [{ AttributeKey: 'EventColour', AttributeValue: 'blue' }],
    });
    assertError(
      response,
      400,
      'InvalidLookupAttributesException',
      /Value 'EventColour' at 'lookupAttributes\.1\.member\.attributeKey' failed to satisfy constraint: Member must satisfy enum value set: \[EventId, EventName, /,
    );
  });

  it("answers EventCategory 'foo' with InvalidEventCategoryException", async () => {
    const response = await call('LookupEvents', { EventCategory: 'foo' });
    assertError(
      response,
      400,
      'InvalidEventCategoryException',
      /Value 'foo' at 'eventCategory' failed to satisfy constraint: Member must satisfy enum value set: \[insight\]/,
    );
  });

  it('answers a 129-character tag key in AddTags with InvalidTagParameterException', async () => {
    const created = await call('CreateTrail', { Name: 'tagged', S3BucketName: 'tag-bucket' });
    assert.equal(created.status, 200, created.text);
    const response = await call('AddTags', {
      ResourceId: created.json?.['TrailARN'],
      TagsList: [{ Key: 'k'.repeat(129), Value: 'v' }],
    });
    assertError(
      response,
      400,
      'InvalidTagParameterException',
      /at 'tagsList\.1\.member\.key' failed to satisfy constraint: Member must have length less than or equal to 128/,
    );
  });
});

describe('operations of the model that opentrail does not implement', () => {
  // GenerateQuery (natural-language prompts) is a gen-AI feature a self-hosted build leaves out (facts §8.7).
  const generate = { EventDataStores: ['arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/x'], Prompt: 'who?' };

  it('answers GenerateQuery with UnsupportedOperationException once the caller is authenticated', async () => {
    const response = await call('GenerateQuery', generate);
    assertError(response, 400, 'UnsupportedOperationException', /GenerateQuery .*does not support it/);
  });

  it('authenticates GenerateQuery before saying it is unsupported', async () => {
    const response = await call('GenerateQuery', generate, { credentials: null });
    assertError(response, 403, 'MissingAuthenticationTokenException', /Missing Authentication Token/);
  });
});

describe('successful responses', () => {
  it('carry the AWS JSON content type, a request id, and timestamps as epoch-second numbers', async () => {
    const created = await call('CreateTrail', { Name: 'timed', S3BucketName: 'timed-bucket' });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.headers.get('content-type'), JSON_11);
    assert.match(
      created.headers.get('x-amzn-requestid') ?? '',
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    const started = await call('StartLogging', { Name: 'timed' });
    assert.equal(started.status, 200, started.text);
    assert.deepEqual(started.json, {});
    const nowSeconds = Date.now() / 1000;
    const status = await call('GetTrailStatus', { Name: 'timed' });
    assert.equal(status.status, 200, status.text);
    const startTime = status.json?.['StartLoggingTime'];
    assert.equal(typeof startTime, 'number', `StartLoggingTime on the wire: ${status.text}`);
    assert.ok(Math.abs((startTime as number) - nowSeconds) < 60, `${startTime} is epoch seconds near ${nowSeconds}`);
    assert.match(status.text, /"StartLoggingTime":\d+(\.\d+)?[,}]/);
    assert.equal(status.json?.['IsLogging'], true);
  });

  it('give every request its own request id', async () => {
    const [a, b] = await Promise.all([call('ListTrails', {}), call('ListTrails', {})]);
    assert.notEqual(a.headers.get('x-amzn-requestid'), b.headers.get('x-amzn-requestid'));
  });
});

describe('routes outside the AWS protocols', () => {
  it('answers GET /health with 200 without authentication', async () => {
    const response = await fetch(new URL('/health', world.url));
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body['status'], 'ok');
  });

  it('answers an unknown path with a 404 JSON error', async () => {
    for (const [method, path] of [
      ['POST', '/2013-11-01/trails'],
      ['POST', '/nope'],
      ['DELETE', '/'],
    ] as const) {
      const response = await fetch(new URL(path, world.url), { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body['__type'], 'NotFoundException');
      assert.match(String(body['message']), new RegExp(`No route for ${method} ${path}`));
    }
  });

  it('answers any other unsigned GET as S3 answers an anonymous read: the local store serves S3 reads', async () => {
    for (const path of ['/nope', '/']) {
      const response = await fetch(new URL(path, world.url));
      assert.equal(response.status, 403, path);
      assert.match(await response.text(), /<Code>AccessDenied<\/Code>/, path);
    }
  });
});

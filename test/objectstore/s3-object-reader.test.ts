import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ObjectStoreError, S3ObjectReader, S3ObjectStore } from '../../src/objectstore/index.ts';
import { MOTO_CREDENTIALS, useMoto } from '../helpers/moto.ts';
import { assertStoreError } from '../helpers/object-store-contract.ts';

/**
 * The CLI's bare S3 reader against the SDK-backed store it stands in for: whatever the store wrote, the reader
 * reads back as the store does, and fails with the same codes and messages.
 */
const moto = useMoto();
const BUCKET = 'reader-bucket';
/** Keys S3 paths and SigV4 must encode: spaces, reserved and unreserved marks, non-ASCII, XML's specials. */
const KEYS = [
  'AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/123456789012_CloudTrail_us-east-1_20260101T0000Z_abcdefghijklmnop.json.gz',
  'plain',
  'with space/and+plus',
  "marks !'()*~-_.",
  'percent%20and=equals?&hash#',
  'xml <&> "quoted"',
  'unicode/é😀',
];

async function withWorld(fn: (store: S3ObjectStore, reader: S3ObjectReader) => Promise<void>): Promise<void> {
  const response = await fetch(`${moto.endpoint()}/moto-api/reset`, { method: 'POST' });
  assert.equal(response.status, 200);
  const options = { endpoint: moto.endpoint(), region: 'us-east-1', ...MOTO_CREDENTIALS };
  const store = new S3ObjectStore(options);
  const reader = new S3ObjectReader(options);
  try {
    await store.createBucket(BUCKET);
    await fn(store, reader);
  } finally {
    reader.close();
    store.close();
  }
}

describe('S3 object reader', () => {
  it('reads every object as the S3 object store does: bytes, type, encoding, metadata', () =>
    withWorld(async (store, reader) => {
      for (const [i, key] of KEYS.entries()) {
        await store.putObject({
          bucket: BUCKET,
          key,
          body: gzipSync(key),
          ...(i % 2 === 0 ? { contentType: 'application/json', contentEncoding: 'gzip' } : {}),
          metadata: { signature: `sig-${i}`, 'signature-algorithm': 'SHA256withRSA' },
        });
      }
      for (const key of KEYS) {
        const [ours, theirs] = [await reader.getObject(BUCKET, key), await store.getObject(BUCKET, key)];
        // A Buffer (node's Uint8Array) beside the SDK's plain Uint8Array: the bytes are what must match.
        assert.deepEqual({ ...ours, body: new Uint8Array(ours.body) }, theirs);
      }
    }));

  it('lists as the S3 object store does, by prefix, after a key and page by page', () =>
    withWorld(async (store, reader) => {
      for (const key of KEYS) await store.putObject({ bucket: BUCKET, key, body: new Uint8Array([1, 2, 3]) });
      for (const options of [
        {},
        { prefix: 'with ' },
        { prefix: 'unicode/' },
        { startAfter: 'plain' },
        { maxKeys: 2 },
      ]) {
        assert.deepEqual(await reader.listObjects(BUCKET, options), await store.listObjects(BUCKET, options));
      }
      const first = await reader.listObjects(BUCKET, { maxKeys: 3 });
      assert.equal(first.isTruncated, true);
      assert.equal(first.nextStartAfter, first.objects[2]?.key);
    }));

  it('fails as the S3 object store does for a missing key, a missing bucket and keys S3 refuses', () =>
    withWorld(async (store, reader) => {
      const failures = [
        (s: S3ObjectStore | S3ObjectReader) => s.getObject(BUCKET, 'missing'),
        (s: S3ObjectStore | S3ObjectReader) => s.getObject('missing-bucket', 'k'),
        (s: S3ObjectStore | S3ObjectReader) => s.listObjects('missing-bucket'),
        (s: S3ObjectStore | S3ObjectReader) => s.getObject(BUCKET, 'é'.repeat(513)),
        (s: S3ObjectStore | S3ObjectReader) => s.getObject('Bad_Bucket', 'k'),
      ];
      for (const fail of failures) {
        const [ours, theirs] = await Promise.all([fail(reader).catch(described), fail(store).catch(described)]);
        assert.deepEqual(ours, theirs);
      }
      await assertStoreError(reader.getObject(BUCKET, 'missing'), 'NoSuchKey');
    }));

  it('maps a 403 answer to AccessDenied with S3 message', () =>
    withServer(
      (_request, response) => {
        response.writeHead(403, { 'content-type': 'application/xml' });
        response.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      },
      async (endpoint) => {
        const reader = new S3ObjectReader({ endpoint, region: 'us-east-1', ...MOTO_CREDENTIALS });
        try {
          await assert.rejects(reader.getObject('any-bucket', 'k'), {
            name: 'ObjectStoreError',
            code: 'AccessDenied',
            message: 'AccessDenied (k): Access Denied',
          });
        } finally {
          reader.close();
        }
      },
    ));

  it('retries a 503 as the SDK does, then reads the object', async () => {
    let calls = 0;
    await withServer(
      (_request, response) => {
        calls++;
        if (calls === 1) {
          response.writeHead(503, { 'content-type': 'application/xml' });
          response.end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain', 'x-amz-meta-a': '1' });
        response.end('body');
      },
      async (endpoint) => {
        const reader = new S3ObjectReader({ endpoint, region: 'us-east-1', ...MOTO_CREDENTIALS });
        try {
          const object = await reader.getObject('any-bucket', 'k');
          assert.equal(Buffer.from(object.body).toString(), 'body');
          assert.deepEqual(object.metadata, { a: '1' });
          assert.equal(calls, 2);
        } finally {
          reader.close();
        }
      },
    );
  });

  it('fails with StoreUnavailable, keeping the cause, when nothing answers at the endpoint', async () => {
    let port = 0;
    await withServer(
      () => undefined,
      async (endpoint) => {
        port = Number(new URL(endpoint).port);
      },
    );
    const reader = new S3ObjectReader({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      ...MOTO_CREDENTIALS,
    });
    try {
      await assert.rejects(reader.listObjects('any-bucket'), (error: unknown) => {
        assert.ok(error instanceof ObjectStoreError);
        assert.equal(error.code, 'StoreUnavailable');
        assert.match(error.message, /^StoreUnavailable \(any-bucket\): connect ECONNREFUSED/);
        assert.ok(error.cause !== undefined);
        return true;
      });
    } finally {
      reader.close();
    }
  });
});

function described(error: unknown): { name: string; code: string; message: string } {
  assert.ok(error instanceof ObjectStoreError, String(error));
  return { name: error.name, code: error.code, message: error.message };
}

async function withServer(handler: RequestListener, fn: (endpoint: string) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

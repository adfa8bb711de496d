import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { createObjectStore, ObjectStoreError, S3ObjectStore } from '../../src/objectstore/index.ts';
import { MOTO_CREDENTIALS, useMoto } from '../helpers/moto.ts';
import { assertStoreError, objectStoreContract } from '../helpers/object-store-contract.ts';

const CREDENTIALS = MOTO_CREDENTIALS;
const moto = useMoto();
const motoEndpoint = () => moto.endpoint();

function s3Store(region = 'us-east-1', endpoint = motoEndpoint()): S3ObjectStore {
  return new S3ObjectStore({ endpoint, region, ...CREDENTIALS });
}

/** Each case starts from an empty moto: reset drops every bucket of every account. */
async function resetMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint()}/moto-api/reset`, { method: 'POST' });
  assert.equal(response.status, 200);
}

/** Runs `fn` with a store on an empty moto, and empties moto again after. */
async function withEmptyMoto(fn: (store: S3ObjectStore) => Promise<void>, region = 'us-east-1'): Promise<void> {
  await resetMoto();
  const store = s3Store(region);
  try {
    await fn(store);
  } finally {
    store.close();
    await resetMoto();
  }
}

objectStoreContract('S3 (moto)', async () => {
  await resetMoto();
  return { store: s3Store(), cleanup: resetMoto };
});

describe('S3 object store', () => {
  it('is what createObjectStore builds with S3 settings', () => {
    const store = createObjectStore({
      dataDir: '/unused',
      s3: { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', ...CREDENTIALS },
    });
    assert.ok(store instanceof S3ObjectStore);
    assert.equal(store.kind, 's3');
    store.close();
  });

  it('reads back a bucket policy set through the SDK', () =>
    withEmptyMoto(async (store) => {
      const client = moto.s3();
      try {
        await store.createBucket('policy-bucket');
        const policy = JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AWSCloudTrailWrite',
              Effect: 'Allow',
              Principal: { Service: 'cloudtrail.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: 'arn:aws:s3:::policy-bucket/AWSLogs/123456789012/*',
            },
          ],
        });
        await client.send(new PutBucketPolicyCommand({ Bucket: 'policy-bucket', Policy: policy }));
        assert.deepEqual(JSON.parse((await store.getBucketPolicy('policy-bucket')) ?? 'null'), JSON.parse(policy));
      } finally {
        client.destroy();
      }
    }));

  it('creates a bucket idempotently outside us-east-1, with its location constraint', () =>
    withEmptyMoto(async (store) => {
      await store.createBucket('eu-bucket');
      await store.createBucket('eu-bucket');
      assert.equal(await store.bucketExists('eu-bucket'), true);
    }, 'eu-west-1'));

  it('names no bucket as owned by an account: the endpoint keeps its own owners', () =>
    withEmptyMoto(async (store) => {
      await store.createBucket('some-bucket');
      assert.deepEqual(await store.ownedBuckets('111111111111'), []);
    }));

  it('fails with StoreUnavailable, keeping the cause, when nothing answers at the endpoint', async () => {
    const port = await closedPort();
    const store = new S3ObjectStore({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', ...CREDENTIALS });
    try {
      await assert.rejects(store.bucketExists('any-bucket'), (error: unknown) => {
        assert.ok(error instanceof ObjectStoreError);
        assert.equal(error.code, 'StoreUnavailable');
        assert.ok(error.cause !== undefined);
        return true;
      });
    } finally {
      store.close();
    }
  });

  it('maps a 403 AccessDenied answer to AccessDenied', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const store = new S3ObjectStore({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', ...CREDENTIALS });
    try {
      await assertStoreError(store.getObject('any-bucket', 'k'), 'AccessDenied');
      await assertStoreError(store.headObject('any-bucket', 'k'), 'AccessDenied');
      await assertStoreError(store.bucketExists('any-bucket'), 'AccessDenied');
    } finally {
      store.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** A port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

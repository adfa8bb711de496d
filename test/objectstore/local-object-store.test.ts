import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createObjectStore, LocalObjectStore } from '../../src/objectstore/index.ts';
import { assertStoreError, objectStoreContract } from '../helpers/object-store-contract.ts';

objectStoreContract(
  'local folder',
  async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-objects-'));
    return { store: new LocalObjectStore({ dataDir }), cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  },
  { keyBesideItsPrefixGap: 'a file cannot also be a folder; the second put fails with InvalidObjectKey' },
);

/** A fresh data directory with bucket `bkt`, removed afterwards. */
async function withLocal(fn: (store: LocalObjectStore, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-objects-'));
  try {
    const store = new LocalObjectStore({ dataDir });
    await store.createBucket('bkt');
    await fn(store, dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('local object store', () => {
  it('is what createObjectStore builds without S3 settings', () => {
    const store = createObjectStore({ dataDir: join(tmpdir(), 'never-created') });
    assert.equal(store.kind, 'local');
    assert.equal(store.kind, 'local');
  });

  describe('keys that could escape the bucket folder', () => {
    const cases: [string, string][] = [
      ['an empty key', ''],
      ['a key longer than 1024 bytes', 'é'.repeat(513)],
      ['a key starting with /', '/etc/passwd'],
      ['a key with a NUL byte', 'a\0b'],
      ['a key with a backslash', 'a\\..\\b'],
      ['a key with an empty segment', 'a//b'],
      ['a key with a . segment', 'a/./b'],
      ['a key with a .. segment', 'a/../../b'],
      ['a key that is ..', '..'],
      ['a key ending with /', 'a/'],
      ['a key with a segment longer than 255 bytes', `a/${'x'.repeat(256)}`],
    ];
    for (const [what, key] of cases) {
      it(`rejects ${what} with InvalidObjectKey`, () =>
        withLocal(async (store) => {
          await assertStoreError(store.putObject({ bucket: 'bkt', key, body: bytes('x') }), 'InvalidObjectKey');
          await assertStoreError(store.getObject('bkt', key), 'InvalidObjectKey');
          await assertStoreError(store.headObject('bkt', key), 'InvalidObjectKey');
          await assertStoreError(store.deleteObject('bkt', key), 'InvalidObjectKey');
        }));
    }

    it('rejects a bucket name that would climb out of the buckets folder with InvalidBucketName', () =>
      withLocal(async (store) => {
        for (const bucket of ['..', '../bkt', 'bkt/../cc', '.']) {
          await assertStoreError(store.createBucket(bucket), 'InvalidBucketName', bucket);
          await assertStoreError(store.getObject(bucket, 'k'), 'InvalidBucketName', bucket);
        }
      }));

    it('lists nothing for a prefix that climbs out of the bucket', () =>
      withLocal(async (store, dataDir) => {
        await store.createBucket('ccc');
        await writeFile(join(dataDir, 'buckets', 'ccc', 'secret'), 'x');
        assert.deepEqual((await store.listObjects('bkt', { prefix: '../ccc/' })).objects, []);
      }));
  });

  describe('symlinks planted inside a bucket', () => {
    it('refuses to read an object that is a symlink with AccessDenied', () =>
      withLocal(async (store, dataDir) => {
        await writeFile(join(dataDir, 'outside'), 'secret');
        await symlink(join(dataDir, 'outside'), join(dataDir, 'buckets', 'bkt', 'link'));
        await assertStoreError(store.getObject('bkt', 'link'), 'AccessDenied');
        await assertStoreError(store.headObject('bkt', 'link'), 'AccessDenied');
      }));

    it('refuses to read or write through a folder symlink with AccessDenied', () =>
      withLocal(async (store, dataDir) => {
        await mkdir(join(dataDir, 'outside'));
        await writeFile(join(dataDir, 'outside', 'secret'), 'secret');
        await symlink(join(dataDir, 'outside'), join(dataDir, 'buckets', 'bkt', 'dir'));
        await assertStoreError(store.getObject('bkt', 'dir/secret'), 'AccessDenied');
        await assertStoreError(store.putObject({ bucket: 'bkt', key: 'dir/new', body: bytes('x') }), 'AccessDenied');
        await assertStoreError(
          store.putObject({ bucket: 'bkt', key: 'dir/deep/new', body: bytes('x') }),
          'AccessDenied',
        );
        await assertStoreError(store.deleteObject('bkt', 'dir/secret'), 'AccessDenied');
        assert.deepEqual(await readdir(join(dataDir, 'outside')), ['secret']);
      }));

    it('refuses a bucket folder that is a symlink with AccessDenied', () =>
      withLocal(async (store, dataDir) => {
        await mkdir(join(dataDir, 'elsewhere'));
        await symlink(join(dataDir, 'elsewhere'), join(dataDir, 'buckets', 'linked'));
        assert.equal(await store.bucketExists('linked'), false);
        await assertStoreError(store.getObject('linked', 'k'), 'AccessDenied');
      }));

    it('does not list symlinks', () =>
      withLocal(async (store, dataDir) => {
        await store.putObject({ bucket: 'bkt', key: 'real', body: bytes('x') });
        await mkdir(join(dataDir, 'outside'));
        await writeFile(join(dataDir, 'outside', 'secret'), 'secret');
        await symlink(join(dataDir, 'outside'), join(dataDir, 'buckets', 'bkt', 'dir'));
        await symlink(join(dataDir, 'outside', 'secret'), join(dataDir, 'buckets', 'bkt', 'file'));
        assert.deepEqual(
          (await store.listObjects('bkt')).objects.map((o) => o.key),
          ['real'],
        );
      }));
  });

  describe('layout on disk', () => {
    it('keeps the bucket folder for bodies only and the metadata in a separate tree', () =>
      withLocal(async (store, dataDir) => {
        const key = 'logs/file.json.gz';
        await store.putObject({ bucket: 'bkt', key, body: bytes('body'), contentType: 'application/json' });
        assert.equal(await readFile(join(dataDir, 'buckets', 'bkt', 'logs', 'file.json.gz'), 'utf8'), 'body');
        assert.deepEqual(await readdir(join(dataDir, 'buckets', 'bkt'), { recursive: true }), [
          'logs',
          'logs/file.json.gz',
        ]);
        const hash = createHash('sha256').update(key).digest('hex');
        const meta = JSON.parse(
          await readFile(join(dataDir, 'object-meta', 'bkt', hash.slice(0, 2), `${hash}.json`), 'utf8'),
        );
        assert.deepEqual(meta, { key, size: 4, contentType: 'application/json', metadata: {} });
      }));

    it('stores keys named like metadata files beside the keys they would describe', () =>
      withLocal(async (store) => {
        await store.putObject({ bucket: 'bkt', key: 'k', body: bytes('1'), metadata: { m: 'k' } });
        await store.putObject({ bucket: 'bkt', key: 'k.json/x', body: bytes('22'), metadata: { m: 'k.json/x' } });
        await store.putObject({ bucket: 'bkt', key: 'j', body: bytes('333') });
        await store.putObject({ bucket: 'bkt', key: 'j.json', body: bytes('4444') });
        assert.deepEqual((await store.headObject('bkt', 'k'))?.metadata, { m: 'k' });
        assert.deepEqual((await store.headObject('bkt', 'k.json/x'))?.metadata, { m: 'k.json/x' });
        assert.equal((await store.headObject('bkt', 'j'))?.size, 3);
        assert.equal((await store.headObject('bkt', 'j.json'))?.size, 4);
      }));

    it('ignores metadata recorded for another version of the object', () =>
      withLocal(async (store, dataDir) => {
        await store.putObject({ bucket: 'bkt', key: 'k', body: bytes('old'), contentType: 'text/plain' });
        // As if a crash fell between an overwrite's metadata rename and its body rename.
        await writeFile(join(dataDir, 'buckets', 'bkt', 'k'), 'old body, another size');
        const head = await store.headObject('bkt', 'k');
        assert.equal(head?.contentType, 'application/octet-stream');
        assert.deepEqual(head?.metadata, {});
      }));

    it('removes the folders a delete empties, up to but not including the bucket folder', () =>
      withLocal(async (store, dataDir) => {
        await store.putObject({ bucket: 'bkt', key: 'x/y/z/k', body: bytes('1') });
        await store.putObject({ bucket: 'bkt', key: 'x/other', body: bytes('2') });
        await store.deleteObject('bkt', 'x/y/z/k');
        assert.deepEqual(await readdir(join(dataDir, 'buckets', 'bkt'), { recursive: true }), ['x', 'x/other']);
        await store.deleteObject('bkt', 'x/other');
        assert.deepEqual(await readdir(join(dataDir, 'buckets', 'bkt')), []);
        assert.equal(await store.bucketExists('bkt'), true);
      }));

    it('does not list empty folders as keys', () =>
      withLocal(async (store, dataDir) => {
        await mkdir(join(dataDir, 'buckets', 'bkt', 'empty', 'deeper'), { recursive: true });
        await store.putObject({ bucket: 'bkt', key: 'k', body: bytes('1') });
        assert.deepEqual(
          (await store.listObjects('bkt')).objects.map((o) => o.key),
          ['k'],
        );
      }));

    it('reads the bucket policy from bucket-policies/<bucket>.json', () =>
      withLocal(async (store, dataDir) => {
        const policy = '{"Version":"2012-10-17","Statement":[]}';
        await mkdir(join(dataDir, 'bucket-policies'));
        await writeFile(join(dataDir, 'bucket-policies', 'bkt.json'), policy);
        assert.equal(await store.getBucketPolicy('bkt'), policy);
      }));

    it('keeps the first account to claim a bucket as its owner, across store instances', () =>
      withLocal(async (store, dataDir) => {
        await store.createBucket('owned', '111111111111');
        await store.createBucket('owned', '222222222222');
        await store.createBucket('owned');
        assert.equal(await store.bucketOwner('owned'), '111111111111');
        assert.equal(await new LocalObjectStore({ dataDir }).bucketOwner('owned'), '111111111111');
      }));

    it('lists the buckets an account claimed, by name, passing over a gone folder and a file that is no claim', () =>
      withLocal(async (store, dataDir) => {
        assert.deepEqual(await store.ownedBuckets('111111111111'), []);
        for (const [bucket, owner] of [
          ['zeta-logs', '111111111111'],
          ['alpha-logs', '111111111111'],
          ['theirs', '222222222222'],
          ['removed', '111111111111'],
        ] as const) {
          await store.createBucket(bucket, owner);
        }
        await store.createBucket('unclaimed');
        await rm(join(dataDir, 'buckets', 'removed'), { recursive: true });
        // Files an operator left there that are no claims.
        await store.createBucket('garbled');
        await writeFile(join(dataDir, 'bucket-owners', 'garbled.json'), '{"accountId":');
        await writeFile(join(dataDir, 'bucket-owners', 'null.json'), 'null');
        const owned = await store.ownedBuckets('111111111111');
        assert.deepEqual(
          owned.map((b) => b.name),
          ['alpha-logs', 'zeta-logs'],
        );
        assert.ok(owned.every((b) => Math.abs(b.createdAt.getTime() - Date.now()) < 60_000));
        // Read one by one, the same file names no owner either, rather than failing whoever asks.
        assert.equal(await store.bucketOwner('garbled'), undefined);
      }));

    it('gives a bucket to exactly one of many concurrent claims, leaving no temporary files', () =>
      withLocal(async (store, dataDir) => {
        const claimants = Array.from({ length: 12 }, (_, i) => String(100000000000 + i));
        await Promise.all(claimants.map((account) => store.createBucket('contested', account)));
        const owner = await store.bucketOwner('contested');
        assert.ok(owner !== undefined && claimants.includes(owner), String(owner));
        for (const account of claimants) await store.createBucket('contested', account);
        assert.equal(await store.bucketOwner('contested'), owner);
        assert.deepEqual(await readdir(join(dataDir, '.tmp')), []);
      }));

    it('lets the next claim own a bucket folder that has no owner yet', () =>
      withLocal(async (store) => {
        assert.equal(await store.bucketOwner('bkt'), undefined);
        await store.createBucket('bkt', '333333333333');
        assert.equal(await store.bucketOwner('bkt'), '333333333333');
      }));

    it('does not create a bucket on put: NoSuchBucket until createBucket', () =>
      withLocal(async (store, dataDir) => {
        await assertStoreError(store.putObject({ bucket: 'later', key: 'k', body: bytes('x') }), 'NoSuchBucket');
        assert.deepEqual(await readdir(join(dataDir, 'buckets')), ['bkt']);
      }));
  });

  describe('a file cannot also be a folder', () => {
    it('rejects a key below an existing object (a, then a/b) with InvalidObjectKey and keeps the object', () =>
      withLocal(async (store) => {
        await store.putObject({ bucket: 'bkt', key: 'a', body: bytes('file') });
        await assertStoreError(store.putObject({ bucket: 'bkt', key: 'a/b', body: bytes('x') }), 'InvalidObjectKey');
        assert.equal(text((await store.getObject('bkt', 'a')).body), 'file');
        assert.equal(await store.headObject('bkt', 'a/b'), undefined);
      }));

    it('rejects a key naming a folder of keys (a/b, then a) with InvalidObjectKey and keeps the keys', () =>
      withLocal(async (store) => {
        await store.putObject({ bucket: 'bkt', key: 'a/b', body: bytes('below') });
        await assertStoreError(store.putObject({ bucket: 'bkt', key: 'a', body: bytes('x') }), 'InvalidObjectKey');
        assert.equal(await store.headObject('bkt', 'a'), undefined);
        assert.equal(text((await store.getObject('bkt', 'a/b')).body), 'below');
      }));
  });

  describe('atomic, durable writes', () => {
    it('leaves no temp file behind after puts', () =>
      withLocal(async (store, dataDir) => {
        await store.putObject({ bucket: 'bkt', key: 'k', body: bytes('1') });
        await store.putObject({ bucket: 'bkt', key: 'k', body: bytes('2') });
        await assertStoreError(store.putObject({ bucket: 'bkt', key: 'k/x', body: bytes('3') }), 'InvalidObjectKey');
        assert.deepEqual(await readdir(join(dataDir, '.tmp')), []);
      }));

    it('never shows a reader part of an object while it is overwritten', () =>
      withLocal(async (store, dataDir) => {
        const bodies = [new Uint8Array(1024 * 1024).fill(1), new Uint8Array(2 * 1024 * 1024).fill(2)];
        await store.putObject({ bucket: 'bkt', key: 'k', body: bodies[0]! });
        let writing = true;
        const writer = (async () => {
          for (let i = 1; i <= 20; i++) {
            await store.putObject({ bucket: 'bkt', key: 'k', body: bodies[i % 2]!, metadata: { n: String(i % 2) } });
          }
          writing = false;
        })();
        // A second store on the same folder shares no lock with the writer: only the rename protects its reads.
        const reader = new LocalObjectStore({ dataDir });
        let reads = 0;
        while (writing) {
          const got = await reader.getObject('bkt', 'k');
          assert.ok(got.body.byteLength === 1024 * 1024 || got.body.byteLength === 2 * 1024 * 1024);
          assert.ok(got.body.every((v) => v === got.body[0]));
          reads++;
        }
        await writer;
        assert.ok(reads > 0);
      }));

    it('does not list a body still being written in .tmp', () =>
      withLocal(async (store, dataDir) => {
        await mkdir(join(dataDir, '.tmp'), { recursive: true });
        await writeFile(join(dataDir, '.tmp', 'half-written'), 'partial');
        assert.deepEqual((await store.listObjects('bkt')).objects, []);
      }));
  });
});

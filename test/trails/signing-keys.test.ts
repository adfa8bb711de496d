import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/model/clock.ts';
import { KEY_VALIDITY_MS, keyFingerprint, publicKeyDer, SigningKeys } from '../../src/trails/signing-keys.ts';

const DAY_MS = 24 * 3600 * 1000;
const START_MS = Date.UTC(2026, 0, 1);

/** Each test gets its own key directory and manual clock, removed afterwards. */
async function withKeys(fn: (keys: SigningKeys, clock: ManualClock, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'opentrail-keys-'));
  try {
    const clock = new ManualClock(START_MS);
    await fn(await SigningKeys.open(dir, clock), clock, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('SigningKeys', () => {
  test("makes a Region's first key on first use, valid 30 days from now", async () => {
    await withKeys(async (keys) => {
      assert.deepEqual(keys.publicKeys('us-east-1', 0, Number.MAX_SAFE_INTEGER), []);
      const current = await keys.current('us-east-1');
      const listed = keys.publicKeys('us-east-1', START_MS, START_MS);
      assert.equal(listed.length, 1);
      const [key] = listed;
      assert.equal(key?.Fingerprint, current.fingerprint);
      assert.deepEqual(key?.ValidityStartTime, new Date(START_MS));
      assert.deepEqual(key?.ValidityEndTime, new Date(START_MS + KEY_VALIDITY_MS));
      assert.equal(KEY_VALIDITY_MS, 2_592_000_000);
    });
  });

  test('lists the public half of the private key it signs with, as PKCS#1 DER fingerprinted by MD5', async () => {
    await withKeys(async (keys) => {
      const current = await keys.current('us-east-1');
      const [key] = keys.publicKeys('us-east-1', START_MS, START_MS);
      const der = Buffer.from(key?.Value ?? '', 'base64');
      assert.ok(key?.Value.startsWith('MIIBCgKCAQEA'));
      assert.deepEqual(der, publicKeyDer(createPublicKey(current.privateKey)));
      assert.equal(key?.Fingerprint, keyFingerprint(der));
      assert.equal(keys.privateKeyFor('us-east-1', current.fingerprint), current.privateKey);
    });
  });

  test('keeps signing with the same key while it has 7 days or more left', async () => {
    await withKeys(async (keys, clock) => {
      const first = await keys.current('us-east-1');
      await clock.advance(23 * DAY_MS);
      assert.equal((await keys.current('us-east-1')).fingerprint, first.fingerprint);
      assert.equal(keys.publicKeys('us-east-1', 0, Number.MAX_SAFE_INTEGER).length, 1);
    });
  });

  test('rotates after 23 days: a new current key from now, the old one still listed for its window', async () => {
    await withKeys(async (keys, clock) => {
      const first = await keys.current('us-east-1');
      await clock.advance(23 * DAY_MS + 1000);
      const second = await keys.current('us-east-1');
      assert.notEqual(second.fingerprint, first.fingerprint);
      const rotatedMs = START_MS + 23 * DAY_MS + 1000;
      const fingerprints = (from: number, to: number) =>
        keys.publicKeys('us-east-1', from, to).map((k) => k.Fingerprint);
      assert.deepEqual(fingerprints(START_MS, START_MS + DAY_MS), [first.fingerprint]);
      // Both are valid in the overlap: a digest signed just before rotation still finds its key.
      assert.deepEqual(fingerprints(rotatedMs, rotatedMs + DAY_MS), [first.fingerprint, second.fingerprint]);
      assert.deepEqual(fingerprints(START_MS + 31 * DAY_MS, START_MS + 32 * DAY_MS), [second.fingerprint]);
      assert.deepEqual(
        keys.publicKeys('us-east-1', rotatedMs, rotatedMs).find((k) => k.Fingerprint === second.fingerprint)
          ?.ValidityStartTime,
        new Date(rotatedMs),
      );
      assert.ok(keys.privateKeyFor('us-east-1', first.fingerprint), 'the old private key is kept');
    });
  });

  test('makes a new key when every key has expired', async () => {
    await withKeys(async (keys, clock) => {
      const first = await keys.current('us-east-1');
      await clock.advance(90 * DAY_MS);
      const later = await keys.current('us-east-1');
      assert.notEqual(later.fingerprint, first.fingerprint);
      assert.equal(keys.publicKeys('us-east-1', clock.now(), clock.now())[0]?.Fingerprint, later.fingerprint);
    });
  });

  test('lists keys whose validity overlaps the range, bounds included', async () => {
    await withKeys(async (keys) => {
      await keys.current('us-east-1');
      const endMs = START_MS + KEY_VALIDITY_MS;
      assert.equal(keys.publicKeys('us-east-1', START_MS - DAY_MS, START_MS).length, 1);
      assert.equal(keys.publicKeys('us-east-1', endMs, endMs + DAY_MS).length, 1);
      assert.equal(keys.publicKeys('us-east-1', START_MS - 2 * DAY_MS, START_MS - 1).length, 0);
      assert.equal(keys.publicKeys('us-east-1', endMs + 1, endMs + DAY_MS).length, 0);
      assert.equal(keys.publicKeys('eu-west-1', START_MS, endMs).length, 0, 'keys are per Region');
    });
  });

  test('gives each Region its own key', async () => {
    await withKeys(async (keys) => {
      const east = await keys.current('us-east-1');
      const west = await keys.current('eu-west-1');
      assert.notEqual(east.fingerprint, west.fingerprint);
    });
  });

  test("makes one key when two callers ask for a new Region's key at once", async () => {
    await withKeys(async (keys) => {
      const [a, b] = await Promise.all([keys.current('us-west-2'), keys.current('us-west-2')]);
      assert.equal(a.fingerprint, b.fingerprint);
      assert.equal(keys.publicKeys('us-west-2', 0, Number.MAX_SAFE_INTEGER).length, 1);
    });
  });

  test('keeps every key across a reopen, Regions made concurrently included', async () => {
    await withKeys(async (keys, clock, dir) => {
      const [east, west] = await Promise.all([keys.current('us-east-1'), keys.current('eu-west-1')]);
      await clock.advance(24 * DAY_MS);
      const rotated = await keys.current('us-east-1');
      const reopened = await SigningKeys.open(dir, clock);
      assert.deepEqual(
        reopened.publicKeys('us-east-1', 0, Number.MAX_SAFE_INTEGER),
        keys.publicKeys('us-east-1', 0, Number.MAX_SAFE_INTEGER),
      );
      assert.equal((await reopened.current('us-east-1')).fingerprint, rotated.fingerprint);
      assert.equal(reopened.publicKeys('us-east-1', 0, Number.MAX_SAFE_INTEGER).length, 2);
      assert.deepEqual(
        reopened.publicKeys('eu-west-1', 0, Number.MAX_SAFE_INTEGER).map((k) => k.Fingerprint),
        [west.fingerprint],
      );
      assert.ok(reopened.privateKeyFor('us-east-1', east.fingerprint));
    });
  });

  test('stores the keys in signing-keys.json readable by the owner only', async () => {
    await withKeys(async (keys, _clock, dir) => {
      await keys.current('us-east-1');
      const info = await stat(join(dir, 'signing-keys.json'));
      assert.equal(info.mode & 0o777, 0o600);
    });
  });
});

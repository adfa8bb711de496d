import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  ListPublicKeysCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { ManualClock } from '../../src/model/clock.ts';
import { REGIONS } from '../../src/model/regions.ts';
import { createObjectStore } from '../../src/objectstore/index.ts';
import { verifyDigest } from '../../src/trails/index.ts';
import { startTestServer, type TestWorld, withServer } from '../helpers/server.ts';
import {
  advance,
  type DigestFile,
  digestFiles,
  isoSeconds,
  type LogFile,
  logFiles,
  MINUTE_MS,
} from './delivered-files.ts';

/**
 * Digest files (facts §5.4–5.6): one per digest period and Region of a trail with log file validation,
 * empty or not; each chained to the previous one by key, hash and signature, and signed with the Region's
 * key that ListPublicKeys hands out; every log file in exactly one digest; chains end at StopLogging and
 * start again at StartLogging. Digest periods are 10 minutes here (`--digest-interval 600`).
 */

const START = Date.UTC(2026, 9, 5, 16, 0, 0);
const PERIOD_MINUTES = 10;
const ARGV = ['--delivery-interval', '60', '--digest-interval', '600'];
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** `2026-10-05T16:10:00Z` → `20261005T161000Z`. */
const compact = (time: string) => time.replace(/[-:]/g, '');

function serve(fn: (w: TestWorld, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock(START);
  return withServer((w) => fn(w, clock), { clock, argv: ARGV });
}

async function startTrail(w: TestWorld, name: string, more: Record<string, unknown> = {}): Promise<void> {
  await w
    .cloudtrail()
    .send(
      new CreateTrailCommand({ Name: name, S3BucketName: `${name}-bucket`, EnableLogFileValidation: true, ...more }),
    );
  await w.cloudtrail().send(new StartLoggingCommand({ Name: name }));
}

/** Advances `minutes`, making a call in each minute (so each delivery has a file) unless `quiet`. */
async function run(w: TestWorld, clock: ManualClock, minutes: number, quiet = false): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    if (!quiet) await w.cloudtrail().send(new DescribeTrailsCommand({}));
    await advance(w, clock);
  }
}

const regionOf = (key: string) => key.split('/')[3] as string;

/** The `signature` metadata of each digest, read through the object store. */
async function signatures(w: TestWorld, bucket: string, digests: DigestFile[]): Promise<Map<string, string>> {
  const store = createObjectStore({ dataDir: w.dataDir });
  try {
    const out = new Map<string, string>();
    for (const d of digests) {
      const head = await store.headObject(bucket, d.key);
      assert.equal(head?.metadata['signature-algorithm'], 'SHA256withRSA');
      out.set(d.key, head?.metadata['signature'] ?? assert.fail(`${d.key} has no signature metadata`));
    }
    return out;
  } finally {
    store.close();
  }
}

/** Checks one Region's digests, oldest first, as one chain from its starting digest. */
async function checkChain(w: TestWorld, bucket: string, chain: DigestFile[]): Promise<void> {
  const signed = await signatures(w, bucket, chain);
  for (const [i, d] of chain.entries()) {
    const c = d.content;
    assert.equal(c.awsAccountId, w.app.admin.accountId);
    assert.equal(c.digestS3Bucket, bucket);
    assert.equal(c.digestS3Object, d.key);
    assert.equal(c.digestSignatureAlgorithm, 'SHA256withRSA');
    assert.ok(d.key.endsWith(`_${compact(c.digestEndTime)}.json.gz`), d.key);
    const previous = chain[i - 1];
    if (previous === undefined) {
      assert.deepEqual(
        [
          c.previousDigestS3Bucket,
          c.previousDigestS3Object,
          c.previousDigestHashValue,
          c.previousDigestHashAlgorithm,
          c.previousDigestSignature,
        ],
        [null, null, null, null, null],
      );
      continue;
    }
    assert.equal(c.previousDigestS3Bucket, bucket);
    assert.equal(c.previousDigestS3Object, previous.key);
    assert.equal(c.previousDigestHashValue, sha256(previous.bytes));
    assert.equal(c.previousDigestHashAlgorithm, 'SHA-256');
    assert.equal(c.previousDigestSignature, signed.get(previous.key));
    assert.equal(c.digestStartTime, previous.content.digestEndTime);
  }
}

/** Checks that each log file is listed in exactly one digest, with the hash of its uncompressed bytes. */
function checkListed(files: LogFile[], digests: DigestFile[], bucket: string): void {
  const listed = digests.flatMap((d) => d.content.logFiles.map((f) => ({ ...f, region: regionOf(d.key) })));
  assert.deepEqual(listed.map((f) => f.s3Object).sort(), files.map((f) => f.key).sort());
  for (const file of files) {
    const entry = listed.find((f) => f.s3Object === file.key);
    assert.ok(entry);
    assert.equal(entry.region, regionOf(file.key));
    assert.equal(entry.s3Bucket, bucket);
    assert.equal(entry.hashAlgorithm, 'SHA-256');
    assert.equal(entry.hashValue, sha256(Buffer.from(file.text, 'utf8')));
    const times = file.records.map((r) => r['eventTime'] as string).sort();
    assert.deepEqual([entry.oldestEventTime, entry.newestEventTime], [times[0], times[times.length - 1]]);
  }
}

describe('digest periods', () => {
  it('writes a digest every period, an empty one (no log files, null event times) when nothing was delivered', async () => {
    await serve(async (w, clock) => {
      const account = w.app.admin.accountId;
      await startTrail(w, 'periodic');
      await run(w, clock, PERIOD_MINUTES, true); // the StartLogging call is delivered at 16:01
      await run(w, clock, 2 * PERIOD_MINUTES, true);
      const digests = await digestFiles(w, 'periodic-bucket');
      assert.deepEqual(
        digests.map((d) => [d.content.digestStartTime, d.content.digestEndTime]),
        [
          ['2026-10-05T16:00:00Z', '2026-10-05T16:10:00Z'],
          ['2026-10-05T16:10:00Z', '2026-10-05T16:20:00Z'],
          ['2026-10-05T16:20:00Z', '2026-10-05T16:30:00Z'],
        ],
      );
      const [first, ...empty] = digests;
      assert.equal(first?.content.logFiles.length, 1);
      assert.equal(first?.content.newestEventTime, isoSeconds(START));
      for (const d of empty) {
        assert.deepEqual(d.content.logFiles, []);
        assert.equal(d.content.newestEventTime, null);
        assert.equal(d.content.oldestEventTime, null);
      }
      assert.equal(
        digests[1]?.key,
        `AWSLogs/${account}/CloudTrail-Digest/us-east-1/2026/10/05/${account}_CloudTrail-Digest_us-east-1_periodic_us-east-1_20261005T162000Z.json.gz`,
      );
      await checkChain(w, 'periodic-bucket', digests);
    });
  });

  it('chains each digest to the previous by key, SHA-256 and signature, and lists every log file once', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'chained');
      await run(w, clock, 2 * PERIOD_MINUTES + 3);
      await run(w, clock, PERIOD_MINUTES, true); // the last files get their digest
      const digests = await digestFiles(w, 'chained-bucket');
      assert.equal(digests.length, 3);
      await checkChain(w, 'chained-bucket', digests);
      const files = await logFiles(w, 'chained-bucket');
      assert.equal(files.length, 2 * PERIOD_MINUTES + 3);
      checkListed(files, digests, 'chained-bucket');
      for (const d of digests.filter((x) => x.content.logFiles.length > 0)) {
        const newest = d.content.logFiles.map((f) => f.newestEventTime).sort();
        const oldest = d.content.logFiles.map((f) => f.oldestEventTime).sort();
        assert.equal(d.content.newestEventTime, newest[newest.length - 1]);
        assert.equal(d.content.oldestEventTime, oldest[0]);
      }
    });
  });

  it('signs every digest with the key ListPublicKeys returns for its fingerprint', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'signed');
      await run(w, clock, 2 * PERIOD_MINUTES);
      const digests = await digestFiles(w, 'signed-bucket');
      assert.equal(digests.length, 2);
      const signed = await signatures(w, 'signed-bucket', digests);
      const { PublicKeyList = [] } = await w
        .cloudtrail()
        .send(new ListPublicKeysCommand({ StartTime: new Date(START), EndTime: new Date(clock.now()) }));
      const keys = new Map(PublicKeyList.map((k) => [k.Fingerprint, k.Value as Uint8Array]));
      for (const d of digests) {
        const der = keys.get(d.content.digestPublicKeyFingerprint) ?? assert.fail('fingerprint not listed');
        const signature = signed.get(d.key) as string;
        assert.equal(verifyDigest(d.content, d.bytes, signature, der), true, d.key);
        const altered = Buffer.from(d.bytes.toString('utf8').replace('"logFiles":[', '"logFiles":[ '));
        assert.equal(verifyDigest(d.content, altered, signature, der), false);
      }
    });
  });

  it('keeps one chain per Region for a multi-Region trail', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'regional', { IsMultiRegionTrail: true });
      for (let i = 0; i < 2 * PERIOD_MINUTES; i++) {
        await w.cloudtrail({ region: 'eu-west-1' }).send(new DescribeTrailsCommand({}));
        await run(w, clock, 1);
      }
      await run(w, clock, PERIOD_MINUTES, true);
      const digests = await digestFiles(w, 'regional-bucket');
      const files = await logFiles(w, 'regional-bucket');
      // Every Region the trail covers has its chain, most of them empty digests.
      assert.deepEqual(new Set(digests.map((d) => regionOf(d.key))), new Set(REGIONS));
      assert.equal(digests.length, 3 * REGIONS.length);
      for (const region of ['us-east-1', 'eu-west-1']) {
        const chain = digests.filter((d) => regionOf(d.key) === region);
        assert.equal(chain.length, 3, region);
        assert.ok(chain.every((d) => d.key.includes(`_CloudTrail-Digest_${region}_regional_us-east-1_`)));
        await checkChain(w, 'regional-bucket', chain);
        checkListed(
          files.filter((f) => regionOf(f.key) === region),
          chain,
          'regional-bucket',
        );
        const { PublicKeyList = [] } = await w.cloudtrail({ region }).send(new ListPublicKeysCommand({}));
        const signed = await signatures(w, 'regional-bucket', chain);
        for (const d of chain) {
          const key = PublicKeyList.find((k) => k.Fingerprint === d.content.digestPublicKeyFingerprint);
          assert.ok(key, `${region}'s key signs ${d.key}`);
          assert.ok(verifyDigest(d.content, d.bytes, signed.get(d.key) as string, key.Value as Uint8Array));
        }
      }
    });
  });
});

describe('digest chains and logging', () => {
  it('writes a final digest when StopLogging is delivered, and none while stopped', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'stopping');
      await run(w, clock, PERIOD_MINUTES + 2);
      await w.cloudtrail().send(new StopLoggingCommand({ Name: 'stopping' }));
      const stoppedAt = clock.now();
      await run(w, clock, 3 * PERIOD_MINUTES, true);
      const digests = await digestFiles(w, 'stopping-bucket');
      assert.equal(digests.length, 2, digests.map((d) => d.key).join('\n'));
      await checkChain(w, 'stopping-bucket', digests);
      const end = Date.parse(digests[1]?.content.digestEndTime ?? '');
      assert.ok(end >= stoppedAt && end <= stoppedAt + MINUTE_MS, 'the final digest ends at the stop');
    });
  });

  it('lists the log file holding the StopLogging call in the final digest', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'final');
      await run(w, clock, PERIOD_MINUTES + 2);
      await w.cloudtrail().send(new StopLoggingCommand({ Name: 'final' }));
      await run(w, clock, 2 * PERIOD_MINUTES, true);
      const files = await logFiles(w, 'final-bucket');
      assert.ok(files.some((f) => f.records.some((r) => r['eventName'] === 'StopLogging')));
      checkListed(files, await digestFiles(w, 'final-bucket'), 'final-bucket');
    });
  });

  it('starts a new chain, with null previous fields, at the next StartLogging', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'restarted');
      await run(w, clock, PERIOD_MINUTES + 2);
      await w.cloudtrail().send(new StopLoggingCommand({ Name: 'restarted' }));
      await run(w, clock, 2 * PERIOD_MINUTES + 3, true);
      await w.cloudtrail().send(new StartLoggingCommand({ Name: 'restarted' }));
      const restartedAt = clock.now();
      await run(w, clock, 2 * PERIOD_MINUTES);
      const digests = await digestFiles(w, 'restarted-bucket');
      const second = digests.filter((d) => Date.parse(d.content.digestEndTime) > restartedAt);
      assert.equal(second.length, 2);
      assert.equal(second[0]?.content.digestStartTime, isoSeconds(restartedAt));
      await checkChain(w, 'restarted-bucket', digests.slice(0, digests.length - 2));
      await checkChain(w, 'restarted-bucket', second);
    });
  });
});

describe('turning validation off and on', () => {
  it('writes no new digests once log file validation is turned off', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'unvalidated');
      await run(w, clock, PERIOD_MINUTES + 1);
      await w.cloudtrail().send(new UpdateTrailCommand({ Name: 'unvalidated', EnableLogFileValidation: false }));
      await run(w, clock, 4 * PERIOD_MINUTES);
      const digests = await digestFiles(w, 'unvalidated-bucket');
      assert.deepEqual(
        digests.map((d) => d.content.digestEndTime),
        ['2026-10-05T16:10:00Z'],
      );
      assert.ok((await logFiles(w, 'unvalidated-bucket')).length > 4 * PERIOD_MINUTES, 'log files still go out');
    });
  });

  it('starts the chain of a trail whose validation is turned on at that time, not at its StartLogging', async () => {
    await serve(async (w, clock) => {
      await startTrail(w, 'late-validation', { EnableLogFileValidation: false });
      await run(w, clock, PERIOD_MINUTES + 5);
      await w.cloudtrail().send(new UpdateTrailCommand({ Name: 'late-validation', EnableLogFileValidation: true }));
      const enabledAt = clock.now();
      await run(w, clock, PERIOD_MINUTES);
      const [first] = await digestFiles(w, 'late-validation-bucket');
      assert.ok(first);
      assert.ok(Date.parse(first.content.digestStartTime) >= enabledAt, first.content.digestStartTime);
    });
  });
});

describe('--digest-interval', () => {
  it('refuses 59 seconds at start with a ConfigError naming --digest-interval, and takes 60', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-digest-interval-'));
    try {
      await assert.rejects(startTestServer({ dataDir, argv: ['--digest-interval', '59'] }), (error: Error) => {
        assert.equal(error.name, 'ConfigError');
        assert.match(error.message, /--digest-interval/);
        return true;
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    const clock = new ManualClock(START);
    await withServer(
      async (w) => {
        await startTrail(w, 'minutely');
        await run(w, clock, 3, true);
        const digests = await digestFiles(w, 'minutely-bucket');
        assert.deepEqual(
          digests.map((d) => d.content.digestEndTime),
          ['2026-10-05T16:01:00Z', '2026-10-05T16:02:00Z', '2026-10-05T16:03:00Z'],
        );
        await checkChain(w, 'minutely-bucket', digests);
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', '60'] },
    );
  });
});

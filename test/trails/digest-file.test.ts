import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  type DigestContent,
  digestKey,
  digestMetadata,
  digestTime,
  gzipOneMember,
  logFileKey,
  serializeDigest,
  sha256Hex,
  signatureString,
  signDigest,
  verifyDigest,
} from '../../src/trails/digest-file.ts';
import { keyFingerprint, publicKeyDer } from '../../src/trails/signing-keys.ts';

const ACCOUNT = '123456789012';
// 2026-03-04T05:06:07.890Z
const END_MS = Date.UTC(2026, 2, 4, 5, 6, 7, 890);
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const DER = publicKeyDer(publicKey);

function digest(overrides: Partial<DigestContent> = {}): DigestContent {
  return {
    awsAccountId: ACCOUNT,
    digestStartTime: '2026-03-04T04:06:07Z',
    digestEndTime: '2026-03-04T05:06:07Z',
    digestS3Bucket: 'trail-bucket',
    digestS3Object: digestKey({
      accountId: ACCOUNT,
      region: 'us-east-1',
      trailName: 't1',
      homeRegion: 'us-east-1',
      endMs: END_MS,
    }),
    digestPublicKeyFingerprint: keyFingerprint(DER),
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: null,
    oldestEventTime: null,
    previousDigestS3Bucket: null,
    previousDigestS3Object: null,
    previousDigestHashValue: null,
    previousDigestHashAlgorithm: null,
    previousDigestSignature: null,
    logFiles: [],
    ...overrides,
  };
}

describe('digestKey', () => {
  const base = {
    accountId: ACCOUNT,
    region: 'eu-west-1',
    trailName: 'my.trail',
    homeRegion: 'us-east-1',
    endMs: END_MS,
  };

  test('lays a digest out under AWSLogs by Region and end date, ending in the end time to the second', () => {
    assert.equal(
      digestKey(base),
      `AWSLogs/${ACCOUNT}/CloudTrail-Digest/eu-west-1/2026/03/04/` +
        `${ACCOUNT}_CloudTrail-Digest_eu-west-1_my.trail_us-east-1_20260304T050607Z.json.gz`,
    );
  });

  test('puts the prefix first and the organization id after AWSLogs/', () => {
    const key = digestKey({ ...base, prefix: 'a/b', organizationId: 'o-abc123defg' });
    assert.ok(key.startsWith(`a/b/AWSLogs/o-abc123defg/${ACCOUNT}/CloudTrail-Digest/eu-west-1/2026/03/04/`), key);
  });

  test('adds nothing for an empty prefix', () => {
    assert.ok(digestKey({ ...base, prefix: '' }).startsWith('AWSLogs/'));
  });

  test('keeps the timestamp where the CLI slices it ([-24:-8]) with or without prefix and org id', () => {
    for (const extra of [
      {},
      { prefix: 'p' },
      { organizationId: 'o-abc123defg' },
      { prefix: 'x/y', organizationId: 'o-1' },
    ]) {
      const key = digestKey({ ...base, ...extra });
      assert.equal(key.slice(-24, -8), '20260304T050607Z', key);
      assert.ok(key.endsWith('_20260304T050607Z.json.gz'));
    }
  });

  test('sorts lexicographically in time order, as the CLI compares slices', () => {
    const earlier = digestKey({ ...base, endMs: Date.UTC(2025, 11, 31, 23, 59, 59) }).slice(-24, -8);
    const later = digestKey(base).slice(-24, -8);
    assert.ok(earlier < later);
  });
});

describe('logFileKey', () => {
  test('lays a log file out by Region and date, timestamped to the minute, with the unique suffix', () => {
    assert.equal(
      logFileKey({ accountId: ACCOUNT, region: 'us-east-1', timeMs: END_MS, unique16: 'Mu0KsOhtH1ar15ZZ' }),
      `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2026/03/04/${ACCOUNT}_CloudTrail_us-east-1_20260304T0506Z_Mu0KsOhtH1ar15ZZ.json.gz`,
    );
  });

  test('puts the prefix first and the organization id after AWSLogs/', () => {
    const key = logFileKey({
      prefix: 'logs',
      organizationId: 'o-fxozgwu6rc',
      accountId: ACCOUNT,
      region: 'ca-central-1',
      timeMs: END_MS,
      unique16: 'KL5e9VCV2SS7IqzB',
    });
    assert.equal(
      key,
      `logs/AWSLogs/o-fxozgwu6rc/${ACCOUNT}/CloudTrail/ca-central-1/2026/03/04/` +
        `${ACCOUNT}_CloudTrail_ca-central-1_20260304T0506Z_KL5e9VCV2SS7IqzB.json.gz`,
    );
  });

  test('refuses a unique part that is not 16 alphanumerics', () => {
    assert.throws(
      () => logFileKey({ accountId: ACCOUNT, region: 'us-east-1', timeMs: END_MS, unique16: 'short' }),
      RangeError,
    );
  });
});

describe('digestTime', () => {
  test('formats whole seconds as YYYY-MM-DDTHH:MM:SSZ', () => {
    assert.equal(digestTime(END_MS), '2026-03-04T05:06:07Z');
  });
});

describe('serializeDigest', () => {
  test("writes the fields in AWS's order whatever order they were built in", () => {
    const shuffled = Object.fromEntries(Object.entries(digest()).reverse()) as unknown as DigestContent;
    const parsed = JSON.parse(serializeDigest(shuffled).toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), [
      'awsAccountId',
      'digestStartTime',
      'digestEndTime',
      'digestS3Bucket',
      'digestS3Object',
      'digestPublicKeyFingerprint',
      'digestSignatureAlgorithm',
      'newestEventTime',
      'oldestEventTime',
      'previousDigestS3Bucket',
      'previousDigestS3Object',
      'previousDigestHashValue',
      'previousDigestHashAlgorithm',
      'previousDigestSignature',
      'logFiles',
    ]);
  });

  test('writes the null fields of a first, empty digest as JSON null and logFiles as []', () => {
    const parsed = JSON.parse(serializeDigest(digest()).toString('utf8')) as Record<string, unknown>;
    assert.equal(parsed['previousDigestSignature'], null);
    assert.equal(parsed['newestEventTime'], null);
    assert.deepEqual(parsed['logFiles'], []);
  });

  test('gzips to one member that gunzips to the same bytes', () => {
    const bytes = serializeDigest(digest());
    assert.deepEqual(gunzipSync(gzipOneMember(bytes)), bytes);
  });
});

describe('signatureString', () => {
  test('joins end time, bucket/key, hash of the uncompressed bytes and the text null by newlines', () => {
    const content = digest();
    const bytes = serializeDigest(content);
    const hash = createHash('sha256').update(bytes).digest('hex');
    assert.equal(
      signatureString(content, bytes),
      `2026-03-04T05:06:07Z\ntrail-bucket/${content.digestS3Object}\n${hash}\nnull`,
    );
  });

  test('ends with the previous signature when there is one', () => {
    const content = digest({ previousDigestSignature: 'ab12' });
    assert.ok(
      signatureString(content, serializeDigest(content)).endsWith(`\n${sha256Hex(serializeDigest(content))}\nab12`),
    );
  });
});

describe('signDigest and verifyDigest', () => {
  test('sign and verify round trip with lowercase hex and the SHA256withRSA metadata', () => {
    const content = digest();
    const bytes = serializeDigest(content);
    const signature = signDigest(content, bytes, privateKey);
    assert.match(signature, /^[0-9a-f]{512}$/);
    assert.equal(verifyDigest(content, bytes, signature, DER), true);
    assert.deepEqual(digestMetadata(signature), { signature, 'signature-algorithm': 'SHA256withRSA' });
  });

  test('a changed byte of the digest fails verification', () => {
    const content = digest();
    const bytes = serializeDigest(content);
    const signature = signDigest(content, bytes, privateKey);
    const tampered = Buffer.from(bytes);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    assert.equal(verifyDigest(content, tampered, signature, DER), false);
  });

  test('a digest moved to another key, or with another previous signature, fails verification', () => {
    const content = digest();
    const bytes = serializeDigest(content);
    const signature = signDigest(content, bytes, privateKey);
    assert.equal(verifyDigest({ ...content, digestS3Object: 'elsewhere.json.gz' }, bytes, signature, DER), false);
    assert.equal(verifyDigest({ ...content, previousDigestSignature: 'null' }, bytes, signature, DER), true);
    assert.equal(verifyDigest({ ...content, previousDigestSignature: 'ab' }, bytes, signature, DER), false);
  });

  test('a signature that is not hex is false', () => {
    const content = digest();
    assert.equal(verifyDigest(content, serializeDigest(content), 'not hex', DER), false);
  });
});

describe('public key form', () => {
  test('is PKCS#1 DER: base64 starts MIIBCgKCAQEA for a 2048-bit key', () => {
    assert.ok(DER.toString('base64').startsWith('MIIBCgKCAQEA'));
  });

  test('fingerprint is the lowercase hex MD5 of the DER bytes', () => {
    assert.equal(keyFingerprint(DER), createHash('md5').update(DER).digest('hex'));
    assert.match(keyFingerprint(DER), /^[0-9a-f]{32}$/);
  });
});

/**
 * The AWS CLI's own validator (awscli.customizations.cloudtrail.validation) judges a digest made here: it
 * gunzips it, loads the key as PKCS#1 DER from base64 text and checks the signature.
 */
const CLI_VALIDATOR = `
import base64, json, sys, zlib
from awscli.customizations.cloudtrail.validation import Sha256RSADigestValidator
req = json.load(sys.stdin)
inflated = zlib.decompress(base64.b64decode(req['gz']), zlib.MAX_WBITS | 16)
data = json.loads(inflated.decode())
data['_signature'] = req['signature']
Sha256RSADigestValidator().validate(req['bucket'], req['key'], req['publicKey'], data, inflated)
print('valid')
`;

async function cliValidates(request: Record<string, string>): Promise<string> {
  const child = promisify(execFile)('python3', ['-c', CLI_VALIDATOR], { timeout: 30_000 });
  child.child.stdin?.end(JSON.stringify(request));
  try {
    return (await child).stdout.trim();
  } catch (error) {
    return (error as { stderr?: string }).stderr ?? String(error);
  }
}

describe('the AWS CLI validator', () => {
  test('accepts a signed digest and rejects one with a changed byte', async () => {
    const content = digest({ previousDigestSignature: 'ab'.repeat(256), previousDigestS3Bucket: 'trail-bucket' });
    const bytes = serializeDigest(content);
    const signature = signDigest(content, bytes, privateKey);
    const request = {
      bucket: content.digestS3Bucket,
      key: content.digestS3Object,
      signature,
      publicKey: DER.toString('base64'),
    };
    assert.equal(await cliValidates({ ...request, gz: gzipOneMember(bytes).toString('base64') }), 'valid');
    const tampered = Buffer.from(bytes.toString('utf8').replace(ACCOUNT, '123456789013'), 'utf8');
    assert.match(
      await cliValidates({ ...request, gz: gzipOneMember(tampered).toString('base64') }),
      /signature verification failed/,
    );
  });
});

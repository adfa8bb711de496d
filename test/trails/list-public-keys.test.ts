import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CreateTrailCommand, ListPublicKeysCommand, ListTagsCommand } from '@aws-sdk/client-cloudtrail';
import { rejectsWith, withServer } from '../helpers/server.ts';

/** ListPublicKeys (facts §5.6) through the JS SDK and the AWS CLI against the real server. */
const HOUR_MS = 3600 * 1000;

describe('ListPublicKeys', () => {
  test("returns the Region's current key as PKCS#1 DER bytes fingerprinted by their MD5", async () => {
    await withServer(async (w) => {
      const { PublicKeyList = [] } = await w.cloudtrail().send(new ListPublicKeysCommand({}));
      assert.equal(PublicKeyList.length, 1);
      const [key] = PublicKeyList;
      const der = Buffer.from(key?.Value ?? new Uint8Array());
      assert.ok(der.toString('base64').startsWith('MIIBCgKCAQEA'));
      const parsed = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
      assert.equal(parsed.asymmetricKeyDetails?.modulusLength, 2048);
      assert.equal(key?.Fingerprint, createHash('md5').update(der).digest('hex'));
      const now = Date.now();
      assert.ok((key?.ValidityStartTime?.getTime() ?? Infinity) <= now);
      assert.ok((key?.ValidityEndTime?.getTime() ?? 0) > now);
    });
  });

  test('answers InvalidTimeRangeException when StartTime is after EndTime', async () => {
    await withServer(async (w) => {
      const now = Date.now();
      await rejectsWith(
        w.cloudtrail().send(new ListPublicKeysCommand({ StartTime: new Date(now), EndTime: new Date(now - HOUR_MS) })),
        'InvalidTimeRangeException',
      );
    });
  });

  test('answers InvalidTokenException to a NextToken, as ListTags does: both answer in one page', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await rejectsWith(
        ct.send(new ListPublicKeysCommand({ NextToken: 'made-up' })),
        'InvalidTokenException',
        /one page/,
      );
      const { TrailARN } = await ct.send(new CreateTrailCommand({ Name: 'tagged', S3BucketName: 'token-bucket' }));
      await rejectsWith(
        ct.send(new ListTagsCommand({ ResourceIdList: [TrailARN as string], NextToken: 'made-up' })),
        'InvalidTokenException',
      );
    });
  });

  test('accepts an EndTime 2 hours in the future, as validate-logs asks', async () => {
    await withServer(async (w) => {
      const now = Date.now();
      const { PublicKeyList = [] } = await w
        .cloudtrail()
        .send(new ListPublicKeysCommand({ StartTime: new Date(now - HOUR_MS), EndTime: new Date(now + 2 * HOUR_MS) }));
      assert.equal(PublicKeyList.length, 1);
    });
  });

  test('gives another Region another key, the same one on each call', async () => {
    await withServer(async (w) => {
      const fingerprint = async (region: string) =>
        (await w.cloudtrail({ region }).send(new ListPublicKeysCommand({}))).PublicKeyList?.map((k) => k.Fingerprint);
      const east = await fingerprint('us-east-1');
      const west = await fingerprint('eu-west-1');
      assert.equal(east?.length, 1);
      assert.equal(west?.length, 1);
      assert.notDeepEqual(east, west);
      assert.deepEqual(await fingerprint('us-east-1'), east);
    });
  });

  test('reaches the AWS CLI as base64 text, which it keeps as sent', async () => {
    await withServer(async (w) => {
      const env = {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        AWS_ACCESS_KEY_ID: w.adminCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: w.adminCredentials.secretAccessKey,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PAGER: '',
      };
      const argv = ['cloudtrail', 'list-public-keys', '--endpoint-url', w.url, '--region', 'us-east-1'];
      const { stdout } = await promisify(execFile)('aws', [...argv, '--output', 'json'], { env, timeout: 60_000 });
      const out = JSON.parse(stdout) as { PublicKeyList: { Value: string; Fingerprint: string }[] };
      const [key] = out.PublicKeyList;
      assert.ok(key?.Value.startsWith('MIIBCgKCAQEA'), key?.Value);
      assert.equal(
        key?.Fingerprint,
        createHash('md5')
          .update(Buffer.from(key?.Value ?? '', 'base64'))
          .digest('hex'),
      );
    });
  });
});

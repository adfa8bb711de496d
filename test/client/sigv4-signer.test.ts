import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { type AwsCredentials, type RequestToSign, SigV4Signer } from '../../src/client/sigv4-signer.ts';
import { NodeSha256 } from '../../src/model/node-sha256.ts';

/** The CLI's SigV4 signer against the AWS SDK's (@smithy/signature-v4), header for header. */
const CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const AT = new Date('2026-01-08T05:21:42.123Z');

async function sdkHeaders(
  request: RequestToSign,
  service: string,
  credentials = CREDENTIALS,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials,
    region: 'eu-west-1',
    service,
    sha256: NodeSha256,
    uriEscapePath: service !== 's3',
  });
  const signed = await signer.sign(
    {
      protocol: 'http:',
      hostname: 'localhost',
      ...request,
      ...(request.body !== undefined ? { body: request.body } : {}),
    },
    { signingDate: AT },
  );
  return signed.headers;
}

describe('SigV4 signer', () => {
  it('signs an S3 GET of an encoded key with a query as the AWS SDK does', async () => {
    const request: RequestToSign = {
      method: 'GET',
      path: '/bucket/AWSLogs/with%20space/%C3%A9%2B%21%27%28%29%2A~.json.gz',
      query: { 'list-type': '2', prefix: 'a b/é+', 'start-after': "x!'()*~", 'max-keys': '1000' },
      headers: { host: 'localhost:4566', 'user-agent': 'opentrail-cli' },
    };
    assert.deepEqual(
      new SigV4Signer(CREDENTIALS, 'eu-west-1', 's3').sign(request, AT),
      await sdkHeaders(request, 's3'),
    );
  });

  it('signs a JSON POST with a session token as the AWS SDK does', async () => {
    const credentials = { ...CREDENTIALS, sessionToken: 'session/token+=' };
    const body = JSON.stringify({ StartTime: 1767849702.123 });
    const request: RequestToSign = {
      method: 'POST',
      path: '/',
      query: {},
      headers: {
        host: 'localhost:4790',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CloudTrail_20131101.ListPublicKeys',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'opentrail-cli',
      },
      body,
    };
    assert.deepEqual(
      new SigV4Signer(credentials, 'eu-west-1', 'cloudtrail').sign(request, AT),
      await sdkHeaders(request, 'cloudtrail', credentials),
    );
  });

  it("normalises and encodes again a path outside S3, and folds a header's blanks, as the AWS SDK does", async () => {
    const request: RequestToSign = {
      method: 'GET',
      path: '/a/./b/../c%20d//e/',
      query: {},
      headers: { host: 'localhost', 'x-spaced': '  two   words\there  ' },
    };
    assert.deepEqual(
      new SigV4Signer(CREDENTIALS, 'eu-west-1', 'cloudtrail').sign(request, AT),
      await sdkHeaders(request, 'cloudtrail'),
    );
  });
});

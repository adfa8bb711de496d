import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailCommand,
  ListTrailsCommand,
} from '@aws-sdk/client-cloudtrail';
import { rejectsWith, startTestServer, type TestWorld } from '../helpers/server.ts';
import { type RawRequestOptions, type RawResponse, rawRequest, SDK_PREFIX } from '../helpers/signed-request.ts';

/**
 * SigV4 as AWS checks it (facts §1.1): who signed, with which key, for which service and Region, when, and
 * over which bytes. Each refusal is the AWS error name a client would see, with AWS's wording.
 */
let world: TestWorld;
let stop: () => Promise<void>;
const MINUTE_MS = 60_000;
const MISMATCH =
  /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key/;

before(async () => {
  ({ world, stop } = await startTestServer());
});
after(() => stop());

/** An SDK client whose clock is `offsetMs` away from the server's. */
function clientWithClockOffset(offsetMs: number): CloudTrailClient {
  return new CloudTrailClient({
    endpoint: world.url,
    region: 'us-east-1',
    credentials: world.adminCredentials,
    maxAttempts: 1,
    systemClockOffset: offsetMs,
  });
}

function listTrails(options: Partial<RawRequestOptions> = {}): Promise<RawResponse> {
  return rawRequest({
    url: world.url,
    credentials: world.adminCredentials,
    target: `${SDK_PREFIX}.ListTrails`,
    body: '{}',
    ...options,
  });
}

function assertRefused(response: RawResponse, status: number, type: string, message: RegExp): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.json?.['__type'], type, response.text);
  assert.match(String(response.json?.['message']), message);
}

function editAuthorization(headers: Record<string, string>, edit: (value: string) => string): void {
  headers['authorization'] = edit(headers['authorization'] ?? '');
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` without one of its parameters. */
function withoutParameter(authorization: string, name: string): string {
  const space = authorization.indexOf(' ');
  const params = authorization
    .slice(space + 1)
    .split(', ')
    .filter((p) => !p.startsWith(`${name}=`));
  return `${authorization.slice(0, space)} ${params.join(', ')}`;
}

describe('who signed', () => {
  it('answers a request without Authorization with 403 MissingAuthenticationTokenException', async () => {
    assertRefused(
      await listTrails({ credentials: null }),
      403,
      'MissingAuthenticationTokenException',
      /^Missing Authentication Token$/,
    );
  });

  for (const part of ['Credential', 'SignedHeaders', 'Signature']) {
    it(`answers an Authorization header without ${part} with IncompleteSignatureException`, async () => {
      const response = await listTrails({
        alterHeaders: (h) => editAuthorization(h, (v) => withoutParameter(v, part)),
      });
      assertRefused(
        response,
        400,
        'IncompleteSignatureException',
        new RegExp(`Authorization header requires '${part}' parameter`),
      );
    });
  }

  it('answers an Authorization header of another scheme with IncompleteSignatureException', async () => {
    const response = await listTrails({ alterHeaders: (h) => (h['authorization'] = 'Bearer abc.def.ghi') });
    assertRefused(response, 400, 'IncompleteSignatureException', /sign the request with Signature Version 4/);
  });

  it('answers a request without X-Amz-Date with IncompleteSignatureException', async () => {
    const response = await listTrails({ alterHeaders: (h) => delete h['x-amz-date'] });
    assertRefused(
      response,
      400,
      'IncompleteSignatureException',
      /requires existence of either a 'X-Amz-Date' or a 'Date' header/,
    );
  });

  it('answers an unknown access key with UnrecognizedClientException', async () => {
    const stranger = world.cloudtrail({ credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } });
    await rejectsWith(
      stranger.send(new ListTrailsCommand({})),
      'UnrecognizedClientException',
      /^The security token included in the request is invalid\.$/,
    );
  });

  it('answers a wrong secret with InvalidSignatureException', async () => {
    const wrong = world.cloudtrail({
      credentials: { accessKeyId: world.adminCredentials.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    await rejectsWith(wrong.send(new ListTrailsCommand({})), 'InvalidSignatureException', MISMATCH);
  });

  it('accepts the root key of any account it knows, acting in that account', async () => {
    const { accountId, root } = await world.newAccount();
    const created = await world
      .cloudtrail({ credentials: root })
      .send(new CreateTrailCommand({ Name: 'owned', S3BucketName: 'owned-bucket' }));
    assert.equal(created.TrailARN, `arn:aws:cloudtrail:us-east-1:${accountId}:trail/owned`);
  });
});

describe('what was signed', () => {
  it('answers a body changed after signing with InvalidSignatureException', async () => {
    const response = await listTrails({ body: '{}', sendBody: '{"NextToken":"x"}' });
    assertRefused(response, 400, 'InvalidSignatureException', MISMATCH);
  });

  it('answers a body that does not match its signed x-amz-content-sha256 with InvalidSignatureException', async () => {
    const response = await listTrails({ body: '{}', sendBody: '{ }', payloadHashHeader: true });
    assertRefused(response, 400, 'InvalidSignatureException', /x-amz-content-sha256 header does not match/);
  });

  it('answers an X-Amz-Target changed after signing with InvalidSignatureException', async () => {
    const response = await listTrails({ alterHeaders: (h) => (h['x-amz-target'] = `${SDK_PREFIX}.DescribeTrails`) });
    assertRefused(response, 400, 'InvalidSignatureException', MISMATCH);
  });

  it('ignores headers that were not signed', async () => {
    const response = await listTrails({ alterHeaders: (h) => (h['x-unsigned-extra'] = 'anything') });
    assert.equal(response.status, 200, response.text);
  });

  it('answers a signature that leaves out Host with InvalidSignatureException', async () => {
    const response = await listTrails({
      alterHeaders: (h) => editAuthorization(h, (v) => v.replace(/SignedHeaders=[^,]*/, 'SignedHeaders=x-amz-date')),
    });
    assertRefused(response, 400, 'InvalidSignatureException', /'Host' must be a 'SignedHeader'/);
  });

  it('answers a credential scope date other than X-Amz-Date with InvalidSignatureException', async () => {
    const response = await listTrails({
      alterHeaders: (h) => editAuthorization(h, (v) => v.replace(/\/\d{8}\//, '/20200101/')),
    });
    assertRefused(response, 400, 'InvalidSignatureException', /Date in Credential scope does not match YYYYMMDD/);
  });
});

describe('when it was signed', () => {
  it('answers a request signed 16 minutes ago with "Signature expired"', async () => {
    await rejectsWith(
      clientWithClockOffset(-16 * MINUTE_MS).send(new ListTrailsCommand({})),
      'InvalidSignatureException',
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
    );
  });

  it('answers a request signed 16 minutes ahead with "Signature not yet current"', async () => {
    await rejectsWith(
      clientWithClockOffset(16 * MINUTE_MS).send(new ListTrailsCommand({})),
      'InvalidSignatureException',
      /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/,
    );
  });

  it('accepts a request signed 14 minutes ago or 14 minutes ahead', async () => {
    for (const offset of [-14 * MINUTE_MS, 14 * MINUTE_MS]) {
      const listed = await clientWithClockOffset(offset).send(new ListTrailsCommand({}));
      assert.ok(Array.isArray(listed.Trails), `offset ${offset / MINUTE_MS} min`);
    }
  });

  it('answers a malformed X-Amz-Date with IncompleteSignatureException', async () => {
    const response = await listTrails({ alterHeaders: (h) => (h['x-amz-date'] = '2026-01-01T00:00:00Z') });
    assertRefused(response, 400, 'IncompleteSignatureException', /is not of the form YYYYMMDDTHHMMSSZ/);
    // The right shape, but no such day: not read as the 2nd of March.
    const february30 = await listTrails({ alterHeaders: (h) => (h['x-amz-date'] = '20260230T000000Z') });
    assertRefused(february30, 400, 'IncompleteSignatureException', /is not of the form YYYYMMDDTHHMMSSZ/);
  });
});

describe('the credential scope', () => {
  it('answers a request scoped to another service with InvalidSignatureException', async () => {
    const response = await listTrails({ service: 's3' });
    assertRefused(
      response,
      400,
      'InvalidSignatureException',
      /^Credential should be scoped to correct service: 'cloudtrail'/,
    );
  });

  it('answers a request scoped to an unknown Region with InvalidSignatureException', async () => {
    const nowhere = world.cloudtrail({ region: 'xx-nowhere-1' });
    await rejectsWith(
      nowhere.send(new ListTrailsCommand({})),
      'InvalidSignatureException',
      /Credential should be scoped to a valid region, not 'xx-nowhere-1'/,
    );
  });

  it('answers a scope not ending in aws4_request with IncompleteSignatureException', async () => {
    const response = await listTrails({
      alterHeaders: (h) => editAuthorization(h, (v) => v.replace('/aws4_request', '/aws5_request')),
    });
    assertRefused(response, 400, 'IncompleteSignatureException', /valid terminator: 'aws4_request'/);
  });

  it('acts in the Region of the credential scope', async () => {
    const ireland = world.cloudtrail({ region: 'eu-west-1' });
    const created = await ireland.send(new CreateTrailCommand({ Name: 'irish', S3BucketName: 'irish-bucket' }));
    assert.equal(created.TrailARN, `arn:aws:cloudtrail:eu-west-1:${world.app.admin.accountId}:trail/irish`);
    const got = await ireland.send(new GetTrailCommand({ Name: 'irish' }));
    assert.equal(got.Trail?.HomeRegion, 'eu-west-1');
    const virginia = world.cloudtrail({ region: 'us-east-1' });
    await rejectsWith(virginia.send(new GetTrailCommand({ Name: 'irish' })), 'TrailNotFoundException', /irish/);
    const described = await virginia.send(new DescribeTrailsCommand({}));
    assert.ok(!described.trailList?.some((t) => t.Name === 'irish'), 'a single-Region trail stays in its Region');
  });
});

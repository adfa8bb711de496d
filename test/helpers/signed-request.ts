import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { NodeSha256 } from '../../src/model/node-sha256.ts';

/**
 * One HTTP request to the server, built by hand so a test can send what no SDK would: any target, any
 * body bytes, headers changed after signing. Signed with the AWS SDK's own SigV4 signer, as
 * src/client/json-api-client.ts signs, unless `credentials` is `null`.
 */
export interface RawRequestOptions {
  url: string;
  /** `null` sends the request unsigned. */
  credentials: Credentials | null;
  /** The X-Amz-Target header; omitted when undefined. */
  target?: string;
  body?: string | Buffer;
  /** The Content-Type to sign and send; `null` sends none. */
  contentType?: string | null;
  method?: string;
  path?: string;
  region?: string;
  /** The signing name in the credential scope. */
  service?: string;
  signingDate?: Date;
  /** Whether the signer adds x-amz-content-sha256 (the SDK's default); botocore does not send it. */
  payloadHashHeader?: boolean;
  /** Edits the signed headers before they are sent (lower-case names). */
  alterHeaders?(headers: Record<string, string>): void;
  /** A body to send in place of the signed one. */
  sendBody?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

export const JSON_11 = 'application/x-amz-json-1.1';
export const SDK_PREFIX = 'CloudTrail_20131101';
export const BOTOCORE_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101';

export async function signedHeaders(options: RawRequestOptions): Promise<Record<string, string>> {
  const url = new URL(options.url);
  const body = options.body ?? '{}';
  const headers: Record<string, string> = { host: url.host };
  const contentType = options.contentType === undefined ? JSON_11 : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.target !== undefined) headers['x-amz-target'] = options.target;
  if (options.credentials === null) return headers;
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region ?? 'us-east-1',
    service: options.service ?? 'cloudtrail',
    sha256: NodeSha256,
    applyChecksum: options.payloadHashHeader ?? false,
  });
  const signed = await signer.sign(
    {
      method: options.method ?? 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: options.path ?? '/',
      query: {},
      headers,
      body,
    },
    { signingDate: options.signingDate ?? new Date() },
  );
  return signed.headers as Record<string, string>;
}

export async function rawRequest(options: RawRequestOptions): Promise<RawResponse> {
  const headers = await signedHeaders(options);
  options.alterHeaders?.(headers);
  // fetch sets these itself from the URL and the body.
  delete headers['host'];
  delete headers['content-length'];
  const method = options.method ?? 'POST';
  const body = options.sendBody ?? options.body ?? '{}';
  const response = await fetch(new URL(options.path ?? '/', options.url), {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../model/node-sha256.ts';
import { ServiceError } from '../model/service-error.ts';
import { compactStampMs } from '../model/utc-time.ts';
import type { ApiRequest } from './http-types.ts';

/**
 * Verifies AWS Signature Version 4 on an incoming request. The canonical request and the signature are
 * computed by the AWS SDK's own signer (@smithy/signature-v4) from the headers the caller says it signed,
 * at the time it says it signed; we only parse the Authorization header, check the scope and the clock
 * skew, and compare signatures in constant time.
 */
export type IncomingSignedRequest = Omit<ApiRequest, 'sourceIp'>;

export interface SigningKeyHolder<P> {
  secretAccessKey: string;
  principal: P;
}

export interface VerifiedRequest<P> {
  principal: P;
  accessKeyId: string;
  region: string;
  service: string;
}

export interface VerifyOptions<P> {
  nowMs: number;
  resolveAccessKey(accessKeyId: string): SigningKeyHolder<P> | undefined;
  isKnownRegion(region: string): boolean;
  /** Signing names this endpoint answers to, e.g. ['cloudtrail']. */
  services: readonly string[];
  /**
   * The body is streamed on, not held: the signature is checked over the signed `x-amz-content-sha256`
   * header's claim, and the caller checks the claim against the bytes as they pass (`payloadHashCheck`).
   */
  streamedBody?: boolean;
}

/** AWS accepts a request signed up to 15 minutes before or after its own clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

function header(req: IncomingSignedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function parseAuthorization(value: string): ParsedAuthorization {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `Unsupported Authorization algorithm '${algorithm}'; sign the request with Signature Version 4 (${ALGORITHM}).`,
    );
  }
  const params = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !params.get(p));
  if (missing.length > 0) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `${missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ')} Authorization=${value.split(' ')[0]}`,
    );
  }
  const credential = (params.get('Credential') as string).split('/');
  if (credential.length !== 5 || credential.some((c) => c === '')) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request, got '${params.get('Credential')}'.`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: (params.get('SignedHeaders') as string).split(';'),
    signature: params.get('Signature') as string,
  };
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export async function verifySigV4<P>(
  req: IncomingSignedRequest,
  options: VerifyOptions<P>,
): Promise<VerifiedRequest<P>> {
  const authorization = header(req, 'authorization');
  if (authorization === undefined || authorization === '') {
    throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const auth = parseAuthorization(authorization);
  const dateText = header(req, 'x-amz-date');
  if (dateText === undefined) {
    throw new ServiceError(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header; send X-Amz-Date.",
    );
  }
  const signedAt = compactStampMs(dateText);
  if (Number.isNaN(signedAt)) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `X-Amz-Date '${dateText}' is not of the form YYYYMMDDTHHMMSSZ.`,
    );
  }
  if (!auth.signedHeaders.includes('host')) {
    throw new ServiceError('InvalidSignatureException', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  checkScope(auth, dateText, options);
  const now = options.nowMs;
  if (signedAt < now - MAX_CLOCK_SKEW_MS) {
    throw new ServiceError(
      'InvalidSignatureException',
      `Signature expired: ${dateText} is now earlier than ${amzDate(now - MAX_CLOCK_SKEW_MS)} (${amzDate(now)} - 15 min.)`,
    );
  }
  if (signedAt > now + MAX_CLOCK_SKEW_MS) {
    throw new ServiceError(
      'InvalidSignatureException',
      `Signature not yet current: ${dateText} is still later than ${amzDate(now + MAX_CLOCK_SKEW_MS)} (${amzDate(now)} + 15 min.)`,
    );
  }
  const key = resolveKey(auth, options);
  if (options.streamedBody === true) requireSignedPayloadClaim(req, auth);
  else checkPayloadHash(req, auth.service);
  return signatureMatches(auth, key, await computeSignature(req, auth, key.secretAccessKey, signedAt));
}

/** The verified caller when the given signature is the expected one, compared in constant time. */
function signatureMatches<P>(
  auth: ParsedAuthorization,
  key: SigningKeyHolder<P>,
  expected: string,
): VerifiedRequest<P> {
  const given = Buffer.from(auth.signature, 'utf8');
  const want = Buffer.from(expected, 'utf8');
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new ServiceError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { principal: key.principal, accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service };
}

/** The query parameters of a presigned URL's signature (the other query parameters are signed by it). */
export const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
];
/** AWS's longest presigned URL lifetime: seven days. */
const MAX_PRESIGNED_SECONDS = 604_800;

/**
 * Verifies a presigned (query-string signed) request, as S3 URLs from `generate_presigned_url` and the SDKs'
 * presigners are: the same scope, key and skew checks as a signed header, the URL's expiry, and the
 * signature recomputed by the SDK's signer over the other query parameters, the signed headers and, for S3,
 * an unsigned payload.
 */
export async function verifyPresignedSigV4<P>(
  req: IncomingSignedRequest,
  options: VerifyOptions<P>,
): Promise<VerifiedRequest<P>> {
  const param = (name: string): string => {
    const value = req.query[name];
    // Only the first of a repeated parameter would be checked, so anyone could add another to a valid URL.
    if (Array.isArray(value)) {
      throw new ServiceError('IncompleteSignatureException', `A presigned URL may hold ${name} only once.`);
    }
    if (value === undefined || value === '') {
      throw new ServiceError('IncompleteSignatureException', `A presigned URL needs the ${name} query parameter.`);
    }
    return value;
  };
  const algorithm = param('X-Amz-Algorithm');
  const auth = parseAuthorization(
    `${algorithm} Credential=${param('X-Amz-Credential')}, SignedHeaders=${param('X-Amz-SignedHeaders')}, Signature=${param('X-Amz-Signature')}`,
  );
  const dateText = param('X-Amz-Date');
  const signedAt = compactStampMs(dateText);
  const expires = Number(param('X-Amz-Expires'));
  if (Number.isNaN(signedAt) || !Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `X-Amz-Date must be YYYYMMDDTHHMMSSZ and X-Amz-Expires 1 to ${MAX_PRESIGNED_SECONDS} seconds.`,
    );
  }
  checkScope(auth, dateText, options);
  if (signedAt > options.nowMs + MAX_CLOCK_SKEW_MS) {
    throw new ServiceError('InvalidSignatureException', `Signature not yet current: ${dateText}.`);
  }
  if (options.nowMs > signedAt + expires * 1000) {
    throw new ServiceError('MissingAuthenticationTokenException', 'Request has expired');
  }
  const key = resolveKey(auth, options);
  const headers = signedHeaderValues(req, auth);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.query)) if (!PRESIGN_PARAMS.includes(k)) query[k] = v;
  const isS3 = auth.service === 's3';
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: key.secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    uriEscapePath: !isS3,
    applyChecksum: false,
  });
  const payloadClaim =
    isS3 && !('x-amz-content-sha256' in headers) ? { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : {};
  const presigned = await signer.presign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers['host'] ?? 'localhost',
      path: req.path,
      query,
      headers: { ...headers, ...payloadClaim },
      ...(isS3 ? {} : { body: req.body }),
    },
    {
      signingDate: new Date(signedAt),
      expiresIn: expires,
      unhoistableHeaders: new Set([...Object.keys(headers), 'x-amz-content-sha256']),
      unsignableHeaders: new Set(Object.keys(payloadClaim)),
    },
  );
  return signatureMatches(auth, key, String(presigned.query?.['X-Amz-Signature'] ?? ''));
}

function resolveKey<P>(auth: ParsedAuthorization, options: VerifyOptions<P>): SigningKeyHolder<P> {
  const key = options.resolveAccessKey(auth.accessKeyId);
  if (key === undefined) {
    throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  return key;
}

/** The values of the headers the caller says it signed (lower-case names). */
function signedHeaderValues(req: IncomingSignedRequest, auth: ParsedAuthorization): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = header(req, name);
    if (v !== undefined) headers[name] = v;
  }
  return headers;
}

/** The credential scope's terminator, date, service and Region, as both signature forms need them. */
function checkScope<P>(auth: ParsedAuthorization, dateText: string, options: VerifyOptions<P>): void {
  if (auth.terminator !== 'aws4_request') {
    throw new ServiceError(
      'IncompleteSignatureException',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'.`,
    );
  }
  if (auth.date !== dateText.slice(0, 8)) {
    throw new ServiceError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${dateText.slice(0, 8)}', from '${dateText}'.`,
    );
  }
  if (!options.services.includes(auth.service)) {
    throw new ServiceError(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${options.services[0]}'.`,
    );
  }
  if (!options.isKnownRegion(auth.region)) {
    throw new ServiceError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${auth.region}'.`,
    );
  }
}

/** Payload claims whose bytes carry no hash to check as they pass (S3 only). */
export const UNSIGNED_PAYLOADS = ['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'];

function requireSignedPayloadClaim(req: IncomingSignedRequest, auth: ParsedAuthorization): void {
  const claimed = header(req, 'x-amz-content-sha256');
  if (claimed === undefined || !auth.signedHeaders.includes('x-amz-content-sha256')) {
    throw new ServiceError(
      'IncompleteSignatureException',
      'A streamed request body needs a signed x-amz-content-sha256 header: its SHA-256 in hex, or UNSIGNED-PAYLOAD.',
    );
  }
  if (!/^[0-9a-f]{64}$/.test(claimed) && !UNSIGNED_PAYLOADS.includes(claimed)) {
    throw new ServiceError(
      'IncompleteSignatureException',
      `x-amz-content-sha256 '${claimed}' is not supported through the proxy: send the payload's SHA-256, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER.`,
    );
  }
}

/** A signed x-amz-content-sha256 must be the body's real hash, or the body would be unauthenticated. */
function checkPayloadHash(req: IncomingSignedRequest, service: string): void {
  const claimed = header(req, 'x-amz-content-sha256');
  if (claimed === undefined) return;
  if (claimed === 'UNSIGNED-PAYLOAD' && service === 's3') return;
  const actual = createHash('sha256').update(req.body).digest('hex');
  if (claimed !== actual) {
    throw new ServiceError(
      'InvalidSignatureException',
      'The provided x-amz-content-sha256 header does not match what was computed from the request body.',
    );
  }
}

async function computeSignature(
  req: IncomingSignedRequest,
  auth: ParsedAuthorization,
  secretAccessKey: string,
  signedAt: number,
): Promise<string> {
  const headers = signedHeaderValues(req, auth);
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    // S3 signs the path as sent; every other service normalises and double-encodes it.
    uriEscapePath: auth.service !== 's3',
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers['host'] ?? 'localhost',
      path: req.path,
      query: req.query,
      headers,
      body: req.body,
    },
    { signingDate: new Date(signedAt), signableHeaders: new Set(auth.signedHeaders) },
  );
  const authHeader = String(signed.headers['authorization'] ?? '');
  return authHeader.slice(authHeader.lastIndexOf('Signature=') + 'Signature='.length);
}

import { XMLParser } from 'fast-xml-parser';
import type { ServiceError } from '../model/service-error.ts';

/**
 * Errors in the protocol of the service the caller thinks it is talking to, for what the proxy itself
 * refuses (a bad signature, an unreachable upstream), and the error code and message of an upstream's
 * failed answer, for the record. Each protocol names the SigV4 failures its own way: S3 says
 * `SignatureDoesNotMatch` and `InvalidAccessKeyId`, the query protocols `InvalidClientTokenId`, EC2
 * `AuthFailure`, and the JSON protocols use CloudTrail's names.
 */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const S3_NAMES: Record<string, string> = {
  MissingAuthenticationTokenException: 'AccessDenied',
  IncompleteSignatureException: 'AuthorizationHeaderMalformed',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  UnrecognizedClientException: 'InvalidAccessKeyId',
};
const QUERY_NAMES: Record<string, string> = {
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
  IncompleteSignatureException: 'IncompleteSignature',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  UnrecognizedClientException: 'InvalidClientTokenId',
};
const AUTH_FAILURES = new Set(Object.keys(S3_NAMES));

/**
 * `presigned`: the refused request was signed in its query string. S3 names a malformed presigned query
 * AuthorizationQueryParametersError, where a malformed Authorization header is AuthorizationHeaderMalformed.
 */
export function proxyErrorAnswer(
  protocol: string,
  error: ServiceError,
  requestId: string,
  presigned = false,
): ErrorAnswer {
  const status = statusOf(protocol, error);
  const text = escapeXml(error.message);
  switch (protocol) {
    case 'rest-xml': {
      const code =
        presigned && error.name === 'IncompleteSignatureException'
          ? 'AuthorizationQueryParametersError'
          : (S3_NAMES[error.name] ?? error.name);
      const detail = Object.entries(error.detail)
        .map(([name, value]) => `<${name}>${escapeXml(value ?? '')}</${name}>`)
        .join('');
      return xmlAnswer(
        status,
        `<Error><Code>${code}</Code><Message>${text}</Message>${detail}<RequestId>${requestId}</RequestId></Error>`,
      );
    }
    case 'query': {
      const code = QUERY_NAMES[error.name] ?? error.name;
      return xmlAnswer(
        status,
        `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${text}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
    case 'ec2': {
      const code = AUTH_FAILURES.has(error.name) ? 'AuthFailure' : error.name;
      return xmlAnswer(
        status,
        `<Response><Errors><Error><Code>${code}</Code><Message>${text}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      );
    }
    default:
      return {
        status,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': error.name,
        },
        body: JSON.stringify({ __type: error.name, message: error.message }),
      };
  }
}

/**
 * The HTTP status of a refusal, as each protocol's services send it: S3 and the query protocols answer a
 * malformed signature (AuthorizationHeaderMalformed or AuthorizationQueryParametersError, IncompleteSignature)
 * with 400 and the other SigV4 failures with 403; EC2's AuthFailure is 403; the JSON protocols take the
 * error table's statuses, as opentrail's own API does (DynamoDB, for one, answers
 * UnrecognizedClientException with 400).
 */
function statusOf(protocol: string, error: ServiceError): number {
  if (!AUTH_FAILURES.has(error.name)) return error.status;
  if (protocol === 'ec2') return 403;
  if (protocol === 'rest-xml' || protocol === 'query') return error.name === 'IncompleteSignatureException' ? 400 : 403;
  return error.status;
}

function xmlAnswer(status: number, body: string): ErrorAnswer {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const parser = new XMLParser({ parseTagValue: false });

/** A failed upstream answer's error code and message, from its body in any protocol, or from its status. */
export function upstreamError(
  status: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer | undefined,
): { code: string; message: string } {
  const text = body?.toString('utf8') ?? '';
  const fromHeader = headers['x-amzn-errortype'];
  let code: string | undefined = typeof fromHeader === 'string' ? errorName(fromHeader.split(':')[0] ?? '') : undefined;
  let message: string | undefined;
  if (text.trimStart().startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      const type = json['__type'] ?? json['code'] ?? json['Code'];
      if (typeof type === 'string') code ??= errorName(type);
      const m = json['message'] ?? json['Message'];
      if (typeof m === 'string') message = m;
    } catch {
      // Not JSON after all: the status names the failure below.
    }
  } else if (text.trimStart().startsWith('<')) {
    try {
      const error = findError(parser.parse(text));
      if (typeof error?.['Code'] === 'string') code ??= error['Code'];
      if (typeof error?.['Message'] === 'string') message = error['Message'];
    } catch {
      // Unparseable XML: the status names the failure below.
    }
  }
  return { code: code ?? STATUS_CODES[status] ?? `Http${status}`, message: message ?? `HTTP ${status}` };
}

/** An error's name without its namespace (`com.amazonaws.sqs#QueueDoesNotExist`), as CloudTrail records it. */
function errorName(type: string): string {
  return type.slice(type.lastIndexOf('#') + 1);
}

/** The `<Error>` element of S3's, the query protocols' and EC2's error documents. */
function findError(doc: unknown, depth = 0): Record<string, unknown> | undefined {
  if (doc === null || typeof doc !== 'object' || depth > 4) return undefined;
  const node = doc as Record<string, unknown>;
  const error = node['Error'];
  if (error !== null && typeof error === 'object' && !Array.isArray(error)) return error as Record<string, unknown>;
  for (const child of Object.values(node)) {
    const found = findError(child, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What S3 and others answer with no body (HEAD requests): the code their status stands for. */
const STATUS_CODES: Record<number, string> = {
  301: 'PermanentRedirect',
  304: 'NotModified',
  400: 'BadRequest',
  403: 'AccessDenied',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  412: 'PreconditionFailed',
  416: 'InvalidRange',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

import { type AwsCredentials, type HttpAnswer, SignedHttpClient } from './signed-http-client.ts';

/**
 * Calls to an AWS JSON 1.1 API (CloudTrail's), retried as the SDK retries them, for the CLI: validate-logs makes
 * two CloudTrail calls, and the SDK's client took ~100 ms to load for them. Unlike JsonApiClient (opentrail's
 * own APIs, never retried: an ingest may not be sent twice), only for reads. Failures read as the SDK's do when
 * printed as `name: message`: `TrailNotFoundException: …`, `Error: connect ECONNREFUSED …`.
 */
export interface AwsJsonClientOptions {
  endpoint: string;
  region: string;
  /** The signing name, `cloudtrail`. */
  service: string;
  /** `X-Amz-Target` is `<targetPrefix>.<operation>`, `CloudTrail_20131101.DescribeTrails`. */
  targetPrefix: string;
  credentials: AwsCredentials;
}

/** A failed call: the service's error code (or the transport error's name) and its message. */
export class AwsCallError extends Error {
  override readonly name = 'AwsCallError';
  readonly code: string;
  /** Undefined when nothing answered. */
  readonly status: number | undefined;

  constructor(code: string, message: string, status: number | undefined, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.status = status;
  }
}

export class AwsJsonClient {
  readonly #http: SignedHttpClient;
  readonly #targetPrefix: string;

  constructor(options: AwsJsonClientOptions) {
    this.#http = new SignedHttpClient(options);
    this.#targetPrefix = options.targetPrefix;
  }

  async call<T>(operation: string, input: object): Promise<T> {
    let answer: HttpAnswer;
    try {
      answer = await this.#http.send({
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `${this.#targetPrefix}.${operation}`,
        },
        body: JSON.stringify(input),
      });
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      throw new AwsCallError(name, message, undefined, { cause: error });
    }
    const body = parseBody(answer.body);
    if (answer.status >= 200 && answer.status < 300) return body as T;
    throw new AwsCallError(
      errorCode(answer, body),
      String(body['message'] ?? body['Message'] ?? 'UnknownError'),
      answer.status,
    );
  }

  close(): void {
    this.#http.close();
  }
}

function parseBody(bytes: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(bytes.toString() || '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** As the SDK reads it: the header, else `__type`; `aws.protocol#Name:detail` is `Name`. */
function errorCode({ headers, status }: HttpAnswer, body: Record<string, unknown>): string {
  const raw = headers['x-amzn-errortype'] ?? body['__type'] ?? body['code'];
  if (typeof raw !== 'string' || raw === '') return String(status);
  const name = raw.split(':')[0] as string;
  return name.slice(name.indexOf('#') + 1);
}

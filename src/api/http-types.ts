import { RawJson } from '../model/raw-json.ts';

/** A request as the API layer sees it, independent of the HTTP framework. */
export interface ApiRequest {
  method: string;
  /** Path as sent, without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sourceIp: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Query parameters as ApiRequest and the SDK's signer hold them: a repeated name becomes a list. */
export function queryMembers(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const existing = query[k];
    query[k] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return query;
}

export function headerValue(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * JSON with timestamps as epoch seconds, as the AWS JSON protocols send them (facts §0.9). A member of the
 * top-level object that is RawJson is written as its text.
 */
export function awsJsonStringify(value: unknown): string {
  if (value !== null && typeof value === 'object' && Object.values(value).some((v) => v instanceof RawJson)) {
    const members = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${v instanceof RawJson ? v.text : awsJsonStringify(v)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    return original instanceof Date ? original.getTime() / 1000 : v;
  });
}

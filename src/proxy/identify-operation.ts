import type { ProxiedOperation, ProxiedService } from './operation-table.ts';

/** What of a request tells its operation apart: the route, the target header, the form body's Action. */
export interface OperationClues {
  method: string;
  /** The path as sent, still percent-encoded, without the bucket of a virtual-host-style S3 request. */
  path: string;
  query: URLSearchParams;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body when it was read (JSON and query protocols); undefined for streamed bodies. */
  body?: Buffer;
}

export interface IdentifiedOperation {
  name: string;
  op: ProxiedOperation;
  /** URI labels bound from the path (`Bucket`, `Key`), decoded. */
  labels: Record<string, string>;
}

/**
 * Names the operation of a request to another AWS service, for every protocol its model speaks: the JSON
 * target (`X-Amz-Target: DynamoDB_20120810.PutItem`), the query `Action` (form body or URL), the
 * RPC v2 path (`/service/<Service>/operation/<Op>`), and REST routes matched against the model's URI
 * templates, where several operations share a route (S3's PUT `/{Bucket}/{Key+}` is PutObject, CopyObject,
 * UploadPart or UploadPartCopy) and the one whose required query members and headers are all present, and
 * most of them, wins.
 */
export function identifyOperation(service: ProxiedService, clues: OperationClues): IdentifiedOperation | undefined {
  const target = header(clues.headers, 'x-amz-target');
  if (target !== undefined) {
    const name = target.slice(target.lastIndexOf('.') + 1);
    return byName(service, name);
  }
  const rpc = /^\/service\/[^/]+\/operation\/([^/?]+)$/.exec(clues.path);
  if (rpc?.[1] !== undefined) return byName(service, rpc[1]);
  const action = queryAction(clues);
  if (action !== undefined) return byName(service, action);
  if (service.protocol === 'rest-xml' || service.protocol === 'rest-json') return byRoute(service, clues);
  return undefined;
}

function byName(service: ProxiedService, name: string): IdentifiedOperation | undefined {
  const op = Object.hasOwn(service.operations, name) ? service.operations[name] : undefined;
  return op === undefined ? undefined : { name, op, labels: {} };
}

function queryAction(clues: OperationClues): string | undefined {
  const fromUrl = clues.query.get('Action');
  if (fromUrl !== null) return fromUrl;
  const type = header(clues.headers, 'content-type') ?? '';
  if (clues.body === undefined || !type.startsWith('application/x-www-form-urlencoded')) return undefined;
  return new URLSearchParams(clues.body.toString('utf8')).get('Action') ?? undefined;
}

/** A service's operations by HTTP method, so a request is matched against its method's routes only. */
const byMethod = new WeakMap<ProxiedService, Map<string, [string, ProxiedOperation][]>>();

function routesFor(service: ProxiedService, method: string): [string, ProxiedOperation][] {
  let index = byMethod.get(service);
  if (index === undefined) {
    index = new Map();
    for (const entry of Object.entries(service.operations)) {
      const list = index.get(entry[1].method) ?? [];
      list.push(entry);
      index.set(entry[1].method, list);
    }
    byMethod.set(service, index);
  }
  return index.get(method) ?? [];
}

function byRoute(service: ProxiedService, clues: OperationClues): IdentifiedOperation | undefined {
  let best: { name: string; op: ProxiedOperation; labels: Record<string, string>; score: number } | undefined;
  for (const [name, op] of routesFor(service, clues.method)) {
    const labels = matchPath(op.path, clues.path);
    if (labels === undefined) continue;
    const score = routeScore(op, clues);
    if (score === undefined) continue;
    if (best === undefined || score > best.score) best = { name, op, labels, score };
  }
  return best === undefined ? undefined : { name: best.name, op: best.op, labels: best.labels };
}

/** How specific a match is, or undefined when a literal query member or a required member is missing. */
function routeScore(op: ProxiedOperation, clues: OperationClues): number | undefined {
  let score = 0;
  for (const [key, value] of Object.entries(op.query ?? {})) {
    const given = clues.query.get(key);
    if (given === null || (value !== '' && given !== value)) return undefined;
    score += 2;
  }
  for (const key of op.requiredQuery ?? []) {
    if (!clues.query.has(key)) return undefined;
    score += 1;
  }
  for (const name of op.requiredHeaders ?? []) {
    if (header(clues.headers, name) === undefined) return undefined;
    score += 1;
  }
  return score;
}

const templates = new Map<string, { regex: RegExp; names: string[] }>();

/** Binds a URI template (`/{Bucket}/{Key+}`) to a path; `{Name+}` takes the rest of the path, slashes and all. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  let compiled = templates.get(template);
  if (compiled === undefined) {
    const names: string[] = [];
    const source = template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const label = /^\{([^}+]+)(\+?)\}$/.exec(part);
        if (label === null) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(label[1] as string);
        return label[2] === '+' ? '(.+)' : '([^/]+)';
      })
      .join('');
    compiled = { regex: new RegExp(`^${source}$`), names };
    templates.set(template, compiled);
  }
  const m = compiled.regex.exec(path);
  if (m === null) return undefined;
  const labels: Record<string, string> = {};
  compiled.names.forEach((name, i) => {
    labels[name] = safeDecode(m[i + 1] as string);
  });
  return labels;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function header(headers: OperationClues['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

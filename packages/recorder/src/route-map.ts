/**
 * The route-to-operation map: `'DELETE /orders/:id'` → `CancelOrder`. A pattern is a method (or `*`) and a
 * path whose `:name` segments capture path parameters. When several patterns match, the one with more
 * literal segments wins, so `GET /orders/summary` beats `GET /orders/:id` whatever their order.
 */
export interface OperationOptions {
  eventName: string;
  /** Defaults to true for GET, HEAD and OPTIONS, false otherwise. */
  readOnly?: boolean;
}

export type OperationMap = Readonly<Record<string, string | OperationOptions>>;

export interface MatchedOperation {
  eventName: string;
  readOnly: boolean;
  params: Record<string, string>;
}

interface CompiledRoute {
  method: string;
  segments: string[];
  literals: number;
  eventName: string;
  readOnly: boolean | undefined;
}

export type OperationMatcher = (method: string, path: string) => MatchedOperation | undefined;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', '*']);
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Compiles the map once; a malformed pattern throws, naming it, when the recorder is created. */
export function compileOperations(operations: OperationMap): OperationMatcher {
  const routes = Object.entries(operations).map(([pattern, operation]) => compileRoute(pattern, operation));
  return (method, path) => {
    const segments = splitPath(path);
    let best: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of routes) {
      if (!methodMatches(route.method, method)) continue;
      if (best !== undefined && best.route.literals >= route.literals) continue;
      const params = matchSegments(route.segments, segments);
      if (params !== undefined) best = { route, params };
    }
    if (best === undefined) return undefined;
    return {
      eventName: best.route.eventName,
      readOnly: best.route.readOnly ?? READ_ONLY_METHODS.has(method),
      params: best.params,
    };
  };
}

/** HEAD is answered by GET routes, as Express and Fastify do. */
function methodMatches(routeMethod: string, method: string): boolean {
  return routeMethod === '*' || routeMethod === method || (method === 'HEAD' && routeMethod === 'GET');
}

function compileRoute(pattern: string, operation: string | OperationOptions): CompiledRoute {
  const m = /^([A-Z]+|\*) +(\/\S*)$/.exec(pattern.trim());
  if (m === null || !METHODS.has(m[1] as string)) {
    throw new TypeError(`operations: '${pattern}' is not 'METHOD /path' (e.g. 'DELETE /orders/:id').`);
  }
  const { eventName, readOnly } =
    typeof operation === 'string' ? { eventName: operation, readOnly: undefined } : operation;
  if (typeof eventName !== 'string' || eventName === '') {
    throw new TypeError(`operations: '${pattern}' needs a non-empty eventName.`);
  }
  const segments = splitPath(m[2] as string);
  return {
    method: m[1] as string,
    segments,
    literals: segments.filter((s) => !s.startsWith(':')).length,
    eventName,
    readOnly,
  };
}

/** Path segments without empty ones, so `/orders/` and `/orders` are the same route. */
function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, p] of pattern.entries()) {
    const s = path[i] as string;
    if (p.startsWith(':')) params[p.slice(1)] = decode(s);
    else if (p !== s) return undefined;
  }
  return params;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

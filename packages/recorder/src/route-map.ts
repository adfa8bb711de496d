/**
 * The route-to-operation map: `'DELETE /orders/:id'` → `CancelOrder`. A pattern is a method (or `*`) and a
 * path whose `:name` segments capture path parameters. When several patterns match, the one with more
 * literal segments wins, so `GET /orders/summary` beats `GET /orders/:id` whatever their order. Literal
 * segments match whatever their case and percent-encoding (`/ORDERS`, `/%6Frders`): Express routes ignore
 * case and Fastify decodes paths before routing, and a request its app answers must not escape the record.
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

const NO_PARAMS: Record<string, string> = Object.freeze({});

/**
 * Compiles the map once; a malformed pattern throws, naming it, when the recorder is created. A route
 * without parameters that matches beats every pattern with parameters (it has the most literal segments a
 * path of that length can), so those are looked up by path first, and only the others are tried in turn.
 */
export function compileOperations(operations: OperationMap): OperationMatcher {
  const routes = Object.entries(operations).map(([pattern, operation]) => compileRoute(pattern, operation));
  const literal = new Map<string, CompiledRoute[]>();
  for (const route of routes) {
    if (route.literals < route.segments.length) continue;
    const key = `/${route.segments.map(literalForm).join('/')}`;
    literal.set(key, [...(literal.get(key) ?? []), route]);
  }
  const withParams = routes.filter((route) => route.literals < route.segments.length);
  return (method, path) => {
    const key = isPlain(path) ? path : `/${splitPath(path).map(literalForm).join('/')}`;
    const candidates = literal.get(key);
    if (candidates !== undefined) {
      for (const route of candidates) if (methodMatches(route.method, method)) return matched(route, method, NO_PARAMS);
    }
    if (withParams.length === 0) return undefined;
    const segments = splitPath(path);
    let best: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of withParams) {
      if (!methodMatches(route.method, method)) continue;
      if (best !== undefined && best.route.literals >= route.literals) continue;
      const params = matchSegments(route.segments, segments);
      if (params !== undefined) best = { route, params };
    }
    return best === undefined ? undefined : matched(best.route, method, best.params);
  };
}

function matched(route: CompiledRoute, method: string, params: Record<string, string>): MatchedOperation {
  return { eventName: route.eventName, readOnly: route.readOnly ?? READ_ONLY_METHODS.has(method), params };
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

/**
 * A path already written as its literal form: segments joined by `/` (no empty segment), lower case, no
 * percent-encoding, as most are.
 */
function isPlain(path: string): boolean {
  return path === '/' || (path.startsWith('/') && !path.endsWith('/') && !path.includes('//') && !/[A-Z%]/.test(path));
}

/** How a literal segment is compared: decoded, lower case. */
function literalForm(segment: string): string {
  return decode(segment).toLowerCase();
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
    else if (literalForm(p) !== literalForm(s)) return undefined;
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

import { buildApiCallRecord, recordedMembers } from '../capture/api-call-record.ts';
import type { Caller } from '../identity/index.ts';
import { LONE_SURROGATE_ADVICE, sentLoneSurrogate } from '../model/lone-surrogate.ts';
import { isKnownRegion } from '../model/regions.ts';
import { type ErrorName, PROTOCOL_ERRORS, ServiceError } from '../model/service-error.ts';
import { type ApiRequest, type ApiResponse, awsJsonStringify, headerValue } from './http-types.ts';
import type { ServiceModel } from './model/service-model.ts';
import type { OperationContext, OperationDef, OperationTable } from './operation.ts';
import type { Services } from './services.ts';
import { verifySigV4 } from './sigv4.ts';
import { type Violation, validateInput, validationMessage } from './validate-input.ts';

/**
 * The AWS JSON 1.1 protocol, as a ladder of rungs (docs/ARCHITECTURE.md), each with the error it answers:
 *   route by X-Amz-Target   → UnknownOperationException
 *   verify SigV4            → MissingAuthenticationToken / IncompleteSignature / InvalidSignature / UnrecognizedClient
 *   authorize               → AccessDeniedException
 *   parse the JSON body     → SerializationException
 *   validate against model  → ValidationException (or the operation's own error, see `validationErrors`)
 *   run the operation       → the operation's modelled errors; anything else → InternalFailure, logged
 *   record the call         → a CloudTrail management event, appended to the log before the answer leaves
 *   serialise               → 200 with epoch-second timestamps, or {"__type","message"} with the table's status
 */
export interface JsonApi {
  /** Target prefixes this API answers to, each followed by `.<Operation>`. */
  targetPrefixes: readonly string[];
  signingNames: readonly string[];
  eventSource: string;
  operations: OperationTable;
  /** False for APIs whose calls are not management events (the ingest API). */
  recordCalls?: boolean;
  /**
   * The largest body this API takes, when smaller than the server's: CloudTrail's own requests are small,
   * and a body of millions of members would hold up every other request while it is parsed and answered.
   */
  maxBodyBytes?: number;
  /** The operation parses the body itself: its input is `{ Body: Buffer }`. */
  rawBody?: boolean;
  /** Validates input against the service model; APIs without one validate in their handlers. */
  model?: ServiceModel;
  /** Which operation error a model constraint on a top-level member becomes, where the operation declares one. */
  validationErrors?: Record<string, (members: string[], violation: Violation) => ErrorName | undefined>;
  authorize?(caller: Caller, operation: string): void;
  /** Removes what must never reach a record (secrets) from a response before it is recorded. */
  redactForRecord?(operation: string, output: Record<string, unknown>): Record<string, unknown>;
}

export interface AwsJsonDeps {
  services: Services;
  onInternalError(error: unknown, requestId: string): void;
  /** Called when an operation throws an error its model does not declare (a test fails on it). */
  onUndeclaredError?(operation: string, error: ErrorName): void;
}

export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Finds the API and operation a target names; undefined when no API claims the prefix. */
export function routeTarget(apis: readonly JsonApi[], target: string): { api: JsonApi; operation: string } | undefined {
  const dot = target.lastIndexOf('.');
  if (dot < 0) return undefined;
  const prefix = target.slice(0, dot);
  const api = apis.find((a) => a.targetPrefixes.includes(prefix));
  return api === undefined ? undefined : { api, operation: target.slice(dot + 1) };
}

export async function handleAwsJson(
  api: JsonApi,
  operation: string,
  req: ApiRequest,
  deps: AwsJsonDeps,
): Promise<ApiResponse> {
  const { services } = deps;
  const requestId = services.ids.uuid();
  // The event's time is when the request arrived, as on AWS, not when the operation finished.
  const receivedMs = services.clock.now();
  let caller: Caller | undefined;
  let def: OperationDef | undefined;
  let input: Record<string, unknown> = {};
  try {
    // Own members only: an X-Amz-Target of `toString` or `constructor` names no operation.
    def = Object.hasOwn(api.operations, operation) ? api.operations[operation] : undefined;
    if (def === undefined && (api.model === undefined || !Object.hasOwn(api.model.operations, operation))) {
      throw new ServiceError(
        'UnknownOperationException',
        `Operation ${operation} is not an operation of this service.`,
      );
    }
    if (api.maxBodyBytes !== undefined && req.body.length > api.maxBodyBytes) {
      throw new ServiceError(
        'RequestEntityTooLargeException',
        `The request body is ${req.body.length} bytes; ${api.targetPrefixes[0]} requests may be at most ${api.maxBodyBytes} bytes.`,
      );
    }
    const verified = await verifySigV4(req, {
      nowMs: services.clock.now(),
      resolveAccessKey: (id) => services.identity.resolveAccessKey(id),
      isKnownRegion,
      services: api.signingNames,
    });
    caller = { principal: verified.principal, region: verified.region, accessKeyId: verified.accessKeyId };
    api.authorize?.(caller, operation);
    const parsed = api.rawBody ? { Body: req.body } : parseJsonBody(req.body);
    if (api.model === undefined) input = parsed;
    else {
      // A failed call records the members the model knows, never the raw body (unbounded size and depth).
      const checked = validated(api, operation, parsed);
      input = checked.value;
      if (checked.error !== undefined) throw checked.error;
    }
    if (def === undefined) {
      throw new ServiceError(
        'UnsupportedOperationException',
        `${operation} is part of the CloudTrail API but opentrail does not support it yet.`,
      );
    }
    const ctx: OperationContext = { caller, requestId, services };
    const output = await def.handle(ctx, input);
    await record(api, operation, def, ctx, req, input, { output }, receivedMs);
    return { status: 200, headers: jsonHeaders(requestId), body: awsJsonStringify(output) };
  } catch (thrown) {
    const error = asServiceError(thrown, requestId, deps);
    if (api.model !== undefined && !isDeclared(api.model, operation, error.name)) {
      deps.onUndeclaredError?.(operation, error.name);
    }
    if (caller !== undefined && def !== undefined) {
      await record(api, operation, def, { caller, requestId, services }, req, input, { error }, receivedMs);
    }
    return errorResponse(error, requestId);
  }
}

export function errorResponse(error: ServiceError, requestId: string): ApiResponse {
  return {
    status: error.status,
    headers: { ...jsonHeaders(requestId), 'x-amzn-errortype': error.name },
    body: JSON.stringify({ __type: error.name, message: error.message }),
  };
}

function jsonHeaders(requestId: string): Record<string, string> {
  return { 'content-type': AWS_JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId };
}

export function asServiceError(
  thrown: unknown,
  requestId: string,
  deps: Pick<AwsJsonDeps, 'onInternalError'>,
): ServiceError {
  if (thrown instanceof ServiceError) {
    if (thrown.isFault) deps.onInternalError(thrown.cause ?? thrown, requestId);
    return thrown;
  }
  if (thrown instanceof Error && thrown.name === 'LogUnavailableError') {
    deps.onInternalError(thrown, requestId);
    return new ServiceError('ServiceUnavailableException', 'The service cannot store events right now; retry later.');
  }
  deps.onInternalError(thrown, requestId);
  return new ServiceError(
    'InternalFailure',
    `The request processing has failed because of an unknown error (request ${requestId}).`,
  );
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  const text = body.toString('utf8');
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ServiceError('SerializationException', `The request body is not valid JSON: ${(cause as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ServiceError('SerializationException', 'The request body must be a JSON object.');
  }
  // Such a value could be neither stored nor recorded: the call's record would be refused by history.
  if (sentLoneSurrogate(text, parsed)) {
    throw new ServiceError('SerializationException', `A string of the request body ${LONE_SURROGATE_ADVICE}.`);
  }
  return parsed as Record<string, unknown>;
}

function validated(
  api: JsonApi,
  operation: string,
  input: Record<string, unknown>,
): { value: Record<string, unknown>; error?: ServiceError } {
  const model = api.model as ServiceModel;
  const { value, violations } = validateInput(model, model.operations[operation]?.input, input);
  if (violations.length === 0) return { value };
  const first = violations[0] as Violation;
  const specific = api.validationErrors?.[operation]?.(first.members, first);
  if (specific !== undefined) return { value, error: new ServiceError(specific, validationMessage([first])) };
  return { value, error: new ServiceError('ValidationException', validationMessage(violations)) };
}

function isDeclared(model: ServiceModel, operation: string, name: ErrorName): boolean {
  return name in PROTOCOL_ERRORS || (model.operations[operation]?.errors.includes(name) ?? false);
}

async function record(
  api: JsonApi,
  operation: string,
  def: OperationDef,
  ctx: OperationContext,
  req: ApiRequest,
  input: Record<string, unknown>,
  outcome: { output?: Record<string, unknown>; error?: ServiceError },
  receivedMs: number,
): Promise<void> {
  if (api.recordCalls === false && def.recordedAs === undefined) return;
  const { services } = ctx;
  const output =
    outcome.output && api.redactForRecord ? api.redactForRecord(operation, outcome.output) : outcome.output;
  const userAgent = headerValue(req, 'user-agent');
  try {
    const event = buildApiCallRecord({
      caller: ctx.caller,
      eventSource: api.eventSource,
      eventName: operation,
      readOnly: def.readOnly,
      requestParameters: def.recordedAs ? def.recordedAs(input) : recordedMembers(input),
      // A read-only call's record has no responseElements (buildApiCallRecord writes null): copying a
      // LookupEvents page of 50 events into members only to drop them cost every lookup a millisecond.
      ...(output !== undefined && !def.readOnly ? { responseElements: recordedMembers(output) } : {}),
      ...(outcome.error !== undefined ? { error: { code: outcome.error.name, message: outcome.error.message } } : {}),
      requestId: ctx.requestId,
      eventId: services.ids.uuid(),
      timeMs: receivedMs,
      sourceIp: req.sourceIp,
      ...(userAgent !== undefined ? { userAgent } : {}),
    });
    await services.capture.recordCall(event);
  } catch (error) {
    // The call has taken effect; failing it now would not undo it. Say loudly that its record is missing
    // (the log is down, or a model-less API's input is too deep to copy into a record).
    services.logger.error({ err: error, requestId: ctx.requestId, operation }, 'could not record the API call');
  }
}

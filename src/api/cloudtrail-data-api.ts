import { isKnownRegion } from '../model/regions.ts';
import { PROTOCOL_ERRORS, ServiceError } from '../model/service-error.ts';
import { type AwsJsonDeps, asServiceError } from './aws-json.ts';
import type { ApiRequest, ApiResponse } from './http-types.ts';
import cloudTrailDataModelJson from './model/cloudtrail-data.generated.json' with { type: 'json' };
import type { ServiceModel } from './model/service-model.ts';
import { verifySigV4 } from './sigv4.ts';
import { validateInput, validationMessage } from './validate-input.ts';

/**
 * The `cloudtrail-data` API (facts §1.2, §8.6): REST-JSON, one operation, `POST /PutAuditEvents?channelArn=…
 * [&externalId=…]` with `{"auditEvents":[…]}`, signed for `cloudtrail-data`. Its ladder:
 *   verify SigV4 (scope service cloudtrail-data) → the protocol's signature errors
 *   size: at most 1 MB of body           → ValidationException
 *   parse the JSON body                  → SerializationException
 *   validate against the model           → InvalidChannelARN for the channel, ValidationException otherwise
 *   run (ChannelService.putAuditEvents)  → ChannelNotFound, ChannelInsufficientPermission, DuplicatedAuditEventId;
 *                                          per-event failures in the answer's `failed`
 *   serialise                            → 200 `{"successful","failed"}`; errors `{"message"}` named by
 *                                          `x-amzn-errortype` (and `__type`), as restJson1 clients read them
 * Calls are not recorded as management events: AWS logs PutAuditEvents as data events of the channel.
 */
export const CLOUDTRAIL_DATA_SIGNING_NAME = 'cloudtrail-data';
export const PUT_AUDIT_EVENTS_PATH = '/PutAuditEvents';
/** Facts §8.6: at most 1 MB of events per call. */
export const MAX_PUT_AUDIT_EVENTS_BYTES = 1024 * 1024;

const model = cloudTrailDataModelJson as unknown as ServiceModel;
const OPERATION = 'PutAuditEvents';
const CHANNEL_ID = /^[a-f0-9-]{36}$/;
const CONTENT_TYPE = 'application/json';

export async function handlePutAuditEvents(req: ApiRequest, deps: AwsJsonDeps): Promise<ApiResponse> {
  const { services } = deps;
  const requestId = services.ids.uuid();
  try {
    const verified = await verifySigV4(req, {
      nowMs: services.clock.now(),
      resolveAccessKey: (id) => services.identity.resolveAccessKey(id),
      isKnownRegion,
      services: [CLOUDTRAIL_DATA_SIGNING_NAME],
    });
    const caller = { principal: verified.principal, region: verified.region, accessKeyId: verified.accessKeyId };
    if (req.body.length > MAX_PUT_AUDIT_EVENTS_BYTES) {
      throw new ServiceError(
        'ValidationException',
        `The request body is ${req.body.length} bytes; PutAuditEvents takes at most ${MAX_PUT_AUDIT_EVENTS_BYTES} bytes. Send fewer events per call.`,
      );
    }
    const input = checkedInput(req);
    const answer = await services.channels.putAuditEvents(
      caller,
      input['channelArn'] as string,
      input['auditEvents'] as { id: string; eventData: string; eventDataChecksum?: string }[],
    );
    return {
      status: 200,
      headers: { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId },
      body: JSON.stringify(answer),
    };
  } catch (thrown) {
    const error = asServiceError(thrown, requestId, deps);
    if (!(error.name in PROTOCOL_ERRORS) && !model.operations[OPERATION]?.errors.includes(error.name)) {
      deps.onUndeclaredError?.(OPERATION, error.name);
    }
    return restJsonError(error, requestId);
  }
}

function checkedInput(req: ApiRequest): Record<string, unknown> {
  let body: unknown = {};
  if (req.body.length > 0) {
    try {
      body = JSON.parse(req.body.toString('utf8'));
    } catch (cause) {
      throw new ServiceError(
        'SerializationException',
        `The request body is not valid JSON: ${(cause as Error).message}`,
      );
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ServiceError('SerializationException', 'The request body must be {"auditEvents":[…]}.');
  }
  const channelArn = first(req.query['channelArn']);
  const externalId = first(req.query['externalId']);
  const { value, violations } = validateInput(model, model.operations[OPERATION]?.input, {
    ...(body as Record<string, unknown>),
    ...(channelArn !== undefined ? { channelArn } : {}),
    ...(externalId !== undefined ? { externalId } : {}),
  });
  // The model's pattern wants an ARN, but a channel's ID names it too (facts §8.6).
  const left = violations.filter((v) => !(v.members[0] === 'channelArn' && CHANNEL_ID.test(channelArn ?? '')));
  const channelProblem = left.find((v) => v.members[0] === 'channelArn');
  if (channelProblem !== undefined) throw new ServiceError('InvalidChannelARN', validationMessage([channelProblem]));
  if (left.length > 0) throw new ServiceError('ValidationException', validationMessage(left));
  return value;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function restJsonError(error: ServiceError, requestId: string): ApiResponse {
  return {
    status: error.status,
    headers: { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.name },
    body: JSON.stringify({ __type: error.name, message: error.message }),
  };
}

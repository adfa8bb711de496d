import { isoSeconds } from './clock.ts';
import type { CloudTrailRecord, RecordResource, UserIdentity } from './cloudtrail-record.ts';
import { capped, truncated } from './request-parameters.ts';

/** The record format version the recorder writes (the current CloudTrail one). */
export const EVENT_VERSION = '1.11';

/** One event as your code or the middleware describes it; `buildRecord` fills in the rest. */
export interface RecordInput {
  eventName: string;
  userIdentity?: UserIdentity;
  /** When the request arrived (epoch ms); now by default. */
  eventTimeMs?: number;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  resources?: RecordResource[];
  requestID?: string;
  readOnly?: boolean;
}

export interface RecordDefaults {
  eventSource: string;
  awsRegion: string;
  now(): number;
  newEventId(): string;
}

/**
 * A management event in the shape the ingest API takes (facts §4.1), members in AWS's order. opentrail
 * fills `recipientAccountId` itself: records always land in the account whose key signed the batch.
 */
export function buildRecord(input: RecordInput, defaults: RecordDefaults): CloudTrailRecord {
  const eventID = defaults.newEventId();
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: input.userIdentity ?? { type: 'Unknown' },
    eventTime: isoSeconds(input.eventTimeMs ?? defaults.now()),
    eventSource: defaults.eventSource,
    eventName: input.eventName,
    awsRegion: defaults.awsRegion,
    ...(input.sourceIPAddress !== undefined ? { sourceIPAddress: input.sourceIPAddress } : {}),
    ...(input.userAgent !== undefined ? { userAgent: truncated(input.userAgent) } : {}),
    ...(input.errorCode !== undefined ? { errorCode: truncated(input.errorCode) } : {}),
    ...(input.errorMessage !== undefined ? { errorMessage: truncated(input.errorMessage) } : {}),
    requestParameters: capped(input.requestParameters ?? null),
    responseElements: capped(input.responseElements ?? null),
    ...(input.additionalEventData !== undefined ? { additionalEventData: input.additionalEventData } : {}),
    requestID: truncated(input.requestID ?? eventID),
    eventID,
    readOnly: input.readOnly ?? false,
    ...(input.resources !== undefined && input.resources.length > 0 ? { resources: input.resources } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    eventCategory: 'Management',
  };
}

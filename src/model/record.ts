/**
 * A CloudTrail record as delivered in log files (facts §4.1). Known members are typed; records from
 * imports and the ingest API may carry others, which are kept as they are.
 */
export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: Record<string, unknown>;
  [member: string]: unknown;
}

export interface RecordResource {
  ARN?: string;
  accountId?: string;
  type?: string;
}

export interface CloudTrailRecord {
  eventVersion: string;
  userIdentity?: UserIdentity;
  eventTime: string;
  eventSource?: string;
  eventName?: string;
  awsRegion: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  requestID?: string;
  eventID: string;
  readOnly?: boolean;
  resources?: RecordResource[];
  eventType?: string;
  apiVersion?: string;
  managementEvent?: boolean;
  recipientAccountId: string;
  eventCategory: string;
  tlsDetails?: { tlsVersion?: string; cipherSuite?: string; clientProvidedHostHeader?: string };
  [member: string]: unknown;
}

/** The eventVersion opentrail writes (the current CloudTrail record format). */
export const EVENT_VERSION = '1.11';

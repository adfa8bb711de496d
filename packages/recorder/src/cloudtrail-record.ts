/** The members of a CloudTrail record (facts §4.1) that the recorder writes or lets you set. */
export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  [member: string]: unknown;
}

export interface RecordResource {
  ARN?: string;
  accountId?: string;
  type?: string;
}

export interface CloudTrailRecord {
  eventVersion: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  resources?: RecordResource[];
  eventType: 'AwsApiCall';
  managementEvent: boolean;
  eventCategory: 'Management';
}

/** What CloudTrail writes in place of a value it will not record. */
export const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

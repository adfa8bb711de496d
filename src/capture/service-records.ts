import type { Principal } from '../identity/principal.ts';
import { isoSeconds } from '../model/clock.ts';
import { type CloudTrailRecord, EVENT_VERSION } from '../model/record.ts';

/**
 * Records where opentrail itself is the source, in the shapes AWS writes them (the real logs under
 * shared/data/real-logs): a console sign-in (`AwsConsoleSignIn`, `signin.amazonaws.com`) and a service's
 * own scheduled work (`AwsServiceEvent`, invoked by the service, no caller). Both are management events.
 */
export interface ConsoleSignIn {
  principal: Principal;
  success: boolean;
  /** Where the console sends the user after signing in. */
  loginTo: string;
  mfaUsed: boolean;
  sourceIp: string;
  userAgent?: string;
  region: string;
  timeMs: number;
  eventId: string;
}

/**
 * `ConsoleLogin`. A failed sign-in names no ARN and says `Failure` with AWS's reason; a failure for a user
 * name that does not exist would reveal which names exist, so AWS hides it (facts §4.2), and so do we.
 */
export function buildConsoleSignInRecord(s: ConsoleSignIn): CloudTrailRecord {
  const p = s.principal;
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: {
      type: p.type,
      principalId: p.principalId,
      ...(s.success ? { arn: p.arn } : {}),
      accountId: p.accountId,
      ...(s.success ? {} : { accessKeyId: '' }),
      ...(p.userName !== undefined ? { userName: p.userName } : {}),
    },
    eventTime: isoSeconds(s.timeMs),
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    awsRegion: s.region,
    sourceIPAddress: s.sourceIp,
    ...(s.userAgent !== undefined ? { userAgent: s.userAgent } : {}),
    ...(s.success ? {} : { errorMessage: 'Failed authentication' }),
    requestParameters: null,
    responseElements: { ConsoleLogin: s.success ? 'Success' : 'Failure' },
    additionalEventData: { LoginTo: s.loginTo, MobileVersion: 'No', MFAUsed: s.mfaUsed ? 'Yes' : 'No' },
    eventID: s.eventId,
    readOnly: false,
    eventType: 'AwsConsoleSignIn',
    managementEvent: true,
    recipientAccountId: p.accountId,
    eventCategory: 'Management',
  };
}

export interface ServiceEvent {
  /** The service doing the work, e.g. `cloudtrail.amazonaws.com`. */
  service: string;
  eventName: string;
  accountId: string;
  region: string;
  timeMs: number;
  eventId: string;
  requestId?: string;
  /** What the work touched or did, as AWS puts it in `serviceEventDetails`. */
  details?: Record<string, unknown>;
  additionalEventData?: Record<string, unknown>;
}

export function buildServiceEventRecord(e: ServiceEvent): CloudTrailRecord {
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: { accountId: e.accountId, invokedBy: e.service },
    eventTime: isoSeconds(e.timeMs),
    eventSource: e.service,
    eventName: e.eventName,
    awsRegion: e.region,
    sourceIPAddress: e.service,
    userAgent: e.service,
    requestParameters: null,
    responseElements: null,
    ...(e.additionalEventData !== undefined ? { additionalEventData: e.additionalEventData } : {}),
    ...(e.requestId !== undefined ? { requestID: e.requestId } : {}),
    eventID: e.eventId,
    readOnly: false,
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: e.accountId,
    ...(e.details !== undefined ? { serviceEventDetails: e.details } : {}),
    eventCategory: 'Management',
  };
}

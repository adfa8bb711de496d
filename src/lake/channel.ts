import { ServiceError } from '../model/service-error.ts';
import type { Tag } from '../trails/index.ts';

/** A channel (facts §8.4, Appendix A.7): how events from outside AWS reach event data stores. */

/** At most 25 channels per account and Region (service-linked ones aside; opentrail has none). */
export const MAX_CHANNELS_PER_REGION = 25;

/** The only source opentrail serves: partner integrations are AWS's business, not ours. */
export const CUSTOM_SOURCE = 'Custom';

export interface ChannelDestination {
  Type: 'EVENT_DATA_STORE';
  /** The event data store's ARN. */
  Location: string;
}

/** What the last PutAuditEvents calls did (GetChannel's IngestionStatus), written behind them: see channel-service.ts. */
export interface IngestionStatus {
  latestAttemptMs?: number;
  latestAttemptEventId?: string;
  latestSuccessMs?: number;
  latestSuccessEventId?: string;
  latestErrorCode?: string;
}

export interface ChannelRecord {
  id: string;
  arn: string;
  name: string;
  accountId: string;
  region: string;
  source: string;
  destinations: ChannelDestination[];
  tags: Tag[];
  createdAtMs: number;
  updatedAtMs: number;
}

const NAME = /^[a-zA-Z0-9._-]{3,128}$/;
const ID = /^[a-f0-9-]{36}$/;
const ARN = /^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):channel\/([a-f0-9-]{36})$/;

/** Whether a tag operation's ResourceId names a channel. */
export function isChannelArn(value: string): boolean {
  return ARN.test(value);
}

export function channelArn(region: string, accountId: string, id: string): string {
  return `arn:aws:cloudtrail:${region}:${accountId}:channel/${id}`;
}

export function validateChannelName(name: string): void {
  if (!NAME.test(name)) {
    throw new ServiceError(
      'InvalidParameterException',
      `Channel name ${name} is not valid: use 3 to 128 letters, numbers, periods, underscores and dashes.`,
    );
  }
}

/** A channel named by ARN or by the UUID at its end; undefined when it is neither. */
export type ChannelRef = { id: string; region?: string; accountId?: string };

export function parseChannelRef(value: string): ChannelRef | undefined {
  const m = ARN.exec(value);
  if (m !== null) return { region: m[1] as string, accountId: m[2] as string, id: m[3] as string };
  return ID.test(value) ? { id: value } : undefined;
}

/** The selector AWS shows for a channel's source (GetChannel's SourceConfig). */
export const ACTIVITY_AUDIT_LOG_SELECTORS = [
  { FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] },
];

export function channelOutput(c: ChannelRecord): Record<string, unknown> {
  return { ChannelArn: c.arn, Name: c.name, Source: c.source, Destinations: c.destinations };
}

export function ingestionStatusOutput(s: IngestionStatus): Record<string, unknown> {
  return {
    ...(s.latestSuccessMs !== undefined ? { LatestIngestionSuccessTime: new Date(s.latestSuccessMs) } : {}),
    ...(s.latestSuccessEventId !== undefined ? { LatestIngestionSuccessEventID: s.latestSuccessEventId } : {}),
    ...(s.latestErrorCode !== undefined ? { LatestIngestionErrorCode: s.latestErrorCode } : {}),
    ...(s.latestAttemptMs !== undefined ? { LatestIngestionAttemptTime: new Date(s.latestAttemptMs) } : {}),
    ...(s.latestAttemptEventId !== undefined ? { LatestIngestionAttemptEventID: s.latestAttemptEventId } : {}),
  };
}

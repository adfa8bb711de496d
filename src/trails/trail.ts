import type { EventConfiguration } from './event-configuration.ts';
import type { AdvancedEventSelector, StoredEventSelector } from './event-selectors.ts';
import type { InsightSelector } from './insight-selectors.ts';
import type { Tag } from './trail-rules.ts';

/** A trail as opentrail keeps it: its settings, selectors, tags and logging state (one document per trail). */
export interface TrailRecord {
  arn: string;
  name: string;
  accountId: string;
  homeRegion: string;
  s3BucketName: string;
  s3KeyPrefix?: string;
  snsTopicName?: string;
  snsTopicArn?: string;
  includeGlobalServiceEvents: boolean;
  isMultiRegionTrail: boolean;
  logFileValidationEnabled: boolean;
  cloudWatchLogsLogGroupArn?: string;
  cloudWatchLogsRoleArn?: string;
  kmsKeyId?: string;
  isOrganizationTrail: boolean;
  /** The organization whose member accounts the trail covers, while it is an organization trail. */
  organizationId?: string;
  /** Exactly one of the two selector kinds is set (facts §7.1). */
  eventSelectors?: StoredEventSelector[];
  advancedEventSelectors?: AdvancedEventSelector[];
  hasCustomEventSelectors: boolean;
  insightSelectors: InsightSelector[];
  eventConfiguration?: EventConfiguration;
  tags: Tag[];
  isLogging: boolean;
  startLoggingTimeMs?: number;
  /** When log file validation was last turned on. */
  validationSinceMs?: number;
  stopLoggingTimeMs?: number;
  createdAtMs: number;
  /** The log's committed position when the trail was created: its delivery reads from there. */
  createdAtSeq?: number;
}

/** The settings CreateTrail and UpdateTrail echo (CreateTrailResponse = UpdateTrailResponse, facts §3.2). */
export function trailSettingsOutput(t: TrailRecord): Record<string, unknown> {
  return {
    Name: t.name,
    S3BucketName: t.s3BucketName,
    ...(t.s3KeyPrefix !== undefined ? { S3KeyPrefix: t.s3KeyPrefix } : {}),
    ...(t.snsTopicName !== undefined ? { SnsTopicName: t.snsTopicName, SnsTopicARN: t.snsTopicArn } : {}),
    IncludeGlobalServiceEvents: t.includeGlobalServiceEvents,
    IsMultiRegionTrail: t.isMultiRegionTrail,
    TrailARN: t.arn,
    LogFileValidationEnabled: t.logFileValidationEnabled,
    ...(t.cloudWatchLogsLogGroupArn !== undefined ? { CloudWatchLogsLogGroupArn: t.cloudWatchLogsLogGroupArn } : {}),
    ...(t.cloudWatchLogsRoleArn !== undefined ? { CloudWatchLogsRoleArn: t.cloudWatchLogsRoleArn } : {}),
    ...(t.kmsKeyId !== undefined ? { KmsKeyId: t.kmsKeyId } : {}),
    IsOrganizationTrail: t.isOrganizationTrail,
  };
}

/** The `Trail` shape of GetTrail and DescribeTrails (facts §3.3). */
export function trailOutput(t: TrailRecord): Record<string, unknown> {
  const { TrailARN, ...settings } = trailSettingsOutput(t);
  return {
    ...settings,
    HomeRegion: t.homeRegion,
    TrailARN,
    HasCustomEventSelectors: t.hasCustomEventSelectors,
    HasInsightSelectors: t.insightSelectors.length > 0,
  };
}

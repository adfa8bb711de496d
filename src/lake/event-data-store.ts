import type { AdvancedEventSelector, Tag } from '../trails/index.ts';

/** Facts §8.1: the two pricing options and the retention each allows. */
export type BillingMode = 'EXTENDABLE_RETENTION_PRICING' | 'FIXED_RETENTION_PRICING';

/** The states a store is kept in; AWS's transitional STARTING/STOPPING_INGESTION are instantaneous here. */
export type StoreStatus = 'ENABLED' | 'STOPPED_INGESTION' | 'PENDING_DELETION';

/**
 * A span of the log a store takes records from: after `fromSeq`, up to and including `toSeq` (open while
 * the store ingests). Judged by sequence number rather than time, so a consumer that lags behind a
 * StopEventDataStoreIngestion still takes the records logged before it and none after.
 */
export interface IngestionWindow {
  fromSeq: number;
  toSeq?: number;
}

/** An event data store as opentrail keeps it (one JSON document per store). */
export interface EventDataStoreRecord {
  id: string;
  arn: string;
  name: string;
  accountId: string;
  region: string;
  status: StoreStatus;
  advancedEventSelectors: AdvancedEventSelector[];
  multiRegionEnabled: boolean;
  organizationEnabled: boolean;
  /** The organization whose member accounts the store takes events of, while organizationEnabled. */
  organizationId?: string;
  retentionPeriodDays: number;
  terminationProtectionEnabled: boolean;
  billingMode: BillingMode;
  kmsKeyId?: string;
  tags: Tag[];
  createdAtMs: number;
  updatedAtMs: number;
  /** When DeleteEventDataStore put it in PENDING_DELETION; it is gone 7 days later. */
  deletedAtMs?: number;
  /** The status it had before deletion, which RestoreEventDataStore gives back. */
  statusBeforeDeletion?: StoreStatus;
  ingestion: IngestionWindow[];
}

/** The shape Create/Update/Restore/Get answer with (facts A.5). */
export function eventDataStoreOutput(s: EventDataStoreRecord): Record<string, unknown> {
  return {
    EventDataStoreArn: s.arn,
    Name: s.name,
    Status: s.status,
    AdvancedEventSelectors: s.advancedEventSelectors,
    MultiRegionEnabled: s.multiRegionEnabled,
    OrganizationEnabled: s.organizationEnabled,
    RetentionPeriod: s.retentionPeriodDays,
    TerminationProtectionEnabled: s.terminationProtectionEnabled,
    CreatedTimestamp: new Date(s.createdAtMs),
    UpdatedTimestamp: new Date(s.updatedAtMs),
    ...(s.kmsKeyId !== undefined ? { KmsKeyId: s.kmsKeyId } : {}),
    BillingMode: s.billingMode,
  };
}

/** Whether the store takes the record logged at `seq`. */
export function ingestsAt(s: EventDataStoreRecord, seq: number): boolean {
  return s.ingestion.some((w) => seq > w.fromSeq && (w.toSeq === undefined || seq <= w.toSeq));
}

export {
  ACTIVITY_AUDIT_LOG_SELECTORS,
  type ChannelRecord,
  channelOutput,
  ingestionStatusOutput,
  MAX_CHANNELS_PER_REGION,
} from './channel.ts';
export { eventDataChecksum } from './channel-audit-event.ts';
export { ChannelService, type CreateChannelInput, type PutAuditEventsResult } from './channel-service.ts';
export { ChannelStore } from './channel-store.ts';
export {
  type BillingMode,
  type EventDataStoreRecord,
  eventDataStoreOutput,
  type StoreStatus,
} from './event-data-store.ts';
export {
  defaultStoreSelectors,
  type EventDataStoreInput,
  EventDataStoreService,
  type UpdateEventDataStoreInput,
} from './event-data-store-service.ts';
export { EventDataStoreStore } from './event-data-store-store.ts';
export { LAKE_CONSUMER, LakeConsumer } from './lake-consumer.ts';
export { applyLakeRetention } from './lake-retention.ts';
export { countStoreEvents, LAKE_COLUMNS, type LakeColumn } from './lake-table.ts';
export { LakeQueries, MAX_UNFINISHED_QUERIES, QUERY_RETENTION_MS } from './query-runner.ts';
export { type LakeQueryRecord, type QueryStatus, QueryStore, type ResultRow } from './query-store.ts';
export { SAMPLE_QUERIES, type SampleQuery, searchSampleQueries } from './sample-queries.ts';
export { MAX_STORES_PER_REGION, PENDING_DELETION_MS } from './store-rules.ts';

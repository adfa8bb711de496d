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

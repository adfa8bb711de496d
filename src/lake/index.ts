export {
  ACTIVITY_AUDIT_LOG_SELECTORS,
  type ChannelRecord,
  channelOutput,
  ingestionStatusOutput,
  isChannelArn,
  MAX_CHANNELS_PER_REGION,
} from './channel.ts';
export { eventDataChecksum } from './channel-audit-event.ts';
export { ChannelService, type CreateChannelInput, type PutAuditEventsResult } from './channel-service.ts';
export { ChannelStore } from './channel-store.ts';
export {
  type DashboardRecord,
  dashboardOutput,
  HIGHLIGHTS_NAME,
  isDashboardArn,
  type RequestWidget,
  type WidgetRecord,
} from './dashboard.ts';
export { type CreateDashboardInput, DashboardService, type UpdateDashboardInput } from './dashboard-service.ts';
export { type DashboardRefresh, DashboardStore } from './dashboard-store.ts';
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
export {
  type ImportFailure,
  type ImportRecord,
  type ImportStatus,
  importFailureOutput,
  importOutput,
} from './import.ts';
export { checkImportedRecord, type EventTimeWindow } from './import-record.ts';
export { LakeImports, type StartImportInput } from './import-service.ts';
export { ImportStore } from './import-store.ts';
export { type ImportedRecord, prepareImportConnection, writeImportedRecords } from './import-writer.ts';
export { LAKE_CONSUMER, LakeConsumer } from './lake-consumer.ts';
export { applyLakeRetention } from './lake-retention.ts';
export { countStoreEvents, LAKE_COLUMNS, type LakeColumn } from './lake-table.ts';
export { HIGHLIGHTS_WIDGETS, MANAGED_DASHBOARDS, type ManagedDashboard } from './managed-dashboards.ts';
export { DEFAULT_RESULT_FILE_BYTES, QueryDelivery } from './query-delivery.ts';
export { LakeQueries, MAX_UNFINISHED_QUERIES, QUERY_RETENTION_MS } from './query-runner.ts';
export {
  type DeliveryStatus as QueryDeliveryStatus,
  type LakeQueryRecord,
  type QueryStatus,
  QueryStore,
  type ResultRow,
} from './query-store.ts';
export { nextScheduledRefresh, type RefreshSchedule } from './refresh-schedule.ts';
export { SAMPLE_QUERIES, type SampleQuery, searchSampleQueries } from './sample-queries.ts';
export { MAX_STORES_PER_REGION, PENDING_DELETION_MS, storeRefArn } from './store-rules.ts';
export { bindWidget, EVENT_DATA_STORE_ID } from './widget-parameters.ts';

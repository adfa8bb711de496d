export { HISTORY_CONSUMER, HistoryConsumer } from './history-consumer.ts';
export { HistoryIndex } from './history-index.ts';
export { readyForLookups } from './history-queries.ts';
export { EventHistory, HISTORY_RETENTION_MS, type LookupEvent, type LookupEventsInput } from './lookup-events.ts';
export { LookupRateLimit } from './lookup-rate-limit.ts';

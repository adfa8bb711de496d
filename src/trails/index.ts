export type { AdvancedEventSelector, EventSelector, StoredEventSelector } from './event-selectors.ts';
export type { InsightSelector } from './insight-selectors.ts';
export { type TrailRecord, trailOutput, trailSettingsOutput } from './trail.ts';
export { isShadow, TrailAccess, trailOrder } from './trail-access.ts';
export type { Tag } from './trail-rules.ts';
export {
  getEventConfiguration,
  getInsightSelectors,
  putEventConfiguration,
  putEventSelectors,
  putInsightSelectors,
  selectorsOf,
} from './trail-selectors.ts';
export { MAX_TRAILS_PER_REGION, TrailService, type TrailSettingsInput } from './trail-service.ts';
export { TrailStore } from './trail-store.ts';
export { addTags, listTags, removeTagsFrom } from './trail-tags.ts';

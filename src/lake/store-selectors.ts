import type { CloudTrailRecord } from '../model/record.ts';
import type { AdvancedEventSelector } from '../trails/index.ts';
import { compileSelectors, eventCategoryOf, type RecordPredicate } from '../trails/index.ts';

/**
 * Which records an event data store's advanced selectors select (facts §7.3). Management, data and network
 * activity selectors match as a trail's do (the trails' compiled matcher); selectors of the categories only
 * stores have (ActivityAuditLog, ConfigurationItem, Evidence, Insight) take just an eventCategory field, so
 * they select every record of that category. Selectors are ORed.
 */
const TRAIL_CATEGORIES: ReadonlySet<string> = new Set(['Management', 'Data', 'NetworkActivity']);

function categoryOf(selector: AdvancedEventSelector): string | undefined {
  return selector.FieldSelectors.find((f) => f.Field === 'eventCategory')?.Equals?.[0];
}

/** The categories a store's selectors name, each once. */
export function storeCategories(selectors: readonly AdvancedEventSelector[]): string[] {
  return [...new Set(selectors.map(categoryOf).filter((c): c is string => c !== undefined))];
}

export function compileStoreSelectors(selectors: readonly AdvancedEventSelector[]): RecordPredicate {
  const trailLike = selectors.filter((s) => TRAIL_CATEGORIES.has(categoryOf(s) ?? ''));
  const storeOnly: ReadonlySet<string> = new Set(
    selectors.map(categoryOf).filter((c): c is string => c !== undefined && !TRAIL_CATEGORIES.has(c)),
  );
  const matches = compileSelectors({ advancedEventSelectors: trailLike });
  return (record: CloudTrailRecord) =>
    storeOnly.size > 0 && storeOnly.has(eventCategoryOf(record)) ? true : matches(record);
}

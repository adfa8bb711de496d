import type { CloudTrailRecord } from '../model/record.ts';
import { ServiceError } from '../model/service-error.ts';
import type { AdvancedEventSelector } from '../trails/index.ts';
import { compileSelectors, eventCategoryOf, isTrailCategory, type RecordPredicate } from '../trails/index.ts';

function categoryOf(selector: AdvancedEventSelector): string | undefined {
  return selector.FieldSelectors.find((f) => f.Field === 'eventCategory')?.Equals?.[0];
}

/**
 * The kind of events a store's selectors take in: `CloudTrail` (management, data and network activity events,
 * which mix), or the one category only stores have (ActivityAuditLog, ConfigurationItem, Evidence, Insight).
 * Each kind has its own schema, so a store holds one kind (User Guide: "Each event data store can only contain
 * a specific event category"), and keeps it: a store of AWS events cannot be changed to hold events from
 * outside AWS, nor the other way round.
 */
export function storeEventKind(selectors: readonly AdvancedEventSelector[]): string {
  const kinds = new Set(storeCategories(selectors).map((c) => (isTrailCategory(c) ? 'CloudTrail' : c)));
  if (kinds.size > 1) {
    throw new ServiceError(
      'InvalidEventSelectorsException',
      `An event data store holds one kind of events; these selectors name ${[...kinds].join(' and ')} events. Create a store for each.`,
    );
  }
  return [...kinds][0] ?? 'CloudTrail';
}

/** The categories a store's selectors name, each once. */
export function storeCategories(selectors: readonly AdvancedEventSelector[]): string[] {
  return [...new Set(selectors.map(categoryOf).filter((c): c is string => c !== undefined))];
}

/**
 * Which records an event data store's advanced selectors select (facts §7.3). Management, data and network
 * activity selectors match as a trail's do (the trails' compiled matcher); selectors of the categories only
 * stores have (ActivityAuditLog, ConfigurationItem, Evidence, Insight) take just an eventCategory field, so
 * they select every record of that category. Selectors are ORed.
 */
export function compileStoreSelectors(selectors: readonly AdvancedEventSelector[]): RecordPredicate {
  const trailLike = selectors.filter((s) => isTrailCategory(categoryOf(s) ?? ''));
  const storeOnly: ReadonlySet<string> = new Set(
    selectors.map(categoryOf).filter((c): c is string => c !== undefined && !isTrailCategory(c)),
  );
  const matches = compileSelectors({ advancedEventSelectors: trailLike });
  return (record: CloudTrailRecord) =>
    storeOnly.size > 0 && storeOnly.has(eventCategoryOf(record)) ? true : matches(record);
}

import { ServiceError } from '../model/service-error.ts';
import type { EventSelectorsInput, SelectorTarget } from './event-selectors.ts';

/** PutInsightSelectors rules (facts §9). Every failure is InvalidInsightSelectorsException. */

export type InsightType = 'ApiCallRateInsight' | 'ApiErrorRateInsight';
export type InsightEventCategory = 'Management' | 'Data';

export interface InsightSelector {
  InsightType?: InsightType;
  EventCategories?: InsightEventCategory[];
}

const INSIGHT_TYPES: readonly string[] = ['ApiCallRateInsight', 'ApiErrorRateInsight'];
const CATEGORIES: readonly string[] = ['Management', 'Data'];

const invalid = (message: string) => new ServiceError('InvalidInsightSelectorsException', message);

/**
 * Validates the selectors of one PutInsightSelectors request and returns them as given, so Get echoes Put; an
 * empty list turns Insights off. Read the categories through `insightEventCategories`, which applies the default.
 */
export function validateInsightSelectors(
  selectors: readonly InsightSelector[],
  target: SelectorTarget = 'trail',
): InsightSelector[] {
  const seen = new Set<string>();
  for (const [i, s] of selectors.entries()) {
    const where = `InsightSelectors[${i}]`;
    const type = s.InsightType;
    if (type === undefined || !INSIGHT_TYPES.includes(type)) {
      throw invalid(`${where}.InsightType must be ApiCallRateInsight or ApiErrorRateInsight.`);
    }
    if (seen.has(type)) {
      throw invalid(
        `InsightType ${type} appears more than once: list each Insights type once, with all its categories.`,
      );
    }
    seen.add(type);
    validateCategories(s.EventCategories, where, target);
  }
  return structuredClone([...selectors]);
}

function validateCategories(categories: readonly string[] | undefined, where: string, target: SelectorTarget): void {
  if (categories === undefined) return;
  if (categories.length === 0) {
    throw invalid(`${where}.EventCategories must list Management, Data or both; omit it to mean Management.`);
  }
  for (const c of categories) {
    if (!CATEGORIES.includes(c)) throw invalid(`${where}.EventCategories can contain only Management and Data.`);
  }
  if (new Set(categories).size !== categories.length) {
    throw invalid(`${where}.EventCategories lists a category more than once.`);
  }
  // "Insights on data events are not supported on event data stores" (PutInsightSelectors docs).
  if (target === 'eventDataStore' && categories.includes('Data')) {
    throw invalid(`${where}: event data stores support Insights on management events only; remove Data.`);
  }
}

/** Omitted EventCategories means management events (InsightSelector.EventCategories docs). */
export function insightEventCategories(selector: InsightSelector): InsightEventCategory[] {
  return selector.EventCategories ?? ['Management'];
}

/** Which kinds of events a trail's selectors log, as far as Insights need to know. */
export interface LoggedEventKinds {
  readManagement: boolean;
  writeManagement: boolean;
  data: boolean;
}

/** Reads stored selectors; a trail with neither kind has the default: all management events (facts §7.1). */
export function loggedEventKinds(selectors: EventSelectorsInput): LoggedEventKinds {
  const kinds: LoggedEventKinds = { readManagement: false, writeManagement: false, data: false };
  if (selectors.AdvancedEventSelectors !== undefined) {
    for (const s of selectors.AdvancedEventSelectors) {
      const field = (name: string) => s.FieldSelectors.find((f) => f.Field === name)?.Equals;
      const category = field('eventCategory')?.[0];
      const readOnly = field('readOnly');
      if (category === 'Management') {
        kinds.readManagement ||= readOnly === undefined || readOnly.includes('true');
        kinds.writeManagement ||= readOnly === undefined || readOnly.includes('false');
      }
      if (category === 'Data') kinds.data = true;
    }
    return kinds;
  }
  for (const s of selectors.EventSelectors ?? [{}]) {
    const readWrite = s.ReadWriteType ?? 'All';
    if (s.IncludeManagementEvents ?? true) {
      kinds.readManagement ||= readWrite !== 'WriteOnly';
      kinds.writeManagement ||= readWrite !== 'ReadOnly';
    }
    kinds.data ||= (s.DataResources ?? []).some((r) => (r.Values ?? []).length > 0);
  }
  return kinds;
}

/**
 * Insights analyse events the trail logs (PutInsightSelectors docs, facts §9): call-rate Insights on management
 * events need write management events; error-rate Insights need read or write management events; Insights on
 * data events need read or write data events.
 */
export function requireInsightsCompatible(
  insightSelectors: readonly InsightSelector[],
  eventSelectors: EventSelectorsInput,
): void {
  const kinds = loggedEventKinds(eventSelectors);
  for (const s of insightSelectors) {
    for (const category of insightEventCategories(s)) {
      const problem = incompatibility(s.InsightType, category, kinds);
      if (problem !== undefined) throw invalid(problem);
    }
  }
}

function incompatibility(
  type: InsightType | undefined,
  category: InsightEventCategory,
  kinds: LoggedEventKinds,
): string | undefined {
  const fix = 'Update the event selectors with PutEventSelectors, then try again.';
  if (category === 'Data') {
    return kinds.data ? undefined : `${type} on data events needs the trail to log read or write data events. ${fix}`;
  }
  if (type === 'ApiCallRateInsight' && !kinds.writeManagement) {
    return `ApiCallRateInsight on management events needs the trail to log write management events (ReadWriteType All or WriteOnly). ${fix}`;
  }
  if (type === 'ApiErrorRateInsight' && !kinds.readManagement && !kinds.writeManagement) {
    return `ApiErrorRateInsight on management events needs the trail to log read or write management events. ${fix}`;
  }
  return undefined;
}

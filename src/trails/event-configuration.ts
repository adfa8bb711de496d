import { ServiceError } from '../model/service-error.ts';
import type { SelectorTarget } from './event-selectors.ts';

/**
 * PutEventConfiguration rules (facts §7.4, A.2). The operation docs split the members by resource: context key
 * selectors are for event data stores, aggregation is for trails, and MaxEventSize is "for events stored in the
 * specified event data store". A member sent to the wrong kind of resource is InvalidParameterCombinationException;
 * a bad value inside a member is InvalidParameterException.
 */

export type MaxEventSize = 'Standard' | 'Large';
export type ContextKeyType = 'TagContext' | 'RequestContext';
export type AggregationTemplate = 'API_ACTIVITY' | 'RESOURCE_ACCESS' | 'USER_ACTIONS';

export interface ContextKeySelector {
  Type: ContextKeyType;
  Equals: string[];
}

export interface AggregationConfiguration {
  Templates: AggregationTemplate[];
  EventCategory: 'Data';
}

export interface PutEventConfigurationInput {
  TrailName?: string;
  EventDataStore?: string;
  MaxEventSize?: MaxEventSize;
  ContextKeySelectors?: ContextKeySelector[];
  AggregationConfigurations?: AggregationConfiguration[];
}

/** The event configuration stored per trail or event data store. */
export interface EventConfiguration {
  MaxEventSize: MaxEventSize;
  ContextKeySelectors: ContextKeySelector[];
  AggregationConfigurations: AggregationConfiguration[];
}

export function defaultEventConfiguration(): EventConfiguration {
  return { MaxEventSize: 'Standard', ContextKeySelectors: [], AggregationConfigurations: [] };
}

const combination = (message: string) => new ServiceError('InvalidParameterCombinationException', message);
const invalid = (message: string) => new ServiceError('InvalidParameterException', message);

export type EventConfigurationTarget =
  | { kind: 'trail'; trailName: string }
  | { kind: 'eventDataStore'; eventDataStore: string };

/** The request names exactly one resource: a trail or an event data store. */
export function eventConfigurationTarget(input: PutEventConfigurationInput): EventConfigurationTarget {
  const { TrailName: trailName, EventDataStore: eventDataStore } = input;
  if (trailName !== undefined && eventDataStore !== undefined) {
    throw combination('Specify either TrailName or EventDataStore, not both.');
  }
  if (trailName !== undefined) return { kind: 'trail', trailName };
  if (eventDataStore !== undefined) return { kind: 'eventDataStore', eventDataStore };
  throw invalid('Specify TrailName or EventDataStore.');
}

/**
 * Applies one PutEventConfiguration request to the stored configuration. Members the request omits keep their
 * stored value (the docs say "updates"), so `AggregationConfigurations: []` is how aggregation is turned off.
 */
export function applyEventConfiguration(
  current: EventConfiguration,
  input: PutEventConfigurationInput,
  target: SelectorTarget,
): EventConfiguration {
  checkMembersFor(input, target);
  if (input.ContextKeySelectors !== undefined) validateContextKeySelectors(input.ContextKeySelectors);
  if (input.AggregationConfigurations !== undefined) validateAggregations(input.AggregationConfigurations);
  const next: EventConfiguration = structuredClone({
    MaxEventSize: input.MaxEventSize ?? current.MaxEventSize,
    ContextKeySelectors: input.ContextKeySelectors ?? current.ContextKeySelectors,
    AggregationConfigurations: input.AggregationConfigurations ?? current.AggregationConfigurations,
  });
  if (next.ContextKeySelectors.length > 0 && next.MaxEventSize !== 'Large') {
    throw combination('Context key selectors need larger events: set MaxEventSize to Large.');
  }
  return next;
}

function checkMembersFor(input: PutEventConfigurationInput, target: SelectorTarget): void {
  if (input.MaxEventSize !== undefined && !['Standard', 'Large'].includes(input.MaxEventSize)) {
    throw invalid('MaxEventSize must be Standard or Large.');
  }
  if (target === 'trail') {
    if (input.ContextKeySelectors !== undefined) {
      throw combination('ContextKeySelectors apply to event data stores only; remove them when you specify TrailName.');
    }
    if (input.MaxEventSize === 'Large') {
      throw combination('MaxEventSize Large applies to event data stores only; a trail keeps Standard.');
    }
  } else if (input.AggregationConfigurations !== undefined) {
    throw combination('AggregationConfigurations apply to trails only; remove them when you specify EventDataStore.');
  }
}

const CONTEXT_KEY_TYPES: readonly string[] = ['TagContext', 'RequestContext'];

function validateContextKeySelectors(selectors: readonly ContextKeySelector[]): void {
  if (selectors.length > 2) throw invalid('Specify at most 2 context key selectors, one of each Type.');
  for (const [i, s] of selectors.entries()) {
    const where = `ContextKeySelectors[${i}]`;
    if (!CONTEXT_KEY_TYPES.includes(s.Type)) throw invalid(`${where}.Type must be TagContext or RequestContext.`);
    if (s.Equals.length < 1 || s.Equals.length > 50) throw invalid(`${where}.Equals must list 1 to 50 keys.`);
    if (s.Equals.some((key) => key.length < 1 || key.length > 128)) {
      throw invalid(`${where}.Equals keys must be 1 to 128 characters long.`);
    }
  }
  if (new Set(selectors.map((s) => s.Type)).size !== selectors.length) {
    throw invalid('Each context key selector Type can appear only once: merge the keys into one selector.');
  }
}

const TEMPLATES: readonly string[] = ['API_ACTIVITY', 'RESOURCE_ACCESS', 'USER_ACTIONS'];

function validateAggregations(configs: readonly AggregationConfiguration[]): void {
  if (configs.length > 1) throw invalid('Specify at most 1 aggregation configuration.');
  for (const [i, c] of configs.entries()) {
    const where = `AggregationConfigurations[${i}]`;
    if (c.EventCategory !== 'Data') throw invalid(`${where}.EventCategory must be Data.`);
    if (c.Templates.length < 1 || c.Templates.length > 50)
      throw invalid(`${where}.Templates must list 1 to 50 templates.`);
    if (c.Templates.some((t) => !TEMPLATES.includes(t))) {
      throw invalid(`${where}.Templates can contain only API_ACTIVITY, RESOURCE_ACCESS and USER_ACTIONS.`);
    }
  }
}

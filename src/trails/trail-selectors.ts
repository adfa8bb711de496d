import type { Caller } from '../identity/index.ts';
import { ServiceError } from '../model/service-error.ts';
import {
  applyEventConfiguration,
  defaultEventConfiguration,
  type EventConfiguration,
  eventConfigurationTarget,
  type PutEventConfigurationInput,
} from './event-configuration.ts';
import {
  type AdvancedEventSelector,
  type EventSelector,
  type StoredEventSelector,
  validateEventSelectors,
} from './event-selectors.ts';
import { type InsightSelector, requireInsightsCompatible, validateInsightSelectors } from './insight-selectors.ts';
import type { TrailRecord } from './trail.ts';
import type { TrailService } from './trail-service.ts';

/** PutEventSelectors / PutInsightSelectors / PutEventConfiguration on trails, and their Get twins (facts §7, §9). */

export interface TrailSelectors {
  TrailARN: string;
  EventSelectors?: StoredEventSelector[];
  AdvancedEventSelectors?: AdvancedEventSelector[];
}

export function selectorsOf(trail: TrailRecord): TrailSelectors {
  return {
    TrailARN: trail.arn,
    ...(trail.advancedEventSelectors !== undefined
      ? { AdvancedEventSelectors: trail.advancedEventSelectors }
      : { EventSelectors: trail.eventSelectors ?? [] }),
  };
}

export async function putEventSelectors(
  trails: TrailService,
  caller: Caller,
  input: { TrailName: string; EventSelectors?: EventSelector[]; AdvancedEventSelectors?: AdvancedEventSelector[] },
): Promise<TrailSelectors> {
  const { TrailName: _name, ...selectorsInput } = input;
  const validated = validateEventSelectors(selectorsInput, 'trail');
  const trail = await trails.change(caller, input.TrailName, (t) => {
    // The kind applied replaces the other kind (facts §7.1).
    const { eventSelectors: _basic, advancedEventSelectors: _advanced, ...rest } = t;
    return { ...rest, ...toRecordSelectors(validated), hasCustomEventSelectors: true };
  });
  return selectorsOf(trail);
}

function toRecordSelectors(
  v: ReturnType<typeof validateEventSelectors>,
): Pick<TrailRecord, 'eventSelectors'> | Pick<TrailRecord, 'advancedEventSelectors'> {
  return 'EventSelectors' in v
    ? { eventSelectors: v.EventSelectors }
    : { advancedEventSelectors: v.AdvancedEventSelectors };
}

export async function putInsightSelectors(
  trails: TrailService,
  caller: Caller,
  input: { TrailName?: string; EventDataStore?: string; InsightSelectors: InsightSelector[] },
): Promise<{ TrailARN: string; InsightSelectors: InsightSelector[] }> {
  const trailName = insightTrailName(input);
  const selectors = validateInsightSelectors(input.InsightSelectors, 'trail');
  const trail = await trails.change(caller, trailName, (t) => {
    requireInsightsCompatible(selectors, selectorsOf(t));
    return { ...t, insightSelectors: selectors };
  });
  return { TrailARN: trail.arn, InsightSelectors: trail.insightSelectors };
}

export function getInsightSelectors(
  trails: TrailService,
  caller: Caller,
  input: { TrailName?: string; EventDataStore?: string },
): { TrailARN: string; InsightSelectors: InsightSelector[] } {
  const trail = trails.access.resolve(caller, insightTrailName(input));
  if (trail.insightSelectors.length === 0) {
    throw new ServiceError(
      'InsightNotEnabledException',
      `Trail ${trail.name} does not have Insights enabled. Edit the trail settings to enable Insights, and then try the operation again.`,
    );
  }
  return { TrailARN: trail.arn, InsightSelectors: trail.insightSelectors };
}

/** Insights selectors name a trail or an event data store; event data stores arrive with CloudTrail Lake. */
function insightTrailName(input: { TrailName?: string; EventDataStore?: string }): string {
  if (input.TrailName !== undefined && input.EventDataStore !== undefined) {
    throw new ServiceError(
      'InvalidParameterCombinationException',
      'Specify either TrailName or EventDataStore, not both.',
    );
  }
  if (input.EventDataStore !== undefined) {
    throw new ServiceError(
      'UnsupportedOperationException',
      'Insights on event data stores are not supported yet; name a trail with TrailName.',
    );
  }
  if (input.TrailName === undefined) {
    throw new ServiceError('InvalidParameterException', 'Specify the trail with TrailName.');
  }
  return input.TrailName;
}

export interface EventConfigurationOutput extends EventConfiguration {
  TrailARN: string;
}

export async function putEventConfiguration(
  trails: TrailService,
  caller: Caller,
  input: PutEventConfigurationInput,
): Promise<EventConfigurationOutput> {
  const trailName = configurationTrailName(input);
  const trail = await trails.change(caller, trailName, (t) => ({
    ...t,
    eventConfiguration: applyEventConfiguration(t.eventConfiguration ?? defaultEventConfiguration(), input, 'trail'),
  }));
  return { TrailARN: trail.arn, ...(trail.eventConfiguration ?? defaultEventConfiguration()) };
}

export function getEventConfiguration(
  trails: TrailService,
  caller: Caller,
  input: { TrailName?: string; EventDataStore?: string },
): EventConfigurationOutput {
  const trail = trails.access.resolve(caller, configurationTrailName(input));
  return { TrailARN: trail.arn, ...(trail.eventConfiguration ?? defaultEventConfiguration()) };
}

/** Event configuration names a trail or an event data store; event data stores arrive with CloudTrail Lake. */
function configurationTrailName(input: PutEventConfigurationInput): string {
  const target = eventConfigurationTarget(input);
  if (target.kind === 'eventDataStore') {
    throw new ServiceError(
      'UnsupportedOperationException',
      'Event configuration of event data stores is not supported yet; name a trail with TrailName.',
    );
  }
  return target.trailName;
}

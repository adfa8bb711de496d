import type { Caller } from '../identity/index.ts';
import { type ErrorName, ServiceError } from '../model/service-error.ts';
import { customWidgetAlias, MAX_WIDGETS, type RequestWidget, type WidgetRecord } from './dashboard.ts';
import type { EventDataStoreService } from './event-data-store-service.ts';
import type { LakeQueries } from './query-runner.ts';
import {
  bindWidget,
  CUSTOM_PARAMETERS,
  checkWidgetParameters,
  END_TIME,
  lakeTime,
  normalisePeriod,
  normaliseTime,
  PERIOD,
  START_TIME,
} from './widget-parameters.ts';

/** Values a widget's statement is checked with at create and update: any valid ones bind the same way. */
const SAMPLE_VALUES: Record<string, string> = {
  [START_TIME]: lakeTime(Date.UTC(2026, 0, 1)),
  [END_TIME]: lakeTime(Date.UTC(2026, 0, 2)),
  [PERIOD]: 'hour',
};

/**
 * A custom dashboard's widgets, checked as StartQuery would check them (bound with sample values, never run),
 * with their aliases: InvalidQueryStatementException names the widget at fault.
 */
export async function checkWidgets(
  queries: LakeQueries,
  caller: Caller,
  dashboardName: string,
  widgets: readonly RequestWidget[],
): Promise<WidgetRecord[]> {
  if (widgets.length > MAX_WIDGETS) {
    throw new ServiceError(
      'ServiceQuotaExceededException',
      `A dashboard has at most ${MAX_WIDGETS} widgets; ${widgets.length} were given.`,
    );
  }
  const out: WidgetRecord[] = [];
  for (const [i, w] of widgets.entries()) {
    const parameters = w.QueryParameters ?? [];
    checkWidgetParameters(w.QueryStatement, parameters, CUSTOM_PARAMETERS);
    const bound = bindWidget(
      w.QueryStatement,
      parameters.map((p) => SAMPLE_VALUES[p] ?? ''),
    );
    await queries.check(caller, bound).catch((error: unknown) => {
      if (error instanceof ServiceError && error.name === 'InvalidQueryStatementException') {
        throw new ServiceError('InvalidQueryStatementException', `Widget ${i + 1}: ${error.message}`);
      }
      throw error;
    });
    out.push({
      queryAlias: customWidgetAlias(dashboardName, i),
      queryStatement: w.QueryStatement,
      ...(w.QueryParameters !== undefined ? { queryParameters: [...w.QueryParameters] } : {}),
      viewProperties: { ...w.ViewProperties },
    });
  }
  return out;
}

/** One parameter value, checked and in the form its marks take; errors carry the operation's `errorName`. */
export function parameterValue(
  stores: EventDataStoreService,
  caller: Caller,
  parameter: string,
  value: string,
  errorName: ErrorName,
): string {
  if (parameter === START_TIME || parameter === END_TIME) return normaliseTime(value, errorName, parameter);
  if (parameter === PERIOD) return normalisePeriod(value, errorName);
  let store: ReturnType<EventDataStoreService['resolve']>;
  try {
    store = stores.resolve(caller, value);
  } catch {
    // Both operations that take a store here declare EventDataStoreNotFoundException, not the ARN error.
    throw new ServiceError('EventDataStoreNotFoundException', `The event data store ${value} does not exist.`);
  }
  if (store.status === 'PENDING_DELETION') {
    throw new ServiceError(
      'InactiveEventDataStoreException',
      `Event data store ${store.arn} is pending deletion; restore it to query it.`,
    );
  }
  return store.id;
}

import { type Caller, rootPrincipal } from '../identity/index.ts';
import type { Clock } from '../model/clock.ts';
import type { IdSource } from '../model/ids.ts';
import { SerialQueue } from '../model/serial-queue.ts';
import { ServiceError } from '../model/service-error.ts';
import { retaggedTags, type Tag, validateTags } from '../trails/index.ts';
import {
  type DashboardRecord,
  dashboardArn,
  HIGHLIGHTS_NAME,
  MAX_DASHBOARDS_PER_REGION,
  MAX_WIDGETS,
  parseDashboardRef,
  type RequestWidget,
} from './dashboard.ts';
import type { DashboardRefresh, DashboardStore } from './dashboard-store.ts';
import { checkWidgets, parameterValue } from './dashboard-widgets.ts';
import type { EventDataStoreService } from './event-data-store-service.ts';
import { HIGHLIGHTS_WIDGETS, MANAGED_DASHBOARDS, managedDashboard } from './managed-dashboards.ts';
import { type LakeQueries, QUERY_RETENTION_MS } from './query-runner.ts';
import { nextScheduledRefresh, type RefreshSchedule, validateRefreshSchedule } from './refresh-schedule.ts';
import {
  bindWidget,
  CUSTOM_PARAMETERS,
  EVENT_DATA_STORE_ID,
  MANAGED_PARAMETERS,
  refreshWindow,
} from './widget-parameters.ts';

export interface DashboardServiceDeps {
  store: DashboardStore;
  eventDataStores: EventDataStoreService;
  queries: LakeQueries;
  clock: Clock;
  ids: IdSource;
}

export interface CreateDashboardInput {
  Name: string;
  Widgets?: RequestWidget[];
  RefreshSchedule?: RefreshSchedule;
  TerminationProtectionEnabled?: boolean;
  TagsList?: Tag[];
}

export interface UpdateDashboardInput {
  DashboardId: string;
  Widgets?: RequestWidget[];
  RefreshSchedule?: RefreshSchedule;
  TerminationProtectionEnabled?: boolean;
}

/**
 * Dashboards (facts §8.7): custom ones are the caller's, regional, held in memory and written through to
 * `dashboards`; the managed ones (managed-dashboards.ts) exist in every account and Region, and only their
 * refresh state is stored. A refresh binds each widget's parameters and starts its query on LakeQueries,
 * tagged with the widget's alias and the RefreshId, so DescribeQuery finds it by alias; the results are the
 * queries' own (7 days). An ENABLED schedule is run by `runSchedules`, which the app calls every minute of
 * its clock, as the dashboard's account. Changes and refreshes run one at a time.
 */
export class DashboardService {
  readonly #deps: DashboardServiceDeps;
  readonly #changes = new SerialQueue();

  constructor(deps: DashboardServiceDeps) {
    this.#deps = deps;
  }

  create(caller: Caller, input: CreateDashboardInput): Promise<DashboardRecord> {
    return this.#changes.run(async () => {
      const { accountId } = caller.principal;
      const highlights = input.Name === HIGHLIGHTS_NAME;
      if (managedDashboard(input.Name) !== undefined) {
        throw new ServiceError('ConflictException', `${input.Name} is a managed dashboard; choose another name.`);
      }
      checkTags(input.TagsList ?? [], []);
      if (highlights) {
        if (input.Widgets !== undefined) {
          throw new ServiceError(
            'ValidationException',
            'The Highlights dashboard has managed widgets; create it without Widgets.',
          );
        }
        validateRefreshSchedule(input.RefreshSchedule ?? {}, true);
      } else if (input.RefreshSchedule !== undefined) {
        validateRefreshSchedule(input.RefreshSchedule, false);
      }
      const widgets = highlights
        ? [...HIGHLIGHTS_WIDGETS]
        : await checkWidgets(this.#deps.queries, caller, input.Name, input.Widgets ?? []);
      if (this.#deps.store.get(accountId, caller.region, input.Name) !== undefined) {
        throw new ServiceError(
          'ConflictException',
          `A dashboard named ${input.Name} already exists in ${caller.region}; choose another name or update it.`,
        );
      }
      if (this.#stored(caller).filter((d) => !d.builtIn).length >= MAX_DASHBOARDS_PER_REGION) {
        throw new ServiceError(
          'ServiceQuotaExceededException',
          `Account ${accountId} already has ${MAX_DASHBOARDS_PER_REGION} dashboards in ${caller.region}, the limit; delete one first.`,
        );
      }
      const now = this.#deps.clock.now();
      const next = nextScheduledRefresh(input.RefreshSchedule, now);
      const record: DashboardRecord = {
        name: input.Name,
        arn: dashboardArn(caller.region, accountId, input.Name),
        accountId,
        region: caller.region,
        type: highlights ? 'MANAGED' : 'CUSTOM',
        status: 'CREATED',
        widgets,
        ...(input.RefreshSchedule !== undefined ? { refreshSchedule: input.RefreshSchedule } : {}),
        terminationProtectionEnabled: input.TerminationProtectionEnabled ?? false,
        tags: (input.TagsList ?? []).map((t) => ({ ...t })),
        createdAtMs: now,
        updatedAtMs: now,
        ...(next !== undefined ? { nextRefreshMs: next } : {}),
      };
      await this.#deps.store.put(record);
      return record;
    });
  }

  update(caller: Caller, input: UpdateDashboardInput): Promise<DashboardRecord> {
    return this.#changes.run(async () => {
      const current = this.#changeable(caller, input.DashboardId);
      const highlights = current.name === HIGHLIGHTS_NAME;
      const next: DashboardRecord = { ...structuredClone(current), status: 'UPDATED' };
      if (input.Widgets !== undefined) {
        if (highlights) {
          throw new ServiceError(
            'UnsupportedOperationException',
            'The Highlights dashboard has managed widgets; they cannot be changed. Create a custom dashboard instead.',
          );
        }
        next.widgets = await checkWidgets(this.#deps.queries, caller, current.name, input.Widgets);
      }
      const now = this.#deps.clock.now();
      if (input.RefreshSchedule !== undefined) {
        validateRefreshSchedule(input.RefreshSchedule, highlights);
        next.refreshSchedule = input.RefreshSchedule;
        const at = nextScheduledRefresh(input.RefreshSchedule, now);
        if (at === undefined) delete next.nextRefreshMs;
        else next.nextRefreshMs = at;
      }
      if (input.TerminationProtectionEnabled !== undefined) {
        next.terminationProtectionEnabled = input.TerminationProtectionEnabled;
      }
      next.updatedAtMs = now;
      await this.#deps.store.put(next);
      return next;
    });
  }

  delete(caller: Caller, ref: string): Promise<void> {
    return this.#changes.run(async () => {
      const current = this.#changeable(caller, ref);
      if (current.terminationProtectionEnabled) {
        throw new ServiceError(
          'ConflictException',
          `Dashboard ${current.name} has termination protection; turn it off with UpdateDashboard first.`,
        );
      }
      await this.#deps.store.remove(current);
    });
  }

  /** The caller's dashboards in its Region, managed ones included, by name. */
  list(caller: Caller): DashboardRecord[] {
    const stored = this.#stored(caller);
    const builtIns = MANAGED_DASHBOARDS.filter((m) => !stored.some((d) => d.name === m.name)).map((m) =>
      this.#managed(caller, m.name),
    );
    return [...stored.map((d) => this.#withTemplate(d)), ...builtIns].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Finds the caller's dashboard by name or ARN in the request's Region; anything else is not found. */
  resolve(caller: Caller, ref: string): DashboardRecord {
    const parsed = parseDashboardRef(ref);
    const { accountId } = caller.principal;
    const ours = parsed !== undefined && (parsed.accountId ?? accountId) === accountId;
    const here = parsed !== undefined && (parsed.region ?? caller.region) === caller.region;
    const stored = ours && here ? this.#deps.store.get(accountId, caller.region, parsed.name) : undefined;
    if (stored !== undefined) return this.#withTemplate(stored);
    if (ours && here && managedDashboard(parsed.name) !== undefined) return this.#managed(caller, parsed.name);
    throw new ServiceError(
      'ResourceNotFoundException',
      `There is no dashboard ${ref} in ${caller.region}; give the name or ARN of one that ListDashboards shows.`,
    );
  }

  /** StartDashboardRefresh: starts every widget's query and answers the RefreshId. */
  refresh(caller: Caller, ref: string, given: Record<string, string> = {}): Promise<string> {
    return this.#changes.run(async () => this.#refresh(caller, this.resolve(caller, ref), given, false));
  }

  /** A refresh of the caller's (its account and Region), for reading the widgets' queries. */
  async refreshOf(caller: Caller, refreshId: string): Promise<DashboardRefresh | undefined> {
    const r = await this.#deps.store.refresh(refreshId);
    const visible = r !== undefined && r.accountId === caller.principal.accountId && r.region === caller.region;
    return visible ? r : undefined;
  }

  /** StartQuery with a QueryAlias: one widget's query with the given values, one per parameter in order. */
  async startWidgetQuery(
    caller: Caller,
    alias: string,
    values: readonly string[],
    options: { deliveryS3Uri?: string } = {},
  ): Promise<string> {
    const widget = this.list(caller)
      .flatMap((d) => d.widgets)
      .find((w) => w.queryAlias === alias);
    if (widget === undefined) {
      throw new ServiceError(
        'InvalidParameterException',
        `QueryAlias ${alias} names no widget of a dashboard of yours in ${caller.region}.`,
      );
    }
    const parameters = widget.queryParameters ?? [];
    if (values.length !== parameters.length) {
      throw new ServiceError(
        'InvalidParameterException',
        `The widget ${alias} takes ${parameters.length} QueryParameters (${parameters.join(', ') || 'none'}), in that order; ${values.length} were given.`,
      );
    }
    const bound = parameters.map((p, i) =>
      parameterValue(this.#deps.eventDataStores, caller, p, values[i] as string, 'InvalidParameterException'),
    );
    return this.#deps.queries.start(caller, bindWidget(widget.queryStatement, bound), {
      ...options,
      queryAlias: alias,
    });
  }

  /** AddTags and RemoveTags on a dashboard ARN. */
  retag(caller: Caller, arn: string, tags: Tag[], mode: 'add' | 'remove'): Promise<void> {
    return this.#changes.run(async () => {
      const current = this.resolve(caller, arn);
      if (current.builtIn) {
        throw new ServiceError(
          'ResourceTypeNotSupportedException',
          `${current.name} is a managed dashboard; only dashboards you create take tags.`,
        );
      }
      await this.#deps.store.put({ ...structuredClone(current), tags: retaggedTags(current.tags, tags, mode) });
    });
  }

  /**
   * Refreshes every dashboard whose enabled schedule is due, as its account. A refresh that cannot start is
   * recorded in LastRefreshFailureReason; either way the next one is set from now (missed slots run once).
   */
  async runSchedules(): Promise<void> {
    const now = this.#deps.clock.now();
    const due = this.#deps.store.all().filter((d) => d.nextRefreshMs !== undefined && d.nextRefreshMs <= now);
    for (const d of due) {
      await this.#changes.run(async () => {
        const current = this.#deps.store.get(d.accountId, d.region, d.name);
        if (current?.nextRefreshMs === undefined || current.nextRefreshMs > now) return;
        const caller: Caller = { principal: rootPrincipal(d.accountId, false), region: d.region, accessKeyId: '' };
        const next: DashboardRecord = { ...current };
        delete next.lastRefreshFailureReason;
        const at = nextScheduledRefresh(current.refreshSchedule, now);
        if (at === undefined) delete next.nextRefreshMs;
        else next.nextRefreshMs = at;
        try {
          await this.#refresh(caller, this.#withTemplate(next), this.#scheduledValues(caller, current), true);
        } catch (error) {
          const reason = `The scheduled refresh could not start: ${(error as Error).message}`.slice(0, 1000);
          await this.#deps.store.put({ ...next, lastRefreshFailureReason: reason });
        }
      });
    }
  }

  /** Drops refreshes older than their queries' results (7 days). */
  dropExpired(): Promise<void> {
    return this.#deps.store.dropRefreshesBefore(this.#deps.clock.now() - QUERY_RETENTION_MS);
  }

  async #refresh(caller: Caller, d: DashboardRecord, given: Record<string, string>, scheduled: boolean) {
    const allowed = d.type === 'MANAGED' ? MANAGED_PARAMETERS : CUSTOM_PARAMETERS;
    for (const key of Object.keys(given)) {
      if (!allowed.includes(key)) {
        throw new ServiceError(
          'ValidationException',
          `${key} is not a query parameter of ${d.type.toLowerCase()} dashboards: use ${allowed.join(', ')}.`,
        );
      }
    }
    const values: Record<string, string> = refreshWindow(given, this.#deps.clock.now(), 'ValidationException');
    if (d.type === 'MANAGED') {
      const ref = given[EVENT_DATA_STORE_ID];
      if (ref === undefined) {
        throw new ServiceError(
          'EventDataStoreNotFoundException',
          `Managed dashboard ${d.name} reads one event data store: give its ID as ${EVENT_DATA_STORE_ID} in QueryParameterValues.`,
        );
      }
      values[EVENT_DATA_STORE_ID] = parameterValue(
        this.#deps.eventDataStores,
        caller,
        EVENT_DATA_STORE_ID,
        ref,
        'EventDataStoreNotFoundException',
      );
    }
    const { accountId } = caller.principal;
    const room = MAX_WIDGETS - this.#deps.queries.unfinished(accountId);
    if (d.widgets.length > room) {
      throw new ServiceError(
        'ServiceQuotaExceededException',
        `The refresh runs ${d.widgets.length} queries but only ${Math.max(room, 0)} more may be queued or running now; wait for queries to finish.`,
      );
    }
    const refreshId = this.#refreshId();
    const widgets: DashboardRefresh['widgets'] = [];
    for (const w of d.widgets) {
      const bound = bindWidget(
        w.queryStatement,
        (w.queryParameters ?? []).map((p) => values[p] ?? ''),
      );
      const queryId = await this.#deps.queries
        .start(caller, bound, { queryAlias: w.queryAlias, refreshId })
        .catch((error: unknown) => {
          throw refreshError(error);
        });
      widgets.push({ queryAlias: w.queryAlias, queryId });
    }
    const now = this.#deps.clock.now();
    const refresh: DashboardRefresh = {
      refreshId,
      accountId,
      region: caller.region,
      dashboardName: d.name,
      createdMs: now,
      scheduled,
      parameterValues: values,
      widgets,
    };
    const next: DashboardRecord = {
      ...d,
      // A built-in dashboard's widgets are its template's: only its refresh state is stored.
      widgets: d.builtIn ? [] : d.widgets,
      lastRefreshId: refreshId,
      lastParameterValues: values,
      ...(d.builtIn ? { createdAtMs: d.createdAtMs || now, updatedAtMs: d.updatedAtMs || now } : {}),
    };
    await this.#deps.store.putRefresh(refresh, next);
    return refreshId;
  }

  /** What a scheduled refresh runs with: the last 24 hours, and for a managed one its last store. */
  #scheduledValues(caller: Caller, d: DashboardRecord): Record<string, string> {
    if (d.type !== 'MANAGED') return {};
    const last = d.lastParameterValues?.[EVENT_DATA_STORE_ID];
    const oldest = this.#deps.eventDataStores.list(caller).find((s) => s.status !== 'PENDING_DELETION');
    const store = last ?? oldest?.id;
    return store === undefined ? {} : { [EVENT_DATA_STORE_ID]: store };
  }

  /** The dashboard for Update and Delete: the built-in managed ones are not the caller's to change. */
  #changeable(caller: Caller, ref: string): DashboardRecord {
    const d = this.resolve(caller, ref);
    if (d.builtIn) {
      throw new ServiceError(
        'UnsupportedOperationException',
        `${d.name} is a managed dashboard and cannot be changed or deleted; create a custom dashboard with its widgets instead.`,
      );
    }
    return d;
  }

  #stored(caller: Caller): DashboardRecord[] {
    return this.#deps.store
      .all()
      .filter((d) => d.accountId === caller.principal.accountId && d.region === caller.region);
  }

  /** A built-in managed dashboard as the caller sees it before any refresh of it. */
  #managed(caller: Caller, name: string): DashboardRecord {
    return this.#withTemplate({
      name,
      arn: dashboardArn(caller.region, caller.principal.accountId, name),
      accountId: caller.principal.accountId,
      region: caller.region,
      type: 'MANAGED',
      status: 'CREATED',
      widgets: [],
      terminationProtectionEnabled: false,
      tags: [],
      createdAtMs: 0,
      updatedAtMs: 0,
      builtIn: true,
    });
  }

  /** Managed widgets always come from this version's templates, never from what an older one stored. */
  #withTemplate(d: DashboardRecord): DashboardRecord {
    if (d.name === HIGHLIGHTS_NAME) return { ...d, widgets: [...HIGHLIGHTS_WIDGETS] };
    const managed = d.builtIn ? managedDashboard(d.name) : undefined;
    return managed === undefined ? d : { ...d, widgets: [...managed.widgets] };
  }

  /** RefreshId: 20 digits from 64 random bits (the model allows 10 to 20). */
  #refreshId(): string {
    const hex = this.#deps.ids.uuid().replaceAll('-', '').slice(0, 16);
    return BigInt(`0x${hex}`).toString().padStart(20, '0');
  }
}

/** The errors StartDashboardRefresh declares: a full query queue is its quota. */
function refreshError(error: unknown): unknown {
  if (!(error instanceof ServiceError)) return error;
  if (error.name === 'MaxConcurrentQueriesException') {
    return new ServiceError('ServiceQuotaExceededException', error.message, { cause: error });
  }
  if (error.name === 'InvalidQueryStatementException') {
    return new ServiceError('ValidationException', `A widget's query cannot run: ${error.message}`, { cause: error });
  }
  return error;
}

function checkTags(tags: Tag[], existing: Tag[]): void {
  try {
    validateTags(tags, existing);
  } catch (error) {
    // CreateDashboard declares no TagsLimitExceededException: too many tags is a bad tag parameter there.
    if (error instanceof ServiceError && error.name === 'TagsLimitExceededException') {
      throw new ServiceError('InvalidTagParameterException', error.message, { cause: error });
    }
    throw error;
  }
}

import type { Tag } from '../trails/index.ts';
import type { RefreshSchedule } from './refresh-schedule.ts';

/** A CloudTrail Lake dashboard (facts §8.7, Appendix A.8): widgets whose Lake SQL runs at each refresh. */

export type DashboardType = 'MANAGED' | 'CUSTOM';
/** CREATING, UPDATING and DELETING never show: opentrail's changes are done before their call answers. */
export type DashboardStatus = 'CREATING' | 'CREATED' | 'UPDATING' | 'UPDATED' | 'DELETING';

/** The Highlights dashboard: managed widgets, created by name, refreshed every 6 hours. */
export const HIGHLIGHTS_NAME = 'AWSCloudTrail-Highlights';
/** Custom dashboards an account may have in one Region (opentrail's choice: AWS publishes no figure). */
export const MAX_DASHBOARDS_PER_REGION = 100;
export const MAX_WIDGETS = 10;

export interface WidgetRecord {
  /** Names the widget's query for StartQuery and DescribeQuery (`QueryAlias`). */
  queryAlias: string;
  queryStatement: string;
  /** `$StartTime$`, `$EndTime$`, `$Period$` (and `$EventDataStoreId$` for managed ones), one per `?`. */
  queryParameters?: string[];
  viewProperties: Record<string, string>;
}

export interface DashboardRecord {
  name: string;
  arn: string;
  accountId: string;
  region: string;
  type: DashboardType;
  status: DashboardStatus;
  widgets: WidgetRecord[];
  refreshSchedule?: RefreshSchedule;
  terminationProtectionEnabled: boolean;
  tags: Tag[];
  createdAtMs: number;
  updatedAtMs: number;
  lastRefreshId?: string;
  lastRefreshFailureReason?: string;
  /** The parameter values of the last refresh: a scheduled refresh of a managed dashboard reuses its store. */
  lastParameterValues?: Record<string, string>;
  /** When the enabled schedule next refreshes the dashboard (epoch ms). */
  nextRefreshMs?: number;
  /** One of opentrail's managed dashboards (managed-dashboards.ts), there in every account and Region. */
  builtIn?: boolean;
}

/** A widget as the API takes it (RequestWidget). */
export interface RequestWidget {
  QueryStatement: string;
  QueryParameters?: string[];
  ViewProperties: Record<string, string>;
}

const NAME = /^[a-zA-Z0-9_-]{3,128}$/;
const ARN = /^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):dashboard\/([a-zA-Z0-9_-]{3,128})$/;

export function dashboardArn(region: string, accountId: string, name: string): string {
  return `arn:aws:cloudtrail:${region}:${accountId}:dashboard/${name}`;
}

/** A dashboard named by ARN or by name; undefined when it is neither. */
export function parseDashboardRef(value: string): { name: string; region?: string; accountId?: string } | undefined {
  const m = ARN.exec(value);
  if (m !== null) return { region: m[1] as string, accountId: m[2] as string, name: m[3] as string };
  return NAME.test(value) ? { name: value } : undefined;
}

export function isDashboardArn(value: string): boolean {
  return /^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:dashboard\//.test(value);
}

/** A custom widget's alias: unique in its account and Region, since the dashboard's name is. */
export function customWidgetAlias(dashboardName: string, index: number): string {
  return `Custom-${dashboardName}-${index + 1}`;
}

function widgetOutput(w: WidgetRecord): Record<string, unknown> {
  return {
    QueryAlias: w.queryAlias,
    QueryStatement: w.queryStatement,
    ...(w.queryParameters !== undefined ? { QueryParameters: w.queryParameters } : {}),
    ViewProperties: w.viewProperties,
  };
}

/** The members Create, Update and Get share. */
export function dashboardOutput(d: DashboardRecord): Record<string, unknown> {
  return {
    DashboardArn: d.arn,
    Type: d.type,
    Widgets: d.widgets.map(widgetOutput),
    ...(d.refreshSchedule !== undefined ? { RefreshSchedule: d.refreshSchedule } : {}),
    TerminationProtectionEnabled: d.terminationProtectionEnabled,
  };
}

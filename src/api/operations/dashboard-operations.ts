import {
  type CreateDashboardInput,
  type DashboardRecord,
  dashboardOutput,
  type UpdateDashboardInput,
} from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';
import { type KeysetOrder, keysetPage } from './page-token.ts';

/** Lake dashboard operations (facts §8.7, Appendix A.8). */

/** ListDashboards' page when MaxResults is not given. */
const LIST_PAGE = 100;

type DashboardRef = { DashboardId: string };

/** Built-in managed dashboards show no times until their first refresh stores their state. */
function timestamps(d: DashboardRecord): Record<string, Date> {
  if (d.builtIn && d.createdAtMs === 0) return {};
  return { CreatedTimestamp: new Date(d.createdAtMs), UpdatedTimestamp: new Date(d.updatedAtMs) };
}

export const dashboardOperations: OperationTable = {
  CreateDashboard: {
    readOnly: false,
    handle: async (ctx, input: CreateDashboardInput) => {
      const d = await ctx.services.dashboards.create(ctx.caller, input);
      return { ...dashboardOutput(d), Name: d.name, TagsList: d.tags };
    },
  },
  GetDashboard: {
    readOnly: true,
    handle: (ctx, input: DashboardRef) => {
      const d = ctx.services.dashboards.resolve(ctx.caller, input.DashboardId);
      return {
        ...dashboardOutput(d),
        Status: d.status,
        ...timestamps(d),
        ...(d.lastRefreshId !== undefined ? { LastRefreshId: d.lastRefreshId } : {}),
        ...(d.lastRefreshFailureReason !== undefined ? { LastRefreshFailureReason: d.lastRefreshFailureReason } : {}),
      };
    },
  },
  UpdateDashboard: {
    readOnly: false,
    handle: async (ctx, input: UpdateDashboardInput) => {
      const d = await ctx.services.dashboards.update(ctx.caller, input);
      return { ...dashboardOutput(d), Name: d.name, ...timestamps(d) };
    },
  },
  DeleteDashboard: {
    readOnly: false,
    handle: async (ctx, input: DashboardRef) => {
      await ctx.services.dashboards.delete(ctx.caller, input.DashboardId);
      return {};
    },
  },
  ListDashboards: {
    readOnly: true,
    handle: (ctx, input: { NamePrefix?: string; Type?: string; NextToken?: string; MaxResults?: number }) => {
      const all = ctx.services.dashboards
        .list(ctx.caller)
        .filter(
          (d) =>
            (input.NamePrefix === undefined || d.name.startsWith(input.NamePrefix)) &&
            (input.Type === undefined || d.type === input.Type),
        );
      const size = input.MaxResults ?? LIST_PAGE;
      const scope = ['ListDashboards', ctx.caller.principal.accountId, ctx.caller.region, input.NamePrefix, input.Type];
      const { items, nextToken } = keysetPage(
        all,
        BY_NAME,
        { size, token: input.NextToken, scope: scope.join('/') },
        // ListDashboards declares no token error; the protocol's ValidationException says what to fix.
        () =>
          new ServiceError(
            'ValidationException',
            'The NextToken is not one ListDashboards returned for these filters; start again without it.',
          ),
      );
      return {
        Dashboards: items.map((d) => ({ DashboardArn: d.arn, Type: d.type })),
        ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
      };
    },
  },
  StartDashboardRefresh: {
    readOnly: false,
    handle: async (ctx, input: DashboardRef & { QueryParameterValues?: Record<string, string> }) => ({
      RefreshId: await ctx.services.dashboards.refresh(ctx.caller, input.DashboardId, input.QueryParameterValues),
    }),
  },
};

/** Dashboards are listed by name. */
const BY_NAME: KeysetOrder<DashboardRecord, string> = {
  key: (d) => d.name,
  isKey: (value): value is string => typeof value === 'string',
  after: (d, name) => d.name.localeCompare(name) > 0,
};

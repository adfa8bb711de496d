import { createHash } from 'node:crypto';
import {
  type CreateDashboardInput,
  type DashboardRecord,
  dashboardOutput,
  type UpdateDashboardInput,
} from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';

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
      const scope = [ctx.caller.principal.accountId, ctx.caller.region, input.NamePrefix, input.Type].join('/');
      const size = input.MaxResults ?? LIST_PAGE;
      const start = input.NextToken === undefined ? 0 : afterToken(all, input.NextToken, scope);
      const page = all.slice(start, start + size);
      const last = page[page.length - 1];
      return {
        Dashboards: page.map((d) => ({ DashboardArn: d.arn, Type: d.type })),
        ...(start + size < all.length && last !== undefined ? { NextToken: listToken(last.name, scope) } : {}),
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

/** Page tokens name the last dashboard returned and carry a digest of the filters they were issued for. */
function listToken(after: string, scope: string): string {
  return Buffer.from(JSON.stringify({ after, sum: checksum(after, scope) })).toString('base64url');
}

function checksum(after: string, scope: string): string {
  return createHash('sha256').update(`dashboard/${scope}/${after}`).digest('hex').slice(0, 16);
}

function afterToken(all: DashboardRecord[], token: string, scope: string): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof t['after'] === 'string' && t['sum'] === checksum(t['after'], scope)) {
      const after = t['after'];
      const index = all.findIndex((d) => d.name.localeCompare(after) > 0);
      return index === -1 ? all.length : index;
    }
  } catch {
    // fall through
  }
  // ListDashboards declares no token error; the protocol's ValidationException says what to fix.
  throw new ServiceError(
    'ValidationException',
    'The NextToken is not one ListDashboards returned for these filters; start again without it.',
  );
}

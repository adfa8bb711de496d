import { isoSeconds } from '../../model/clock.ts';
import { ServiceError } from '../../model/service-error.ts';
import {
  type DeliveryStatus,
  isShadow,
  type TrailRecord,
  type TrailSettingsInput,
  trailOrder,
  trailOutput,
  trailSettingsOutput,
} from '../../trails/index.ts';
import type { OperationTable } from '../operation.ts';

/** Trail lifecycle operations (facts §3, Appendix A.1). */

const LIST_TRAILS_PAGE = 50;

/** GetTrailStatus (facts §3.5): logging times from the trail, delivery times and errors from its deliveries. */
function status(trail: TrailRecord, delivery: DeliveryStatus): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? '' : isoSeconds(ms));
  const at = (member: string, ms: number | undefined) => (ms === undefined ? {} : { [member]: new Date(ms) });
  const text = (member: string, value: string | undefined) => (value === undefined ? {} : { [member]: value });
  return {
    IsLogging: trail.isLogging,
    ...text('LatestDeliveryError', delivery.latestDeliveryError),
    ...text('LatestNotificationError', delivery.latestNotificationError),
    ...at('LatestDeliveryTime', delivery.latestDeliveryMs),
    ...at('LatestNotificationTime', delivery.latestNotificationMs),
    ...at('StartLoggingTime', trail.startLoggingTimeMs),
    ...at('StopLoggingTime', trail.stopLoggingTimeMs),
    ...at('LatestDigestDeliveryTime', delivery.latestDigestMs),
    ...text('LatestDigestDeliveryError', delivery.latestDigestError),
    // The deprecated string members: AWS always sends them, empty when there is nothing to say.
    LatestDeliveryAttemptTime: iso(delivery.latestDeliveryAttemptMs),
    LatestNotificationAttemptTime: iso(delivery.latestNotificationAttemptMs),
    LatestNotificationAttemptSucceeded:
      delivery.latestNotificationError === undefined ? iso(delivery.latestNotificationAttemptMs) : '',
    LatestDeliveryAttemptSucceeded:
      delivery.latestDeliveryError === undefined ? iso(delivery.latestDeliveryAttemptMs) : '',
    TimeLoggingStarted: iso(trail.startLoggingTimeMs),
    TimeLoggingStopped: iso(trail.stopLoggingTimeMs),
  };
}

export const trailOperations: OperationTable = {
  CreateTrail: {
    readOnly: false,
    handle: async (ctx, input: TrailSettingsInput) =>
      trailSettingsOutput(await ctx.services.trails.create(ctx.caller, input)),
  },
  UpdateTrail: {
    readOnly: false,
    handle: async (ctx, input: TrailSettingsInput) =>
      trailSettingsOutput(await ctx.services.trails.update(ctx.caller, input)),
  },
  DeleteTrail: {
    readOnly: false,
    handle: async (ctx, input: { Name: string }) => {
      await ctx.services.trails.delete(ctx.caller, input.Name);
      return {};
    },
  },
  GetTrail: {
    readOnly: true,
    handle: (ctx, input: { Name: string }) => ({
      Trail: trailOutput(ctx.services.trails.access.resolve(ctx.caller, input.Name)),
    }),
  },
  DescribeTrails: {
    readOnly: true,
    handle: (ctx, input: { trailNameList?: string[]; includeShadowTrails?: boolean }) => {
      const access = ctx.services.trails.access;
      const includeShadows = input.includeShadowTrails ?? true;
      const names = input.trailNameList ?? [];
      if (names.length === 0) return { trailList: access.inRegion(ctx.caller, includeShadows).map(trailOutput) };
      const found = new Map<string, TrailRecord>();
      // Unknown names are simply left out (facts §3.4); malformed ones are errors. Each name is looked up
      // once, without an exception for each unknown one: a long list must not hold up other requests.
      for (const name of new Set(names)) {
        const trail = access.find(ctx.caller, name);
        if (trail !== undefined && (includeShadows || !isShadow(ctx.caller, trail))) found.set(trail.arn, trail);
      }
      return { trailList: [...found.values()].map(trailOutput) };
    },
  },
  ListTrails: {
    readOnly: true,
    handle: (ctx, input: { NextToken?: string }) => {
      const all = ctx.services.trails.access.all(ctx.caller);
      const after = input.NextToken === undefined ? undefined : readListToken(input.NextToken);
      // Pages continue after the last trail returned (by name, then ARN), so trails created or deleted
      // between pages never make another trail skipped or repeated.
      const rest = after === undefined ? all : all.filter((t) => trailOrder(t, after) > 0);
      const page = rest.slice(0, LIST_TRAILS_PAGE);
      const last = page[page.length - 1];
      return {
        Trails: page.map((t) => ({ TrailARN: t.arn, Name: t.name, HomeRegion: t.homeRegion })),
        ...(rest.length > LIST_TRAILS_PAGE && last !== undefined
          ? { NextToken: Buffer.from(JSON.stringify({ name: last.name, arn: last.arn })).toString('base64url') }
          : {}),
      };
    },
  },
  GetTrailStatus: {
    readOnly: true,
    handle: (ctx, input: { Name: string }) => {
      const trail = ctx.services.trails.access.resolve(ctx.caller, input.Name);
      return status(trail, ctx.services.delivery.status(trail));
    },
  },
  StartLogging: {
    readOnly: false,
    handle: async (ctx, input: { Name: string }) => {
      await ctx.services.trails.startLogging(ctx.caller, input.Name);
      return {};
    },
  },
  StopLogging: {
    readOnly: false,
    handle: async (ctx, input: { Name: string }) => {
      await ctx.services.trails.stopLogging(ctx.caller, input.Name);
      return {};
    },
  },
};

/** ListTrails declares no token error, so a bad token is a plain validation error. */
function readListToken(token: string): { name: string; arn: string } {
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { name?: unknown; arn?: unknown };
    if (typeof key.name === 'string' && typeof key.arn === 'string') return { name: key.name, arn: key.arn };
  } catch {
    // fall through to the error below
  }
  throw new ServiceError(
    'ValidationException',
    'The NextToken is not one ListTrails returned; start again without it.',
  );
}

import {
  getEventConfiguration,
  getInsightSelectors,
  putEventConfiguration,
  putEventSelectors,
  putInsightSelectors,
  selectorsOf,
} from '../../trails/index.ts';
import type { OperationContext, OperationTable } from '../operation.ts';

/** Selector and event-configuration operations on trails (facts §7, §9, Appendix A.2). */

function trailArnOf(output: Record<string, unknown> | undefined, ctx: OperationContext) {
  const arn = output?.['TrailARN'];
  return typeof arn === 'string'
    ? [{ accountId: ctx.caller.principal.accountId, type: 'AWS::CloudTrail::Trail', ARN: arn }]
    : [];
}

export const selectorOperations: OperationTable = {
  PutEventSelectors: {
    readOnly: false,
    handle: async (ctx, input) => ({ ...(await putEventSelectors(ctx.services.trails, ctx.caller, input)) }),
    resources: (ctx, _input, output) => trailArnOf(output, ctx),
  },
  GetEventSelectors: {
    readOnly: true,
    handle: (ctx, input: { TrailName: string }) => ({
      ...selectorsOf(ctx.services.trails.access.resolve(ctx.caller, input.TrailName)),
    }),
    resources: (ctx, _input, output) => trailArnOf(output, ctx),
  },
  PutInsightSelectors: {
    readOnly: false,
    handle: async (ctx, input) => ({ ...(await putInsightSelectors(ctx.services.trails, ctx.caller, input)) }),
    resources: (ctx, _input, output) => trailArnOf(output, ctx),
  },
  GetInsightSelectors: {
    readOnly: true,
    handle: (ctx, input) => ({ ...getInsightSelectors(ctx.services.trails, ctx.caller, input) }),
  },
  PutEventConfiguration: {
    readOnly: false,
    handle: async (ctx, input) => ({ ...(await putEventConfiguration(ctx.services.trails, ctx.caller, input)) }),
    resources: (ctx, _input, output) => trailArnOf(output, ctx),
  },
  GetEventConfiguration: {
    readOnly: true,
    handle: (ctx, input) => ({ ...getEventConfiguration(ctx.services.trails, ctx.caller, input) }),
  },
};

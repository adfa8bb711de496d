import {
  getEventConfiguration,
  getInsightSelectors,
  putEventConfiguration,
  putEventSelectors,
  putInsightSelectors,
  selectorsOf,
} from '../../trails/index.ts';
import type { OperationTable } from '../operation.ts';

/** Selector and event-configuration operations on trails (facts §7, §9, Appendix A.2). */

export const selectorOperations: OperationTable = {
  PutEventSelectors: {
    readOnly: false,
    handle: async (ctx, input) => ({ ...(await putEventSelectors(ctx.services.trails, ctx.caller, input)) }),
  },
  GetEventSelectors: {
    readOnly: true,
    handle: (ctx, input: { TrailName: string }) => ({
      ...selectorsOf(ctx.services.trails.access.resolve(ctx.caller, input.TrailName)),
    }),
  },
  PutInsightSelectors: {
    readOnly: false,
    handle: async (ctx, input) => ({ ...(await putInsightSelectors(ctx.services.trails, ctx.caller, input)) }),
  },
  GetInsightSelectors: {
    readOnly: true,
    handle: (ctx, input) => ({ ...getInsightSelectors(ctx.services.trails, ctx.caller, input) }),
  },
  PutEventConfiguration: {
    readOnly: false,
    handle: async (ctx, input) => ({ ...(await putEventConfiguration(ctx.services.trails, ctx.caller, input)) }),
  },
  GetEventConfiguration: {
    readOnly: true,
    handle: (ctx, input) => ({ ...getEventConfiguration(ctx.services.trails, ctx.caller, input) }),
  },
};

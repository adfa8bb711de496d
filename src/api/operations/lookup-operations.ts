import type { LookupEventsInput } from '../../history/index.ts';
import type { OperationTable } from '../operation.ts';

/** Event history (facts §6). */
export const lookupOperations: OperationTable = {
  LookupEvents: {
    readOnly: true,
    handle: async (ctx, input: LookupEventsInput) => {
      ctx.services.lookupRateLimit.check(ctx.caller);
      return { ...(await ctx.services.history.lookup(ctx.caller, input)) };
    },
  },
};

import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';
import { unissuedToken } from './page-token.ts';

interface ListPublicKeysInput {
  StartTime?: Date;
  EndTime?: Date;
  /** Reserved by AWS; there is only ever one page. */
  NextToken?: string;
}

/** Log file integrity (facts §5.6): the public halves of the caller's Region's digest signing keys. */
export const integrityOperations: OperationTable = {
  ListPublicKeys: {
    readOnly: true,
    handle: async (ctx, input: ListPublicKeysInput) => {
      if (input.NextToken !== undefined) throw unissuedToken('ListPublicKeys');
      const { clock, signingKeys } = ctx.services;
      const region = ctx.caller.region;
      // Makes the Region's first key on first use, so validate-logs against a fresh server still finds one.
      await signingKeys.current(region);
      // Either bound defaults to now (AWS's documented default). An end in the future is fine: validate-logs
      // asks for [start, end + 2 h] (facts §0.6).
      const nowMs = clock.now();
      const startMs = input.StartTime?.getTime() ?? nowMs;
      const endMs = input.EndTime?.getTime() ?? nowMs;
      if (startMs > endMs) {
        throw new ServiceError(
          'InvalidTimeRangeException',
          `StartTime (${new Date(startMs).toISOString()}) must not be after EndTime (${new Date(endMs).toISOString()}); an omitted one is now.`,
        );
      }
      return { PublicKeyList: signingKeys.publicKeys(region, startMs, endMs) };
    },
  },
};

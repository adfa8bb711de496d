import {
  type ImportStatus,
  importFailureOutput,
  importOutput,
  type StartImportInput,
  storeRefArn,
} from '../../lake/index.ts';
import type { OperationTable } from '../operation.ts';
import { pageToken, readToken } from './page-token.ts';

/** Lake import operations (facts §8.5). */

const DEFAULT_PAGE = 1000;

export const importOperations: OperationTable = {
  StartImport: {
    readOnly: false,
    handle: async (ctx, input: StartImportInput) =>
      importOutput(await ctx.services.lakeImports.start(ctx.caller, input), false),
  },
  GetImport: {
    readOnly: true,
    handle: (ctx, input: { ImportId: string }) =>
      importOutput(ctx.services.lakeImports.get(ctx.caller, input.ImportId), true),
  },
  StopImport: {
    readOnly: false,
    handle: async (ctx, input: { ImportId: string }) =>
      importOutput(await ctx.services.lakeImports.stop(ctx.caller, input.ImportId), true),
  },
  ListImports: {
    readOnly: true,
    handle: (
      ctx,
      input: { Destination?: string; ImportStatus?: ImportStatus; MaxResults?: number; NextToken?: string },
    ) => {
      const filter = {
        // A filter: a store that is gone, or never was, matches no import (ListImports declares no not-found).
        ...(input.Destination !== undefined
          ? {
              destination: storeRefArn(input.Destination, {
                accountId: ctx.caller.principal.accountId,
                region: ctx.caller.region,
              }),
            }
          : {}),
        ...(input.ImportStatus !== undefined ? { status: input.ImportStatus } : {}),
      };
      const all = ctx.services.lakeImports.list(ctx.caller, filter);
      const scope = `ListImports/${ctx.caller.principal.accountId}/${ctx.caller.region}/${filter.destination}/${filter.status}`;
      const start = readToken(scope, input.NextToken);
      const end = start + (input.MaxResults ?? DEFAULT_PAGE);
      return {
        Imports: all.slice(start, end).map((r) => ({
          ImportId: r.id,
          ImportStatus: r.status,
          Destinations: [r.destination],
          CreatedTimestamp: new Date(r.createdAtMs),
          UpdatedTimestamp: new Date(r.updatedAtMs),
        })),
        ...(end < all.length ? { NextToken: pageToken(scope, end) } : {}),
      };
    },
  },
  ListImportFailures: {
    readOnly: true,
    handle: async (ctx, input: { ImportId: string; MaxResults?: number; NextToken?: string }) => {
      const scope = `ListImportFailures/${ctx.caller.principal.accountId}/${input.ImportId}`;
      const start = readToken(scope, input.NextToken);
      const size = input.MaxResults ?? DEFAULT_PAGE;
      // One more than the page tells whether another page follows.
      const page = await ctx.services.lakeImports.failures(ctx.caller, input.ImportId, start, size + 1);
      return {
        Failures: page.slice(0, size).map(importFailureOutput),
        ...(page.length > size ? { NextToken: pageToken(scope, start + size) } : {}),
      };
    },
  },
};

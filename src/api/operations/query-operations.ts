import { type LakeQueryRecord, searchSampleQueries } from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';
import { pageToken, readToken } from './page-token.ts';

/** Lake query operations (facts §8.2). */

const DEFAULT_RESULTS_PAGE = 1000;
const DEFAULT_LIST_PAGE = 1000;
const DEFAULT_SAMPLES_PAGE = 10;
/**
 * How long DescribeQuery holds a poll of an unfinished query for it to end (LakeQueries.settled): short
 * enough that a caller still sees RUNNING promptly, long enough that most queries end within one poll.
 */
const DESCRIBE_HOLD_MS = 100;

function statistics(q: LakeQueryRecord) {
  return {
    EventsMatched: q.statistics.eventsMatched,
    EventsScanned: q.statistics.eventsScanned,
    BytesScanned: q.statistics.bytesScanned,
    ExecutionTimeInMillis: q.statistics.executionMs,
    CreationTime: new Date(q.createdMs),
  };
}

export const queryOperations: OperationTable = {
  StartQuery: {
    readOnly: false,
    handle: async (
      ctx,
      input: {
        QueryStatement?: string;
        QueryAlias?: string;
        QueryParameters?: string[];
        DeliveryS3Uri?: string;
        EventDataStoreOwnerAccountId?: string;
      },
    ) => {
      if (input.QueryAlias !== undefined && input.QueryStatement !== undefined) {
        throw new ServiceError(
          'InvalidParameterException',
          'Give either a QueryStatement or a QueryAlias (a dashboard widget, with its QueryParameters), not both.',
        );
      }
      if (input.QueryParameters !== undefined && input.QueryAlias === undefined) {
        throw new ServiceError(
          'InvalidParameterException',
          'QueryParameters are the values of a QueryAlias; give one.',
        );
      }
      if (input.EventDataStoreOwnerAccountId !== undefined) {
        throw new ServiceError(
          'UnsupportedOperationException',
          'EventDataStoreOwnerAccountId is not supported yet: stores are queried by the account that owns them.',
        );
      }
      const delivery = input.DeliveryS3Uri !== undefined ? { deliveryS3Uri: input.DeliveryS3Uri } : {};
      if (input.QueryAlias !== undefined) {
        const queryId = await ctx.services.dashboards.startWidgetQuery(
          ctx.caller,
          input.QueryAlias,
          input.QueryParameters ?? [],
          delivery,
        );
        return { QueryId: queryId };
      }
      if (input.QueryStatement === undefined) {
        throw new ServiceError('InvalidParameterException', 'StartQuery needs a QueryStatement or a QueryAlias.');
      }
      return { QueryId: await ctx.services.lakeQueries.start(ctx.caller, input.QueryStatement, delivery) };
    },
  },
  DescribeQuery: {
    readOnly: true,
    handle: async (
      ctx,
      input: { QueryId?: string; EventDataStore?: string; QueryAlias?: string; RefreshId?: string },
    ) => {
      if (
        (input.QueryId === undefined) === (input.QueryAlias === undefined) ||
        (input.RefreshId !== undefined && input.QueryAlias === undefined)
      ) {
        throw new ServiceError(
          'InvalidParameterException',
          'DescribeQuery needs either a QueryId or a QueryAlias (with a dashboard RefreshId if you like), not both.',
        );
      }
      // A dashboard widget's query: the newest for the alias, or the one of the given refresh.
      const queryId =
        input.QueryId ??
        (await ctx.services.lakeQueries.byAlias(ctx.caller, input.QueryAlias as string, input.RefreshId)).queryId;
      let q = await ctx.services.lakeQueries.get(ctx.caller, queryId, input.EventDataStore);
      if (q.status === 'QUEUED' || q.status === 'RUNNING') {
        await ctx.services.lakeQueries.settled(q.queryId, DESCRIBE_HOLD_MS);
        q = await ctx.services.lakeQueries.get(ctx.caller, queryId, input.EventDataStore);
      }
      return {
        QueryId: q.queryId,
        QueryString: q.statement,
        QueryStatus: q.status,
        QueryStatistics: statistics(q),
        ...(q.errorMessage !== undefined ? { ErrorMessage: q.errorMessage } : {}),
        ...(q.deliveryS3Uri !== undefined ? { DeliveryS3Uri: q.deliveryS3Uri } : {}),
        ...(q.deliveryStatus !== undefined ? { DeliveryStatus: q.deliveryStatus } : {}),
      };
    },
  },
  GetQueryResults: {
    readOnly: true,
    handle: async (
      ctx,
      input: { QueryId: string; EventDataStore?: string; MaxQueryResults?: number; NextToken?: string },
    ) => {
      const q = await ctx.services.lakeQueries.get(ctx.caller, input.QueryId, input.EventDataStore);
      const scope = `${ctx.caller.principal.accountId}/${q.queryId}`;
      const offset = readToken(scope, input.NextToken);
      const size = input.MaxQueryResults ?? DEFAULT_RESULTS_PAGE;
      const rows = await ctx.services.lakeQueries.results(ctx.caller, q.queryId, offset, size);
      const more = q.status === 'FINISHED' && offset + rows.length < q.resultsCount;
      return {
        QueryStatus: q.status,
        QueryStatistics: {
          ResultsCount: rows.length,
          TotalResultsCount: q.resultsCount,
          BytesScanned: q.statistics.bytesScanned,
        },
        QueryResultRows: rows,
        ...(more ? { NextToken: pageToken(scope, offset + rows.length) } : {}),
        ...(q.errorMessage !== undefined ? { ErrorMessage: q.errorMessage } : {}),
      };
    },
  },
  ListQueries: {
    readOnly: true,
    handle: async (
      ctx,
      input: {
        EventDataStore: string;
        StartTime?: Date;
        EndTime?: Date;
        QueryStatus?: string;
        MaxResults?: number;
        NextToken?: string;
      },
    ) => {
      if (input.StartTime && input.EndTime && input.StartTime.getTime() > input.EndTime.getTime()) {
        throw new ServiceError('InvalidDateRangeException', 'StartTime must be earlier than EndTime.');
      }
      const all = (await ctx.services.lakeQueries.list(ctx.caller, input.EventDataStore)).filter(
        (q) =>
          (input.StartTime === undefined || q.createdMs >= input.StartTime.getTime()) &&
          (input.EndTime === undefined || q.createdMs <= input.EndTime.getTime()) &&
          (input.QueryStatus === undefined || q.status === input.QueryStatus),
      );
      const scope = [
        ctx.caller.principal.accountId,
        input.EventDataStore,
        input.StartTime?.getTime(),
        input.EndTime?.getTime(),
        input.QueryStatus,
      ].join('/');
      const offset = readToken(scope, input.NextToken);
      const size = input.MaxResults ?? DEFAULT_LIST_PAGE;
      const page = all.slice(offset, offset + size);
      return {
        Queries: page.map((q) => ({ QueryId: q.queryId, QueryStatus: q.status, CreationTime: new Date(q.createdMs) })),
        ...(offset + size < all.length ? { NextToken: pageToken(scope, offset + size) } : {}),
      };
    },
  },
  SearchSampleQueries: {
    readOnly: true,
    handle: (_ctx, input: { SearchPhrase: string; MaxResults?: number; NextToken?: string }) => {
      const found = searchSampleQueries(input.SearchPhrase);
      const scope = `samples/${input.SearchPhrase}`;
      // SearchSampleQueries declares no token error; its InvalidParameterException says what to fix.
      const offset = readToken(
        scope,
        input.NextToken,
        () =>
          new ServiceError(
            'InvalidParameterException',
            'The NextToken is not one SearchSampleQueries returned for this SearchPhrase; start again without it.',
          ),
      );
      const size = input.MaxResults ?? DEFAULT_SAMPLES_PAGE;
      return {
        SearchResults: found
          .slice(offset, offset + size)
          .map((q) => ({ Name: q.name, Description: q.description, SQL: q.sql, Relevance: q.relevance })),
        ...(offset + size < found.length ? { NextToken: pageToken(scope, offset + size) } : {}),
      };
    },
  },
  CancelQuery: {
    readOnly: false,
    handle: async (ctx, input: { QueryId: string; EventDataStore?: string }) => {
      const q = await ctx.services.lakeQueries.cancel(ctx.caller, input.QueryId, input.EventDataStore);
      return { QueryId: q.queryId, QueryStatus: q.status };
    },
  },
};

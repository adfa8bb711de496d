import { type EventDataStoreInput, eventDataStoreOutput, type UpdateEventDataStoreInput } from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';
import { keysetPage, OLDEST_FIRST } from './page-token.ts';

/** Event data store operations (facts §8.1, Appendix A.5). */

/** ListEventDataStores' page when MaxResults is not given. */
const LIST_PAGE = 100;

type StoreRef = { EventDataStore: string };

export const eventDataStoreOperations: OperationTable = {
  CreateEventDataStore: {
    readOnly: false,
    handle: async (ctx, input: EventDataStoreInput & { Name: string }) => {
      const store = await ctx.services.eventDataStores.create(ctx.caller, input);
      // AWS answers a new store as CREATED (Get shows it ENABLED once ingestion has started), and echoes its tags.
      return {
        ...eventDataStoreOutput(store),
        ...(store.status === 'ENABLED' ? { Status: 'CREATED' } : {}),
        TagsList: store.tags,
      };
    },
  },
  GetEventDataStore: {
    readOnly: true,
    handle: (ctx, input: StoreRef) => ({
      ...eventDataStoreOutput(ctx.services.eventDataStores.resolve(ctx.caller, input.EventDataStore)),
      FederationStatus: 'DISABLED',
    }),
  },
  UpdateEventDataStore: {
    readOnly: false,
    handle: async (ctx, input: UpdateEventDataStoreInput) => ({
      ...eventDataStoreOutput(await ctx.services.eventDataStores.update(ctx.caller, input)),
      FederationStatus: 'DISABLED',
    }),
  },
  DeleteEventDataStore: {
    readOnly: false,
    handle: async (ctx, input: StoreRef) => {
      await ctx.services.eventDataStores.delete(ctx.caller, input.EventDataStore);
      return {};
    },
  },
  RestoreEventDataStore: {
    readOnly: false,
    handle: async (ctx, input: StoreRef) =>
      eventDataStoreOutput(await ctx.services.eventDataStores.restore(ctx.caller, input.EventDataStore)),
  },
  StartEventDataStoreIngestion: {
    readOnly: false,
    handle: async (ctx, input: StoreRef) => {
      await ctx.services.eventDataStores.startIngestion(ctx.caller, input.EventDataStore);
      return {};
    },
  },
  StopEventDataStoreIngestion: {
    readOnly: false,
    handle: async (ctx, input: StoreRef) => {
      await ctx.services.eventDataStores.stopIngestion(ctx.caller, input.EventDataStore);
      return {};
    },
  },
  ListEventDataStores: {
    readOnly: true,
    handle: (ctx, input: { NextToken?: string; MaxResults?: number }) => {
      const size = input.MaxResults ?? LIST_PAGE;
      const { items, nextToken } = keysetPage(
        ctx.services.eventDataStores.list(ctx.caller),
        OLDEST_FIRST,
        { size, token: input.NextToken, scope: `ListEventDataStores/${size}` },
        () =>
          new ServiceError(
            'InvalidNextTokenException',
            'The NextToken is not one ListEventDataStores returned for these parameters; start again without it.',
          ),
      );
      return {
        EventDataStores: items.map((s) => ({ EventDataStoreArn: s.arn, Name: s.name })),
        ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
      };
    },
  },
};

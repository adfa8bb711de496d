import { createHash } from 'node:crypto';
import {
  type EventDataStoreInput,
  type EventDataStoreRecord,
  eventDataStoreOutput,
  type UpdateEventDataStoreInput,
} from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';

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
      const all = ctx.services.eventDataStores.list(ctx.caller);
      const size = input.MaxResults ?? LIST_PAGE;
      const start = input.NextToken === undefined ? 0 : afterToken(all, input.NextToken, size);
      const page = all.slice(start, start + size);
      const last = page[page.length - 1];
      return {
        EventDataStores: page.map((s) => ({ EventDataStoreArn: s.arn, Name: s.name })),
        ...(start + size < all.length && last !== undefined ? { NextToken: listToken(last, size) } : {}),
      };
    },
  },
};

/**
 * Page tokens name the last store returned (stores are listed oldest first, so one created between pages
 * comes at the end) and the page size they were issued for: a token is reused only with the same parameters.
 */
function listToken(last: EventDataStoreRecord, size: number): string {
  return Buffer.from(
    JSON.stringify({ after: last.id, at: last.createdAtMs, size, sum: checksum(last.id, size) }),
  ).toString('base64url');
}

function checksum(id: string, size: number): string {
  return createHash('sha256').update(`${id}/${size}`).digest('hex').slice(0, 16);
}

function afterToken(all: EventDataStoreRecord[], token: string, size: number): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof t['after'] === 'string' && typeof t['at'] === 'number' && t['sum'] === checksum(t['after'], size)) {
      const after = t['after'];
      const at = t['at'];
      // Resume after the store the token names, or, if it has gone since, after where it stood.
      const index = all.findIndex((s) => s.createdAtMs > at || (s.createdAtMs === at && s.id > after));
      return index === -1 ? all.length : index;
    }
  } catch {
    // fall through
  }
  throw new ServiceError(
    'InvalidNextTokenException',
    'The NextToken is not one ListEventDataStores returned for these parameters; start again without it.',
  );
}

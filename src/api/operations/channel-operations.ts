import { createHash } from 'node:crypto';
import {
  ACTIVITY_AUDIT_LOG_SELECTORS,
  type ChannelRecord,
  type CreateChannelInput,
  channelOutput,
  ingestionStatusOutput,
} from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';

/** Channel operations (facts §8.4, Appendix A.7). */

/** ListChannels' page when MaxResults is not given. */
const LIST_PAGE = 100;

type ChannelRef = { Channel: string };

export const channelOperations: OperationTable = {
  CreateChannel: {
    readOnly: false,
    handle: async (ctx, input: CreateChannelInput) => {
      const channel = await ctx.services.channels.create(ctx.caller, input);
      return { ...channelOutput(channel), Tags: channel.tags };
    },
  },
  GetChannel: {
    readOnly: true,
    handle: (ctx, input: ChannelRef) => {
      const channel = ctx.services.channels.resolve(ctx.caller, input.Channel);
      return {
        ...channelOutput(channel),
        SourceConfig: { ApplyToAllRegions: false, AdvancedEventSelectors: ACTIVITY_AUDIT_LOG_SELECTORS },
        IngestionStatus: ingestionStatusOutput(ctx.services.channels.ingestionStatus(channel)),
      };
    },
  },
  UpdateChannel: {
    readOnly: false,
    handle: async (ctx, input: { Channel: string; Name?: string; Destinations?: CreateChannelInput['Destinations'] }) =>
      channelOutput(await ctx.services.channels.update(ctx.caller, input)),
  },
  DeleteChannel: {
    readOnly: false,
    handle: async (ctx, input: ChannelRef) => {
      await ctx.services.channels.delete(ctx.caller, input.Channel);
      return {};
    },
  },
  ListChannels: {
    readOnly: true,
    handle: (ctx, input: { NextToken?: string; MaxResults?: number }) => {
      const all = ctx.services.channels.list(ctx.caller);
      const size = input.MaxResults ?? LIST_PAGE;
      const start = input.NextToken === undefined ? 0 : afterToken(all, input.NextToken, size);
      const page = all.slice(start, start + size);
      const last = page[page.length - 1];
      return {
        Channels: page.map((c) => ({ ChannelArn: c.arn, Name: c.name })),
        ...(start + size < all.length && last !== undefined ? { NextToken: listToken(last, size) } : {}),
      };
    },
  },
};

/** Page tokens name the last channel returned and the page size they were issued for (as ListEventDataStores'). */
function listToken(last: ChannelRecord, size: number): string {
  return Buffer.from(
    JSON.stringify({ after: last.id, at: last.createdAtMs, size, sum: checksum(last.id, size) }),
  ).toString('base64url');
}

function checksum(id: string, size: number): string {
  return createHash('sha256').update(`channel/${id}/${size}`).digest('hex').slice(0, 16);
}

function afterToken(all: ChannelRecord[], token: string, size: number): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof t['after'] === 'string' && typeof t['at'] === 'number' && t['sum'] === checksum(t['after'], size)) {
      const after = t['after'];
      const at = t['at'];
      const index = all.findIndex((c) => c.createdAtMs > at || (c.createdAtMs === at && c.id > after));
      return index === -1 ? all.length : index;
    }
  } catch {
    // fall through
  }
  throw new ServiceError(
    'InvalidNextTokenException',
    'The NextToken is not one ListChannels returned for these parameters; start again without it.',
  );
}

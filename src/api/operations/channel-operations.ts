import {
  ACTIVITY_AUDIT_LOG_SELECTORS,
  type CreateChannelInput,
  channelOutput,
  ingestionStatusOutput,
} from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import type { OperationTable } from '../operation.ts';
import { keysetPage, OLDEST_FIRST } from './page-token.ts';

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
      const size = input.MaxResults ?? LIST_PAGE;
      const { items, nextToken } = keysetPage(
        ctx.services.channels.list(ctx.caller),
        OLDEST_FIRST,
        { size, token: input.NextToken, scope: `ListChannels/${size}` },
        () =>
          new ServiceError(
            'InvalidNextTokenException',
            'The NextToken is not one ListChannels returned for these parameters; start again without it.',
          ),
      );
      return {
        Channels: items.map((c) => ({ ChannelArn: c.arn, Name: c.name })),
        ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
      };
    },
  },
};

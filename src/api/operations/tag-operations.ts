import { isChannelArn, isDashboardArn } from '../../lake/index.ts';
import { ServiceError } from '../../model/service-error.ts';
import { addTags, listTags, removeTagsFrom, type Tag } from '../../trails/index.ts';
import type { OperationContext, OperationTable } from '../operation.ts';
import { unissuedToken } from './page-token.ts';

/**
 * Tag operations (facts Appendix A.11): event data stores, channels and dashboards by their ARN, every other ARN
 * as the trails decide.
 */

const EVENT_DATA_STORE_ARN = /^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:eventdatastore\//;

function listOne(ctx: OperationContext, id: string): { ResourceId: string; TagsList: Tag[] }[] {
  if (isDashboardArn(id)) return [{ ResourceId: id, TagsList: ctx.services.dashboards.resolve(ctx.caller, id).tags }];
  if (isChannelArn(id)) {
    try {
      return [{ ResourceId: id, TagsList: ctx.services.channels.resolve(ctx.caller, id).tags }];
    } catch (error) {
      // ListTags declares no ChannelNotFoundException: a missing resource is ResourceNotFoundException there.
      if (error instanceof ServiceError && error.name === 'ChannelNotFoundException') {
        throw new ServiceError('ResourceNotFoundException', error.message);
      }
      throw error;
    }
  }
  if (!EVENT_DATA_STORE_ARN.test(id)) return listTags(ctx.services.trails, ctx.caller, [id]);
  return [{ ResourceId: id, TagsList: ctx.services.eventDataStores.resolve(ctx.caller, id).tags }];
}

async function retag(ctx: OperationContext, input: { ResourceId: string; TagsList: Tag[] }, mode: 'add' | 'remove') {
  if (isDashboardArn(input.ResourceId)) {
    await ctx.services.dashboards.retag(ctx.caller, input.ResourceId, input.TagsList, mode);
  } else if (isChannelArn(input.ResourceId)) {
    await ctx.services.channels.retag(ctx.caller, input.ResourceId, input.TagsList, mode);
  } else if (EVENT_DATA_STORE_ARN.test(input.ResourceId)) {
    await ctx.services.eventDataStores.retag(ctx.caller, input.ResourceId, input.TagsList, mode);
  } else if (mode === 'add') {
    await addTags(ctx.services.trails, ctx.caller, input.ResourceId, input.TagsList);
  } else {
    await removeTagsFrom(ctx.services.trails, ctx.caller, input.ResourceId, input.TagsList);
  }
  return {};
}

export const tagOperations: OperationTable = {
  AddTags: {
    readOnly: false,
    handle: (ctx, input: { ResourceId: string; TagsList: Tag[] }) => retag(ctx, input, 'add'),
  },
  RemoveTags: {
    readOnly: false,
    handle: (ctx, input: { ResourceId: string; TagsList: Tag[] }) => retag(ctx, input, 'remove'),
  },
  ListTags: {
    readOnly: true,
    handle: (ctx, input: { ResourceIdList: string[]; NextToken?: string }) => {
      if (input.NextToken !== undefined) throw unissuedToken('ListTags');
      // The count limit and its error come from the trails' check, made on the whole list first.
      if (input.ResourceIdList.length > 20) listTags(ctx.services.trails, ctx.caller, input.ResourceIdList);
      return { ResourceTagList: input.ResourceIdList.flatMap((id) => listOne(ctx, id)) };
    },
  },
};

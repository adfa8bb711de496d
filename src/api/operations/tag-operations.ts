import { addTags, listTags, removeTagsFrom, type Tag } from '../../trails/index.ts';
import type { OperationContext, OperationTable } from '../operation.ts';

/** Tag operations (facts Appendix A.11). */

function tagged(ctx: OperationContext, resourceId: unknown) {
  return typeof resourceId === 'string' && resourceId.includes(':trail/')
    ? [{ accountId: ctx.caller.principal.accountId, type: 'AWS::CloudTrail::Trail', ARN: resourceId }]
    : [];
}

export const tagOperations: OperationTable = {
  AddTags: {
    readOnly: false,
    handle: async (ctx, input: { ResourceId: string; TagsList: Tag[] }) => {
      await addTags(ctx.services.trails, ctx.caller, input.ResourceId, input.TagsList);
      return {};
    },
    resources: (ctx, input: { ResourceId: string }) => tagged(ctx, input.ResourceId),
  },
  RemoveTags: {
    readOnly: false,
    handle: async (ctx, input: { ResourceId: string; TagsList: Tag[] }) => {
      await removeTagsFrom(ctx.services.trails, ctx.caller, input.ResourceId, input.TagsList);
      return {};
    },
    resources: (ctx, input: { ResourceId: string }) => tagged(ctx, input.ResourceId),
  },
  ListTags: {
    readOnly: true,
    handle: (ctx, input: { ResourceIdList: string[] }) => ({
      ResourceTagList: listTags(ctx.services.trails, ctx.caller, input.ResourceIdList),
    }),
  },
};

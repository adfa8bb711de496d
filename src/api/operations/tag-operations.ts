import { addTags, listTags, removeTagsFrom, type Tag } from '../../trails/index.ts';
import type { OperationTable } from '../operation.ts';

/** Tag operations (facts Appendix A.11). */

export const tagOperations: OperationTable = {
  AddTags: {
    readOnly: false,
    handle: async (ctx, input: { ResourceId: string; TagsList: Tag[] }) => {
      await addTags(ctx.services.trails, ctx.caller, input.ResourceId, input.TagsList);
      return {};
    },
  },
  RemoveTags: {
    readOnly: false,
    handle: async (ctx, input: { ResourceId: string; TagsList: Tag[] }) => {
      await removeTagsFrom(ctx.services.trails, ctx.caller, input.ResourceId, input.TagsList);
      return {};
    },
  },
  ListTags: {
    readOnly: true,
    handle: (ctx, input: { ResourceIdList: string[] }) => ({
      ResourceTagList: listTags(ctx.services.trails, ctx.caller, input.ResourceIdList),
    }),
  },
};

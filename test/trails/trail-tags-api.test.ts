import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddTagsCommand,
  type CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  ListTagsCommand,
  RemoveTagsCommand,
  type Tag,
} from '@aws-sdk/client-cloudtrail';
import { rejectsWith, withServer } from '../helpers/server.ts';

/** AddTags, RemoveTags and ListTags on trails (facts §11, Appendix A.11). */

async function newTrail(
  client: CloudTrailClient,
  Name = 'tagged',
  TagsList?: Tag[],
  more: { IsMultiRegionTrail?: boolean } = {},
): Promise<string> {
  const { TrailARN } = await client.send(
    new CreateTrailCommand({ Name, S3BucketName: 'tags-bucket', ...(TagsList ? { TagsList } : {}), ...more }),
  );
  assert.ok(TrailARN);
  return TrailARN;
}

async function tagsOf(client: CloudTrailClient, arn: string): Promise<Tag[]> {
  const { ResourceTagList = [] } = await client.send(new ListTagsCommand({ ResourceIdList: [arn] }));
  assert.equal(ResourceTagList.length, 1);
  assert.equal(ResourceTagList[0]?.ResourceId, arn);
  return ResourceTagList[0]?.TagsList ?? [];
}

function manyTags(n: number, prefix = 'key'): Tag[] {
  return Array.from({ length: n }, (_, i) => ({ Key: `${prefix}-${i}`, Value: `value-${i}` }));
}

describe('trail tags', () => {
  it('adds, lists and removes tags on a trail', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct);
      assert.deepEqual(await tagsOf(ct, arn), []);
      await ct.send(
        new AddTagsCommand({
          ResourceId: arn,
          TagsList: [{ Key: 'team', Value: 'security' }, { Key: 'env', Value: 'prod' }, { Key: 'flag' }],
        }),
      );
      assert.deepEqual(await tagsOf(ct, arn), [
        { Key: 'team', Value: 'security' },
        { Key: 'env', Value: 'prod' },
        { Key: 'flag' },
      ]);
      await ct.send(
        new RemoveTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'env', Value: 'prod' }, { Key: 'flag' }] }),
      );
      assert.deepEqual(await tagsOf(ct, arn), [{ Key: 'team', Value: 'security' }]);
    });
  });

  it('keeps the tags given to CreateTrail', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct, 'born-tagged', [{ Key: 'owner', Value: 'alice' }]);
      assert.deepEqual(await tagsOf(ct, arn), [{ Key: 'owner', Value: 'alice' }]);
    });
  });

  it('overwrites the value of an existing key', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct, 'tagged', [{ Key: 'env', Value: 'test' }]);
      await ct.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'env', Value: 'prod' }] }));
      assert.deepEqual(await tagsOf(ct, arn), [{ Key: 'env', Value: 'prod' }]);
    });
  });

  it('lists the tags of several trails in the order asked, from their home Region only, as AWS does', async () => {
    await withServer(async (w) => {
      const us = w.cloudtrail();
      const first = await newTrail(us, 'first', [{ Key: 'n', Value: '1' }]);
      const second = await newTrail(us, 'second', [{ Key: 'n', Value: '2' }]);
      const { ResourceTagList } = await us.send(new ListTagsCommand({ ResourceIdList: [second, first] }));
      assert.deepEqual(ResourceTagList, [
        { ResourceId: second, TagsList: [{ Key: 'n', Value: '2' }] },
        { ResourceId: first, TagsList: [{ Key: 'n', Value: '1' }] },
      ]);
      // A multi-Region trail shows in every Region's DescribeTrails, but its tags stay in its home Region.
      const everywhere = await newTrail(us, 'everywhere', [], { IsMultiRegionTrail: true });
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      assert.ok((await eu.send(new DescribeTrailsCommand({}))).trailList?.some((t) => t.TrailARN === everywhere));
      const wrongRegion = /Region in ARN is wrong, you can only access resources in region eu-west-1/;
      await rejectsWith(
        eu.send(new ListTagsCommand({ ResourceIdList: [everywhere] })),
        'CloudTrailARNInvalidException',
        wrongRegion,
      );
      const tag = { ResourceId: everywhere, TagsList: [{ Key: 'k', Value: 'v' }] };
      await rejectsWith(eu.send(new AddTagsCommand(tag)), 'CloudTrailARNInvalidException', wrongRegion);
      await rejectsWith(eu.send(new RemoveTagsCommand(tag)), 'CloudTrailARNInvalidException', wrongRegion);
      // Another account's trail ARN: AWS names the account it serves.
      const theirs = everywhere.replace(w.app.admin.accountId, '999999999999');
      await rejectsWith(
        us.send(new ListTagsCommand({ ResourceIdList: [theirs] })),
        'CloudTrailARNInvalidException',
        new RegExp(`AccountID in ARN is wrong, you can only access resources with AccountID ${w.app.admin.accountId}`),
      );
    });
  });

  it('refuses a 51st tag with TagsLimitExceededException, but lets a full trail overwrite a value', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await rejectsWith(
        ct.send(new CreateTrailCommand({ Name: 'overfull', S3BucketName: 'tags-bucket', TagsList: manyTags(51) })),
        'TagsLimitExceededException',
      );
      const arn = await newTrail(ct, 'tagged', manyTags(50));
      await rejectsWith(
        ct.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'one-more', Value: 'x' }] })),
        'TagsLimitExceededException',
      );
      await ct.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'key-0', Value: 'changed' }] }));
      const tags = await tagsOf(ct, arn);
      assert.equal(tags.length, 50);
      assert.deepEqual(tags[0], { Key: 'key-0', Value: 'changed' });
    });
  });

  it('rejects aws: keys and duplicate keys with InvalidTagParameterException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct);
      for (const TagsList of [
        [{ Key: 'aws:createdBy', Value: 'me' }],
        [{ Key: 'AWS:Owner', Value: 'me' }],
        [
          { Key: 'dup', Value: 'a' },
          { Key: 'dup', Value: 'b' },
        ],
      ]) {
        await rejectsWith(ct.send(new AddTagsCommand({ ResourceId: arn, TagsList })), 'InvalidTagParameterException');
      }
      await rejectsWith(
        ct.send(
          new CreateTrailCommand({
            Name: 'reserved',
            S3BucketName: 'tags-bucket',
            TagsList: [{ Key: 'aws:reserved', Value: 'x' }],
          }),
        ),
        'InvalidTagParameterException',
      );
      assert.deepEqual(await tagsOf(ct, arn), []);
    });
  });

  it('answers ResourceNotFoundException for the ARN of a trail that does not exist', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const missing = `arn:aws:cloudtrail:us-east-1:${w.app.admin.accountId}:trail/missing`;
      const TagsList = [{ Key: 'k', Value: 'v' }];
      await rejectsWith(ct.send(new AddTagsCommand({ ResourceId: missing, TagsList })), 'ResourceNotFoundException');
      await rejectsWith(ct.send(new RemoveTagsCommand({ ResourceId: missing, TagsList })), 'ResourceNotFoundException');
      await rejectsWith(ct.send(new ListTagsCommand({ ResourceIdList: [missing] })), 'ResourceNotFoundException');
    });
  });

  it('rejects a trail name where an ARN is needed with CloudTrailARNInvalidException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      const TagsList = [{ Key: 'k', Value: 'v' }];
      await rejectsWith(
        ct.send(new AddTagsCommand({ ResourceId: 'tagged', TagsList })),
        'CloudTrailARNInvalidException',
      );
      await rejectsWith(ct.send(new ListTagsCommand({ ResourceIdList: ['tagged'] })), 'CloudTrailARNInvalidException');
      await rejectsWith(
        ct.send(new RemoveTagsCommand({ ResourceId: 'tagged', TagsList })),
        'CloudTrailARNInvalidException',
      );
    });
  });

  it('rejects an ARN of a resource type that is not a trail with ResourceTypeNotSupportedException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = w.app.admin.accountId;
      const TagsList = [{ Key: 'k', Value: 'v' }];
      for (const arn of ['arn:aws:s3:::tags-bucket', `arn:aws:iam::${account}:role/SomeRole`]) {
        await rejectsWith(
          ct.send(new AddTagsCommand({ ResourceId: arn, TagsList })),
          'ResourceTypeNotSupportedException',
        );
        await rejectsWith(ct.send(new ListTagsCommand({ ResourceIdList: [arn] })), 'ResourceTypeNotSupportedException');
      }
    });
  });

  it('refuses ListTags for more than 20 ARNs with ValidationException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct);
      await rejectsWith(
        ct.send(new ListTagsCommand({ ResourceIdList: Array.from({ length: 21 }, () => arn) })),
        'ValidationException',
      );
      const twenty = await ct.send(new ListTagsCommand({ ResourceIdList: Array.from({ length: 20 }, () => arn) }));
      assert.equal(twenty.ResourceTagList?.length, 20);
    });
  });
});

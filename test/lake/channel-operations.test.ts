import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  AddTagsCommand,
  type CloudTrailClient,
  CreateChannelCommand,
  CreateEventDataStoreCommand,
  DeleteChannelCommand,
  DeleteEventDataStoreCommand,
  GetChannelCommand,
  ListChannelsCommand,
  ListTagsCommand,
  RemoveTagsCommand,
  UpdateChannelCommand,
} from '@aws-sdk/client-cloudtrail';
import { rejectsWith, withServer } from '../helpers/server.ts';

const AUDIT_SELECTORS = [
  { Name: 'integrations', FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] },
];

/** An event data store a channel can deliver to: ActivityAuditLog events, single-Region. */
async function auditStore(ct: CloudTrailClient, name: string, multiRegion = false): Promise<string> {
  const made = await ct.send(
    new CreateEventDataStoreCommand({
      Name: name,
      AdvancedEventSelectors: AUDIT_SELECTORS,
      MultiRegionEnabled: multiRegion,
      TerminationProtectionEnabled: false,
    }),
  );
  return made.EventDataStoreArn as string;
}

const toStore = (Location: string) => [{ Type: 'EVENT_DATA_STORE' as const, Location }];

describe('channels', () => {
  it('creates, gets, lists, updates and deletes a custom channel', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const first = await auditStore(ct, 'audit-one');
      const second = await auditStore(ct, 'audit-two');
      const made = await ct.send(
        new CreateChannelCommand({
          Name: 'my-app',
          Source: 'Custom',
          Destinations: toStore(first),
          Tags: [{ Key: 'team', Value: 'sec' }],
        }),
      );
      assert.match(made.ChannelArn ?? '', /^arn:aws:cloudtrail:us-east-1:\d{12}:channel\/[a-f0-9-]{36}$/);
      assert.equal(made.Source, 'Custom');
      assert.deepEqual(made.Destinations, toStore(first));
      assert.deepEqual(made.Tags, [{ Key: 'team', Value: 'sec' }]);

      const id = (made.ChannelArn as string).split('/').pop() as string;
      const got = await ct.send(new GetChannelCommand({ Channel: id }));
      assert.equal(got.Name, 'my-app');
      assert.deepEqual(got.SourceConfig, {
        ApplyToAllRegions: false,
        AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] }],
      });
      assert.deepEqual(got.IngestionStatus, {}, 'nothing was ingested yet');

      const updated = await ct.send(
        new UpdateChannelCommand({ Channel: made.ChannelArn, Name: 'my-app-2', Destinations: toStore(second) }),
      );
      assert.equal(updated.Name, 'my-app-2');
      assert.deepEqual(updated.Destinations, toStore(second));

      const listed = await ct.send(new ListChannelsCommand({}));
      assert.deepEqual(listed.Channels, [{ ChannelArn: made.ChannelArn, Name: 'my-app-2' }]);

      await ct.send(new DeleteChannelCommand({ Channel: made.ChannelArn }));
      await rejectsWith(ct.send(new GetChannelCommand({ Channel: made.ChannelArn })), 'ChannelNotFoundException');
      assert.deepEqual((await ct.send(new ListChannelsCommand({}))).Channels, []);
    });
  });

  it('answers each CreateChannel and UpdateChannel mistake with its own error', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const store = await auditStore(ct, 'audit');
      const create = (over: Record<string, unknown>) =>
        ct.send(new CreateChannelCommand({ Name: 'ch1', Source: 'Custom', Destinations: toStore(store), ...over }));
      await rejectsWith(create({ Source: 'Okta' }), 'InvalidSourceException');
      // The model's own checks answer with the operation's errors too.
      await rejectsWith(create({ Tags: [{ Key: '', Value: 'x' }] }), 'InvalidTagParameterException');
      await rejectsWith(create({ Name: 'ab' }), 'InvalidParameterException');
      await rejectsWith(
        create({ Destinations: toStore(`arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/${randomUUID()}`) }),
        'EventDataStoreNotFoundException',
      );
      await rejectsWith(create({ Destinations: toStore('not-an-arn') }), 'EventDataStoreARNInvalidException');
      const management = await ct.send(new CreateEventDataStoreCommand({ Name: 'mgmt', MultiRegionEnabled: false }));
      await rejectsWith(
        create({ Destinations: toStore(management.EventDataStoreArn as string) }),
        'InvalidEventDataStoreCategoryException',
      );
      const multi = await auditStore(ct, 'audit-multi', true);
      await rejectsWith(create({ Destinations: toStore(multi) }), 'InvalidEventDataStoreCategoryException');
      await rejectsWith(
        create({ Destinations: [{ Type: 'AWS_SERVICE', Location: 'config.amazonaws.com' }] }),
        'InvalidParameterException',
      );
      const doomed = await auditStore(ct, 'audit-doomed');
      await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: doomed }));
      await rejectsWith(create({ Destinations: toStore(doomed) }), 'InactiveEventDataStoreException');

      const made = await create({});
      await rejectsWith(create({}), 'ChannelAlreadyExistsException');
      await create({ Name: 'ch2' });
      await rejectsWith(
        ct.send(new UpdateChannelCommand({ Channel: made.ChannelArn, Name: 'ch2' })),
        'ChannelAlreadyExistsException',
      );
      await rejectsWith(
        ct.send(new UpdateChannelCommand({ Channel: made.ChannelArn, Destinations: toStore(multi) })),
        'InvalidEventDataStoreCategoryException',
      );
      await rejectsWith(
        ct.send(new GetChannelCommand({ Channel: 'arn:aws:s3:::bucket' })),
        'ChannelARNInvalidException',
      );
      await rejectsWith(ct.send(new GetChannelCommand({ Channel: randomUUID() })), 'ChannelNotFoundException');
      await rejectsWith(ct.send(new DeleteChannelCommand({ Channel: randomUUID() })), 'ChannelNotFoundException');
      await rejectsWith(ct.send(new ListChannelsCommand({ NextToken: 'garbage-token' })), 'InvalidNextTokenException');
    });
  });

  it('allows 25 channels per Region and pages through them', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const store = await auditStore(ct, 'audit');
      for (let i = 0; i < 25; i++) {
        await ct.send(new CreateChannelCommand({ Name: `ch-${i}`, Source: 'Custom', Destinations: toStore(store) }));
      }
      await rejectsWith(
        ct.send(new CreateChannelCommand({ Name: 'ch-26', Source: 'Custom', Destinations: toStore(store) })),
        'ChannelMaxLimitExceededException',
      );
      const names: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ct.send(new ListChannelsCommand({ MaxResults: 10, ...(NextToken ? { NextToken } : {}) }));
        names.push(...(page.Channels ?? []).map((c) => c.Name as string));
        NextToken = page.NextToken;
      } while (NextToken !== undefined);
      assert.equal(names.length, 25);
      assert.equal(new Set(names).size, 25);
    });
  });

  it('keeps channels to their account and Region', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const store = await auditStore(ct, 'audit');
      const made = await ct.send(
        new CreateChannelCommand({ Name: 'mine', Source: 'Custom', Destinations: toStore(store) }),
      );
      const other = await w.newAccount();
      const theirs = w.cloudtrail({ credentials: other.root });
      await rejectsWith(theirs.send(new GetChannelCommand({ Channel: made.ChannelArn })), 'ChannelNotFoundException');
      await rejectsWith(
        theirs.send(new DeleteChannelCommand({ Channel: made.ChannelArn })),
        'ChannelNotFoundException',
      );
      assert.deepEqual((await theirs.send(new ListChannelsCommand({}))).Channels, []);
      // Another account cannot point its channel at my store either.
      await auditStore(theirs, 'their-audit');
      await rejectsWith(
        theirs.send(new CreateChannelCommand({ Name: 'steal', Source: 'Custom', Destinations: toStore(store) })),
        'EventDataStoreNotFoundException',
      );
      const west = w.cloudtrail({ region: 'us-west-2' });
      await rejectsWith(west.send(new GetChannelCommand({ Channel: made.ChannelArn })), 'ChannelNotFoundException');
    });
  });

  it('takes tags by its ARN: AddTags, ListTags, RemoveTags, for its own account only', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const store = await auditStore(ct, 'audit');
      const made = await ct.send(
        new CreateChannelCommand({
          Name: 'tagged',
          Source: 'Custom',
          Destinations: toStore(store),
          Tags: [{ Key: 'team', Value: 'blue' }],
        }),
      );
      const ResourceId = made.ChannelArn as string;
      await ct.send(new AddTagsCommand({ ResourceId, TagsList: [{ Key: 'env', Value: 'prod' }] }));
      await ct.send(new RemoveTagsCommand({ ResourceId, TagsList: [{ Key: 'team' }] }));
      const listed = await ct.send(new ListTagsCommand({ ResourceIdList: [ResourceId] }));
      assert.deepEqual(listed.ResourceTagList, [{ ResourceId, TagsList: [{ Key: 'env', Value: 'prod' }] }]);
      await rejectsWith(
        ct.send(new AddTagsCommand({ ResourceId, TagsList: [{ Key: 'aws:reserved', Value: 'x' }] })),
        'InvalidTagParameterException',
      );
      const theirs = w.cloudtrail({ credentials: (await w.newAccount()).root });
      await rejectsWith(
        theirs.send(new AddTagsCommand({ ResourceId, TagsList: [{ Key: 'k', Value: 'v' }] })),
        'ChannelNotFoundException',
      );
      await rejectsWith(
        theirs.send(new ListTagsCommand({ ResourceIdList: [ResourceId] })),
        'ResourceNotFoundException',
      );
    });
  });

  it('refuses to delete an event data store a channel delivers to, with ChannelExistsForEDSException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const store = await auditStore(ct, 'audit');
      const made = await ct.send(
        new CreateChannelCommand({ Name: 'c-1', Source: 'Custom', Destinations: toStore(store) }),
      );
      await rejectsWith(
        ct.send(new DeleteEventDataStoreCommand({ EventDataStore: store })),
        'ChannelExistsForEDSException',
      );
      await ct.send(new DeleteChannelCommand({ Channel: made.ChannelArn }));
      await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: store }));
    });
  });
});

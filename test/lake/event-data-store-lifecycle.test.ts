import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddTagsCommand,
  type CloudTrailClient,
  CreateEventDataStoreCommand,
  DeleteEventDataStoreCommand,
  GetEventDataStoreCommand,
  ListEventDataStoresCommand,
  ListTagsCommand,
  RemoveTagsCommand,
  RestoreEventDataStoreCommand,
  StartEventDataStoreIngestionCommand,
  StopEventDataStoreIngestionCommand,
  UpdateEventDataStoreCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/model/clock.ts';
import { MOTO_CREDENTIALS, useMoto } from '../helpers/moto.ts';
import { rejectsWith, withServer } from '../helpers/server.ts';

const DAY_MS = 24 * 3600 * 1000;
const ARN = /^arn:aws:cloudtrail:us-east-1:\d{12}:eventdatastore\/[a-f0-9-]{36}$/;

async function create(ct: CloudTrailClient, Name: string, more: Record<string, unknown> = {}) {
  return ct.send(new CreateEventDataStoreCommand({ Name, ...more }));
}

const idOf = (arn: string | undefined) => (arn ?? '').split('/').pop() ?? '';

describe('CreateEventDataStore', () => {
  it("fills in AWS's defaults: all management events, multi-Region, protected, 366 days of extendable retention", async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const made = await create(ct, 'my-store', { TagsList: [{ Key: 'team', Value: 'sec' }] });
      assert.match(made.EventDataStoreArn ?? '', ARN);
      assert.equal(made.Name, 'my-store');
      assert.equal(made.Status, 'CREATED');
      assert.deepEqual(made.AdvancedEventSelectors, [
        { Name: 'Default management events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] },
      ]);
      assert.equal(made.MultiRegionEnabled, true);
      assert.equal(made.OrganizationEnabled, false);
      assert.equal(made.TerminationProtectionEnabled, true);
      assert.equal(made.RetentionPeriod, 366);
      assert.equal(made.BillingMode, 'EXTENDABLE_RETENTION_PRICING');
      assert.deepEqual(made.TagsList, [{ Key: 'team', Value: 'sec' }]);
      assert.ok(made.CreatedTimestamp instanceof Date);

      const got = await ct.send(new GetEventDataStoreCommand({ EventDataStore: idOf(made.EventDataStoreArn) }));
      assert.equal(got.EventDataStoreArn, made.EventDataStoreArn);
      assert.equal(got.Status, 'ENABLED');

      const fixed = await create(ct, 'fixed', { BillingMode: 'FIXED_RETENTION_PRICING' });
      assert.equal(fixed.RetentionPeriod, 2557);
      const stopped = await create(ct, 'stopped', { StartIngestion: false });
      assert.equal(stopped.Status, 'STOPPED_INGESTION');
    });
  });

  it('refuses bad retention, names, selectors, clashes and an eleventh store by name', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await rejectsWith(
        create(ct, 'fixed-too-long', { BillingMode: 'FIXED_RETENTION_PRICING', RetentionPeriod: 3000 }),
        'InvalidParameterException',
        /7 to 2557/,
      );
      await rejectsWith(create(ct, 'short', { RetentionPeriod: 6 }), 'InvalidParameterException');
      await rejectsWith(create(ct, 'bad name!'), 'InvalidParameterException');
      await rejectsWith(
        create(ct, 'bad-selectors', {
          AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventName', Equals: ['PutObject'] }] }],
        }),
        'InvalidEventSelectorsException',
      );
      // One kind of events per store (each has its own schema): CloudTrail events mix, others stand alone.
      const category = (c: string) => ({ Name: c, FieldSelectors: [{ Field: 'eventCategory', Equals: [c] }] });
      await rejectsWith(
        create(ct, 'mixed', { AdvancedEventSelectors: [category('Management'), category('ConfigurationItem')] }),
        'InvalidEventSelectorsException',
        /one kind of events; these selectors name CloudTrail and ConfigurationItem events/,
      );
      const data = {
        Name: 'objects',
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
        ],
      };
      await create(ct, 'trail-events', { AdvancedEventSelectors: [category('Management'), data] });
      await rejectsWith(create(ct, 'org', { OrganizationEnabled: true }), 'OrganizationsNotInUseException');
      await create(ct, 'taken');
      await rejectsWith(create(ct, 'taken'), 'EventDataStoreAlreadyExistsException');
      for (let i = 2; i < 10; i++) await create(ct, `store-${i}`);
      await rejectsWith(create(ct, 'eleventh'), 'EventDataStoreMaxLimitExceededException');
      // The limit is per Region.
      const other = await create(w.cloudtrail({ region: 'eu-west-1' }), 'eleventh');
      assert.match(other.EventDataStoreArn ?? '', /:eu-west-1:/);
    });
  });
});

describe('UpdateEventDataStore', () => {
  it('changes settings, and refuses nothing to update, Extendable→Fixed, another KMS key and a taken name', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { EventDataStoreArn: arn } = await create(ct, 'store', {
        KmsKeyId: '11111111-2222-3333-4444-555555555555',
      });
      await create(ct, 'other');
      const updated = await ct.send(
        new UpdateEventDataStoreCommand({ EventDataStore: arn, Name: 'renamed', RetentionPeriod: 30 }),
      );
      assert.equal(updated.Name, 'renamed');
      assert.equal(updated.RetentionPeriod, 30);
      assert.match(updated.KmsKeyId ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\/11111111-/);
      await rejectsWith(ct.send(new UpdateEventDataStoreCommand({ EventDataStore: arn })), 'InvalidParameterException');
      await rejectsWith(
        ct.send(new UpdateEventDataStoreCommand({ EventDataStore: arn, BillingMode: 'FIXED_RETENTION_PRICING' })),
        'InvalidParameterException',
        /EXTENDABLE_RETENTION_PRICING to FIXED_RETENTION_PRICING/,
      );
      await rejectsWith(
        ct.send(
          new UpdateEventDataStoreCommand({ EventDataStore: arn, KmsKeyId: '99999999-2222-3333-4444-555555555555' }),
        ),
        'InvalidParameterException',
        /cannot be changed/,
      );
      await rejectsWith(
        ct.send(new UpdateEventDataStoreCommand({ EventDataStore: arn, Name: 'other' })),
        'EventDataStoreAlreadyExistsException',
      );
      // A store of AWS events cannot be made to hold events from outside AWS (the Lake User Guide).
      await rejectsWith(
        ct.send(
          new UpdateEventDataStoreCommand({
            EventDataStore: arn,
            AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] }],
          }),
        ),
        'InvalidEventSelectorsException',
        /holds CloudTrail events and cannot be changed to hold ActivityAuditLog events/,
      );
      await rejectsWith(
        ct.send(new UpdateEventDataStoreCommand({ EventDataStore: `${arn}x`, Name: 'x-name' })),
        'EventDataStoreARNInvalidException',
      );
    });
  });
});

describe('event data store lifecycle', () => {
  it('protects, deletes into PENDING_DELETION, restores within 7 days and is gone after them', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    await withServer(
      async (w) => {
        let ct = w.cloudtrail();
        const { EventDataStoreArn: arn } = await create(ct, 'store');
        await rejectsWith(
          ct.send(new DeleteEventDataStoreCommand({ EventDataStore: arn })),
          'EventDataStoreTerminationProtectedException',
        );
        await ct.send(new UpdateEventDataStoreCommand({ EventDataStore: arn, TerminationProtectionEnabled: false }));
        await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: arn }));
        const pending = await ct.send(new GetEventDataStoreCommand({ EventDataStore: arn }));
        assert.equal(pending.Status, 'PENDING_DELETION');
        await rejectsWith(
          ct.send(new DeleteEventDataStoreCommand({ EventDataStore: arn })),
          'InactiveEventDataStoreException',
        );
        await rejectsWith(
          ct.send(new StartEventDataStoreIngestionCommand({ EventDataStore: arn })),
          'InvalidEventDataStoreStatusException',
        );
        await clock.advance(6 * DAY_MS);
        ct = w.cloudtrail();
        const restored = await ct.send(new RestoreEventDataStoreCommand({ EventDataStore: arn }));
        assert.equal(restored.Status, 'ENABLED');
        await rejectsWith(
          ct.send(new RestoreEventDataStoreCommand({ EventDataStore: arn })),
          'InvalidEventDataStoreStatusException',
        );

        await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: arn }));
        await clock.advance(7 * DAY_MS);
        ct = w.cloudtrail();
        await rejectsWith(
          ct.send(new GetEventDataStoreCommand({ EventDataStore: arn })),
          'EventDataStoreNotFoundException',
        );
        await rejectsWith(
          ct.send(new RestoreEventDataStoreCommand({ EventDataStore: arn })),
          'EventDataStoreNotFoundException',
        );
        const { EventDataStores = [] } = await ct.send(new ListEventDataStoresCommand({}));
        assert.deepEqual(EventDataStores, []);
        // Its name is free again.
        await create(ct, 'store');
      },
      { clock },
    );
  });

  it('starts and stops ingestion only from the right status, and not for stores of integration events', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { EventDataStoreArn: arn } = await create(ct, 'store');
      await rejectsWith(
        ct.send(new StartEventDataStoreIngestionCommand({ EventDataStore: arn })),
        'InvalidEventDataStoreStatusException',
      );
      await ct.send(new StopEventDataStoreIngestionCommand({ EventDataStore: arn }));
      assert.equal((await ct.send(new GetEventDataStoreCommand({ EventDataStore: arn }))).Status, 'STOPPED_INGESTION');
      await rejectsWith(
        ct.send(new StopEventDataStoreIngestionCommand({ EventDataStore: arn })),
        'InvalidEventDataStoreStatusException',
      );
      await ct.send(new StartEventDataStoreIngestionCommand({ EventDataStore: idOf(arn) }));
      assert.equal((await ct.send(new GetEventDataStoreCommand({ EventDataStore: arn }))).Status, 'ENABLED');

      const { EventDataStoreArn: audit } = await create(ct, 'audit', {
        AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] }],
      });
      await rejectsWith(
        ct.send(new StopEventDataStoreIngestionCommand({ EventDataStore: audit })),
        'InvalidEventDataStoreCategoryException',
      );
    });
  });

  it('lists stores in pages and refuses a token issued for other parameters', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      for (const name of ['s-a', 's-b', 's-c', 's-d', 's-e']) await create(ct, name);
      const names: string[] = [];
      let NextToken: string | undefined;
      let first: string | undefined;
      do {
        const page = await ct.send(
          new ListEventDataStoresCommand({ MaxResults: 2, ...(NextToken ? { NextToken } : {}) }),
        );
        assert.ok((page.EventDataStores?.length ?? 0) <= 2);
        for (const s of page.EventDataStores ?? []) {
          assert.match(s.EventDataStoreArn ?? '', ARN);
          names.push(s.Name ?? '');
        }
        NextToken = page.NextToken;
        first ??= NextToken;
      } while (NextToken);
      assert.deepEqual(names, ['s-a', 's-b', 's-c', 's-d', 's-e']);
      await rejectsWith(
        ct.send(new ListEventDataStoresCommand({ MaxResults: 3, NextToken: first ?? '' })),
        'InvalidNextTokenException',
      );
      // The model's range check answers with the operation's own error (cloudtrail-api.ts).
      await rejectsWith(ct.send(new ListEventDataStoresCommand({ MaxResults: 0 })), 'InvalidMaxResultsException');
    });
  });

  it('tags stores through AddTags, ListTags and RemoveTags', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { EventDataStoreArn: arn = '' } = await create(ct, 'store', { TagsList: [{ Key: 'a', Value: '1' }] });
      await ct.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'b', Value: '2' }] }));
      await ct.send(new RemoveTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'a' }] }));
      const { ResourceTagList } = await ct.send(new ListTagsCommand({ ResourceIdList: [arn] }));
      assert.deepEqual(ResourceTagList, [{ ResourceId: arn, TagsList: [{ Key: 'b', Value: '2' }] }]);
    });
  });
});

describe('accounts and Regions', () => {
  it("never show one account's stores to another, by id, by ARN or in lists", async () => {
    await withServer(async (w) => {
      const a = await w.newAccount();
      const b = await w.newAccount();
      const ctA = w.cloudtrail({ credentials: a.root });
      const ctB = w.cloudtrail({ credentials: b.root });
      const { EventDataStoreArn: arn = '' } = await create(ctA, 'shared-name');
      // The same name is free in another account.
      await create(ctB, 'shared-name');
      for (const ref of [arn, idOf(arn)]) {
        await rejectsWith(
          ctB.send(new GetEventDataStoreCommand({ EventDataStore: ref })),
          'EventDataStoreNotFoundException',
        );
        await rejectsWith(
          ctB.send(new UpdateEventDataStoreCommand({ EventDataStore: ref, RetentionPeriod: 8 })),
          'EventDataStoreNotFoundException',
        );
        await rejectsWith(
          ctB.send(new DeleteEventDataStoreCommand({ EventDataStore: ref })),
          'EventDataStoreNotFoundException',
        );
        await rejectsWith(
          ctB.send(new StopEventDataStoreIngestionCommand({ EventDataStore: ref })),
          'EventDataStoreNotFoundException',
        );
      }
      await rejectsWith(
        ctB.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: 'k', Value: 'v' }] })),
        'EventDataStoreNotFoundException',
      );
      const listedB = (await ctB.send(new ListEventDataStoresCommand({}))).EventDataStores ?? [];
      assert.equal(listedB.length, 1);
      assert.notEqual(listedB[0]?.EventDataStoreArn, arn);
      // A store is regional: its own account does not find it from another Region either.
      await rejectsWith(
        w
          .cloudtrail({ credentials: a.root, region: 'eu-west-1' })
          .send(new GetEventDataStoreCommand({ EventDataStore: arn })),
        'EventDataStoreNotFoundException',
      );
    });
  });
});

describe('event data store KMS keys on a KMS endpoint', () => {
  const moto = useMoto();

  it('checks the key against KMS and stores its ARN, as trails do', async () => {
    const kms = new KMSClient({ endpoint: moto.endpoint(), region: 'us-east-1', credentials: MOTO_CREDENTIALS });
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'lake key' }));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/lake-key', TargetKeyId: KeyMetadata?.KeyId }));
    const env = {
      OPENTRAIL_KMS_ENDPOINT: moto.endpoint(),
      OPENTRAIL_KMS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      OPENTRAIL_KMS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    };
    try {
      await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          await rejectsWith(
            ct.send(new CreateEventDataStoreCommand({ Name: 'sealed', KmsKeyId: 'alias/missing' })),
            'KmsKeyNotFoundException',
          );
          const made = await ct.send(new CreateEventDataStoreCommand({ Name: 'sealed', KmsKeyId: 'alias/lake-key' }));
          assert.equal(made.KmsKeyId, KeyMetadata?.Arn, 'the alias resolves to the key ARN');
          // The same key by another name is no change; another key is refused.
          await ct.send(
            new UpdateEventDataStoreCommand({ EventDataStore: made.EventDataStoreArn, KmsKeyId: 'alias/lake-key' }),
          );
          await rejectsWith(
            ct.send(
              new UpdateEventDataStoreCommand({ EventDataStore: made.EventDataStoreArn, KmsKeyId: 'alias/missing' }),
            ),
            'KmsKeyNotFoundException',
          );
        },
        { env },
      );
    } finally {
      kms.destroy();
    }
  });
});

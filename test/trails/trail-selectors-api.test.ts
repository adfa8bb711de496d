import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AdvancedEventSelector,
  type CloudTrailClient,
  CreateTrailCommand,
  type EventSelector,
  GetEventConfigurationCommand,
  GetEventSelectorsCommand,
  GetInsightSelectorsCommand,
  GetTrailCommand,
  PutEventConfigurationCommand,
  PutEventSelectorsCommand,
  PutInsightSelectorsCommand,
} from '@aws-sdk/client-cloudtrail';
import { rejectsWith, withServer } from '../helpers/server.ts';

/** Event selectors, Insights selectors and event configuration of trails, through the API (facts §7, §9). */

async function newTrail(client: CloudTrailClient, Name = 'selected', IsMultiRegionTrail = false): Promise<string> {
  const { TrailARN } = await client.send(
    new CreateTrailCommand({ Name, S3BucketName: 'selectors-bucket', IsMultiRegionTrail }),
  );
  assert.ok(TrailARN);
  return TrailARN;
}

function putBasic(client: CloudTrailClient, EventSelectors: EventSelector[], TrailName = 'selected') {
  return client.send(new PutEventSelectorsCommand({ TrailName, EventSelectors }));
}

function putAdvanced(
  client: CloudTrailClient,
  AdvancedEventSelectors: AdvancedEventSelector[],
  TrailName = 'selected',
) {
  return client.send(new PutEventSelectorsCommand({ TrailName, AdvancedEventSelectors }));
}

async function hasCustomEventSelectors(client: CloudTrailClient, Name = 'selected') {
  return (await client.send(new GetTrailCommand({ Name }))).Trail?.HasCustomEventSelectors;
}

async function hasInsightSelectors(client: CloudTrailClient, Name = 'selected') {
  return (await client.send(new GetTrailCommand({ Name }))).Trail?.HasInsightSelectors;
}

const MANAGEMENT: AdvancedEventSelector = {
  Name: 'mgmt',
  FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }],
};
const S3_WRITES: AdvancedEventSelector = {
  Name: 's3',
  FieldSelectors: [
    { Field: 'eventCategory', Equals: ['Data'] },
    { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
    { Field: 'eventName', Equals: ['PutObject', 'DeleteObject'] },
    { Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::mybucket/prefix'] },
  ],
};

describe('PutEventSelectors and GetEventSelectors', () => {
  it('gives a new trail the default selector: all management events, no data events', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct);
      const got = await ct.send(new GetEventSelectorsCommand({ TrailName: 'selected' }));
      assert.equal(got.TrailARN, arn);
      assert.deepEqual(got.EventSelectors, [
        { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
      ]);
      assert.equal(got.AdvancedEventSelectors, undefined);
      assert.equal(await hasCustomEventSelectors(ct), false);
    });
  });

  it('stores basic selectors with AWS defaults filled in and marks the trail as having custom selectors', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct);
      const selectors: EventSelector[] = [
        { ReadWriteType: 'WriteOnly', ExcludeManagementEventSources: ['kms.amazonaws.com'] },
        {
          IncludeManagementEvents: false,
          DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::my-bucket/'] }],
        },
      ];
      const put = await putBasic(ct, selectors, arn);
      const expected = [
        {
          ReadWriteType: 'WriteOnly',
          IncludeManagementEvents: true,
          DataResources: [],
          ExcludeManagementEventSources: ['kms.amazonaws.com'],
        },
        {
          ReadWriteType: 'All',
          IncludeManagementEvents: false,
          DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::my-bucket/'] }],
          ExcludeManagementEventSources: [],
        },
      ];
      assert.equal(put.TrailARN, arn);
      assert.deepEqual(put.EventSelectors, expected);
      const got = await ct.send(new GetEventSelectorsCommand({ TrailName: arn }));
      assert.deepEqual(got.EventSelectors, expected);
      assert.equal(got.AdvancedEventSelectors, undefined);
      assert.equal(await hasCustomEventSelectors(ct), true);
    });
  });

  it('round-trips advanced selectors as given', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      const put = await putAdvanced(ct, [MANAGEMENT, S3_WRITES]);
      assert.deepEqual(put.AdvancedEventSelectors, [MANAGEMENT, S3_WRITES]);
      const got = await ct.send(new GetEventSelectorsCommand({ TrailName: 'selected' }));
      assert.deepEqual(got.AdvancedEventSelectors, [MANAGEMENT, S3_WRITES]);
      assert.equal(got.EventSelectors, undefined);
      assert.equal(await hasCustomEventSelectors(ct), true);
    });
  });

  it('replaces one kind of selector with the other', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      await putAdvanced(ct, [MANAGEMENT]);
      await putBasic(ct, [{ ReadWriteType: 'ReadOnly' }]);
      const basic = await ct.send(new GetEventSelectorsCommand({ TrailName: 'selected' }));
      assert.equal(basic.AdvancedEventSelectors, undefined);
      assert.equal(basic.EventSelectors?.[0]?.ReadWriteType, 'ReadOnly');
      await putAdvanced(ct, [S3_WRITES]);
      const advanced = await ct.send(new GetEventSelectorsCommand({ TrailName: 'selected' }));
      assert.equal(advanced.EventSelectors, undefined);
      assert.deepEqual(advanced.AdvancedEventSelectors, [S3_WRITES]);
    });
  });

  it('rejects both kinds at once, or neither, with InvalidEventSelectorsException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      await rejectsWith(
        ct.send(
          new PutEventSelectorsCommand({
            TrailName: 'selected',
            EventSelectors: [{}],
            AdvancedEventSelectors: [MANAGEMENT],
          }),
        ),
        'InvalidEventSelectorsException',
      );
      await rejectsWith(
        ct.send(new PutEventSelectorsCommand({ TrailName: 'selected' })),
        'InvalidEventSelectorsException',
      );
      assert.equal(await hasCustomEventSelectors(ct), false);
    });
  });

  it('rejects selectors beyond the limits with InvalidEventSelectorsException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      const six = Array.from({ length: 6 }, (): EventSelector => ({ ReadWriteType: 'All' }));
      await rejectsWith(putBasic(ct, six), 'InvalidEventSelectorsException');
      await putBasic(ct, six.slice(0, 5));

      const buckets = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:s3:::bucket-${i}/`);
      const s3 = (values: string[]): EventSelector => ({
        DataResources: [{ Type: 'AWS::S3::Object', Values: values }],
      });
      await rejectsWith(putBasic(ct, [s3(buckets(251))]), 'InvalidEventSelectorsException');
      await rejectsWith(putBasic(ct, [s3(buckets(200)), s3(buckets(51))]), 'InvalidEventSelectorsException');
      await putBasic(ct, [s3(buckets(250))]);

      const values = (n: number) => Array.from({ length: n }, (_, i) => `Operation${i}`);
      const dataSelector = (n: number): AdvancedEventSelector => ({
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
          { Field: 'eventName', Equals: values(n) },
        ],
      });
      // 500 values across all conditions of all selectors pass (2 + 498); 501 do not.
      await putAdvanced(ct, [dataSelector(498)]);
      await rejectsWith(putAdvanced(ct, [dataSelector(499)]), 'InvalidEventSelectorsException');
      await rejectsWith(putAdvanced(ct, [dataSelector(498), MANAGEMENT]), 'InvalidEventSelectorsException');
    });
  });

  it('rejects an unknown field or a non-Equals operator on readOnly with InvalidEventSelectorsException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      await rejectsWith(
        putAdvanced(ct, [
          {
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'favouriteColour', Equals: ['blue'] },
            ],
          },
        ]),
        'InvalidEventSelectorsException',
      );
      await rejectsWith(
        putAdvanced(ct, [
          {
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'readOnly', NotEquals: ['true'] },
            ],
          },
        ]),
        'InvalidEventSelectorsException',
      );
      await rejectsWith(
        putBasic(ct, [{ DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::no-slash'] }] }]),
        'InvalidEventSelectorsException',
      );
    });
  });

  it('refuses to change a multi-Region trail’s selectors from another Region with InvalidHomeRegionException', async () => {
    await withServer(async (w) => {
      const arn = await newTrail(w.cloudtrail(), 'selected', true);
      const eu = w.cloudtrail({ region: 'eu-west-1' });
      await rejectsWith(putBasic(eu, [{ ReadWriteType: 'ReadOnly' }], arn), 'InvalidHomeRegionException');
      // Reading them from a shadow Region by ARN works.
      const got = await eu.send(new GetEventSelectorsCommand({ TrailName: arn }));
      assert.equal(got.EventSelectors?.[0]?.ReadWriteType, 'All');
    });
  });
});

describe('PutInsightSelectors and GetInsightSelectors', () => {
  it('replaces the selectors rather than appending, and reports them through HasInsightSelectors', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct);
      const both = await ct.send(
        new PutInsightSelectorsCommand({
          TrailName: 'selected',
          InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }, { InsightType: 'ApiErrorRateInsight' }],
        }),
      );
      assert.equal(both.TrailARN, arn);
      assert.equal(both.InsightSelectors?.length, 2);
      assert.equal(await hasInsightSelectors(ct), true);
      await ct.send(
        new PutInsightSelectorsCommand({ TrailName: arn, InsightSelectors: [{ InsightType: 'ApiErrorRateInsight' }] }),
      );
      const got = await ct.send(new GetInsightSelectorsCommand({ TrailName: 'selected' }));
      assert.equal(got.TrailARN, arn);
      assert.deepEqual(got.InsightSelectors, [{ InsightType: 'ApiErrorRateInsight' }]);
    });
  });

  it('turns Insights off with an empty list, after which GetInsightSelectors answers InsightNotEnabledException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      const notEnabled =
        /^Trail selected does not have Insights enabled\. Edit the trail settings to enable Insights, and then try the operation again\.$/;
      await rejectsWith(
        ct.send(new GetInsightSelectorsCommand({ TrailName: 'selected' })),
        'InsightNotEnabledException',
        notEnabled,
      );
      await ct.send(
        new PutInsightSelectorsCommand({
          TrailName: 'selected',
          InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }],
        }),
      );
      await ct.send(new PutInsightSelectorsCommand({ TrailName: 'selected', InsightSelectors: [] }));
      assert.equal(await hasInsightSelectors(ct), false);
      await rejectsWith(
        ct.send(new GetInsightSelectorsCommand({ TrailName: 'selected' })),
        'InsightNotEnabledException',
        notEnabled,
      );
    });
  });

  it('refuses Insights on a trail that logs no management events with InvalidInsightSelectorsException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      await putBasic(ct, [
        { IncludeManagementEvents: false, DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }] },
      ]);
      for (const InsightType of ['ApiCallRateInsight', 'ApiErrorRateInsight'] as const) {
        await rejectsWith(
          ct.send(new PutInsightSelectorsCommand({ TrailName: 'selected', InsightSelectors: [{ InsightType }] })),
          'InvalidInsightSelectorsException',
        );
      }
      // Call-rate Insights need write management events; read-only is not enough.
      await putBasic(ct, [{ ReadWriteType: 'ReadOnly' }]);
      await rejectsWith(
        ct.send(
          new PutInsightSelectorsCommand({
            TrailName: 'selected',
            InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }],
          }),
        ),
        'InvalidInsightSelectorsException',
      );
      assert.equal(await hasInsightSelectors(ct), false);
    });
  });
});

describe('PutEventConfiguration and GetEventConfiguration on a trail', () => {
  it('starts from the defaults and round-trips aggregation configurations', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const arn = await newTrail(ct);
      const defaults = await ct.send(new GetEventConfigurationCommand({ TrailName: 'selected' }));
      assert.equal(defaults.TrailARN, arn);
      assert.equal(defaults.MaxEventSize, 'Standard');
      assert.deepEqual(defaults.ContextKeySelectors, []);
      assert.deepEqual(defaults.AggregationConfigurations, []);

      const put = await ct.send(
        new PutEventConfigurationCommand({
          TrailName: arn,
          AggregationConfigurations: [{ EventCategory: 'Data', Templates: ['API_ACTIVITY', 'USER_ACTIONS'] }],
        }),
      );
      assert.equal(put.TrailARN, arn);
      assert.deepEqual(put.AggregationConfigurations, [
        { EventCategory: 'Data', Templates: ['API_ACTIVITY', 'USER_ACTIONS'] },
      ]);
      const got = await ct.send(new GetEventConfigurationCommand({ TrailName: arn }));
      assert.deepEqual(got.AggregationConfigurations, put.AggregationConfigurations);
      assert.equal(got.MaxEventSize, 'Standard');
    });
  });

  it('refuses context key selectors on a trail with InvalidParameterCombinationException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      await rejectsWith(
        ct.send(
          new PutEventConfigurationCommand({
            TrailName: 'selected',
            MaxEventSize: 'Large',
            ContextKeySelectors: [{ Type: 'RequestContext', Equals: ['aws:SourceIp'] }],
          }),
        ),
        'InvalidParameterCombinationException',
      );
    });
  });

  it('refuses TrailName together with EventDataStore with InvalidParameterCombinationException', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await newTrail(ct);
      const eds = `arn:aws:cloudtrail:us-east-1:${w.app.admin.accountId}:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE`;
      await rejectsWith(
        ct.send(
          new PutEventConfigurationCommand({ TrailName: 'selected', EventDataStore: eds, MaxEventSize: 'Standard' }),
        ),
        'InvalidParameterCombinationException',
      );
      await rejectsWith(
        ct.send(new GetEventConfigurationCommand({ TrailName: 'selected', EventDataStore: eds })),
        'InvalidParameterCombinationException',
      );
    });
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  defaultEventSelectors,
  type EventSelector,
  validateEventSelectors,
} from '../../src/trails/event-selectors.ts';

const INVALID = 'InvalidEventSelectorsException';

const basic = (...EventSelectors: EventSelector[]) => validateEventSelectors({ EventSelectors });
const s3 = (Values: string[]): EventSelector => ({ DataResources: [{ Type: 'AWS::S3::Object', Values }] });
const specificS3 = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `arn:aws:s3:::bucket-${from + i}/`);

const category = (value: string): AdvancedFieldSelector => ({ Field: 'eventCategory', Equals: [value] });
const management: AdvancedEventSelector = { Name: 'mgmt', FieldSelectors: [category('Management')] };
const dataSelector = (...more: AdvancedFieldSelector[]): AdvancedEventSelector => ({
  FieldSelectors: [category('Data'), { Field: 'resources.type', Equals: ['AWS::S3::Object'] }, ...more],
});
const advanced = (selectors: AdvancedEventSelector[], target: 'trail' | 'eventDataStore' = 'trail') =>
  validateEventSelectors({ AdvancedEventSelectors: selectors }, target);
const oneAdvanced = (...FieldSelectors: AdvancedFieldSelector[]) => advanced([{ FieldSelectors }]);

describe('choosing the selector kind', () => {
  test('returns the default selector AWS shows for a new trail', () => {
    assert.deepEqual(defaultEventSelectors(), [
      { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
    ]);
  });

  test('rejects EventSelectors together with AdvancedEventSelectors with InvalidEventSelectorsException', () => {
    assert.throws(() => validateEventSelectors({ EventSelectors: [{}], AdvancedEventSelectors: [management] }), {
      name: INVALID,
      message: /either EventSelectors or AdvancedEventSelectors, not both/,
    });
  });

  test('rejects a request with neither kind with InvalidEventSelectorsException', () => {
    assert.throws(() => validateEventSelectors({}), { name: INVALID, message: /Specify EventSelectors or Advanced/ });
  });

  test('rejects basic selectors for an event data store with InvalidEventSelectorsException', () => {
    assert.throws(() => validateEventSelectors({ EventSelectors: [{}] }, 'eventDataStore'), {
      name: INVALID,
      message: /AdvancedEventSelectors only/,
    });
  });
});

describe('basic event selectors', () => {
  test('fills in the defaults AWS echoes', () => {
    assert.deepEqual(basic({}), { EventSelectors: defaultEventSelectors() });
    assert.deepEqual(basic({ ReadWriteType: 'WriteOnly', DataResources: [{ Type: 'AWS::Lambda::Function' }] }), {
      EventSelectors: [
        {
          ReadWriteType: 'WriteOnly',
          IncludeManagementEvents: true,
          DataResources: [{ Type: 'AWS::Lambda::Function', Values: [] }],
          ExcludeManagementEventSources: [],
        },
      ],
    });
  });

  test('accepts 5 selectors and rejects 6 or none with InvalidEventSelectorsException', () => {
    basic({}, {}, {}, {}, {});
    for (const count of [0, 6]) {
      assert.throws(() => basic(...Array.from({ length: count }, () => ({}))), {
        name: INVALID,
        message: new RegExp(`valid number of event selectors \\(1 to 5\\) for a trail; ${count} were given`),
      });
    }
  });

  test('rejects an unknown ReadWriteType with InvalidEventSelectorsException', () => {
    assert.throws(() => basic({ ReadWriteType: 'read-only' as 'ReadOnly' }), {
      name: INVALID,
      message: /ReadWriteType read-only is not valid: use ReadOnly, WriteOnly or All/,
    });
  });

  test('rejects a selector with neither management events nor data resources with InvalidEventSelectorsException', () => {
    assert.throws(() => basic({ IncludeManagementEvents: false }), {
      name: INVALID,
      message: /When includeManagementEvents is false, DataResources must not be empty/,
    });
  });

  test('accepts excluding KMS and RDS Data API events and rejects other sources', () => {
    basic({ ExcludeManagementEventSources: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] });
    assert.throws(() => basic({ ExcludeManagementEventSources: ['s3.amazonaws.com'] }), {
      name: INVALID,
      message: /cannot contain s3\.amazonaws\.com: only kms\.amazonaws\.com and rdsdata\.amazonaws\.com/,
    });
  });

  test('rejects resource types that need advanced selectors with InvalidEventSelectorsException', () => {
    assert.throws(() => basic({ DataResources: [{ Type: 'AWS::EC2::Snapshot', Values: [] }] }), {
      name: INVALID,
      message: /Type AWS::EC2::Snapshot is not valid for EventSelectors: .*AdvancedEventSelectors/,
    });
    assert.throws(() => basic({ DataResources: [{ Values: ['arn:aws:s3'] }] }), { name: INVALID, message: /missing/ });
  });

  test('accepts every documented S3 value form', () => {
    basic(s3(['arn:aws:s3', 'arn:aws:s3:::', 'arn:aws:s3:::my-bucket/', 'arn:aws:s3:::my-bucket/images/2024']));
  });

  test('rejects an S3 bucket ARN without the trailing slash with InvalidEventSelectorsException', () => {
    assert.throws(() => basic(s3(['arn:aws:s3:::my-bucket'])), {
      name: INVALID,
      message: /^Value arn:aws:s3:::my-bucket for DataResources.Values is invalid\. .*trailing slash/,
    });
  });

  test('rejects wildcard values with InvalidEventSelectorsException', () => {
    assert.throws(() => basic(s3(['arn:aws:s3:::*'])), { name: INVALID, message: /arn:aws:s3:::\* for DataResources/ });
    assert.throws(() => basic({ DataResources: [{ Type: 'AWS::Lambda::Function', Values: ['arn:aws:lambda:*'] }] }), {
      name: INVALID,
      message: /arn:aws:lambda:\* for DataResources.Values is invalid/,
    });
  });

  test('accepts all-functions and exact function ARNs for Lambda', () => {
    basic({
      DataResources: [
        {
          Type: 'AWS::Lambda::Function',
          Values: ['arn:aws:lambda', 'arn:aws:lambda:us-west-2:111111111111:function:helloworld'],
        },
      ],
    });
  });

  test('accepts all-tables and table ARNs for DynamoDB and rejects other ARNs', () => {
    const dynamo = (Values: string[]) => basic({ DataResources: [{ Type: 'AWS::DynamoDB::Table', Values }] });
    dynamo(['arn:aws:dynamodb', 'arn:aws:dynamodb:us-east-1:123456789012:table/orders']);
    assert.throws(() => dynamo(['arn:aws:s3:::bucket/']), { name: INVALID, message: /use arn:aws:dynamodb for all/ });
  });

  test('accepts 250 data resource values across selectors and rejects 251', () => {
    basic(s3(specificS3(125)), s3(specificS3(125, 125)));
    assert.throws(() => basic(s3(specificS3(125)), s3(specificS3(126, 125))), {
      name: INVALID,
      message: /valid number of DataResources.Values \(0 to 250\) for all your selectors; 251 were given/,
    });
  });

  test('does not count all-resources values towards the 250 limit', () => {
    basic(s3([...specificS3(250), 'arn:aws:s3']), {
      DataResources: [{ Type: 'AWS::Lambda::Function', Values: ['arn:aws:lambda'] }],
    });
  });
});

describe('advanced event selectors', () => {
  test('returns a copy of valid selectors, as given', () => {
    const selectors: AdvancedEventSelector[] = [
      management,
      {
        Name: 's3',
        FieldSelectors: [
          category('Data'),
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
          { Field: 'eventName', Equals: ['PutObject', 'DeleteObject'] },
          { Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::mybucket/prefix'] },
        ],
      },
    ];
    const result = advanced(selectors);
    assert.deepEqual(result, { AdvancedEventSelectors: selectors });
    assert.notEqual((result as { AdvancedEventSelectors: unknown[] }).AdvancedEventSelectors[0], selectors[0]);
  });

  test('rejects an empty list with InvalidEventSelectorsException', () => {
    assert.throws(() => advanced([]), { name: INVALID, message: /at least one selector/ });
  });

  test('rejects a selector without eventCategory with InvalidEventSelectorsException', () => {
    assert.throws(() => oneAdvanced({ Field: 'readOnly', Equals: ['true'] }), {
      name: INVALID,
      message: /must include an eventCategory field selector/,
    });
  });

  test('rejects operators other than Equals on readOnly, eventCategory and resources.type', () => {
    assert.throws(() => oneAdvanced({ Field: 'eventCategory', StartsWith: ['Man'] }), {
      name: INVALID,
      message: /eventCategory accepts only the Equals operator/,
    });
    assert.throws(() => oneAdvanced(category('Management'), { Field: 'readOnly', NotEquals: ['true'] }), {
      name: INVALID,
      message: /readOnly accepts only the Equals operator/,
    });
    assert.throws(() => oneAdvanced(category('Data'), { Field: 'resources.type', NotEquals: ['AWS::S3::Object'] }), {
      name: INVALID,
      message: /resources.type accepts only the Equals operator/,
    });
  });

  test('rejects an eventCategory outside the allowed list or with two values', () => {
    assert.throws(() => oneAdvanced(category('Insight')), {
      name: INVALID,
      message: /eventCategory must equal exactly one of Management, Data, NetworkActivity/,
    });
    assert.throws(() => oneAdvanced({ Field: 'eventCategory', Equals: ['Management', 'Data'] }), { name: INVALID });
  });

  test('accepts event-data-store-only categories for an event data store', () => {
    advanced([{ FieldSelectors: [category('ConfigurationItem')] }], 'eventDataStore');
  });

  test('rejects a readOnly value other than true or false', () => {
    assert.throws(() => oneAdvanced(category('Management'), { Field: 'readOnly', Equals: ['yes'] }), {
      name: INVALID,
      message: /readOnly must equal true or false/,
    });
  });

  test('rejects a data selector without exactly one known resources.type', () => {
    assert.throws(() => oneAdvanced(category('Data')), { name: INVALID, message: /require a resources.type field/ });
    const two = { Field: 'resources.type', Equals: ['AWS::S3::Object', 'AWS::Lambda::Function'] };
    assert.throws(() => oneAdvanced(category('Data'), two), { name: INVALID, message: /exactly one resource type/ });
    const unknown = { Field: 'resources.type', Equals: ['AWS::Foo::Bar'] };
    assert.throws(() => oneAdvanced(category('Data'), unknown), {
      name: INVALID,
      message: /AWS::Foo::Bar is not a supported/,
    });
  });

  test('rejects fields a category does not support, and allows more on event data stores', () => {
    const eventName = { Field: 'eventName', Equals: ['CreateBucket'] };
    assert.throws(() => oneAdvanced(category('Management'), eventName), {
      name: INVALID,
      message:
        /field eventName is not supported for Management events on a trail; use eventCategory, eventSource, readOnly/,
    });
    advanced([{ FieldSelectors: [category('Management'), eventName] }], 'eventDataStore');
    assert.throws(() => oneAdvanced(category('Management'), { Field: 'foo', Equals: ['x'] }), {
      name: INVALID,
      message: /field foo is not supported/,
    });
  });

  test('rejects a field that appears twice in one selector', () => {
    const twice = [
      category('Management'),
      { Field: 'readOnly', Equals: ['true'] },
      { Field: 'readOnly', Equals: ['false'] },
    ];
    assert.throws(() => oneAdvanced(...twice), { name: INVALID, message: /field readOnly appears more than once/ });
  });

  test('rejects a field selector with no operator, an empty list or a value of bad length', () => {
    assert.throws(() => oneAdvanced(category('Management'), { Field: 'readOnly' }), {
      name: INVALID,
      message: /has no operator: add one of Equals, StartsWith/,
    });
    assert.throws(() => oneAdvanced(category('Management'), { Field: 'readOnly', Equals: [] }), {
      name: INVALID,
      message: /Equals must list at least one value/,
    });
    for (const value of ['', 'x'.repeat(2049)]) {
      assert.throws(() => advanced([dataSelector({ Field: 'eventName', Equals: [value] })]), {
        name: INVALID,
        message: /values must be 1 to 2048 characters long/,
      });
    }
    advanced([dataSelector({ Field: 'eventName', Equals: ['x'.repeat(2048)] })]);
  });

  test('requires eventSource on network activity selectors and allows only VpceAccessDenied as errorCode', () => {
    const source = { Field: 'eventSource', Equals: ['s3.amazonaws.com'] };
    assert.throws(() => oneAdvanced(category('NetworkActivity')), { name: INVALID, message: /require an eventSource/ });
    oneAdvanced(category('NetworkActivity'), source, { Field: 'errorCode', Equals: ['VpceAccessDenied'] });
    assert.throws(
      () => oneAdvanced(category('NetworkActivity'), source, { Field: 'errorCode', Equals: ['AccessDenied'] }),
      {
        name: INVALID,
        message: /only valid value for errorCode is VpceAccessDenied/,
      },
    );
    // The User Guide: eventSource and errorCode can only use Equals on network activity selectors.
    for (const field of [
      { Field: 'eventSource', StartsWith: ['ec2.'] },
      { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] },
    ]) {
      assert.throws(() => oneAdvanced(category('NetworkActivity'), field), {
        name: INVALID,
        message: /eventSource can only use the Equals operator/,
      });
    }
    assert.throws(
      () => oneAdvanced(category('NetworkActivity'), source, { Field: 'errorCode', NotEquals: ['VpceAccessDenied'] }),
      { name: INVALID, message: /errorCode can only use the Equals operator/ },
    );
  });

  test('takes the data resource types of the API Reference, S3 directory bucket objects among them', () => {
    for (const type of ['AWS::S3Express::Object', 'AWS::SQS::Queue', 'AWS::Bedrock::AgentAlias', 'AWS::XRay::Trace']) {
      oneAdvanced(category('Data'), { Field: 'resources.type', Equals: [type] });
    }
  });

  test('allows userIdentity.arn on network activity selectors of trails only', () => {
    const fields = [
      category('NetworkActivity'),
      { Field: 'eventSource', Equals: ['kms.amazonaws.com'] },
      { Field: 'userIdentity.arn', StartsWith: ['arn:aws:iam::123456789012:role/'] },
    ];
    oneAdvanced(...fields);
    assert.throws(() => advanced([{ FieldSelectors: fields }], 'eventDataStore'), { name: INVALID });
  });

  test('allows a trail management eventSource only as NotEquals kms or rdsdata', () => {
    oneAdvanced(category('Management'), { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] });
    assert.throws(() => oneAdvanced(category('Management'), { Field: 'eventSource', Equals: ['s3.amazonaws.com'] }), {
      name: INVALID,
      message: /eventSource can only be NotEquals kms\.amazonaws\.com/,
    });
  });

  test('requires full ARNs for resources.ARN with Equals and NotEquals', () => {
    assert.throws(() => advanced([dataSelector({ Field: 'resources.ARN', Equals: ['mybucket'] })]), {
      name: INVALID,
      message: /must be a full AWS::S3::Object ARN for Equals and NotEquals; use StartsWith/,
    });
    advanced([dataSelector({ Field: 'resources.ARN', NotEquals: ['arn:aws:s3:::mybucket/'] })]);
  });

  test('accepts 500 values across all selectors and rejects 501', () => {
    const names = (n: number) => ({ Field: 'eventName', Equals: Array.from({ length: n }, (_, i) => `Op${i}`) });
    advanced([dataSelector(names(498))]);
    assert.throws(() => advanced([management, dataSelector(names(498))]), {
      name: INVALID,
      message: /up to 500 values for all conditions in all advanced event selectors; 501 were given/,
    });
  });

  test('accepts 5 selectors for an event data store and rejects 6, while trails take more', () => {
    const six = Array.from({ length: 6 }, () => management);
    advanced(six.slice(0, 5), 'eventDataStore');
    assert.throws(() => advanced(six, 'eventDataStore'), {
      name: INVALID,
      message: /at most 5 advanced event selectors; 6 were given/,
    });
    advanced(six);
  });
});

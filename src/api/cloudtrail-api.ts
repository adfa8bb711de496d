import type { ErrorName } from '../model/service-error.ts';
import type { JsonApi } from './aws-json.ts';
import cloudTrailModelJson from './model/cloudtrail.generated.json' with { type: 'json' };
import type { ServiceModel } from './model/service-model.ts';
import { cloudTrailOperations } from './operations/index.ts';
import type { Violation } from './validate-input.ts';

export const cloudTrailModel = cloudTrailModelJson as unknown as ServiceModel;

/** Model constraints that a CloudTrail operation reports with its own exception rather than ValidationException. */
const byMember =
  (table: Record<string, ErrorName>) =>
  (members: string[]): ErrorName | undefined =>
    table[members[0] ?? ''];

/** Tag lists: too many tags is TagsLimitExceeded; a bad key or value is InvalidTagParameter. */
const tagErrors = (members: string[], violation: Violation): ErrorName | undefined => {
  // Channels name their tag list Tags; trails and event data stores TagsList.
  if (members[0] !== 'TagsList' && members[0] !== 'Tags') return undefined;
  return members.length === 1 && /length/.test(violation.text)
    ? 'TagsLimitExceededException'
    : 'InvalidTagParameterException';
};

export const cloudTrailApi: JsonApi = {
  // The JS SDK sends the short prefix, botocore the long one (facts §1.1).
  targetPrefixes: ['CloudTrail_20131101', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101'],
  signingNames: ['cloudtrail'],
  eventSource: 'cloudtrail.amazonaws.com',
  operations: cloudTrailOperations,
  model: cloudTrailModel,
  // The largest legitimate request, advanced selectors of 500 values of up to 2,048 characters, is ~1 MB.
  maxBodyBytes: 2 * 1024 * 1024,
  validationErrors: {
    LookupEvents: byMember({
      MaxResults: 'InvalidMaxResultsException',
      LookupAttributes: 'InvalidLookupAttributesException',
      EventCategory: 'InvalidEventCategoryException',
      // A time no timestamp can hold (validate-input.ts) is a bad time range.
      StartTime: 'InvalidTimeRangeException',
      EndTime: 'InvalidTimeRangeException',
    }),
    PutEventSelectors: byMember({
      EventSelectors: 'InvalidEventSelectorsException',
      AdvancedEventSelectors: 'InvalidEventSelectorsException',
    }),
    PutInsightSelectors: byMember({ InsightSelectors: 'InvalidInsightSelectorsException' }),
    PutEventConfiguration: byMember({
      MaxEventSize: 'InvalidParameterException',
      ContextKeySelectors: 'InvalidParameterException',
      AggregationConfigurations: 'InvalidParameterException',
    }),
    CreateEventDataStore: (members, violation) =>
      tagErrors(members, violation) ??
      byMember({ AdvancedEventSelectors: 'InvalidEventSelectorsException' })(members) ??
      'InvalidParameterException',
    UpdateEventDataStore: (members) =>
      byMember({ AdvancedEventSelectors: 'InvalidEventSelectorsException' })(members) ?? 'InvalidParameterException',
    ListEventDataStores: byMember({ MaxResults: 'InvalidMaxResultsException', NextToken: 'InvalidNextTokenException' }),
    GetQueryResults: byMember({
      MaxQueryResults: 'InvalidMaxResultsException',
      NextToken: 'InvalidNextTokenException',
    }),
    ListQueries: byMember({
      MaxResults: 'InvalidMaxResultsException',
      NextToken: 'InvalidNextTokenException',
      QueryStatus: 'InvalidQueryStatusException',
    }),
    CreateChannel: (members, violation) => tagErrors(members, violation) ?? 'InvalidParameterException',
    UpdateChannel: () => 'InvalidParameterException',
    // Import inputs outside the model (two destinations, a short ImportId) are parameter errors, as AWS lists them.
    StartImport: () => 'InvalidParameterException',
    GetImport: () => 'InvalidParameterException',
    StopImport: () => 'InvalidParameterException',
    ListImports: (members) =>
      byMember({ NextToken: 'InvalidNextTokenException' })(members) ?? 'InvalidParameterException',
    ListImportFailures: (members) =>
      byMember({ NextToken: 'InvalidNextTokenException' })(members) ?? 'InvalidParameterException',
    CreateTrail: tagErrors,
    AddTags: tagErrors,
    RemoveTags: tagErrors,
  },
};

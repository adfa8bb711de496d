import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AdvancedEventSelector, EventSelector } from '../../src/trails/event-selectors.ts';
import {
  type InsightEventCategory,
  type InsightSelector,
  insightEventCategories,
  loggedEventKinds,
  requireInsightsCompatible,
  validateInsightSelectors,
} from '../../src/trails/insight-selectors.ts';

const INVALID = 'InvalidInsightSelectorsException';
const callRate: InsightSelector = { InsightType: 'ApiCallRateInsight' };
const errorRate: InsightSelector = { InsightType: 'ApiErrorRateInsight' };
const onData = (s: InsightSelector): InsightSelector => ({ ...s, EventCategories: ['Data'] });

describe('validateInsightSelectors', () => {
  test('accepts both Insights types and returns them as given', () => {
    const selectors: InsightSelector[] = [
      callRate,
      { InsightType: 'ApiErrorRateInsight', EventCategories: ['Management', 'Data'] },
    ];
    assert.deepEqual(validateInsightSelectors(selectors), selectors);
  });

  test('accepts an empty list, which turns Insights off', () => {
    assert.deepEqual(validateInsightSelectors([]), []);
  });

  test('rejects an unknown or missing InsightType with InvalidInsightSelectorsException', () => {
    for (const s of [{ InsightType: 'ApiLatencyInsight' as 'ApiCallRateInsight' }, {}]) {
      assert.throws(() => validateInsightSelectors([s]), {
        name: INVALID,
        message: /InsightType must be ApiCallRateInsight or ApiErrorRateInsight/,
      });
    }
  });

  test('rejects the same InsightType twice with InvalidInsightSelectorsException', () => {
    assert.throws(() => validateInsightSelectors([callRate, onData(callRate)]), {
      name: INVALID,
      message: /ApiCallRateInsight appears more than once/,
    });
  });

  test('rejects unknown, empty or repeated EventCategories with InvalidInsightSelectorsException', () => {
    const cases: [InsightEventCategory[], RegExp][] = [
      [['Insight' as 'Data'], /only Management and Data/],
      [[], /omit it to mean Management/],
      [['Data', 'Data'], /more than once/],
    ];
    for (const [EventCategories, message] of cases) {
      assert.throws(() => validateInsightSelectors([{ ...callRate, EventCategories }]), { name: INVALID, message });
    }
  });

  test('rejects Insights on data events for an event data store with InvalidInsightSelectorsException', () => {
    validateInsightSelectors([callRate], 'eventDataStore');
    assert.throws(() => validateInsightSelectors([onData(callRate)], 'eventDataStore'), {
      name: INVALID,
      message: /management events only; remove Data/,
    });
  });

  test('reads omitted EventCategories as Management', () => {
    assert.deepEqual(insightEventCategories(callRate), ['Management']);
    assert.deepEqual(insightEventCategories(onData(callRate)), ['Data']);
  });
});

describe('requireInsightsCompatible', () => {
  const basic = (...EventSelectors: EventSelector[]) => ({ EventSelectors });
  const advanced = (...AdvancedEventSelectors: AdvancedEventSelector[]) => ({ AdvancedEventSelectors });
  const s3Data: EventSelector = {
    IncludeManagementEvents: false,
    DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }],
  };

  test('accepts management Insights on a trail with the default selectors', () => {
    assert.deepEqual(loggedEventKinds({}), { readManagement: true, writeManagement: true, data: false });
    requireInsightsCompatible([callRate, errorRate], {});
  });

  test('rejects call-rate Insights on a trail logging only read management events', () => {
    const readOnly = basic({ ReadWriteType: 'ReadOnly' });
    requireInsightsCompatible([errorRate], readOnly);
    assert.throws(() => requireInsightsCompatible([callRate], readOnly), {
      name: INVALID,
      message:
        /ApiCallRateInsight on management events needs the trail to log write management events.*PutEventSelectors/,
    });
  });

  test('rejects management Insights on a trail logging no management events', () => {
    assert.throws(() => requireInsightsCompatible([errorRate], basic(s3Data)), {
      name: INVALID,
      message: /ApiErrorRateInsight on management events needs the trail to log read or write management events/,
    });
  });

  test('accepts data Insights only when the trail logs data events', () => {
    requireInsightsCompatible([onData(callRate), onData(errorRate)], basic(s3Data));
    assert.throws(() => requireInsightsCompatible([onData(errorRate)], basic({})), {
      name: INVALID,
      message: /ApiErrorRateInsight on data events needs the trail to log read or write data events/,
    });
  });

  test('reads read/write management and data logging from advanced selectors', () => {
    const readMgmt: AdvancedEventSelector = {
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Management'] },
        { Field: 'readOnly', Equals: ['true'] },
      ],
    };
    const data: AdvancedEventSelector = {
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
      ],
    };
    assert.deepEqual(loggedEventKinds(advanced(readMgmt, data)), {
      readManagement: true,
      writeManagement: false,
      data: true,
    });
    requireInsightsCompatible([errorRate, onData(callRate)], advanced(readMgmt, data));
    assert.throws(() => requireInsightsCompatible([callRate], advanced(readMgmt, data)), { name: INVALID });
    requireInsightsCompatible(
      [callRate],
      advanced({ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AggregationConfiguration,
  applyEventConfiguration,
  type ContextKeySelector,
  defaultEventConfiguration,
  type EventConfiguration,
  eventConfigurationTarget,
} from '../../src/trails/event-configuration.ts';

const aggregation: AggregationConfiguration = { EventCategory: 'Data', Templates: ['API_ACTIVITY', 'USER_ACTIONS'] };
const tagKeys: ContextKeySelector = { Type: 'TagContext', Equals: ['team'] };
const requestKeys: ContextKeySelector = { Type: 'RequestContext', Equals: ['aws:SourceIp'] };
const large = (selectors: ContextKeySelector[]): EventConfiguration => ({
  ...defaultEventConfiguration(),
  MaxEventSize: 'Large',
  ContextKeySelectors: selectors,
});

describe('eventConfigurationTarget', () => {
  test('returns the trail or the event data store the request names', () => {
    assert.deepEqual(eventConfigurationTarget({ TrailName: 't1' }), { kind: 'trail', trailName: 't1' });
    assert.deepEqual(eventConfigurationTarget({ EventDataStore: 'eds' }), {
      kind: 'eventDataStore',
      eventDataStore: 'eds',
    });
  });

  test('rejects TrailName together with EventDataStore with InvalidParameterCombinationException', () => {
    assert.throws(() => eventConfigurationTarget({ TrailName: 't1', EventDataStore: 'eds' }), {
      name: 'InvalidParameterCombinationException',
      message: /either TrailName or EventDataStore, not both/,
    });
  });

  test('rejects a request naming neither with InvalidParameterException', () => {
    assert.throws(() => eventConfigurationTarget({}), {
      name: 'InvalidParameterException',
      message: /Specify TrailName or EventDataStore/,
    });
  });
});

describe('applyEventConfiguration on a trail', () => {
  test('starts from Standard events with no selectors or aggregation', () => {
    assert.deepEqual(defaultEventConfiguration(), {
      MaxEventSize: 'Standard',
      ContextKeySelectors: [],
      AggregationConfigurations: [],
    });
  });

  test('stores aggregation configurations and turns them off with an empty list', () => {
    const on = applyEventConfiguration(
      defaultEventConfiguration(),
      { AggregationConfigurations: [aggregation] },
      'trail',
    );
    assert.deepEqual(on.AggregationConfigurations, [aggregation]);
    assert.notEqual(on.AggregationConfigurations[0], aggregation);
    const off = applyEventConfiguration(on, { AggregationConfigurations: [] }, 'trail');
    assert.deepEqual(off, defaultEventConfiguration());
  });

  test('keeps stored members the request omits', () => {
    const on = applyEventConfiguration(
      defaultEventConfiguration(),
      { AggregationConfigurations: [aggregation] },
      'trail',
    );
    assert.deepEqual(applyEventConfiguration(on, { MaxEventSize: 'Standard' }, 'trail'), on);
  });

  test('rejects context key selectors on a trail with InvalidParameterCombinationException', () => {
    assert.throws(
      () => applyEventConfiguration(defaultEventConfiguration(), { ContextKeySelectors: [tagKeys] }, 'trail'),
      { name: 'InvalidParameterCombinationException', message: /event data stores only; remove them/ },
    );
  });

  test('rejects MaxEventSize Large on a trail with InvalidParameterCombinationException', () => {
    assert.throws(() => applyEventConfiguration(defaultEventConfiguration(), { MaxEventSize: 'Large' }, 'trail'), {
      name: 'InvalidParameterCombinationException',
      message: /Large applies to event data stores only/,
    });
  });

  test('rejects a second aggregation configuration or a bad one with InvalidParameterException', () => {
    const apply = (configs: AggregationConfiguration[]) =>
      applyEventConfiguration(defaultEventConfiguration(), { AggregationConfigurations: configs }, 'trail');
    const cases: [AggregationConfiguration[], RegExp][] = [
      [[aggregation, aggregation], /at most 1 aggregation configuration/],
      [[{ ...aggregation, EventCategory: 'Management' as 'Data' }], /EventCategory must be Data/],
      [[{ ...aggregation, Templates: [] }], /Templates must list 1 to 50 templates/],
      [[{ ...aggregation, Templates: ['EVERYTHING' as 'API_ACTIVITY'] }], /only API_ACTIVITY, RESOURCE_ACCESS/],
    ];
    for (const [configs, message] of cases) {
      assert.throws(() => apply(configs), { name: 'InvalidParameterException', message });
    }
  });
});

describe('applyEventConfiguration on an event data store', () => {
  test('stores context key selectors with MaxEventSize Large', () => {
    const next = applyEventConfiguration(
      defaultEventConfiguration(),
      { MaxEventSize: 'Large', ContextKeySelectors: [tagKeys, requestKeys] },
      'eventDataStore',
    );
    assert.deepEqual(next, large([tagKeys, requestKeys]));
  });

  test('rejects context key selectors while events are Standard with InvalidParameterCombinationException', () => {
    assert.throws(
      () => applyEventConfiguration(defaultEventConfiguration(), { ContextKeySelectors: [tagKeys] }, 'eventDataStore'),
      { name: 'InvalidParameterCombinationException', message: /set MaxEventSize to Large/ },
    );
    assert.throws(() => applyEventConfiguration(large([tagKeys]), { MaxEventSize: 'Standard' }, 'eventDataStore'), {
      name: 'InvalidParameterCombinationException',
    });
  });

  test('accepts new selectors when the stored size is already Large, and Standard once selectors are cleared', () => {
    applyEventConfiguration(large([]), { ContextKeySelectors: [requestKeys] }, 'eventDataStore');
    const cleared = applyEventConfiguration(
      large([tagKeys]),
      { MaxEventSize: 'Standard', ContextKeySelectors: [] },
      'eventDataStore',
    );
    assert.deepEqual(cleared, defaultEventConfiguration());
  });

  test('rejects aggregation configurations on an event data store with InvalidParameterCombinationException', () => {
    assert.throws(
      () =>
        applyEventConfiguration(
          defaultEventConfiguration(),
          { AggregationConfigurations: [aggregation] },
          'eventDataStore',
        ),
      { name: 'InvalidParameterCombinationException', message: /trails only; remove them/ },
    );
  });

  test('rejects bad context key selectors with InvalidParameterException', () => {
    const apply = (ContextKeySelectors: ContextKeySelector[]) =>
      applyEventConfiguration(large([]), { ContextKeySelectors }, 'eventDataStore');
    const keys = (n: number, length = 4) => Array.from({ length: n }, (_, i) => `${i}`.padStart(length, 'k'));
    apply([{ Type: 'TagContext', Equals: keys(50) }]);
    apply([{ Type: 'TagContext', Equals: keys(1, 128) }]);
    const cases: [ContextKeySelector[], RegExp][] = [
      [[tagKeys, requestKeys, tagKeys], /at most 2 context key selectors/],
      [[tagKeys, { Type: 'TagContext', Equals: ['other'] }], /Type can appear only once/],
      [[{ Type: 'TagContext', Equals: [] }], /Equals must list 1 to 50 keys/],
      [[{ Type: 'TagContext', Equals: keys(51) }], /Equals must list 1 to 50 keys/],
      [[{ Type: 'TagContext', Equals: keys(1, 129) }], /1 to 128 characters/],
      [[{ Type: 'Headers' as 'TagContext', Equals: ['x'] }], /Type must be TagContext or RequestContext/],
    ];
    for (const [selectors, message] of cases) {
      assert.throws(() => apply(selectors), { name: 'InvalidParameterException', message });
    }
  });
});

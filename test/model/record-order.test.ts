import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inRecordOrder, RECORD_MEMBER_ORDER } from '../../src/model/record.ts';

describe('inRecordOrder', () => {
  const ordered = {
    eventVersion: '1.11',
    userIdentity: { type: 'IAMUser' },
    eventTime: '2026-12-07T10:00:00Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'ListBuckets',
    awsRegion: 'us-east-1',
    requestParameters: null,
    responseElements: null,
    eventID: 'e1',
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    sessionCredentialFromConsole: 'true',
  };

  it('returns a record already in AWS order as it is', () => {
    assert.equal(inRecordOrder(ordered), ordered);
  });

  it("puts members in AWS's order, the others after them as they came, with absent parameters null", () => {
    const { requestParameters: _, responseElements: __, eventVersion, eventCategory, ...bare } = ordered;
    const shuffled = { extra: 1, eventCategory, ...bare, eventVersion };
    const out = inRecordOrder(shuffled);
    assert.notEqual(out, shuffled);
    const known = RECORD_MEMBER_ORDER.filter((m) => m in ordered);
    assert.deepEqual(Object.keys(out), [...known, 'extra', 'sessionCredentialFromConsole']);
    assert.equal(out['requestParameters'], null);
  });

  it('reorders a record with one of its members after a member of its own', () => {
    const { eventName, ...rest } = ordered;
    const late = inRecordOrder({ ...rest, eventName });
    assert.deepEqual(Object.keys(late).slice(3, 6), ['eventSource', 'eventName', 'awsRegion']);
  });
});

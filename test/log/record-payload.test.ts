import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodePayload,
  hasExtraMembers,
  headerCategory,
  mayHaveExtraMembers,
  readHeader,
  recordBytes,
} from '../../src/log/record-payload.ts';

function payload(record: Record<string, unknown>): Buffer {
  return encodePayload(record, JSON.stringify(record));
}

describe('record payloads', () => {
  const record = {
    eventVersion: '1.11',
    eventTime: '2026-12-06T04:00:00Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    awsRegion: 'eu-west-1',
    eventCategory: 'Data',
    requestParameters: { bucketName: 'b', key: 'k', other: 1 },
  };

  it('carries the record unchanged after its routing header', () => {
    const p = payload(record);
    assert.equal(recordBytes(p).toString('utf8'), JSON.stringify(record));
    assert.deepEqual(readHeader(p).requestParameters, { bucketName: 'b', key: 'k' });
  });

  it('reads the category in place, and through the parser when it is not first or escaped', () => {
    assert.equal(headerCategory(payload(record)), 'Data');
    assert.equal(headerCategory(payload({ ...record, eventCategory: 'Management' })), 'Management');
    // A category with an escape, or none at all, still comes out as the parser reads it.
    assert.equal(headerCategory(payload({ ...record, eventCategory: 'Da"ta' })), 'Da"ta');
    const { eventCategory: _, ...uncategorised } = record;
    assert.equal(headerCategory(payload(uncategorised)), undefined);
    // Bare records (the format before headers) carry no header to read.
    assert.equal(headerCategory(Buffer.from(JSON.stringify(record))), undefined);
  });

  it('marks records with members beyond the known ones', () => {
    assert.equal(hasExtraMembers(record), false);
    assert.equal(mayHaveExtraMembers(payload(record)), false);
    assert.equal(mayHaveExtraMembers(payload({ ...record, sessionCredentialFromConsole: 'true' })), true);
    assert.equal(mayHaveExtraMembers(Buffer.from(JSON.stringify(record))), true);
  });
});

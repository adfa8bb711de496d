import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildConsoleSignInRecord, buildServiceEventRecord } from '../../src/capture/service-records.ts';
import { userPrincipal } from '../../src/identity/principal.ts';
import { realLogs } from '../helpers/real-logs.ts';

type Json = Record<string, unknown>;

/** Real records of one eventType from the invictus-ir dataset (delivered log files). */
function realRecords(eventType: string): Json[] {
  const root = realLogs('invictus-ir__aws_dataset');
  const out: Json[] = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const { Records = [] } = JSON.parse(readFileSync(join(entry.parentPath, entry.name), 'utf8')) as {
      Records?: Json[];
    };
    out.push(...Records.filter((r) => r['eventType'] === eventType));
  }
  return out;
}

/** Member names and the JSON type of each value, in order, members the real record lacks or has by chance left out. */
const shape = (r: Json, skip: readonly string[] = []) =>
  Object.entries(r)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k}:${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`);

describe('records opentrail writes as their own source', () => {
  it('writes a successful console sign-in key for key as AWS does', () => {
    const real = realRecords('AwsConsoleSignIn').find((r) => r['eventName'] === 'ConsoleLogin');
    assert.ok(real, 'the dataset holds a ConsoleLogin');
    const ours = buildConsoleSignInRecord({
      principal: userPrincipal('111122223333', 'alice', 'AIDAEXAMPLE000000001', false),
      success: true,
      loginTo: 'http://127.0.0.1:4790/console/',
      mfaUsed: false,
      sourceIp: '127.0.0.1',
      userAgent: 'Mozilla/5.0',
      region: 'us-east-1',
      timeMs: Date.UTC(2026, 0, 1),
      eventId: 'e1',
    });
    // tlsDetails: opentrail serves plain HTTP.
    assert.deepEqual(shape(ours), shape(real, ['tlsDetails']));
    assert.deepEqual(shape(ours['userIdentity'] as Json), shape(real['userIdentity'] as Json));
    assert.deepEqual(Object.keys(ours['additionalEventData'] as Json), ['LoginTo', 'MobileVersion', 'MFAUsed']);
    assert.deepEqual(ours['responseElements'], { ConsoleLogin: 'Success' });
  });

  it('writes a failed sign-in without the ARN, saying Failure', () => {
    const ours = buildConsoleSignInRecord({
      principal: userPrincipal('111122223333', 'alice', 'AIDAEXAMPLE000000001', false),
      success: false,
      loginTo: 'http://127.0.0.1:4790/console/',
      mfaUsed: false,
      sourceIp: '127.0.0.1',
      region: 'us-east-1',
      timeMs: Date.UTC(2026, 0, 1),
      eventId: 'e2',
    });
    assert.equal((ours['userIdentity'] as Json)['arn'], undefined);
    assert.equal(ours['errorMessage'], 'Failed authentication');
    assert.deepEqual(ours['responseElements'], { ConsoleLogin: 'Failure' });
  });

  it('writes a service event key for key as AWS does', () => {
    const real = realRecords('AwsServiceEvent').find((r) => r['serviceEventDetails'] !== undefined);
    assert.ok(real, 'the dataset holds a service event with details');
    const ours = buildServiceEventRecord({
      service: 'cloudtrail.amazonaws.com',
      eventName: 'DigestKeyRotated',
      accountId: '111122223333',
      region: 'us-east-1',
      timeMs: Date.UTC(2026, 0, 1),
      eventId: 'e3',
      details: { fingerprint: 'abc' },
    });
    assert.deepEqual(shape(ours), shape(real, ['sharedEventID']));
    assert.deepEqual(ours['userIdentity'], { accountId: '111122223333', invokedBy: 'cloudtrail.amazonaws.com' });
  });
});

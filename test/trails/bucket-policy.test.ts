import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyAllowsCloudTrail, wildcardMatch } from '../../src/trails/bucket-policy.ts';

const context = { trailArn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t', accountId: '111122223333' };
const put = (policy: unknown) =>
  policyAllowsCloudTrail(JSON.stringify(policy), 's3:PutObject', 'arn:aws:s3:::b/AWSLogs/111122223333/x', context);
const allow = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: { Service: 'cloudtrail.amazonaws.com' },
  Action: 's3:PutObject',
  Resource: 'arn:aws:s3:::b/AWSLogs/111122223333/*',
  ...extra,
});

describe('bucket policy evaluation for CloudTrail', () => {
  it('accepts the policy AWS documents, with its acl and source conditions', () => {
    assert.equal(
      put({
        Statement: [
          allow({
            Condition: {
              StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': context.trailArn },
            },
          }),
        ],
      }),
      true,
    );
  });

  it('lets an explicit Deny win over an Allow', () => {
    assert.equal(put({ Statement: [allow(), { ...allow(), Effect: 'Deny' }] }), false);
  });

  it('does not count an Allow whose condition names another trail or an unknown key', () => {
    assert.equal(
      put({
        Statement: [
          allow({
            Condition: { StringEquals: { 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:111122223333:trail/other' } },
          }),
        ],
      }),
      false,
    );
    assert.equal(put({ Statement: [allow({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } })] }), false);
    assert.equal(put({ Statement: [allow({ Condition: { IpAddress: { 'aws:SourceIp': '1.2.3.4' } } })] }), false);
  });

  it('matches wildcards in actions and resources and a single statement object', () => {
    assert.equal(put({ Statement: allow({ Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }) }), true);
    assert.equal(put({ Statement: [allow({ Resource: 'arn:aws:s3:::b/AWSLogs/999999999999/*' })] }), false);
  });

  it('refuses a policy that is not JSON or names another principal', () => {
    assert.equal(policyAllowsCloudTrail('not json', 's3:PutObject', 'x', context), false);
    assert.equal(put({ Statement: [allow({ Principal: { Service: 'logs.amazonaws.com' } })] }), false);
  });
});

describe('IAM wildcards', () => {
  it('match * and ? like IAM, and literal characters exactly', () => {
    const cases: [string, string, boolean][] = [
      ['arn:aws:s3:::logs/*', 'arn:aws:s3:::logs/AWSLogs/1/x', true],
      ['arn:aws:s3:::logs/*', 'arn:aws:s3:::logs', false],
      ['*', '', true],
      ['', '', true],
      ['', 'a', false],
      ['a?c', 'abc', true],
      ['a?c', 'ac', false],
      ['*b*', 'aaabaaa', true],
      ['*b*b', 'abab', true],
      ['*b*b', 'abba', false],
      ['a.c', 'abc', false],
      ['(x)+', '(x)+', true],
      ['s3:*Object', 's3:PutObject', true],
      ['**', 'anything', true],
    ];
    for (const [pattern, value, expected] of cases) {
      assert.equal(wildcardMatch(pattern, value), expected, `${pattern} ~ ${value}`);
    }
  });

  it('answers at once for patterns that make a regular expression backtrack for minutes', () => {
    const pattern = `${'*a'.repeat(30)}*b`;
    const value = 'a'.repeat(5000);
    const started = performance.now();
    assert.equal(wildcardMatch(pattern, value), false);
    const policy = JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: pattern },
        { Effect: 'Allow', Principal: '*', Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${'a'.repeat(60)}` },
      ],
    });
    assert.equal(
      policyAllowsCloudTrail(policy, 's3:PutObject', `arn:aws:s3:::${value}`, {
        trailArn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t',
        accountId: '111122223333',
      }),
      false,
    );
    assert.ok(performance.now() - started < 1000, `${performance.now() - started} ms`);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  mergeTags,
  normaliseKmsKeyId,
  normaliseSnsTopic,
  parseTrailArn,
  parseTrailNameOrArn,
  removeTags,
  type Tag,
  trailArn,
  validateBucketName,
  validateCloudWatchLogs,
  validateS3KeyPrefix,
  validateTagKey,
  validateTags,
  validateTrailName,
} from '../../src/trails/trail-rules.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

describe('validateTrailName', () => {
  test('accepts names of exactly 3 and 128 characters', () => {
    validateTrailName('abc');
    validateTrailName('a'.repeat(128));
  });

  test('accepts letters, digits and single separators', () => {
    validateTrailName('My_Trail.v2-prod');
  });

  test('rejects a 2-character name with InvalidTrailNameException giving the minimum', () => {
    assert.throws(() => validateTrailName('ab'), {
      name: 'InvalidTrailNameException',
      message: 'Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters.',
    });
  });

  test('rejects a 129-character name with InvalidTrailNameException giving the maximum', () => {
    assert.throws(() => validateTrailName('a'.repeat(129)), {
      name: 'InvalidTrailNameException',
      message: /too long\. Maximum allowed length: 128 characters\. Specified name length: 129/,
    });
  });

  test('rejects a name starting with a separator with InvalidTrailNameException', () => {
    for (const name of ['-trail', '_trail', '.trail']) {
      assert.throws(() => validateTrailName(name), {
        name: 'InvalidTrailNameException',
        message: /must starts with a letter or number/,
      });
    }
  });

  test('rejects a name ending with a separator with InvalidTrailNameException', () => {
    assert.throws(() => validateTrailName('trail-'), {
      name: 'InvalidTrailNameException',
      message: /must ends with a letter or number/,
    });
  });

  test('rejects a name with a space or a non-ASCII letter with InvalidTrailNameException', () => {
    for (const name of ['my trail', 'trâil', 'trail/x']) {
      assert.throws(() => validateTrailName(name), {
        name: 'InvalidTrailNameException',
        message: /can only contain uppercase letters, lowercase letters, numbers, periods/,
      });
    }
  });

  test('rejects a trail name with adjacent separators with InvalidTrailNameException', () => {
    for (const name of ['my-_namespace', 'my--namespace', 'a..b', 'a._b']) {
      assert.throws(() => validateTrailName(name), {
        name: 'InvalidTrailNameException',
        message: /must not have adjacent periods/,
      });
    }
  });

  test('rejects a name in IP address format with InvalidTrailNameException', () => {
    assert.throws(() => validateTrailName('192.168.5.4'), {
      name: 'InvalidTrailNameException',
      message: /IP address format/,
    });
  });
});

describe('trail ARNs', () => {
  test('parses a trail ARN into partition, region, account and name', () => {
    assert.deepEqual(parseTrailArn('arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail'), {
      partition: 'aws',
      region: 'us-east-2',
      accountId: '123456789012',
      name: 'MyTrail',
    });
    assert.equal(parseTrailArn('arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/t1').partition, 'aws-cn');
  });

  test('rejects malformed trail ARNs with CloudTrailARNInvalidException naming the format', () => {
    for (const arn of [
      'arn:aws:cloudtrail:us-east-2:12345:trail/MyTrail',
      'arn:aws:s3:us-east-2:123456789012:trail/MyTrail',
      'arn:aws:cloudtrail:us-east-2:123456789012:MyTrail',
      'arn:aws:cloudtrail:us-east-2:123456789012:trail/',
      'arn:aws:cloudtrail:us-east-2:123456789012:eventdatastore/abc',
    ]) {
      assert.throws(() => parseTrailArn(arn), {
        name: 'CloudTrailARNInvalidException',
        message: /arn:aws:cloudtrail:<region>:<12-digit account id>:trail\/<trail name>/,
      });
    }
  });

  test('reads a value starting with arn: as an ARN and anything else as a name', () => {
    assert.deepEqual(parseTrailNameOrArn('arn:aws:cloudtrail:us-east-1:123456789012:trail/t1'), {
      kind: 'arn',
      partition: 'aws',
      region: 'us-east-1',
      accountId: '123456789012',
      name: 't1',
    });
    assert.deepEqual(parseTrailNameOrArn('my-trail'), { kind: 'name', name: 'my-trail' });
  });

  test('rejects a malformed ARN given as name-or-ARN with CloudTrailARNInvalidException', () => {
    assert.throws(() => parseTrailNameOrArn('arn:aws:cloudtrail:us-east-1'), { name: 'CloudTrailARNInvalidException' });
  });

  test('rejects an invalid name given as name-or-ARN with InvalidTrailNameException', () => {
    assert.throws(() => parseTrailNameOrArn('a--b'), { name: 'InvalidTrailNameException' });
  });

  test('builds the trail ARN of a region, account and name', () => {
    assert.equal(trailArn(REGION, ACCOUNT, 'MyTrail'), 'arn:aws:cloudtrail:us-east-1:123456789012:trail/MyTrail');
  });
});

describe('validateBucketName', () => {
  test('accepts DNS-style names of 3 and 63 characters', () => {
    validateBucketName('abc');
    validateBucketName('a'.repeat(63));
    validateBucketName('my-bucket.logs2');
  });

  test('rejects names shorter than 3 or longer than 63 with InvalidS3BucketNameException', () => {
    for (const name of ['ab', 'a'.repeat(64)]) {
      assert.throws(() => validateBucketName(name), {
        name: 'InvalidS3BucketNameException',
        message: /between 3 and 63 characters/,
      });
    }
  });

  test('rejects upper-case letters and underscores with InvalidS3BucketNameException', () => {
    for (const name of ['MyBucket', 'my_bucket']) {
      assert.throws(() => validateBucketName(name), {
        name: 'InvalidS3BucketNameException',
        message: /only lower-case letters, numbers, periods \(\.\), and hyphens/,
      });
    }
  });

  test('rejects a name starting or ending with a hyphen or period with InvalidS3BucketNameException', () => {
    for (const name of ['-bucket', 'bucket-', '.bucket', 'bucket.']) {
      assert.throws(() => validateBucketName(name), {
        name: 'InvalidS3BucketNameException',
        message: /begin and end with a letter or number/,
      });
    }
  });

  test('rejects adjacent periods and a hyphen next to a period with InvalidS3BucketNameException', () => {
    assert.throws(() => validateBucketName('my..bucket'), {
      name: 'InvalidS3BucketNameException',
      message: /adjacent/,
    });
    for (const name of ['my.-bucket', 'my-.bucket']) {
      assert.throws(() => validateBucketName(name), {
        name: 'InvalidS3BucketNameException',
        message: /hyphen next to a period/,
      });
    }
  });

  test('rejects an IP-formatted name with InvalidS3BucketNameException', () => {
    assert.throws(() => validateBucketName('192.168.5.4'), {
      name: 'InvalidS3BucketNameException',
      message: /IP address/,
    });
  });
});

describe('validateS3KeyPrefix', () => {
  test('accepts prefixes up to 200 characters, empty ones and ones starting with a slash', () => {
    validateS3KeyPrefix('p'.repeat(200));
    validateS3KeyPrefix('');
    validateS3KeyPrefix('/logs/trail');
  });

  test('rejects a 201-character prefix with InvalidS3PrefixException giving the maximum', () => {
    assert.throws(() => validateS3KeyPrefix('p'.repeat(201)), {
      name: 'InvalidS3PrefixException',
      message: /Maximum allowed length: 200 characters\. Specified prefix length: 201/,
    });
  });
});

describe('normaliseSnsTopic', () => {
  test('turns a topic name into the topic ARN of the region and account', () => {
    assert.deepEqual(normaliseSnsTopic('my_topic-1', REGION, ACCOUNT), {
      name: 'my_topic-1',
      arn: 'arn:aws:sns:us-east-1:123456789012:my_topic-1',
    });
  });

  test('keeps a topic ARN and reads the name from it', () => {
    assert.deepEqual(normaliseSnsTopic('arn:aws:sns:eu-west-1:210987654321:alerts', REGION, ACCOUNT), {
      name: 'alerts',
      arn: 'arn:aws:sns:eu-west-1:210987654321:alerts',
    });
  });

  test('accepts a 256-character topic name', () => {
    assert.equal(normaliseSnsTopic('t'.repeat(256), REGION, ACCOUNT).name.length, 256);
  });

  test('rejects bad topic names and ARNs with InvalidSnsTopicNameException', () => {
    for (const value of ['my topic', 't'.repeat(257), 'arn:aws:sns:us-east-1:123:topic', 'topic.fifo', '']) {
      assert.throws(() => normaliseSnsTopic(value, REGION, ACCOUNT), {
        name: 'InvalidSnsTopicNameException',
        message: /Specify a topic name of 1 to 256 letters/,
      });
    }
  });
});

describe('normaliseKmsKeyId', () => {
  const uuid = '12345678-1234-1234-1234-123456789012';

  test('turns a key id into the key ARN of the region and account', () => {
    assert.equal(normaliseKmsKeyId(uuid, REGION, ACCOUNT), `arn:aws:kms:us-east-1:123456789012:key/${uuid}`);
    const mrk = `mrk-${'a'.repeat(32)}`;
    assert.equal(normaliseKmsKeyId(mrk, REGION, ACCOUNT), `arn:aws:kms:us-east-1:123456789012:key/${mrk}`);
  });

  test('turns an alias name into the alias ARN', () => {
    assert.equal(
      normaliseKmsKeyId('alias/MyAlias', REGION, ACCOUNT),
      'arn:aws:kms:us-east-1:123456789012:alias/MyAlias',
    );
  });

  test('keeps key ARNs and alias ARNs as given', () => {
    for (const arn of [
      `arn:aws:kms:us-east-2:123456789012:key/${uuid}`,
      'arn:aws:kms:us-east-2:123456789012:alias/MyAliasName',
    ]) {
      assert.equal(normaliseKmsKeyId(arn, REGION, ACCOUNT), arn);
    }
  });

  test('rejects anything else with InvalidKmsKeyIdException listing the accepted forms', () => {
    for (const value of ['not-a-key', 'alias/', 'MyAlias', `arn:aws:kms:us-east-2:123456789012:key/nope`]) {
      assert.throws(() => normaliseKmsKeyId(value, REGION, ACCOUNT), {
        name: 'InvalidKmsKeyIdException',
        message: /key ID .*key ARN, an alias name prefixed by alias\/, or an alias ARN/,
      });
    }
  });
});

describe('validateCloudWatchLogs', () => {
  const group = 'arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*';
  const role = 'arn:aws:iam::123456789012:role/service/CloudTrail_CloudWatchLogs_Role';

  test('accepts a log group ARN with its role, and neither', () => {
    validateCloudWatchLogs(group, role);
    validateCloudWatchLogs();
    validateCloudWatchLogs('', '');
  });

  test('rejects a log group ARN without the :* suffix with InvalidCloudWatchLogsLogGroupArnException', () => {
    assert.throws(() => validateCloudWatchLogs(group.slice(0, -2), role), {
      name: 'InvalidCloudWatchLogsLogGroupArnException',
      message: /log-group:<log group name>:\*/,
    });
  });

  test('rejects a role ARN that is not an IAM role with InvalidCloudWatchLogsRoleArnException', () => {
    assert.throws(() => validateCloudWatchLogs(group, 'arn:aws:iam::123456789012:user/bob'), {
      name: 'InvalidCloudWatchLogsRoleArnException',
      message: /arn:aws:iam::<account id>:role\/<role name>/,
    });
  });

  test('rejects a log group without a role with InvalidCloudWatchLogsRoleArnException', () => {
    assert.throws(() => validateCloudWatchLogs(group), {
      name: 'InvalidCloudWatchLogsRoleArnException',
      message: /without a role: also specify CloudWatchLogsRoleArn/,
    });
  });

  test('rejects a role without a log group with InvalidCloudWatchLogsLogGroupArnException', () => {
    assert.throws(() => validateCloudWatchLogs(undefined, role), {
      name: 'InvalidCloudWatchLogsLogGroupArnException',
      message: /without a log group: also specify CloudWatchLogsLogGroupArn/,
    });
  });
});

describe('tags', () => {
  const tags = (n: number, prefix = 'k'): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}` }));

  test('accepts 50 tags and keys of 128 and values of 256 characters', () => {
    validateTags(tags(50));
    validateTags([{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }]);
  });

  test('accepts Unicode letters, spaces and the allowed symbols', () => {
    validateTags([{ Key: 'Größe büro', Value: 'a_b.c:d/e=f+g-h@i' }]);
  });

  test('rejects a 51st tag with TagsLimitExceededException', () => {
    assert.throws(() => validateTags(tags(51)), {
      name: 'TagsLimitExceededException',
      message: /51 tags; the limit is 50/,
    });
    assert.throws(() => validateTags(tags(2, 'new'), tags(49)), { name: 'TagsLimitExceededException' });
  });

  test('counts an overwritten key once against the limit', () => {
    validateTags([{ Key: 'k0', Value: 'new' }], tags(50));
  });

  test('rejects an empty or 129-character key with InvalidTagParameterException', () => {
    for (const Key of ['', 'k'.repeat(129)]) {
      assert.throws(() => validateTags([{ Key }]), {
        name: 'InvalidTagParameterException',
        message: /between 1 and 128 characters/,
      });
    }
  });

  test('rejects a 257-character value with InvalidTagParameterException', () => {
    assert.throws(() => validateTags([{ Key: 'k', Value: 'v'.repeat(257) }]), {
      name: 'InvalidTagParameterException',
      message: /at most 256 characters/,
    });
  });

  test('rejects keys starting with aws: in any case with InvalidTagParameterException', () => {
    for (const Key of ['aws:cloudformation:stack', 'AWS:x']) {
      assert.throws(() => validateTagKey(Key), { name: 'InvalidTagParameterException', message: /reserved/ });
    }
  });

  test('rejects a key or value with disallowed characters with InvalidTagParameterException', () => {
    assert.throws(() => validateTags([{ Key: 'a#b' }]), {
      name: 'InvalidTagParameterException',
      message: /not allowed/,
    });
    assert.throws(() => validateTags([{ Key: 'a', Value: 'x*y' }]), {
      name: 'InvalidTagParameterException',
      message: /not allowed/,
    });
  });

  test('rejects a key repeated in one request with InvalidTagParameterException', () => {
    assert.throws(
      () =>
        validateTags([
          { Key: 'a', Value: '1' },
          { Key: 'a', Value: '2' },
        ]),
      {
        name: 'InvalidTagParameterException',
        message: /more than once/,
      },
    );
  });

  test('merges added tags over existing ones, keeping order and appending new keys', () => {
    const existing: Tag[] = [
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '2' },
    ];
    assert.deepEqual(mergeTags(existing, [{ Key: 'b', Value: '3' }, { Key: 'c' }]), [
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '3' },
      { Key: 'c' },
    ]);
    assert.deepEqual(existing[1], { Key: 'b', Value: '2' });
  });

  test('removes tags by key, and by key and value only when the value matches', () => {
    const existing: Tag[] = [
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '2' },
      { Key: 'c', Value: '3' },
    ];
    assert.deepEqual(removeTags(existing, [{ Key: 'a' }, { Key: 'b', Value: 'other' }, { Key: 'c', Value: '3' }]), [
      { Key: 'b', Value: '2' },
    ]);
    assert.equal(existing.length, 3);
  });
});

import assert from 'node:assert/strict';
import { constants, createPublicKey, verify } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  CancelQueryCommand,
  type CloudTrailClient,
  CreateEventDataStoreCommand,
  CreateTrailCommand,
  DescribeQueryCommand,
  type DescribeQueryCommandOutput,
  GetQueryResultsCommand,
  ListPublicKeysCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  createObjectStore,
  LocalObjectStore,
  type ObjectStore,
  ObjectStoreError,
  type PutObjectInput,
} from '../../src/objectstore/index.ts';
import { Database } from '../../src/store/database.ts';
import { sha256Hex } from '../../src/trails/index.ts';
import { awsCli } from '../helpers/aws-cli.ts';
import { FIXED_ADMIN } from '../helpers/child-server.ts';
import { runawayQuery } from '../helpers/lake.ts';
import { useMoto } from '../helpers/moto.ts';
import { managementRecord } from '../helpers/records.ts';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';

/**
 * StartQuery's DeliveryS3Uri (facts §8.2, §5.8): a finished query's every row lands as gzipped CSV under
 * `[prefix/]AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<QueryId>/`, with a `result_sign.json`
 * that verifies with the key ListPublicKeys lists.
 */

const USERS = ['alice', 'bob', 'carol'];
const NAMES = ['RunInstances', 'StopInstances', 'DescribeInstances', 'TerminateInstances'];
/** A value CSV has to quote: a quote, a comma and a line break. */
const AWKWARD = 'He said "no", then\nleft';
const yesterday = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);

/** Event i: id `evt-i`, by USERS[i % 3], named NAMES[i % 4], with AWKWARD as its errorMessage when i % 5 === 0. */
function records(account: string, n: number) {
  return Array.from({ length: n }, (_, i) =>
    managementRecord(account, {
      eventID: `evt-${i}`,
      userIdentity: {
        type: 'IAMUser',
        arn: `arn:aws:iam::${account}:user/${USERS[i % 3]}`,
        accountId: account,
        userName: USERS[i % 3],
      },
      eventTime: `${yesterday}T10:00:00Z`,
      eventName: NAMES[i % 4],
      ...(i % 5 === 0 ? { errorCode: 'AccessDenied', errorMessage: AWKWARD } : {}),
    }),
  );
}

async function storeWithEvents(w: TestWorld, ct: CloudTrailClient, n: number): Promise<{ id: string; arn: string }> {
  const made = await ct.send(new CreateEventDataStoreCommand({ Name: `d-${Math.random().toString(36).slice(2, 8)}` }));
  const arn = made.EventDataStoreArn as string;
  if (n > 0) {
    const account = arn.split(':')[4] as string;
    const answer = await w.ingestApi().call<{ Failed: unknown[] }>('PutRecords', { Records: records(account, n) });
    assert.deepEqual(answer.Failed, []);
  }
  await w.app.lakeCaughtUp();
  return { id: arn.split('/').pop() as string, arn };
}

/** Polls DescribeQuery until the query and its delivery are both settled. */
async function delivered(ct: CloudTrailClient, QueryId: string): Promise<DescribeQueryCommandOutput> {
  for (;;) {
    const d = await ct.send(new DescribeQueryCommand({ QueryId }));
    const running = d.QueryStatus === 'QUEUED' || d.QueryStatus === 'RUNNING';
    if (!running && d.DeliveryStatus !== 'PENDING') return d;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** RFC 4180 records of a CSV text. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += text[++i];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') [row, field] = [[...row, field], ''];
    else if (c === '\r' && text[i + 1] === '\n') {
      rows.push([...row, field]);
      [row, field] = [[], ''];
      i++;
    } else field += c;
  }
  assert.equal(row.length + field.length, 0, 'the CSV ends with a complete record');
  return rows;
}

interface SignFile {
  version: string;
  region: string;
  files: { fileHashValue: string; fileName: string }[];
  hashAlgorithm: string;
  signatureAlgorithm: string;
  queryCompleteTime: string;
  hashSignature: string;
  publicKeyFingerprint: string;
}

/**
 * Reads a delivered query's folder through `read`: checks the key layout, each file's hash and the signature
 * (with the key ListPublicKeys lists around queryCompleteTime), and returns the CSV records (one header each).
 */
async function readDelivery(
  ct: CloudTrailClient,
  folder: string,
  keys: string[],
  read: (key: string) => Promise<Buffer>,
): Promise<{ header: string[]; rows: string[][]; sign: SignFile; sizes: number[] }> {
  const sign = JSON.parse((await read(`${folder}result_sign.json`)).toString('utf8')) as SignFile;
  assert.deepEqual(Object.keys(sign), [
    'version',
    'region',
    'files',
    'hashAlgorithm',
    'signatureAlgorithm',
    'queryCompleteTime',
    'hashSignature',
    'publicKeyFingerprint',
  ]);
  assert.equal(sign.version, '1.0');
  assert.equal(sign.region, 'us-east-1');
  assert.equal(sign.hashAlgorithm, 'SHA-256');
  assert.equal(sign.signatureAlgorithm, 'SHA256withRSA');
  assert.match(sign.queryCompleteTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(
    sign.files.map((f) => f.fileName),
    sign.files.map((_, i) => `result_${i + 1}.csv.gz`),
  );
  assert.deepEqual(
    keys.sort(),
    [...sign.files.map((f) => `${folder}${f.fileName}`), `${folder}result_sign.json`].sort(),
  );

  const completed = Date.parse(sign.queryCompleteTime);
  const { PublicKeyList = [] } = await ct.send(
    new ListPublicKeysCommand({ StartTime: new Date(completed - 3600_000), EndTime: new Date(completed + 3600_000) }),
  );
  const publicKey = PublicKeyList.find((k) => k.Fingerprint === sign.publicKeyFingerprint);
  assert.ok(publicKey?.Value, 'ListPublicKeys lists the key that signed the results');
  const key = createPublicKey({ key: Buffer.from(publicKey.Value), format: 'der', type: 'pkcs1' });
  const signed = Buffer.from(sign.files.map((f) => f.fileHashValue).join(' '), 'utf8');
  const signature = Buffer.from(sign.hashSignature, 'hex');
  assert.ok(verify('sha256', signed, { key, padding: constants.RSA_PKCS1_PADDING }, signature), 'the signature holds');

  let header: string[] | undefined;
  const rows: string[][] = [];
  const sizes: number[] = [];
  for (const f of sign.files) {
    const body = await read(`${folder}${f.fileName}`);
    assert.equal(sha256Hex(body), f.fileHashValue, `${f.fileName} has the hash the sign file holds`);
    const csv = gunzipSync(body);
    sizes.push(csv.length);
    const [first, ...rest] = parseCsv(csv.toString('utf8'));
    assert.ok(first, `${f.fileName} begins with a header`);
    header ??= first;
    assert.deepEqual(first, header);
    rows.push(...rest);
  }
  return { header: header ?? [], rows, sign, sizes };
}

function folderOf(prefix: string, account: string, queryId: string, sign: { queryCompleteTime: string }) {
  const day = sign.queryCompleteTime.slice(0, 10).replaceAll('-', '/');
  return `${prefix}AWSLogs/${account}/CloudTrail-Lake/Query/${day}/${queryId}/`;
}

/** The local store as a user sees it: the bucket folders under the data directory. */
function localReader(w: TestWorld, bucket: string) {
  const store = new LocalObjectStore({ dataDir: w.dataDir });
  return {
    keys: async (prefix: string) => (await store.listObjects(bucket, { prefix })).objects.map((o) => o.key),
    read: async (key: string) => Buffer.from((await store.getObject(bucket, key)).body),
  };
}

/** A local store whose writes pass `beforePut` first: to hold a delivery back, or to fail it. */
function hookedStore(dataDir: string, beforePut: (input: PutObjectInput) => Promise<void>): ObjectStore {
  const inner = createObjectStore({ dataDir });
  return {
    kind: inner.kind,
    bucketExists: (b) => inner.bucketExists(b),
    createBucket: (b, owner) => inner.createBucket(b, owner),
    bucketOwner: (b) => inner.bucketOwner(b),
    ownedBuckets: (owner) => inner.ownedBuckets(owner),
    putObject: async (input) => {
      await beforePut(input);
      await inner.putObject(input);
    },
    getObject: (b, k) => inner.getObject(b, k),
    headObject: (b, k) => inner.headObject(b, k),
    deleteObject: (b, k) => inner.deleteObject(b, k),
    listObjects: (b, o) => inner.listObjects(b, o),
    getBucketPolicy: (b) => inner.getBucketPolicy(b),
    close: () => inner.close(),
  };
}

/** The User Guide's bucket policy for Lake query results, for the given stores. */
function lakeResultsPolicy(bucket: string, storeArns: string[]) {
  const condition = { StringEquals: { 'AWS:SourceArn': storeArns } };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailLake1',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: ['s3:PutObject*', 's3:Abort*'],
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: condition,
      },
      {
        Sid: 'AWSCloudTrailLake2',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: condition,
      },
    ],
  };
}

describe('Lake query results delivered to S3', () => {
  it('writes every row of a large result to the local store as signed gzip CSV files, split by size', async () => {
    // 240 events joined on eventName: 4 names × 60 × 60 = 14,400 rows, past the 10,000 kept in memory.
    await withServer(
      async (w) => {
        const ct = w.cloudtrail();
        const account = w.app.admin.accountId;
        const { id } = await storeWithEvents(w, ct, 240);
        // On the local store a trail claims its bucket for its account.
        await ct.send(new CreateTrailCommand({ Name: 'claims', S3BucketName: 'lake-results' }));
        const { QueryId } = await ct.send(
          new StartQueryCommand({
            QueryStatement: `SELECT a.eventID, b.eventID AS other, a.eventName, b.userIdentity.userName, a.errorMessage
              FROM ${id} a JOIN ${id} b ON a.eventName = b.eventName
              WHERE a.eventName IN ('${NAMES.join("', '")}')`,
            DeliveryS3Uri: 's3://lake-results/team/queries/',
          }),
        );
        const done = await delivered(ct, QueryId as string);
        assert.equal(done.QueryStatus, 'FINISHED', done.ErrorMessage);
        assert.equal(done.DeliveryStatus, 'SUCCESS');
        assert.equal(done.DeliveryS3Uri, 's3://lake-results/team/queries/');

        const local = localReader(w, 'lake-results');
        const signKey = (await local.keys('team/queries/AWSLogs/')).find((k) => k.endsWith('/result_sign.json'));
        assert.ok(signKey, 'the sign file is in the bucket');
        const sign = JSON.parse((await local.read(signKey)).toString('utf8')) as SignFile;
        const folder = folderOf('team/queries/', account, QueryId as string, sign);
        const got = await readDelivery(ct, folder, await local.keys(folder), local.read);
        assert.ok(got.sign.files.length >= 3, `split into ${got.sign.files.length} files`);
        assert.ok(
          got.sizes.every((n) => n <= 256 * 1024),
          `each at most 256 KiB of CSV: ${got.sizes.join(', ')}`,
        );
        assert.deepEqual(got.header, ['eventID', 'other', 'eventName', 'userName', 'errorMessage']);

        // Every row, computed here from the rule the events were made by.
        const expected: string[] = [];
        for (let i = 0; i < 240; i++) {
          for (let j = i % 4; j < 240; j += 4) {
            const message = i % 5 === 0 ? AWKWARD : '';
            expected.push(JSON.stringify([`evt-${i}`, `evt-${j}`, NAMES[i % 4], USERS[j % 3], message]));
          }
        }
        assert.equal(got.rows.length, 14_400);
        assert.deepEqual(got.rows.map((r) => JSON.stringify(r)).sort(), expected.sort());
        // The same rows as GetQueryResults reads.
        const page = await ct.send(new GetQueryResultsCommand({ QueryId, MaxQueryResults: 3 }));
        assert.equal(page.QueryStatistics?.TotalResultsCount, 14_400);
      },
      { deps: { lakeResultFileBytes: 256 * 1024 } },
    );
  });

  it('shows DeliveryStatus PENDING while the files are written, then SUCCESS, and a bucket gone or denied as AWS does', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-delivery-'));
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const objectStore = hookedStore(dataDir, async (input) => {
      if (input.bucket === 'held') await held;
      if (input.bucket === 'gone') throw new ObjectStoreError('NoSuchBucket', 'The specified bucket does not exist');
      if (input.bucket === 'denied') throw new ObjectStoreError('AccessDenied', 'Access Denied');
      if (input.bucket === 'unsigned' && input.key.endsWith('result_sign.json')) {
        throw new ObjectStoreError('AccessDenied', 'Access Denied');
      }
    });
    try {
      await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          const { id } = await storeWithEvents(w, ct, 12);
          for (const bucket of ['held', 'gone', 'denied', 'unsigned']) await objectStore.createBucket(bucket);
          const start = async (DeliveryS3Uri: string) =>
            (
              await ct.send(
                new StartQueryCommand({
                  QueryStatement: `SELECT eventName, count(*) AS calls FROM ${id} WHERE eventName IN ('${NAMES.join("', '")}') GROUP BY eventName`,
                  DeliveryS3Uri,
                }),
              )
            ).QueryId as string;

          const heldId = await start('s3://held');
          let d: DescribeQueryCommandOutput;
          for (;;) {
            d = await ct.send(new DescribeQueryCommand({ QueryId: heldId }));
            if (d.QueryStatus === 'FINISHED') break;
            await new Promise((r) => setTimeout(r, 20));
          }
          assert.equal(d.DeliveryStatus, 'PENDING', 'finished, its files still being written');
          release();
          assert.equal((await delivered(ct, heldId)).DeliveryStatus, 'SUCCESS');
          const local = localReader(w, 'held');
          assert.equal((await local.keys('AWSLogs/')).length, 2, 'result_1.csv.gz and result_sign.json');

          assert.equal((await delivered(ct, await start('s3://gone'))).DeliveryStatus, 'RESOURCE_NOT_FOUND');
          assert.equal((await delivered(ct, await start('s3://denied'))).DeliveryStatus, 'ACCESS_DENIED');
          assert.equal(
            (await delivered(ct, await start('s3://unsigned'))).DeliveryStatus,
            'ACCESS_DENIED_SIGNING_FILE',
          );

          // A cancelled query is not delivered.
          const slow = await ct.send(
            new StartQueryCommand({
              QueryStatement: runawayQuery(id, 8),
              DeliveryS3Uri: 's3://held/cancelled',
            }),
          );
          await ct.send(new CancelQueryCommand({ QueryId: slow.QueryId }));
          const cancelled = await delivered(ct, slow.QueryId as string);
          assert.equal(cancelled.QueryStatus, 'CANCELLED');
          assert.equal(cancelled.DeliveryStatus, 'CANCELLED');
          assert.deepEqual(await local.keys('cancelled/'), []);
        },
        { dataDir, deps: { objectStore } },
      );
    } finally {
      release();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('delivers again, to the same keys and bytes, a finished query whose delivery a crash interrupted', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-redelivery-'));
    const bucketDir = join(dataDir, 'buckets', 'redelivered');
    try {
      const first = await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          const { id } = await storeWithEvents(w, ct, 12);
          await ct.send(new CreateTrailCommand({ Name: 'claims', S3BucketName: 'redelivered' }));
          const { QueryId } = await ct.send(
            new StartQueryCommand({
              QueryStatement: `SELECT eventID, eventName FROM ${id} WHERE eventName IN ('${NAMES.join("', '")}')`,
              DeliveryS3Uri: 's3://redelivered',
            }),
          );
          assert.equal((await delivered(ct, QueryId as string)).DeliveryStatus, 'SUCCESS');
          const local = localReader(w, 'redelivered');
          const keys = await local.keys('AWSLogs/');
          return {
            queryId: QueryId as string,
            files: await Promise.all(keys.map(async (k) => [k, await local.read(k)])),
          };
        },
        { dataDir, env: FIXED_ADMIN },
      );
      assert.equal(first.files.length, 2, 'result_1.csv.gz and result_sign.json');
      // What a crash during the delivery leaves: the query FINISHED with its rows stored, its delivery PENDING,
      // and none of its files written yet.
      const db = await Database.open(join(dataDir, 'opentrail.duckdb'), Date.now());
      try {
        const conn = await db.connect();
        await conn.raw.run(
          `UPDATE lake_queries SET doc = json_merge_patch(doc, '{"deliveryStatus":"PENDING"}') WHERE query_id = $1`,
          [first.queryId],
        );
      } finally {
        db.close();
      }
      await rm(join(bucketDir, 'AWSLogs'), { recursive: true });

      await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          const d = await delivered(ct, first.queryId);
          assert.equal(d.QueryStatus, 'FINISHED');
          assert.equal(d.DeliveryStatus, 'SUCCESS');
          const local = localReader(w, 'redelivered');
          const again = await Promise.all((await local.keys('AWSLogs/')).map(async (k) => [k, await local.read(k)]));
          assert.deepEqual(again, first.files, 'the same keys and bytes as the first delivery');
        },
        { dataDir, env: FIXED_ADMIN },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a missing bucket, a bad URI and another account’s bucket with AWS’s errors, until its policy allows', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { id } = await storeWithEvents(w, ct, 3);
      const start = (
        DeliveryS3Uri: string,
        client = ct,
        store = id,
        more: { EventDataStoreOwnerAccountId?: string } = {},
      ) =>
        client.send(new StartQueryCommand({ QueryStatement: `SELECT eventID FROM ${store}`, DeliveryS3Uri, ...more }));
      await rejectsWith(start('s3://no-such-bucket/x'), 'S3BucketDoesNotExistException', /no-such-bucket/);
      await rejectsWith(start('https://lake-results/x'), 'ValidationException', /DeliveryS3Uri|s3:/);
      await rejectsWith(start('s3://two..dots'), 'InvalidS3BucketNameException', /adjacent periods/);
      await ct.send(new CreateTrailCommand({ Name: 'claims', S3BucketName: 'admins-bucket' }));
      await rejectsWith(start(`s3://admins-bucket/${'p'.repeat(950)}`), 'InvalidS3PrefixException', /prefix/);
      await rejectsWith(
        start('s3://admins-bucket', ct, id, { EventDataStoreOwnerAccountId: '111122223333' }),
        'UnsupportedOperationException',
      );
      // A bad statement is reported before the bucket is looked at, also one that only binding refuses, filled
      // into the template a statement of its shape left.
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: 'DROP TABLE x', DeliveryS3Uri: 's3://no-such-bucket' })),
        'InvalidQueryStatementException',
      );
      const member = (name: string) => `SELECT count(*) FROM ${id} WHERE userIdentity['${name}'] = 'alice'`;
      await ct.send(new StartQueryCommand({ QueryStatement: member('userName') }));
      await rejectsWith(
        ct.send(
          new StartQueryCommand({ QueryStatement: member('noSuchMember'), DeliveryS3Uri: 's3://no-such-bucket' }),
        ),
        'InvalidQueryStatementException',
        /nosuchmember/i,
      );

      // Another account's bucket takes results only when its policy lets CloudTrail write them, as on AWS.
      const other = await w.newAccount();
      const theirs = w.cloudtrail({ credentials: other.root });
      const store = await storeWithEvents(w, theirs, 0);
      await rejectsWith(
        start('s3://admins-bucket/shared', theirs, store.id),
        'InsufficientS3BucketPolicyException',
        /admins-bucket/,
      );
      await mkdir(join(w.dataDir, 'bucket-policies'), { recursive: true });
      await writeFile(
        join(w.dataDir, 'bucket-policies', 'admins-bucket.json'),
        JSON.stringify(lakeResultsPolicy('admins-bucket', [store.arn])),
      );
      const { QueryId } = await start('s3://admins-bucket/shared', theirs, store.id);
      const done = await delivered(theirs, QueryId as string);
      assert.equal(done.DeliveryStatus, 'SUCCESS');
      const local = localReader(w, 'admins-bucket');
      const keys = await local.keys(`shared/AWSLogs/${other.accountId}/CloudTrail-Lake/Query/`);
      assert.equal(keys.filter((k) => k.includes(QueryId as string)).length, 2);
    });
  });

  it('takes --delivery-s3-uri from the AWS CLI', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const { id } = await storeWithEvents(w, ct, 20);
      await ct.send(new CreateTrailCommand({ Name: 'claims', S3BucketName: 'cli-results' }));
      const cli = (args: string[]) =>
        awsCli(
          ['cloudtrail', ...args, '--endpoint-url', w.url, '--region', 'us-east-1', '--output', 'json'],
          w.adminCredentials,
        );
      const started = await cli([
        'start-query',
        '--query-statement',
        `SELECT userIdentity.userName, count(*) AS calls FROM ${id} WHERE eventName IN ('${NAMES.join("', '")}') GROUP BY userIdentity.userName`,
        '--delivery-s3-uri',
        's3://cli-results/from-cli',
      ]);
      assert.equal(started.code, 0, started.stderr);
      const { QueryId } = JSON.parse(started.stdout) as { QueryId: string };
      await delivered(ct, QueryId);
      const described = await cli(['describe-query', '--query-id', QueryId]);
      assert.equal(described.code, 0, described.stderr);
      const answer = JSON.parse(described.stdout) as { DeliveryS3Uri: string; DeliveryStatus: string };
      assert.equal(answer.DeliveryS3Uri, 's3://cli-results/from-cli');
      assert.equal(answer.DeliveryStatus, 'SUCCESS');

      const local = localReader(w, 'cli-results');
      const signKey = (await local.keys('from-cli/')).find((k) => k.endsWith('sign.json')) as string;
      const sign = JSON.parse((await local.read(signKey)).toString('utf8')) as SignFile;
      const folder = folderOf('from-cli/', w.app.admin.accountId, QueryId, sign);
      const got = await readDelivery(ct, folder, await local.keys(folder), local.read);
      assert.deepEqual(got.header, ['userName', 'calls']);
      const counts = Object.fromEntries(got.rows.map(([user, calls]) => [user, Number(calls)]));
      assert.deepEqual(counts, { alice: 7, bob: 7, carol: 6 });
    });
  });
});

describe('Lake query results delivered to an S3 endpoint', () => {
  const moto = useMoto();

  function withS3Server(fn: (w: TestWorld, s3: S3Client) => Promise<void>): Promise<void> {
    const client = moto.s3();
    return withServer((w) => fn(w, client), {
      env: {
        OPENTRAIL_S3_ENDPOINT: moto.endpoint(),
        OPENTRAIL_S3_ACCESS_KEY_ID: 'test',
        OPENTRAIL_S3_SECRET_ACCESS_KEY: 'test',
      },
    }).finally(() => client.destroy());
  }

  it('writes the results to the bucket when its policy lets CloudTrail, and refuses one without', async () => {
    await withS3Server(async (w, s3) => {
      const ct = w.cloudtrail();
      const account = w.app.admin.accountId;
      const { id, arn } = await storeWithEvents(w, ct, 90);
      const statement = `SELECT eventName, userIdentity.userName, count(*) AS calls FROM ${id}
        WHERE eventName IN ('${NAMES.join("', '")}') GROUP BY eventName, userIdentity.userName`;
      const start = (DeliveryS3Uri: string) =>
        ct.send(new StartQueryCommand({ QueryStatement: statement, DeliveryS3Uri }));

      await rejectsWith(start('s3://not-in-moto'), 'S3BucketDoesNotExistException');
      await s3.send(new CreateBucketCommand({ Bucket: 'no-policy' }));
      await rejectsWith(start('s3://no-policy'), 'InsufficientS3BucketPolicyException');
      await s3.send(new CreateBucketCommand({ Bucket: 'lake-results' }));
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket: 'lake-results',
          Policy: JSON.stringify(lakeResultsPolicy('lake-results', [arn])),
        }),
      );

      const { QueryId } = await start('s3://lake-results/exports');
      const done = await delivered(ct, QueryId as string);
      assert.equal(done.QueryStatus, 'FINISHED', done.ErrorMessage);
      assert.equal(done.DeliveryStatus, 'SUCCESS');

      const keys = async (Prefix: string) =>
        ((await s3.send(new ListObjectsV2Command({ Bucket: 'lake-results', Prefix }))).Contents ?? []).map(
          (o) => o.Key as string,
        );
      const read = async (Key: string) =>
        Buffer.from(
          await ((await s3.send(new GetObjectCommand({ Bucket: 'lake-results', Key }))).Body?.transformToByteArray() ??
            new Uint8Array()),
        );
      const signKey = (await keys('exports/')).find((k) => k.endsWith('result_sign.json')) as string;
      const sign = JSON.parse((await read(signKey)).toString('utf8')) as SignFile;
      const folder = folderOf('exports/', account, QueryId as string, sign);
      const got = await readDelivery(ct, folder, await keys(folder), read);
      assert.deepEqual(got.header, ['eventName', 'userName', 'calls']);

      const expected = new Map<string, number>();
      for (let i = 0; i < 90; i++) {
        const k = `${NAMES[i % 4]}/${USERS[i % 3]}`;
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
      assert.deepEqual(new Map(got.rows.map(([name, user, calls]) => [`${name}/${user}`, Number(calls)])), expected);
    });
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateEventDataStoreCommand, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { lakeQueryRows } from '../helpers/lake.ts';
import { realLogs } from '../helpers/real-logs.ts';
import { managementRecord } from '../helpers/records.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';

/**
 * `opentrail import` reads the shapes people keep CloudTrail records in (the real files under
 * ../shared/data/real-logs) and fills an event data store, each eventID once.
 */
const run = promisify(execFile);
const SOURCES = {
  arrays: realLogs('adanalvarez__TrailDiscover/docs/logExamples'),
  lookupEvents: realLogs('log2timeline__plaso/test_data/jsonl/aws_cloudtrail.jsonl'),
  logstash: realLogs('OTRF__Security-Datasets/datasets/atomic/aws/collection'),
  delivered: realLogs('flosell__trailscraper/tests/cloudtrail/data'),
};

async function opentrail(w: TestWorld, args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/opentrail.js', ...args, '--endpoint-url', w.url], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: w.adminCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: w.adminCredentials.secretAccessKey,
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function store(w: TestWorld): Promise<string> {
  const made = await w
    .cloudtrail()
    .send(new CreateEventDataStoreCommand({ Name: 'from-files', RetentionPeriod: 3653, StartIngestion: false }));
  return (made.EventDataStoreArn as string).split('/').pop() as string;
}

/** Every record of the sources, read here without the module under test. */
async function sourceRecords(): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for (const name of await readdir(SOURCES.arrays)) {
    // Arrays mostly; a few files hold one record.
    const value = JSON.parse(await readFile(join(SOURCES.arrays, name), 'utf8'));
    records.push(...(Array.isArray(value) ? value : [value]));
  }
  for (const line of (await readFile(SOURCES.lookupEvents, 'utf8')).split('\n')) {
    if (line.trim() !== '') records.push(JSON.parse(JSON.parse(line).CloudTrailEvent));
  }
  const [folder] = await readdir(SOURCES.logstash);
  const [ndjson] = await readdir(join(SOURCES.logstash, folder as string));
  for (const line of (await readFile(join(SOURCES.logstash, folder as string, ndjson as string), 'utf8')).split('\n')) {
    if (line.trim() !== '') records.push(JSON.parse(line));
  }
  for (const name of await readdir(SOURCES.delivered)) {
    records.push(...JSON.parse(gunzipSync(await readFile(join(SOURCES.delivered, name))).toString('utf8')).Records);
  }
  return records;
}

describe('opentrail import', () => {
  it('imports JSON arrays, LookupEvents output, Logstash NDJSON and delivered files, each eventID once', async () => {
    const records = await sourceRecords();
    // The one record the sources hold that is not a whole CloudTrail record (no eventVersion, no caller).
    const incomplete = records.filter((r) => r['eventVersion'] === undefined || r['userIdentity'] === undefined);
    assert.equal(incomplete.length, 1);
    const eventIds = new Set(records.filter((r) => !incomplete.includes(r)).map((r) => r['eventID']));
    await withServer(async (w) => {
      const id = await store(w);
      const first = await opentrail(w, ['import', ...Object.values(SOURCES), '--event-data-store', id]);
      assert.equal(first.code, 1, 'a rejected record makes the exit code 1');
      assert.match(
        first.stdout,
        new RegExp(
          `^${eventIds.size} events imported, ${records.length - 1 - eventIds.size} already in the store, 1 records rejected, from 587 file\\(s\\)`,
        ),
      );
      assert.match(
        first.stderr,
        /SendEmail\.json\.cloudtrail: record 1: MissingField: The record has no eventVersion, userIdentity/,
      );
      assert.equal(await w.app.services.eventDataStores.countEvents(id), eventIds.size);

      const again = await opentrail(w, ['import', SOURCES.delivered, SOURCES.lookupEvents, '--event-data-store', id]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^0 events imported, \d+ already in the store, 0 records rejected, from 2 file\(s\)/);
      assert.equal(await w.app.services.eventDataStores.countEvents(id), eventIds.size);

      // Each call is on the record, as StartImport is: the store and counts, never the records themselves.
      await w.historyCaughtUp();
      const calls = await w.cloudtrail().send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ImportRecords' }],
        }),
      );
      assert.ok((calls.Events ?? []).length > 0);
      const recorded = JSON.parse(calls.Events?.[0]?.CloudTrailEvent as string);
      assert.equal(recorded.eventSource, 'ingest.opentrail.local');
      assert.equal(recorded.requestParameters.eventDataStore, id);
      assert.equal(typeof recorded.requestParameters.records, 'number');
      assert.deepEqual(Object.keys(recorded.responseElements).sort(), ['duplicates', 'failed', 'imported']);

      // Logstash's @timestamp became the eventTime.
      const logstash = records.find((r) => r['@timestamp'] !== undefined) as Record<string, unknown>;
      const rows = await lakeQueryRows(
        w.cloudtrail(),
        `SELECT eventTime FROM ${id} WHERE eventID = '${logstash['eventID']}'`,
      );
      const expected = new Date(Date.parse(logstash['@timestamp'] as string))
        .toISOString()
        .slice(0, 19)
        .replace('T', ' ');
      assert.deepEqual(
        rows.map((r) => r['eventTime']?.slice(0, 19)),
        [expected],
      );
    });
  });

  it("names what to fix: no store, no path, another account's store", async () => {
    await withServer(async (w) => {
      const noStore = await opentrail(w, ['import', SOURCES.delivered]);
      assert.equal(noStore.code, 2);
      assert.match(noStore.stderr, /--event-data-store/);
      const missing = await opentrail(w, ['import', '/no/such/file', '--event-data-store', 'x']);
      assert.match(missing.stderr, /\/no\/such\/file does not exist/);
      // In a folder synced from a bucket, digests and Insights files are passed over, not reported as bad.
      const synced = await mkdtemp(join(tmpdir(), 'opentrail-synced-'));
      try {
        await writeFile(
          join(synced, '111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261201T000000Z.json.gz'),
          'x',
        );
        await writeFile(join(synced, 'records.ndjson'), `${JSON.stringify(managementRecord('111122223333'))}\n`);
        const id = await store(w);
        const fromFolder = await opentrail(w, ['import', synced, '--event-data-store', id]);
        assert.equal(fromFolder.code, 0, fromFolder.stderr);
        assert.match(
          fromFolder.stdout,
          /^1 events imported, 0 already in the store, 0 records rejected, from 1 file\(s\)/,
        );
      } finally {
        await rm(synced, { recursive: true, force: true });
      }
      const unknown = await opentrail(w, ['import', SOURCES.delivered, '--event-data-store', randomUUID()]);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /EventDataStoreNotFoundException/);
    });
  });

  it('names each file it cannot use and goes on with the others, in import and in ingest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opentrail-odd-files-'));
    try {
      await withServer(async (w) => {
        // Records of the caller's account: ingest takes no other.
        const account = w.app.admin.accountId;
        const good = managementRecord(account);
        const shallow = { ...managementRecord(account), eventName: 'Shallow' };
        // Nested deeper than JSON.stringify can write (JSON.parse reads any depth).
        const nested = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
        const deepRecord = JSON.stringify({ ...managementRecord(account), requestParameters: 'DEEP' }).replace(
          '"DEEP"',
          nested,
        );
        await writeFile(join(dir, 'deep.json'), `{"Records":[${JSON.stringify(shallow)},${deepRecord}]}`);
        await writeFile(join(dir, 'good.json'), JSON.stringify({ Records: [good] }));
        await writeFile(join(dir, 'truncated.json.gz'), gzipSync(JSON.stringify({ Records: [good] })).subarray(0, 30));
        await mkdir(join(dir, 'sub'));
        await symlink('..', join(dir, 'sub', 'up'));
        await run('mkfifo', [join(dir, 'pipe.json')]);
        const id = await store(w);
        const imported = await opentrail(w, ['import', dir, '--event-data-store', id]);
        assert.equal(imported.code, 1);
        assert.doesNotMatch(imported.stderr, /Usage:|at \w+ \(/, 'no usage text, no stack trace');
        assert.match(imported.stderr, /deep\.json: record 2: is nested too deeply to send; flatten it/);
        assert.match(imported.stderr, /truncated\.json\.gz: is not a complete gzip file/);
        assert.match(imported.stderr, /sub\/up: is a folder already walked/);
        assert.match(imported.stderr, /pipe\.json: is not a regular file or folder/);
        assert.match(
          imported.stdout,
          /^2 events imported, 0 already in the store, 1 records rejected, from 2 file\(s\); 3 file\(s\) could not be read/,
        );

        const names = ['deep.json', 'good.json', 'truncated.json.gz', 'pipe.json', 'sub'].map((n) => join(dir, n));
        const ingested = await opentrail(w, ['ingest', ...names]);
        assert.equal(ingested.code, 1);
        assert.doesNotMatch(ingested.stderr, /Usage:|at \w+ \(/, 'no usage text, no stack trace');
        assert.match(ingested.stderr, /deep\.json: record 1: is nested too deeply to send; flatten it/);
        assert.match(ingested.stderr, /truncated\.json\.gz: is not a complete gzip file/);
        assert.match(ingested.stderr, /pipe\.json: is not a regular file \(a pipe or device\)/);
        assert.match(ingested.stderr, /sub: is a folder; name the files in it/);
        assert.match(
          ingested.stdout,
          /^2 records accepted, 1 rejected, from 2 file\(s\); 3 file\(s\) could not be read/,
        );
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

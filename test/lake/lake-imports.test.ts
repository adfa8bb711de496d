import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  CloudTrailClient,
  CreateEventDataStoreCommand,
  CreateTrailCommand,
  DeleteEventDataStoreCommand,
  GetImportCommand,
  type GetImportCommandOutput,
  ListImportFailuresCommand,
  ListImportsCommand,
  RestoreEventDataStoreCommand,
  StartImportCommand,
  StopImportCommand,
  UpdateEventDataStoreCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { JsonApiError } from '../../src/client/json-api-error.ts';
import { createObjectStore, ObjectStoreError } from '../../src/objectstore/index.ts';
import { awsCli } from '../helpers/aws-cli.ts';
import { type ChildServer, FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS, startChildServer } from '../helpers/child-server.ts';
import { importSettled, lakeQueryRows } from '../helpers/lake.ts';
import { useMoto } from '../helpers/moto.ts';
import { realLogs } from '../helpers/real-logs.ts';
import { managementRecord } from '../helpers/records.ts';
import { rejectsWith, startTestServer, type TestWorld, withServer } from '../helpers/server.ts';

/**
 * Lake imports (facts §8.5) of the real delivered log files under ../shared/data/real-logs, from a bucket
 * folder of the local store and from moto's S3; every count is computed here from the files themselves.
 */

const INVICTUS = realLogs('invictus-ir__aws_dataset/CloudTrail');
const TRAILSCRAPER = realLogs('flosell__trailscraper/tests/cloudtrail/data');
const ROLE = 'arn:aws:iam::123456789012:role/ImportRole';

interface SourceFile {
  /** The key under the import's prefix, in AWS's layout. */
  key: string;
  body: Buffer;
  records: Record<string, unknown>[];
}

/** The real files in AWS's key layout: `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<name>`. */
async function realFiles(): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for (const [dir, gz] of [
    [INVICTUS, false],
    [TRAILSCRAPER, true],
  ] as const) {
    for (const name of (await readdir(dir)).sort()) {
      const body = await readFile(join(dir, name));
      const text = gz ? (await import('node:zlib')).gunzipSync(body).toString('utf8') : body.toString('utf8');
      const m = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T/.exec(name);
      assert.ok(m, name);
      const key = `AWSLogs/${m[1]}/CloudTrail/${m[2]}/${m[3]}/${m[4]}/${m[5]}/${name}`;
      files.push({ key, body, records: JSON.parse(text).Records });
    }
  }
  return files;
}

async function putLocal(w: TestWorld, bucket: string, files: SourceFile[]): Promise<void> {
  for (const f of files) {
    const path = join(w.dataDir, 'buckets', bucket, f.key);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, f.body);
  }
}

/** A store that keeps 2023's events (the real logs are older than the default 366 days), taking imports only. */
async function longStore(ct: CloudTrailClient): Promise<{ arn: string; id: string }> {
  const made = await ct.send(
    new CreateEventDataStoreCommand({
      Name: `imp-${randomUUID().slice(0, 8)}`,
      RetentionPeriod: 3653,
      // Not ingesting: the store holds exactly what was imported, not also the test's own API calls.
      StartIngestion: false,
    }),
  );
  return { arn: made.EventDataStoreArn as string, id: (made.EventDataStoreArn as string).split('/').pop() as string };
}

function topEventNames(files: SourceFile[], n: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const f of files)
    for (const r of f.records) counts.set(r['eventName'] as string, (counts.get(r['eventName'] as string) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

function startImport(ct: CloudTrailClient, arn: string, uri: string, extra: Record<string, unknown> = {}) {
  return ct.send(
    new StartImportCommand({
      Destinations: [arn],
      ImportSource: { S3: { S3LocationUri: uri, S3BucketRegion: 'us-east-1', S3BucketAccessRoleArn: ROLE } },
      ...extra,
    }),
  );
}

describe('Lake imports', () => {
  it('imports the real delivered logs from a local bucket folder, once, with their own eventIDs', async () => {
    const files = await realFiles();
    const events = files.reduce((n, f) => n + f.records.length, 0);
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await putLocal(w, 'old-logs', files);
      const store = await longStore(ct);
      const started = await startImport(ct, store.arn, 's3://old-logs/AWSLogs/');
      assert.equal(started.ImportStatus, 'INITIALIZING');
      assert.deepEqual(started.Destinations, [store.arn]);
      const done = await importSettled(ct, started.ImportId as string);
      assert.equal(done.ImportStatus, 'COMPLETED');
      assert.deepEqual(done.ImportStatistics, {
        PrefixesFound: 2,
        PrefixesCompleted: 2,
        FilesCompleted: files.length,
        EventsCompleted: events,
        FailedEntries: 0,
      });
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), events);

      // The sample-style question, answered from the files by this test.
      const top = await lakeQueryRows(
        ct,
        `SELECT eventName, count(*) AS n FROM ${store.id} GROUP BY eventName ORDER BY n DESC, eventName LIMIT 5`,
      );
      assert.deepEqual(
        top.map((r) => [r['eventName'], Number(r['n'])]),
        topEventNames(files, 5),
      );
      const some = files[3]?.records[2] as Record<string, unknown>;
      const found = await lakeQueryRows(
        ct,
        `SELECT eventID, eventName FROM ${store.id} WHERE eventID = '${some['eventID']}'`,
      );
      assert.deepEqual(found, [{ eventID: some['eventID'], eventName: some['eventName'] }]);

      // A second import of the same files adds nothing.
      const again = await startImport(ct, store.arn, 's3://old-logs/AWSLogs/');
      const second = await importSettled(ct, again.ImportId as string);
      assert.equal(second.ImportStatus, 'COMPLETED');
      assert.equal(second.ImportStatistics?.EventsCompleted, 0, 'events already in the store are not imported again');
      assert.equal(second.ImportStatistics?.FilesCompleted, files.length);
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), events);

      const listed = await ct.send(new ListImportsCommand({ Destination: store.arn }));
      assert.deepEqual(new Set(listed.Imports?.map((i) => i.ImportId)), new Set([started.ImportId, again.ImportId]));
      const completed = await ct.send(new ListImportsCommand({ ImportStatus: 'COMPLETED', MaxResults: 1 }));
      assert.equal(completed.Imports?.length, 1);
      const next = await ct.send(
        new ListImportsCommand({ ImportStatus: 'COMPLETED', MaxResults: 1, NextToken: completed.NextToken }),
      );
      assert.equal(next.Imports?.length, 1);
      assert.equal(next.NextToken, undefined);
    });
  });

  it('filters by event time and reports unreadable files and non-records as failures, never silently', async () => {
    const files = (await realFiles()).filter((f) => f.key.includes('218007301253'));
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const bad: SourceFile[] = [
        {
          key: 'AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1300Z_AAAAAAAAAAAAAAAA.json.gz',
          body: Buffer.from([0x1f, 0x8b, 1, 2, 3]),
          records: [],
        },
        {
          key: 'AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1301Z_BBBBBBBBBBBBBBBB.json',
          body: Buffer.from('{"Records": "none"}'),
          records: [],
        },
        {
          key: 'AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1302Z_CCCCCCCCCCCCCCCC.json',
          body: Buffer.from(
            JSON.stringify({
              Records: [
                managementRecord('218007301253', { eventTime: '2023-07-10T13:02:00Z', eventID: 'kept-1' }),
                { ...managementRecord('218007301253', { eventTime: '2023-07-10T13:02:00Z' }), eventID: undefined },
                { hello: 'world' },
              ],
            }),
          ),
          records: [],
        },
        {
          // A member nested 100,000 levels deep parses, but no serialiser can write it back: refused alone.
          key: 'AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1303Z_DDDDDDDDDDDDDDDD.json',
          body: Buffer.from(
            `{"Records":[${JSON.stringify(managementRecord('218007301253', { eventTime: '2023-07-10T13:03:00Z', eventID: 'kept-2' }))},${JSON.stringify(
              managementRecord('218007301253', { eventTime: '2023-07-10T13:03:00Z', requestParameters: 'DEEP' }),
            ).replace('"DEEP"', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`)}]}`,
          ),
          records: [],
        },
      ];
      await putLocal(w, 'mixed', [...files, ...bad]);
      const store = await longStore(ct);
      const all = await startImport(ct, store.arn, 's3://mixed');
      const done = await importSettled(ct, all.ImportId as string);
      const events = files.reduce((n, f) => n + f.records.length, 0) + 2;
      // As on AWS: it ran through, but did not copy everything.
      assert.equal(done.ImportStatus, 'FAILED');
      assert.equal(done.ImportStatistics?.PrefixesCompleted, done.ImportStatistics?.PrefixesFound);
      assert.equal(done.ImportStatistics?.EventsCompleted, events);
      assert.equal(done.ImportStatistics?.FailedEntries, 4);
      assert.equal(done.ImportStatistics?.FilesCompleted, files.length + 4);
      const failures = await ct.send(new ListImportFailuresCommand({ ImportId: all.ImportId, MaxResults: 2 }));
      const more = await ct.send(
        new ListImportFailuresCommand({ ImportId: all.ImportId, NextToken: failures.NextToken }),
      );
      const byLocation = new Map([...(failures.Failures ?? []), ...(more.Failures ?? [])].map((f) => [f.Location, f]));
      assert.equal(byLocation.size, 4);
      const [gz, notRecords, partly, deep] = bad.map((b) => byLocation.get(`s3://mixed/${b.key}`));
      assert.match(
        String(deep?.ErrorMessage),
        /^1 of 2 records .*Records\[1\]: requestParameters is nested too deeply/,
      );
      assert.match(String(gz?.ErrorMessage), /gzip/);
      assert.equal(gz?.Status, 'FAILED');
      assert.match(String(notRecords?.ErrorMessage), /not a CloudTrail log file/);
      assert.equal(partly?.ErrorType, 'InvalidRecord');
      assert.match(String(partly?.ErrorMessage), /^2 of 3 records .*\(1 were\).*Records\[1\]: MissingField/);
      assert.ok(partly?.LastUpdatedTime instanceof Date);

      // Only the events of 12:00-12:15 (by eventTime; files by the minute in their names).
      const from = new Date('2023-07-10T12:00:00Z');
      const to = new Date('2023-07-10T12:15:00Z');
      const windowed = await longStore(ct);
      const some = await startImport(ct, windowed.arn, 's3://mixed', { StartEventTime: from, EndEventTime: to });
      // The broken files' names are within a day of the window: read, and failed again.
      assert.equal((await importSettled(ct, some.ImportId as string)).ImportStatus, 'FAILED');
      const inWindow = files
        .flatMap((f) => f.records)
        .filter((r) => {
          const t = Date.parse(r['eventTime'] as string);
          return t >= from.getTime() && t <= to.getTime();
        });
      assert.ok(inWindow.length > 0);
      assert.equal(await w.app.services.eventDataStores.countEvents(windowed.id), inWindow.length);
    });
  });

  it('ends FAILED when files could not be copied, and a retry reads them again, then goes on after the last file', async () => {
    const file = (minute: number, body: Buffer | Record<string, unknown>[]): SourceFile => {
      const mm = String(minute).padStart(2, '0');
      return {
        key: `AWSLogs/123456789012/CloudTrail/us-east-1/2024/04/01/123456789012_CloudTrail_us-east-1_20240401T10${mm}Z_RETRYRETRYRETR${mm}.json.gz`,
        body: Buffer.isBuffer(body) ? body : gzipSync(JSON.stringify({ Records: body })),
        records: [],
      };
    };
    const record = (eventID: string) =>
      managementRecord('123456789012', { eventTime: '2024-04-01T10:00:00Z', eventID });
    const { eventID: _, ...noEventID } = record('x');
    const [good, notGzip, partly, notRecords] = [
      file(0, [record('a-1'), record('a-2'), record('a-3')]),
      file(1, Buffer.from([0x1f, 0x8b, 1, 2, 3])),
      file(2, [record('p-1'), noEventID]),
      file(3, Buffer.from('{"Records": "none"}')),
    ];
    const later = file(4, [record('d-1')]);
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-import-retry-'));
    // The store answers 503 for the later file while `unavailable` holds: the import fails as a whole there.
    let unavailable = false;
    const inner = createObjectStore({ dataDir });
    const objectStore = new Proxy(inner, {
      get(target, name) {
        if (name === 'getObject') {
          return async (bucket: string, key: string) => {
            if (unavailable && key === later.key) throw new ObjectStoreError('StoreUnavailable', 'Service Unavailable');
            return target.getObject(bucket, key);
          };
        }
        const value = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    try {
      await withServer(
        async (w) => {
          const ct = w.cloudtrail();
          await putLocal(w, 'retried', [good, notGzip, partly, notRecords]);
          const store = await longStore(ct);
          const failures = async (id: string) =>
            new Map(
              ((await ct.send(new ListImportFailuresCommand({ ImportId: id }))).Failures ?? []).map((f) => [
                f.Location,
                f,
              ]),
            );
          const at = (f: SourceFile) => `s3://retried/${f.key}`;
          const { ImportId } = await startImport(ct, store.arn, 's3://retried/');
          const id = ImportId as string;
          const first = await importSettled(ct, id);
          assert.equal(first.ImportStatus, 'FAILED');
          assert.deepEqual(first.ImportStatistics, {
            PrefixesFound: 1,
            PrefixesCompleted: 1,
            FilesCompleted: 4,
            EventsCompleted: 4,
            FailedEntries: 3,
          });
          const listed = await ct.send(new ListImportsCommand({ ImportStatus: 'FAILED' }));
          assert.deepEqual(
            listed.Imports?.map((i) => i.ImportId),
            [id],
          );

          // Two files mended, one deleted, one new after the last: the store fails while reading the new one.
          await putLocal(w, 'retried', [
            file(1, [record('b-1'), record('b-2')]),
            file(2, [record('p-1'), record('p-2')]),
            later,
          ]);
          await rm(join(w.dataDir, 'buckets', 'retried', notRecords.key));
          unavailable = true;
          const retried = await ct.send(new StartImportCommand({ ImportId: id }));
          assert.equal(retried.ImportStatus, 'IN_PROGRESS');
          const second = await importSettled(ct, id);
          assert.equal(second.ImportStatus, 'FAILED');
          assert.deepEqual(second.ImportStatistics, { ...first.ImportStatistics, FailedEntries: 1 });
          let entries = await failures(id);
          // Nothing of that run was committed: the retried files wait, RETRY, for the next.
          assert.deepEqual(
            [notGzip, partly, notRecords].map((f) => entries.get(at(f))?.Status),
            ['RETRY', 'RETRY', 'RETRY'],
          );
          const whole = entries.get('s3://retried/');
          assert.equal(whole?.Status, 'FAILED');
          assert.equal(whole?.ErrorType, 'ImportFailed');
          assert.match(String(whole?.ErrorMessage), /Service Unavailable/);

          unavailable = false;
          await ct.send(new StartImportCommand({ ImportId: id }));
          const third = await importSettled(ct, id);
          assert.equal(third.ImportStatus, 'FAILED', 'the deleted file is still missing');
          assert.deepEqual(third.ImportStatistics, {
            PrefixesFound: 1,
            PrefixesCompleted: 1,
            FilesCompleted: 5,
            // b-1, b-2, p-2 and d-1; p-1 was already imported.
            EventsCompleted: 8,
            FailedEntries: 1,
          });
          entries = await failures(id);
          assert.equal(entries.get('s3://retried/')?.Status, 'SUCCEEDED');
          assert.equal(entries.get(at(notGzip))?.Status, 'SUCCEEDED');
          assert.match(String(entries.get(at(notGzip))?.ErrorMessage), /gzip/, 'what failed before is kept');
          assert.equal(entries.get(at(partly))?.Status, 'SUCCEEDED');
          assert.equal(entries.get(at(notRecords))?.Status, 'FAILED');
          assert.match(String(entries.get(at(notRecords))?.ErrorMessage), /no longer exists/);

          await putLocal(w, 'retried', [file(3, [record('c-1')])]);
          await ct.send(new StartImportCommand({ ImportId: id }));
          const last = await importSettled(ct, id);
          assert.equal(last.ImportStatus, 'COMPLETED');
          assert.equal(last.ImportStatistics?.FailedEntries, 0);
          assert.equal(last.ImportStatistics?.EventsCompleted, 9);
          entries = await failures(id);
          assert.deepEqual(
            [...entries.values()].map((f) => f.Status),
            ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'],
          );
          const ids = await lakeQueryRows(ct, `SELECT eventID FROM ${store.id} ORDER BY eventID`);
          assert.deepEqual(
            ids.map((r) => r['eventID']),
            ['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'c-1', 'd-1', 'p-1', 'p-2'],
          );
          await rejectsWith(ct.send(new StartImportCommand({ ImportId: id })), 'OperationNotPermittedException');
        },
        { dataDir, deps: { objectStore } },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('copies only the events within the store’s retention period, as AWS does', async () => {
    const old = (await realFiles()).filter((f) => f.key.includes('218007301253')).slice(0, 3);
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const iso = new Date(Date.now() - 2 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const [y, mo, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
      const recent: SourceFile = {
        key: `AWSLogs/218007301253/CloudTrail/us-east-1/${y}/${mo}/${d}/218007301253_CloudTrail_us-east-1_${y}${mo}${d}T2359Z_EEEEEEEEEEEEEEEE.json`,
        body: Buffer.from(
          JSON.stringify({ Records: [managementRecord('218007301253', { eventTime: iso, eventID: 'recent-1' })] }),
        ),
        records: [],
      };
      await putLocal(w, 'retained', [...old, recent]);
      // The real logs are of July 2023: years older than the store keeps.
      const made = await ct.send(
        new CreateEventDataStoreCommand({ Name: 'month', RetentionPeriod: 30, StartIngestion: false }),
      );
      const { ImportId } = await startImport(ct, made.EventDataStoreArn as string, 's3://retained/AWSLogs/');
      const got = await importSettled(ct, ImportId as string);
      assert.equal(got.ImportStatus, 'COMPLETED');
      assert.equal(got.ImportStatistics?.EventsCompleted, 1);
      const id = (made.EventDataStoreArn as string).split('/').pop() as string;
      assert.deepEqual(await lakeQueryRows(ct, `SELECT eventID FROM ${id}`), [{ eventID: 'recent-1' }]);
    });
  });

  it('runs one import per account, can be stopped and retried, survives a restart, and guards its store', async () => {
    // 400 files of 100 events: long enough to be caught running.
    const many: SourceFile[] = Array.from({ length: 400 }, (_, f) => {
      const minute = String(f % 60).padStart(2, '0');
      const hour = String(Math.floor(f / 60)).padStart(2, '0');
      const records = Array.from({ length: 100 }, (_, i) =>
        managementRecord('123456789012', { eventTime: `2024-03-01T${hour}:${minute}:00Z`, eventID: `e-${f}-${i}` }),
      );
      const name = `123456789012_CloudTrail_us-east-1_20240301T${hour}${minute}Z_${String(f).padStart(16, 'X')}.json.gz`;
      return {
        key: `AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/01/${name}`,
        body: gzipSync(JSON.stringify({ Records: records })),
        records,
      };
    });
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-import-restart-'));
    const { world: w, stop } = await startTestServer({ dataDir, env: FIXED_ADMIN });
    let restarted: Awaited<ReturnType<typeof startTestServer>> | undefined;
    try {
      const ct = w.cloudtrail();
      await putLocal(w, 'many', many);
      const store = await longStore(ct);
      await ct.send(
        new UpdateEventDataStoreCommand({ EventDataStore: store.arn, TerminationProtectionEnabled: false }),
      );
      // Of StartImports sent together, one starts.
      const starts = await Promise.allSettled([1, 2, 3, 4].map(() => startImport(ct, store.arn, 's3://many/')));
      const started = starts.filter((r) => r.status === 'fulfilled');
      assert.equal(started.length, 1);
      for (const r of starts) {
        if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'AccountHasOngoingImportException');
      }
      const first = (started[0] as PromiseFulfilledResult<{ ImportId?: string }>).value;
      await rejectsWith(startImport(ct, store.arn, 's3://many/'), 'AccountHasOngoingImportException');
      // `opentrail import` into that store waits too: the running import's uncommitted events are out of its sight.
      await assert.rejects(
        w.ingestApi().call('ImportRecords', { EventDataStore: store.arn, Records: [managementRecord('123456789012')] }),
        (error: JsonApiError) => {
          assert.equal(error.type, 'EventDataStoreHasOngoingImportException');
          assert.match(error.message, new RegExp(`import ${first.ImportId} in progress`));
          return true;
        },
      );
      await rejectsWith(
        ct.send(new DeleteEventDataStoreCommand({ EventDataStore: store.arn })),
        'EventDataStoreHasOngoingImportException',
      );
      // A stopped import commits what it had read before its run ends; until then its store takes no other import.
      const stopping = ct.send(new StopImportCommand({ ImportId: first.ImportId }));
      while ((await ct.send(new GetImportCommand({ ImportId: first.ImportId }))).ImportStatus !== 'STOPPED');
      await assert.rejects(
        w.ingestApi().call('ImportRecords', { EventDataStore: store.arn, Records: [managementRecord('123456789012')] }),
        (error: JsonApiError) => error.type === 'EventDataStoreHasOngoingImportException',
      );
      const stopped = await stopping;
      assert.equal(stopped.ImportStatus, 'STOPPED');
      const partial = stopped.ImportStatistics?.EventsCompleted ?? 0;
      assert.ok(partial < 40_000, `stopped after ${partial} events`);
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), partial);
      await rejectsWith(ct.send(new StopImportCommand({ ImportId: first.ImportId })), 'OperationNotPermittedException');

      // A stopped import's store can be deleted; a retry into it is refused until it is restored.
      await ct.send(new DeleteEventDataStoreCommand({ EventDataStore: store.arn }));
      await rejectsWith(
        ct.send(new StartImportCommand({ ImportId: first.ImportId })),
        'InactiveEventDataStoreException',
      );
      await ct.send(new RestoreEventDataStoreCommand({ EventDataStore: store.arn }));

      // Retried, then interrupted by a shutdown: the restarted server finishes it, each event once.
      await ct.send(new StartImportCommand({ ImportId: first.ImportId }));
      await stop();
      restarted = await startTestServer({ dataDir, env: FIXED_ADMIN });
      const ct2 = restarted.world.cloudtrail();
      const done = await importSettled(ct2, first.ImportId as string);
      assert.equal(done.ImportStatus, 'COMPLETED');
      assert.equal(done.ImportStatistics?.FilesCompleted, 400);
      assert.equal(await restarted.world.app.services.eventDataStores.countEvents(store.id), 40_000);
      await ct2.send(new DeleteEventDataStoreCommand({ EventDataStore: store.arn }));
    } finally {
      if (restarted) await restarted.stop();
      else await stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('stores an import in whole groups of rows, and counts a file once all its events are stored', async () => {
    // 160 files of 70 events, in batches of 250 stored 300 at a time: most groups end inside a file. File 15
    // repeats file 14's eventIDs and file 20 does not gunzip, so 158 files' events are new.
    const files: SourceFile[] = Array.from({ length: 160 }, (_, f) => {
      const hour = String(Math.floor(f / 60)).padStart(2, '0');
      const minute = String(f % 60).padStart(2, '0');
      const records = Array.from({ length: 70 }, (_, i) =>
        managementRecord('123456789012', {
          eventTime: `2024-03-02T${hour}:${minute}:00Z`,
          eventID: `g-${f === 15 ? 14 : f}-${i}`,
        }),
      );
      const name = `123456789012_CloudTrail_us-east-1_20240302T${hour}${minute}Z_${String(f).padStart(16, 'G')}.json.gz`;
      return {
        key: `AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/02/${name}`,
        body: f === 20 ? Buffer.from('not gzip') : gzipSync(JSON.stringify({ Records: records })),
        records,
      };
    });
    const { world: w, stop } = await startTestServer({ deps: { importBatches: { events: 250, storeRows: 300 } } });
    try {
      const ct = w.cloudtrail();
      await putLocal(w, 'grouped', files);
      const store = await longStore(ct);
      const { ImportId } = await startImport(ct, store.arn, 's3://grouped/');
      const seen: { events: number; files: number }[] = [];
      for (;;) {
        const got = await ct.send(new GetImportCommand({ ImportId }));
        if (got.ImportStatus !== 'IN_PROGRESS' && got.ImportStatus !== 'INITIALIZING') break;
        seen.push({
          events: got.ImportStatistics?.EventsCompleted ?? 0,
          files: got.ImportStatistics?.FilesCompleted ?? 0,
        });
        await new Promise((r) => setTimeout(r, 5));
      }
      const done = await importSettled(ct, ImportId as string);
      assert.equal(done.ImportStatus, 'FAILED', 'file 20 could not be imported');
      assert.deepEqual(done.ImportStatistics, {
        PrefixesFound: 1,
        PrefixesCompleted: 1,
        FilesCompleted: 160,
        EventsCompleted: 158 * 70,
        FailedEntries: 1,
      });
      // While it ran, events were stored only in whole groups (but the last, stored when the files ran out), and
      // a file counted only once all its events were stored (files 15 and 20 add none: up to file 15 a file's
      // events end at 70 per file, then 70 fewer, and 140 fewer after file 20).
      const running = seen.filter((s) => s.files < 160);
      assert.ok(
        running.some((s) => s.events > 0),
        `progress was seen while the import ran: ${JSON.stringify(seen)}`,
      );
      for (const s of running) {
        assert.ok(s.events % 300 === 0, `not a whole group: ${JSON.stringify(s)}`);
        const storedThrough = s.files <= 15 ? s.files * 70 : s.files <= 20 ? (s.files - 1) * 70 : (s.files - 2) * 70;
        assert.ok(storedThrough <= s.events && s.events - storedThrough < 70 + 300, JSON.stringify(s));
      }
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), 158 * 70);
      const distinct = await lakeQueryRows(ct, `SELECT count(DISTINCT eventID) AS n FROM ${store.id}`);
      assert.equal(Number(distinct[0]?.['n']), 158 * 70);
    } finally {
      await stop();
    }
  });

  it('stores each eventID once when opentrail import and StartImport bring the same events at once', async () => {
    const records = Array.from({ length: 2000 }, (_, i) =>
      managementRecord('123456789012', { eventTime: '2024-03-03T00:00:00Z', eventID: `same-${i}` }),
    );
    const files: SourceFile[] = Array.from({ length: 20 }, (_, f) => {
      const name = `123456789012_CloudTrail_us-east-1_20240303T00${String(f).padStart(2, '0')}Z_${String(f).padStart(16, 'S')}.json.gz`;
      const part = records.slice(f * 100, f * 100 + 100);
      return {
        key: `AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/03/${name}`,
        body: gzipSync(JSON.stringify({ Records: part })),
        records: part,
      };
    });
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      await putLocal(w, 'same', files);
      const store = await longStore(ct);
      const [direct, started] = await Promise.allSettled([
        w.ingestApi().call('ImportRecords', { EventDataStore: store.arn, Records: records }),
        startImport(ct, store.arn, 's3://same/'),
      ]);
      // Whichever comes second waits for the first or, if it is opentrail import's call, is refused.
      if (direct.status === 'rejected') {
        assert.equal((direct.reason as JsonApiError).type, 'EventDataStoreHasOngoingImportException');
      }
      assert.equal(started.status, 'fulfilled');
      const done = await importSettled(ct, started.value.ImportId as string);
      assert.equal(done.ImportStatus, 'COMPLETED');
      const counts = await lakeQueryRows(ct, `SELECT count(*) AS n, count(DISTINCT eventID) AS d FROM ${store.id}`);
      assert.deepEqual(counts, [{ n: '2000', d: '2000' }]);
    });
  });

  it('refuses bad sources, wrong stores and other accounts, with AWS error names', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const store = await longStore(ct);
      await putLocal(w, 'mine', (await realFiles()).slice(0, 1));
      await rejectsWith(startImport(ct, store.arn, 's3://no-such-bucket/x'), 'InvalidImportSourceException');
      await rejectsWith(startImport(ct, store.arn, 's3://a..b/x'), 'InvalidImportSourceException', /cannot be read/);
      await rejectsWith(startImport(ct, store.arn, 'https://mine/x'), 'InvalidParameterException', /s3:\/\/bucket/);
      await rejectsWith(startImport(ct, store.arn, 's3://kc/x'), 'InvalidParameterException', /3 to 63 lower-case/);
      await rejectsWith(
        ct.send(
          new StartImportCommand({
            Destinations: [store.arn],
            ImportSource: {
              S3: { S3LocationUri: 's3://mine', S3BucketRegion: 'us-east-1', S3BucketAccessRoleArn: 'me' },
            },
          }),
        ),
        'InvalidParameterException',
        /IAM role ARN/,
      );
      await rejectsWith(
        ct.send(new StartImportCommand({ Destinations: [store.arn, store.arn] })),
        'InvalidParameterException',
      );
      const channelStore = await ct.send(
        new CreateEventDataStoreCommand({
          Name: 'activity',
          AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] }],
        }),
      );
      await rejectsWith(
        startImport(ct, channelStore.EventDataStoreArn as string, 's3://mine'),
        'InvalidEventDataStoreCategoryException',
      );
      await rejectsWith(ct.send(new GetImportCommand({ ImportId: randomUUID() })), 'ImportNotFoundException');

      // Another account sees neither the import nor the bucket the admin's account claimed.
      const mine = await startImport(ct, store.arn, 's3://mine');
      await importSettled(ct, mine.ImportId as string);
      const other = await w.newAccount();
      const theirs = w.cloudtrail({ credentials: other.root });
      await rejectsWith(theirs.send(new GetImportCommand({ ImportId: mine.ImportId })), 'ImportNotFoundException');
      assert.deepEqual((await theirs.send(new ListImportsCommand({}))).Imports, []);
      // Neither declares ImportNotFoundException or a store not found: the names their models give.
      await rejectsWith(
        theirs.send(new ListImportFailuresCommand({ ImportId: mine.ImportId })),
        'InvalidParameterException',
        /does not exist/,
      );
      assert.deepEqual((await theirs.send(new ListImportsCommand({ Destination: store.arn }))).Imports, []);
      assert.deepEqual((await ct.send(new ListImportsCommand({ Destination: randomUUID() }))).Imports, []);
      await rejectsWith(
        ct.send(new ListImportsCommand({ Destination: 'arn:aws:s3:::a-bucket' })),
        'EventDataStoreARNInvalidException',
      );
      // On the local store a trail claims its bucket for its account.
      await ct.send(new CreateTrailCommand({ Name: 'claims', S3BucketName: 'claimed' }));
      const theirStore = await longStore(theirs);
      await rejectsWith(
        startImport(theirs, theirStore.arn, 's3://claimed'),
        'InvalidImportSourceException',
        /another account/,
      );
      await rejectsWith(startImport(theirs, store.arn, 's3://mine'), 'EventDataStoreNotFoundException');
    });
  });
});

describe('Lake imports killed with SIGKILL', () => {
  it('resumes after the last file whose events were all committed, and stores each event once', async () => {
    // 200 files of 1,000 events, read in batches of 20 files: the first commit comes at a row group (122,880
    // events), inside the seventh batch, so the six batches before it (120 files) count as done. The server is
    // killed as soon as that shows, with the next group's events written but not committed.
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-import-kill-'));
    try {
      for (let f = 0; f < 200; f++) {
        const minute = String(f % 60).padStart(2, '0');
        const hour = String(Math.floor(f / 60)).padStart(2, '0');
        const records = Array.from({ length: 1000 }, (_, i) =>
          managementRecord('123456789012', { eventTime: `2024-03-04T${hour}:${minute}:00Z`, eventID: `k-${f}-${i}` }),
        );
        const name = `123456789012_CloudTrail_us-east-1_20240304T${hour}${minute}Z_${String(f).padStart(16, 'K')}.json.gz`;
        const path = join(dataDir, 'buckets', 'killed', 'AWSLogs', '123456789012', 'CloudTrail', 'us-east-1', name);
        await mkdir(join(path, '..'), { recursive: true });
        await writeFile(path, gzipSync(JSON.stringify({ Records: records })));
      }
      const client = (url: string) =>
        new CloudTrailClient({ endpoint: url, region: 'us-east-1', credentials: FIXED_ADMIN_CREDENTIALS });
      let server: ChildServer = await startChildServer(dataDir);
      let ct = client(server.url);
      try {
        const store = await longStore(ct);
        const { ImportId } = await startImport(ct, store.arn, 's3://killed/');
        let before: GetImportCommandOutput;
        do {
          before = await ct.send(new GetImportCommand({ ImportId }));
          assert.ok(
            before.ImportStatus === 'INITIALIZING' || before.ImportStatus === 'IN_PROGRESS',
            JSON.stringify(before),
          );
        } while ((before.ImportStatistics?.EventsCompleted ?? 0) === 0);
        await server.kill();
        ct.destroy();
        assert.deepEqual(
          [before.ImportStatistics?.EventsCompleted, before.ImportStatistics?.FilesCompleted],
          [122_880, 120],
        );

        server = await startChildServer(dataDir);
        ct = client(server.url);
        const done = await importSettled(ct, ImportId as string);
        assert.equal(done.ImportStatus, 'COMPLETED');
        assert.equal(done.ImportStatistics?.FilesCompleted, 200);
        assert.equal(done.ImportStatistics?.EventsCompleted, 200_000);
        const counts = await lakeQueryRows(ct, `SELECT count(*) AS n, count(DISTINCT eventID) AS d FROM ${store.id}`);
        assert.deepEqual(counts, [{ n: '200000', d: '200000' }]);
      } finally {
        ct.destroy();
        await server.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Lake imports from an S3 endpoint', () => {
  const moto = useMoto();

  it('imports gzipped delivered logs from moto S3, driven by the AWS CLI', async () => {
    const files = await realFiles();
    const s3 = moto.s3();
    await withServer(
      async (w) => {
        await s3.send(new CreateBucketCommand({ Bucket: 'org-logs' }));
        for (const f of files) {
          const body = f.key.endsWith('.gz') ? f.body : gzipSync(f.body);
          const key = f.key.endsWith('.gz') ? f.key : `${f.key}.gz`;
          await s3.send(new PutObjectCommand({ Bucket: 'org-logs', Key: `prefix/${key}`, Body: body }));
        }
        const ct = w.cloudtrail();
        const store = await longStore(ct);
        const env = { AWS_ENDPOINT_URL: w.url };
        const cli = await awsCli(
          [
            'cloudtrail',
            'start-import',
            '--destinations',
            store.arn,
            '--import-source',
            JSON.stringify({
              S3: { S3LocationUri: 's3://org-logs/prefix', S3BucketRegion: 'us-east-1', S3BucketAccessRoleArn: ROLE },
            }),
          ],
          w.adminCredentials,
          env,
        );
        assert.equal(cli.code, 0, cli.stderr);
        const { ImportId } = JSON.parse(cli.stdout) as { ImportId: string };
        await importSettled(ct, ImportId);
        const got = await awsCli(['cloudtrail', 'get-import', '--import-id', ImportId], w.adminCredentials, env);
        assert.equal(got.code, 0, got.stderr);
        const stats = JSON.parse(got.stdout) as { ImportStatus: string; ImportStatistics: Record<string, number> };
        assert.equal(stats.ImportStatus, 'COMPLETED');
        const events = files.reduce((n, f) => n + f.records.length, 0);
        assert.equal(stats.ImportStatistics['EventsCompleted'], events);
        assert.equal(stats.ImportStatistics['FilesCompleted'], files.length);
        assert.equal(await w.app.services.eventDataStores.countEvents(store.id), events);
        const regions = await lakeQueryRows(
          ct,
          `SELECT awsRegion, count(*) AS n FROM ${store.id} GROUP BY awsRegion ORDER BY awsRegion`,
        );
        const expected = new Map<string, number>();
        for (const f of files)
          for (const r of f.records)
            expected.set(r['awsRegion'] as string, (expected.get(r['awsRegion'] as string) ?? 0) + 1);
        assert.deepEqual(
          regions.map((r) => [r['awsRegion'], Number(r['n'])]),
          [...expected].sort((a, b) => a[0].localeCompare(b[0])),
        );
      },
      {
        env: {
          OPENTRAIL_S3_ENDPOINT: moto.endpoint(),
          OPENTRAIL_S3_ACCESS_KEY_ID: 'test',
          OPENTRAIL_S3_SECRET_ACCESS_KEY: 'test',
        },
      },
    ).finally(() => s3.destroy());
  });
});

import type { Caller } from '../identity/index.ts';
import { type Clock, DAY_MS } from '../model/clock.ts';
import type { IdSource } from '../model/ids.ts';
import { ServiceError } from '../model/service-error.ts';
import { isObjectStoreError, type ObjectStore } from '../objectstore/index.ts';
import type { Connection } from '../store/database.ts';
import { isTrailCategory } from '../trails/index.ts';
import { logFileKeys, type ReadLogsOptions, readDeliveredLogs, readLogFiles } from '../trails/read-logs.ts';
import type { EventDataStoreRecord } from './event-data-store.ts';
import type { EventDataStoreService } from './event-data-store-service.ts';
import {
  type ImportFailure,
  type ImportFailureChange,
  type ImportRecord,
  type ImportSource,
  type ImportStatus,
  importFinished,
} from './import.ts';
import { checkImportedRecord } from './import-record.ts';
import type { ImportStore } from './import-store.ts';
import { type ImportedRecord, ImportWriter, prepareImportConnection, writeImportedRecords } from './import-writer.ts';
import { retainedSinceMs } from './store-rules.ts';
import { storeCategories } from './store-selectors.ts';

/**
 * Lake imports (facts §8.5): StartImport copies the delivered trail logs under `s3://bucket/prefix` of the
 * configured object store (a bucket folder of the local store, or the S3 endpoint) into one event data store.
 * Files are told apart by their names (AWS's `<account>_CloudTrail_<region>_<time>_<id>.json[.gz]`), so logs of
 * any number of accounts and Regions, in their date folders or copied out of them, are read; digests are not.
 *
 * An import lists its source first (INITIALIZING: prefixes found), then reads files in key order
 * (IN_PROGRESS), committing events in whole row groups together with its own progress, so a restart or a retry
 * (StartImport with ImportId) goes on after the last file whose events are all committed, and nothing is
 * imported twice: eventIDs the store already holds are skipped in any case (import-writer.ts). A file that
 * cannot be read or parsed, or whose records are not CloudTrail records, is a failure entry with its reason;
 * the import goes on, and ends FAILED rather than COMPLETED. Retrying it reads the failed files again first
 * (their entries RETRY, then SUCCEEDED or FAILED anew) and goes on after the last file done.
 * As on AWS, the store's selectors and Region do not filter imported events; one import runs per account.
 */
export interface StartImportInput {
  Destinations?: string[];
  ImportSource?: ImportSource;
  StartEventTime?: Date;
  EndEventTime?: Date;
  ImportId?: string;
}

export interface ImportedBatch {
  imported: number;
  duplicates: number;
  failed: { index: number; reason: string }[];
}

export interface LakeImportsDeps {
  /** A connection for `opentrail import`'s calls (with `prepareImportConnection` run), so they never wait behind lookups. */
  conn: Connection;
  /** A new connection, for one import's run: its writer holds the connection's transaction open between batches. */
  connect(): Promise<Connection>;
  store: ImportStore;
  eventDataStores: EventDataStoreService;
  objects: ObjectStore;
  clock: Clock;
  ids: IdSource;
  onError: (error: unknown, importId: string) => void;
  /** Events gathered (in whole files) before a batch is written. */
  batchEvents?: number;
  /** Events are committed this many at a time (tests make it small); ROW_GROUP_ROWS by default. */
  storeRows?: number;
}

const DEFAULT_BATCH_EVENTS = 20_000;
/** How long after an event the log file holding it may have been written (see #run). */
const FILE_LAG_MS = DAY_MS;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;
/** The errorType of the failure entry for an import that stopped as a whole (its location is the source). */
const RUN_FAILED = 'ImportFailed';

export class LakeImports {
  readonly #deps: LakeImportsDeps;
  /** Imports running in this process, by id. */
  readonly #running = new Map<string, Promise<void>>();
  /** `opentrail import` writes under way, by store ARN: an import's transaction must begin after them (#run). */
  readonly #directWrites = new Map<string, Set<Promise<unknown>>>();
  #closed = false;

  constructor(deps: LakeImportsDeps) {
    this.#deps = deps;
  }

  /** Resumes the imports a stopped server left running. */
  recover(): void {
    for (const record of this.#deps.store.all()) {
      if (!importFinished(record.status)) this.#launch(record);
    }
  }

  async start(caller: Caller, input: StartImportInput): Promise<ImportRecord> {
    if (input.ImportId !== undefined) return this.#retry(caller, input);
    const destinations = input.Destinations ?? [];
    if (destinations.length !== 1) {
      throw new ServiceError(
        'InvalidParameterException',
        'A new import needs Destinations with exactly one event data store ARN (or ImportId to retry an import).',
      );
    }
    if (input.ImportSource === undefined) {
      throw new ServiceError('InvalidParameterException', 'A new import needs an ImportSource with S3LocationUri.');
    }
    const start = input.StartEventTime?.getTime();
    const end = input.EndEventTime?.getTime();
    if (start !== undefined && end !== undefined && start > end) {
      throw new ServiceError('InvalidParameterException', 'StartEventTime must not be later than EndEventTime.');
    }
    const store = this.#destination(caller, destinations[0] as string);
    await this.#checkSource(caller, input.ImportSource);
    // From the check to remember() nothing awaits: concurrent StartImports of one account see each other.
    this.#checkNoneRunning(caller);
    const now = this.#deps.clock.now();
    const record: ImportRecord = {
      id: this.#deps.ids.uuid(),
      accountId: caller.principal.accountId,
      region: caller.region,
      destination: store.arn,
      source: { S3: { ...input.ImportSource.S3 } },
      ...(start !== undefined ? { startEventTimeMs: start } : {}),
      ...(end !== undefined ? { endEventTimeMs: end } : {}),
      retentionPeriodDays: store.retentionPeriodDays,
      status: 'INITIALIZING',
      statistics: { prefixesFound: 0, prefixesCompleted: 0, filesCompleted: 0, eventsCompleted: 0, failedEntries: 0 },
      createdAtMs: now,
      updatedAtMs: now,
    };
    await this.#claim(record);
    this.#launch(record);
    return record;
  }

  /**
   * Imports records sent by `opentrail import` (the shapes of record-shapes.ts, read on the caller's machine)
   * into a store of the caller's, each eventID once; a record that is not a CloudTrail record is answered with
   * its index and reason.
   */
  async importRecords(caller: Caller, storeRef: string, records: unknown[]): Promise<ImportedBatch> {
    const store = this.#destination(caller, storeRef);
    // A running import holds its uncommitted events in a transaction these records could not see, nor it theirs.
    const running = this.#ongoingImport(store.arn);
    if (running !== undefined) {
      throw new ServiceError(
        'EventDataStoreHasOngoingImportException',
        `Event data store ${store.arn} has import ${running.id} in progress; send these records once it has finished or was stopped.`,
      );
    }
    const good: ImportedRecord[] = [];
    const failed: ImportedBatch['failed'] = [];
    for (const [index, raw] of records.entries()) {
      const verdict = checkImportedRecord(raw);
      if (verdict.kind === 'ok') good.push(verdict.record);
      else if (verdict.kind === 'rejected') failed.push({ index, reason: verdict.reason });
    }
    // Registered before anything awaits, so an import of this store started from now on waits for it.
    const write = this.#deps.conn.serial((raw) => writeImportedRecords(raw, store.id, good, async () => undefined));
    const writes = this.#directWrites.get(store.arn) ?? new Set<Promise<unknown>>();
    this.#directWrites.set(store.arn, writes.add(write));
    try {
      return { ...(await write), failed };
    } finally {
      writes.delete(write);
      if (writes.size === 0) this.#directWrites.delete(store.arn);
    }
  }

  get(caller: Caller, id: string): ImportRecord {
    const record = this.#deps.store.get(id);
    if (!this.#isCallers(caller, record)) {
      throw new ServiceError('ImportNotFoundException', `Import ${id} does not exist.`);
    }
    return record;
  }

  /** Whether the import is the caller's, in the caller's Region: any other is not found. */
  #isCallers(caller: Caller, record: ImportRecord | undefined): record is ImportRecord {
    return record !== undefined && record.accountId === caller.principal.accountId && record.region === caller.region;
  }

  /** The caller's imports in its Region, newest first, optionally of one destination and status. */
  list(caller: Caller, filter: { destination?: string; status?: ImportStatus }): ImportRecord[] {
    return this.#deps.store
      .all()
      .filter(
        (r) =>
          r.accountId === caller.principal.accountId &&
          r.region === caller.region &&
          (filter.destination === undefined || r.destination === filter.destination) &&
          (filter.status === undefined || r.status === filter.status),
      )
      .sort((a, b) => b.createdAtMs - a.createdAtMs || a.id.localeCompare(b.id));
  }

  /** Stops a running import after the file it is reading; what it committed stays. */
  async stop(caller: Caller, id: string): Promise<ImportRecord> {
    const current = this.get(caller, id);
    if (importFinished(current.status)) {
      throw new ServiceError(
        'OperationNotPermittedException',
        `Import ${id} is ${current.status}; only an import in progress can be stopped.`,
      );
    }
    const next = { ...current, status: 'STOPPED' as const, updatedAtMs: this.#deps.clock.now() };
    // The running loop sees STOPPED in the store and ends; wait so the answer shows its final statistics.
    this.#deps.store.remember(next);
    await this.#running.get(id);
    const final = this.#deps.store.get(id) ?? next;
    await this.#deps.store.put(final);
    return final;
  }

  failures(caller: Caller, id: string, offset: number, limit: number): Promise<ImportFailure[]> {
    // ListImportFailures declares no ImportNotFoundException: an unknown import is a bad parameter.
    if (!this.#isCallers(caller, this.#deps.store.get(id))) {
      throw new ServiceError(
        'InvalidParameterException',
        `Import ${id} does not exist; ImportId must name one of yours.`,
      );
    }
    return this.#deps.store.failures(id, offset, limit);
  }

  /** Whether an import into this store is running (such a store cannot be deleted). */
  hasOngoingImport(storeArn: string): boolean {
    return this.#ongoingImport(storeArn) !== undefined;
  }

  /** Unfinished, or stopped while its run still commits what it had read (the run ends after that). */
  #ongoing(record: ImportRecord): boolean {
    return !importFinished(record.status) || this.#running.has(record.id);
  }

  #ongoingImport(storeArn: string): ImportRecord | undefined {
    return this.#deps.store.all().find((r) => r.destination === storeArn && this.#ongoing(r));
  }

  /** Resolves when every running import has finished (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  /** Stops reading at the next file; running imports resume when the server starts again. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  async #retry(caller: Caller, input: StartImportInput): Promise<ImportRecord> {
    if (input.Destinations !== undefined || input.ImportSource !== undefined) {
      throw new ServiceError(
        'InvalidParameterException',
        'To retry an import give its ImportId alone; to start a new one give Destinations and ImportSource without ImportId.',
      );
    }
    const current = this.get(caller, input.ImportId as string);
    if (current.status !== 'FAILED' && current.status !== 'STOPPED') {
      throw new ServiceError(
        'OperationNotPermittedException',
        `Import ${current.id} is ${current.status}; only a failed or stopped import can be retried.`,
      );
    }
    // A stopped import whose reading is still ending is not retried alongside it.
    if (this.#running.has(current.id)) {
      throw new ServiceError(
        'OperationNotPermittedException',
        `Import ${current.id} is still finishing the file it was reading when it stopped; retry it in a moment.`,
      );
    }
    // The store may have been deleted since: a retry is judged as a new import is.
    const store = this.#destination(caller, current.destination);
    // What failed is tried again (AWS resumes a failed import where it failed): failed files are read again
    // first, and the import as a whole, failed before, succeeds when this run ends.
    const failed = await this.#deps.store.failuresIn(current.id, 'FAILED');
    // From the check to remember() in #claim nothing awaits (see start()).
    this.#checkNoneRunning(caller);
    const now = this.#deps.clock.now();
    const files = fileLocation(parseS3Location(current.source.S3.S3LocationUri).bucket, '');
    const again = failed.filter((f) => f.errorType !== RUN_FAILED).map((f) => f.location.slice(files.length));
    const next: ImportRecord = {
      ...current,
      retentionPeriodDays: store.retentionPeriodDays,
      status: 'IN_PROGRESS',
      retrying: [...(current.retrying ?? []), ...again],
      statistics: { ...current.statistics, failedEntries: 0 },
      updatedAtMs: now,
    };
    await this.#claim(
      next,
      current,
      failed.map((f) => ({ location: f.location, status: 'RETRY' as const, updatedAtMs: now })),
    );
    this.#launch(next);
    return next;
  }

  /** The caller's store that imports may fill: live, and of trail events. */
  #destination(caller: Caller, ref: string): EventDataStoreRecord {
    const store = this.#deps.eventDataStores.resolve(caller, ref);
    if (store.status === 'PENDING_DELETION') {
      throw new ServiceError(
        'InactiveEventDataStoreException',
        `Event data store ${store.arn} is pending deletion; restore it before importing into it.`,
      );
    }
    const other = storeCategories(store.advancedEventSelectors).find((c) => !isTrailCategory(c));
    if (other !== undefined) {
      throw new ServiceError(
        'InvalidEventDataStoreCategoryException',
        `Event data store ${store.arn} holds ${other} events; trail logs can be imported only into a store of CloudTrail management or data events.`,
      );
    }
    return store;
  }

  /** Makes the import visible at once (so #checkNoneRunning sees it), then stores it; undone if the write fails. */
  async #claim(record: ImportRecord, previous?: ImportRecord, failures: ImportFailureChange[] = []): Promise<void> {
    this.#deps.store.remember(record);
    try {
      await this.#deps.store.put(record, failures);
    } catch (error) {
      if (previous === undefined) this.#deps.store.forget(record.id);
      else this.#deps.store.remember(previous);
      throw error;
    }
  }

  #checkNoneRunning(caller: Caller): void {
    const running = this.#deps.store.all().find((r) => r.accountId === caller.principal.accountId && this.#ongoing(r));
    if (running !== undefined) {
      throw new ServiceError(
        'AccountHasOngoingImportException',
        `Account ${caller.principal.accountId} already has import ${running.id} in progress; wait for it or stop it.`,
      );
    }
  }

  async #checkSource(caller: Caller, source: ImportSource): Promise<void> {
    const { S3LocationUri: uri, S3BucketAccessRoleArn: role } = source.S3;
    if (S3_URI.exec(uri) === null) {
      throw new ServiceError(
        'InvalidParameterException',
        `S3LocationUri ${uri} is not an S3 location; write it as s3://bucket or s3://bucket/prefix, with a bucket name of 3 to 63 lower-case letters, digits, periods and hyphens.`,
      );
    }
    if (!ROLE_ARN.test(role)) {
      throw new ServiceError(
        'InvalidParameterException',
        `S3BucketAccessRoleArn ${role} is not an IAM role ARN like arn:aws:iam::123456789012:role/ImportRole.`,
      );
    }
    const { bucket } = parseS3Location(uri);
    let exists: boolean;
    let owner: string | undefined;
    try {
      exists = await this.#deps.objects.bucketExists(bucket);
      owner = exists ? await this.#deps.objects.bucketOwner(bucket) : undefined;
    } catch (error) {
      if (!isObjectStoreError(error)) throw error;
      throw new ServiceError('InvalidImportSourceException', `${uri} cannot be read: ${error.message}`);
    }
    if (!exists) {
      throw new ServiceError('InvalidImportSourceException', `Bucket ${bucket} of ${uri} does not exist.`);
    }
    // On the local store buckets have owners: another account's logs are not the caller's to read.
    if (owner !== undefined && owner !== caller.principal.accountId) {
      throw new ServiceError(
        'InvalidImportSourceException',
        `Bucket ${bucket} belongs to another account; import from a bucket of account ${caller.principal.accountId}.`,
      );
    }
  }

  #launch(record: ImportRecord): void {
    const run = this.#run(record.id)
      .catch(async (error: unknown) => {
        this.#deps.onError(error, record.id);
        const current = this.#deps.store.get(record.id);
        if (current === undefined || importFinished(current.status)) return;
        const failure: ImportFailure = {
          location: current.source.S3.S3LocationUri,
          status: 'FAILED',
          errorType: RUN_FAILED,
          errorMessage: `The import stopped: ${(error as Error).message ?? String(error)}. Retry it with StartImport and its ImportId.`,
          updatedAtMs: this.#deps.clock.now(),
        };
        const failed: ImportRecord = {
          ...current,
          status: 'FAILED',
          statistics: { ...current.statistics, failedEntries: current.statistics.failedEntries + 1 },
          updatedAtMs: this.#deps.clock.now(),
        };
        await this.#deps.store.put(failed, [failure]).catch((e: unknown) => this.#deps.onError(e, record.id));
      })
      .finally(() => this.#running.delete(record.id));
    this.#running.set(record.id, run);
  }

  /** Whether the loop must end: the import was stopped, or the server is closing. */
  #interrupted(id: string): boolean {
    return this.#closed || this.#deps.store.get(id)?.status === 'STOPPED';
  }

  async #run(id: string): Promise<void> {
    let record = this.#deps.store.get(id) as ImportRecord;
    const { bucket, prefix } = parseS3Location(record.source.S3.S3LocationUri);
    const retained =
      record.retentionPeriodDays === undefined
        ? undefined
        : retainedSinceMs(record.retentionPeriodDays, this.#deps.clock.now());
    const starts = [record.startEventTimeMs, retained].filter((t): t is number => t !== undefined);
    const window = { startMs: starts.length > 0 ? Math.max(...starts) : undefined, endMs: record.endEventTimeMs };
    // Files are chosen by the minute in their names, when they were written: a file holds events up to that
    // minute, and CloudTrail writes them minutes (rarely hours) after the calls. Later files may still hold
    // events of the window, so files are read up to a day past its end; the events themselves are filtered exactly.
    const fileWindow = {
      startMs: window.startMs,
      endMs: window.endMs === undefined ? undefined : window.endMs + FILE_LAG_MS,
    };
    if (record.prefixes === undefined) {
      const prefixes = await this.#listPrefixes(bucket, prefix, fileWindow);
      record = {
        ...record,
        prefixes,
        status: 'IN_PROGRESS',
        statistics: { ...record.statistics, prefixesFound: prefixes.length },
        updatedAtMs: this.#deps.clock.now(),
      };
      if (this.#interrupted(id)) return;
      await this.#deps.store.put(record);
      // A StopImport during that write: it wins.
      if (this.#interrupted(id)) {
        if (this.#deps.store.get(id)?.status === 'STOPPED') this.#deps.store.remember({ ...record, status: 'STOPPED' });
        return;
      }
    }
    const storeId = record.destination.split('/').pop() as string;
    const batchEvents = this.#deps.batchEvents ?? DEFAULT_BATCH_EVENTS;
    let batch: ImportedRecord[] = [];
    let read = noFilesRead();
    const now = () => this.#deps.clock.now();
    // The writer's transactions see no rows committed after they begin: ImportRecords calls that were under
    // way when the import started end first (later ones are refused while it runs).
    await Promise.allSettled(this.#directWrites.get(record.destination) ?? []);
    // The import's own connection: its writer keeps a transaction open between batches (import-writer.ts).
    const conn = await this.#deps.connect();
    try {
      await conn.serial((raw) => prepareImportConnection(raw));
      const writer = new ImportWriter(storeId, this.#deps.storeRows);
      // Batches of files read but not yet counted done, each with the end of its records in the writer's count:
      // its files are done (their failures recorded, and a restart going on after them) once that many records
      // are committed.
      const unstoredFiles: (FilesRead & { endN: number })[] = [];
      // The writer counts from 0 in this run; what earlier runs of the import stored is already in its record.
      const eventsBefore = record.statistics.eventsCompleted;
      // One batch is written while the next is read and parsed: DuckDB's insert runs on its own threads, so
      // the two overlap; at most one write is in flight, and batches commit in order.
      let writing: Promise<void> = Promise.resolve();
      const flush = async (last: boolean): Promise<void> => {
        await writing;
        const [rows, done] = [batch, read.files > 0 || read.retried.length > 0 ? read : undefined];
        batch = [];
        read = noFilesRead();
        if (rows.length === 0 && done === undefined && !last) return;
        // The batch's files end where its records do, known once they are all written.
        let uncounted = done;
        const countRead = () => {
          if (uncounted !== undefined) unstoredFiles.push({ endN: writer.written, ...uncounted });
          uncounted = undefined;
        };
        let committed: ImportRecord | undefined;
        writing = conn.serial(async (raw) => {
          await writer.write(raw, rows, {
            final: last,
            progress: async (tx, stored, batchWritten) => {
              if (batchWritten) countRead();
              let n = 0;
              while (n < unstoredFiles.length && (unstoredFiles[n]?.endN ?? Infinity) <= stored) n++;
              const counted = unstoredFiles.splice(0, n);
              const through = counted.findLast((f) => f.through !== undefined)?.through;
              const retried = new Set(counted.flatMap((f) => f.retried));
              const changes = counted.flatMap((f) => f.failures);
              const base = committed ?? record;
              committed = {
                ...base,
                ...(through !== undefined ? { doneThroughKey: through } : {}),
                ...(base.retrying !== undefined ? { retrying: base.retrying.filter((k) => !retried.has(k)) } : {}),
                statistics: {
                  ...base.statistics,
                  filesCompleted: base.statistics.filesCompleted + counted.reduce((sum, f) => sum + f.files, 0),
                  eventsCompleted: eventsBefore + stored,
                  // Entries now FAILED: new ones, and retried ones that failed again (RETRY was not counted).
                  failedEntries: base.statistics.failedEntries + changes.filter((f) => f.status === 'FAILED').length,
                  prefixesCompleted:
                    through === undefined
                      ? base.statistics.prefixesCompleted
                      : completedPrefixes(base.prefixes ?? [], through),
                },
                updatedAtMs: now(),
              };
              await this.#deps.store.putIn(tx, committed, changes);
            },
            // Kept as soon as it commits: a failure later in the batch must not write an older state over it.
            committed: () => {
              if (committed === undefined) return;
              record = committed;
              // StopImport may have come meanwhile; it wins.
              const stopped = this.#deps.store.get(id)?.status === 'STOPPED';
              this.#deps.store.remember(stopped ? { ...committed, status: 'STOPPED' } : committed);
            },
          });
          countRead();
        });
        // A failure surfaces at the next flush (or the last), not as an unhandled rejection meanwhile.
        writing.catch(() => undefined);
      };
      // Files a retry reads again come first; the listing then goes on after the last file done.
      const again = new Set(record.retrying ?? []);
      const fileRead = (key: string, failure: ImportFailure | undefined) => {
        if (again.has(key)) {
          read.retried.push(key);
          read.failures.push(
            failure ?? { location: fileLocation(bucket, key), status: 'SUCCEEDED', updatedAtMs: now() },
          );
          return;
        }
        read.files++;
        read.through = key;
        if (failure !== undefined) read.failures.push(failure);
      };
      const onError = (key: string, reason: string) =>
        fileRead(key, fileFailure(bucket, key, 'FileReadError', reason, now()));
      const { objects } = this.#deps;
      const startAfter = record.doneThroughKey;
      const logs = (async function* () {
        yield* readLogFiles(objects, bucket, again, { onError });
        yield* readDeliveredLogs(objects, bucket, prefix, { ...fileWindow, startAfter, onError });
      })();
      for await (const file of logs) {
        if (this.#interrupted(id)) break;
        const rejected: string[] = [];
        let good = 0;
        for (const [index, raw] of file.records.entries()) {
          const verdict = checkImportedRecord(raw, window);
          if (verdict.kind === 'outside') continue;
          if (verdict.kind === 'rejected') {
            rejected.push(`Records[${index}]: ${verdict.reason}`);
            continue;
          }
          batch.push(verdict.record);
          good++;
        }
        const failure =
          rejected.length === 0
            ? undefined
            : fileFailure(
                bucket,
                file.key,
                'InvalidRecord',
                `${rejected.length} of ${file.records.length} records are not CloudTrail records and were not imported (${good} were); first: ${rejected[0]}`,
                now(),
              );
        fileRead(file.key, failure);
        if (batch.length >= batchEvents) await flush(false);
      }
      await flush(true);
      await writing;
    } finally {
      await conn.close();
    }
    if (this.#closed && !importFinished((this.#deps.store.get(id) as ImportRecord).status)) return;
    const final = this.#deps.store.get(id) as ImportRecord;
    if (final.status === 'STOPPED') {
      await this.#deps.store.put({ ...final, updatedAtMs: now() });
      return;
    }
    // The import as a whole failed before, and this run of its retry has gone through.
    const runFailures = await this.#deps.store.failuresIn(id, 'RETRY');
    const done: ImportRecord = {
      ...final,
      // As on AWS, an import that ran through but could not copy everything is FAILED, and can be retried.
      status: final.statistics.failedEntries > 0 ? 'FAILED' : 'COMPLETED',
      statistics: { ...final.statistics, prefixesCompleted: final.statistics.prefixesFound },
      updatedAtMs: now(),
    };
    await this.#deps.store.put(
      done,
      runFailures.map((f) => ({ location: f.location, status: 'SUCCEEDED' as const, updatedAtMs: now() })),
    );
  }

  /** The folders holding log files to import (the key up to its last `/`), in key order. */
  async #listPrefixes(bucket: string, prefix: string, window: ReadLogsOptions): Promise<string[]> {
    const prefixes = new Set<string>();
    // The same walk readDeliveredLogs makes: the files counted are the files read.
    for await (const key of logFileKeys(this.#deps.objects, bucket, prefix, window)) {
      prefixes.add(key.slice(0, key.lastIndexOf('/') + 1));
    }
    return [...prefixes];
  }
}

/** What the files read since a batch began did, committed with the batch's events. */
interface FilesRead {
  /** New files read (a retry's files were counted when they first failed). */
  files: number;
  /** The last new file, which a restart or retry goes on after. */
  through?: string;
  /** Failed files read again. */
  retried: string[];
  failures: ImportFailureChange[];
}

function noFilesRead(): FilesRead {
  return { files: 0, retried: [], failures: [] };
}

/** `s3://bucket/prefix` → its parts (the prefix possibly empty). */
export function parseS3Location(uri: string): { bucket: string; prefix: string } {
  const m = S3_URI.exec(uri);
  return { bucket: m?.[1] ?? '', prefix: m?.[2] ?? '' };
}

/** Prefixes all of whose files lie at or before `lastKey` in key order. */
function completedPrefixes(prefixes: readonly string[], lastKey: string): number {
  const current = lastKey.slice(0, lastKey.lastIndexOf('/') + 1);
  return prefixes.filter((p) => p < current).length;
}

/** How an import names a file in its failures (ListImportFailures' Location). */
function fileLocation(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

function fileFailure(
  bucket: string,
  key: string,
  errorType: string,
  errorMessage: string,
  atMs: number,
): ImportFailure {
  return {
    location: fileLocation(bucket, key),
    status: 'FAILED',
    errorType,
    errorMessage: errorMessage.slice(0, 1000),
    updatedAtMs: atMs,
  };
}

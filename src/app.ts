import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { adminApi } from './api/admin-api.ts';
import type { AwsJsonDeps } from './api/aws-json.ts';
import { cloudTrailApi } from './api/cloudtrail-api.ts';
import { CLOUDTRAIL_DATA_SIGNING_NAME } from './api/cloudtrail-data-api.ts';
import { ingestApi } from './api/ingest-api.ts';
import { organizationsApi } from './api/organizations-api.ts';
import { buildServer, HEALTH_PATH, type RawHandler, type Server } from './api/server.ts';
import type { Services } from './api/services.ts';
import { Capture } from './capture/capture.ts';
import { IngestCheckers } from './capture/ingest-workers.ts';
import type { Config } from './config/load-config.ts';
import { EventHistory, HistoryConsumer, HistoryIndex, LookupRateLimit, readyForLookups } from './history/index.ts';
import { type AdminIdentity, bootstrapAdmin, IdentityStore, rootPrincipal } from './identity/index.ts';
import {
  applyLakeRetention,
  ChannelService,
  ChannelStore,
  countStoreEvents,
  DashboardService,
  DashboardStore,
  EventDataStoreService,
  EventDataStoreStore,
  ImportStore,
  LakeConsumer,
  LakeImports,
  LakeQueries,
  prepareImportConnection,
  QueryDelivery,
  QueryStore,
} from './lake/index.ts';
import { ConsumerRunner } from './log/consumer.ts';
import { EventLog } from './log/event-log.ts';
import { type Clock, HOUR_MS, systemClock } from './model/clock.ts';
import { cryptoIds, type IdSource } from './model/ids.ts';
import { createLogger } from './model/logger.ts';
import { PeriodicTask } from './model/periodic-task.ts';
import { createObjectStore, type ObjectStore } from './objectstore/index.ts';
import {
  loadOperationTable,
  MOTO_ACCOUNT_ID,
  MOTO_CREDENTIALS,
  MotoApi,
  type MotoServer,
  provisionMotoIdentity,
  RecordingProxy,
  startMotoServer,
  Upstreams,
} from './proxy/index.ts';
import { ConnectionPool, Database } from './store/database.ts';
import {
  createKmsKeys,
  createNotifier,
  createSnsTopics,
  SigningKeys,
  TrailDelivery,
  TrailService,
  TrailStore,
} from './trails/index.ts';

/**
 * The composition root (style.md item 2): opens the database, the log and the object store, builds every
 * service and the HTTP server, and closes them all in reverse order. Nothing is created at import time.
 */
export interface AppDeps {
  clock?: Clock;
  ids?: IdSource;
  logger?: Logger;
  objectStore?: ObjectStore;
  onUndeclaredError?: AwsJsonDeps['onUndeclaredError'];
  /** Uncompressed bytes per delivered Lake result file (100 MB); tests make it small to see results split. */
  lakeResultFileBytes?: number;
  /** Lake imports' batch sizes (LakeImportsDeps); tests make them small to see an import stored in parts. */
  importBatches?: { events: number; storeRows: number };
  /** Records per run of event history's hash index (RUN_EVENTS); tests make it small to see runs made. */
  historyIndexRunEvents?: number;
}

export interface App {
  readonly config: Config;
  readonly server: Server;
  readonly services: Services;
  readonly admin: AdminIdentity;
  /** Resolves once event history holds every record committed so far. */
  historyCaughtUp(): Promise<void>;
  /** Resolves once every event data store has taken what it takes of the records committed so far. */
  lakeCaughtUp(): Promise<void>;
  /** Resolves when no trail delivery or digest run is in flight. */
  deliveryIdle(): Promise<void>;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Requests up to 32 MB: ingest batches of thousands of ~1 KB records. */
const BODY_LIMIT_BYTES = 32 * 1024 * 1024;
const READ_CONNECTIONS = 4;
/** Lake queries running at once; more wait QUEUED (up to 10 unfinished per account). */
const LAKE_QUERY_RUNNERS = 2;
/**
 * Event history and the Lake wait up to 100 ms for records to share a DuckDB transaction (an INSERT costs
 * 6-10 ms of CPU whatever its size, most of it per column of the table), and stop waiting once 250 are
 * there: a steady stream is then stored in bursts of about 250 as it comes, not one burst per 100 ms. At
 * 5,000 events/s those bursts held acknowledgements back (ack p99 24 → 18 ms, for ~8% of a core more).
 */
const CONSUMER_LINGER = { lingerMs: 100, lingerEntries: 250 };

export async function createApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? cryptoIds;
  const logger = deps.logger ?? createLogger(config.logLevel);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  const closers = new Closers();
  try {
    return await assemble({ config, deps, clock, ids, logger, closers });
  } catch (error) {
    // The start's own error is the one to report; one about closing what it had opened is only logged.
    await closers.closeAll().catch((err: unknown) => logger.error({ err }, 'could not close after a failed start'));
    throw error;
  }
}

/**
 * Everything opened is closed in reverse order: on close(), or when a later step of the start fails. A closer
 * that throws does not stop the ones after it (that would leave the database and log open behind it); the
 * errors are thrown together once every closer has run.
 */
class Closers {
  readonly #closers: (() => Promise<void> | void)[] = [];

  push(close: () => Promise<void> | void): void {
    this.#closers.push(close);
  }

  readonly closeAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'several parts of the service failed to close');
  };
}

/**
 * moto mode fills in what is not set with moto_server: started here unless --upstream names one, it is the
 * upstream of every proxied service and the S3, SNS and KMS endpoint of trails, so trails deliver into the
 * buckets the user's tests create there.
 */
async function withMoto(config: Config, closers: Closers): Promise<{ config: Config; moto?: string }> {
  if (!config.moto) return { config };
  let endpoint = config.upstream?.default;
  if (endpoint === undefined) {
    const server: MotoServer = await startMotoServer();
    closers.push(() => server.stop());
    endpoint = server.endpoint;
  }
  const service = { endpoint, ...MOTO_CREDENTIALS, region: 'us-east-1' };
  return {
    moto: endpoint,
    config: Object.freeze({
      ...config,
      upstream: config.upstream ?? { default: endpoint, services: {}, ...MOTO_CREDENTIALS },
      objectStore: config.objectStore.kind === 'local' ? { kind: 's3' as const, ...service } : config.objectStore,
      sns: config.sns ?? service,
      kms: config.kms ?? service,
    }),
  };
}

interface Assembly {
  config: Config;
  deps: AppDeps;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  closers: Closers;
}

async function assemble({ config: given, deps, clock, ids, logger, closers }: Assembly): Promise<App> {
  const { config, moto } = await withMoto(given, closers);
  /** Runs `task` every `periodMs` of the clock until the server stops; a failure is logged and the next period tries again. */
  const every = (periodMs: number, task: () => Promise<void>, failure: string): void => {
    const periodic = new PeriodicTask(clock, periodMs, task, (err) => logger.warn({ err }, failure));
    periodic.start();
    closers.push(() => periodic.stop());
  };
  const lakeProfiles = join(config.dataDir, 'lake-profiles');
  const db = await Database.open(join(config.dataDir, 'opentrail.duckdb'), clock.now(), {
    memoryLimit: config.memoryLimit,
    fileDirectories: [lakeProfiles],
    ...(config.duckdbThreads > 0 ? { threads: config.duckdbThreads } : {}),
  });
  closers.push(() => db.close());
  const log = await EventLog.open(join(config.dataDir, 'log'));
  closers.push(() => log.close());
  const [controlConn, historyConn, deliveryConn, lakeConn] = [
    await db.connect(),
    await db.connect(),
    await db.connect(),
    await db.connect(),
  ];
  // Lookups run in parallel on their own connections; DuckDB executes each on its own threads.
  const reads = new ConnectionPool(
    await Promise.all(Array.from({ length: READ_CONNECTIONS }, async () => readyForLookups(await db.connect()))),
  );

  const identity = await IdentityStore.load(
    controlConn,
    join(config.dataDir, 'secrets', 'access-keys.json'),
    clock,
    ids,
  );
  const admin = await bootstrapAdmin(identity, config.admin);
  if (config.moto) await provisionMotoIdentity(identity);
  const objects =
    deps.objectStore ??
    createObjectStore({
      dataDir: config.dataDir,
      ...(config.objectStore.kind === 's3' ? { s3: config.objectStore } : {}),
    });
  closers.push(() => objects.close());
  const trailStore = await TrailStore.load(controlConn);
  const [kms, sns] = [createKmsKeys(config.kms), createSnsTopics(config.sns, !config.moto)];
  closers.push(() => kms.close());
  closers.push(() => sns.close());
  const trails = new TrailService({
    store: trailStore,
    identity,
    objects,
    clock,
    currentSeq: () => log.loggedSeq(),
    kms,
    sns,
    checkBucketPolicies: !config.moto,
  });
  const edsStore = await EventDataStoreStore.load(controlConn);
  const eventDataStores = new EventDataStoreService({
    store: edsStore,
    identity,
    kms,
    clock,
    ids,
    currentSeq: () => log.loggedSeq(),
    countEvents: (storeId) => reads.use((conn) => conn.serial((raw) => countStoreEvents(raw, storeId))),
    channelsDeliveringTo: (storeArn) => channels.deliveringTo(storeArn).map((c) => c.arn),
    hasOngoingImport: (storeArn) => lakeImports.hasOngoingImport(storeArn),
  });
  // Digests and Lake's query-result sign files are signed with the same Region key pairs.
  const signingKeys = await SigningKeys.open(join(config.dataDir, 'secrets'), clock);
  // Lake queries run on connections of their own, so a long query neither waits for nor holds up lookups.
  const lakeQueries = new LakeQueries({
    stores: eventDataStores,
    queries: new QueryStore(controlConn),
    reads,
    runners: await Promise.all(Array.from({ length: LAKE_QUERY_RUNNERS }, () => db.connect())),
    clock,
    ids,
    delivery: new QueryDelivery({
      objects,
      signingKeys,
      checkPolicy: !config.moto,
      ...(deps.lakeResultFileBytes !== undefined ? { maxFileBytes: deps.lakeResultFileBytes } : {}),
      onError: (err, queryId) => logger.warn({ err, queryId }, 'a Lake query’s results could not be delivered'),
    }),
    profileDir: lakeProfiles,
    onError: (err) => logger.error({ err }, 'a Lake query could not store its outcome'),
  });
  closers.push(() => lakeQueries.close());
  await lakeQueries.recover();
  // Imports write on connections of their own (one per running import, one for `opentrail import`'s calls): a
  // batch of thousands of events never holds up the lake consumer.
  const importConn = await db.connect();
  await importConn.serial((raw) => prepareImportConnection(raw));
  const lakeImports = new LakeImports({
    conn: importConn,
    connect: () => db.connect(),
    store: await ImportStore.load(importConn),
    eventDataStores,
    objects,
    clock,
    ids,
    onError: (err, importId) => logger.error({ err, importId }, 'a Lake import failed'),
    ...(deps.importBatches ? { batchEvents: deps.importBatches.events, storeRows: deps.importBatches.storeRows } : {}),
  });
  lakeImports.recover();
  closers.push(() => lakeImports.close());
  const historyIndex = await HistoryIndex.load(historyConn, deps.historyIndexRunEvents);
  const history = new EventHistory(reads, clock, historyIndex);
  const capture = new Capture(log);
  const ingestCheckers = await IngestCheckers.start(
    config.ingestWorkers,
    () => ids.uuid(),
    (err) => logger.error({ err }, 'an ingest check failed (a worker that died is replaced)'),
  );
  closers.push(() => ingestCheckers.close());
  const channels = new ChannelService({
    store: await ChannelStore.load(controlConn),
    eventDataStores,
    clock,
    ids,
    checkAuditEvents: (events, channel, ingestionTime) =>
      ingestCheckers.checkAuditEvents(events, channel, ingestionTime),
    appendPayloads: (payloads) => capture.appendPayloads(payloads),
  });
  // IngestionStatus is written behind the calls that change it: at most once a second, and once more when
  // stopping (closers run last first, so this one runs after the periodic save has stopped).
  closers.push(() => channels.saveStatuses());
  every(1000, () => channels.saveStatuses(), "could not store channels' IngestionStatus; trying again");
  const dashboards = new DashboardService({
    store: await DashboardStore.load(controlConn),
    eventDataStores,
    queries: lakeQueries,
    clock,
    ids,
  });
  const notifier = createNotifier(config.sns);
  closers.push(() => notifier.close());
  const delivery = await TrailDelivery.start({
    conn: deliveryConn,
    log,
    trails: trailStore,
    identity,
    objects,
    signingKeys,
    notifier,
    clock,
    logger,
    deliveryIntervalMs: config.deliveryIntervalMs,
    digestIntervalMs: config.digestIntervalMs,
  });
  closers.push(() => delivery.stop());
  // Handlers get these and nothing else: no settings object, so no path from a request to a credential.
  const services: Services = {
    clock,
    ids,
    identity,
    trails,
    delivery,
    signingKeys,
    history,
    eventDataStores,
    lakeQueries,
    lakeImports,
    channels,
    dashboards,
    lookupRateLimit: new LookupRateLimit(config.lookupRateLimit, clock),
    capture,
    ingestCheckers,
    logger,
  };

  const historyConsumer = new HistoryConsumer(
    historyConn,
    (seq, error) => logger.error({ err: error, seq }, 'history skipped a record it could not store'),
    {
      index: historyIndex,
      onIndexError: (err) =>
        logger.warn({ err }, 'could not extend the history hash index; lookups by EventId read more until it is'),
    },
  );
  let lakeRunner: ConsumerRunner | undefined;
  const historyRunner = new ConsumerRunner(log, historyConsumer, {
    // History may trail the log by a fraction of a second (AWS's trails by minutes) so that light traffic
    // is stored in batches rather than one transaction per event.
    ...CONSUMER_LINGER,
    // Segments every consumer (history and each trail) is past can go.
    onAdvance: (_name, cursor) => {
      log
        .truncateBefore(Math.min(cursor, delivery.cursorFloor() ?? cursor, lakeRunner?.cursor ?? 0) + 1)
        .catch((err: unknown) => logger.warn({ err }, 'could not drop consumed log segments'));
    },
    onError: (name, err) => logger.error({ err, consumer: name }, 'consumer batch failed; retrying'),
  });
  await historyRunner.start();
  closers.push(() => historyRunner.stop());

  // Event data stores: one runner for all of them, each store with its own cursor (src/lake/lake-consumer.ts).
  const isGone = (store: Parameters<EventDataStoreService['isGone']>[0]) => eventDataStores.isGone(store);
  const lakeConsumer = new LakeConsumer({
    conn: lakeConn,
    stores: edsStore,
    identity,
    isGone,
    firstCursor: () => log.committedSeq,
    onSkip: (seq, error) => logger.error({ err: error, seq }, 'the lake skipped a record it could not store'),
  });
  lakeRunner = new ConsumerRunner(log, lakeConsumer, {
    ...CONSUMER_LINGER,
    onError: (name, err) => logger.error({ err, consumer: name }, 'consumer batch failed; retrying'),
  });
  await lakeRunner.start();
  closers.push(() => lakeRunner?.stop());
  every(
    HOUR_MS,
    () => applyLakeRetention({ conn: lakeConn, stores: edsStore, clock, isGone }),
    'could not apply event data store retention',
  );
  every(HOUR_MS, () => lakeQueries.dropExpired(), 'could not drop expired Lake query results');
  // Dashboard schedules are checked every minute of the clock (their slots fall on whole minutes).
  every(60_000, () => dashboards.runSchedules(), 'could not run dashboard refresh schedules');
  every(HOUR_MS, () => dashboards.dropExpired(), 'could not drop expired dashboard refreshes');
  every(HOUR_MS, () => history.dropExpired(), 'could not drop expired history');

  const rawHandlers: RawHandler[] = [];
  if (moto !== undefined) {
    rawHandlers.push(
      new MotoApi({
        endpoint: moto,
        logger,
        onReset: async () => {
          for (const trail of trailStore.all().filter((t) => t.accountId === MOTO_ACCOUNT_ID)) {
            const caller = {
              principal: rootPrincipal(MOTO_ACCOUNT_ID, false),
              region: trail.homeRegion,
              accessKeyId: '',
            };
            await trails.delete(caller, trail.arn);
          }
        },
      }),
    );
  }
  const upstreams = new Upstreams(config.upstream ?? { services: {}, accessKeyId: '', secretAccessKey: '' });
  closers.push(() => upstreams.close());
  const apis = [cloudTrailApi, adminApi, ingestApi, organizationsApi];
  rawHandlers.push(
    new RecordingProxy({
      table: loadOperationTable(),
      upstreams,
      identity,
      clock,
      ids,
      capture,
      logger,
      ownServices: new Set([...apis.flatMap((api) => api.signingNames), CLOUDTRAIL_DATA_SIGNING_NAME]),
      ownTargetPrefixes: new Set(apis.flatMap((api) => api.targetPrefixes)),
      bodyLimit: BODY_LIMIT_BYTES,
      ...(config.objectStore.kind === 'local' ? { localObjects: objects } : {}),
      ownGetPaths: new Set([HEALTH_PATH]),
    }),
  );
  const server = buildServer({
    rawHandlers,
    apis,
    services,
    logger,
    bodyLimit: BODY_LIMIT_BYTES,
    health: () => {
      const memory = process.memoryUsage();
      return {
        log: { committedSeq: log.committedSeq, writtenSeq: log.writtenSeq },
        consumers: { [historyRunner.name]: historyRunner.cursor, [lakeConsumer.name]: lakeRunner?.cursor ?? null },
        // Records a consumer could not store and stepped over (each one logged, and kept in skipped_records).
        skippedRecords: { [historyRunner.name]: historyConsumer.skipped, [lakeConsumer.name]: lakeConsumer.skipped },
        // LookupEvents by EventId and ResourceName: what the hash index's runs cover (history-index.ts).
        historyIndex: { watermark: historyIndex.watermark, runs: historyIndex.runs },
        delivery: { cursorFloor: delivery.cursorFloor() ?? null },
        memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, externalBytes: memory.external },
      };
    },
    onInternalError: (err, requestId) => logger.error({ err, requestId }, 'internal failure'),
    ...(deps.onUndeclaredError ? { onUndeclaredError: deps.onUndeclaredError } : {}),
  });

  closers.push(() => server.close());
  return {
    config,
    server,
    services,
    admin,
    historyCaughtUp: () => historyRunner.caughtUp(log.writtenSeq),
    lakeCaughtUp: () => lakeRunner?.caughtUp(log.writtenSeq) ?? Promise.resolve(),
    deliveryIdle: () => delivery.idle(),
    async listen() {
      return server.listen({ port: config.port, host: config.host });
    },
    close: closers.closeAll,
  };
}

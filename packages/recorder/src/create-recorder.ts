import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RecordDefaults, type RecordInput, recordText } from './build-record.ts';
import { CaptureError } from './errors/capture-error.ts';
import type { RecorderError } from './errors/recorder-error.ts';
import { IngestClient } from './ingest-client.ts';
import { type RecorderOptions, resolveOptions } from './recorder-options.ts';
import { redact } from './redact.ts';
import { type Annotation, createRequestWatcher } from './request-watcher.ts';
import { Shipper } from './shipper.ts';
import { Spool } from './spool.ts';

export type { Annotation } from './request-watcher.ts';

export interface RecorderStats {
  /** Records taken since the recorder was created. */
  recorded: number;
  /** Records opentrail acknowledged. */
  delivered: number;
  /** Records opentrail refused one by one (each reported as a RecordRejectedError). */
  rejected: number;
  /** Records lost: the spool was full or unusable, or they came after close() (each reported). */
  dropped: number;
  /** Records waiting to be delivered, those an earlier run left in the spool included. */
  spooledRecords: number;
  /** Bytes of the spool's files. */
  spooledBytes: number;
}

type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** The part of Fastify the plugin uses; `app.register(recorder.fastify)` passes the real instance. */
export interface FastifyHooks {
  addHook(
    name: 'onRequest',
    hook: (request: { raw: IncomingMessage }, reply: { raw: ServerResponse }, done: () => void) => void,
  ): unknown;
}
export type FastifyRecorderPlugin = (instance: FastifyHooks, options: unknown, done: (error?: Error) => void) => void;

export interface Recorder {
  /** `app.use(recorder.express())`, before your routes (and before or after express.json(), either works). */
  express(): ExpressMiddleware;
  /** `await app.register(recorder.fastify)`: records every route of the app, not only one encapsulated context. */
  readonly fastify: FastifyRecorderPlugin;
  /** `http.createServer(recorder.wrap(handler))`. */
  wrap<R>(handler: (req: IncomingMessage, res: ServerResponse) => R): (req: IncomingMessage, res: ServerResponse) => R;
  /** Adds members to the record of the request being served, e.g. `{responseElements: {orderId}}`. */
  annotate(req: IncomingMessage | { raw: IncomingMessage }, fields: Annotation): void;
  /** Records an event your code describes (a job, a message); returns its eventID, or undefined if it could not. */
  record(input: RecordInput): string | undefined;
  /** Sends everything recorded so far now; true when opentrail has it all. Never rejects. */
  flush(): Promise<boolean>;
  /** Flushes, then stops; what could not be sent stays in the spool for the next start. Call it after your server closes. */
  close(): Promise<void>;
  stats(): RecorderStats;
}

/**
 * A recorder: each request your service serves to a route in `operations` becomes a CloudTrail record,
 * written to the spool when the response ends and sent to opentrail in batches. Nothing on the request path
 * waits for the disk or the network, and nothing the recorder meets is thrown into your code: problems go to
 * `onError`. The recorder starts at once; records left in the spool by an earlier run are sent first.
 */
export function createRecorder<Req = IncomingMessage>(options: RecorderOptions<Req>): Recorder {
  const settings = resolveOptions(options);
  const counts = { recorded: 0, delivered: 0, rejected: 0, dropped: 0 };
  const annotations = new WeakMap<IncomingMessage, Annotation>();
  const report = (error: RecorderError) => settings.onError(error);
  let closing: Promise<void> | undefined;

  const client = new IngestClient({
    endpoint: settings.endpoint,
    region: settings.region,
    credentials: settings.credentials,
    clock: settings.clock,
    requestTimeoutMs: settings.requestTimeoutMs,
  });
  const spool: Spool = new Spool({
    dir: settings.spoolDir,
    maxBytes: settings.maxSpoolBytes,
    maxBatchRecords: settings.maxBatchRecords,
    maxBatchBytes: settings.maxBatchBytes,
    flushIntervalMs: settings.flushIntervalMs,
    writeDelayMs: settings.writeDelayMs,
    clock: settings.clock,
    onSealed: () => shipper.kick(),
    onDropped: (error) => {
      counts.dropped += error.count;
      report(error);
    },
    onError: report,
  });
  const shipper = new Shipper({
    spool,
    client,
    clock: settings.clock,
    random: settings.random,
    retryBaseDelayMs: settings.retryBaseDelayMs,
    retryMaxDelayMs: settings.retryMaxDelayMs,
    onDelivered: (n) => {
      counts.delivered += n;
    },
    onRejected: (error) => {
      counts.rejected += 1;
      report(error);
    },
    onError: report,
  });

  const defaults: RecordDefaults = {
    eventSource: settings.eventSource,
    awsRegion: settings.region,
    now: () => settings.clock.now(),
    newEventId: settings.newEventId,
  };

  function record(input: RecordInput): string | undefined {
    try {
      const eventID = defaults.newEventId();
      const json = recordText(input, defaults, eventID);
      counts.recorded += 1;
      spool.add(json);
      return eventID;
    } catch (error) {
      report(new CaptureError(`An event could not be recorded: ${(error as Error).message}`, { cause: error }));
      return undefined;
    }
  }

  const observe = createRequestWatcher(settings, { record, report, annotations });
  const redactedMembers = (members: Record<string, unknown>) =>
    redact(members, settings.redacted) as Record<string, unknown>;

  const fastify: FastifyRecorderPlugin = Object.assign(
    (instance: FastifyHooks, _options: unknown, done: (error?: Error) => void) => {
      instance.addHook('onRequest', (request, reply, next) => {
        observe(request.raw, reply.raw, request);
        next();
      });
      done();
    },
    // What fastify-plugin sets: the hook applies to the whole app, not only inside the plugin's context.
    { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@opentrail/recorder' },
  );

  async function flush(): Promise<boolean> {
    await spool.seal();
    const release = client.holdProcess();
    try {
      return await shipper.flush();
    } finally {
      release();
    }
  }

  return {
    express: () => (req, res, next) => {
      observe(req, res, req);
      next();
    },
    fastify,
    wrap: (handler) => (req, res) => {
      observe(req, res, req);
      return handler(req, res);
    },
    annotate(req, fields) {
      const raw = 'raw' in req ? req.raw : req;
      annotations.set(raw, { ...annotations.get(raw), ...fields });
    },
    // Members your code passes are redacted as a request's are.
    record: (input) =>
      record({
        ...input,
        ...(input.requestParameters ? { requestParameters: redactedMembers(input.requestParameters) } : {}),
        ...(input.responseElements ? { responseElements: redactedMembers(input.responseElements) } : {}),
        ...(input.additionalEventData ? { additionalEventData: redactedMembers(input.additionalEventData) } : {}),
      }),
    flush,
    close() {
      closing ??= (async () => {
        await flush();
        shipper.close();
        client.close();
        await spool.close();
      })();
      return closing;
    },
    stats: () => {
      const s = spool.stats();
      return { ...counts, spooledRecords: s.records, spooledBytes: s.bytes };
    },
  };
}

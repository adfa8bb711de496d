import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Clock, systemClock } from './clock.ts';
import type { UserIdentity } from './cloudtrail-record.ts';
import type { RecorderError } from './errors/recorder-error.ts';
import { redactionSet } from './redact.ts';
import { compileOperations, type OperationMap, type OperationMatcher } from './route-map.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Everything `createRecorder` takes. `Req` is the request object your framework hands `identify`: node's
 * `IncomingMessage` for `wrap` and Express, `FastifyRequest` for the Fastify plugin.
 */
export interface RecorderOptions<Req = IncomingMessage> {
  /** opentrail's URL, e.g. `http://127.0.0.1:4790`. */
  endpoint: string | URL;
  /** The Region records are written in (`awsRegion`) and requests are signed for. */
  region: string;
  /** An opentrail access key; records land in its account. A function is asked before each batch. */
  credentials: Credentials | (() => Promise<Credentials>);
  /** Your service's name in the records, e.g. `orders.example.com`. */
  eventSource: string;
  /** `{'POST /orders': 'CreateOrder', 'DELETE /orders/:id': 'CancelOrder'}`; other requests are not recorded. */
  operations: OperationMap;
  /** Where records wait until opentrail has them: one directory per process. */
  spoolDir: string;
  /** Who made the request, as CloudTrail's userIdentity; `{type: 'Unknown'}` when absent or undefined. */
  identify?: (req: Req) => UserIdentity | undefined;
  /** Member names recorded as `HIDDEN_DUE_TO_SECURITY_REASONS`, at any depth, any case. */
  redact?: readonly string[];
  /** Take sourceIPAddress from the first X-Forwarded-For entry (behind a proxy you trust). */
  trustProxy?: boolean;
  /** Every problem the recorder meets; none is ever thrown into your request handling. */
  onError?: (error: RecorderError) => void;
  /** A batch is sent when it holds this many records (default 500)... */
  maxBatchRecords?: number;
  /** ...or this many bytes (default 4 MiB)... */
  maxBatchBytes?: number;
  /** ...or this long after its first record (default 1,000 ms). */
  flushIntervalMs?: number;
  /**
   * Records are written to the spool together, at most this long after they are recorded (default 20 ms),
   * or at once when they fill a batch. A record not yet written is lost if your process dies.
   */
  writeDelayMs?: number;
  /** The spool's bound (default 128 MiB); when full, the oldest records are dropped and counted. */
  maxSpoolBytes?: number;
  /** Backoff after a failed batch: doubles from this (default 200 ms)... */
  retryBaseDelayMs?: number;
  /** ...up to this (default 30,000 ms), with jitter. */
  retryMaxDelayMs?: number;
  /** A batch with no answer by then has failed (default 10,000 ms). */
  requestTimeoutMs?: number;
  clock?: Clock;
  newEventId?: () => string;
  /** In [0, 1): the backoff's jitter. */
  random?: () => number;
}

export const DEFAULT_REDACT: readonly string[] = [
  'password',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'apiKey',
];

/** The options checked once, defaults filled, frozen. */
export interface RecorderSettings<Req> {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: Credentials | (() => Promise<Credentials>);
  readonly eventSource: string;
  readonly match: OperationMatcher;
  readonly spoolDir: string;
  readonly identify: ((req: Req) => UserIdentity | undefined) | undefined;
  readonly redacted: ReadonlySet<string>;
  readonly trustProxy: boolean;
  readonly onError: (error: RecorderError) => void;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
  readonly flushIntervalMs: number;
  readonly writeDelayMs: number;
  readonly maxSpoolBytes: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
  readonly newEventId: () => string;
  readonly random: () => number;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** The ingest API takes request bodies up to 32 MiB. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Checks the options when the recorder is created: a mistake throws a TypeError naming the option. */
export function resolveOptions<Req>(options: RecorderOptions<Req>): RecorderSettings<Req> {
  const endpoint = new URL(options.endpoint);
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new TypeError(`endpoint: '${endpoint.href}' must be an http: or https: URL.`);
  }
  if (typeof options.region !== 'string' || !REGION.test(options.region)) {
    throw new TypeError(`region: '${options.region}' is not a Region name like us-east-1.`);
  }
  if (typeof options.eventSource !== 'string' || options.eventSource === '') {
    throw new TypeError('eventSource: give your service a name, e.g. orders.example.com.');
  }
  if (typeof options.spoolDir !== 'string' || options.spoolDir === '') {
    throw new TypeError('spoolDir: name a directory for records waiting to be sent.');
  }
  if (options.credentials === undefined) throw new TypeError('credentials: an opentrail access key is needed.');
  const settings: RecorderSettings<Req> = {
    endpoint,
    region: options.region,
    credentials: options.credentials,
    eventSource: options.eventSource,
    match: compileOperations(options.operations),
    spoolDir: options.spoolDir,
    identify: options.identify,
    redacted: redactionSet(options.redact ?? DEFAULT_REDACT),
    trustProxy: options.trustProxy ?? false,
    onError: safely(options.onError),
    maxBatchRecords: positive('maxBatchRecords', options.maxBatchRecords, 500),
    maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes, 4 * 1024 * 1024),
    flushIntervalMs: positive('flushIntervalMs', options.flushIntervalMs, 1000),
    writeDelayMs: positive('writeDelayMs', options.writeDelayMs, 20),
    maxSpoolBytes: positive('maxSpoolBytes', options.maxSpoolBytes, 128 * 1024 * 1024),
    retryBaseDelayMs: positive('retryBaseDelayMs', options.retryBaseDelayMs, 200),
    retryMaxDelayMs: positive('retryMaxDelayMs', options.retryMaxDelayMs, 30_000),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, 10_000),
    clock: options.clock ?? systemClock,
    newEventId: options.newEventId ?? randomUUID,
    random: options.random ?? Math.random,
  };
  if (settings.maxBatchRecords > MAX_BATCH_RECORDS) {
    throw new TypeError(
      `maxBatchRecords: at most ${MAX_BATCH_RECORDS} (the ingest API takes that many records a call).`,
    );
  }
  if (settings.maxBatchBytes > MAX_BODY_BYTES / 2) {
    throw new TypeError(`maxBatchBytes: at most ${MAX_BODY_BYTES / 2} (the ingest API takes bodies up to 32 MiB).`);
  }
  if (settings.maxSpoolBytes < 2 * settings.maxBatchBytes) {
    throw new TypeError('maxSpoolBytes: must hold at least two batches (2 × maxBatchBytes).');
  }
  return Object.freeze(settings);
}

/** The ingest API's own limit on records a call (a batch over it would be refused every time it is sent). */
const MAX_BATCH_RECORDS = 10_000;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name}: ${value} is not a positive integer.`);
  return value;
}

/** An onError that throws must not take the recorder down with it. */
function safely(onError: ((error: RecorderError) => void) | undefined): (error: RecorderError) => void {
  return (error) => {
    try {
      onError?.(error);
    } catch {
      // The host's error handler failed; there is nowhere left to report it.
    }
  };
}

import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { RecordInput } from './build-record.ts';
import type { RecordResource, UserIdentity } from './cloudtrail-record.ts';
import { CaptureError } from './errors/capture-error.ts';
import type { RecorderError } from './errors/recorder-error.ts';
import { clientAddress, header, requestTarget, watchJsonBody } from './http-exchange.ts';
import type { RecorderSettings } from './recorder-options.ts';
import { requestParameters } from './request-parameters.ts';
import type { MatchedOperation } from './route-map.ts';

/** What your handler can add to the record of the request it is serving (see `annotate`). */
export interface Annotation {
  errorCode?: string;
  errorMessage?: string;
  responseElements?: Record<string, unknown> | null;
  resources?: RecordResource[];
  additionalEventData?: Record<string, unknown>;
}

export interface WatcherDeps {
  record(input: RecordInput): string | undefined;
  report(error: RecorderError): void;
  annotations: WeakMap<IncomingMessage, Annotation>;
}

/** What is kept of a request to an operation until its response ends. */
interface Watched {
  req: IncomingMessage;
  res: ServerResponse;
  hostRequest: unknown;
  operation: MatchedOperation;
  query: string;
  startMs: number;
  sourceIPAddress: string | undefined;
  teedBody: () => unknown;
}

/**
 * The function every framework adapter calls on each request: it decides at once whether the request is an
 * operation (others cost nothing more), notes what must be read before the socket goes, and builds the
 * record when the response has closed. It never throws into the host; what goes wrong is reported.
 *
 * It is on every request's path, so it is kept cheap: the target is read without the URL parser when it
 * can be, a route without parameters is found by its path, and the response is listened to with one plain
 * `on('close')` listener (`once` wraps each listener and removes it again). node emits 'close' on every
 * response: after 'finish' when it was sent whole, or when the connection closed before that.
 */
export function createRequestWatcher<Req>(
  settings: RecorderSettings<Req>,
  { record, report, annotations }: WatcherDeps,
): (req: IncomingMessage, res: ServerResponse, hostRequest: unknown) => void {
  function observe(req: IncomingMessage, res: ServerResponse, hostRequest: unknown): void {
    try {
      const target = requestTarget(req);
      const operation = settings.match(req.method ?? 'GET', target.path);
      if (operation === undefined) return;
      const watched: Watched = {
        req,
        res,
        hostRequest,
        operation,
        query: target.query,
        startMs: settings.clock.now(),
        // Read now: the socket may be gone when the response ends.
        sourceIPAddress: clientAddress(req, settings.trustProxy),
        teedBody: watchJsonBody(req),
      };
      res.on('close', () => ended(watched));
    } catch (error) {
      report(new CaptureError(`A request could not be watched: ${(error as Error).message}`, { cause: error }));
    }
  }

  function ended(watched: Watched): void {
    try {
      record(recordInput(watched, watched.res.writableFinished));
    } catch (error) {
      report(new CaptureError(`A request could not be recorded: ${(error as Error).message}`, { cause: error }));
    }
  }

  function recordInput(
    { req, res, hostRequest, operation, query, startMs, sourceIPAddress, teedBody }: Watched,
    completed: boolean,
  ): RecordInput {
    const parsed = (hostRequest as { body?: unknown }).body;
    const body = parsed === undefined || Buffer.isBuffer(parsed) ? teedBody() : parsed;
    const note = annotations.get(req);
    const outcome = failure(res.statusCode, completed);
    const { errorCode, errorMessage } = note === undefined ? outcome : { ...outcome, ...note };
    const requestId = header(req, 'x-request-id');
    return {
      eventName: operation.eventName,
      userIdentity: identify(hostRequest),
      eventTimeMs: startMs,
      sourceIPAddress,
      userAgent: header(req, 'user-agent'),
      errorCode,
      errorMessage,
      requestParameters: requestParameters(
        { query: query === '' ? undefined : new URLSearchParams(query), body, params: operation.params },
        settings.redacted,
      ),
      responseElements: note?.responseElements ?? null,
      additionalEventData: note?.additionalEventData,
      resources: note?.resources,
      requestID: requestId === '' ? undefined : requestId,
      readOnly: operation.readOnly,
    };
  }

  function identify(hostRequest: unknown): UserIdentity {
    if (settings.identify === undefined) return { type: 'Unknown' };
    try {
      return settings.identify(hostRequest as Req) ?? { type: 'Unknown' };
    } catch (error) {
      report(new CaptureError(`identify threw: ${(error as Error).message}`, { cause: error }));
      return { type: 'Unknown' };
    }
  }

  return observe;
}

interface Failure {
  errorCode?: string;
  errorMessage?: string;
}

const SUCCESS: Failure = Object.freeze({});
const CONNECTION_CLOSED: Failure = Object.freeze({
  errorCode: 'ConnectionClosed',
  errorMessage: 'The connection closed before the response was complete.',
});

/** A status of 400 or more, or an answer the client never got, as errorCode and errorMessage. */
function failure(status: number, completed: boolean): Failure {
  if (status >= 400) return { errorCode: String(status), errorMessage: STATUS_CODES[status] ?? `HTTP ${status}` };
  return completed ? SUCCESS : CONNECTION_CLOSED;
}

import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { RecordInput } from './build-record.ts';
import type { RecordResource, UserIdentity } from './cloudtrail-record.ts';
import { CaptureError } from './errors/capture-error.ts';
import type { RecorderError } from './errors/recorder-error.ts';
import { clientAddress, header, onExchangeEnd, requestUrl, watchJsonBody } from './http-exchange.ts';
import type { RecorderSettings } from './recorder-options.ts';
import { requestParameters } from './request-parameters.ts';

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

/**
 * The function every framework adapter calls on each request: it decides at once whether the request is an
 * operation (others cost nothing more), notes what must be read before the socket goes, and builds the
 * record when the response ends. It never throws into the host; what goes wrong is reported.
 */
export function createRequestWatcher<Req>(
  settings: RecorderSettings<Req>,
  { record, report, annotations }: WatcherDeps,
): (req: IncomingMessage, res: ServerResponse, hostRequest: unknown) => void {
  function observe(req: IncomingMessage, res: ServerResponse, hostRequest: unknown): void {
    try {
      const url = requestUrl(req);
      const method = req.method ?? 'GET';
      const operation = settings.match(method, url.pathname);
      if (operation === undefined) return;
      const startMs = settings.clock.now();
      // Read now: the socket may be gone when the response ends.
      const sourceIPAddress = clientAddress(req, settings.trustProxy);
      const teedBody = watchJsonBody(req);
      onExchangeEnd(res, (completed) => {
        try {
          const parsed = (hostRequest as { body?: unknown }).body;
          const body = parsed === undefined || Buffer.isBuffer(parsed) ? teedBody() : parsed;
          const note = annotations.get(req) ?? {};
          const { errorCode, errorMessage } = { ...failure(res.statusCode, completed), ...note };
          const userAgent = header(req, 'user-agent');
          const requestId = header(req, 'x-request-id');
          record({
            eventName: operation.eventName,
            userIdentity: identify(hostRequest),
            eventTimeMs: startMs,
            ...(sourceIPAddress !== undefined ? { sourceIPAddress } : {}),
            ...(userAgent !== undefined ? { userAgent } : {}),
            ...(errorCode !== undefined ? { errorCode } : {}),
            ...(errorMessage !== undefined ? { errorMessage } : {}),
            requestParameters: requestParameters(
              { query: url.searchParams, body, params: operation.params },
              settings.redacted,
            ),
            responseElements: note.responseElements ?? null,
            ...(note.additionalEventData !== undefined ? { additionalEventData: note.additionalEventData } : {}),
            ...(note.resources !== undefined ? { resources: note.resources } : {}),
            ...(requestId !== undefined && requestId !== '' ? { requestID: requestId } : {}),
            readOnly: operation.readOnly,
          });
        } catch (error) {
          report(new CaptureError(`A request could not be recorded: ${(error as Error).message}`, { cause: error }));
        }
      });
    } catch (error) {
      report(new CaptureError(`A request could not be watched: ${(error as Error).message}`, { cause: error }));
    }
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

/** A status of 400 or more, or an answer the client never got, as errorCode and errorMessage. */
function failure(status: number, completed: boolean): { errorCode?: string; errorMessage?: string } {
  if (status >= 400) return { errorCode: String(status), errorMessage: STATUS_CODES[status] ?? `HTTP ${status}` };
  if (!completed) {
    return { errorCode: 'ConnectionClosed', errorMessage: 'The connection closed before the response was complete.' };
  }
  return {};
}

import { RecorderError } from './recorder-error.ts';

/**
 * A batch did not reach opentrail, or opentrail refused it whole (unreachable, a timeout, a 5xx, a bad
 * signature). Its records stay in the spool and the batch is sent again after `retryInMs`.
 */
export class DeliveryError extends RecorderError {
  override readonly name = 'DeliveryError';
  /** The HTTP status, when opentrail answered. */
  readonly status: number | undefined;
  /** The `__type` of opentrail's error answer, e.g. `InvalidSignatureException`. */
  readonly errorType: string | undefined;
  readonly records: number;
  /** Consecutive failures, this one included. */
  readonly attempt: number;
  readonly retryInMs: number;

  constructor(
    message: string,
    details: { status?: number; errorType?: string; records: number; attempt: number; retryInMs: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = details.status;
    this.errorType = details.errorType;
    this.records = details.records;
    this.attempt = details.attempt;
    this.retryInMs = details.retryInMs;
  }
}

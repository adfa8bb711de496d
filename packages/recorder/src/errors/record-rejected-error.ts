import { RecorderError } from './recorder-error.ts';

/**
 * opentrail stored the batch but refused this one record (the ingest API's `Failed` list, e.g.
 * `FieldTooLarge`). Sending it again would be refused again, so it is removed from the spool.
 */
export class RecordRejectedError extends RecorderError {
  override readonly name = 'RecordRejectedError';
  readonly eventID: string | undefined;
  /** The ingest API's reason, e.g. `InvalidFieldValue`. */
  readonly errorCode: string;

  constructor(eventID: string | undefined, errorCode: string, errorMessage: string) {
    super(`opentrail refused record ${eventID ?? '(unknown eventID)'}: ${errorCode}: ${errorMessage}`);
    this.eventID = eventID;
    this.errorCode = errorCode;
  }
}

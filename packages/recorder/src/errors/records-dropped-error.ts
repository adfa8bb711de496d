import { RecorderError } from './recorder-error.ts';

/** Why records were lost. */
export type DropReason =
  /** The spool reached `maxSpoolBytes`; its oldest records made room for new ones. */
  | 'spool-full'
  /** The spool directory could not be written (see `cause`). */
  | 'spool-unavailable'
  /** A record in the spool was unreadable (a write torn by a crash or a full disk). */
  | 'spool-damaged'
  /** A request finished after `close()`. */
  | 'closed';

/** Records that will never reach opentrail. Each one is also counted in `stats().dropped`. */
export class RecordsDroppedError extends RecorderError {
  override readonly name = 'RecordsDroppedError';
  readonly count: number;
  readonly reason: DropReason;

  constructor(count: number, reason: DropReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.count = count;
    this.reason = reason;
  }
}

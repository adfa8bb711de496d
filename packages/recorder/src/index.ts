/**
 * @opentrail/recorder: records the requests your Node service serves as CloudTrail records and sends them to
 * opentrail's ingest API, through an on-disk spool so that an outage of opentrail loses nothing.
 */
export type { RecordInput } from './build-record.ts';
export { EVENT_VERSION } from './build-record.ts';
export { type Clock, systemClock, type TimerHandle } from './clock.ts';
export { type CloudTrailRecord, HIDDEN, type RecordResource, type UserIdentity } from './cloudtrail-record.ts';
export {
  type Annotation,
  createRecorder,
  type FastifyHooks,
  type FastifyRecorderPlugin,
  type Recorder,
  type RecorderStats,
} from './create-recorder.ts';
export { CaptureError } from './errors/capture-error.ts';
export { DeliveryError } from './errors/delivery-error.ts';
export { RecordRejectedError } from './errors/record-rejected-error.ts';
export { RecorderError } from './errors/recorder-error.ts';
export { type DropReason, RecordsDroppedError } from './errors/records-dropped-error.ts';
export { SpoolError } from './errors/spool-error.ts';
export { type Credentials, DEFAULT_REDACT, type RecorderOptions } from './recorder-options.ts';
export type { OperationMap, OperationOptions } from './route-map.ts';

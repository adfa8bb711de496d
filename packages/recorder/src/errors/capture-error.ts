import { RecorderError } from './recorder-error.ts';

/**
 * Turning a request into a record went wrong, e.g. your `identify` function threw. The request is still
 * recorded, with what could be found (an `Unknown` identity in that case).
 */
export class CaptureError extends RecorderError {
  override readonly name = 'CaptureError';
}

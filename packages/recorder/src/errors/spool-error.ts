import { RecorderError } from './recorder-error.ts';

/**
 * The spool directory cannot be used: it is not writable, or another live process holds its lock (one
 * spool directory per process: give each cluster worker its own). Records are dropped and counted until
 * the recorder is created again.
 */
export class SpoolError extends RecorderError {
  override readonly name = 'SpoolError';
}

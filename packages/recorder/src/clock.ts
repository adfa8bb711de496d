/**
 * The recorder's one source of time (event times, batch intervals, retry backoff, signing dates). The system
 * clock's timers are unref'd, so a recorder never keeps its host process alive. Tests pass a clock they
 * advance; opentrail's `ManualClock` has this shape.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once after `delayMs` of this clock's time. */
  schedule(fn: () => void, delayMs: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, delayMs) {
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** `2026-01-01T00:00:00Z`: CloudTrail's eventTime format, whole seconds. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

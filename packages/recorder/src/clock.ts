/**
 * The recorder's one source of time (event times, batch intervals, retry backoff, signing dates). The system
 * clock's timers are unref'd, so a recorder never keeps its host process alive, except for the spool's write
 * delay (`writeDelayMs`, tens of milliseconds). Tests pass a clock they advance; opentrail's `ManualClock` has
 * this shape.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Calls `fn` once after `delayMs` of this clock's time. A timer does not keep the process alive unless
   * `keepAlive` says so (the spool's short write delay, so that records are written before a natural exit).
   */
  schedule(fn: () => void, delayMs: number, options?: { keepAlive?: boolean }): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, delayMs, options) {
    const timer = setTimeout(fn, delayMs);
    if (options?.keepAlive !== true) timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

let lastSecond = Number.NaN;
let lastText = '';

/**
 * `2026-01-01T00:00:00Z`: CloudTrail's eventTime format, whole seconds. Records made in the same second share
 * the text: formatting a Date for every request was a measurable part of the recorder's cost.
 */
export function isoSeconds(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastText = `${new Date(second * 1000).toISOString().slice(0, 19)}Z`;
    lastSecond = second;
  }
  return lastText;
}

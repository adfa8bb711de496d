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

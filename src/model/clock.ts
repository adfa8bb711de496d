/**
 * Time comes from one injectable clock (style.md item 3). The system clock is the default;
 * tests pass a ManualClock and advance it, so retention, cadences and baselines run on demand.
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

interface PendingTimer {
  dueMs: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; timers fire in due order during `advance`. */
export class ManualClock implements Clock {
  #nowMs: number;
  #timers: PendingTimer[] = [];
  #order = 0;

  constructor(startMs: number = Date.UTC(2026, 0, 1)) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  schedule(fn: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = {
      dueMs: this.#nowMs + Math.max(0, delayMs),
      order: this.#order++,
      fn,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#nowMs + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.dueMs - b.dueMs || a.order - b.order);
      const next = this.#timers[0];
      if (next === undefined || next.dueMs > target) break;
      this.#timers.shift();
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      next.fn();
      // Let work started by the timer (promises, I/O callbacks) run before the next one fires.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.#nowMs = target;
  }

  set(ms: number): void {
    this.#nowMs = ms;
  }
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** The latest time a Date can hold (±100,000,000 days from the epoch). */
export const MAX_DATE_MS = 100_000_000 * DAY_MS;

/** `2026-01-01T00:00:00Z`: CloudTrail's record time format, whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

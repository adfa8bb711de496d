import type { Clock, TimerHandle } from './clock.ts';

/**
 * Runs `task` every `periodMs` of the clock's time. The cadence never waits for a run: a tick that comes
 * while a run is in flight asks for exactly one more run after it, so on a manual clock advanced by days
 * the last run always sees the final time.
 */
export class PeriodicTask {
  readonly #clock: Clock;
  readonly #periodMs: number;
  readonly #task: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(clock: Clock, periodMs: number, task: () => Promise<void>, onError: (error: unknown) => void) {
    this.#clock = clock;
    this.#periodMs = periodMs;
    this.#task = task;
    this.#onError = onError;
  }

  start(): void {
    this.#timer = this.#clock.schedule(() => {
      if (this.#stopped) return;
      this.start();
      this.runNow();
    }, this.#periodMs);
  }

  /** Runs the task now, or once more after the run in flight. */
  runNow(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#task()
      .catch(this.#onError)
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.runNow();
        }
      });
  }

  /** Stops the cadence and waits for the run in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    while (this.#running) await this.#running;
  }
}

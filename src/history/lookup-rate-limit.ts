import type { Caller } from '../identity/index.ts';
import type { Clock } from '../model/clock.ts';
import { ServiceError } from '../model/service-error.ts';

/**
 * AWS limits LookupEvents to 2 requests per second per account and Region (facts §6). Off by default;
 * `--lookup-rate-limit N` turns it on with N per second. A sliding one-second window on the service clock.
 */
export class LookupRateLimit {
  readonly #perSecond: number;
  readonly #clock: Clock;
  readonly #recent = new Map<string, number[]>();

  constructor(perSecond: number, clock: Clock) {
    this.#perSecond = perSecond;
    this.#clock = clock;
  }

  check(caller: Caller): void {
    if (this.#perSecond <= 0) return;
    const key = `${caller.principal.accountId}/${caller.region}`;
    const now = this.#clock.now();
    const recent = (this.#recent.get(key) ?? []).filter((t) => t > now - 1000);
    if (recent.length >= this.#perSecond) {
      this.#recent.set(key, recent);
      throw new ServiceError('ThrottlingException', 'Rate exceeded');
    }
    recent.push(now);
    this.#recent.set(key, recent);
  }
}

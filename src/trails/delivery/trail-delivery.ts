import type { Logger } from 'pino';
import type { IdentityStore } from '../../identity/index.ts';
import type { EventLog } from '../../log/event-log.ts';
import type { Clock } from '../../model/clock.ts';
import { PeriodicTask } from '../../model/periodic-task.ts';
import { SerialQueue } from '../../model/serial-queue.ts';
import type { ObjectStore } from '../../objectstore/index.ts';
import type { Connection } from '../../store/database.ts';
import type { SigningKeys } from '../signing-keys.ts';
import type { TrailRecord } from '../trail.ts';
import type { TrailStore } from '../trail-store.ts';
import { DeliveryEngine } from './delivery-engine.ts';
import { type DeliveryStatus, DeliveryStore } from './delivery-store.ts';
import { DigestWriter } from './digest-writer.ts';
import type { Notifier } from './notifier.ts';

/**
 * Runs trail delivery and digests on the service clock: log files every delivery interval, digests every
 * digest interval. Runs never overlap (one queue), so a digest sees every delivery committed before it.
 */
export interface TrailDeliveryDeps {
  conn: Connection;
  log: EventLog;
  trails: TrailStore;
  identity: IdentityStore;
  objects: ObjectStore;
  signingKeys: SigningKeys;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  deliveryIntervalMs: number;
  digestIntervalMs: number;
}

export class TrailDelivery {
  readonly #engine: DeliveryEngine;
  readonly #digests: DigestWriter;
  readonly #deps: TrailDeliveryDeps;
  readonly #runs = new SerialQueue();
  readonly #tasks: PeriodicTask[] = [];
  readonly #inFlight = new Set<Promise<unknown>>();

  private constructor(deps: TrailDeliveryDeps) {
    this.#deps = deps;
    const store = new DeliveryStore(deps.conn);
    this.#engine = new DeliveryEngine({ ...deps, store });
    this.#digests = new DigestWriter({ ...deps, store });
  }

  static async start(deps: TrailDeliveryDeps): Promise<TrailDelivery> {
    const delivery = new TrailDelivery(deps);
    await delivery.#engine.load();
    const onError = (what: string) => (err: unknown) => deps.logger.error({ err }, `${what} failed`);
    delivery.#tasks.push(
      new PeriodicTask(
        deps.clock,
        deps.deliveryIntervalMs,
        () => delivery.#run(() => delivery.#deliver()),
        onError('delivery'),
      ),
      new PeriodicTask(
        deps.clock,
        deps.digestIntervalMs,
        () => delivery.#run(() => delivery.#writeDigests()),
        onError('digest'),
      ),
    );
    for (const t of delivery.#tasks) t.start();
    return delivery;
  }

  /** A trail's delivery status for GetTrailStatus. */
  status(trail: TrailRecord): DeliveryStatus {
    return this.#engine.state(trail)?.status ?? {};
  }

  /** The lowest log position any trail still needs. */
  cursorFloor(): number | undefined {
    return this.#engine.cursorFloor();
  }

  /** Resolves when no delivery or digest run is in flight (tests advance the clock, then wait for this). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#tasks.map((t) => t.stop()));
    await this.idle();
  }

  #run(fn: () => Promise<void>): Promise<void> {
    const run = this.#runs.run(fn);
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run)).catch(() => undefined);
    return run;
  }

  async #deliver(): Promise<void> {
    await this.#engine.deliver();
    // A trail that stopped or was deleted gets its final digest right away, not an interval later.
    if (this.#engine.states().some((s) => s.finalDigestAtMs !== undefined)) await this.#writeDigests(true);
  }

  async #writeDigests(onlyFinal = false): Promise<void> {
    for (const state of this.#engine.states()) {
      if (onlyFinal && state.finalDigestAtMs === undefined) continue;
      let failed: unknown;
      const outcome = await this.#digests.writeFor(state, (error) => {
        failed ??= error;
      });
      const now = this.#deps.clock.now();
      const { latestDigestError: _cleared, ...status } = state.status;
      state.status =
        failed === undefined
          ? {
              ...status,
              ...(state.trail.logFileValidationEnabled && outcome === 'open' ? { latestDigestMs: now } : {}),
            }
          : { ...state.status, latestDigestError: String((failed as Error).name ?? failed) };
      if (failed !== undefined)
        this.#deps.logger.warn({ err: failed, trail: state.trailKey }, 'digest delivery failed');
      if (outcome === 'closed' && state.finalDigestAtMs !== undefined && failed === undefined) {
        delete state.finalDigestAtMs;
        if (state.trail.logFileValidationEnabled) state.status = { ...state.status, latestDigestMs: now };
        if (state.deleted) {
          await this.#engine.forget(state.trailKey);
          continue;
        }
      }
      await this.#engine.saveState(state);
    }
  }
}

import type { Clock } from '../model/clock.ts';
import type { Connection } from '../store/database.ts';
import type { EventDataStoreRecord } from './event-data-store.ts';
import type { EventDataStoreStore } from './event-data-store-store.ts';
import { dropEventsBefore } from './lake-table.ts';
import { retainedSinceMs } from './store-rules.ts';

/**
 * The only path that deletes stored events (immutability, issue 5): each store's events whose eventTime is
 * more than its RetentionPeriod days before the clock's now, and every event of a store whose 7 days of
 * pending deletion are over, together with the store. Deletes run on the lake consumer's connection, so
 * they never interleave with one of its batches.
 */
export async function applyLakeRetention(deps: {
  conn: Connection;
  stores: EventDataStoreStore;
  clock: Clock;
  isGone: (store: EventDataStoreRecord) => boolean;
}): Promise<void> {
  const now = deps.clock.now();
  for (const store of deps.stores.all()) {
    if (deps.isGone(store)) {
      await deps.conn.withTransaction(async (raw) => {
        await raw.run('DELETE FROM lake_events WHERE store_id = $1', [store.id]);
        await raw.run('DELETE FROM lake_cursors WHERE store_id = $1', [store.id]);
      });
      await deps.stores.remove(store.id);
      continue;
    }
    await deps.conn.serial((raw) => dropEventsBefore(raw, store.id, retainedSinceMs(store.retentionPeriodDays, now)));
  }
}

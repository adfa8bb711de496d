import type { Connection } from '../store/database.ts';
import type { EventDataStoreRecord } from './event-data-store.ts';

/**
 * Event data stores persisted as one JSON document each in `event_data_stores` and held in memory, as
 * trails are (src/trails/trail-store.ts): read by every Lake call and by the consumer for every batch,
 * written rarely. A write reaches memory only after its transaction commits.
 */
export class EventDataStoreStore {
  readonly #conn: Connection;
  readonly #stores = new Map<string, EventDataStoreRecord>();

  private constructor(conn: Connection) {
    this.#conn = conn;
  }

  static async load(conn: Connection): Promise<EventDataStoreStore> {
    const store = new EventDataStoreStore(conn);
    const rows = await conn.serial(async (raw) =>
      (await raw.runAndReadAll('SELECT doc FROM event_data_stores')).getRows(),
    );
    for (const [doc] of rows) {
      const eds = JSON.parse(String(doc)) as EventDataStoreRecord;
      store.#stores.set(eds.id, eds);
    }
    return store;
  }

  get(id: string): EventDataStoreRecord | undefined {
    return this.#stores.get(id);
  }

  all(): EventDataStoreRecord[] {
    return [...this.#stores.values()];
  }

  async put(eds: EventDataStoreRecord): Promise<void> {
    await this.#conn.withTransaction((raw) =>
      raw.run('INSERT OR REPLACE INTO event_data_stores VALUES ($1, $2, $3, $4, $5)', [
        eds.id,
        eds.accountId,
        eds.region,
        eds.name,
        JSON.stringify(eds),
      ]),
    );
    this.#stores.set(eds.id, eds);
  }

  /** Forgets a store that is gone (lake-retention.ts removes its events first). */
  async remove(id: string): Promise<void> {
    await this.#conn.withTransaction((raw) => raw.run('DELETE FROM event_data_stores WHERE store_id = $1', [id]));
    this.#stores.delete(id);
  }
}

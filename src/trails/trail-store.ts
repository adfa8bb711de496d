import type { Connection } from '../store/database.ts';
import type { TrailRecord } from './trail.ts';

/**
 * Trails persisted as one JSON document each in the `trails` table, and held in memory: the control
 * plane is small and read on every call (GetTrail must answer thousands of times a second), while
 * writes are rare (AWS allows 1 TPS). A write reaches memory only after its transaction commits.
 */
export class TrailStore {
  readonly #conn: Connection;
  readonly #trails = new Map<string, TrailRecord>();

  private constructor(conn: Connection) {
    this.#conn = conn;
  }

  static async load(conn: Connection): Promise<TrailStore> {
    const store = new TrailStore(conn);
    const rows = await conn.serial(async (raw) => (await raw.runAndReadAll('SELECT doc FROM trails')).getRows());
    for (const [doc] of rows) {
      const trail = JSON.parse(String(doc)) as TrailRecord;
      store.#trails.set(trail.arn, trail);
    }
    return store;
  }

  get(arn: string): TrailRecord | undefined {
    return this.#trails.get(arn);
  }

  all(): TrailRecord[] {
    return [...this.#trails.values()];
  }

  async put(trail: TrailRecord): Promise<void> {
    await this.#conn.withTransaction((raw) =>
      raw.run('INSERT OR REPLACE INTO trails VALUES ($1, $2, $3, $4, $5)', [
        trail.arn,
        trail.accountId,
        trail.homeRegion,
        trail.name,
        JSON.stringify(trail),
      ]),
    );
    this.#trails.set(trail.arn, trail);
  }

  async delete(arn: string): Promise<void> {
    await this.#conn.withTransaction((raw) => raw.run('DELETE FROM trails WHERE trail_arn = $1', [arn]));
    this.#trails.delete(arn);
  }
}

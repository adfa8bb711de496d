import type { Connection } from '../store/database.ts';
import type { ChannelRecord } from './channel.ts';

/**
 * Channels persisted as one JSON document each in `channels` (migration 6) and held in memory, as event data
 * stores are: every PutAuditEvents call reads its channel, writes are rare. A write reaches memory only
 * after its transaction commits.
 */
export class ChannelStore {
  readonly #conn: Connection;
  readonly #channels = new Map<string, ChannelRecord>();

  private constructor(conn: Connection) {
    this.#conn = conn;
  }

  static async load(conn: Connection): Promise<ChannelStore> {
    const store = new ChannelStore(conn);
    const rows = await conn.serial(async (raw) => (await raw.runAndReadAll('SELECT doc FROM channels')).getRows());
    for (const [doc] of rows) {
      const channel = JSON.parse(String(doc)) as ChannelRecord;
      store.#channels.set(channel.id, channel);
    }
    return store;
  }

  get(id: string): ChannelRecord | undefined {
    return this.#channels.get(id);
  }

  all(): ChannelRecord[] {
    return [...this.#channels.values()];
  }

  async put(channel: ChannelRecord): Promise<void> {
    await this.#conn.withTransaction((raw) =>
      raw.run('INSERT OR REPLACE INTO channels VALUES ($1, $2, $3, $4, $5)', [
        channel.id,
        channel.accountId,
        channel.region,
        channel.name,
        JSON.stringify(channel),
      ]),
    );
    this.#channels.set(channel.id, channel);
  }

  async remove(id: string): Promise<void> {
    await this.#conn.withTransaction((raw) => raw.run('DELETE FROM channels WHERE channel_id = $1', [id]));
    this.#channels.delete(id);
  }
}

import type { Connection } from '../store/database.ts';
import type { ChannelRecord, IngestionStatus } from './channel.ts';

/**
 * Channels persisted as one JSON document each in `channels` (migration 6) and held in memory, as event data
 * stores are: every PutAuditEvents call reads its channel, writes are rare. A write reaches memory only
 * after its transaction commits. Their IngestionStatus has a table of its own (migration 12), written
 * behind the calls by ChannelService.
 */
export class ChannelStore {
  readonly #conn: Connection;
  readonly #channels = new Map<string, ChannelRecord>();
  /** Channels being removed. */
  readonly #removing = new Set<string>();
  /** The IngestionStatus stored for each channel when the store was loaded. */
  readonly #loadedStatuses = new Map<string, IngestionStatus>();

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
    const statuses = await conn.serial(async (raw) =>
      (await raw.runAndReadAll('SELECT channel_id, doc FROM channel_ingestion_status')).getRows(),
    );
    for (const [id, doc] of statuses) {
      if (store.#channels.has(String(id))) store.#loadedStatuses.set(String(id), JSON.parse(String(doc)));
    }
    return store;
  }

  /** The channels' IngestionStatus as stored when the server started. */
  loadedStatuses(): ReadonlyMap<string, IngestionStatus> {
    return this.#loadedStatuses;
  }

  /** Stores these channels' IngestionStatus, in one transaction; a channel deleted meanwhile is left out. */
  async putStatuses(statuses: readonly [id: string, status: IngestionStatus][]): Promise<void> {
    if (statuses.length === 0) return;
    await this.#conn.withTransaction(async (raw) => {
      // Checked in the transaction's turn, after any removal queued before it on this connection.
      for (const [id, status] of statuses) {
        if (!this.#channels.has(id) || this.#removing.has(id)) continue;
        await raw.run('INSERT OR REPLACE INTO channel_ingestion_status VALUES ($1, $2)', [id, JSON.stringify(status)]);
      }
    });
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
    // Until it is out of #channels, a status save queued behind this removal must not write its row back.
    this.#removing.add(id);
    try {
      await this.#conn.withTransaction(async (raw) => {
        await raw.run('DELETE FROM channels WHERE channel_id = $1', [id]);
        await raw.run('DELETE FROM channel_ingestion_status WHERE channel_id = $1', [id]);
      });
      this.#channels.delete(id);
    } finally {
      this.#removing.delete(id);
    }
  }
}

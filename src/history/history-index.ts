import type { Connection } from '../store/database.ts';

/**
 * The hash index behind LookupEvents by EventId and ResourceName. Both look a value up by a 4-byte hash of
 * it (`event_id_hash` of history_events, `name_hash` of history_resources); read whole, those columns cost
 * 7 ms at 10 million events, the hash being random. Here they are copied into runs sorted by hash, so the
 * per-row-group min/max of a run narrows a hash to one row group of it.
 *
 * The watermark is the last seq the runs cover; events after it are sought in the hash columns themselves,
 * which their seq narrows to the newest row groups. A run is added once `runEvents` records came after the
 * watermark, in one transaction with the new watermark; when `MAX_RUNS` are there, all are rebuilt as one
 * from history (which also leaves out what retention dropped). A reader may use a watermark older than the
 * stored one: it then reads more of the hash columns, and finds nothing twice that matters (seqs are a set).
 */
export const HASH_INDEXES = {
  EventId: { index: 'history_id_index', source: 'history_events', hash: 'event_id_hash' },
  ResourceName: { index: 'history_name_index', source: 'history_resources', hash: 'name_hash' },
} as const;

export type HashIndexed = keyof typeof HASH_INDEXES;

/** Whether a lookup attribute is sought through the hash index. */
export function isHashIndexed(attribute: string): attribute is HashIndexed {
  return Object.hasOwn(HASH_INDEXES, attribute);
}

/** Records after the watermark before a run is added: a run is sorted in one go (1M: about 0.3 s). */
export const RUN_EVENTS = 1_000_000;
/** Runs before all are rebuilt as one: a lookup reads about one row group per run. */
export const MAX_RUNS = 8;

export class HistoryIndex {
  readonly #runEvents: number;
  #watermark: number;
  #runs: number;

  private constructor(watermark: number, runs: number, runEvents: number) {
    this.#watermark = watermark;
    this.#runs = runs;
    this.#runEvents = runEvents;
  }

  static async load(conn: Connection, runEvents = RUN_EVENTS): Promise<HistoryIndex> {
    const [row] = await conn.serial(async (raw) =>
      (await raw.runAndReadAll('SELECT watermark, runs FROM history_index_state')).getRows(),
    );
    return new HistoryIndex(Number(row?.[0] ?? 0), Number(row?.[1] ?? 0), runEvents);
  }

  /** The last seq the runs cover. */
  get watermark(): number {
    return this.#watermark;
  }

  get runs(): number {
    return this.#runs;
  }

  /**
   * Indexes history through `lastSeq` (stored already) when enough came after the watermark. Runs on the
   * history consumer's connection, after the batch: a failure rolls back and leaves the watermark, lookups
   * read more of the hash columns meanwhile, and the next batch tries again.
   */
  async extend(conn: Connection, lastSeq: number): Promise<void> {
    if (lastSeq - this.#watermark < this.#runEvents) return;
    const rebuild = this.#runs >= MAX_RUNS;
    const runs = rebuild ? 1 : this.#runs + 1;
    await conn.withTransaction(async (raw) => {
      for (const { index, source, hash } of Object.values(HASH_INDEXES)) {
        if (rebuild) await raw.run(`DELETE FROM ${index}`);
        // Sorted as it is inserted: each row group of the run then holds a narrow range of hashes.
        await raw.run(
          `INSERT INTO ${index} SELECT ${hash}, seq FROM ${source}
           WHERE seq > $from::BIGINT AND seq <= $to::BIGINT AND ${hash} IS NOT NULL ORDER BY ${hash}, seq`,
          { from: rebuild ? 0 : this.#watermark, to: lastSeq },
        );
      }
      await raw.run('UPDATE history_index_state SET watermark = $1::BIGINT, runs = $2::INTEGER', [lastSeq, runs]);
    });
    this.#runs = runs;
    this.#watermark = lastSeq;
  }
}

/** The seqs whose hash column holds `hash`: from the runs, and from the source after the watermark. */
export async function seqsWithHash(conn: Connection, attribute: HashIndexed, hash: number, watermark: number) {
  const { index, source, hash: column } = HASH_INDEXES[attribute];
  const reader = await conn.readPrepared(
    `SELECT seq FROM ${index} WHERE hash = $hash::UINTEGER
     UNION SELECT seq FROM ${source} WHERE seq > $watermark::BIGINT AND ${column} = $hash::UINTEGER`,
    { hash, watermark: BigInt(watermark) },
  );
  return reader.getRows().map((r) => Number(r[0]));
}

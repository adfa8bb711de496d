import type { Connection } from '../../store/database.ts';
import type { DigestLogFile } from '../digest-file.ts';
import type { TrailRecord } from '../trail.ts';

/**
 * What trail delivery keeps in the database (migration 3): per trail, its cursor in the log, whether it was
 * logging there, the trail settings it delivers with, a planned delivery not yet finished, and its status;
 * per digest chain, where the next digest starts and what the last one was; and the log files waiting for
 * their digest. Every change that moves a cursor is one transaction.
 */
export interface DeliveryStatus {
  latestDeliveryMs?: number;
  latestDeliveryError?: string;
  latestDeliveryAttemptMs?: number;
  latestNotificationMs?: number;
  latestNotificationError?: string;
  latestNotificationAttemptMs?: number;
  latestDigestMs?: number;
  latestDigestError?: string;
}

/** The files a range of the log becomes for one trail, fixed before any is written. */
export interface DeliveryPlan {
  firstSeq: number;
  lastSeq: number;
  loggingAtStart: boolean;
  /** The trail settings and accounts the range was routed with, so a retry routes it the same way. */
  trail: TrailRecord;
  accounts: string[];
  /** Delivery time: it names the files (minute precision). */
  timeMs: number;
  files: { key: string; accountId: string; region: string }[];
}

export interface TrailDeliveryState {
  /** The trail's ARN and incarnation: a trail deleted and created again under its name is another trail. */
  trailKey: string;
  cursor: number;
  logging: boolean;
  trail: TrailRecord;
  plan?: DeliveryPlan;
  status: DeliveryStatus;
  /** Set once the trail's StopLogging/DeleteTrail is delivered: its digests end here (ms). */
  finalDigestAtMs?: number;
  deleted?: true;
}

export interface ChainPrevious {
  bucket: string;
  key: string;
  signature: string;
  hash: string;
}

export interface DigestChain {
  trailKey: string;
  accountId: string;
  region: string;
  startMs: number;
  previous?: ChainPrevious;
  pendingEndMs?: number;
}

export interface PendingLogFile {
  accountId: string;
  region: string;
  deliveredMs: number;
  file: DigestLogFile;
}

/** Delivery state is kept per trail incarnation (its ARN and the log position it was created at). */
export function deliveryKey(trail: TrailRecord): string {
  return `${trail.arn}@${trail.createdAtSeq ?? 0}`;
}

export class DeliveryStore {
  readonly #conn: Connection;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  async loadStates(): Promise<TrailDeliveryState[]> {
    const rows = await this.#conn.serial(async (raw) =>
      (
        await raw.runAndReadAll('SELECT trail_key, cursor, logging, trail, plan, status FROM trail_delivery')
      ).getRowObjectsJS(),
    );
    return rows.map((r) => {
      const extra = JSON.parse(String(r['status'])) as DeliveryStatus & { finalDigestAtMs?: number; deleted?: true };
      const { finalDigestAtMs, deleted, ...status } = extra;
      return {
        trailKey: String(r['trail_key']),
        cursor: Number(r['cursor']),
        logging: Boolean(r['logging']),
        trail: JSON.parse(String(r['trail'])) as TrailRecord,
        ...(r['plan'] !== null ? { plan: JSON.parse(String(r['plan'])) as DeliveryPlan } : {}),
        status,
        ...(finalDigestAtMs !== undefined ? { finalDigestAtMs } : {}),
        ...(deleted ? { deleted } : {}),
      };
    });
  }

  /** Saves states (cursor, logging, plan, status) and adds the log files their deliveries produced, atomically. */
  async save(
    states: readonly TrailDeliveryState[],
    delivered: readonly (PendingLogFile & { trailKey: string })[] = [],
  ): Promise<void> {
    if (states.length === 0 && delivered.length === 0) return;
    await this.#conn.withTransaction(async (raw) => {
      for (const s of states) {
        const status = {
          ...s.status,
          ...(s.finalDigestAtMs !== undefined ? { finalDigestAtMs: s.finalDigestAtMs } : {}),
          ...(s.deleted ? { deleted: true } : {}),
        };
        await raw.run('INSERT OR REPLACE INTO trail_delivery VALUES ($1, $2, $3, $4, $5, $6)', [
          s.trailKey,
          s.cursor,
          s.logging,
          JSON.stringify(s.trail),
          s.plan === undefined ? null : JSON.stringify(s.plan),
          JSON.stringify(status),
        ]);
      }
      for (const f of delivered) {
        await raw.run('INSERT INTO digest_log_files VALUES ($1, $2, $3, $4, $5)', [
          f.trailKey,
          f.accountId,
          f.region,
          f.deliveredMs,
          JSON.stringify(f.file),
        ]);
      }
    });
  }

  async forget(trailKey: string): Promise<void> {
    await this.#conn.withTransaction(async (raw) => {
      for (const table of ['trail_delivery', 'digest_chains', 'digest_log_files']) {
        await raw.run(`DELETE FROM ${table} WHERE trail_key = $1`, [trailKey]);
      }
    });
  }

  async chains(trailKey: string): Promise<DigestChain[]> {
    const rows = await this.#conn.serial(async (raw) =>
      (
        await raw.runAndReadAll(
          'SELECT account_id, region, start_ms, previous, pending_end_ms FROM digest_chains WHERE trail_key = $1',
          [trailKey],
        )
      ).getRowObjectsJS(),
    );
    return rows.map((r) => ({
      trailKey,
      accountId: String(r['account_id']),
      region: String(r['region']),
      startMs: Number(r['start_ms']),
      ...(r['previous'] !== null ? { previous: JSON.parse(String(r['previous'])) as ChainPrevious } : {}),
      ...(r['pending_end_ms'] !== null ? { pendingEndMs: Number(r['pending_end_ms']) } : {}),
    }));
  }

  async saveChain(chain: DigestChain): Promise<void> {
    await this.#conn.withTransaction((raw) => writeChain(raw, chain));
  }

  /** Log files delivered for a chain up to `endMs`, waiting for its next digest. */
  async pendingFiles(chain: DigestChain, endMs: number): Promise<DigestLogFile[]> {
    const rows = await this.#conn.serial(async (raw) =>
      (
        await raw.runAndReadAll(
          `SELECT file FROM digest_log_files WHERE trail_key = $1 AND account_id = $2 AND region = $3
             AND delivered_ms <= $4 ORDER BY delivered_ms, file`,
          [chain.trailKey, chain.accountId, chain.region, endMs],
        )
      ).getRows(),
    );
    return rows.map(([file]) => JSON.parse(String(file)) as DigestLogFile);
  }

  /** Records a written digest: the chain moves on and the files it listed leave the queue, atomically. */
  async digestWritten(chain: DigestChain, endMs: number, previous: ChainPrevious): Promise<void> {
    await this.#conn.withTransaction(async (raw) => {
      await raw.run(
        'DELETE FROM digest_log_files WHERE trail_key = $1 AND account_id = $2 AND region = $3 AND delivered_ms <= $4',
        [chain.trailKey, chain.accountId, chain.region, endMs],
      );
      const { pendingEndMs: _done, ...rest } = chain;
      await writeChain(raw, { ...rest, startMs: endMs, previous });
    });
  }

  async deleteChains(trailKey: string): Promise<void> {
    await this.#conn.withTransaction(async (raw) => {
      await raw.run('DELETE FROM digest_chains WHERE trail_key = $1', [trailKey]);
      await raw.run('DELETE FROM digest_log_files WHERE trail_key = $1', [trailKey]);
    });
  }
}

type Raw = Parameters<Parameters<Connection['withTransaction']>[0]>[0];

async function writeChain(raw: Raw, chain: DigestChain): Promise<void> {
  await raw.run('INSERT OR REPLACE INTO digest_chains VALUES ($1, $2, $3, $4, $5, $6)', [
    chain.trailKey,
    chain.accountId,
    chain.region,
    chain.startMs,
    chain.previous === undefined ? null : JSON.stringify(chain.previous),
    chain.pendingEndMs ?? null,
  ]);
}

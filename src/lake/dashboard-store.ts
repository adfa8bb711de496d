import type { Connection } from '../store/database.ts';
import type { DashboardRecord } from './dashboard.ts';

/** One refresh of a dashboard: the query each widget ran, whose rows lake_query_results keeps 7 days. */
export interface DashboardRefresh {
  refreshId: string;
  accountId: string;
  region: string;
  dashboardName: string;
  createdMs: number;
  scheduled: boolean;
  /** The parameter values the widgets ran with, normalised (times as Lake writes them). */
  parameterValues: Record<string, string>;
  widgets: { queryAlias: string; queryId: string }[];
}

const key = (accountId: string, region: string, name: string) => `${accountId}/${region}/${name}`;

/**
 * Dashboards persisted as one JSON document each in `dashboards` (migration 8) and held in memory, as
 * channels are: the schedule looks at every dashboard each minute, writes are rare. A write reaches memory
 * only after its transaction commits. Refreshes are rows of `dashboard_refreshes`, read when asked for.
 */
export class DashboardStore {
  readonly #conn: Connection;
  readonly #dashboards = new Map<string, DashboardRecord>();

  private constructor(conn: Connection) {
    this.#conn = conn;
  }

  static async load(conn: Connection): Promise<DashboardStore> {
    const store = new DashboardStore(conn);
    const rows = await conn.serial(async (raw) => (await raw.runAndReadAll('SELECT doc FROM dashboards')).getRows());
    for (const [doc] of rows) {
      const d = JSON.parse(String(doc)) as DashboardRecord;
      store.#dashboards.set(key(d.accountId, d.region, d.name), d);
    }
    return store;
  }

  get(accountId: string, region: string, name: string): DashboardRecord | undefined {
    return this.#dashboards.get(key(accountId, region, name));
  }

  all(): DashboardRecord[] {
    return [...this.#dashboards.values()];
  }

  async put(d: DashboardRecord): Promise<void> {
    await this.#conn.withTransaction((raw) =>
      raw.run('INSERT OR REPLACE INTO dashboards VALUES ($1, $2, $3, $4)', [
        d.accountId,
        d.region,
        d.name,
        JSON.stringify(d),
      ]),
    );
    this.#dashboards.set(key(d.accountId, d.region, d.name), d);
  }

  /** Forgets a dashboard and its refreshes (their query results expire with the queries). */
  async remove(d: DashboardRecord): Promise<void> {
    await this.#conn.withTransaction(async (raw) => {
      const where = 'WHERE account_id = $1 AND region = $2';
      await raw.run(`DELETE FROM dashboard_refreshes ${where} AND dashboard_name = $3`, [
        d.accountId,
        d.region,
        d.name,
      ]);
      await raw.run(`DELETE FROM dashboards ${where} AND name = $3`, [d.accountId, d.region, d.name]);
    });
    this.#dashboards.delete(key(d.accountId, d.region, d.name));
  }

  /** Records a refresh and the dashboard that now names it as its last, in one transaction. */
  async putRefresh(refresh: DashboardRefresh, dashboard: DashboardRecord | undefined): Promise<void> {
    await this.#conn.withTransaction(async (raw) => {
      await raw.run('INSERT INTO dashboard_refreshes VALUES ($1, $2, $3, $4, $5, $6)', [
        refresh.refreshId,
        refresh.accountId,
        refresh.region,
        refresh.dashboardName,
        refresh.createdMs,
        JSON.stringify(refresh),
      ]);
      if (dashboard !== undefined) {
        await raw.run('INSERT OR REPLACE INTO dashboards VALUES ($1, $2, $3, $4)', [
          dashboard.accountId,
          dashboard.region,
          dashboard.name,
          JSON.stringify(dashboard),
        ]);
      }
    });
    if (dashboard !== undefined)
      this.#dashboards.set(key(dashboard.accountId, dashboard.region, dashboard.name), dashboard);
  }

  async refresh(refreshId: string): Promise<DashboardRefresh | undefined> {
    const rows = await this.#read('SELECT doc FROM dashboard_refreshes WHERE refresh_id = $1', [refreshId]);
    return rows[0] === undefined ? undefined : (JSON.parse(String(rows[0][0])) as DashboardRefresh);
  }

  /** Drops refreshes made before `cutoffMs`: their queries' results are gone by then (7 days). */
  async dropRefreshesBefore(cutoffMs: number): Promise<void> {
    await this.#conn.withTransaction((raw) =>
      raw.run('DELETE FROM dashboard_refreshes WHERE created_ms < $1', [cutoffMs]),
    );
  }

  async #read(sql: string, params: (string | number)[]): Promise<unknown[][]> {
    return this.#conn.serial(async (raw) => (await raw.runAndReadAll(sql, params)).getRowsJS());
  }
}

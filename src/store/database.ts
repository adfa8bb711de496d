import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
  type DuckDBValue,
} from '@duckdb/node-api';
import { SerialQueue } from '../model/serial-queue.ts';
import { sqlString } from '../model/sql-string.ts';
import { migrate, STORAGE_VERSION } from './migrations.ts';

/**
 * The embedded database (design.md, Storage): one DuckDB file owned by the server process. Each writer
 * owns its own connection, because a DuckDB transaction belongs to a connection; `Connection.serial`
 * makes one connection's transactions run one after another.
 */
export interface DatabaseOptions {
  /** DuckDB's own memory cap, e.g. '512MB'; keeps the server's RSS bounded. */
  memoryLimit?: string;
  threads?: number;
  /** The only directories SQL may read or write files in (the Lake runners' profiles); none by default. */
  fileDirectories?: readonly string[];
}

export class Database {
  readonly #instance: DuckDBInstance;
  readonly #connections = new Set<DuckDBConnection>();

  private constructor(instance: DuckDBInstance) {
    this.#instance = instance;
  }

  static async open(path: string, nowMs: number, options: DatabaseOptions = {}): Promise<Database> {
    const config: Record<string, string> = {};
    if (options.memoryLimit) config['memory_limit'] = options.memoryLimit;
    if (options.threads) config['threads'] = String(options.threads);
    // DuckDB checkpoints when its WAL reaches this size (16 MB by default, a fraction of a second of ingest
    // at full speed). Each checkpoint rewrites the table's last, partly filled row group, so frequent ones
    // cost event history about a fifth of its throughput; the price is a longer WAL replay after a crash.
    config['checkpoint_threshold'] = '256MB';
    // Only a file this creates takes it (an existing file keeps its version): see migration 13.
    config['storage_compatibility_version'] = STORAGE_VERSION;
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, config);
    } catch (error) {
      // DuckDB lets one process own the file; say which process and what to do, not only "lock".
      const held = /Conflicting lock is held in .*?\(PID (\d+)\)/.exec(String((error as Error).message));
      if (held) {
        throw new Error(
          `another process (PID ${held[1]}) already has ${path} open: stop it, or give this server another --data-dir`,
          { cause: error },
        );
      }
      throw error;
    }
    const db = new Database(instance);
    try {
      const conn = await db.connect();
      await conn.serial((raw) => migrate(raw, nowMs));
      await conn.serial((raw) => withoutFileAccess(raw, options.fileDirectories ?? []));
    } catch (error) {
      // Nobody else can close it: a failed migration must not leave the file open and locked.
      db.close();
      throw error;
    }
    return db;
  }

  async connect(): Promise<Connection> {
    const conn = await this.#instance.connect();
    this.#connections.add(conn);
    return new Connection(conn, () => {
      if (this.#connections.delete(conn)) conn.closeSync();
    });
  }

  close(): void {
    for (const c of this.#connections) c.closeSync();
    this.#connections.clear();
    this.#instance.closeSync();
  }
}

/**
 * Defence in depth for the Lake's SQL sandbox: should a statement ever get past it, SQL can neither read
 * nor write files (read_text, COPY, ATTACH) outside `directories`, nor turn that back on. DuckDB's own
 * database, WAL and spill files are not affected.
 */
async function withoutFileAccess(conn: DuckDBConnection, directories: readonly string[]): Promise<void> {
  const list = directories.map((d) => sqlString(d.endsWith('/') ? d : `${d}/`)).join(', ');
  await conn.run(`SET allowed_directories = [${list}]`);
  await conn.run('SET enable_external_access = false');
}

/** A connection whose transactions are serialised, so concurrent callers never interleave statements. */
export class Connection {
  readonly raw: DuckDBConnection;
  readonly #queue = new SerialQueue();
  readonly #statements = new Map<string, Promise<DuckDBPreparedStatement>>();
  readonly #close: () => void;

  constructor(raw: DuckDBConnection, close: () => void = () => raw.closeSync()) {
    this.raw = raw;
    this.#close = close;
  }

  /** Closes the connection once what is queued on it has run; DuckDB rolls back a transaction left open. */
  async close(): Promise<void> {
    await this.serial(async () => this.#close());
  }

  /** Runs `fn` after everything queued before it on this connection. */
  serial<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.#queue.run(() => fn(this.raw));
  }

  /** A prepared statement for `sql`, prepared once per connection: planning is a real share of a point query. */
  prepared(sql: string): Promise<DuckDBPreparedStatement> {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.raw.prepare(sql);
      this.#statements.set(sql, statement);
      statement.catch(() => this.#statements.delete(sql));
    }
    return statement;
  }

  /**
   * Runs `sql` with `values` as this connection's prepared statement, from within the caller's turn (`serial`
   * or a transaction). For the statements a consumer runs on every batch: planning the history INSERT alone
   * cost 4-6 ms of CPU a batch, as much as storing a few records. The values are let go after the run, so a
   * batch's bytes are not kept alive until the next one.
   */
  async runPrepared(sql: string, values: DuckDBValue[] | Record<string, DuckDBValue>): Promise<void> {
    await this.#withBound(sql, values, (statement) => statement.run());
  }

  /**
   * Sets `column` of the row of `table` whose primary key `key` holds `id`, inserting the row when there is
   * none, with prepared statements (runPrepared). An UPDATE, then an INSERT only the first time: INSERT OR
   * REPLACE cost about 1.2 ms more CPU a call (its conflict handling), paid for every cursor saved with a
   * consumer's batch. Other columns of an inserted row take their defaults.
   */
  async upsert(table: string, key: string, id: DuckDBValue, column: string, value: DuckDBValue): Promise<void> {
    const updated = await this.#withBound(`UPDATE ${table} SET ${column} = $2 WHERE ${key} = $1`, [id, value], (s) =>
      s.run(),
    );
    if (updated.rowsChanged === 0) {
      await this.runPrepared(`INSERT INTO ${table} (${key}, ${column}) VALUES ($1, $2)`, [id, value]);
    }
  }

  /**
   * runPrepared's read: the rows of `sql` with `values`, for the queries a lookup runs on every page (planning
   * was a fifth of the time of a page's rows).
   */
  readPrepared(sql: string, values: DuckDBValue[] | Record<string, DuckDBValue>): Promise<DuckDBResultReader> {
    return this.#withBound(sql, values, (statement) => statement.runAndReadAll());
  }

  async #withBound<T>(
    sql: string,
    values: DuckDBValue[] | Record<string, DuckDBValue>,
    run: (statement: DuckDBPreparedStatement) => Promise<T>,
  ): Promise<T> {
    const statement = await this.prepared(sql);
    statement.bind(values);
    try {
      return await run(statement);
    } finally {
      statement.clearBindings();
    }
  }

  /** Runs `fn` inside BEGIN … COMMIT, rolling back if it throws. */
  withTransaction<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.serial((conn) => inTransaction(conn, fn));
  }
}

/** Several connections for concurrent reads: DuckDB runs queries of different connections in parallel. */
export class ConnectionPool {
  readonly #idle: Connection[];
  readonly #waiting: ((conn: Connection) => void)[] = [];

  constructor(connections: Connection[]) {
    this.#idle = [...connections];
  }

  async use<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    const conn = this.#idle.pop() ?? (await new Promise<Connection>((resolve) => this.#waiting.push(resolve)));
    try {
      return await fn(conn);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(conn);
      else this.#idle.push(conn);
    }
  }
}

/**
 * Runs `fn` inside BEGIN … COMMIT on `conn`, rolling back if it throws: for work already holding the
 * connection's turn (`serial`) that must do something outside the transaction first, such as a consumer
 * filling its staging table.
 */
export async function inTransaction<T>(conn: DuckDBConnection, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const result = await fn(conn);
    await conn.run('COMMIT');
    return result;
  } catch (error) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

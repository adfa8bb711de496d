import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The schema as numbered migrations, each applied once and recorded in `schema_migrations`
 * (style.md item 10). Never edit an applied migration; add the next one.
 */
type Migration =
  | { version: number; sql: string }
  /** A migration whose statements depend on the database it runs in; it runs inside the migration's transaction. */
  | { version: number; apply(conn: DuckDBConnection): Promise<void> };

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE organizations (
        organization_id VARCHAR PRIMARY KEY,
        management_account_id VARCHAR NOT NULL,
        created_at_ms BIGINT NOT NULL
      );
      CREATE TABLE accounts (
        account_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        organization_id VARCHAR,
        is_admin BOOLEAN NOT NULL,
        created_at_ms BIGINT NOT NULL
      );
      CREATE TABLE users (
        account_id VARCHAR NOT NULL,
        user_name VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        created_at_ms BIGINT NOT NULL,
        PRIMARY KEY (account_id, user_name)
      );
      -- Secrets are not here: they live in a 0600 file beside the database (design.md, Storage).
      CREATE TABLE access_keys (
        access_key_id VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        user_name VARCHAR,
        status VARCHAR NOT NULL,
        created_at_ms BIGINT NOT NULL
      );
      CREATE TABLE trails (
        trail_arn VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        home_region VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        doc JSON NOT NULL
      );
      CREATE TABLE consumer_cursors (
        consumer VARCHAR PRIMARY KEY,
        seq BIGINT NOT NULL
      );
      -- Event history (LookupEvents): management and Insights events, one row per record, in typed
      -- columns so DuckDB compresses them (about 100 bytes an event) and filters without parsing JSON.
      CREATE TABLE history_events (
        seq BIGINT NOT NULL,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        event_time TIMESTAMP NOT NULL,
        event_category VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL,
        -- High 32 bits of hash(event_id): a 4-byte column that finds one event among millions fast.
        event_id_hash UINTEGER NOT NULL,
        event_name VARCHAR,
        event_source VARCHAR,
        read_only BOOLEAN,
        username VARCHAR,
        access_key_id VARCHAR,
        resource_types VARCHAR[],
        resource_names VARCHAR[],
        event_version VARCHAR,
        user_identity JSON,
        event_time_text VARCHAR,
        source_ip_address VARCHAR,
        user_agent VARCHAR,
        error_code VARCHAR,
        error_message VARCHAR,
        request_parameters JSON,
        response_elements JSON,
        additional_event_data JSON,
        request_id VARCHAR,
        resources JSON,
        event_type VARCHAR,
        management_event BOOLEAN,
        recipient_account_id VARCHAR,
        tls_details JSON,
        -- Every other top-level member of the record, as a JSON object (NULL when there is none).
        extra JSON
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- One row per resource of a history event, for LookupEvents by ResourceName and ResourceType: a
      -- 4-byte hash column scans fast where a list of strings per event does not.
      CREATE TABLE history_resources (
        seq BIGINT NOT NULL,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        event_time TIMESTAMP NOT NULL,
        event_category VARCHAR NOT NULL,
        resource_type VARCHAR,
        resource_name VARCHAR,
        name_hash UINTEGER
      );
      INSERT INTO history_resources
        SELECT seq, account_id, region, event_time, event_category, t, n,
          CASE WHEN n IS NOT NULL THEN ('0x' || substr(md5(n), 1, 8))::UINTEGER END
        FROM (
          SELECT seq, account_id, region, event_time, event_category,
            unnest(resource_types) AS t, unnest(resource_names) AS n
          FROM history_events
        );
    `,
  },
  {
    version: 3,
    sql: `
      -- Trail delivery (src/trails/delivery/): each trail reads the log after its own cursor. A planned
      -- delivery (the files a range of records becomes) is stored before any file is written, and the
      -- cursor moves only once they all are, so a restart rewrites the same files under the same keys.
      CREATE TABLE trail_delivery (
        trail_key VARCHAR PRIMARY KEY,
        cursor BIGINT NOT NULL,
        logging BOOLEAN NOT NULL,
        trail JSON NOT NULL,
        plan JSON,
        status JSON NOT NULL
      );
      -- Digest chains, one per trail, account and Region, and the log files their next digest lists.
      CREATE TABLE digest_chains (
        trail_key VARCHAR NOT NULL,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        start_ms BIGINT NOT NULL,
        previous JSON,
        pending_end_ms BIGINT,
        PRIMARY KEY (trail_key, account_id, region)
      );
      CREATE TABLE digest_log_files (
        trail_key VARCHAR NOT NULL,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        delivered_ms BIGINT NOT NULL,
        file JSON NOT NULL
      );
    `,
  },
  {
    version: 4,
    sql: `
      -- CloudTrail Lake event data stores (src/lake/): one JSON document each, like trails.
      CREATE TABLE event_data_stores (
        store_id VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        doc JSON NOT NULL
      );
      -- Each store's cursor in the log, committed with the events it took.
      CREATE TABLE lake_cursors (
        store_id VARCHAR PRIMARY KEY,
        seq BIGINT NOT NULL
      );
      -- Every store's events, typed as Lake's schema (facts §8.3; src/lake/lake-table.ts, LAKE_COLUMNS).
      CREATE TABLE lake_events (
        store_id VARCHAR NOT NULL,
        eventversion VARCHAR,
        useridentity STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, accesskeyid VARCHAR, username VARCHAR, sessioncontext STRUCT(attributes STRUCT(creationdate TIMESTAMP, mfaauthenticated VARCHAR), sessionissuer STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR), webidfederationdata STRUCT(federatedprovider VARCHAR, attributes MAP(VARCHAR, VARCHAR)), sourceidentity VARCHAR, ec2roledelivery VARCHAR, ec2issuedinvpc VARCHAR), invokedby VARCHAR, identityprovider VARCHAR),
        eventtime TIMESTAMP,
        eventsource VARCHAR,
        eventname VARCHAR,
        awsregion VARCHAR,
        sourceipaddress VARCHAR,
        useragent VARCHAR,
        errorcode VARCHAR,
        errormessage VARCHAR,
        requestparameters MAP(VARCHAR, VARCHAR),
        responseelements MAP(VARCHAR, VARCHAR),
        additionaleventdata MAP(VARCHAR, VARCHAR),
        requestid VARCHAR,
        eventid VARCHAR,
        readonly BOOLEAN,
        resources STRUCT(accountid VARCHAR, type VARCHAR, arn VARCHAR, arnprefix VARCHAR)[],
        eventtype VARCHAR,
        apiversion VARCHAR,
        managementevent BOOLEAN,
        recipientaccountid VARCHAR,
        sharedeventid VARCHAR,
        annotation VARCHAR,
        vpcendpointid VARCHAR,
        serviceeventdetails MAP(VARCHAR, VARCHAR),
        addendum MAP(VARCHAR, VARCHAR),
        edgedevicedetails MAP(VARCHAR, VARCHAR),
        insightdetails MAP(VARCHAR, VARCHAR),
        eventcategory VARCHAR,
        tlsdetails STRUCT(tlsversion VARCHAR, ciphersuite VARCHAR, clientprovidedhostheader VARCHAR),
        sessioncredentialfromconsole VARCHAR,
        eventjson VARCHAR,
        eventjsonchecksum VARCHAR,
        seq BIGINT NOT NULL
      );
    `,
  },
  {
    version: 5,
    sql: `
      -- Lake queries (src/lake/query-runner.ts): one JSON document per query, kept 7 days with its results,
      -- each result row as Lake's wire shape (a list of one-entry maps, values as strings).
      CREATE TABLE lake_queries (
        query_id VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        created_ms BIGINT NOT NULL,
        doc JSON NOT NULL
      );
      CREATE TABLE lake_query_results (
        query_id VARCHAR NOT NULL,
        row_index INTEGER NOT NULL,
        row_json VARCHAR NOT NULL
      );
    `,
  },
  {
    version: 6,
    sql: `
      -- Lake channels (src/lake/channel-store.ts): one JSON document per channel, held in memory.
      CREATE TABLE channels (
        channel_id VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        doc JSON NOT NULL
      );
    `,
  },
  {
    version: 7,
    sql: `
      -- A 4-byte key of each Lake event's eventID (the first 8 hex digits of its MD5, as history's
      -- event_id_hash), so a query for one eventID scans 40 MB of keys at 10 million events instead of
      -- decompressing every eventID (src/lake/sql-sandbox.ts adds the key to such queries).
      ALTER TABLE lake_events ADD COLUMN eventid_hash UINTEGER;
      UPDATE lake_events SET eventid_hash = ('0x' || substr(md5(eventid), 1, 8))::UINTEGER WHERE eventid IS NOT NULL;
    `,
  },
  {
    version: 8,
    sql: `
      -- Lake dashboards (src/lake/dashboard-store.ts): one JSON document per dashboard, held in memory, and
      -- one row per refresh naming the query each widget ran (their rows are in lake_query_results).
      CREATE TABLE dashboards (
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        doc JSON NOT NULL,
        PRIMARY KEY (account_id, region, name)
      );
      CREATE TABLE dashboard_refreshes (
        refresh_id VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        dashboard_name VARCHAR NOT NULL,
        created_ms BIGINT NOT NULL,
        doc JSON NOT NULL
      );
    `,
  },
  {
    version: 9,
    sql: `
      -- Lake imports (src/lake/import-service.ts): one JSON document each, rewritten with its progress in the
      -- transaction that stores the events it read, and the files each could not import.
      CREATE TABLE lake_imports (
        import_id VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        region VARCHAR NOT NULL,
        doc JSON NOT NULL
      );
      CREATE TABLE lake_import_failures (
        import_id VARCHAR NOT NULL,
        location VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        error_type VARCHAR NOT NULL,
        error_message VARCHAR NOT NULL,
        updated_at_ms BIGINT NOT NULL
      );
    `,
  },
  {
    version: 10,
    sql: `
      -- eventjsonchecksum becomes a virtual column, the SHA-256 of eventjson computed when read (src/lake/lake-table.ts):
      -- DuckDB adds generated columns only in CREATE TABLE, so the table is rebuilt with its rows.
      CREATE TABLE lake_events_v10 (
        store_id VARCHAR NOT NULL,
        eventversion VARCHAR,
        useridentity STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, accesskeyid VARCHAR, username VARCHAR, sessioncontext STRUCT(attributes STRUCT(creationdate TIMESTAMP, mfaauthenticated VARCHAR), sessionissuer STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR), webidfederationdata STRUCT(federatedprovider VARCHAR, attributes MAP(VARCHAR, VARCHAR)), sourceidentity VARCHAR, ec2roledelivery VARCHAR, ec2issuedinvpc VARCHAR), invokedby VARCHAR, identityprovider VARCHAR),
        eventtime TIMESTAMP,
        eventsource VARCHAR,
        eventname VARCHAR,
        awsregion VARCHAR,
        sourceipaddress VARCHAR,
        useragent VARCHAR,
        errorcode VARCHAR,
        errormessage VARCHAR,
        requestparameters MAP(VARCHAR, VARCHAR),
        responseelements MAP(VARCHAR, VARCHAR),
        additionaleventdata MAP(VARCHAR, VARCHAR),
        requestid VARCHAR,
        eventid VARCHAR,
        readonly BOOLEAN,
        resources STRUCT(accountid VARCHAR, type VARCHAR, arn VARCHAR, arnprefix VARCHAR)[],
        eventtype VARCHAR,
        apiversion VARCHAR,
        managementevent BOOLEAN,
        recipientaccountid VARCHAR,
        sharedeventid VARCHAR,
        annotation VARCHAR,
        vpcendpointid VARCHAR,
        serviceeventdetails MAP(VARCHAR, VARCHAR),
        addendum MAP(VARCHAR, VARCHAR),
        edgedevicedetails MAP(VARCHAR, VARCHAR),
        insightdetails MAP(VARCHAR, VARCHAR),
        eventcategory VARCHAR,
        tlsdetails STRUCT(tlsversion VARCHAR, ciphersuite VARCHAR, clientprovidedhostheader VARCHAR),
        sessioncredentialfromconsole VARCHAR,
        eventjson VARCHAR,
        eventjsonchecksum VARCHAR GENERATED ALWAYS AS (sha256(eventjson)) VIRTUAL,
        seq BIGINT NOT NULL,
        eventid_hash UINTEGER
      );
      INSERT INTO lake_events_v10 BY NAME SELECT * EXCLUDE (eventjsonchecksum) FROM lake_events;
      DROP TABLE lake_events;
      ALTER TABLE lake_events_v10 RENAME TO lake_events;
    `,
  },
  {
    version: 11,
    sql: `
      -- eventjsonchecksum is no longer a column of lake_events: the store's relation computes it from eventjson
      -- when a query reads it (src/lake/lake-table.ts, LAKE_RELATION_COLUMNS). DuckDB evaluates a generated
      -- column's expression on every append to check it, so the virtual column of migration 10 still hashed
      -- every record as it was stored. Dropping a virtual column rewrites no rows.
      ALTER TABLE lake_events DROP COLUMN eventjsonchecksum;
    `,
  },
  {
    version: 12,
    sql: `
      -- A channel's IngestionStatus (src/lake/channel-service.ts), written behind the PutAuditEvents calls
      -- that change it, at most once a second, and when the server stops: a restart no longer forgets it.
      CREATE TABLE channel_ingestion_status (channel_id VARCHAR PRIMARY KEY, doc JSON NOT NULL);
    `,
  },
  {
    version: 13,
    // Lake's eventjson (~1.3 KB a record) compressed with zstd: about 150 bytes an event instead of FSST's ~650,
    // a Lake store a third of the size on disk, no slower to query, and cheaper to checkpoint. DuckDB writes zstd
    // only in a file of storage version v1.2 or later (Database.open creates new files so); in an older file
    // `USING COMPRESSION zstd` silently stores the column uncompressed, so such a file keeps FSST. The file's
    // version is fixed when it is created, so only a data directory created since this migration gets zstd.
    async apply(conn) {
      if (!(await storesZstd(conn))) return;
      const rows = (
        await conn.runAndReadAll(
          "SELECT sql FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'lake_events'",
        )
      ).getRows();
      const ddl = String(rows[0]?.[0] ?? '');
      const zstd = ddl
        .replace('CREATE TABLE lake_events', 'CREATE TABLE lake_events_v13')
        .replace(/\beventjson VARCHAR\b/, 'eventjson VARCHAR USING COMPRESSION zstd');
      if (!zstd.includes('lake_events_v13') || !zstd.includes('USING COMPRESSION zstd')) {
        throw new Error(`migration 13 does not recognise the lake_events table: ${ddl}`);
      }
      await conn.run(zstd);
      await conn.run('INSERT INTO lake_events_v13 BY NAME SELECT * FROM lake_events');
      await conn.run('DROP TABLE lake_events');
      await conn.run('ALTER TABLE lake_events_v13 RENAME TO lake_events');
    },
  },
  {
    version: 14,
    sql: `
      -- LookupEvents by EventId and ResourceName (src/history/history-index.ts): runs of (hash, seq) sorted by
      -- hash, so DuckDB's per-row-group min/max finds a hash in one row group per run, where the hash columns
      -- of history_events and history_resources are read whole (10M events: 7 ms). Events after the watermark
      -- are not in a run yet and are sought in the hash columns, from their seq on.
      CREATE TABLE history_id_index (hash UINTEGER NOT NULL, seq BIGINT NOT NULL);
      CREATE TABLE history_name_index (hash UINTEGER NOT NULL, seq BIGINT NOT NULL);
      CREATE TABLE history_index_state (watermark BIGINT NOT NULL, runs INTEGER NOT NULL);
      INSERT INTO history_index_state VALUES (0, 0);
    `,
  },
  {
    version: 15,
    sql: `
      -- Records a consumer could not store and stepped over (src/store/skipped-records.ts), so /health counts
      -- them across restarts and an operator can find each one in the log by its seq.
      CREATE TABLE skipped_records (
        consumer VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        reason VARCHAR NOT NULL,
        PRIMARY KEY (consumer, seq)
      );
    `,
  },
];

/** The storage version new files are created with: the first that writes zstd-compressed strings (migration 13). */
export const STORAGE_VERSION = 'v1.2.0';

/** Whether the connection's database file is of a storage version that writes zstd (v1.2 or later). */
async function storesZstd(conn: DuckDBConnection): Promise<boolean> {
  const rows = (
    await conn.runAndReadAll(
      "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()",
    )
  ).getRows();
  const version = /^v(\d+)\.(\d+)/.exec(String(rows[0]?.[0] ?? ''));
  return version !== null && (Number(version[1]) > 1 || (Number(version[1]) === 1 && Number(version[2]) >= 2));
}

/** Applies the migrations not yet applied, in order; `throughVersion` stops early (a test of one migration). */
export async function migrate(conn: DuckDBConnection, nowMs: number, throughVersion = Infinity): Promise<void> {
  await conn.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms BIGINT NOT NULL)',
  );
  const applied = new Set(
    (await conn.runAndReadAll('SELECT version FROM schema_migrations')).getRows().map((r) => Number(r[0])),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version) || m.version > throughVersion) continue;
    await conn.run('BEGIN TRANSACTION');
    try {
      if ('sql' in m) await conn.run(m.sql);
      else await m.apply(conn);
      await conn.run('INSERT INTO schema_migrations VALUES ($1, $2)', [m.version, nowMs]);
      await conn.run('COMMIT');
    } catch (error) {
      await conn.run('ROLLBACK');
      throw error;
    }
  }
}

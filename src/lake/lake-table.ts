import { blobValue, type DuckDBConnection } from '@duckdb/node-api';
import type { Connection } from '../store/database.ts';
import { BATCH_LINES, lineBatch, seqPrefix } from '../store/line-batch.ts';

/**
 * The rows of event data stores: one table, `lake_events`, for every store, keyed by `store_id` and typed as
 * CloudTrail Lake's schema (facts §8.3, lower-case names), so Lake SQL like `userIdentity.arn` or
 * `element_at(requestParameters, 'bucketName')` reads columns rather than JSON. DuckDB parses each record
 * once (`json_transform`) inside one INSERT … SELECT, from a bound batch (the lake consumer, as event history
 * does), an import's batch table or a staging table (tests, benchmarks); JavaScript never parses a record on
 * the way in. Map members keep
 * nested values as their JSON text and strings as they are, as Lake shows them.
 */

/** The columns of facts §8.3, in order: what a Lake query sees as the store's table. */
export const LAKE_COLUMNS = [
  'eventversion',
  'useridentity',
  'eventtime',
  'eventsource',
  'eventname',
  'awsregion',
  'sourceipaddress',
  'useragent',
  'errorcode',
  'errormessage',
  'requestparameters',
  'responseelements',
  'additionaleventdata',
  'requestid',
  'eventid',
  'readonly',
  'resources',
  'eventtype',
  'apiversion',
  'managementevent',
  'recipientaccountid',
  'sharedeventid',
  'annotation',
  'vpcendpointid',
  'serviceeventdetails',
  'addendum',
  'edgedevicedetails',
  'insightdetails',
  'eventcategory',
  'tlsdetails',
  'sessioncredentialfromconsole',
  'eventjson',
  'eventjsonchecksum',
] as const;

export type LakeColumn = (typeof LAKE_COLUMNS)[number];

const V = 'VARCHAR';

// The table itself is created by migration 4 (src/store/migrations.ts), with these columns in this order
// after `store_id` (but for `eventjsonchecksum`, computed when read), then `seq` and `eventid_hash`.

/** Rows staged before one INSERT … SELECT: which store takes which record (tests and benchmarks load stores so). */
export const CREATE_LAKE_STAGING =
  'CREATE OR REPLACE TEMP TABLE lake_staging (store_id VARCHAR, seq BIGINT, j VARCHAR)';

/**
 * Lake's map<string,string> columns: DuckDB's MAP(VARCHAR, VARCHAR) transform keeps strings as they are,
 * writes anything nested as its JSON text, and gives NULL for a member that is not an object.
 */
const STRING_MAP = 'MAP(VARCHAR, VARCHAR)';

/** userIdentity's members, typed (its webIdFederationData attributes a map, as Lake has them). */
const USER_IDENTITY_SCHEMA = {
  type: V,
  principalId: V,
  arn: V,
  accountId: V,
  accessKeyId: V,
  userName: V,
  invokedBy: V,
  identityProvider: V,
  sessionContext: {
    attributes: { creationDate: V, mfaAuthenticated: V },
    sessionIssuer: { type: V, principalId: V, arn: V, accountId: V, userName: V },
    webIdFederationData: { federatedProvider: V, attributes: STRING_MAP },
    sourceIdentity: V,
    ec2RoleDelivery: V,
    ec2IssuedInVPC: V,
  },
};

/** The whole record typed in one parse: nested members are read straight into their structs and maps. */
const RECORD_MEMBERS = {
  eventVersion: V,
  userIdentity: USER_IDENTITY_SCHEMA,
  eventTime: V,
  eventSource: V,
  eventName: V,
  awsRegion: V,
  sourceIPAddress: V,
  userAgent: V,
  errorCode: V,
  errorMessage: V,
  requestParameters: STRING_MAP,
  responseElements: STRING_MAP,
  additionalEventData: STRING_MAP,
  requestID: V,
  eventID: V,
  readOnly: 'BOOLEAN',
  resources: [{ accountId: V, type: V, ARN: V, ARNPrefix: V }],
  eventType: V,
  apiVersion: V,
  managementEvent: 'BOOLEAN',
  recipientAccountId: V,
  sharedEventID: V,
  annotation: V,
  vpcEndpointId: V,
  serviceEventDetails: STRING_MAP,
  addendum: STRING_MAP,
  edgeDeviceDetails: STRING_MAP,
  insightDetails: STRING_MAP,
  eventCategory: V,
  tlsDetails: { tlsVersion: V, cipherSuite: V, clientProvidedHostHeader: V },
  sessionCredentialFromConsole: V,
};
const RECORD_SCHEMA = JSON.stringify(RECORD_MEMBERS);

/** Lake's map columns and members as lower-case dotted paths (`requestparameters`, `…webidfederationdata.attributes`). */
export const LAKE_MAP_PATHS: readonly string[] = mapPaths(RECORD_MEMBERS, '');

function mapPaths(members: object, prefix: string): string[] {
  return Object.entries(members).flatMap(([name, type]: [string, unknown]) => {
    const path = `${prefix}${name.toLowerCase()}`;
    if (type === STRING_MAP) return [path];
    return typeof type === 'object' && type !== null && !Array.isArray(type) ? mapPaths(type, `${path}.`) : [];
  });
}

/** Times as CloudTrail writes them (`2026-01-01T00:00:00Z`), read leniently: a bad one is NULL, not a failed batch. */
const timestamp = (text: string) => `TRY_CAST(replace(replace(${text}, 'T', ' '), 'Z', '') AS TIMESTAMP)`;

/**
 * `eventjsonchecksum` is not stored: it is the SHA-256 of `eventjson`, computed by the store's relation when a
 * query reads it (LAKE_RELATION_COLUMNS). Hashing every record as it is stored cost a fifth of the lake's insert
 * time, for a column few queries read. Migration 10 made it a VIRTUAL generated column for that reason, but DuckDB
 * evaluates a generated column's expression on every append to check that it succeeds, so each insert still
 * hashed every record (a third of the insert's CPU); migration 11 drops the column.
 */
type StoredColumn = Exclude<LakeColumn, 'eventjsonchecksum'>;
const STORED_COLUMNS = LAKE_COLUMNS.filter((c): c is StoredColumn => c !== 'eventjsonchecksum');
/** The checksum column as every store's relation computes it. */
const EVENT_JSON_CHECKSUM = 'sha256(eventjson) AS eventjsonchecksum';

/** LAKE_COLUMNS as a SELECT list over `lake_events`: what a Lake query sees as a store's table. */
export const LAKE_RELATION_COLUMNS = LAKE_COLUMNS.map((c) =>
  c === 'eventjsonchecksum' ? EVENT_JSON_CHECKSUM : c,
).join(', ');

/**
 * The columns of a store of events from outside AWS (ActivityAuditLog): the Lake User Guide's schema for them,
 * with the caller's `eventdata`, and the `metadata` and `addendum` CloudTrail adds, read from each record's
 * JSON when queried (such stores are small; the CloudTrail columns above would all be null). Struct members
 * keep the record's names (`eventData.eventName`); Lake SQL reads them whatever their case.
 */
const INTEGRATION_MEMBERS = {
  addendum: { reason: V, updatedFields: V, originalUID: V, originalEventID: V },
  metadata: { ingestionTime: V, channelARN: V },
  eventData: {
    version: V,
    userIdentity: { type: V, principalId: V, details: STRING_MAP },
    userAgent: V,
    eventSource: V,
    eventName: V,
    eventTime: V,
    UID: V,
    requestParameters: STRING_MAP,
    responseElements: STRING_MAP,
    errorCode: V,
    errorMessage: V,
    sourceIPAddress: V,
    recipientAccountId: V,
    additionalEventData: STRING_MAP,
  },
};

/** An ActivityAuditLog store's table, as LAKE_RELATION_COLUMNS is a store of CloudTrail events'. */
export const INTEGRATION_RELATION_COLUMNS = [
  'eventversion',
  'eventcategory',
  'eventtype',
  'eventid',
  'eventtime',
  'awsregion',
  'recipientaccountid',
  ...Object.entries(INTEGRATION_MEMBERS).map(
    ([member, schema]) =>
      `json_transform(eventjson->'${member}', '${JSON.stringify(schema)}') AS ${member.toLowerCase()}`,
  ),
  'eventjson',
  EVENT_JSON_CHECKSUM,
].join(', ');

/** The SELECT list, in STORED_COLUMNS order, over `r` (the record), `u` (its userIdentity) and `j` (its text). */
const SELECT_LIST: Record<StoredColumn, string> = {
  eventversion: 'r.eventVersion',
  useridentity: `CASE WHEN r.userIdentity IS NOT NULL THEN {
      'type': u.type, 'principalid': u.principalId, 'arn': u.arn, 'accountid': u.accountId,
      'accesskeyid': u.accessKeyId, 'username': u.userName,
      'sessioncontext': CASE WHEN u.sessionContext IS NOT NULL THEN {
        'attributes': {'creationdate': ${timestamp('u.sessionContext.attributes.creationDate')},
          'mfaauthenticated': u.sessionContext.attributes.mfaAuthenticated},
        'sessionissuer': {'type': u.sessionContext.sessionIssuer.type,
          'principalid': u.sessionContext.sessionIssuer.principalId, 'arn': u.sessionContext.sessionIssuer.arn,
          'accountid': u.sessionContext.sessionIssuer.accountId, 'username': u.sessionContext.sessionIssuer.userName},
        'webidfederationdata': {'federatedprovider': u.sessionContext.webIdFederationData.federatedProvider,
          'attributes': u.sessionContext.webIdFederationData.attributes},
        'sourceidentity': u.sessionContext.sourceIdentity, 'ec2roledelivery': u.sessionContext.ec2RoleDelivery,
        'ec2issuedinvpc': u.sessionContext.ec2IssuedInVPC} END,
      'invokedby': u.invokedBy, 'identityprovider': u.identityProvider} END`,
  eventtime: timestamp('r.eventTime'),
  eventsource: 'r.eventSource',
  eventname: 'r.eventName',
  awsregion: 'r.awsRegion',
  sourceipaddress: 'r.sourceIPAddress',
  useragent: 'r.userAgent',
  errorcode: 'r.errorCode',
  errormessage: 'r.errorMessage',
  requestparameters: 'r.requestParameters',
  responseelements: 'r.responseElements',
  additionaleventdata: 'r.additionalEventData',
  requestid: 'r.requestID',
  eventid: 'r.eventID',
  readonly: 'r.readOnly',
  resources: `list_transform(r.resources, x -> {'accountid': x.accountId, 'type': x.type, 'arn': x."ARN", 'arnprefix': x.ARNPrefix})`,
  eventtype: 'r.eventType',
  apiversion: 'r.apiVersion',
  managementevent: 'r.managementEvent',
  recipientaccountid: 'r.recipientAccountId',
  sharedeventid: 'r.sharedEventID',
  annotation: 'r.annotation',
  vpcendpointid: 'r.vpcEndpointId',
  serviceeventdetails: 'r.serviceEventDetails',
  addendum: 'r.addendum',
  edgedevicedetails: 'r.edgeDeviceDetails',
  insightdetails: 'r.insightDetails',
  eventcategory: 'r.eventCategory',
  tlsdetails: `CASE WHEN r.tlsDetails IS NOT NULL THEN {'tlsversion': r.tlsDetails.tlsVersion,
      'ciphersuite': r.tlsDetails.cipherSuite, 'clientprovidedhostheader': r.tlsDetails.clientProvidedHostHeader} END`,
  sessioncredentialfromconsole: 'r.sessionCredentialFromConsole',
  eventjson: 'j',
};

/** Rows (store_id, seq, j) into `lake_events`: one parse of each record, in DuckDB. */
const insertLakeRows = (rows: string) => `
    INSERT INTO lake_events (store_id, ${STORED_COLUMNS.join(', ')}, seq, eventid_hash)
    SELECT store_id, ${STORED_COLUMNS.map((c) => SELECT_LIST[c]).join(',\n      ')}, seq,
      ('0x' || substr(md5(r.eventID), 1, 8))::UINTEGER
    FROM (
      SELECT store_id, seq, j, r, r.userIdentity AS u
      FROM (SELECT store_id, seq, j, json_transform(j, '${RECORD_SCHEMA}') AS r FROM ${rows})
    )`;

/** Moves the staged rows into `lake_events`. */
export async function insertStagedLakeEvents(conn: DuckDBConnection): Promise<void> {
  await conn.run(INSERT_STAGED);
}

const INSERT_STAGED = insertLakeRows('lake_staging');

/** Moves the records numbered `fromK` up to `toK` (exclusive) of an import's `import_batch` (import-writer.ts) into a store. */
export async function insertImportBatch(
  conn: DuckDBConnection,
  storeId: string,
  fromK: number,
  toK: number,
): Promise<void> {
  await conn.run(INSERT_IMPORT_BATCH, [storeId, fromK, toK]);
}

// Imported records come from no log position: seq 0.
const INSERT_IMPORT_BATCH = insertLakeRows(
  '(SELECT $1::VARCHAR AS store_id, 0::BIGINT AS seq, j FROM import_batch WHERE k >= $2 AND k < $3)',
);

/** A batch for `insertLakeBatch`: per row the store id, 0x1F, the seq, the record's JSON. */
export function lakeBatch(rows: readonly { storeId: string; seq: number; json: Uint8Array }[]): Buffer {
  return lineBatch(rows.map((r) => ({ prefix: `${r.storeId}\u001f${seqPrefix(r.seq)}`, json: r.json })));
}

/** Stores a `lakeBatch` in `lake_events`, in the caller's transaction, as the connection's prepared statement. */
export async function insertLakeBatch(conn: Connection, batch: Buffer): Promise<void> {
  await conn.runPrepared(INSERT_BATCH, [blobValue(batch)]);
}

const INSERT_BATCH = insertLakeRows(`(
  SELECT substr(line, 1, p - 1) AS store_id, substr(line, p + 1, 20)::BIGINT AS seq, substr(line, p + 21) AS j
  FROM (SELECT line, position(chr(31) IN line) AS p FROM ${BATCH_LINES}))`);

/** Drops a store's events older than `cutoffMs` (by eventTime); returns how many went. */
export async function dropEventsBefore(conn: DuckDBConnection, storeId: string, cutoffMs: number): Promise<number> {
  const result = await conn.run(
    'DELETE FROM lake_events WHERE store_id = $1 AND eventtime < make_timestamp($2::BIGINT * 1000)',
    [storeId, cutoffMs],
  );
  return result.rowsChanged;
}

/** Removes every event of a store that is gone (its 7 days of pending deletion ended). */
export async function dropStoreEvents(conn: DuckDBConnection, storeId: string): Promise<void> {
  await conn.run('DELETE FROM lake_events WHERE store_id = $1', [storeId]);
}

export async function countStoreEvents(conn: DuckDBConnection, storeId: string): Promise<number> {
  const rows = (await conn.runAndReadAll('SELECT count(*) FROM lake_events WHERE store_id = $1', [storeId])).getRows();
  return Number(rows[0]?.[0] ?? 0);
}

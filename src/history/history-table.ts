import { blobValue } from '@duckdb/node-api';
import { RECORD_MEMBER_ORDER } from '../model/record.ts';
import type { Connection } from '../store/database.ts';
import { BATCH_LINES, lineBatch, seqPrefix } from '../store/line-batch.ts';

/**
 * How records become rows of `history_events` and rows become records again. DuckDB parses each record
 * once (`json_transform`) inside one INSERT … SELECT, so the consumer never parses JSON in JavaScript;
 * nested members stay JSON text, which DuckDB compresses well, and members we do not know are kept
 * together in `extra`, so a record comes back with everything it went in with.
 */

/** Each record member with a column of its own: its DuckDB type and column. */
const COLUMNS: Record<
  (typeof RECORD_MEMBER_ORDER)[number],
  readonly [type: 'VARCHAR' | 'JSON' | 'BOOLEAN', column: string]
> = {
  eventVersion: ['VARCHAR', 'event_version'],
  userIdentity: ['JSON', 'user_identity'],
  eventTime: ['VARCHAR', 'event_time_text'],
  eventSource: ['VARCHAR', 'event_source'],
  eventName: ['VARCHAR', 'event_name'],
  awsRegion: ['VARCHAR', 'region'],
  sourceIPAddress: ['VARCHAR', 'source_ip_address'],
  userAgent: ['VARCHAR', 'user_agent'],
  errorCode: ['VARCHAR', 'error_code'],
  errorMessage: ['VARCHAR', 'error_message'],
  requestParameters: ['JSON', 'request_parameters'],
  responseElements: ['JSON', 'response_elements'],
  additionalEventData: ['JSON', 'additional_event_data'],
  requestID: ['VARCHAR', 'request_id'],
  eventID: ['VARCHAR', 'event_id'],
  readOnly: ['BOOLEAN', 'read_only'],
  resources: ['JSON', 'resources'],
  eventType: ['VARCHAR', 'event_type'],
  managementEvent: ['BOOLEAN', 'management_event'],
  recipientAccountId: ['VARCHAR', 'recipient_account_id'],
  eventCategory: ['VARCHAR', 'event_category'],
  tlsDetails: ['JSON', 'tls_details'],
};

/** The members with a column, in RECORD_MEMBER_ORDER: [name, type, column]. */
const MEMBERS = RECORD_MEMBER_ORDER.map((name) => [name, ...COLUMNS[name]] as const);

const TRANSFORM_SCHEMA = JSON.stringify(Object.fromEntries(MEMBERS.map(([name, type]) => [name, type])));
/** A JSON merge patch that deletes every known member, leaving only the others (RFC 7396). */
const DROP_KNOWN = JSON.stringify(Object.fromEntries(MEMBERS.map(([name]) => [name, null])));

/** CloudTrail operations whose `Name` member names a trail (other operations' `Name` names a store, a channel, ...). */
const TRAIL_NAMED_BY_NAME = [
  'CreateTrail',
  'UpdateTrail',
  'DeleteTrail',
  'GetTrail',
  'GetTrailStatus',
  'StartLogging',
  'StopLogging',
]
  .map((name) => `'${name}'`)
  .join(', ');

/** The members of userIdentity that LookupEvents' Username and AccessKeyId come from. */
const CALLER_SCHEMA = JSON.stringify({
  userName: 'VARCHAR',
  type: 'VARCHAR',
  arn: 'VARCHAR',
  invokedBy: 'VARCHAR',
  accessKeyId: 'VARCHAR',
});

/** A batch for `insertRecords`: per record its seq, '1' when it may have members beyond the typed ones, its JSON. */
export function recordBatch(records: readonly { seq: number; json: Uint8Array; mayHaveExtra: boolean }[]): Buffer {
  return lineBatch(records.map((r) => ({ prefix: seqPrefix(r.seq) + (r.mayHaveExtra ? '1' : '0'), json: r.json })));
}

/** recordBatch's records as rows (seq, j, may_have_extra). */
const BATCH_ROWS = `(
  SELECT substr(line, 1, 20)::BIGINT AS seq, substr(line, 22) AS j, substr(line, 21, 1) = '1' AS may_have_extra
  FROM ${BATCH_LINES})`;

/**
 * EC2's records carry no `resources`, yet AWS's event history lists what an EC2 call changed: the instances,
 * images, VPCs, subnets, security groups (by ID and by name), key pairs and network interfaces its request and
 * response name, and nothing for a read-only call (AWS's own LookupEvents output in the real logs,
 * log2timeline__plaso). The members naming them, and the resource type each names.
 */
const EC2_RESOURCE_MEMBERS: Readonly<Record<string, string>> = {
  instanceId: 'AWS::EC2::Instance',
  imageId: 'AWS::EC2::Ami',
  vpcId: 'AWS::EC2::VPC',
  subnetId: 'AWS::EC2::Subnet',
  groupId: 'AWS::EC2::SecurityGroup',
  groupName: 'AWS::EC2::SecurityGroup',
  keyName: 'AWS::EC2::KeyPair',
  networkInterfaceId: 'AWS::EC2::NetworkInterface',
  volumeId: 'AWS::EC2::Volume',
  snapshotId: 'AWS::EC2::Snapshot',
};
/** `"instanceId":"i-…"` and the like, anywhere in an EC2 call's requestParameters and responseElements. */
const EC2_RESOURCE_MEMBER = `"(?:${Object.keys(EC2_RESOURCE_MEMBERS).join('|')})"\\s*:\\s*"[^"\\\\]*"`;
/** Each such member once, in the order first named. */
const EC2_MEMBERS_ONCE = 'list_filter(ec2, (x, i) -> list_position(ec2, x) = i)';
const EC2_TYPE = `CASE regexp_extract(x, '^"(\\w+)"', 1) ${Object.entries(EC2_RESOURCE_MEMBERS)
  .map(([member, type]) => `WHEN '${member}' THEN '${type}'`)
  .join(' ')} END`;

/** Indexes the resources of the history events from `firstSeq` on (one row per resource). */
export async function insertResources(conn: Connection, firstSeq: number): Promise<void> {
  await conn.runPrepared(
    `INSERT INTO history_resources
      SELECT seq, account_id, region, event_time, event_category, t, n,
        CASE WHEN n IS NOT NULL THEN ('0x' || substr(md5(n), 1, 8))::UINTEGER END
      FROM (
        SELECT seq, account_id, region, event_time, event_category,
          unnest(resource_types) AS t, unnest(resource_names) AS n
        FROM history_events WHERE seq >= $1::BIGINT
      )`,
    [BigInt(firstSeq)],
  );
}

/**
 * Stores the management and Insights records of a `recordBatch` in history (design.md: history consumer).
 * `event_time` keeps milliseconds, the precision of LookupEvents times and page tokens: a finer eventTime
 * (ingest accepts up to nine fractional digits) would sort between two tokens and be skipped by paging.
 * Runs on the caller's connection, in its transaction, as the connection's prepared statement.
 */
export async function insertRecords(conn: Connection, batch: Buffer): Promise<void> {
  await conn.runPrepared(INSERT_RECORDS, [blobValue(batch)]);
}

const INSERT_RECORDS = `
    INSERT INTO history_events (
      seq, account_id, region, event_time, event_category, event_id, event_id_hash, event_name, event_source,
      read_only, username, access_key_id, resource_types, resource_names, event_version, user_identity,
      event_time_text, source_ip_address, user_agent, error_code, error_message, request_parameters,
      response_elements, additional_event_data, request_id, resources, event_type, management_event,
      recipient_account_id, tls_details, extra)
    SELECT
      seq, r.recipientAccountId, r.awsRegion, date_trunc('millisecond', r.eventTime::TIMESTAMP),
      r.eventCategory, r.eventID,
      ('0x' || substr(md5(r.eventID), 1, 8))::UINTEGER, r.eventName, r.eventSource, r.readOnly,
      CASE
        WHEN u.userName IS NOT NULL THEN u.userName
        WHEN u.type = 'Root' THEN 'root'
        WHEN u.type IN ('AssumedRole', 'FederatedUser') THEN regexp_extract(u.arn, '[^/]+$')
        WHEN u.type = 'AWSService' THEN u.invokedBy
      END,
      u.accessKeyId,
      CASE WHEN len(rs) > 0 THEN list_transform(rs, x -> x.type) WHEN trail IS NOT NULL THEN ['AWS::CloudTrail::Trail']
        WHEN len(ec2) > 0 THEN list_transform(${EC2_MEMBERS_ONCE}, x -> ${EC2_TYPE}) END,
      CASE WHEN len(rs) > 0 THEN list_transform(rs, x -> x."ARN") WHEN trail IS NOT NULL THEN [trail]
        WHEN len(ec2) > 0 THEN list_transform(${EC2_MEMBERS_ONCE}, x -> regexp_extract(x, '"([^"]*)"$', 1)) END,
      r.eventVersion, r.userIdentity, r.eventTime, r.sourceIPAddress, r.userAgent, r.errorCode, r.errorMessage,
      r.requestParameters, r.responseElements, r.additionalEventData, r.requestID, r.resources, r.eventType,
      r.managementEvent, r.recipientAccountId, r.tlsDetails,
      -- The merge patch parses the record a second time: only for records that may have other members.
      CASE WHEN may_have_extra THEN NULLIF(json_merge_patch(j, '${DROP_KNOWN}')::VARCHAR, '{}') END
    FROM (
      SELECT seq, j, may_have_extra, r, json_transform(r.resources, '[{"type":"VARCHAR","ARN":"VARCHAR"}]') AS rs,
        -- The caller's members, read in one parse of userIdentity rather than one per member.
        json_transform(r.userIdentity, '${CALLER_SCHEMA}') AS u,
        -- CloudTrail's own records carry no resources; event history still lists the trail they name,
        -- as AWS's does (facts §6: Resources of the Event item). Only a trail: an event data store, a
        -- channel or a dashboard is named by the same members (name, resourceId) and is no trail.
        CASE WHEN r.eventSource = 'cloudtrail.amazonaws.com' THEN coalesce(
          r.responseElements->>'trailARN', r.requestParameters->>'trailName',
          -- list_contains, not IN: DuckDB plans an IN list this long as a join, which cost every batch
          -- about 3.3 ms of CPU (of ~9 for a batch of ten records).
          CASE WHEN list_contains([${TRAIL_NAMED_BY_NAME}], r.eventName) THEN r.requestParameters->>'name' END,
          CASE WHEN (r.requestParameters->>'resourceId') LIKE 'arn:%:trail/%' THEN r.requestParameters->>'resourceId' END
        ) END AS trail,
        CASE WHEN r.eventSource = 'ec2.amazonaws.com' AND r.readOnly IS DISTINCT FROM true AND r.resources IS NULL
          THEN regexp_extract_all(concat(r.requestParameters, ' ', r.responseElements), '${EC2_RESOURCE_MEMBER}') END AS ec2
      FROM (SELECT seq, j, may_have_extra, json_transform(j, '${TRANSFORM_SCHEMA}') AS r FROM ${BATCH_ROWS})
    )
    WHERE r.eventCategory IN ('Management', 'Insight')`;

/** The columns a lookup reads to rebuild a record, in MEMBERS order, then `extra`. */
export const RECORD_COLUMNS = [...MEMBERS.map(([, , column]) => column), 'extra'] as const;

/**
 * Rebuilds the record's JSON text from its columns. An API call's requestParameters and responseElements are
 * always present (null when empty), as in AWS's records; an Insights record has neither (facts §4.4).
 */
export function recordJson(row: Record<string, unknown>): string {
  const parts: string[] = [];
  const apiCall = row['event_category'] !== 'Insight';
  for (const [name, type, column] of MEMBERS) {
    const value = row[column];
    if (value === null || value === undefined) {
      if (apiCall && (name === 'requestParameters' || name === 'responseElements')) parts.push(`"${name}":null`);
      continue;
    }
    parts.push(`"${name}":${type === 'JSON' ? String(value) : JSON.stringify(value)}`);
  }
  const extra = row['extra'];
  if (typeof extra === 'string' && extra.length > 2) parts.push(extra.slice(1, -1));
  return `{${parts.join(',')}}`;
}

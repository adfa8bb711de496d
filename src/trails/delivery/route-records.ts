import type { LogEntry } from '../../log/frame.ts';
import type { CloudTrailRecord } from '../../model/record.ts';
import { dataEventResourceArns } from '../selector-match.ts';
import type { TrailRecord } from '../trail.ts';
import { isGlobalServiceEvent } from './trail-scope.ts';

/**
 * Decides, record by record and in log order, what one trail delivers from a range of the log. The trail's
 * logging state changes where its own StartLogging, StopLogging and DeleteTrail calls stand in the log:
 * logging starts with (and includes) the StartLogging record, and ends after the StopLogging or DeleteTrail
 * record, so a trail delivers exactly what happened while it was logging, and never what came before.
 * After its DeleteTrail nothing more is routed: a trail created again under the name is another trail.
 */
export interface RoutingInput {
  trail: TrailRecord;
  /** Accounts the trail covers (its own, or its organization's). */
  accounts: ReadonlySet<string>;
  matches: (record: CloudTrailRecord) => boolean;
  loggingAtStart: boolean;
}

/** The records for one log file: one per account and Region of a delivery. */
export interface FileRecords {
  accountId: string;
  region: string;
  /** Each record's JSON bytes exactly as they stand in the log. */
  records: Buffer[];
  oldestMs: number;
  newestMs: number;
  oldestText: string;
  newestText: string;
}

export interface Routed {
  files: FileRecords[];
  loggingAtEnd: boolean;
  /** Set when the range holds the trail's StopLogging or DeleteTrail record: its chains end. */
  stopped?: true;
  deleted?: true;
}

const CONTROL_EVENTS = new Set(['StartLogging', 'StopLogging', 'DeleteTrail']);

/**
 * A log entry read once per delivery and shared by every trail: its routing header (the record members
 * routing reads; see src/log/record-payload.ts) and the record's JSON bytes.
 */
export interface ParsedEntry {
  record: CloudTrailRecord;
  bytes: Buffer;
}

/** `parse` gives undefined for an entry no trail can take: a bare record that is not JSON. */
export function routeRecords(
  entries: readonly LogEntry[],
  input: RoutingInput,
  parse: (e: LogEntry) => ParsedEntry | undefined,
): Routed {
  const { trail } = input;
  const files = new Map<string, FileRecords>();
  let logging = input.loggingAtStart;
  let stopped = false;
  let deleted = false;
  for (const entry of entries) {
    if (deleted) break;
    const parsed = parse(entry);
    if (parsed === undefined) continue;
    const { record, bytes } = parsed;
    const control = controlEventFor(record, trail);
    if (control === 'StartLogging') logging = true;
    if (logging && inScope(record, input) && input.matches(record) && !isOwnDelivery(record, trail)) {
      add(files, record, bytes);
    }
    if (control === 'StopLogging' || control === 'DeleteTrail') {
      logging = false;
      stopped = true;
      if (control === 'DeleteTrail') deleted = true;
    }
  }
  return {
    files: [...files.values()],
    loggingAtEnd: logging,
    ...(stopped ? { stopped: true as const } : {}),
    ...(deleted ? { deleted: true as const } : {}),
  };
}

/** The trail's own successful StartLogging/StopLogging/DeleteTrail call, if `record` is one. */
function controlEventFor(record: CloudTrailRecord, trail: TrailRecord): string | undefined {
  if (record.eventSource !== 'cloudtrail.amazonaws.com' || record.errorCode !== undefined) return undefined;
  const name = record.eventName;
  if (name === undefined || !CONTROL_EVENTS.has(name)) return undefined;
  const ref = (record.requestParameters as { name?: unknown } | null | undefined)?.name;
  if (typeof ref !== 'string') return undefined;
  const arn = ref.startsWith('arn:')
    ? ref
    : `arn:aws:cloudtrail:${record.awsRegion}:${record.recipientAccountId}:trail/${ref}`;
  return arn === trail.arn ? name : undefined;
}

function inScope(record: CloudTrailRecord, input: RoutingInput): boolean {
  const { trail } = input;
  if (!input.accounts.has(record.recipientAccountId)) return false;
  if (!trail.isMultiRegionTrail && record.awsRegion !== trail.homeRegion) return false;
  if (!trail.includeGlobalServiceEvents && isGlobalServiceEvent(record.eventSource)) return false;
  return true;
}

/**
 * The feedback loop AWS users hit: a trail recording S3 data events for its own bucket would record its
 * own deliveries, which would be delivered and recorded again. Its deliveries into its log prefix are skipped,
 * recognised by the S3 object ARN the selectors match on (from `resources`, else from the request).
 */
function isOwnDelivery(record: CloudTrailRecord, trail: TrailRecord): boolean {
  if (record.eventCategory !== 'Data' || record.eventSource !== 's3.amazonaws.com') return false;
  const logPrefix = `:s3:::${trail.s3BucketName}/${trail.s3KeyPrefix ? `${trail.s3KeyPrefix}/` : ''}AWSLogs/`;
  return dataEventResourceArns(record).some(
    (r) =>
      r.type === 'AWS::S3::Object' &&
      r.arn.startsWith('arn:') &&
      r.arn.slice(r.arn.indexOf(':s3:::')).startsWith(logPrefix),
  );
}

function add(files: Map<string, FileRecords>, record: CloudTrailRecord, bytes: Buffer): void {
  const id = `${record.recipientAccountId}/${record.awsRegion}`;
  const timeMs = Date.parse(record.eventTime);
  const file = files.get(id);
  if (file === undefined) {
    files.set(id, {
      accountId: record.recipientAccountId,
      region: record.awsRegion,
      records: [bytes],
      oldestMs: timeMs,
      newestMs: timeMs,
      oldestText: record.eventTime,
      newestText: record.eventTime,
    });
    return;
  }
  file.records.push(bytes);
  if (timeMs < file.oldestMs) {
    file.oldestMs = timeMs;
    file.oldestText = record.eventTime;
  }
  if (timeMs > file.newestMs) {
    file.newestMs = timeMs;
    file.newestText = record.eventTime;
  }
}

/** Facts §8.5: an import of delivered trail logs into one event data store, and what it has done so far. */
export type ImportStatus = 'INITIALIZING' | 'IN_PROGRESS' | 'FAILED' | 'STOPPED' | 'COMPLETED';

export interface ImportSource {
  S3: { S3LocationUri: string; S3BucketRegion: string; S3BucketAccessRoleArn: string };
}

export interface ImportStatistics {
  prefixesFound: number;
  prefixesCompleted: number;
  filesCompleted: number;
  eventsCompleted: number;
  failedEntries: number;
}

/** An import as opentrail keeps it (one JSON document per import). */
export interface ImportRecord {
  id: string;
  accountId: string;
  region: string;
  /** The destination store's ARN (AWS takes exactly one). */
  destination: string;
  source: ImportSource;
  startEventTimeMs?: number;
  endEventTimeMs?: number;
  /**
   * The destination's retention when the import was started or retried: AWS copies only the events within
   * the store's retention period, so older ones are left out as events outside the time range are.
   */
  retentionPeriodDays?: number;
  status: ImportStatus;
  statistics: ImportStatistics;
  createdAtMs: number;
  updatedAtMs: number;
  /** The last log file whose events are committed: a resumed or retried import goes on after it. */
  doneThroughKey?: string;
  /** Every prefix (folder) holding log files, counted when the import listed its source. */
  prefixes?: string[];
  /** Keys of failed files a retry reads again before going on (their failure entries are RETRY meanwhile). */
  retrying?: string[];
}

/** One entry per location (a file, or the source itself when the import as a whole failed). */
export interface ImportFailure {
  location: string;
  status: 'FAILED' | 'RETRY' | 'SUCCEEDED';
  errorType: string;
  errorMessage: string;
  updatedAtMs: number;
}

/** A new or renewed failure entry, or a new status for an entry kept with its error (a retry's RETRY, SUCCEEDED). */
export type ImportFailureChange =
  | ImportFailure
  | { location: string; status: 'RETRY' | 'SUCCEEDED'; updatedAtMs: number };

/** Statuses an import does not leave by itself. */
export function importFinished(status: ImportStatus): boolean {
  return status === 'FAILED' || status === 'STOPPED' || status === 'COMPLETED';
}

/** The shape StartImport, GetImport and StopImport answer with (GetImport and StopImport add statistics). */
export function importOutput(r: ImportRecord, withStatistics: boolean): Record<string, unknown> {
  return {
    ImportId: r.id,
    Destinations: [r.destination],
    ImportSource: r.source,
    ...(r.startEventTimeMs !== undefined ? { StartEventTime: new Date(r.startEventTimeMs) } : {}),
    ...(r.endEventTimeMs !== undefined ? { EndEventTime: new Date(r.endEventTimeMs) } : {}),
    ImportStatus: r.status,
    CreatedTimestamp: new Date(r.createdAtMs),
    UpdatedTimestamp: new Date(r.updatedAtMs),
    ...(withStatistics
      ? {
          ImportStatistics: {
            PrefixesFound: r.statistics.prefixesFound,
            PrefixesCompleted: r.statistics.prefixesCompleted,
            FilesCompleted: r.statistics.filesCompleted,
            EventsCompleted: r.statistics.eventsCompleted,
            FailedEntries: r.statistics.failedEntries,
          },
        }
      : {}),
  };
}

export function importFailureOutput(f: ImportFailure): Record<string, unknown> {
  return {
    Location: f.location,
    Status: f.status,
    ErrorType: f.errorType,
    ErrorMessage: f.errorMessage,
    LastUpdatedTime: new Date(f.updatedAtMs),
  };
}

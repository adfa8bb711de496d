import { recordShapeProblem, uncheckableRecord } from '../capture/ingest-records.ts';
import { LONE_SURROGATE_ADVICE, stringifiedLoneSurrogate } from '../model/lone-surrogate.ts';
import type { ImportedRecord } from './import-writer.ts';

/**
 * Checks one record read for an import: it must be shaped as a delivered CloudTrail record (the ingest API's
 * shape checks, without its account rule: logs of many accounts are imported) and carry its own eventID,
 * which it keeps. The record is stored as it came; `window` (epoch ms, inclusive) leaves out records whose
 * eventTime lies outside the import's StartEventTime..EndEventTime.
 */
export type ImportVerdict =
  | { kind: 'ok'; record: ImportedRecord }
  | { kind: 'rejected'; reason: string }
  | { kind: 'outside' };

export interface EventTimeWindow {
  startMs?: number | undefined;
  endMs?: number | undefined;
}

export function checkImportedRecord(raw: unknown, window: EventTimeWindow = {}): ImportVerdict {
  try {
    return check(raw, window);
  } catch (error) {
    // JSON.stringify recurses: a member nested tens of thousands of levels deep overflows the stack. Such a
    // record is refused alone, as the ingest API refuses it, and the import goes on.
    return { kind: 'rejected', reason: uncheckableRecord(raw, error).errorMessage };
  }
}

function check(raw: unknown, window: EventTimeWindow): ImportVerdict {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { kind: 'rejected', reason: 'a record must be a JSON object' };
  }
  const r = raw as Record<string, unknown>;
  const problem = recordShapeProblem(r);
  if (problem !== undefined) return { kind: 'rejected', reason: `${problem.errorCode}: ${problem.errorMessage}` };
  const eventID = r['eventID'];
  if (typeof eventID !== 'string') return { kind: 'rejected', reason: 'MissingField: The record has no eventID.' };
  if (window.startMs !== undefined || window.endMs !== undefined) {
    const time = Date.parse(r['eventTime'] as string);
    if (
      (window.startMs !== undefined && time < window.startMs) ||
      (window.endMs !== undefined && time > window.endMs)
    ) {
      return { kind: 'outside' };
    }
  }
  const json = JSON.stringify(r);
  if (stringifiedLoneSurrogate(json)) {
    return { kind: 'rejected', reason: `InvalidData: a string of the record ${LONE_SURROGATE_ADVICE}.` };
  }
  return { kind: 'ok', record: { eventID, json } };
}

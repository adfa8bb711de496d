import { join } from 'node:path';

/** The real CloudTrail data of ../shared/data/real-logs (see its README): tests read it there, never copy it. */
export const REAL_LOGS = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'real-logs');

/** A path inside REAL_LOGS, written with `/` as its README writes them. */
export function realLogs(path: string): string {
  return join(REAL_LOGS, ...path.split('/'));
}

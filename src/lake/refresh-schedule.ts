import { DAY_MS, HOUR_MS, MINUTE_MS } from '../model/clock.ts';
import { ServiceError } from '../model/service-error.ts';

/**
 * A dashboard's refresh schedule (facts §8.7): custom dashboards every 1, 6, 12 or 24 hours or every day;
 * the Highlights dashboard every 6 hours, enabled. TimeOfDay is UTC "HH:MM"; an hourly schedule uses only
 * its minutes (AWS's words), so every N hours runs at :MM of the hours 0, N, 2N, … of each UTC day.
 */
export interface RefreshSchedule {
  Frequency?: { Unit?: 'HOURS' | 'DAYS'; Value?: number };
  Status?: 'ENABLED' | 'DISABLED';
  TimeOfDay?: string;
}

const HOURLY_VALUES: readonly number[] = [1, 6, 12, 24];
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

function invalid(message: string): ServiceError {
  return new ServiceError('ValidationException', message);
}

/** Checks a custom dashboard's schedule, or the Highlights dashboard's when `highlights` is set. */
export function validateRefreshSchedule(schedule: RefreshSchedule, highlights: boolean): void {
  const { Frequency, Status, TimeOfDay } = schedule;
  if (TimeOfDay !== undefined && !TIME_OF_DAY.test(TimeOfDay)) {
    throw invalid(`TimeOfDay ${TimeOfDay} is not a UTC time of day: write it as HH:MM, 00:00 to 23:59.`);
  }
  if (Frequency !== undefined) {
    if (Frequency.Unit === undefined || Frequency.Value === undefined) {
      throw invalid('A refresh schedule Frequency needs both Unit (HOURS or DAYS) and Value.');
    }
    if (Frequency.Unit === 'HOURS' && !HOURLY_VALUES.includes(Frequency.Value)) {
      throw invalid(`A refresh every ${Frequency.Value} HOURS is not offered: use 1, 6, 12 or 24.`);
    }
    if (Frequency.Unit === 'DAYS' && Frequency.Value !== 1) {
      throw invalid(`A refresh every ${Frequency.Value} DAYS is not offered: the only DAYS value is 1.`);
    }
  }
  if (Status === 'ENABLED' && Frequency === undefined) {
    throw invalid('An ENABLED refresh schedule needs a Frequency, such as {"Unit": "HOURS", "Value": 6}.');
  }
  if (highlights && (Status !== 'ENABLED' || Frequency?.Unit !== 'HOURS' || Frequency.Value !== 6)) {
    throw invalid(
      'The Highlights dashboard refreshes every 6 hours: set RefreshSchedule to {"Frequency": {"Unit": "HOURS", "Value": 6}, "Status": "ENABLED"}.',
    );
  }
}

/** When an enabled schedule next runs strictly after `afterMs`; undefined when it never runs. */
export function nextScheduledRefresh(schedule: RefreshSchedule | undefined, afterMs: number): number | undefined {
  const frequency = schedule?.Frequency;
  if (schedule?.Status !== 'ENABLED' || frequency?.Value === undefined) return undefined;
  const [, hh = '0', mm = '0'] = TIME_OF_DAY.exec(schedule.TimeOfDay ?? '00:00') ?? [];
  const hourly = frequency.Unit === 'HOURS';
  const step = hourly ? frequency.Value * HOUR_MS : DAY_MS;
  // Slots form one grid across days (24 is a multiple of every hourly value), anchored at this day's first.
  const base = Math.floor(afterMs / DAY_MS) * DAY_MS + (hourly ? 0 : Number(hh) * HOUR_MS) + Number(mm) * MINUTE_MS;
  return base + Math.ceil((afterMs + 1 - base) / step) * step;
}

import { DAY_MS } from '../model/clock.ts';
import { type ErrorName, ServiceError } from '../model/service-error.ts';
import { sqlString } from '../model/sql-string.ts';

/**
 * Widget query parameters (facts §8.7). A widget's statement holds one `?` per entry of its QueryParameters,
 * in order; `'?'` (quoted, as AWS asks for eventTime comparisons) takes the value as a string literal. The
 * values are checked and written in a fixed form (a timestamp, a date_trunc unit, a store id) before they
 * replace the marks, and the result still goes through the Lake SQL sandbox whole: a value can never add SQL.
 */
export const START_TIME = '$StartTime$';
export const END_TIME = '$EndTime$';
export const PERIOD = '$Period$';
export const EVENT_DATA_STORE_ID = '$EventDataStoreId$';
export const CUSTOM_PARAMETERS: readonly string[] = [START_TIME, END_TIME, PERIOD];
export const MANAGED_PARAMETERS: readonly string[] = [...CUSTOM_PARAMETERS, EVENT_DATA_STORE_ID];

/** A refresh with no times covers the 24 hours before it, as AWS's Highlights dashboard does. */
export const DEFAULT_WINDOW_MS = DAY_MS;
/** `$Period$` is the bucket of a time series: a date_trunc unit. */
const PERIODS: readonly string[] = ['minute', 'hour', 'day', 'week', 'month'];
const TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const EPOCH_SECONDS = /^\d{9,11}$/;

/** Where a `?` or `'?'` stands in a statement. */
interface Mark {
  start: number;
  end: number;
  quoted: boolean;
}

/** The parameter marks of a statement, skipping other string literals, quoted identifiers and comments. */
function findMarks(sql: string): Mark[] {
  const marks: Mark[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      if (c === "'" && sql.slice(i, j + 1) === "'?'") marks.push({ start: i, end: j + 1, quoted: true });
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else {
      if (c === '?') marks.push({ start: i, end: i + 1, quoted: false });
      i++;
    }
  }
  return marks;
}

/** A widget's QueryParameters must be known names, one for each `?` of its statement. */
export function checkWidgetParameters(statement: string, parameters: readonly string[], allowed: readonly string[]) {
  for (const p of parameters) {
    if (!allowed.includes(p)) {
      throw new ServiceError(
        'InvalidQueryStatementException',
        `Query parameter ${p} is not one a widget can take: use ${allowed.join(', ')}.`,
      );
    }
  }
  const marks = findMarks(statement).length;
  if (marks !== parameters.length) {
    throw new ServiceError(
      'InvalidQueryStatementException',
      `The widget's query has ${marks} parameter marks (? or '?') but ${parameters.length} QueryParameters; give one parameter for each mark, in order.`,
    );
  }
}

/** The statement with each mark replaced by its value, in order (values already normalised). */
export function bindWidget(statement: string, values: readonly string[]): string {
  let out = '';
  let at = 0;
  findMarks(statement).forEach((mark, i) => {
    const value = values[i] ?? '';
    out += statement.slice(at, mark.start) + (mark.quoted ? sqlString(value) : value);
    at = mark.end;
  });
  return out + statement.slice(at);
}

/** Lake's timestamp text, `2026-01-01 00:00:00`, of a time given as ISO 8601 or epoch seconds. */
export function normaliseTime(value: string, errorName: ErrorName, what: string): string {
  let ms = Number.NaN;
  if (EPOCH_SECONDS.test(value)) ms = Number(value) * 1000;
  else if (TIME.test(value))
    ms = Date.parse(/T.*(Z|[+-]\d{2}:\d{2})$/.test(value) || !value.includes('T') ? value : `${value}Z`);
  if (Number.isNaN(ms)) {
    throw new ServiceError(
      errorName,
      `${what} ${value} is not a time: use ISO 8601 in UTC, such as 2026-01-01T00:00:00Z, or epoch seconds.`,
    );
  }
  return lakeTime(ms);
}

export function lakeTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function normalisePeriod(value: string, errorName: ErrorName): string {
  const unit = value.toLowerCase();
  if (!PERIODS.includes(unit)) {
    throw new ServiceError(errorName, `${PERIOD} ${value} is not a period: use ${PERIODS.join(', ')}.`);
  }
  return unit;
}

/**
 * The times and period of a refresh: what was given, normalised, with the last 24 hours before `nowMs` and a
 * period fitting the window for what was not. Errors carry `errorName` (each operation declares its own).
 */
export function refreshWindow(given: Record<string, string>, nowMs: number, errorName: ErrorName) {
  const end = given[END_TIME] !== undefined ? normaliseTime(given[END_TIME], errorName, END_TIME) : lakeTime(nowMs);
  const endMs = Date.parse(`${end.replace(' ', 'T')}Z`);
  const start =
    given[START_TIME] !== undefined
      ? normaliseTime(given[START_TIME], errorName, START_TIME)
      : lakeTime(endMs - DEFAULT_WINDOW_MS);
  const startMs = Date.parse(`${start.replace(' ', 'T')}Z`);
  if (startMs > endMs) {
    throw new ServiceError(errorName, `${START_TIME} ${start} is after ${END_TIME} ${end}; swap them.`);
  }
  const period =
    given[PERIOD] !== undefined
      ? normalisePeriod(given[PERIOD], errorName)
      : endMs - startMs <= 2 * DEFAULT_WINDOW_MS
        ? 'hour'
        : 'day';
  return { [START_TIME]: start, [END_TIME]: end, [PERIOD]: period };
}

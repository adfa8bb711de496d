/**
 * The functions Lake SQL may call (facts §8.3, Trino's names) and what each becomes in DuckDB. A name that
 * is in neither table is refused: the list is what makes file readers (`read_csv`), extension loaders and
 * settings functions unreachable from a query, whatever the parser accepts.
 */

/** Same name, same meaning in both engines. */
const SAME = [
  // aggregates
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'count_star',
  'count_if',
  'max_by',
  'min_by',
  'stddev',
  'variance',
  'bool_and',
  'bool_or',
  'array_agg',
  // windows
  'row_number',
  'rank',
  'dense_rank',
  'ntile',
  'percent_rank',
  'cume_dist',
  'lag',
  'lead',
  'first_value',
  'last_value',
  // maps, lists, structs (cardinality, element_at and slice are rewritten by the sandbox)
  'map_keys',
  'map_values',
  'struct_extract',
  'list_value',
  // JSON
  'json_extract',
  'json_array_length',
  // time
  'date_trunc',
  'date_diff',
  'day',
  'hour',
  'millisecond',
  'minute',
  'month',
  'now',
  'current_timestamp',
  'get_current_timestamp',
  'quarter',
  'second',
  'week',
  'year',
  // INTERVAL literals (Trino's `interval '7' day`), as DuckDB's parser writes them
  'to_years',
  'to_months',
  'to_weeks',
  'to_days',
  'to_hours',
  'to_minutes',
  'to_seconds',
  'to_milliseconds',
  'trunc',
  // strings and scalars
  'lower',
  'upper',
  'length',
  'substr',
  'substring',
  'concat',
  'replace',
  'trim',
  'ltrim',
  'rtrim',
  'split_part',
  'strpos',
  'starts_with',
  'regexp_extract',
  'regexp_extract_all',
  'regexp_replace',
  'reverse',
  'lpad',
  'rpad',
  'levenshtein',
  'chr',
  'coalesce',
  'nullif',
  'if',
  'greatest',
  'least',
  'abs',
  'round',
  'floor',
  'ceil',
  'ln',
  'power',
  'sqrt',
  'mod',
  'sign',
  'random',
  // maps: Trino's histogram(x) is the map of each value to its count, as DuckDB's
  'histogram',
  // operators as the parser names them: arithmetic, LIKE/ILIKE (and negations), concatenation
  '+',
  '-',
  '*',
  '/',
  '%',
  '~~',
  '!~~',
  '~~*',
  '!~~*',
  '||',
] as const;

/** Trino's name → DuckDB's, for functions whose arguments line up. */
const RENAMED: Record<string, string> = {
  approx_distinct: 'approx_count_distinct',
  arbitrary: 'any_value',
  regexp_like: 'regexp_matches',
  contains: 'list_contains',
  array_distinct: 'list_distinct',
  array_max: 'list_max',
  array_min: 'list_min',
  json_extract_scalar: 'json_extract_string',
  json_parse: 'json',
  // Both minify: Trino's canonical JSON text is DuckDB's json() of it.
  json_format: 'json',
  // DuckDB's json_extract takes an array index as Trino's json_array_get does: from 0, negative from the end.
  json_array_get: 'json_extract',
  day_of_month: 'dayofmonth',
  // Trino's day_of_week is ISO (Monday 1 … Sunday 7), as DuckDB's isodow.
  day_of_week: 'isodow',
  dow: 'isodow',
  day_of_year: 'dayofyear',
  doy: 'dayofyear',
  week_of_year: 'weekofyear',
  year_of_week: 'isoyear',
  yow: 'isoyear',
  to_unixtime: 'epoch',
  from_unixtime: 'to_timestamp',
  split: 'string_split',
  array_join: 'array_to_string',
  // Lambdas (`x -> x > 1`) are written alike in both engines.
  transform: 'list_transform',
  filter: 'list_filter',
  approx_percentile: 'approx_quantile',
  last_day_of_month: 'last_day',
};

/**
 * Trino functions DuckDB has no counterpart for, as DuckDB expressions of their arguments ($1, $2, …): the
 * sandbox puts the call's checked arguments in place of the parameters. The expressions are the service's,
 * so the DuckDB functions in them stay out of a query's own reach.
 */
export const EXPANDED: Readonly<Record<string, string>> = {
  // slice(array, start, length): `length` elements from `start`, 1-based, negative counting from the end;
  // none when start lies before the first.
  slice:
    'if(if($2 < 0, len($1) + $2 + 1, $2) < 1, list_slice($1, 1, 0), ' +
    'list_slice($1, if($2 < 0, len($1) + $2 + 1, $2), if($2 < 0, len($1) + $2 + 1, $2) + $3 - 1))',
  is_json_scalar: "json_type($1) NOT IN ('OBJECT', 'ARRAY')",
  // Only the array's own elements, as Trino's (DuckDB's json_contains looks into nested values too).
  json_array_contains: "list_contains(json_extract($1, '$[*]'), to_json($2))",
  any_match: 'list_bool_or(list_transform($1, $2))',
  all_match: 'list_bool_and(list_transform($1, $2))',
  none_match: 'NOT list_bool_or(list_transform($1, $2))',
  url_extract_host: "regexp_extract($1, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]*@)?([^/:?#]+)', 2)",
  from_iso8601_timestamp: 'CAST($1 AS TIMESTAMP)',
  to_iso8601: "strftime($1, '%Y-%m-%dT%H:%M:%S.%gZ')",
};

const SAME_NAMES: ReadonlySet<string> = new Set(SAME);

/** DuckDB's name for a Lake function, or undefined when Lake SQL does not offer it. */
export function duckdbFunctionName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (SAME_NAMES.has(lower)) return lower;
  return RENAMED[lower];
}

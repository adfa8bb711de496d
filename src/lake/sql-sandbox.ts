import { dropOldest } from '../model/drop-oldest.ts';
import { ServiceError } from '../model/service-error.ts';
import type { Connection } from '../store/database.ts';
import { LAKE_MAP_PATHS } from './lake-table.ts';
import { duckdbFunctionName, EXPANDED } from './sql-functions.ts';

/**
 * Lake SQL (facts §8.3) turned into SQL DuckDB runs, never passed through as text: DuckDB's own parser
 * (`json_serialize_sql`) turns the statement into a tree, which only ever holds a SELECT; every table
 * reference must name an event data store the caller may query and becomes a sub-select of that store's
 * rows; every function must be one Lake offers (sql-functions.ts), renamed where Trino and DuckDB differ;
 * sub-queries, WITH, table functions, parameters and qualified names are refused. `json_deserialize_sql`
 * turns the checked tree back into SQL, so what runs is exactly what was checked.
 */
export type StoreAccess = 'queryable' | 'missing' | 'inactive';

export interface LakeStores {
  /** Whether the caller may query the store with this id (another account's store is 'missing'). */
  access(storeId: string): StoreAccess;
  /**
   * The SELECT giving one store's rows in Lake's columns (trusted SQL, written by the service); with
   * `eventId`, only rows that may have that eventID need to be in it (the query keeps no other).
   */
  relationSql(storeId: string, eventId?: string): string;
}

export interface TranslatedQuery {
  sql: string;
  /** The stores the query reads, in the order they appear. */
  storeIds: string[];
}

const STORE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STORE_ID_AT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/iy;
export const IDENTIFIER_CHAR = /[A-Za-z0-9_$]/;

function invalid(message: string): ServiceError {
  return new ServiceError('InvalidQueryStatementException', message);
}

export async function translateLakeQuery(
  conn: Connection,
  statement: string,
  stores: LakeStores,
): Promise<TranslatedQuery> {
  await loadExpansions(conn);
  const tree = await serialize(conn, quoteStoreIds(statement));
  const statements = tree['statements'] as Tree[];
  if (statements.length !== 1) {
    throw invalid(`A query is one SELECT statement; this text holds ${statements.length}.`);
  }
  const top = (statements[0] as Tree)['node'] as Tree;
  const storeIds: string[] = [];
  checkQueryNode(top, storeIds);
  nameColumns(top);
  checkStoreAccess(storeIds, stores);
  const relations = new Map<string, Tree>();
  for (const ref of storeRefs(top)) {
    const key = relationKey(ref);
    if (relations.has(key)) continue;
    const eventId = soughtEventIds.get(ref);
    relations.set(key, await relationTree(conn, stores.relationSql(String(ref['table_name']).toLowerCase(), eventId)));
  }
  replaceStores(top, relations);
  dropLocations(tree);
  return { sql: await deserialize(conn, tree), storeIds: [...new Set(storeIds)] };
}

/** Each store the query reads must be one the caller may query now. */
export function checkStoreAccess(storeIds: readonly string[], stores: LakeStores): void {
  for (const id of storeIds) {
    const access = stores.access(id);
    if (access === 'missing') {
      throw new ServiceError('EventDataStoreNotFoundException', `The event data store ${id} does not exist.`);
    }
    if (access === 'inactive') {
      throw new ServiceError('InactiveEventDataStoreException', `The event data store ${id} is not active.`);
    }
  }
}

/*
 * The parser is reached through statements prepared once per connection: a statement run with parameters
 * is otherwise extracted, prepared, run and fetched to its end, each a trip to DuckDB's threads, and a
 * StartQuery makes three such calls before its own prepare. Those trips were most of its time.
 */
const SERIALIZE = 'SELECT json_serialize_sql($1::VARCHAR)';
const DESERIALIZE = 'SELECT json_deserialize_sql($1::JSON)';

async function deserialize(conn: Connection, tree: Tree): Promise<string> {
  try {
    return String(await runParser(conn, DESERIALIZE, rawNumbers(JSON.stringify(tree))));
  } catch (error) {
    throw invalid(`The query cannot be run: ${(error as Error).message}`);
  }
}

type Tree = Record<string, unknown>;

/**
 * Constant values keep their text through the tree's round trip through JavaScript. As JS numbers, the
 * double 1e3 came back as the integer 1000, which DuckDB refuses where the tree says DOUBLE, and integers
 * beyond 2^53 (a HUGEINT's halves among them) came back changed. So every number but a short integer travels
 * as a marked string, and is written back as the number's own text.
 */
const NUMBER_MARK = '\u0001';
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
const SHORT_INTEGER = /^-?\d{1,15}$/;
const MARKED_NUMBER = /"\\u0001(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"/g;

function markedNumbers(json: string): string {
  return json.replace(STRING_OR_NUMBER, (match, number: string | undefined) =>
    number === undefined || SHORT_INTEGER.test(number) ? match : `"\\u0001${number}"`,
  );
}

function rawNumbers(json: string): string {
  return json.replace(MARKED_NUMBER, (_, number: string) => number);
}

async function serialize(conn: Connection, sql: string): Promise<Tree> {
  // The mark is a control character no query needs; refused, a string cannot pass for a marked number.
  if (sql.includes(NUMBER_MARK)) throw invalid('The query holds the control character U+0001; remove it.');
  const tree = JSON.parse(markedNumbers(String(await runParser(conn, SERIALIZE, sql)))) as Tree;
  if (tree['error'] === true) {
    const message = String(tree['error_message']);
    // DuckDB serialises SELECT statements only: anything else (COPY, ATTACH, PRAGMA, SET, DML) lands here.
    if (/Only SELECT statements/.test(message)) {
      throw invalid('Only SELECT statements are supported (no COPY, ATTACH, PRAGMA, SET or data changes).');
    }
    throw invalid(`The query cannot be parsed: ${message}`);
  }
  return tree;
}

/** Its one value: the first chunk holds it, and reading to the end would cost one more trip. */
async function runParser(conn: Connection, statement: string, text: string): Promise<unknown> {
  const prepared = await conn.prepared(statement);
  prepared.bindVarchar(1, text);
  return (await (await prepared.run()).fetchChunk())?.getRowValues(0)[0];
}

/**
 * The trees of the service's own store relations, by their SQL: a store's relation is the same for every
 * query that does not seek one eventID, so it is parsed once, not once per query. Bounded, oldest dropped.
 */
const relationTrees = new Map<string, string>();
const RELATION_TREES_KEPT = 256;

async function relationTree(conn: Connection, sql: string): Promise<Tree> {
  let json = relationTrees.get(sql);
  if (json === undefined) {
    json = JSON.stringify(((await serialize(conn, sql))['statements'] as Tree[])[0]);
    relationTrees.set(sql, json);
    dropOldest(relationTrees, RELATION_TREES_KEPT);
  }
  // A fresh copy: the query's tree takes it in and is changed afterwards (dropLocations).
  return JSON.parse(json) as Tree;
}

/**
 * Lake writes store ids unquoted (`FROM 6ca5ea12-54f5-…`), which no SQL parser reads as one name: each
 * UUID outside strings, quoted names and comments is quoted. A UUID is never anything else in valid SQL.
 */
export function quoteStoreIds(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const skipTo = skipQuotedOrComment(sql, i);
    if (skipTo > i) {
      out += sql.slice(i, skipTo);
      i = skipTo;
      continue;
    }
    STORE_ID_AT.lastIndex = i;
    const m = IDENTIFIER_CHAR.test(sql[i - 1] ?? ' ') ? null : STORE_ID_AT.exec(sql);
    if (m !== null && !IDENTIFIER_CHAR.test(sql[i + m[0].length] ?? ' ')) {
      out += `"${m[0]}"`;
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** The end of the string, quoted name or comment starting at `i`, or `i` when none starts there. */
export function skipQuotedOrComment(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === c) {
        if (sql[j + 1] === c) j += 2;
        else return j + 1;
      } else j++;
    }
    return sql.length;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  return i;
}

/** A SELECT or a set operation (UNION, EXCEPT, INTERSECT) of them; nothing else is a Lake query. */
function checkQueryNode(node: Tree, storeIds: string[]): void {
  if (((node['cte_map'] as Tree | undefined)?.['map'] as unknown[] | undefined)?.length) {
    throw invalid('WITH clauses are not supported; Lake SQL has no sub-queries.');
  }
  checkExpressions(node['modifiers']);
  if (node['type'] === 'SET_OPERATION_NODE') {
    checkQueryNode(node['left'] as Tree, storeIds);
    checkQueryNode(node['right'] as Tree, storeIds);
    return;
  }
  if (node['type'] !== 'SELECT_NODE') throw invalid(`${String(node['type'])} is not supported.`);
  if (node['sample'] !== null && node['sample'] !== undefined) throw invalid('TABLESAMPLE is not supported.');
  checkTableRef(node['from_table'] as Tree, storeIds);
  for (const key of ['select_list', 'where_clause', 'group_expressions', 'having', 'qualify']) {
    checkExpressions(node[key]);
  }
}

const JOIN_TYPES = new Set(['INNER', 'LEFT', 'RIGHT', 'OUTER']);

function checkTableRef(ref: Tree, storeIds: string[]): void {
  if (ref['sample'] !== null && ref['sample'] !== undefined) throw invalid('TABLESAMPLE is not supported.');
  switch (ref['type']) {
    case 'EMPTY':
      return;
    case 'BASE_TABLE': {
      const name = String(ref['table_name']);
      if (ref['schema_name'] !== '' || ref['catalog_name'] !== '' || !STORE_ID.test(name)) {
        throw invalid(
          `FROM ${[ref['catalog_name'], ref['schema_name'], name].filter((p) => p !== '').join('.')} is not an event data store: name a store by the ID part of its ARN.`,
        );
      }
      if (ref['at_clause'] !== null && ref['at_clause'] !== undefined)
        throw invalid('AT (time travel) is not supported.');
      storeIds.push(name.toLowerCase());
      return;
    }
    case 'JOIN': {
      if (ref['ref_type'] !== 'REGULAR' || !JOIN_TYPES.has(String(ref['join_type']))) {
        throw invalid('Only INNER, LEFT, RIGHT and FULL OUTER joins with an ON condition are supported.');
      }
      checkTableRef(ref['left'] as Tree, storeIds);
      checkTableRef(ref['right'] as Tree, storeIds);
      checkExpressions(ref['condition']);
      return;
    }
    case 'SUBQUERY':
      throw invalid('Sub-queries are not supported in Lake SQL.');
    case 'TABLE_FUNCTION':
      throw invalid('Table functions are not supported: a query reads event data stores only.');
    default:
      throw invalid(`${String(ref['type'])} is not supported in FROM.`);
  }
}

/**
 * Checks every expression below `value`: functions are Lake's (renamed to DuckDB's in place), and nothing
 * reaches outside the stores (sub-queries, parameters, schema-qualified functions).
 */
function checkExpressions(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) checkExpressions(v);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const node = value as Tree;
  switch (node['class']) {
    case 'SUBQUERY':
      throw invalid('Sub-queries are not supported in Lake SQL.');
    case 'PARAMETER':
      throw invalid('Query parameters ($1, ?) are not supported in a query statement.');
    case 'FUNCTION':
    case 'WINDOW':
      if (checkFunction(node) === 'expanded') return;
      break;
  }
  for (const child of Object.values(node)) checkExpressions(child);
}

/** Checks (and renames or rewrites) one call; 'expanded' when its arguments are checked already. */
function checkFunction(node: Tree): 'expanded' | undefined {
  const name = String(node['function_name']);
  if ((node['schema'] ?? '') !== '' || (node['catalog'] ?? '') !== '') {
    throw invalid(`${[node['catalog'], node['schema'], name].filter((p) => p).join('.')} is not a Lake SQL function.`);
  }
  if (node['class'] === 'FUNCTION') {
    const lower = name.toLowerCase();
    const expansion = expansions?.get(lower);
    if (expansion !== undefined) {
      expand(node, lower, expansion);
      return 'expanded';
    }
    const rewrite = Object.hasOwn(REWRITTEN, lower) ? REWRITTEN[lower] : undefined;
    if (rewrite !== undefined) {
      rewrite(node);
      return undefined;
    }
  }
  const duckdb = duckdbFunctionName(name);
  if (duckdb === undefined) throw invalid(`The function ${name} is not supported in Lake SQL.`);
  node['function_name'] = duckdb;
  return undefined;
}

/** Trino functions whose DuckDB namesakes differ: each call is rewritten in place (its arguments checked after). */
const REWRITTEN: Record<string, (node: Tree) => void> = {
  cardinality: (node) => {
    // Trino's counts an array's elements or a map's entries; DuckDB's takes maps only, and len() lists.
    const [arg] = node['children'] as Tree[];
    node['function_name'] = arg !== undefined && isMapColumn(arg) ? 'cardinality' : 'len';
  },
  element_at: (node) => {
    // Trino's element_at(map, key) is the value (DuckDB's is a list of it); element_at(list, i) the element.
    const children = node['children'] as unknown[];
    if (children.length !== 2) throw invalid('element_at takes a map or array and a key or index.');
    replaceNode(node, { class: 'OPERATOR', type: 'ARRAY_EXTRACT', children });
  },
  date_add: dateAdd,
};

/** Puts another expression in a node's place, keeping the node's alias (`AS name`). */
function replaceNode(node: Tree, replacement: Tree): void {
  const alias = node['alias'] ?? '';
  for (const key of Object.keys(node)) delete node[key];
  Object.assign(node, replacement, { alias });
}

/** Whether an expression names one of Lake's map columns or members (possibly behind a table alias). */
function isMapColumn(expr: Tree): boolean {
  if (expr['class'] !== 'COLUMN_REF') return false;
  const path = (expr['column_names'] as string[]).map((n) => n.toLowerCase()).join('.');
  return LAKE_MAP_PATHS.some((p) => path === p || path.endsWith(`.${p}`));
}

/** EXPANDED's expressions parsed (their trees as JSON text, with how many arguments each takes), once. */
let expansions: Map<string, { json: string; arity: number }> | undefined;

async function loadExpansions(conn: Connection): Promise<void> {
  if (expansions !== undefined) return;
  const parsed = new Map<string, { json: string; arity: number }>();
  for (const [name, sql] of Object.entries(EXPANDED)) {
    const select = ((await serialize(conn, `SELECT ${sql}`))['statements'] as Tree[])[0]?.['node'] as Tree;
    const json = JSON.stringify((select['select_list'] as Tree[])[0]);
    parsed.set(name, { json, arity: new Set(json.match(/"identifier":"\d+"/g)).size });
  }
  expansions = parsed;
}

/** A call of an EXPANDED function becomes its expression, its checked arguments put in for the parameters. */
function expand(node: Tree, name: string, expansion: { json: string; arity: number }): void {
  const args = node['children'] as Tree[];
  if (args.length !== expansion.arity) throw invalid(`${name} takes ${expansion.arity} arguments.`);
  checkExpressions(args);
  const fill = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(fill);
    if (value === null || typeof value !== 'object') return value;
    const tree = value as Tree;
    if (tree['class'] === 'PARAMETER') return structuredClone(args[Number(tree['identifier']) - 1]);
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, fill(v)]));
  };
  replaceNode(node, fill(JSON.parse(expansion.json)) as Tree);
}

/** Trino's date_add units: the DuckDB function making an interval of them, and how many of its unit make one. */
const DATE_ADD_UNITS: Record<string, [toUnits: string, times: number]> = {
  millisecond: ['to_milliseconds', 1],
  second: ['to_seconds', 1],
  minute: ['to_minutes', 1],
  hour: ['to_hours', 1],
  day: ['to_days', 1],
  week: ['to_weeks', 1],
  month: ['to_months', 1],
  quarter: ['to_months', 3],
  year: ['to_years', 1],
};

/**
 * Trino's date_add(unit, value, timestamp) is the timestamp plus that many units; DuckDB's date_add takes other
 * arguments, so the call becomes `timestamp + to_<unit>s(value)`, the form DuckDB gives an INTERVAL literal.
 * Its children are checked afterwards, as every function's are.
 */
function dateAdd(node: Tree): void {
  const [unit, value, timestamp] = node['children'] as Tree[];
  const unitValue = (unit?.['value'] as { value?: unknown } | undefined)?.value;
  const lower = typeof unitValue === 'string' ? unitValue.toLowerCase() : undefined;
  const known = lower !== undefined && Object.hasOwn(DATE_ADD_UNITS, lower) ? DATE_ADD_UNITS[lower] : undefined;
  if ((node['children'] as Tree[]).length !== 3 || unit?.['class'] !== 'CONSTANT' || known === undefined) {
    throw invalid(
      `date_add takes a unit (${Object.keys(DATE_ADD_UNITS).join(', ')}) as a string, a number, and a timestamp.`,
    );
  }
  const [toUnits, times] = known;
  const call = (name: string, children: Tree[], operator: boolean): Tree => ({
    ...node,
    alias: '',
    function_name: name,
    is_operator: operator,
    children,
  });
  const amount =
    times === 1
      ? (value as Tree)
      : call(
          '*',
          [
            value as Tree,
            { ...unit, value: { type: { id: 'INTEGER', type_info: null }, is_null: false, value: times }, alias: '' },
          ],
          true,
        );
  replaceNode(node, call('+', [timestamp as Tree, call(toUnits, [amount], false)], true));
}

/** SQL's value keywords, which the parser gives as column references. */
const SPECIAL_VALUES: ReadonlySet<string> = new Set([
  'current_timestamp',
  'current_date',
  'current_time',
  'localtimestamp',
  'localtime',
]);

/**
 * Result columns are named as Lake names them: an unnamed expression `_col<position>` (Trino's naming), a
 * column by its last name part as the query spells it (`userIdentity.arn` is `arn`), not as the table does.
 */
function nameColumns(node: Tree): void {
  if (node['type'] === 'SET_OPERATION_NODE') {
    nameColumns(node['left'] as Tree);
    return;
  }
  (node['select_list'] as Tree[]).forEach((expr, i) => {
    if (expr['alias'] !== '' || expr['class'] === 'STAR') return;
    const names = expr['class'] === 'COLUMN_REF' ? (expr['column_names'] as string[]) : [];
    // `current_timestamp` parses as a column reference, but is a function's value: unnamed, as in Trino (and
    // named after itself, DuckDB would read the name as a reference to its own alias).
    const column = names.length === 1 && SPECIAL_VALUES.has(String(names[0]).toLowerCase()) ? undefined : names.at(-1);
    expr['alias'] = column ?? `_col${i}`;
  });
}

/**
 * Store references whose SELECT keeps only one eventID (a top-level `eventID = '…'` of a WHERE over that
 * store alone), and that eventID: the store's rows are narrowed to it before the query sees them.
 */
const soughtEventIds = new WeakMap<Tree, string>();

/** Every store reference of the query; notes in soughtEventIds the ones a single eventID is sought in. */
function storeRefs(node: Tree): Tree[] {
  if (node['type'] === 'SET_OPERATION_NODE') {
    return [...storeRefs(node['left'] as Tree), ...storeRefs(node['right'] as Tree)];
  }
  const from = node['from_table'] as Tree;
  if (from['type'] === 'BASE_TABLE') {
    const names = new Set([String(from['table_name']).toLowerCase(), String(from['alias']).toLowerCase()]);
    const eventId = conjuncts(node['where_clause'] as Tree | null)
      .map((c) => equalityOnEventId(c, names))
      .find((v) => v !== undefined);
    if (eventId !== undefined) soughtEventIds.set(from, eventId);
    return [from];
  }
  const refs: Tree[] = [];
  const walk = (ref: Tree) => {
    if (ref['type'] === 'JOIN') {
      walk(ref['left'] as Tree);
      walk(ref['right'] as Tree);
    } else if (ref['type'] === 'BASE_TABLE') refs.push(ref);
  };
  walk(from);
  return refs;
}

function relationKey(ref: Tree): string {
  return `${String(ref['table_name']).toLowerCase()}/${soughtEventIds.get(ref) ?? ''}`;
}

function conjuncts(expr: Tree | null): Tree[] {
  if (expr === null) return [];
  if (expr['class'] === 'CONJUNCTION' && expr['type'] === 'CONJUNCTION_AND') {
    return (expr['children'] as Tree[]).flatMap(conjuncts);
  }
  return [expr];
}

/** The string in `eventID = '…'` (either way round, the column bare or qualified by the store's name or alias). */
function equalityOnEventId(expr: Tree, names: Set<string>): string | undefined {
  if (expr['class'] !== 'COMPARISON' || expr['type'] !== 'COMPARE_EQUAL') return undefined;
  const sides = [expr['left'] as Tree, expr['right'] as Tree];
  const column = sides.find((e) => {
    if (e['class'] !== 'COLUMN_REF') return false;
    const parts = (e['column_names'] as string[]).map((p) => p.toLowerCase());
    return parts.at(-1) === 'eventid' && (parts.length === 1 || (parts.length === 2 && names.has(parts[0] as string)));
  });
  const constant = sides.find((e) => e['class'] === 'CONSTANT');
  const value = (constant?.['value'] as { type?: { id?: string }; value?: unknown } | undefined) ?? undefined;
  if (column === undefined || value?.type?.id !== 'VARCHAR' || typeof value.value !== 'string') return undefined;
  return value.value;
}

/** Puts each store's rows where its id was named, keeping the name usable as a qualifier. */
function replaceStores(node: Tree, relations: Map<string, Tree>): void {
  if (node['type'] === 'SET_OPERATION_NODE') {
    replaceStores(node['left'] as Tree, relations);
    replaceStores(node['right'] as Tree, relations);
    return;
  }
  node['from_table'] = replaceRef(node['from_table'] as Tree, relations);
}

function replaceRef(ref: Tree, relations: Map<string, Tree>): Tree {
  if (ref['type'] === 'JOIN') {
    return {
      ...ref,
      left: replaceRef(ref['left'] as Tree, relations),
      right: replaceRef(ref['right'] as Tree, relations),
    };
  }
  if (ref['type'] !== 'BASE_TABLE') return ref;
  const name = String(ref['table_name']);
  return {
    type: 'SUBQUERY',
    alias: ref['alias'] === '' ? name : ref['alias'],
    sample: null,
    subquery: relations.get(relationKey(ref)),
    column_name_alias: ref['column_name_alias'] ?? [],
  };
}

/** Parse positions are not part of the query, and their "unknown" value does not survive a JSON round trip. */
function dropLocations(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) dropLocations(v);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  delete (value as Tree)['query_location'];
  for (const child of Object.values(value as Tree)) dropLocations(child);
}

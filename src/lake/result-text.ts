import { type DuckDBPreparedStatement, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';

/**
 * Query results as Lake writes them (facts §8.2): every value a string, in Trino's text. DuckDB's cast to
 * VARCHAR agrees for most types, but not for three that Lake queries return often: a timestamp is
 * `2023-01-22 16:53:53.000` (always milliseconds; DuckDB leaves them out when zero), a struct such as
 * userIdentity is `{type=IAMUser, principalid=…}` (lower-case names, `=`, nulls as `null`; DuckDB writes
 * `{'type': IAMUser, …}`), and a map's null value is `null` (DuckDB: `NULL`). Columns of those types (at any
 * depth) are read as values and written here, as are those whose values print as DuckDB casts them
 * (`printsAsCast`); the others are cast in SQL. Writing the three in SQL instead made the statement slow
 * to plan: a point lookup's `SELECT *` went from 39 to 51 ms at 10 million events.
 */
export interface ResultText {
  /**
   * The query's rows, each column cast to VARCHAR or read as its value for `text`: the query itself when no
   * column needs the cast, so a statement prepared to check it is the one that runs.
   */
  sql: string;
  /** Per column: its value as Lake writes it (a string, or null). */
  text: ((value: unknown) => string | null)[];
}

/** How to read the rows of the query `sql` (prepared as `statement`), its columns named as the query's. */
export function lakeResultText(sql: string, statement: DuckDBPreparedStatement): ResultText {
  const columns = Array.from({ length: statement.columnCount }, (_, i) => {
    const type = statement.columnType(i);
    const name = identifier(statement.columnName(i));
    // Positional (#n): a query's result may name two columns alike (a join's `a.eventName, b.eventName`).
    const written = writtenHere(type);
    const cast = !written && !printsAsCast(type);
    return {
      select: cast ? `CAST(#${i + 1} AS VARCHAR) AS ${name}` : `#${i + 1} AS ${name}`,
      cast,
      text: written ? (v: unknown) => (v === null ? null : valueText(v, type)) : castText,
    };
  });
  return {
    sql: columns.some((c) => c.cast) ? `SELECT ${columns.map((c) => c.select).join(', ')} FROM (${sql})` : sql,
    text: columns.map((c) => c.text),
  };
}

/**
 * Types whose values, read with getRowsJS (a string, a boolean, a number or a bigint), print exactly as
 * DuckDB casts them to VARCHAR: read as values, they need no cast in SQL (a count, a name, a flag).
 */
function printsAsCast(type: DuckDBType): boolean {
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return true;
    default:
      return false;
  }
}

function castText(value: unknown): string | null {
  return value === null ? null : String(value);
}

/** Whether a column's values are written here rather than cast by DuckDB. */
function writtenHere(type: DuckDBType): boolean {
  switch (type.typeId) {
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return true;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return writtenHere(type.valueType);
    default:
      return false;
  }
}

/** A value read with getRowsJS, written as Trino writes its type; `null` inside a struct, map or list. */
function valueText(value: unknown, type: DuckDBType): string {
  if (value === null || value === undefined) return 'null';
  switch (type.typeId) {
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return value instanceof Date ? value.toISOString().slice(0, 23).replace('T', ' ') : String(value);
    case DuckDBTypeId.STRUCT: {
      const members = value as Record<string, unknown>;
      const parts = type.entryNames.map(
        (name, i) => `${name.toLowerCase()}=${valueText(members[name], type.entryTypes[i] as DuckDBType)}`,
      );
      return `{${parts.join(', ')}}`;
    }
    case DuckDBTypeId.MAP: {
      const entries = value as { key: unknown; value: unknown }[];
      return `{${entries.map((e) => `${valueText(e.key, type.keyType)}=${valueText(e.value, type.valueType)}`).join(', ')}}`;
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return `[${(value as unknown[]).map((v) => valueText(v, type.valueType)).join(', ')}]`;
    default:
      return String(value);
  }
}

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

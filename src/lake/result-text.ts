import { type DuckDBPreparedStatement, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import { sqlString } from '../model/sql-string.ts';

/**
 * Query results as Lake writes them (facts §8.2): every value a string, in Trino's text. DuckDB's cast to
 * VARCHAR agrees for most types, but not for three that Lake queries return often: a timestamp is
 * `2023-01-22 16:53:53.000` (always milliseconds; DuckDB leaves them out when zero), and a struct such as
 * userIdentity is `{type=IAMUser, principalid=…}` (lower-case names, `=`, nulls as `null`; DuckDB writes
 * `{'type': IAMUser, …}`); a map's null value is `null` (DuckDB: `NULL`). Lists are written element by element
 * when their elements are of those types.
 */

/** The SELECT giving the rows of the query `sql` (prepared as `statement`) as Lake writes them, its columns named as the query's. */
export function lakeResultSelect(sql: string, statement: DuckDBPreparedStatement): string {
  const columns = Array.from({ length: statement.columnCount }, (_, i) => {
    // Positional (#n): a query's result may name two columns alike (a join's `a.eventName, b.eventName`).
    const text = valueText(`#${i + 1}`, statement.columnType(i)) ?? `CAST(#${i + 1} AS VARCHAR)`;
    return `${text} AS ${identifier(statement.columnName(i))}`;
  });
  return `SELECT ${columns.join(', ')} FROM (${sql})`;
}

/** SQL writing `expr` of `type` as Trino does, or undefined when DuckDB's cast to VARCHAR already does. */
function valueText(expr: string, type: DuckDBType): string | undefined {
  switch (type.typeId) {
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return `strftime(${expr}, '%Y-%m-%d %H:%M:%S.%g')`;
    case DuckDBTypeId.STRUCT: {
      const members = type.entryNames.map((name, i) => {
        const member = `struct_extract(${expr}, ${sqlString(name)})`;
        const text = valueText(member, type.entryTypes[i] as DuckDBType) ?? `CAST(${member} AS VARCHAR)`;
        return `${sqlString(`${name.toLowerCase()}=`)} || coalesce(${text}, 'null')`;
      });
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE '{' || concat_ws(', ', ${members.join(', ')}) || '}' END`;
    }
    case DuckDBTypeId.MAP: {
      // DuckDB writes a null value as NULL.
      const key = valueText('e.key', type.keyType) ?? 'CAST(e.key AS VARCHAR)';
      const value = valueText('e.value', type.valueType) ?? 'CAST(e.value AS VARCHAR)';
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE '{' || array_to_string(list_transform(map_entries(${expr}), lambda e: ${key} || '=' || coalesce(${value}, 'null')), ', ') || '}' END`;
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = valueText('e', type.valueType);
      if (element === undefined) return undefined;
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE '[' || array_to_string(list_transform(${expr}, lambda e: coalesce(${element}, 'null')), ', ') || ']' END`;
    }
    default:
      return undefined;
  }
}

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { lakeResultText, type ResultText } from '../../src/lake/result-text.ts';
import { withMemoryDuckDB } from '../helpers/memory-duckdb.ts';

/** Values at the edges of each type lakeResultText reads as values instead of casting in SQL. */
const READ_AS_VALUES = [
  "'plain', 'ünïcode ✓ 𝄞', '', 'line\nbreak', NULL",
  `'{"a": [1, 2.50]}'::JSON, 'x' COLLATE NOCASE`,
  'true, false, NULL::BOOLEAN',
  '(-128)::TINYINT, 127::TINYINT, 0::TINYINT',
  '(-32768)::SMALLINT, 32767::SMALLINT',
  '(-2147483648)::INTEGER, 2147483647::INTEGER',
  '(-9223372036854775808)::BIGINT, 9223372036854775807::BIGINT, 9007199254740993::BIGINT',
  '(-170141183460469231731687303715884105728)::HUGEINT, 170141183460469231731687303715884105727::HUGEINT',
  '255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 18446744073709551615::UBIGINT',
  '340282366920938463463374607431768211455::UHUGEINT, 0::UHUGEINT',
  'count(*) FROM range(3)',
];

async function resultText(conn: DuckDBConnection, sql: string): Promise<ResultText> {
  const prepared = await conn.prepare(sql);
  try {
    return lakeResultText(sql, prepared);
  } finally {
    prepared.destroySync();
  }
}

/** The query's rows as lakeResultText writes them, with the column names they come with. */
async function written(conn: DuckDBConnection, result: ResultText) {
  const reader = await conn.runAndReadAll(result.sql);
  return {
    names: reader.columnNames(),
    rows: reader.getRowsJS().map((row) => row.map((v, i) => result.text[i]?.(v))),
  };
}

describe('lakeResultText', () => {
  it('reads as values only the types whose values print as DuckDB casts them, and runs the query itself then', async () => {
    await withMemoryDuckDB(async (conn) => {
      for (const values of READ_AS_VALUES) {
        const sql = `SELECT ${values}`;
        const result = await resultText(conn, sql);
        assert.equal(result.sql, sql, 'no column needs a cast');
        const [cast] = (await conn.runAndReadAll(`SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (${sql})`)).getRowsJS();
        assert.deepEqual((await written(conn, result)).rows, [cast], values);
      }
    });
  });

  it('casts the other plain types in SQL, beside columns read as values, and keeps the columns’ names', async () => {
    await withMemoryDuckDB(async (conn) => {
      // A double prints otherwise in JavaScript (1.0 as 1); a decimal and a list of strings are cast too.
      const sql = "SELECT 1.0::DOUBLE AS d, 1.50::DECIMAL(5, 2) AS m, ['a', NULL] AS l, 7 AS n, 8 AS n";
      const result = await resultText(conn, sql);
      assert.notEqual(result.sql, sql);
      assert.deepEqual(await written(conn, result), {
        names: ['d', 'm', 'l', 'n', 'n'],
        rows: [['1.0', '1.50', '[a, NULL]', '7', '8']],
      });
      // Timestamps and structs are written here: a query of those alone runs as it is.
      const own = "SELECT TIMESTAMP '2023-01-22 16:53:53' AS t, {'Type': 'IAMUser', 'arn': NULL} AS u";
      const ownResult = await resultText(conn, own);
      assert.equal(ownResult.sql, own);
      assert.deepEqual((await written(conn, ownResult)).rows, [
        ['2023-01-22 16:53:53.000', '{type=IAMUser, arn=null}'],
      ]);
    });
  });
});

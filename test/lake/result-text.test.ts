import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { lakeResultText } from '../../src/lake/result-text.ts';

/** Values at the edges of each type lakeResultText reads as values instead of casting in SQL. */
const READ_AS_VALUES = [
  "'plain', 'ünïcode ✓ 𝄞', '', 'line\nbreak', NULL",
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

describe('lakeResultText', () => {
  it('reads as values only the types whose values print as DuckDB casts them, and runs the query itself then', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      for (const values of READ_AS_VALUES) {
        const sql = `SELECT ${values}`;
        const prepared = await conn.prepare(sql);
        const result = lakeResultText(sql, prepared);
        prepared.destroySync();
        assert.equal(result.sql, sql, 'no column needs a cast');
        const [row] = (await conn.runAndReadAll(sql)).getRowsJS();
        const [cast] = (await conn.runAndReadAll(`SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (${sql})`)).getRowsJS();
        assert.deepEqual(
          row?.map((v, i) => result.text[i]?.(v)),
          cast,
          values,
        );
      }
      // A double prints otherwise in JavaScript (1.0 as 1): DuckDB casts it, beside a column read as a value.
      const sql = 'SELECT 1.0::DOUBLE AS d, 7 AS n';
      const prepared = await conn.prepare(sql);
      const result = lakeResultText(sql, prepared);
      prepared.destroySync();
      assert.notEqual(result.sql, sql);
      const [row] = (await conn.runAndReadAll(result.sql)).getRowsJS();
      assert.deepEqual(
        row?.map((v, i) => result.text[i]?.(v)),
        ['1.0', '7'],
      );
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});

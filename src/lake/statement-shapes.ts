import { randomBytes } from 'node:crypto';
import { IDENTIFIER_CHAR, skipQuotedOrComment } from './sql-sandbox.ts';

/**
 * Statements that differ only in their string literals (a dashboard's widget over another week, a saved
 * query for another user) translate to the same SQL with the same literals in it: the sandbox's checks look
 * at a statement's structure, never at a string's value, but for one `eventID = '…'` (sql-sandbox.ts), which
 * changes the SQL and so is never templated. Such a statement's translation is a template, filled in with the
 * literals as written, so DuckDB's parser is not asked twice again for each new window (about half a
 * StartQuery's time at 10 million events).
 *
 * A template is made from two translations of a statement: as written, and with each literal replaced by a
 * marker literal. It is kept only when filling the second with the statement's own literals gives exactly the
 * first, so a literal whose value shaped the translation (that eventID, or adjacent literals the parser joins)
 * leaves its shape untemplated. A filled template is still bound by DuckDB before the query is accepted.
 */
export interface StatementShape {
  /** The statement with every string literal cut out: statements of one shape share it. */
  key: string;
  /** Its string literals as written, quotes included, in order. */
  literals: string[];
}

/** A translation with holes where the literals go: text, then literal i, then text, …. */
export interface Template {
  parts: string[];
  /** Which literal fills the hole after parts[i]. */
  holes: number[];
}

const HOLE = '\u0000';
/** A literal that ends where it should: an unterminated one, filled into a template, would swallow its SQL. */
const WHOLE_LITERAL = /^'(?:[^']|'')*'$/;

/**
 * The statement's shape, or undefined when it holds no string literal, or one that is not plainly
 * `'…'` (an E'…' or X'…' literal, dollar quoting): those are left to translate as they are.
 */
export function statementShape(sql: string): StatementShape | undefined {
  // Comments are where this scan and DuckDB's lexer part ways (DuckDB nests /* */, and ends -- at \r too): a
  // statement with one is translated as it is, whatever `templateOf` would make of it.
  if (sql.includes(HOLE) || sql.includes('$') || sql.includes('--') || sql.includes('/*') || sql.includes('\r')) {
    return undefined;
  }
  const literals: string[] = [];
  let key = '';
  let from = 0;
  for (const [start, end] of literalSpans(sql)) {
    const literal = sql.slice(start, end);
    if (IDENTIFIER_CHAR.test(sql[start - 1] ?? ' ') || !WHOLE_LITERAL.test(literal)) return undefined;
    key += sql.slice(from, start) + HOLE;
    literals.push(literal);
    from = end;
  }
  return literals.length === 0 ? undefined : { key: key + sql.slice(from), literals };
}

/** A process's markers cannot be guessed, so no statement can hold one to confuse a template. */
const MARKER = `otl_literal_${randomBytes(8).toString('hex')}_`;
const MARKER_AT = new RegExp(`'${MARKER}(\\d+)'`, 'g');

/** The statement with literal i written as a marker literal, to be translated like any statement. */
export function markedStatement(shape: StatementShape): string {
  const pieces = shape.key.split(HOLE);
  return pieces.map((piece, i) => (i === 0 ? piece : `'${MARKER}${i - 1}'${piece}`)).join('');
}

/**
 * The template in `markedSql` (the marked statement's translation), when each marker stands in it once, as a
 * literal, and filling it with the shape's literals gives `sql` (the statement's own translation).
 */
export function templateOf(markedSql: string, shape: StatementShape, sql: string): Template | undefined {
  const parts: string[] = [];
  const holes: number[] = [];
  const literals = new Set(literalSpans(markedSql).map(([start, end]) => `${start}:${end}`));
  let from = 0;
  for (const m of markedSql.matchAll(MARKER_AT)) {
    // A hole is a whole literal of the translation, never part of a quoted name or of another literal: a
    // statement's literal filled in there stays one literal.
    if (!literals.has(`${m.index}:${m.index + m[0].length}`)) return undefined;
    parts.push(markedSql.slice(from, m.index));
    holes.push(Number(m[1]));
    from = m.index + m[0].length;
  }
  parts.push(markedSql.slice(from));
  const template = { parts, holes };
  const eachOnce = new Set(holes).size === shape.literals.length && holes.length === shape.literals.length;
  if (!eachOnce || parts.some((p) => p.includes(MARKER))) return undefined;
  return filledTemplate(template, shape.literals) === sql ? template : undefined;
}

/** Where each `'…'` literal starts and ends (end exclusive), quoted names and comments passed over. */
function literalSpans(sql: string): [number, number][] {
  const spans: [number, number][] = [];
  for (let i = 0; i < sql.length; ) {
    const end = skipQuotedOrComment(sql, i);
    if (end === i) i++;
    else {
      if (sql[i] === "'") spans.push([i, end]);
      i = end;
    }
  }
  return spans;
}

export function filledTemplate(template: Template, literals: readonly string[]): string {
  let sql = template.parts[0] as string;
  template.holes.forEach((literal, i) => {
    sql += (literals[literal] as string) + (template.parts[i + 1] as string);
  });
  return sql;
}

/** `text` as a SQL string literal: in quotes, each quote in it doubled. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

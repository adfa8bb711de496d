/** The `code` a failed system call (or another library) puts on its error, such as `ENOENT`; undefined when none. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

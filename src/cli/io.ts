/** What a CLI command may touch: its arguments, the environment, and the two output streams. */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

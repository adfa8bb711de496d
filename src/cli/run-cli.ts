import { JsonApiError } from '../client/json-api-client.ts';
import { usage as settingsUsage } from '../config/load-config.ts';
import { adminCommand, adminUsage } from './admin-command.ts';
import { ingestCommand } from './ingest-command.ts';
import { type CliIo, UsageError } from './io.ts';
import { readLogsCommand, readLogsUsage } from './read-logs-command.ts';
import { validateLogsCommand, validateLogsUsage } from './validate-logs-command.ts';

/** The `opentrail` command (style.md item 12): parse, call, print; returns the exit code. */
export function usage(): string {
  return [
    'Usage:',
    '  opentrail serve [settings]          run the service (what `npm start` does)',
    '  opentrail ingest FILE…              send CloudTrail log files to a running server',
    '  opentrail admin <command> …         manage accounts, users and keys on a running server',
    '  opentrail read-logs …               print delivered log records',
    '  opentrail validate-logs …           validate delivered log files, as aws cloudtrail validate-logs',
    '',
    adminUsage(),
    '',
    readLogsUsage(),
    validateLogsUsage(),
    '',
    settingsUsage(),
  ].join('\n');
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        // Loaded only to serve: the whole service is ~0.6 s of imports the other commands do not need.
        return await (await import('./serve-command.ts')).serveCommand(rest, io);
      case 'ingest':
        return await ingestCommand(rest, io);
      case 'admin':
        return await adminCommand(rest, io);
      case 'read-logs':
        return await readLogsCommand(rest, io);
      case 'validate-logs':
        return await validateLogsCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
        io.stdout.write(`${usage()}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.stderr.write(`${usage()}\n\nopentrail: ${error.message}\n`);
      return 2;
    }
    if (error instanceof JsonApiError) {
      io.stderr.write(`opentrail: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

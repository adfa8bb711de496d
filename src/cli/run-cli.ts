import { JsonApiError } from '../client/json-api-error.ts';
import { type CliIo, UsageError } from './io.ts';

/**
 * The `opentrail` command (style.md item 12): parse, call, print; returns the exit code. Each command's module
 * is loaded when it runs: serve's imports are ~0.6 s the others do not need, and validate-logs, whose speed
 * is measured against the AWS CLI's, loads no AWS SDK at all.
 */
export async function usage(): Promise<string> {
  const [settings, admin, importing, readLogs, validateLogs] = await Promise.all([
    import('../config/load-config.ts'),
    import('./admin-command.ts'),
    import('./import-command.ts'),
    import('./read-logs-command.ts'),
    import('./validate-logs-command.ts'),
  ]);
  return [
    'Usage:',
    '  opentrail serve [settings]          run the service (what `npm start` does)',
    '  opentrail ingest FILE…              send CloudTrail log files to a running server',
    '  opentrail admin <command> …         manage accounts, users and keys on a running server',
    '  opentrail import PATH…              import CloudTrail records into an event data store',
    '  opentrail read-logs …               print delivered log records',
    '  opentrail validate-logs …           validate delivered log files, as aws cloudtrail validate-logs',
    '',
    admin.adminUsage(),
    '',
    importing.importUsage(),
    readLogs.readLogsUsage(),
    validateLogs.validateLogsUsage(),
    '',
    settings.usage(),
  ].join('\n');
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await (await import('./serve-command.ts')).serveCommand(rest, io);
      case 'ingest':
        return await (await import('./ingest-command.ts')).ingestCommand(rest, io);
      case 'admin':
        return await (await import('./admin-command.ts')).adminCommand(rest, io);
      case 'import':
        return await (await import('./import-command.ts')).importCommand(rest, io);
      case 'read-logs':
        return await (await import('./read-logs-command.ts')).readLogsCommand(rest, io);
      case 'validate-logs':
        return await (await import('./validate-logs-command.ts')).validateLogsCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
        io.stdout.write(`${await usage()}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.stderr.write(`${await usage()}\n\nopentrail: ${error.message}\n`);
      return 2;
    }
    if (error instanceof JsonApiError) {
      io.stderr.write(`opentrail: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

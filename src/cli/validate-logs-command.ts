import { parseArgs } from 'node:util';
import type { MultiBar, SingleBar } from 'cli-progress';
import { AwsJsonClient } from '../client/aws-json-client.ts';
import { isoSeconds } from '../model/clock.ts';
import { type Tally, type ValidationFinding, validateLogs } from '../trails/validate-logs.ts';
import { type CliIo, UsageError } from './io.ts';
import { objectReaderFor, parseTimeFlag, STORE_OPTIONS } from './read-logs-command.ts';

/**
 * `opentrail validate-logs`: the AWS CLI's `aws cloudtrail validate-logs` (same flags, same output, same exit
 * code: facts §5.7), against an opentrail server and its bucket, with the checks it lacks (validate-logs.ts).
 */
export function validateLogsUsage(): string {
  return [
    '  opentrail validate-logs --trail-arn ARN --start-time T [--end-time T] [--s3-bucket B] [--s3-prefix P]',
    '      [--account-id A] [--organization-id O] [--verbose] [--endpoint-url URL] [--region R]',
    '      [--data-dir DIR | --s3-endpoint URL]',
    '      check delivered log files against their signed digest files',
  ].join('\n');
}

const OPTIONS = {
  'trail-arn': { type: 'string' },
  'start-time': { type: 'string' },
  'end-time': { type: 'string' },
  's3-bucket': { type: 'string' },
  's3-prefix': { type: 'string' },
  'account-id': { type: 'string' },
  'organization-id': { type: 'string' },
  verbose: { type: 'boolean' },
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  ...STORE_OPTIONS,
} as const;

export async function validateLogsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const trailArn = values['trail-arn'];
  if (trailArn === undefined) throw new UsageError('validate-logs needs --trail-arn');
  if (values['start-time'] === undefined) throw new UsageError('validate-logs needs --start-time');
  const startMs = parseTimeFlag('start-time', values['start-time']);
  const endMs = values['end-time'] === undefined ? Date.now() : parseTimeFlag('end-time', values['end-time']);
  const accessKeyId = io.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = io.env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the credentials to call CloudTrail with');
  }
  // ListPublicKeys answers with the keys of the Region it is asked in: the source Region, as the CLI's.
  const sourceRegion = values.region ?? trailArn.split(':')[3];
  const sessionToken = io.env['AWS_SESSION_TOKEN'];
  const cloudtrail = new AwsJsonClient({
    endpoint: values['endpoint-url'] ?? io.env['OPENTRAIL_ENDPOINT'] ?? 'http://127.0.0.1:4790',
    region: sourceRegion || 'us-east-1',
    service: 'cloudtrail',
    targetPrefix: 'CloudTrail_20131101',
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  });
  const store = await objectReaderFor(values, io);
  // The bar is drawn on a terminal only: elsewhere its module is not even loaded.
  const bars = io.stderr.isTTY === true ? progressBars(io, (await import('cli-progress')).MultiBar) : undefined;
  const out = new Report(io, values.verbose === true, bars);
  try {
    const result = await validateLogs(
      { store, cloudtrail },
      {
        trailArn,
        startMs,
        endMs,
        s3Bucket: values['s3-bucket'],
        s3Prefix: values['s3-prefix'],
        accountId: values['account-id'],
        organizationId: values['organization-id'],
        sourceRegion: values.region,
        onStart: () =>
          out.stdout(
            `Validating log files for trail ${trailArn} between ${isoSeconds(startMs)} and ${isoSeconds(endMs)}\n\n`,
          ),
        onFinding: (finding) => out.finding(finding),
        onProgress: (checked, total) => out.progress(checked, total),
      },
    );
    out.endProgress();
    out.summary(startMs, endMs, result);
    const invalid = result.digests.invalid + result.backfillDigests.invalid + result.logFiles.invalid;
    return invalid > 0 ? 1 : 0;
  } catch (error) {
    // What stops a run (no such trail, no public keys, a bucket that refuses reads…) is one line, exit 1, as
    // the CLI's fatal errors are; nothing is counted.
    out.endProgress();
    io.stderr.write(`opentrail validate-logs: ${errorText(error)}\n`);
    return 1;
  } finally {
    store.close();
    cloudtrail.close();
  }
}

/** The CLI's output: verbose successes on stdout, failures on stderr, each failure followed by a blank line. */
class Report {
  readonly #io: CliIo;
  readonly #verbose: boolean;
  /** A MultiBar even for one bar: a SingleBar restores the cursor to where it started, over lines printed since. */
  readonly #bars: MultiBar | undefined;
  #bar: SingleBar | undefined;
  /** Whether the last thing written ended in a blank line (the CLI's `_is_last_status_double_space`). */
  #blankLineLast = true;

  constructor(io: CliIo, verbose: boolean, bars: MultiBar | undefined) {
    this.#io = io;
    this.#verbose = verbose;
    this.#bars = bars;
  }

  stdout(text: string): void {
    if (this.#io.stdout.isTTY === true) this.#clearBarLine();
    this.#io.stdout.write(text);
  }

  finding(f: ValidationFinding): void {
    const line = describe(f);
    const failed = f.kind === 'gap' || f.problem !== undefined;
    if (failed) {
      this.#clearBarLine();
      this.#io.stderr.write(this.#blankLineLast ? `${line}\n\n` : `\n${line}\n\n`);
      this.#blankLineLast = true;
    } else if (this.#verbose) {
      this.#blankLineLast = false;
      this.stdout(`${line}\n`);
    }
  }

  progress(checked: number, total: number): void {
    if (this.#bars === undefined) return;
    if (this.#bar === undefined) {
      this.#bar = this.#bars.create(total, checked);
    } else {
      this.#bar.setTotal(total);
      this.#bar.update(checked);
    }
  }

  endProgress(): void {
    if (this.#bar === undefined) return;
    this.#bars?.stop();
    this.#clearBarLine();
    this.#bar = undefined;
  }

  summary(
    startMs: number,
    endMs: number,
    r: { digests: Tally; backfillDigests: Tally; logFiles: Tally; foundStartMs?: number; foundEndMs?: number },
  ): void {
    let text = this.#blankLineLast ? '' : '\n';
    text += `Results requested for ${isoSeconds(startMs)} to ${isoSeconds(endMs)}\n`;
    const digests = r.digests.valid + r.digests.invalid + r.backfillDigests.valid + r.backfillDigests.invalid;
    if (digests === 0) {
      this.stdout(`${text}No digests found\n`);
      return;
    }
    text +=
      r.foundStartMs === undefined || r.foundEndMs === undefined
        ? 'No valid digests found in range\n'
        : `Results found for ${isoSeconds(r.foundStartMs)} to ${isoSeconds(r.foundEndMs)}:\n`;
    text += ratio(r.digests, 'digest') + ratio(r.backfillDigests, 'backfill digest') + ratio(r.logFiles, 'log');
    this.stdout(`${text}\n`);
  }

  /** On a terminal the bar owns the current line: wipe it before a line of text; it redraws below. */
  #clearBarLine(): void {
    if (this.#bar !== undefined) this.#io.stderr.write('\r\x1b[2K');
  }
}

function progressBars(io: CliIo, Bars: typeof MultiBar): MultiBar {
  return new Bars({
    format: 'validate-logs [{bar}] {value}/{total} files checked',
    stream: io.stderr,
    clearOnComplete: true,
    hideCursor: true,
    // Leave the terminal's wrapping on (the bar is cut to its width): failure lines are long.
    linewrap: true,
  });
}

/** Our errors carry the whole story in the message (a failed CloudTrail call's starts with its error code). */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(f: ValidationFinding): string {
  if (f.kind === 'gap') {
    const prefix = f.backfill ? '(backfill) ' : '';
    return `${prefix}No log files were delivered by CloudTrail between ${isoSeconds(f.fromMs)} and ${isoSeconds(f.toMs)}`;
  }
  const what = f.kind === 'log' ? 'Log file' : `${f.backfill ? '(backfill) ' : ''}Digest file`;
  return `${what}\ts3://${f.bucket}/${f.key}\t${f.problem === undefined ? 'valid' : `INVALID: ${f.problem}`}`;
}

function ratio({ valid, invalid }: Tally, name: string): string {
  const total = valid + invalid;
  if (total === 0) return '';
  return `\n${valid}/${total} ${name} files valid${invalid > 0 ? `, ${invalid}/${total} ${name} files INVALID` : ''}`;
}

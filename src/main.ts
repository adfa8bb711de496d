/** `npm start` and the `opentrail` binary: run the CLI with this process's arguments and environment. */
import { setFlagsFromString } from 'node:v8';
import { runCli } from './cli/run-cli.ts';

// V8 reads this each time it sizes the heap after a major GC, so setting it here still takes effect: see
// docs/ARCHITECTURE.md, Storage (the main thread ran a mark-compact every ~170 ms under sustained load).
setFlagsFromString('--heap-growing-percent=200');

const args = process.argv.slice(2);
const asksHelp = args[0] === '--help' || args[0] === '-h';
// `npm start -- --port 5000` means `serve --port 5000`.
const argv = asksHelp ? ['help'] : args.length === 0 || args[0]?.startsWith('-') ? ['serve', ...args] : args;
if (argv[0] !== 'serve') {
  // A reader that stops early (`opentrail read-logs … | head`) closes the pipe: that ends the command, quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}
runCli(argv, { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`opentrail: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

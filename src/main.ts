/** `npm start` and the `opentrail` binary: run the CLI with this process's arguments and environment. */
import { runCli } from './cli/run-cli.ts';

const args = process.argv.slice(2);
// `npm start -- --port 5000` means `serve --port 5000`.
const argv = args.length === 0 || args[0]?.startsWith('-') ? ['serve', ...args] : args;
runCli(argv, { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`opentrail: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

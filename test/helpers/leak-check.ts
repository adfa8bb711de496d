/**
 * Loaded before every test file (scripts/run-tests.mjs): fails the file when, after its tests and hooks,
 * a server, socket, child process or timer still keeps the process alive. A test that leaks one would
 * otherwise pass and leave CI hanging.
 *
 * The check is a grace timer armed when the file's root `after` hooks run and unref'd: a clean file exits
 * before it fires; only a process that something keeps alive reaches it, reports what, and exits 1.
 */
import { after } from 'node:test';

// Not PipeWrap: a test file's own stdout and stderr are pipes to the runner.
const LEAKS = new Set(['TCPServerWrap', 'TCPSocketWrap', 'ProcessWrap', 'Timeout', 'FSEventWrap']);
const GRACE_MS = 3_000;

after(() => {
  setTimeout(() => {
    const leaked = process.getActiveResourcesInfo().filter((r) => LEAKS.has(r));
    process.stderr.write(`\nleak-check: the tests left running: ${leaked.join(', ') || 'something'}\n`);
    process.exit(1);
  }, GRACE_MS).unref();
});

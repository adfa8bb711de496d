// Runs every test file under test/ with node's test runner through tsx. Node 20 does not expand globs,
// so the files are listed here explicitly; the runner then prints its `# pass` / `# fail` summary.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
    )
    .sort();
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : testFiles('test');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--import', './test/helpers/leak-check.ts', '--test', '--test-reporter=tap', ...files],
  {
    stdio: 'inherit',
    // The AWS SDK warns once per process that its 2027 releases will need Node 22; it is noise in test output.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
);
process.exit(result.status ?? 1);

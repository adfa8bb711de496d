import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/**
 * The server loads the AWS SDK's S3, KMS and SNS clients only when an endpoint of theirs is used: loading
 * them cost every start ~0.1 s and ~20 MB, most servers keeping objects locally. Checked in a process of
 * its own (this one has loaded them for its tests): the SDK is CommonJS, so what was loaded is in
 * require.cache, also when ESM imported it.
 */
test('the server’s modules load none of the AWS SDK clients', () => {
  const script = `
    import { createRequire } from 'node:module';
    await import('./src/cli/serve-command.ts');
    await import('./src/app.ts');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(loaded.filter((p) => /@aws-sdk[\\\\/]client-/.test(p))));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1) as string), []);
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LOADER = pathToFileURL(join(process.cwd(), 'bin', 'ts-loader.js')).href;

/** bin/opentrail.js's loader (bin/ts-loader.js), on TypeScript files of its own in a temporary folder. */
describe('the opentrail command’s TypeScript loader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opentrail-loader-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** Runs `file` as bin/opentrail.js runs src/main.ts; its output, or its stderr when it fails. */
  async function runTs(
    file: string,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<{ stdout: string; stderr: string }> {
    const main = [
      'process.setSourceMapsEnabled(true);',
      `(await import('node:module')).register(${JSON.stringify(LOADER)});`,
      `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    ].join('\n');
    try {
      return await run(process.execPath, ['--input-type=module', '-e', main], { env });
    } catch (error) {
      return { stdout: '', stderr: (error as { stderr: string }).stderr };
    }
  }

  it('runs a TypeScript module importing another, and runs its new text once it changes', async () => {
    const answer = join(dir, 'answer.ts');
    const main = join(dir, 'main.ts');
    await writeFile(main, "import { answer } from './answer.ts';\nconsole.log(answer satisfies number);\n");
    await writeFile(answer, 'export const answer: number = 41;\n');
    assert.equal((await runTs(main)).stdout, '41\n');
    await writeFile(answer, 'export const answer: number = 42;\n');
    assert.equal((await runTs(main)).stdout, '42\n');
  });

  it('gives stack traces in the TypeScript file’s own lines', async () => {
    const file = join(dir, 'throws.ts');
    await writeFile(file, "interface Unused {\n  a: string;\n}\n\nthrow new Error('line ' + (5 as number));\n");
    const { stderr } = await runTs(file);
    assert.match(stderr, /Error: line 5/);
    assert.ok(stderr.includes(`${file}:5`), stderr);
  });

  it('neither reads nor writes a cache folder that others can write', async () => {
    const temp = join(dir, 'shared-temp');
    const cache = join(temp, `opentrail-ts-${process.getuid?.()}`);
    await mkdir(cache, { recursive: true });
    await chmod(cache, 0o777);
    const file = join(dir, 'plain.ts');
    await writeFile(file, 'console.log(1 as number);\n');
    assert.equal((await runTs(file, { ...process.env, TMPDIR: temp })).stdout, '1\n');
    assert.deepEqual(await readdir(cache), []);
  });
});

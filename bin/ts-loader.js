/**
 * Module hooks for bin/opentrail.js and the server's ingest workers (node's loader thread runs them): a `.ts`
 * file is transpiled by esbuild as tsx transpiles it (types erased, one file at a time, the project's tsconfig)
 * and kept in a cache keyed by everything the output depends on, so a start reads the cache and never even
 * loads esbuild. All else is node's. tsx (the test runner, benchmarks) does more: other extensions, tsconfig
 * paths, CommonJS; its start costs ~0.2 s of CPU, more than `opentrail validate-logs` takes to check a day of
 * files (issue 3's target), and a server started with it (`npm start` did) took ~1.17 s to serve, not ~0.98 s.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

const TSCONFIG = readFileSync(new URL('../tsconfig.json', import.meta.url), 'utf8');
const OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node}`,
  sourcemap: 'inline',
  tsconfigRaw: TSCONFIG,
};
/** Per user, as tsx keeps its own: another user's files are not ours to trust or overwrite. */
const CACHE_DIR = join(tmpdir(), `opentrail-ts-${process.getuid?.() ?? 'user'}`);
/** The shared temp folder lets anyone create that name first: only a folder of ours that only we can write is used. */
const CACHE_TRUSTED = ownPrivateFolder(CACHE_DIR);

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = readFileSync(path, 'utf8');
  // The path is in the key too: the inline source map names the file.
  const key = createHash('sha256')
    .update(JSON.stringify([OPTIONS, path, source]))
    .digest('hex');
  const cached = join(CACHE_DIR, `${key}.js`);
  let code;
  try {
    if (!CACHE_TRUSTED) throw new Error('no cache');
    code = readFileSync(cached, 'utf8');
  } catch {
    const { transform } = await import('esbuild');
    code = (await transform(source, { ...OPTIONS, sourcefile: path })).code;
    if (CACHE_TRUSTED) save(cached, code);
  }
  return { format: 'module', source: code, shortCircuit: true };
}

function ownPrivateFolder(path) {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    const stat = lstatSync(path);
    return stat.isDirectory() && stat.uid === process.getuid?.() && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Written whole or not at all (a rename), so a start beside this one never reads half a file; best effort. */
function save(path, code) {
  try {
    // The thread too: the server's ingest workers load through this as well, with the process's pid.
    const partial = `${path}.${process.pid}.${threadId}`;
    writeFileSync(partial, code);
    renameSync(partial, path);
  } catch {
    // An unwritable cache only means transpiling again next time.
  }
}

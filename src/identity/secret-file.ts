import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Secrets (access keys' secrets, signing keys) live in files readable by the owner only (0600),
 * replaced atomically: write a temporary file, fsync, rename over the old one.
 */
export async function readSecretFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeSecretFile(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = await open(tmp, 'wx', 0o600);
  try {
    await fd.writeFile(JSON.stringify(value, null, 2));
    await fd.sync();
  } finally {
    await fd.close();
  }
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

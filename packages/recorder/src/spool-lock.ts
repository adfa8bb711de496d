import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolError } from './errors/spool-error.ts';

const LOCK_FILE = 'spool.lock';

/**
 * Takes the spool directory for this process: two processes sending the same files would deliver them
 * twice and delete each other's. A lock whose process is gone (a crash, a restart) is taken over; so is one
 * holding our own pid, which after a container restart is a previous life of this process. Resolves to
 * the function that gives the lock back.
 */
export async function lockSpool(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number.parseInt(await readFile(path, 'utf8'), 10);
    if (Number.isSafeInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new SpoolError(
        `The spool directory ${dir} is in use by process ${holder}; give each process its own spoolDir.`,
      );
    }
    await writeFile(path, `${process.pid}\n`);
  }
  return () => rm(path, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { serialisable } from '../capture/ingest-records.ts';
import { errorCode } from '../model/error-code.ts';
import { UsageError } from './io.ts';

/**
 * The files `opentrail ingest` and `opentrail import` read: a named path must exist; what cannot be read is
 * a FileProblem naming the file, which the commands report and pass over, going on with the other files.
 */
export class FileProblem extends Error {
  override readonly name = 'FileProblem';
}

const gunzipAsync = promisify(gunzip);

/** A regular file's text, gunzipped when it is gzip. A FIFO or device is never opened: reading one could block. */
export async function readRecordText(path: string): Promise<string> {
  const info = await stat(path).catch((error: unknown) => {
    throw new FileProblem(unreadable(error));
  });
  if (info.isDirectory()) throw new FileProblem('is a folder; name the files in it');
  if (!info.isFile()) throw new FileProblem('is not a regular file (a pipe or device); copy it to a file first');
  let bytes: Buffer = await readFile(path).catch((error: unknown) => {
    throw new FileProblem(unreadable(error));
  });
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = await gunzipAsync(bytes).catch((error: Error) => {
      throw new FileProblem(`is not a complete gzip file (${error.message})`);
    });
  }
  return bytes.toString('utf8');
}

function unreadable(error: unknown): string {
  return `cannot be read (${errorCode(error) ?? (error as Error).message})`;
}

export interface FoundFile {
  path: string;
  bytes: number;
}

/**
 * The files under the named paths, folders walked (symbolic links followed, each folder once, so a link back
 * up cannot loop). A named path that does not exist is a usage error; what goes wrong inside a folder, or a
 * path that is neither file nor folder, is reported through `skip` and passed over.
 */
export async function filesUnder(
  paths: readonly string[],
  skip: (path: string, why: string) => void,
  passOver: (name: string) => boolean = () => false,
): Promise<FoundFile[]> {
  const seen = new Set<string>();
  const walk = async (path: string, named: boolean): Promise<FoundFile[]> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      if (named) throw new UsageError(`${path} does not exist`);
      skip(path, unreadable(error));
      return [];
    }
    if (info.isFile()) return [{ path, bytes: info.size }];
    if (!info.isDirectory()) {
      skip(path, 'is not a regular file or folder; passed over');
      return [];
    }
    const id = `${info.dev}:${info.ino}`;
    if (seen.has(id)) {
      skip(path, 'is a folder already walked (a symbolic link back to it); passed over');
      return [];
    }
    seen.add(id);
    const entries = (await readdir(path)).filter((e) => !passOver(e)).sort();
    const found: FoundFile[] = [];
    for (const entry of entries) found.push(...(await walk(join(path, entry), false)));
    return found;
  };
  const found: FoundFile[] = [];
  for (const path of paths) found.push(...(await walk(path, true)));
  return found;
}

/**
 * Sends a batch with `send`. One record nested deeper than JSON.stringify reaches (JSON.parse reads any depth)
 * makes the whole request unwritable: then each record that cannot be written goes to `tooDeep`, and the rest
 * are sent. Resolves with the records sent and the answer, or undefined when none was left to send.
 */
export async function sendWritable<T, A>(
  batch: T[],
  record: (item: T) => unknown,
  send: (items: readonly T[]) => Promise<A>,
  tooDeep: (item: T) => void,
): Promise<{ sent: T[]; answer: A } | undefined> {
  try {
    return { sent: batch, answer: await send(batch) };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  const sent: T[] = [];
  for (const item of batch) {
    if (serialisable(record(item))) sent.push(item);
    else tooDeep(item);
  }
  return sent.length === 0 ? undefined : { sent, answer: await send(sent) };
}

export const TOO_DEEP_TO_SEND = 'is nested too deeply to send; flatten it';

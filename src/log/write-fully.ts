import { writeSync } from 'node:fs';

/**
 * Writes all of `buf`. A write may take fewer bytes than it was given (a signal, a full disk, a file
 * system's own limit per call); the rest would silently be missing from the segment, and the next frame
 * would land where this one's tail should be. On a file opened O_APPEND each call lands at the end, so
 * writing the remainder continues exactly where the short write stopped.
 */
export interface WritableFile {
  write(buf: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
}

export async function writeFully(file: WritableFile, buf: Uint8Array): Promise<void> {
  let written = 0;
  while (written < buf.length) {
    const { bytesWritten } = await file.write(buf, written, buf.length - written);
    written += progress(bytesWritten, written, buf.length);
  }
}

/** The same on the calling thread, for writes small enough that a thread-pool hop would cost more. */
export function writeFullySync(fd: number, buf: Uint8Array): void {
  let written = 0;
  while (written < buf.length) {
    written += progress(writeSync(fd, buf, written, buf.length - written), written, buf.length);
  }
}

/** No progress and no error would loop forever: treat it as the failed write it is. */
function progress(bytesWritten: number, written: number, total: number): number {
  if (bytesWritten <= 0) throw new Error(`the write stopped after ${written} of ${total} bytes`);
  return bytesWritten;
}

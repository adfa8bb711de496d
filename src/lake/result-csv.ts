import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { ResultRow } from './query-store.ts';

/**
 * Query results as CSV (RFC 4180: CRLF line ends, a field quoted when it holds a quote, comma, CR or LF, its
 * quotes doubled), a header row of column names, a null as an empty field. Each file begins with the header,
 * so every `result_<n>.csv.gz` reads on its own.
 */
export function csvRecord(values: readonly (string | null)[]): string {
  return `${values.map((v) => (v === null ? '' : /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',')}\r\n`;
}

/** A Lake row's values in column order (each cell a one-entry map). */
export function rowValues(row: ResultRow): (string | null)[] {
  return row.map((cell) => Object.values(cell)[0] ?? null);
}

/**
 * One gzipped CSV file being written: text is compressed as it comes (one gzip member, so every reader sees all
 * of it), and only the compressed bytes are held.
 */
export class GzipCsvFile {
  /** Uncompressed bytes written so far. */
  bytes = 0;
  readonly #gzip = createGzip();
  readonly #chunks: Buffer[] = [];
  readonly #ended: Promise<Buffer>;

  constructor(header: readonly string[]) {
    this.#gzip.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    this.#ended = new Promise((resolve, reject) => {
      this.#gzip.once('end', () => resolve(Buffer.concat(this.#chunks)));
      this.#gzip.once('error', reject);
    });
    // A rejection is only seen through end(); this keeps an early one from being reported as unhandled.
    this.#ended.catch(() => {});
    const line = csvRecord(header);
    this.bytes = Buffer.byteLength(line);
    this.#gzip.write(line);
  }

  /** Waits while the compressor is behind, so a large result never piles up uncompressed. */
  async write(text: string): Promise<void> {
    this.bytes += Buffer.byteLength(text);
    if (!this.#gzip.write(text)) await once(this.#gzip, 'drain');
  }

  end(): Promise<Buffer> {
    this.#gzip.end();
    return this.#ended;
  }
}

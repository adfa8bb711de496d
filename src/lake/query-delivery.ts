import { isObjectStoreError, type ObjectStore } from '../objectstore/index.ts';
import { type SigningKeys, sha256Hex } from '../trails/index.ts';
import { checkDeliveryBucket, parseDeliveryS3Uri, queryResultFolder } from './delivery-location.ts';
import type { DeliveryStatus, LakeQueryRecord, ResultRow } from './query-store.ts';
import { csvRecord, GzipCsvFile, rowValues } from './result-csv.ts';
import { type ResultFileHash, resultSignFile } from './result-sign-file.ts';

/**
 * Delivers a finished query's results to its DeliveryS3Uri (facts §8.2, §5.8): every row, as gzipped CSV files
 * `result_1.csv.gz`, `result_2.csv.gz`, … of at most `maxFileBytes` of CSV each, then `result_sign.json`.
 * Rows are read a page at a time and compressed as they come: a file's compressed bytes are all that is held.
 * The outcome is a DeliveryStatus: SUCCESS, or what the object store refused (a bucket gone is
 * RESOURCE_NOT_FOUND, a denied write ACCESS_DENIED, anything else FAILED), `*_SIGNING_FILE` when only the sign
 * file could not be written. Files written before a failure stay, as a partial S3 write would.
 */
export const DEFAULT_RESULT_FILE_BYTES = 100 * 1024 * 1024;
const ROWS_PER_PAGE = 5_000;

export interface QueryDeliveryDeps {
  objects: ObjectStore;
  signingKeys: SigningKeys;
  /** Check bucket policies on an S3 endpoint (not in moto mode). */
  checkPolicy: boolean;
  /** Uncompressed CSV bytes per result file. */
  maxFileBytes?: number;
  onError: (error: unknown, queryId: string) => void;
}

/** Reads `limit` result rows from `offset`, in order. */
export type ReadRows = (offset: number, limit: number) => Promise<ResultRow[]>;

export class QueryDelivery {
  readonly #deps: QueryDeliveryDeps;

  constructor(deps: QueryDeliveryDeps) {
    this.#deps = deps;
  }

  /** StartQuery's checks: the URI's form, the bucket, and its policy where one is needed. */
  async check(uri: string, accountId: string, storeArns: readonly string[]): Promise<void> {
    await checkDeliveryBucket(this.#deps.objects, parseDeliveryS3Uri(uri), {
      accountId,
      storeArns,
      checkPolicy: this.#deps.checkPolicy,
    });
  }

  /** Never throws: a failure is the status it answers (and is reported to onError). */
  async deliver(query: LakeQueryRecord, readRows: ReadRows): Promise<DeliveryStatus> {
    let signing = false;
    try {
      const location = parseDeliveryS3Uri(query.deliveryS3Uri ?? '');
      const completedMs = query.finishedMs ?? query.createdMs;
      const folder = queryResultFolder(location, query.accountId, query.queryId, completedMs);
      const put = (name: string, body: Uint8Array, contentType: string) =>
        this.#deps.objects.putObject({ bucket: location.bucket, key: `${folder}${name}`, body, contentType });
      const files = await this.#writeFiles(query, readRows, (name, body) => put(name, body, 'application/gzip'));
      signing = true;
      const key = await this.#deps.signingKeys.current(query.region);
      const sign = resultSignFile({ region: query.region, files, queryCompleteMs: completedMs, key });
      await put('result_sign.json', Buffer.from(sign, 'utf8'), 'application/json');
      return 'SUCCESS';
    } catch (error) {
      this.#deps.onError(error, query.queryId);
      const suffix = signing ? '_SIGNING_FILE' : '';
      if (isObjectStoreError(error, 'AccessDenied')) return `ACCESS_DENIED${suffix}` as DeliveryStatus;
      if (!signing && isObjectStoreError(error, 'NoSuchBucket')) return 'RESOURCE_NOT_FOUND';
      return `FAILED${suffix}` as DeliveryStatus;
    }
  }

  async #writeFiles(
    query: LakeQueryRecord,
    readRows: ReadRows,
    put: (name: string, body: Uint8Array) => Promise<void>,
  ): Promise<ResultFileHash[]> {
    const maxBytes = this.#deps.maxFileBytes ?? DEFAULT_RESULT_FILE_BYTES;
    const header = query.columns ?? [];
    const files: ResultFileHash[] = [];
    let file = new GzipCsvFile(header);
    const close = async () => {
      const body = await file.end();
      const fileName = `result_${files.length + 1}.csv.gz`;
      await put(fileName, body);
      files.push({ fileName, fileHashValue: sha256Hex(body) });
    };
    // A file holds at least one row, so a row larger than maxBytes still goes out.
    let rowsInFile = 0;
    for (let offset = 0; offset < query.resultsCount; offset += ROWS_PER_PAGE) {
      const rows = await readRows(offset, ROWS_PER_PAGE);
      if (rows.length === 0) break;
      // A page's lines go to the compressor in one write, or in two around a file boundary.
      let lines = '';
      let linesBytes = 0;
      for (const row of rows) {
        const line = csvRecord(rowValues(row));
        const lineBytes = Buffer.byteLength(line);
        if (rowsInFile > 0 && file.bytes + linesBytes + lineBytes > maxBytes) {
          await file.write(lines);
          await close();
          file = new GzipCsvFile(header);
          [lines, linesBytes, rowsInFile] = ['', 0, 0];
        }
        lines += line;
        linesBytes += lineBytes;
        rowsInFile++;
      }
      await file.write(lines);
    }
    // An empty result is one file holding the header.
    await close();
    return files;
  }
}

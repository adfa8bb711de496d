import { ObjectStoreError, type ObjectStoreErrorCode } from './object-store.ts';

/**
 * S3's failures as ObjectStoreError codes, for the SDK-backed store and the CLI's bare reader alike, so both
 * name a failure the same way and word it the same: `<code> (<bucket or key>): <S3's message>`.
 */
export interface S3Failure {
  /** S3's error code (`NoSuchKey`), when the answer had one. */
  code: string | undefined;
  /** The HTTP status; undefined when nothing answered. */
  status: number | undefined;
  message: string;
  cause?: unknown;
}

const CODE_BY_ERROR_NAME: Record<string, ObjectStoreErrorCode> = {
  NoSuchBucket: 'NoSuchBucket',
  NoSuchKey: 'NoSuchKey',
  AccessDenied: 'AccessDenied',
  Forbidden: 'AccessDenied',
  InvalidBucketName: 'InvalidBucketName',
  KeyTooLongError: 'InvalidObjectKey',
};

/**
 * `subject` says what a bare 404 (HEAD answers carry no error name) is about. No HTTP answer at all, a 5xx or
 * any other refusal means the store cannot serve the call: StoreUnavailable, with the failure as `cause`.
 */
export function storeError(failure: S3Failure, subject: 'bucket' | 'key', name: string): ObjectStoreError {
  const { status } = failure;
  const code =
    CODE_BY_ERROR_NAME[failure.code ?? ''] ??
    (status === 404 ? (subject === 'bucket' ? 'NoSuchBucket' : 'NoSuchKey') : undefined) ??
    (status === 403 ? 'AccessDenied' : 'StoreUnavailable');
  const options = failure.cause !== undefined ? { cause: failure.cause } : {};
  return new ObjectStoreError(code, `${code} (${name}): ${failure.message}`, options);
}

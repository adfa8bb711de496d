import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * The service's logger. No log line may carry a credential: signatures, secret access keys, whole credential
 * objects or settings. Nothing logs them on purpose; these paths are the net for an error or object that
 * carries one by accident (an SDK error's request, a config object, a response with a new key's secret), at
 * the top level and up to two levels down, where `err.cause` sits.
 */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'secretAccessKey',
  'SecretAccessKey',
  'sessionToken',
  'credentials',
  'config',
  '*.authorization',
  '*.secretAccessKey',
  '*.SecretAccessKey',
  '*.sessionToken',
  '*.credentials',
  '*.config',
  '*.headers.authorization',
  '*.headers["x-amz-security-token"]',
  '*.*.secretAccessKey',
  '*.*.SecretAccessKey',
  '*.*.credentials',
  '*.*.headers.authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

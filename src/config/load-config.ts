import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MOTO_CREDENTIALS } from '../proxy/moto-credentials.ts';
import type { UpstreamSettings } from '../proxy/upstream.ts';

/**
 * Configuration is read once, here, from flags, then `OPENTRAIL_*` variables, then defaults
 * (style.md item 8). Nothing else reads `process.env`. A bad value stops the start with a
 * ConfigError naming the flag or variable to fix.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** The bootstrap admin identity; generated on first start when unset. */
  readonly admin: { readonly accountId?: string; readonly accessKeyId?: string; readonly secretAccessKey?: string };
  readonly objectStore: { readonly kind: 'local' } | (S3Settings & { readonly kind: 's3' });
  /** LookupEvents requests per second per account and Region; 0 turns the limit off (AWS: 2). */
  readonly lookupRateLimit: number;
  /** DuckDB's memory cap. */
  readonly memoryLimit: string;
  /** DuckDB's worker threads; 0 leaves DuckDB's default (one per core). */
  readonly duckdbThreads: number;
  /** Worker threads that check ingest batches; 0 checks them on the main thread. */
  readonly ingestWorkers: number;
  /** How often trails deliver log files (AWS: every 5 minutes). */
  readonly deliveryIntervalMs: number;
  /** How often trails write digest files (AWS: hourly). */
  readonly digestIntervalMs: number;
  /** SNS-compatible endpoint for trail notifications; without one, SnsTopicName is kept but nothing is sent. */
  readonly sns?: ServiceEndpoint;
  /** KMS-compatible endpoint that trails' KmsKeyId values are checked against. */
  readonly kms?: ServiceEndpoint;
  /** Where the recording proxy forwards calls to other services; without one, such calls are refused. */
  readonly upstream?: UpstreamSettings;
  /** moto-compatible mode: moto_server behind the proxy, its test credentials, its reset endpoint. */
  readonly moto: boolean;
  readonly logLevel: LogLevel;
}

/** An AWS-compatible endpoint opentrail calls, with the credentials to sign with. */
export interface ServiceEndpoint {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

export type S3Settings = ServiceEndpoint;

export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

interface Setting {
  flag?: string;
  env: string;
  default?: string;
  help: string;
  /** A switch: `--flag` alone, or the variable set to 1/0, true/false. */
  boolean?: true;
}

/** Every setting once: its flag (secrets have none, so they never show in `ps`), its variable, its default. */
export const SETTINGS = {
  port: { flag: 'port', env: 'OPENTRAIL_PORT', default: '4790', help: 'TCP port to listen on' },
  host: { flag: 'host', env: 'OPENTRAIL_HOST', default: '127.0.0.1', help: 'address to listen on' },
  dataDir: { flag: 'data-dir', env: 'OPENTRAIL_DATA_DIR', default: './data', help: 'where all state is kept' },
  accountId: {
    env: 'OPENTRAIL_ACCOUNT_ID',
    help: 'admin account id (12 digits) of a new data directory; must match it afterwards; generated when unset',
  },
  accessKeyId: {
    env: 'OPENTRAIL_ACCESS_KEY_ID',
    help: 'admin access key id of a new data directory; must be its admin key afterwards; generated when unset',
  },
  secretAccessKey: {
    env: 'OPENTRAIL_SECRET_ACCESS_KEY',
    help: 'admin secret access key (40+ characters), checked against the stored one; generated when unset',
  },
  s3Endpoint: { flag: 's3-endpoint', env: 'OPENTRAIL_S3_ENDPOINT', help: 'S3-compatible endpoint URL' },
  s3AccessKeyId: { env: 'OPENTRAIL_S3_ACCESS_KEY_ID', help: 'access key for the S3 endpoint' },
  s3SecretAccessKey: { env: 'OPENTRAIL_S3_SECRET_ACCESS_KEY', help: 'secret key for the S3 endpoint' },
  s3Region: { flag: 's3-region', env: 'OPENTRAIL_S3_REGION', default: 'us-east-1', help: 'region of the S3 endpoint' },
  snsEndpoint: { flag: 'sns-endpoint', env: 'OPENTRAIL_SNS_ENDPOINT', help: 'SNS-compatible endpoint URL' },
  snsAccessKeyId: { env: 'OPENTRAIL_SNS_ACCESS_KEY_ID', help: 'access key for the SNS endpoint' },
  snsSecretAccessKey: { env: 'OPENTRAIL_SNS_SECRET_ACCESS_KEY', help: 'secret key for the SNS endpoint' },
  snsRegion: {
    flag: 'sns-region',
    env: 'OPENTRAIL_SNS_REGION',
    default: 'us-east-1',
    help: 'region of the SNS endpoint',
  },
  kmsEndpoint: { flag: 'kms-endpoint', env: 'OPENTRAIL_KMS_ENDPOINT', help: 'KMS-compatible endpoint URL' },
  kmsAccessKeyId: { env: 'OPENTRAIL_KMS_ACCESS_KEY_ID', help: 'access key for the KMS endpoint' },
  kmsSecretAccessKey: { env: 'OPENTRAIL_KMS_SECRET_ACCESS_KEY', help: 'secret key for the KMS endpoint' },
  kmsRegion: {
    flag: 'kms-region',
    env: 'OPENTRAIL_KMS_REGION',
    default: 'us-east-1',
    help: 'region of the KMS endpoint',
  },
  deliveryInterval: {
    flag: 'delivery-interval',
    env: 'OPENTRAIL_DELIVERY_INTERVAL',
    default: '300',
    help: 'seconds between log file deliveries (AWS: 300; at least 1)',
  },
  digestInterval: {
    flag: 'digest-interval',
    env: 'OPENTRAIL_DIGEST_INTERVAL',
    default: '3600',
    help: 'seconds each digest file covers (AWS: 3600; at least 60)',
  },
  lookupRateLimit: {
    flag: 'lookup-rate-limit',
    env: 'OPENTRAIL_LOOKUP_RATE_LIMIT',
    default: '0',
    help: 'LookupEvents calls per second per account and Region (AWS: 2; 0 = off)',
  },
  memoryLimit: { flag: 'memory-limit', env: 'OPENTRAIL_MEMORY_LIMIT', default: '384MB', help: 'DuckDB memory cap' },
  duckdbThreads: {
    flag: 'duckdb-threads',
    env: 'OPENTRAIL_DUCKDB_THREADS',
    default: '0',
    help: 'DuckDB worker threads (0 = one per core)',
  },
  ingestWorkers: {
    flag: 'ingest-workers',
    env: 'OPENTRAIL_INGEST_WORKERS',
    // One per core, up to 4: checking is most of an ingest batch's CPU, and on 2 cores a second worker took
    // acknowledged throughput from ~30,000 to ~36,500 events/s (bench:ingest). Each checks ~50,000 events/s
    // and holds ~32 MB, and past 4 the main thread's own share (~9 µs an event) is the limit.
    default: String(Math.min(availableParallelism(), 4)),
    help: 'worker threads checking ingest batches and audit events (default one per core, at most 4; 0 = on the main thread)',
  },
  upstream: {
    flag: 'upstream',
    env: 'OPENTRAIL_UPSTREAM',
    help: 'where the recording proxy forwards other services: a URL, or service=URL pairs and a default URL, comma-separated',
  },
  upstreamAccessKeyId: { env: 'OPENTRAIL_UPSTREAM_ACCESS_KEY_ID', help: 'access key the proxy signs with upstream' },
  upstreamSecretAccessKey: {
    env: 'OPENTRAIL_UPSTREAM_SECRET_ACCESS_KEY',
    help: 'secret key the proxy signs with upstream',
  },
  moto: {
    flag: 'moto',
    env: 'OPENTRAIL_MOTO',
    default: '0',
    boolean: true,
    help: "moto-compatible mode: start moto_server (or use --upstream's) and record every call to it",
  },
  logLevel: { flag: 'log-level', env: 'OPENTRAIL_LOG_LEVEL', default: 'info', help: LOG_LEVELS.join('|') },
} as const satisfies Record<string, Setting>;

type Key = keyof typeof SETTINGS;

/** How a message names a setting to fix: `--port (OPENTRAIL_PORT)`, or the variable alone. */
export function settingName(key: Key): string {
  const s: Setting = SETTINGS[key];
  return s.flag ? `--${s.flag} (${s.env})` : s.env;
}

export function usage(): string {
  const lines = Object.values(SETTINGS as Record<string, Setting>).map((s) => {
    const name = s.flag ? `--${s.flag} / ${s.env}` : s.env;
    return `  ${name.padEnd(50)} ${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`;
  });
  return `Settings (flag / environment variable):\n${lines.join('\n')}`;
}

export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  const options = Object.fromEntries(
    Object.values(SETTINGS as Record<string, Setting>)
      .filter((s) => s.flag !== undefined)
      .map((s) => [s.flag as string, { type: s.boolean ? ('boolean' as const) : ('string' as const) }]),
  );
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (cause) {
    throw new ConfigError(`${(cause as Error).message}\n${usage()}`, { cause });
  }
  const raw = (key: Key): string | undefined => {
    const s: Setting = SETTINGS[key];
    const fromFlag = s.flag ? flags[s.flag] : undefined;
    if (typeof fromFlag === 'string') return fromFlag;
    if (fromFlag === true) return '1';
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return s.default;
  };
  const fail = (key: Key, why: string): never => {
    throw new ConfigError(`${settingName(key)}: ${why}`);
  };

  const integer = (key: Key, min: number, max: number, what: string): number => {
    const value = Number(raw(key));
    if (!Number.isInteger(value) || value < min || value > max) fail(key, `'${raw(key)}' is not ${what}`);
    return value;
  };
  const port = integer('port', 0, 65535, 'a port (0-65535)');
  const host = raw('host') as string;
  const dataDir = raw('dataDir') as string;

  const accountId = raw('accountId');
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) fail('accountId', 'must be 12 digits');
  const accessKeyId = raw('accessKeyId');
  const secretAccessKey = raw('secretAccessKey');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    fail(accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey', 'set both the access key id and the secret');
  }
  if (accessKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(accessKeyId)) {
    fail('accessKeyId', 'must be 16-128 upper-case letters and digits, like AKIAIOSFODNN7EXAMPLE');
  }
  if (secretAccessKey !== undefined) {
    const weakness = secretWeakness(secretAccessKey);
    if (weakness !== undefined) fail('secretAccessKey', weakness);
  }

  const lookupRateLimit = Number(raw('lookupRateLimit'));
  if (!Number.isFinite(lookupRateLimit) || lookupRateLimit < 0) {
    fail('lookupRateLimit', `'${raw('lookupRateLimit')}' is not a number of requests per second (0 = off)`);
  }
  const memoryLimit = raw('memoryLimit') as string;
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(memoryLimit)) {
    fail('memoryLimit', `'${memoryLimit}' is not a size like 512MB or 2GB`);
  }
  const duckdbThreads = integer('duckdbThreads', 0, 256, 'a number of threads (0 = one per core)');
  const ingestWorkers = integer('ingestWorkers', 0, 64, 'a number of threads (0-64)');
  const deliveryInterval = integer('deliveryInterval', 1, 86_400, 'seconds (1 to 86400)');
  const digestInterval = integer('digestInterval', 60, 86_400, 'seconds (60 to 86400)');
  const endpoint = (name: 's3' | 'sns' | 'kms') => serviceEndpoint(name, raw, fail);
  const [s3, sns, kms] = [endpoint('s3'), endpoint('sns'), endpoint('kms')];
  const motoText = (raw('moto') as string).toLowerCase();
  if (!['1', '0', 'true', 'false', 'yes', 'no'].includes(motoText)) fail('moto', `'${motoText}' is not 1 or 0`);
  const moto = ['1', 'true', 'yes'].includes(motoText);
  const upstream = upstreamSettings(moto, raw, fail);
  const logLevel = raw('logLevel') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);

  return Object.freeze({
    port,
    host,
    dataDir: resolve(dataDir),
    admin: Object.freeze({
      ...(accountId !== undefined ? { accountId } : {}),
      ...(accessKeyId !== undefined ? { accessKeyId } : {}),
      ...(secretAccessKey !== undefined ? { secretAccessKey } : {}),
    }),
    objectStore:
      s3 === undefined ? Object.freeze({ kind: 'local' as const }) : Object.freeze({ kind: 's3' as const, ...s3 }),
    ...(sns !== undefined ? { sns } : {}),
    ...(kms !== undefined ? { kms } : {}),
    ...(upstream !== undefined ? { upstream } : {}),
    moto,
    deliveryIntervalMs: deliveryInterval * 1000,
    digestIntervalMs: digestInterval * 1000,
    lookupRateLimit,
    memoryLimit,
    duckdbThreads,
    ingestWorkers,
    logLevel,
  });
}

/** AWS's own example secret, from its documentation: anyone can sign with it. */
const DOCUMENTED_EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const MIN_SECRET_LENGTH = 40;
const MIN_DISTINCT_SECRET_CHARACTERS = 10;
const GENERATE_SECRET = 'generate one with `openssl rand -base64 30`, or unset it to have one generated';

/**
 * Why an admin secret is too weak to guard the admin account, or undefined. The secret itself never goes into
 * the message: start-up errors end up in logs. AWS's secrets are 40 random base64 characters; ours must be as long.
 */
function secretWeakness(secret: string): string | undefined {
  if (secret.length < MIN_SECRET_LENGTH || secret.length > 128) {
    return `must be ${MIN_SECRET_LENGTH} to 128 characters, as long as an AWS secret access key at least (it has ${secret.length}); ${GENERATE_SECRET}`;
  }
  if (/[\s\p{Cc}]/u.test(secret)) return `must not contain spaces or control characters; ${GENERATE_SECRET}`;
  if (secret === DOCUMENTED_EXAMPLE_SECRET) {
    return `is AWS's published example secret, which anyone can sign with; ${GENERATE_SECRET}`;
  }
  if (new Set(secret).size < MIN_DISTINCT_SECRET_CHARACTERS) {
    return `is too repetitive (fewer than ${MIN_DISTINCT_SECRET_CHARACTERS} different characters); ${GENERATE_SECRET}`;
  }
  return undefined;
}

/**
 * `--upstream http://host:5000` (every service), or `s3=http://minio:9000,dynamodb=http://ddb:8000` with an
 * optional bare URL as the default. In moto mode the credentials default to moto's test ones.
 */
function upstreamSettings(
  moto: boolean,
  raw: (k: Key) => string | undefined,
  fail: (k: Key, why: string) => never,
): UpstreamSettings | undefined {
  const text = raw('upstream');
  if (text === undefined) return undefined;
  const services: Record<string, string> = {};
  let fallback: string | undefined;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const named = eq > 0 && /^[a-z0-9-]+$/.test(part.slice(0, eq));
    const url = named ? part.slice(eq + 1) : part;
    requireHttpUrl(url, 'upstream', 'http://127.0.0.1:5000 (or service=URL)', fail);
    if (named) services[part.slice(0, eq)] = url;
    else if (fallback !== undefined) fail('upstream', 'give at most one URL without a service name (the default)');
    else fallback = url;
  }
  const required = 'is required with --upstream (the proxy signs with it upstream)';
  return Object.freeze({
    ...(fallback !== undefined ? { default: fallback } : {}),
    services: Object.freeze(services),
    accessKeyId:
      raw('upstreamAccessKeyId') ?? (moto ? MOTO_CREDENTIALS.accessKeyId : fail('upstreamAccessKeyId', required)),
    secretAccessKey:
      raw('upstreamSecretAccessKey') ??
      (moto ? MOTO_CREDENTIALS.secretAccessKey : fail('upstreamSecretAccessKey', required)),
  });
}

/** Fails the setting unless `text` is an http or https URL. */
function requireHttpUrl(text: string, key: Key, example: string, fail: (k: Key, why: string) => never): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    fail(key, `'${text}' is not a URL like ${example}`);
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') fail(key, `'${text}' must be an http or https URL`);
}

/** An S3-compatible service's Region: AWS's names, and the likes of MinIO's or Ceph's (`default`). */
const REGION_NAME = /^[\w.-]{1,64}$/;

/** `--<name>-endpoint` with its credentials and Region, or undefined when no endpoint is set. */
function serviceEndpoint(
  name: 's3' | 'sns' | 'kms',
  raw: (k: Key) => string | undefined,
  fail: (k: Key, why: string) => never,
): ServiceEndpoint | undefined {
  const key = (suffix: 'Endpoint' | 'AccessKeyId' | 'SecretAccessKey' | 'Region') => `${name}${suffix}` as Key;
  const endpoint = raw(key('Endpoint'));
  if (endpoint === undefined) return undefined;
  requireHttpUrl(endpoint, key('Endpoint'), 'http://127.0.0.1:9000', fail);
  const required = `is required with an ${name.toUpperCase()} endpoint`;
  // Checked here, not left to the SDK's client: that is made on the endpoint's first request, not at start.
  const region = raw(key('Region')) as string;
  if (!REGION_NAME.test(region)) fail(key('Region'), `'${region}' is not a Region name like us-east-1`);
  return Object.freeze({
    endpoint,
    accessKeyId: raw(key('AccessKeyId')) ?? fail(key('AccessKeyId'), required),
    secretAccessKey: raw(key('SecretAccessKey')) ?? fail(key('SecretAccessKey'), required),
    region,
  });
}

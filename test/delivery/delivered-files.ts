import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import type { Credentials } from '../../src/client/json-api-client.ts';
import type { ManualClock } from '../../src/model/clock.ts';
import type { DigestContent } from '../../src/trails/index.ts';
import type { TestWorld } from '../helpers/server.ts';

/**
 * What the delivery tests share: reading what a trail wrote into a local bucket (`<dataDir>/buckets/<bucket>/<key>`),
 * checking that each file is one gzip member, moving the manual clock one delivery at a time, and building
 * the records the ingest API takes.
 */

export type Json = Record<string, unknown>;
export const MINUTE_MS = 60_000;

/** Every key of a local bucket, sorted; none when the bucket does not exist. */
export async function bucketKeys(w: TestWorld, bucket: string): Promise<string[]> {
  const root = join(w.dataDir, 'buckets', bucket);
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

export async function readObject(w: TestWorld, bucket: string, key: string): Promise<Buffer> {
  return readFile(join(w.dataDir, 'buckets', bucket, ...key.split('/')));
}

/**
 * Gunzips a body that must be exactly one gzip member (facts §0.8: the CLI's validator reads only the first):
 * the header, one deflate stream, a trailer whose CRC-32 and size match the content, and no byte after it.
 */
export function gunzipOneMember(body: Uint8Array): Buffer {
  const bytes = Buffer.from(body);
  assert.equal(bytes[0], 0x1f, 'gzip magic');
  assert.equal(bytes[1], 0x8b, 'gzip magic');
  assert.equal(bytes[2], 8, 'deflate');
  const flags = bytes[3] as number;
  let at = 10;
  if (flags & 4) at += 2 + bytes.readUInt16LE(at);
  if (flags & 8) at = bytes.indexOf(0, at) + 1;
  if (flags & 16) at = bytes.indexOf(0, at) + 1;
  if (flags & 2) at += 2;
  const inflated = inflateRawSync(bytes.subarray(at), { info: true }) as unknown as {
    buffer: Buffer;
    engine: { bytesWritten: number };
  };
  const trailer = at + inflated.engine.bytesWritten;
  assert.equal(bytes.readUInt32LE(trailer), crc32(inflated.buffer), 'CRC-32 of the first member');
  assert.equal(bytes.readUInt32LE(trailer + 4), inflated.buffer.length % 2 ** 32, 'size of the first member');
  assert.equal(bytes.length - (trailer + 8), 0, 'no bytes after the first gzip member');
  return inflated.buffer;
}

export interface LogFile {
  key: string;
  /** The uncompressed JSON text. */
  text: string;
  records: Json[];
}

/** The delivered log files of a local bucket (keys with a `/CloudTrail/` folder), by key. */
export async function logFiles(w: TestWorld, bucket: string): Promise<LogFile[]> {
  const files: LogFile[] = [];
  for (const key of await bucketKeys(w, bucket)) {
    if (!key.includes('/CloudTrail/')) continue;
    const text = gunzipOneMember(await readObject(w, bucket, key)).toString('utf8');
    files.push({ key, text, records: (JSON.parse(text) as { Records: Json[] }).Records });
  }
  return files;
}

export interface DigestFile {
  key: string;
  /** The uncompressed bytes: what is hashed and signed. */
  bytes: Buffer;
  content: DigestContent;
}

/** The digest files of a local bucket, oldest first within each Region (their keys end with the end time). */
export async function digestFiles(w: TestWorld, bucket: string): Promise<DigestFile[]> {
  const digests: DigestFile[] = [];
  for (const key of await bucketKeys(w, bucket)) {
    if (!key.includes('/CloudTrail-Digest/')) continue;
    const bytes = gunzipOneMember(await readObject(w, bucket, key));
    digests.push({ key, bytes, content: JSON.parse(bytes.toString('utf8')) as DigestContent });
  }
  return digests;
}

export const eventIds = (files: readonly LogFile[]): string[] =>
  files.flatMap((f) => f.records.map((r) => r['eventID'] as string));

export const eventNames = (files: readonly LogFile[]): string[] =>
  files.flatMap((f) => f.records.map((r) => r['eventName'] as string));

/**
 * Moves the clock `steps` intervals, one at a time, and waits for the runs each one started: every delivery
 * then runs at exactly the interval's time, which names its files.
 */
export async function advance(w: TestWorld, clock: ManualClock, steps = 1, intervalMs = MINUTE_MS): Promise<void> {
  for (let i = 0; i < steps; i++) {
    await clock.advance(intervalMs);
    await w.app.deliveryIdle();
  }
}

/** `YYYY-MM-DDTHH:MM:SSZ`. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A management event as the ingest API takes it. */
export function managementRecord(clock: ManualClock, more: Json = {}): Json {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE0000000001', userName: 'dana' },
    eventTime: isoSeconds(clock.now()),
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.9',
    requestParameters: null,
    responseElements: null,
    readOnly: true,
    eventID: randomUUID(),
    eventType: 'AwsApiCall',
    managementEvent: true,
    eventCategory: 'Management',
    ...more,
  };
}

/** An S3 object-level data event on `arn:aws:s3:::<bucket>/<key>`, named by its resources only. */
export function s3DataRecord(clock: ManualClock, bucket: string, key: string, more: Json = {}): Json {
  return managementRecord(clock, {
    eventSource: 's3.amazonaws.com',
    eventName: 'PutObject',
    readOnly: false,
    managementEvent: false,
    eventCategory: 'Data',
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }],
    ...more,
  });
}

/** Appends records through the ingest API; returns their eventIDs. */
export async function ingest(w: TestWorld, records: Json[], credentials?: Credentials): Promise<string[]> {
  const answer = await w
    .ingestApi(credentials)
    .call<{ Successful: { EventID: string }[]; Failed: unknown[] }>('PutRecords', { Records: records });
  assert.deepEqual(answer.Failed, []);
  return answer.Successful.map((s) => s.EventID);
}

/** Every event LookupEvents returns in the Region (newest first), as its CloudTrailEvent text, by eventID. */
export async function lookupTexts(
  w: TestWorld,
  options: { region?: string; credentials?: Credentials } = {},
): Promise<Map<string, string>> {
  await w.historyCaughtUp();
  const texts = new Map<string, string>();
  for await (const page of paginateLookupEvents({ client: w.cloudtrail(options) }, {})) {
    for (const e of page.Events ?? []) texts.set(e.EventId as string, e.CloudTrailEvent as string);
  }
  return texts;
}

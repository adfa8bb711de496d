/**
 * The embedded object store: bucket `b` is the folder `<dataDir>/buckets/b` and object `k` the file at path `k`
 * inside it, so delivered log files can be read with ordinary tools.
 *
 * Layout under `dataDir`:
 * - `buckets/<bucket>/<key>`: object bodies, nothing else.
 * - `object-meta/<bucket>/<xx>/<sha256(key)>.json`: content type, encoding, user metadata and size. Named by the
 *   key's hash rather than mirroring it, so no key can collide with metadata, hit the name length limit through
 *   a suffix, or leave a second tree of empty folders behind.
 * - `.tmp/`: bodies being written; `bucket-policies/<bucket>.json`: written by an operator, read only here.
 * - `bucket-owners/<bucket>.json`: `{"accountId"}` of the account that owns the bucket. Bucket names are one
 *   namespace across accounts, as on S3: the first account to claim a name owns it, and the claim is a hard link
 *   of a complete temp file, so of two concurrent claims exactly one wins and no reader sees half a file. A
 *   bucket folder without one (made before owners were kept, or by hand) belongs to the next account to claim it.
 *
 * A put writes and fsyncs the body in `.tmp/`, writes the metadata (temp, fsync, rename), then renames the body
 * into place and fsyncs its folder: that rename is the commit point, so a reader sees the old object or the new
 * one, never part of one. A crash between the two renames of an overwrite leaves the old body beside the new
 * metadata; the recorded size catches most such pairs and falls back to no metadata. Operations on one key are
 * serialised in this process so a body and its metadata are read and written as a pair.
 *
 * Trade-off: a file cannot also be a folder, so unlike S3 this store cannot hold both `a` and `a/b`; the second
 * put fails with InvalidObjectKey (MinIO's filesystem mode has the same limit).
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants, type Dirent, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { link, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { errorCode } from '../model/error-code.ts';
import {
  assertBucketName,
  assertKeySize,
  type ListedObject,
  type ListObjectsOptions,
  type ListObjectsResult,
  type ObjectHead,
  type ObjectStore,
  ObjectStoreError,
  type OwnedBucket,
  type PutObjectInput,
  pageSize,
  type StoredObject,
} from './object-store.ts';

/** What an object put through the AWS SDK without a content type gets: the SDK sends this for blob bodies. */
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** NAME_MAX of common filesystems: a longer segment could not be a file name. */
const MAX_SEGMENT_BYTES = 255;
/** Attempts at placing a file whose folder a concurrent delete of a sibling removes meanwhile. */
const PLACE_ATTEMPTS = 5;

interface MetaFile {
  key: string;
  size: number;
  contentType?: string;
  contentEncoding?: string;
  metadata: Record<string, string>;
}

export interface LocalObjectStoreOptions {
  dataDir: string;
}

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local';
  readonly #root: string;
  readonly #locks = new Map<string, Promise<void>>();

  constructor(options: LocalObjectStoreOptions) {
    this.#root = resolve(options.dataDir);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    assertBucketName(bucket);
    return guard(async () => (await lstatOrUndefined(this.#bucketDir(bucket)))?.isDirectory() ?? false);
  }

  async createBucket(bucket: string, owner?: string): Promise<void> {
    assertBucketName(bucket);
    await guard(() => mkdirDurable(this.#bucketDir(bucket)));
    if (owner !== undefined) await guard(() => this.#claim(bucket, owner));
  }

  async bucketOwner(bucket: string): Promise<string | undefined> {
    await this.#requireBucket(bucket);
    return guard(async () => {
      try {
        // Read as ownedBuckets reads it: a file that is no claim names no owner.
        return claimant(await readFile(this.#ownerPath(bucket), 'utf8'));
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      }
    });
  }

  async ownedBuckets(owner: string): Promise<OwnedBucket[]> {
    const dir = join(this.#root, 'bucket-owners');
    return guard(async () => {
      const names = await readdir(dir).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return [];
        throw error;
      });
      const owned: OwnedBucket[] = [];
      for (const file of names.filter((n) => n.endsWith('.json')).sort()) {
        const name = file.slice(0, -'.json'.length);
        const path = join(dir, file);
        // A file put there by hand that is no claim names no owner, rather than failing every listing.
        if (claimant(await readFile(path, 'utf8')) !== owner) continue;
        // A claim outlives a bucket folder removed by hand: only a bucket that is there is listed.
        if (!(await lstatOrUndefined(this.#bucketDir(name)))?.isDirectory()) continue;
        owned.push({ name, createdAt: (await lstat(path)).mtime });
      }
      return owned;
    });
  }

  async putObject(input: PutObjectInput): Promise<void> {
    const { bucket, key } = input;
    const meta: MetaFile = { key, size: input.body.byteLength, metadata: lowerCaseKeys(input.metadata ?? {}) };
    if (input.contentType !== undefined) meta.contentType = input.contentType;
    if (input.contentEncoding !== undefined) meta.contentEncoding = input.contentEncoding;
    await this.#locked(bucket, key, async () => {
      const { path, bucketDir } = await this.#objectPath(bucket, key);
      // The body goes to disk first: a failure there leaves the previous object and its metadata untouched.
      const bodyTmp = await this.#writeTemp(input.body);
      try {
        await assertNoSymlinkAbove(path, bucketDir, key);
        await ensureFolderFor(path, key);
        if ((await lstatOrUndefined(path))?.isDirectory()) throw keyConflict(key);
        const metaTmp = await this.#writeTemp(Buffer.from(JSON.stringify(meta)));
        try {
          await placeFile(metaTmp, this.#metaPath(bucket, key));
        } finally {
          await rm(metaTmp, { force: true });
        }
        await placeFile(bodyTmp, path, key);
      } finally {
        await rm(bodyTmp, { force: true });
      }
    });
  }

  async getObject(bucket: string, key: string): Promise<StoredObject> {
    return this.#locked(bucket, key, async () => {
      const { path, bucketDir } = await this.#objectPath(bucket, key);
      if (!(await assertNoSymlinkAbove(path, bucketDir, key))) throw noSuchKey(key);
      const handle = await openNoFollow(path, key);
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw noSuchKey(key);
        const data = await handle.readFile();
        const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        return { ...toHead(key, stats, await this.#readMeta(bucket, key, stats.size)), body };
      } finally {
        await handle.close();
      }
    });
  }

  async headObject(bucket: string, key: string): Promise<ObjectHead | undefined> {
    return this.#locked(bucket, key, async () => {
      const { path, bucketDir } = await this.#objectPath(bucket, key);
      if (!(await assertNoSymlinkAbove(path, bucketDir, key))) return undefined;
      const stats = await lstatOrUndefined(path);
      if (stats?.isSymbolicLink()) throw symlinkRefused(key);
      if (!stats?.isFile()) return undefined;
      return toHead(key, stats, await this.#readMeta(bucket, key, stats.size));
    });
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.#locked(bucket, key, async () => {
      const { path, bucketDir } = await this.#objectPath(bucket, key);
      if (!(await assertNoSymlinkAbove(path, bucketDir, key))) return;
      const stats = await lstatOrUndefined(path);
      if (stats?.isSymbolicLink()) throw symlinkRefused(key);
      if (stats?.isFile()) {
        await unlink(path);
        await fsyncDir(dirname(path));
      }
      await rm(this.#metaPath(bucket, key), { force: true });
      await removeEmptyFolders(dirname(path), bucketDir);
    });
  }

  async listObjects(bucket: string, options: ListObjectsOptions = {}): Promise<ListObjectsResult> {
    const bucketDir = await this.#requireBucket(bucket);
    return guard(async () => {
      const prefix = options.prefix ?? '';
      // Walk only the folder named by the prefix's part up to its last `/`; the rest filters that folder's names.
      const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      const folderSegments = folder.split('/').slice(0, -1);
      const start = join(bucketDir, ...folderSegments);
      if (!folderSegments.every(isValidSegment) || (await realpathOrUndefined(start)) !== start) {
        return { objects: [], isTruncated: false };
      }
      const limit = pageSize(options.maxKeys);
      const after = options.startAfter === undefined ? undefined : Buffer.from(options.startAfter);
      const objects: ListedObject[] = [];
      for await (const key of walkKeys(start, folder, prefix.slice(folder.length), after)) {
        if (objects.length === limit) {
          const last = objects[objects.length - 1]!;
          return { objects, isTruncated: true, nextStartAfter: last.key };
        }
        const stats = await lstatOrUndefined(join(bucketDir, key));
        if (stats?.isFile()) objects.push({ key, size: stats.size, lastModified: stats.mtime });
      }
      return { objects, isTruncated: false };
    });
  }

  async getBucketPolicy(bucket: string): Promise<string | undefined> {
    await this.#requireBucket(bucket);
    return guard(async () => {
      try {
        return await readFile(join(this.#root, 'bucket-policies', `${bucket}.json`), 'utf8');
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      }
    });
  }

  close(): void {}

  /** Makes `owner` the bucket's owner unless it has one: link() fails with EEXIST when another claim won. */
  async #claim(bucket: string, owner: string): Promise<void> {
    const path = this.#ownerPath(bucket);
    const tmp = await this.#writeTemp(Buffer.from(JSON.stringify({ accountId: owner })));
    try {
      await mkdirDurable(dirname(path));
      await link(tmp, path);
      await fsyncDir(dirname(path));
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  #ownerPath(bucket: string): string {
    return join(this.#root, 'bucket-owners', `${bucket}.json`);
  }

  #bucketDir(bucket: string): string {
    return join(this.#root, 'buckets', bucket);
  }

  #metaPath(bucket: string, key: string): string {
    const hash = createHash('sha256').update(key).digest('hex');
    return join(this.#root, 'object-meta', bucket, hash.slice(0, 2), `${hash}.json`);
  }

  /** The bucket folder's real path; a bucket folder that is a symlink is refused. */
  async #requireBucket(bucket: string): Promise<string> {
    assertBucketName(bucket);
    return guard(async () => {
      const dir = this.#bucketDir(bucket);
      const stats = await lstatOrUndefined(dir);
      if (stats?.isSymbolicLink()) throw new ObjectStoreError('AccessDenied', `Bucket folder is a symlink: ${bucket}`);
      if (!stats?.isDirectory()) throw new ObjectStoreError('NoSuchBucket', `No such bucket: ${bucket}`);
      return realpath(dir);
    });
  }

  /** `bucketDir` is the bucket folder's real path and `path` is built on it. */
  async #objectPath(bucket: string, key: string): Promise<{ path: string; bucketDir: string }> {
    assertObjectKey(key);
    const bucketDir = await this.#requireBucket(bucket);
    const path = join(bucketDir, ...key.split('/'));
    // Defence in depth: assertObjectKey already rules out every way out of the folder.
    if (!path.startsWith(bucketDir + sep)) throw invalidKey(key, 'resolves outside the bucket');
    return { path, bucketDir };
  }

  async #readMeta(bucket: string, key: string, size: number): Promise<Omit<MetaFile, 'key' | 'size'>> {
    let meta: MetaFile | undefined;
    try {
      meta = JSON.parse(await readFile(this.#metaPath(bucket, key), 'utf8')) as MetaFile;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
    }
    // Metadata of another version of the object (see the header) is worse than none.
    if (meta === undefined || meta.key !== key || meta.size !== size) return { metadata: {} };
    return meta;
  }

  async #writeTemp(data: Uint8Array): Promise<string> {
    const dir = join(this.#root, '.tmp');
    await mkdir(dir, { recursive: true });
    const path = join(dir, randomUUID());
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(path, { force: true });
      throw error;
    }
    await handle.close();
    return path;
  }

  /** Serialises operations on one key and maps filesystem failures to ObjectStoreError. */
  #locked<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}/${key}`;
    const run = (this.#locks.get(id) ?? Promise.resolve()).then(() => guard(fn));
    const tail = run.then(
      () => {},
      () => {},
    );
    this.#locks.set(id, tail);
    void tail.then(() => {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    });
    return run;
  }
}

/** Rejects every key that could name something other than a file inside its bucket folder. */
export function assertObjectKey(key: string): void {
  assertKeySize(key);
  if (key.includes('\0') || key.includes('\\')) throw invalidKey(key, 'contains NUL or a backslash');
  if (key.startsWith('/') || key.endsWith('/')) throw invalidKey(key, 'starts or ends with /');
  if (!key.split('/').every(isValidSegment)) throw invalidKey(key, 'has an empty, ".", ".." or over-long segment');
}

function isValidSegment(segment: string): boolean {
  return (
    segment !== '' &&
    segment !== '.' &&
    segment !== '..' &&
    !segment.includes('\0') &&
    !segment.includes('\\') &&
    Buffer.byteLength(segment) <= MAX_SEGMENT_BYTES
  );
}

/**
 * Yields the file keys under `dir` in UTF-8 byte order. A folder's keys all start with `name/`, so they form one
 * contiguous run that sorts where `name/` does: sorting siblings that way makes a depth-first walk come out in
 * S3's order (`a-b` < `a/c` < `a0`). Symlinks and other non-regular entries are never followed or listed.
 */
async function* walkKeys(dir: string, keyPrefix: string, namePrefix: string, after?: Buffer): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return;
    throw error;
  }
  const items = entries
    .filter((e) => (e.isFile() || e.isDirectory()) && e.name.startsWith(namePrefix))
    .map((e) => {
      const isDir = e.isDirectory();
      return { name: e.name, isDir, order: Buffer.from(keyPrefix + e.name + (isDir ? '/' : '')) };
    })
    .sort((a, b) => Buffer.compare(a.order, b.order));
  for (const { name, isDir, order } of items) {
    if (!isDir) {
      if (after === undefined || Buffer.compare(order, after) > 0) yield keyPrefix + name;
    } else if (after === undefined || isAfterOrHolds(order, after)) {
      yield* walkKeys(join(dir, name), `${keyPrefix}${name}/`, '', after);
    }
  }
}

/** Whether some key starting with `prefix` can sort after `after`. */
function isAfterOrHolds(prefix: Buffer, after: Buffer): boolean {
  return Buffer.compare(prefix, after) > 0 || after.subarray(0, prefix.length).equals(prefix);
}

/** Creates the folder for `path`'s parent, fsyncing each new folder's parent so the entries survive a crash. */
async function ensureFolderFor(path: string, key: string): Promise<void> {
  try {
    await mkdirDurable(dirname(path));
  } catch (error) {
    if (errorCode(error) === 'ENOTDIR' || errorCode(error) === 'EEXIST') throw keyConflict(key);
    throw error;
  }
}

async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let created = dir; created.length >= first.length; created = dirname(created)) {
    await fsyncDir(dirname(created));
  }
}

/** Renames a temp file into place and fsyncs the folder; `key` marks a body, whose conflicts are the caller's. */
async function placeFile(tmp: string, target: string, key?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdirDurable(dirname(target));
    try {
      await rename(tmp, target);
      break;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' && attempt < PLACE_ATTEMPTS) continue;
      if (key !== undefined && (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST')) {
        throw keyConflict(key);
      }
      throw error;
    }
  }
  await fsyncDir(dirname(target));
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes folders emptied by a delete, up to (not including) the bucket folder. */
async function removeEmptyFolders(dir: string, bucketDir: string): Promise<void> {
  for (let folder = dir; folder.startsWith(bucketDir + sep); folder = dirname(folder)) {
    try {
      await rmdir(folder);
    } catch {
      return; // Not empty (or gone): everything above is in use too.
    }
  }
}

/**
 * Throws when a symlink sits between the bucket folder and the object: `path` is built on the bucket's real path,
 * so the deepest existing folder above it resolving anywhere else means a link. Checked before creating folders,
 * since mkdir would follow one. Returns whether the object's folder exists.
 */
async function assertNoSymlinkAbove(path: string, bucketDir: string, key: string): Promise<boolean> {
  for (let folder = dirname(path); folder.startsWith(bucketDir); folder = dirname(folder)) {
    const real = await realpathOrUndefined(folder);
    if (real === undefined) continue;
    if (real !== folder) throw symlinkRefused(key);
    return folder === dirname(path);
  }
  return false;
}

async function openNoFollow(path: string, key: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw noSuchKey(key);
    if (code === 'ELOOP') throw symlinkRefused(key);
    throw error;
  }
}

function toHead(key: string, stats: { size: number; mtime: Date }, meta: Omit<MetaFile, 'key' | 'size'>): ObjectHead {
  const head: ObjectHead = {
    key,
    size: stats.size,
    lastModified: stats.mtime,
    contentType: meta.contentType ?? DEFAULT_CONTENT_TYPE,
    metadata: meta.metadata,
  };
  if (meta.contentEncoding !== undefined) head.contentEncoding = meta.contentEncoding;
  return head;
}

function lowerCaseKeys(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The account a claim file names, or undefined when the text is no claim. */
function claimant(text: string): string | undefined {
  try {
    const claim = JSON.parse(text) as { accountId?: unknown } | null;
    return typeof claim?.accountId === 'string' ? claim.accountId : undefined;
  } catch {
    return undefined;
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Maps filesystem failures: permissions to AccessDenied, anything else (full disk, I/O) to StoreUnavailable. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ObjectStoreError) throw error;
    const code = errorCode(error);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ObjectStoreError('AccessDenied', 'The data directory refused access', { cause: error });
    }
    if (code !== undefined)
      throw new ObjectStoreError('StoreUnavailable', `Filesystem error ${code}`, { cause: error });
    throw error;
  }
}

function invalidKey(key: string, reason: string): ObjectStoreError {
  return new ObjectStoreError('InvalidObjectKey', `Object key ${JSON.stringify(key.slice(0, 100))} ${reason}`);
}

function keyConflict(key: string): ObjectStoreError {
  return invalidKey(key, 'conflicts with another key: a local folder cannot hold both `a` and `a/b`');
}

function noSuchKey(key: string): ObjectStoreError {
  return new ObjectStoreError('NoSuchKey', `No such key: ${key}`);
}

function symlinkRefused(what: string): ObjectStoreError {
  return new ObjectStoreError('AccessDenied', `Refusing to follow a symlink inside the bucket: ${what}`);
}

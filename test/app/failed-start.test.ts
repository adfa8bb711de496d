import assert from 'node:assert/strict';
import { mkdir, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { ObjectStore } from '../../src/objectstore/index.ts';
import { Database } from '../../src/store/database.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

/**
 * A start that fails half-way closes what it had opened: the DuckDB file (and its lock), the log's segment
 * file, worker threads. Open files are read from /proc/self/fd: the leak check that runs after every test
 * file sees servers, sockets and timers, not files.
 */
const withDataDir = (fn: (dir: string) => Promise<void>) => withTempDir('failed-start', fn);

/** The files under `dir` this process still has open. */
async function openFilesUnder(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(`${dir}/`)).sort();
}

function start(dir: string, objectStore?: ObjectStore) {
  const config = loadConfig(['--port', '0', '--data-dir', dir, '--log-level', 'silent', '--ingest-workers', '1'], {});
  return createApp(config, { logger: pino({ level: 'silent' }), ...(objectStore ? { objectStore } : {}) });
}

describe('a start that fails half-way', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, () => {
  it('releases the database file when a migration fails', async () => {
    await withDataDir(async (dir) => {
      // A table the first migration creates, already there: the migration fails on it.
      const instance = await DuckDBInstance.create(join(dir, 'opentrail.duckdb'));
      const conn = await instance.connect();
      await conn.run('CREATE TABLE consumer_cursors (x INTEGER)');
      conn.closeSync();
      instance.closeSync();

      await assert.rejects(start(dir), /consumer_cursors/);
      assert.deepEqual(await openFilesUnder(dir), []);
    });
  });

  it('closes the database and the log even when closing something opened after them fails', async () => {
    await withDataDir(async (dir) => {
      // A signing key file that is not one: the start fails after the database, log and object store opened.
      await mkdir(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
      await writeFile(join(dir, 'secrets', 'signing-keys.json'), '{}', { mode: 0o600 });
      let closed = false;
      const objectStore = {
        kind: 'local',
        close: async () => {
          closed = true;
          throw new Error('the object store could not close');
        },
      } as unknown as ObjectStore;

      await assert.rejects(start(dir, objectStore), /is not a signing key file/, 'the start reports its own error');
      assert.equal(closed, true);
      assert.deepEqual(await openFilesUnder(dir), []);
    });
  });

  it('closes the database and log when its last steps fail, and the data directory opens again', async () => {
    await withDataDir(async (dir) => {
      // A delivery state that cannot be read: TrailDelivery fails to start, after the ingest workers did.
      const db = await Database.open(join(dir, 'opentrail.duckdb'), Date.now());
      const conn = await db.connect();
      await conn.raw.run(`INSERT INTO trail_delivery VALUES ('broken', 0, true, '{}', NULL, 'null')`);
      db.close();

      await assert.rejects(start(dir));
      assert.deepEqual(await openFilesUnder(dir), []);
      const again = await Database.open(join(dir, 'opentrail.duckdb'), Date.now());
      again.close();
    });
  });
});

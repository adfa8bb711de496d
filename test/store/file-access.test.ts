import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Database } from '../../src/store/database.ts';

describe('the database’s file access', () => {
  it('lets SQL touch no file outside the directories it is given, and cannot be turned back on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opentrail-file-access-'));
    const profiles = join(dir, 'profiles');
    await mkdir(profiles);
    const db = await Database.open(join(dir, 'db.duckdb'), Date.now(), { fileDirectories: [profiles] });
    try {
      const { raw } = await db.connect();
      for (const sql of [
        "SELECT content FROM read_text('/etc/hostname')",
        `COPY (SELECT 1) TO '${join(dir, 'out.csv')}'`,
        `ATTACH '${join(dir, 'other.duckdb')}' AS other`,
        'SET enable_external_access = true',
      ]) {
        await assert.rejects(raw.run(sql), /Permission Error|disabled by configuration|Cannot enable/, sql);
      }
      // The Lake runners' profiles are written where they are allowed to be.
      await raw.run("PRAGMA enable_profiling = 'json'");
      await raw.run(`SET profiling_output = '${join(profiles, 'p.json')}'`);
      await raw.run('SELECT count(*) FROM range(10)');
      assert.ok(JSON.parse(await readFile(join(profiles, 'p.json'), 'utf8')));
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

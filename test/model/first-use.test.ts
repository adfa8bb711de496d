import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstUse } from '../../src/model/first-use.ts';

test('firstUse makes the value once, tries again after a failed make, and destroys only what it made', async () => {
  let makes = 0;
  const destroyed: string[] = [];
  const lazy = firstUse(
    async () => {
      makes += 1;
      if (makes === 1) throw new Error('the SDK could not load');
      return `client ${makes}`;
    },
    (value) => destroyed.push(value),
  );
  lazy.close();
  assert.equal(makes, 0, 'closing before any use makes nothing');
  await assert.rejects(lazy.get(), /could not load/);
  assert.equal(await lazy.get(), 'client 2');
  assert.equal(await lazy.get(), 'client 2');
  assert.equal(makes, 2);
  lazy.close();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(destroyed, ['client 2']);
});

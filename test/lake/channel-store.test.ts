import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChannelRecord } from '../../src/lake/channel.ts';
import { ChannelStore } from '../../src/lake/channel-store.ts';
import { Database } from '../../src/store/database.ts';

const channel = (id: string) =>
  ({
    id,
    accountId: '111122223333',
    region: 'us-east-1',
    arn: `arn:${id}`,
    name: id,
    destinations: [],
  }) as unknown as ChannelRecord;

describe('channel store: IngestionStatus', () => {
  it('a status save queued behind a channel removal does not write the removed channel back', async () => {
    const db = await Database.open(':memory:', 0);
    try {
      const conn = await db.connect();
      const store = await ChannelStore.load(conn);
      await store.put(channel('kept'));
      await store.put(channel('gone'));
      // The periodic save starts while DeleteChannel's transaction is still queued or running.
      const removal = store.remove('gone');
      const save = store.putStatuses([
        ['gone', { latestAttemptMs: 5 }],
        ['kept', { latestAttemptMs: 6 }],
      ]);
      await Promise.all([removal, save]);
      const rows = await conn.serial(async (raw) =>
        (await raw.runAndReadAll('SELECT channel_id FROM channel_ingestion_status')).getRows(),
      );
      assert.deepEqual(rows, [['kept']]);
      const reloaded = await ChannelStore.load(conn);
      assert.deepEqual([...reloaded.loadedStatuses()], [['kept', { latestAttemptMs: 6 }]]);
    } finally {
      db.close();
    }
  });
});

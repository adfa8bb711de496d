import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { ADMIN_SIGNING_NAME } from '../../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../../src/api/ingest-api.ts';
import { JsonApiClient } from '../../src/client/json-api-client.ts';
import { type ChildServer, FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS, startChildServer } from '../helpers/child-server.ts';

/**
 * Every record lands in exactly one log file even when the server is killed with SIGKILL in the middle of
 * deliveries: a trail delivering every second while clients stream ingests, killed at random 20 times and
 * restarted; at the end the set of eventIDs across all files holds every acknowledged record once, and no
 * record twice.
 */
const TRIALS = 20;
const ARGS = ['--delivery-interval', '1'];

async function deliveredEventIds(bucketDir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of await readdir(bucketDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json.gz') || !entry.parentPath.includes('/CloudTrail/')) continue;
    const file = JSON.parse(gunzipSync(await readFile(join(entry.parentPath, entry.name))).toString()) as {
      Records: { eventID: string }[];
    };
    ids.push(...file.Records.map((r) => r.eventID));
  }
  return ids;
}

async function streamUntilKilled(server: ChildServer): Promise<string[]> {
  const client = new JsonApiClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: FIXED_ADMIN_CREDENTIALS,
    signingName: ADMIN_SIGNING_NAME,
    targetPrefix: INGEST_TARGET_PREFIX,
  });
  const acked: string[] = [];
  let alive = true;
  const worker = async () => {
    while (alive) {
      const ids = Array.from({ length: 20 }, () => randomUUID());
      const records = ids.map((eventID) => ({
        eventVersion: '1.11',
        userIdentity: { type: 'Root', accountId: FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID },
        eventTime: new Date().toISOString().slice(0, 19) + 'Z',
        eventSource: 'kill.example.com',
        eventName: 'Delivered',
        awsRegion: 'us-east-1',
        eventID,
      }));
      try {
        await client.call('PutRecords', { Records: records });
        acked.push(...ids);
      } catch {
        alive = false;
      }
      await sleep(10);
    }
  };
  const workers = [worker(), worker()];
  // Long enough for one or more deliveries (every second) to be under way when the kill lands.
  await sleep(800 + Math.floor(Math.random() * 1500));
  await server.kill();
  alive = false;
  await Promise.all(workers);
  return acked;
}

async function waitForDelivery(server: ChildServer): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const h = (await server.health()) as unknown as {
      log: { writtenSeq: number };
      delivery: { cursorFloor: number };
    };
    if (h.delivery.cursorFloor >= h.log.writtenSeq) return;
    await sleep(100);
  }
  throw new Error('delivery did not catch up');
}

describe('trail delivery under kill -9', () => {
  let dataDir: string | undefined;
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(`delivers every acknowledged record exactly once across ${TRIALS} SIGKILLs during deliveries`, async (t) => {
    dataDir = await mkdtemp(join(tmpdir(), 'opentrail-delivery-kill9-'));
    let server = await startChildServer(dataDir, ARGS);
    const ct = () =>
      new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials: FIXED_ADMIN_CREDENTIALS });
    await ct().send(new CreateTrailCommand({ Name: 'survivor', S3BucketName: 'survivor-logs' }));
    await ct().send(new StartLoggingCommand({ Name: 'survivor' }));
    const acked: string[] = [];
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        acked.push(...(await streamUntilKilled(server)));
        server = await startChildServer(dataDir, ARGS);
      }
      await waitForDelivery(server);
      await sleep(1500); // one more interval: the last range is committed, its files written
      await waitForDelivery(server);
    } finally {
      await server.stop();
    }
    const delivered = await deliveredEventIds(join(dataDir, 'buckets', 'survivor-logs'));
    const counts = new Map<string, number>();
    for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const missing = acked.filter((id) => !counts.has(id));
    assert.deepEqual(duplicated, [], `${duplicated.length} records were delivered more than once`);
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged records were never delivered`);
    t.diagnostic(
      `${acked.length} acknowledged records, ${delivered.length} delivered records, none missing or repeated`,
    );
  });
});

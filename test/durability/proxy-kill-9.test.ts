import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudTrailClient, paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  type ChildServer,
  FIXED_ADMIN_CREDENTIALS,
  startChildServer,
  waitForConsumers,
} from '../helpers/child-server.ts';
import { useMoto } from '../helpers/moto.ts';

/**
 * A proxied call that got its answer has a record that survives kill -9: clients create buckets through the
 * proxy, the server is killed with SIGKILL at a random moment and restarted on the same data directory, and
 * every bucket whose CreateBucket was answered must have its CreateBucket event in history.
 */
const TRIALS = 5;
const CLIENTS = 4;
const moto = useMoto();

async function createUntilKilled(server: ChildServer, trial: number): Promise<string[]> {
  const s3 = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: FIXED_ADMIN_CREDENTIALS,
    maxAttempts: 1,
  });
  const answered: string[] = [];
  let stop = false;
  const client = async (c: number) => {
    for (let i = 0; !stop; i++) {
      const bucket = `t${trial}-c${c}-${i}`;
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        answered.push(bucket);
      } catch {
        return; // The server is gone.
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  await sleep(300 + Math.random() * 700);
  await server.kill();
  stop = true;
  await Promise.all(clients);
  s3.destroy();
  return answered;
}

async function recordedBuckets(server: ChildServer): Promise<Set<string>> {
  await waitForConsumers(server);
  const ct = new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials: FIXED_ADMIN_CREDENTIALS });
  const buckets = new Set<string>();
  const pages = paginateLookupEvents(
    { client: ct, pageSize: 50 },
    { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateBucket' }] },
  );
  for await (const page of pages) {
    for (const e of page.Events ?? []) {
      const record = JSON.parse(e.CloudTrailEvent ?? '{}') as { requestParameters?: { bucketName?: string } };
      if (record.requestParameters?.bucketName) buckets.add(record.requestParameters.bucketName);
    }
  }
  ct.destroy();
  return buckets;
}

describe('proxied calls and kill -9', () => {
  it(`keeps the record of every answered call over ${TRIALS} SIGKILLs`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-proxy-kill-'));
    const args = ['--upstream', moto.endpoint()];
    const env = { OPENTRAIL_UPSTREAM_ACCESS_KEY_ID: 'testing', OPENTRAIL_UPSTREAM_SECRET_ACCESS_KEY: 'testing' };
    const answered: string[] = [];
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        const server = await startChildServer(dataDir, args, env);
        answered.push(...(await createUntilKilled(server, trial)));
      }
      const server = await startChildServer(dataDir, args, env);
      try {
        const recorded = await recordedBuckets(server);
        const missing = answered.filter((b) => !recorded.has(b));
        assert.ok(answered.length > TRIALS * 10, `${answered.length} calls answered`);
        assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered calls have no record`);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

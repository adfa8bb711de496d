import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { ADMIN_SIGNING_NAME } from '../../src/api/admin-api.ts';
import { INGEST_TARGET_PREFIX } from '../../src/api/ingest-api.ts';
import { JsonApiClient } from '../../src/client/json-api-client.ts';
import {
  type ChildServer,
  FIXED_ADMIN_CREDENTIALS,
  startChildServer,
  waitForConsumers,
} from '../helpers/child-server.ts';

/**
 * An acknowledged record survives kill -9: clients stream ingest batches, the server is killed with
 * SIGKILL at a random moment, restarted on the same data directory, and every record whose batch was
 * acknowledged must be found in event history. Repeated over 20 trials; each restart also checks the
 * previous trial.
 */
const TRIALS = 20;
const CLIENTS = 4;
const BATCH = 25;

function record(eventId: string, trial: number): Record<string, unknown> {
  return {
    eventVersion: '1.11',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAKILLTEST',
      arn: 'arn:aws:iam::111122223333:user/k',
      accountId: '111122223333',
      userName: 'k',
    },
    eventTime: new Date().toISOString().slice(0, 19) + 'Z',
    eventSource: 'killtest.example.com',
    eventName: `Trial${trial}`,
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.1',
    requestParameters: { trial },
    responseElements: null,
    eventID: eventId,
    readOnly: false,
    eventType: 'AwsApiCall',
  };
}

/** Streams batches until the server dies; returns the eventIDs of acknowledged batches. */
async function streamUntilKilled(server: ChildServer, trial: number): Promise<string[]> {
  const client = new JsonApiClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: FIXED_ADMIN_CREDENTIALS,
    signingName: ADMIN_SIGNING_NAME,
    targetPrefix: INGEST_TARGET_PREFIX,
  });
  const acked: string[] = [];
  let alive = true;
  let firstAck: () => void = () => undefined;
  const acknowledged = new Promise<void>((resolve) => {
    firstAck = resolve;
  });
  const worker = async () => {
    while (alive) {
      const ids = Array.from({ length: BATCH }, () => randomUUID());
      try {
        const res = await client.call<{ Successful: { EventID: string }[]; Failed: unknown[] }>('PutRecords', {
          Records: ids.map((id) => record(id, trial)),
        });
        assert.equal(res.Failed.length, 0);
        acked.push(...res.Successful.map((s) => s.EventID));
        firstAck();
      } catch {
        alive = false; // the connection died with the server: this batch was never acknowledged
      }
    }
  };
  const workers = Array.from({ length: CLIENTS }, worker);
  // The kill lands at a random point of a stream already flowing: a loaded machine can take longer than the
  // random delay to answer a fresh server's first batch.
  const giveUp = new AbortController();
  await Promise.race([acknowledged, sleep(30_000, undefined, { signal: giveUp.signal }).catch(() => undefined)]);
  giveUp.abort();
  await sleep(Math.floor(Math.random() * 500));
  await server.kill();
  alive = false;
  await Promise.all(workers);
  return acked;
}

async function historyEventIds(server: ChildServer, trial: number): Promise<Set<string>> {
  const ct = new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials: FIXED_ADMIN_CREDENTIALS });
  const found = new Set<string>();
  let NextToken: string | undefined;
  do {
    const page = await ct.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: `Trial${trial}` }],
        MaxResults: 50,
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const e of page.Events ?? []) found.add(e.EventId as string);
    NextToken = page.NextToken;
  } while (NextToken);
  ct.destroy();
  return found;
}

describe('durability under kill -9', () => {
  let dataDir: string | undefined;
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged record across ${TRIALS} SIGKILLs in the middle of ingest streams`, async (t) => {
    dataDir = await mkdtemp(join(tmpdir(), 'opentrail-kill9-'));
    const ackedByTrial: string[][] = [];
    let server = await startChildServer(dataDir);
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        const acked = await streamUntilKilled(server, trial);
        assert.ok(acked.length > 0, `trial ${trial}: some batches were acknowledged before the kill`);
        ackedByTrial.push(acked);
        server = await startChildServer(dataDir);
        await waitForConsumers(server);
        const found = await historyEventIds(server, trial);
        const missing = acked.filter((id) => !found.has(id));
        assert.deepEqual(missing, [], `trial ${trial}: ${missing.length} of ${acked.length} acknowledged records lost`);
      }
      // Nothing acknowledged in an earlier trial went missing later either.
      for (const [trial, acked] of ackedByTrial.entries()) {
        const found = await historyEventIds(server, trial);
        assert.equal(acked.filter((id) => !found.has(id)).length, 0, `trial ${trial} lost records later`);
      }
      const total = ackedByTrial.reduce((n, a) => n + a.length, 0);
      t.diagnostic(`${total} acknowledged records over ${TRIALS} kills, none lost`);
    } finally {
      await server.stop();
    }
  });
});

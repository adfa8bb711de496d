/**
 * PutAuditEvents benchmark (issue 5): 8 concurrent clients send SigV4-signed calls of 100 audit events each
 * (cloudtrail-data's REST-JSON API) to a Custom channel feeding one event data store, against the server
 * started as `npm start` starts it. Figure: acknowledged events/s, the median of per-second counts.
 * Target ≥ 20,000. Afterwards, how long the store took to take in the backlog.
 * Run: npm run bench:put-audit-events [-- --seconds 20]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudTrailClient, CreateChannelCommand, CreateEventDataStoreCommand } from '@aws-sdk/client-cloudtrail';
import {
  FIXED_ADMIN,
  FIXED_ADMIN_CREDENTIALS,
  startChildServer,
  waitForConsumers,
} from '../test/helpers/child-server.ts';
import { SignedPoster } from './lib/signed-post.ts';
import { median, perSecondCounts, report } from './lib/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const SECONDS = Number(values.seconds);
const CLIENTS = 8;
const EVENTS_PER_CALL = 100;

const dataDir = await mkdtemp(join(tmpdir(), 'opentrail-bench-audit-'));
const server = await startChildServer(dataDir);
try {
  const ct = new CloudTrailClient({ endpoint: server.url, region: 'us-east-1', credentials: FIXED_ADMIN_CREDENTIALS });
  const store = await ct.send(
    new CreateEventDataStoreCommand({
      Name: 'audit',
      MultiRegionEnabled: false,
      AdvancedEventSelectors: [
        { Name: 'audit', FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] },
      ],
    }),
  );
  const channel = await ct.send(
    new CreateChannelCommand({
      Name: 'bench',
      Source: 'Custom',
      Destinations: [{ Type: 'EVENT_DATA_STORE', Location: store.EventDataStoreArn as string }],
    }),
  );
  ct.destroy();
  const query = { channelArn: channel.ChannelArn as string };
  const poster = new SignedPoster(server.url, FIXED_ADMIN_CREDENTIALS, 'cloudtrail-data', CLIENTS * 2);
  // Calls of realistic audit events (~600 bytes of eventData each), signed once: a signature holds 15 minutes.
  const calls = await Promise.all(
    Array.from({ length: 32 }, async () => {
      const auditEvents = Array.from({ length: EVENTS_PER_CALL }, (_, i) => ({
        id: `e${i}`,
        eventData: JSON.stringify({
          version: '1.0',
          userIdentity: { type: 'CustomUser', principalId: `user${i % 50}@example.com`, details: { team: 'blue' } },
          userAgent: 'orders-service/2.3.1 (node 20)',
          eventSource: 'orders.example.com',
          eventName: ['CreateOrder', 'GetOrder', 'CancelOrder', 'ListOrders'][i % 4],
          eventTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          UID: randomUUID(),
          requestParameters: { orderId: randomUUID(), customerId: `c-${i}`, items: [{ sku: 'A-1', qty: 2 }] },
          responseElements: { status: 'OK' },
          sourceIPAddress: `198.51.100.${i % 200}`,
          recipientAccountId: FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID,
          additionalEventData: { region: 'eu-west-1' },
        }),
      }));
      const body = JSON.stringify({ auditEvents });
      const path = `/PutAuditEvents?${new URLSearchParams(query)}`;
      return { body, path, headers: await poster.signRest('/PutAuditEvents', query, body) };
    }),
  );
  let acked = 0;
  let errors = 0;
  let running = true;
  const client = async (offset: number) => {
    for (let i = offset; running; i++) {
      const call = calls[i % calls.length] as (typeof calls)[number];
      const res = await poster.post(call.headers, call.body, call.path);
      if (res.status === 200) acked += (JSON.parse(res.body) as { successful: unknown[] }).successful.length;
      else if (++errors === 1) console.log(`first error: ${res.status} ${res.body.slice(0, 300)}`);
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, i) => client(i * 4));
  const perSecond = await perSecondCounts(() => acked, SECONDS);
  running = false;
  await Promise.all(clients);
  poster.close();
  console.log(`per-second acknowledged: ${perSecond.join(' ')}; errors: ${errors}`);
  const t0 = Date.now();
  await waitForConsumers(server, 600_000);
  console.log(
    `the store (and history) took in the backlog ${((Date.now() - t0) / 1000).toFixed(1)} s after the load stopped`,
  );
  const rate = median(perSecond);
  console.log(report('PutAuditEvents, acknowledged events/s (median)', rate, 'events/s', '>= 20,000', rate >= 20_000));
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}

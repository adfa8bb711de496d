import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CloudTrailClient,
  CreateChannelCommand,
  CreateEventDataStoreCommand,
  DescribeQueryCommand,
  GetChannelCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudtrail';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { checkAuditEvent } from '../../src/lake/channel-audit-event.ts';
import { eventDataChecksum } from '../../src/lake/index.ts';
import { NodeSha256 } from '../../src/model/node-sha256.ts';
import { awsCli } from '../helpers/aws-cli.ts';
import { type ChildServer, FIXED_ADMIN, FIXED_ADMIN_CREDENTIALS, startChildServer } from '../helpers/child-server.ts';
import { lakeQueryRows } from '../helpers/lake.ts';
import { rejectsWith, type TestWorld, withServer } from '../helpers/server.ts';
import { withTempDir } from '../helpers/temp-dir.ts';

/**
 * PutAuditEvents (facts §8.6) through the real server. `@aws-sdk/client-cloudtrail-data` is not on the npm
 * registry this project installs from, so the REST-JSON call is signed here with the SDK's own SigV4 signer
 * for `cloudtrail-data`, and the AWS CLI (botocore's cloudtrail-data model) checks what an SDK client sees.
 */
const AUDIT_SELECTORS = [
  { Name: 'integrations', FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] },
];

interface PutAnswer {
  status: number;
  errorType: string | null;
  json: {
    successful?: { id: string; eventID: string }[];
    failed?: { id: string; errorCode: string }[];
    message?: string;
  };
}

async function putAuditEvents(
  w: Pick<TestWorld, 'url'>,
  credentials: Credentials,
  query: Record<string, string>,
  auditEvents: unknown[],
  region = 'us-east-1',
): Promise<PutAnswer> {
  const url = new URL(w.url);
  const body = JSON.stringify({ auditEvents });
  const signer = new SignatureV4({ credentials, region, service: 'cloudtrail-data', sha256: NodeSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/PutAuditEvents',
    query,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const headers = { ...(signed.headers as Record<string, string>) };
  delete headers['host'];
  const response = await fetch(`${w.url}/PutAuditEvents?${new URLSearchParams(query)}`, {
    method: 'POST',
    headers,
    body,
  });
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    json: (await response.json()) as PutAnswer['json'],
  };
}

function eventData(account: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '1.0',
    userIdentity: { type: 'CustomUser', principalId: 'alice@example.com', details: { team: 'blue' } },
    userAgent: 'my-app/1.0',
    eventSource: 'myapp.example.com',
    eventName: 'DeleteRecord',
    eventTime: '2026-03-01T10:00:00Z',
    UID: randomUUID(),
    requestParameters: { recordId: 'r-1' },
    sourceIPAddress: '192.0.2.10',
    recipientAccountId: account,
    ...over,
  };
}

const entry = (id: string, data: Record<string, unknown>) => ({ id, eventData: JSON.stringify(data) });

/** eventData whose `parent.member` is an object nested `depth` levels deep, written as text (no stringify could). */
function deepEventData(data: Record<string, unknown>, parent: string, member: string, depth: number): string {
  const marker = '"__deep__"';
  const text = JSON.stringify({ ...data, [parent]: { ...(data[parent] as object), [member]: '__deep__' } });
  return text.replace(marker, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

async function auditStore(ct: CloudTrailClient, name: string): Promise<{ arn: string; id: string }> {
  const made = await ct.send(
    new CreateEventDataStoreCommand({ Name: name, AdvancedEventSelectors: AUDIT_SELECTORS, MultiRegionEnabled: false }),
  );
  const arn = made.EventDataStoreArn as string;
  return { arn, id: arn.split('/').pop() as string };
}

async function channelTo(ct: CloudTrailClient, name: string, storeArn: string): Promise<string> {
  const made = await ct.send(
    new CreateChannelCommand({
      Name: name,
      Source: 'Custom',
      Destinations: [{ Type: 'EVENT_DATA_STORE', Location: storeArn }],
    }),
  );
  return made.ChannelArn as string;
}

async function accountOf(w: TestWorld): Promise<string> {
  return w.app.admin.accountId;
}

describe('PutAuditEvents', () => {
  it('checks the events on the main thread as on a worker (--ingest-workers 0)', async () => {
    await withServer(
      async (w) => {
        const ct = w.cloudtrail();
        const store = await auditStore(ct, 'inline-target');
        const channel = await channelTo(ct, 'inline-app', store.arn);
        const answer = await putAuditEvents(w, w.adminCredentials, { channelArn: channel }, [
          entry('good', eventData(await accountOf(w))),
          entry('bad', eventData(await accountOf(w), { eventSource: 's3.amazonaws.com' })),
        ]);
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        assert.deepEqual(
          answer.json.successful?.map((s) => s.id),
          ['good'],
        );
        assert.deepEqual(
          answer.json.failed?.map((f) => [f.id, f.errorCode]),
          [['bad', 'InvalidEventSource']],
        );
        await w.app.lakeCaughtUp();
        assert.equal(await w.app.services.eventDataStores.countEvents(store.id), 1);
        const status = await ct.send(new GetChannelCommand({ Channel: channel }));
        assert.equal(status.IngestionStatus?.LatestIngestionAttemptEventID, answer.json.successful?.[0]?.eventID);
      },
      { argv: ['--ingest-workers', '0'] },
    );
  });

  it('stores accepted events as ActivityAuditLog records in the channel destination stores only', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = await accountOf(w);
      const target = await auditStore(ct, 'audit-target');
      const bystander = await auditStore(ct, 'audit-bystander');
      const management = await ct.send(new CreateEventDataStoreCommand({ Name: 'mgmt' }));
      const channel = await channelTo(ct, 'my-app', target.arn);
      await channelTo(ct, 'other-app', bystander.arn);

      const managementId = (management.EventDataStoreArn as string).split('/').pop() as string;
      await w.app.lakeCaughtUp();
      const managementBefore = await w.app.services.eventDataStores.countEvents(managementId);
      const data = eventData(account);
      const text = JSON.stringify(data);
      const answer = await putAuditEvents(w, w.adminCredentials, { channelArn: channel }, [
        { id: 'one', eventData: text, eventDataChecksum: eventDataChecksum(text) },
        entry('two', eventData(account, { eventName: 'CreateRecord' })),
      ]);
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.deepEqual(answer.json.failed, []);
      assert.deepEqual(
        answer.json.successful?.map((s) => s.id),
        ['one', 'two'],
      );
      for (const s of answer.json.successful ?? []) assert.match(s.eventID, /^[a-f0-9-]{36}$/);

      await w.app.lakeCaughtUp();
      const count = (id: string) => w.app.services.eventDataStores.countEvents(id);
      assert.equal(await count(target.id), 2);
      assert.equal(await count(bystander.id), 0, 'a store no channel of these events names takes none');
      assert.equal(await count(managementId), managementBefore, 'a management store takes no integration event');

      const status = await ct.send(new GetChannelCommand({ Channel: channel }));
      assert.equal(status.IngestionStatus?.LatestIngestionSuccessEventID, answer.json.successful?.[1]?.eventID);
      assert.ok(status.IngestionStatus?.LatestIngestionSuccessTime instanceof Date);

      // The stored record wraps the caller's eventData as AWS does (facts §4.5), and a Lake query reads it.
      const { QueryId } = await ct.send(
        new StartQueryCommand({
          QueryStatement: `SELECT eventcategory, eventtype, eventid, recipientaccountid, eventjson FROM ${target.id} ORDER BY eventtime`,
        }),
      );
      for (;;) {
        const d = await ct.send(new DescribeQueryCommand({ QueryId }));
        if (d.QueryStatus === 'FINISHED') break;
        assert.ok(
          d.QueryStatus === 'QUEUED' || d.QueryStatus === 'RUNNING',
          `query ${d.QueryStatus}: ${d.ErrorMessage}`,
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      const rows = (await ct.send(new GetQueryResultsCommand({ QueryId }))).QueryResultRows ?? [];
      assert.equal(rows.length, 2);
      const row = Object.assign({}, ...(rows[0] ?? [])) as Record<string, string>;
      assert.equal(row['eventcategory'], 'ActivityAuditLog');
      assert.equal(row['eventtype'], 'ActivityLog');
      assert.equal(row['recipientaccountid'], account);
      const record = JSON.parse(row['eventjson'] as string) as {
        eventData: unknown;
        eventTime: string;
        metadata: { channelARN: string; ingestionTime: string };
      };
      assert.deepEqual(record.eventData, data);
      assert.equal(record.metadata.channelARN, channel);
      assert.match(record.metadata.ingestionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(record.eventTime, '2026-03-01T10:00:00Z');

      // The Lake User Guide's schema for events from outside AWS: eventdata, metadata, addendum as structs.
      const fields = await lakeQueryRows(
        ct,
        `SELECT eventData.eventName, eventData.userIdentity.principalId,
           element_at(eventData.userIdentity.details, 'team') AS team,
           element_at(eventData.requestParameters, 'recordId') AS recordId, metadata.channelArn, eventData
         FROM ${target.id} WHERE eventData.eventName = 'DeleteRecord'`,
      );
      assert.equal(fields.length, 1);
      const [first] = fields as [Record<string, string | null>];
      assert.equal(first['eventName'], 'DeleteRecord');
      assert.equal(first['principalId'], 'alice@example.com');
      assert.equal(first['team'], 'blue');
      assert.equal(first['recordId'], 'r-1');
      assert.equal(first['channelArn'], channel);
      assert.match(
        String(first['eventData']),
        /^\{version=1\.0, useridentity=\{type=CustomUser, principalid=alice@example\.com/,
      );
      // The CloudTrail columns are not this schema's.
      await rejectsWith(
        ct.send(new StartQueryCommand({ QueryStatement: `SELECT userIdentity.arn FROM ${target.id}` })),
        'InvalidQueryStatementException',
      );
    });
  });

  it('reads an eventTime without a Z as UTC, whatever the server’s time zone', () => {
    const zone = process.env['TZ'];
    process.env['TZ'] = 'America/New_York';
    try {
      const verdict = checkAuditEvent(
        { id: 'e', eventData: JSON.stringify(eventData('111122223333', { eventTime: '2026-03-01T10:00:00' })) },
        '111122223333',
      );
      assert.deepEqual(verdict.ok && verdict.eventTime, '2026-03-01T10:00:00Z');
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });

  it('reports each bad event by id with AWS error codes and keeps the good ones', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = await accountOf(w);
      const store = await auditStore(ct, 'audit');
      const channel = await channelTo(ct, 'my-app', store.arn);
      const { UID: _uid, ...noUid } = eventData(account);
      const answer = await putAuditEvents(w, w.adminCredentials, { channelArn: channel }, [
        entry('good', eventData(account)),
        entry('missing-uid', noUid),
        entry('long-name', eventData(account, { eventName: 'x'.repeat(1025) })),
        { id: 'bad-sum', eventData: JSON.stringify(eventData(account)), eventDataChecksum: 'AAAA' },
        { id: 'not-json', eventData: '{nope' },
        entry('bad-ip', eventData(account, { sourceIPAddress: 'not-an-ip' })),
        entry('bad-time', eventData(account, { eventTime: 'yesterday' })),
        // The schema's eventTime is yyyy-MM-ddTHH:mm:ss in UTC: not a number, nor a time in words.
        entry('number-time', eventData(account, { eventTime: '1' })),
        entry('worded-time', eventData(account, { eventTime: 'March 1, 2026 10:00' })),
        // Nor a day the calendar does not have (Date.UTC would make it March 2).
        entry('february-30', eventData(account, { eventTime: '2026-02-30T10:00:00Z' })),
        entry(
          'text-details',
          eventData(account, { userIdentity: { type: 'CustomUser', principalId: 'a', details: 'x' } }),
        ),
        entry('other-recipient', eventData(account, { recipientAccountId: '999988887777' })),
        entry('aws-source', eventData(account, { eventSource: 's3.amazonaws.com' })),
        entry('big-params', eventData(account, { requestParameters: { blob: 'x'.repeat(101 * 1024) } })),
        // Nested deeper than JSON.stringify's stack reaches (JSON.parse reads it): refused alone, never a 500.
        { id: 'deep-details', eventData: deepEventData(eventData(account), 'userIdentity', 'details', 20_000) },
        { id: 'deep-params', eventData: deepEventData(eventData(account), 'requestParameters', 'deep', 20_000) },
        // Half a surrogate pair is not Unicode text (the store could not keep it); a whole pair is an emoji.
        entry('lone-surrogate', eventData(account, { eventName: 'Bad\ud800' })),
        entry('emoji', eventData(account, { eventName: 'Smile\ud83d\ude00' })),
      ]);
      assert.equal(answer.status, 200);
      assert.deepEqual(
        answer.json.successful?.map((s) => s.id),
        ['good', 'emoji'],
      );
      assert.deepEqual(Object.fromEntries((answer.json.failed ?? []).map((f) => [f.id, f.errorCode])), {
        'missing-uid': 'FieldNotFound',
        'long-name': 'FieldTooLong',
        'bad-sum': 'InvalidChecksum',
        'not-json': 'InvalidData',
        'bad-ip': 'InvalidData',
        'bad-time': 'InvalidData',
        'number-time': 'InvalidData',
        'worded-time': 'InvalidData',
        'february-30': 'InvalidData',
        'text-details': 'InvalidData',
        'other-recipient': 'InvalidRecipient',
        'aws-source': 'InvalidEventSource',
        'big-params': 'FieldTooLong',
        'deep-details': 'InvalidData',
        'deep-params': 'InvalidData',
        'lone-surrogate': 'InvalidData',
      });
      const deep = (answer.json.failed ?? []).find((f) => f.id === 'deep-details') as { errorMessage?: string };
      assert.match(deep.errorMessage ?? '', /nested too deeply/);
      await w.app.lakeCaughtUp();
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), 2);
      const status = await ct.send(new GetChannelCommand({ Channel: channel }));
      assert.equal(status.IngestionStatus?.LatestIngestionErrorCode, 'InvalidData');
    });
  });

  it('fails the whole call by name: bad ARN, unknown channel, duplicate ids, too many events', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = await accountOf(w);
      const store = await auditStore(ct, 'audit');
      const channel = await channelTo(ct, 'my-app', store.arn);
      const put = (query: Record<string, string>, events: unknown[]) =>
        putAuditEvents(w, w.adminCredentials, query, events);
      const one = [entry('a', eventData(account))];

      const bad = await put({ channelArn: 'not-a-channel' }, one);
      assert.equal(bad.status, 400);
      assert.equal(bad.errorType, 'InvalidChannelARN');
      assert.ok(bad.json.message);

      const missing = await put({ channelArn: `arn:aws:cloudtrail:us-east-1:${account}:channel/${randomUUID()}` }, one);
      assert.equal(missing.errorType, 'ChannelNotFound');
      const elsewhere = await putAuditEvents(w, w.adminCredentials, { channelArn: channel }, one, 'eu-west-1');
      assert.equal(elsewhere.errorType, 'ChannelNotFound');

      const dup = await put({ channelArn: channel }, [entry('a', eventData(account)), entry('a', eventData(account))]);
      assert.equal(dup.errorType, 'DuplicatedAuditEventId');

      const many = Array.from({ length: 101 }, (_, i) => entry(`e${i}`, eventData(account)));
      assert.equal((await put({ channelArn: channel }, many)).errorType, 'ValidationException');
      assert.equal((await put({ channelArn: channel }, [])).errorType, 'ValidationException');
      const badId = await put({ channelArn: channel }, [entry('no spaces', eventData(account))]);
      assert.equal(badId.errorType, 'ValidationException');

      // The channel's ID names it too.
      const byId = await put({ channelArn: channel.split('/').pop() as string, externalId: 'ext-1' }, one);
      assert.equal(byId.status, 200, JSON.stringify(byId.json));
      await w.app.lakeCaughtUp();
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), 1);
    });
  });

  it("refuses another account's events with ChannelInsufficientPermission and stores none", async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const store = await auditStore(ct, 'audit');
      const channel = await channelTo(ct, 'my-app', store.arn);
      const other = await w.newAccount();
      const answer = await putAuditEvents(w, other.root, { channelArn: channel }, [
        entry('a', eventData(await accountOf(w))),
        entry('b', eventData(other.accountId)),
      ]);
      assert.equal(answer.status, 400);
      assert.equal(answer.errorType, 'ChannelInsufficientPermission');
      await w.app.lakeCaughtUp();
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), 0);
    });
  });

  it('works through aws cloudtrail-data put-audit-events, errors by name included', async () => {
    await withServer(async (w) => {
      const ct = w.cloudtrail();
      const account = await accountOf(w);
      const store = await auditStore(ct, 'audit');
      const channel = await channelTo(ct, 'my-app', store.arn);
      const cli = (channelArn: string, events: unknown[]) =>
        awsCli(
          [
            'cloudtrail-data',
            'put-audit-events',
            '--channel-arn',
            channelArn,
            '--audit-events',
            JSON.stringify(events),
            '--endpoint-url',
            w.url,
            '--region',
            'us-east-1',
            '--output',
            'json',
          ],
          w.adminCredentials,
        );
      const ok = await cli(channel, [
        entry('cli-1', eventData(account)),
        entry('cli-2', eventData(account, { UID: undefined })),
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      const out = JSON.parse(ok.stdout) as {
        successful: { id: string }[];
        failed: { id: string; errorCode: string }[];
      };
      assert.deepEqual(
        out.successful.map((s) => s.id),
        ['cli-1'],
      );
      assert.deepEqual(
        out.failed.map((f) => [f.id, f.errorCode]),
        [['cli-2', 'FieldNotFound']],
      );

      const missing = await cli(`arn:aws:cloudtrail:us-east-1:${account}:channel/${randomUUID()}`, [
        entry('x', eventData(account)),
      ]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /\(ChannelNotFound\)/);
      const dup = await cli(channel, [entry('x', eventData(account)), entry('x', eventData(account))]);
      assert.match(dup.stderr, /\(DuplicatedAuditEventId\)/);
      const invalid = await cli('arn:aws:s3:::nope', [entry('x', eventData(account))]);
      assert.match(invalid.stderr, /\(InvalidChannelARN\)/);

      await w.app.lakeCaughtUp();
      assert.equal(await w.app.services.eventDataStores.countEvents(store.id), 1);
    });
  });

  it("keeps each channel's IngestionStatus across a restart, and across kill -9 a second after the call", async () => {
    await withTempDir('channel-status', async (dataDir) => {
      const account = FIXED_ADMIN.OPENTRAIL_ACCOUNT_ID;
      /** Runs `fn` against a server started as `npm start` starts it, on the same data directory each time. */
      const onServer = async <T>(
        fn: (server: ChildServer, ct: CloudTrailClient) => Promise<T>,
        stop: 'stop' | 'kill',
      ) => {
        const server = await startChildServer(dataDir);
        const ct = new CloudTrailClient({
          endpoint: server.url,
          region: 'us-east-1',
          credentials: FIXED_ADMIN_CREDENTIALS,
        });
        try {
          return await fn(server, ct);
        } finally {
          ct.destroy();
          await server[stop]();
        }
      };
      const statusOf = async (ct: CloudTrailClient, channel: string) =>
        (await ct.send(new GetChannelCommand({ Channel: channel }))).IngestionStatus;
      const first = await onServer(async (server, ct) => {
        const store = await auditStore(ct, 'audit');
        const channel = await channelTo(ct, 'my-app', store.arn);
        const answer = await putAuditEvents(server, FIXED_ADMIN_CREDENTIALS, { channelArn: channel }, [
          entry('good', eventData(account)),
          entry('bad', eventData(account, { eventTime: 'yesterday' })),
        ]);
        assert.equal(answer.status, 200);
        const status = await statusOf(ct, channel);
        assert.equal(status?.LatestIngestionSuccessEventID, answer.json.successful?.[0]?.eventID);
        assert.equal(status?.LatestIngestionErrorCode, 'InvalidData');
        return { channel, status };
      }, 'stop');
      // Stopped as `npm start` is (SIGTERM): what changed was stored on the way out.
      const later = await onServer(async (server, ct) => {
        assert.deepEqual(await statusOf(ct, first.channel), first.status);
        const answer = await putAuditEvents(server, FIXED_ADMIN_CREDENTIALS, { channelArn: first.channel }, [
          entry('later', eventData(account)),
        ]);
        assert.equal(answer.status, 200);
        await sleep(1500); // written behind the call within a second
        return answer.json.successful?.[0]?.eventID;
      }, 'kill');
      await onServer(async (_server, ct) => {
        const status = await statusOf(ct, first.channel);
        assert.equal(status?.LatestIngestionSuccessEventID, later, 'the call before kill -9 is the latest success');
      }, 'stop');
    });
  });
});

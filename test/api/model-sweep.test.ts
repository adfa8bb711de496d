import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cloudTrailModel } from '../../src/api/cloudtrail-api.ts';
import type { Shape } from '../../src/api/model/service-model.ts';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { startTestServer, type TestWorld } from '../helpers/server.ts';
import { JSON_11, type RawResponse, rawRequest, SDK_PREFIX } from '../helpers/signed-request.ts';

/**
 * Every operation of the CloudTrail model, called with inputs drawn from its own input shape: some as the
 * model allows, some bent (wrong types, lengths and numbers out of range, hostile strings, unknown members),
 * and names and ARNs of resources that exist. Whatever comes, the answer is a 200 or a 4xx AWS JSON error
 * that the operation's model declares (startTestServer's stop() checks the last): never a 500. Sent by
 * another account, the same calls change none of those resources and answer nothing of theirs. The inputs
 * come from a seeded generator, so a failure names the operation and input that caused it.
 */
/** Inputs per operation: a third each as the model allows, mixed, and hostile. */
const INPUTS = 9;

let world: TestWorld;
let stop: () => Promise<void>;
const known: string[] = [];
let storeId = '';
/** Calls that read the admin account's resources back, to see that another account changed nothing. */
let readBack: [operation: string, input: Record<string, unknown>][] = [];

function call(operation: string, body: string, credentials: Credentials = world.adminCredentials) {
  return rawRequest({ url: world.url, credentials, target: `${SDK_PREFIX}.${operation}`, body });
}

async function created(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await call(operation, JSON.stringify(input));
  assert.equal(response.status, 200, `${operation}: ${response.text}`);
  return response.json as Record<string, unknown>;
}

before(async () => {
  ({ world, stop } = await startTestServer());
  const trail = await created('CreateTrail', { Name: 'sweep-trail', S3BucketName: 'sweep-bucket' });
  const store = await created('CreateEventDataStore', {
    Name: 'sweep-store',
    AdvancedEventSelectors: [
      { Name: 'sweep-audit-selector', FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] },
    ],
    MultiRegionEnabled: false,
  });
  const storeArn = String(store['EventDataStoreArn']);
  const channel = await created('CreateChannel', {
    Name: 'sweep-channel',
    Source: 'Custom',
    Destinations: [{ Type: 'EVENT_DATA_STORE', Location: storeArn }],
  });
  storeId = storeArn.split('/').pop() as string;
  const trailArn = String(trail['TrailARN']);
  const channelArn = String(channel['ChannelArn']);
  known.push('sweep-trail', trailArn, storeArn, storeId, channelArn, 'sweep-store');
  readBack = [
    ['GetTrail', { Name: trailArn }],
    ['GetTrailStatus', { Name: trailArn }],
    ['GetEventSelectors', { TrailName: trailArn }],
    ['ListTags', { ResourceIdList: [trailArn, storeArn, channelArn] }],
    ['GetEventDataStore', { EventDataStore: storeArn }],
    ['GetChannel', { Channel: channelArn }],
  ];
});
after(() => stop());

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '../../etc/passwd',
  "x'; DROP TABLE trails; --",
  '%00%2e%2e',
  'é😀',
  '*',
  'arn:aws:cloudtrail:eu-west-1:999999999999:trail/elsewhere',
  'arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/00000000-0000-0000-0000-000000000000',
  'x'.repeat(70_000),
];

function inputs(operation: string, shapeName: string | undefined): unknown[] {
  const random = seededRandom([...operation].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const sql = [
    `SELECT eventName, count(*) FROM ${storeId} GROUP BY eventName`,
    `SELECT * FROM ${storeId} WHERE eventTime > 'not a time'`,
    `SELECT read_text('/etc/passwd') FROM ${storeId}`,
    `SELECT * FROM ${storeId}; DROP TABLE lake_events`,
    `SELECT regexp_like(eventName, '(') FROM ${storeId}`,
    'SELECT 1',
  ];
  // level 0: as the model allows; 1: mixed; 2: hostile.
  const value = (name: string, level: number, depth: number, member: string): unknown => {
    const shape = cloudTrailModel.shapes[name] as Shape;
    if (member === 'QueryStatement' && random() < 0.8) return pick(sql);
    if (level > 0 && random() < 0.1 * level) return pick([null, 7, -1, true, 'x', [], {}, 1e300, 1.5]);
    switch (shape.type) {
      case 'string':
        if (shape.enum && (level === 0 || random() < 0.6)) return pick(shape.enum);
        if (random() < 0.5) return pick(known);
        if (level === 2 || random() < 0.2) return pick(HOSTILE_STRINGS);
        return `sweep${Math.floor(random() * 100)}`.padEnd(shape.min ?? 0, 'x');
      case 'integer':
      case 'long':
        if (level === 0)
          return (shape.min ?? 1) + Math.floor(random() * Math.min(50, (shape.max ?? 50) - (shape.min ?? 1)));
        return pick([0, -1, 2 ** 31, 2 ** 53 + 2, 3.5, (shape.max ?? 100) + 1, (shape.min ?? 0) - 1, '5']);
      case 'boolean':
        return level === 2 ? pick(['true', 1, null]) : random() < 0.5;
      case 'timestamp':
        return level === 0 ? 1_700_000_000 + Math.floor(random() * 10_000_000) : pick([-1, 1e15, 'yesterday', 0]);
      case 'blob':
        return 'AAAA';
      case 'list': {
        if (level === 2 && random() < 0.3) return 'not a list';
        const count =
          depth > 4 ? 0 : level === 0 ? 1 + Math.floor(random() * 2) : pick([0, 1, 3, (shape.max ?? 3) + 1]);
        return Array.from({ length: Math.min(count, 600) }, () =>
          value(shape.member?.shape as string, level, depth + 1, ''),
        );
      }
      case 'map': {
        const out: Record<string, unknown> = {};
        if (random() < 0.7)
          out[String(value(shape.key?.shape as string, level, depth + 1, ''))] = value(
            shape.value?.shape as string,
            level,
            depth + 1,
            '',
          );
        return out;
      }
      case 'structure': {
        const out: Record<string, unknown> = {};
        for (const [m, target] of Object.entries(shape.members ?? {})) {
          const required = shape.required?.includes(m) ?? false;
          if (random() < (required ? (level === 0 ? 1 : 0.9) : 0.5)) out[m] = value(target.shape, level, depth + 1, m);
        }
        if (level > 0 && random() < 0.2) out['NotAMember'] = 1;
        return out;
      }
      default:
        return null;
    }
  };
  return Array.from({ length: INPUTS }, (_, i) => (shapeName === undefined ? {} : value(shapeName, i % 3, 0, '')));
}

/**
 * Every operation's inputs, deletions last (so the resources the others name exist while they run), sent with
 * `credentials`: each answer is a 200 or a 4xx, and `check` sees it with a line naming the call. Returns the
 * number of calls.
 */
async function sweep(credentials: Credentials, check: (response: RawResponse, what: string) => void): Promise<number> {
  const operations = Object.keys(cloudTrailModel.operations).sort(
    (a, b) => Number(a.startsWith('Delete')) - Number(b.startsWith('Delete')) || a.localeCompare(b),
  );
  let answered = 0;
  for (const operation of operations) {
    for (const input of inputs(operation, cloudTrailModel.operations[operation]?.input)) {
      const body = JSON.stringify(input);
      const response = await call(operation, body, credentials);
      const what = `${operation} ${body.slice(0, 300)} → ${response.status} ${response.text.slice(0, 300)}`;
      assert.ok(response.status === 200 || (response.status >= 400 && response.status < 500), what);
      check(response, what);
      answered++;
    }
  }
  return answered;
}

describe('every operation of the model, with inputs drawn from its shape', () => {
  it('answers 200 or a declared 4xx AWS JSON error, never a 500', async () => {
    const answered = await sweep(world.adminCredentials, (response, what) => {
      assert.equal(response.headers.get('content-type'), JSON_11, what);
      if (response.status !== 200) {
        assert.deepEqual(Object.keys(response.json ?? {}).sort(), ['__type', 'message'], what);
      }
    });
    assert.equal(answered, Object.keys(cloudTrailModel.operations).length * INPUTS);
  });

  it("lets another account that names this account's resources change nothing and learn nothing", async () => {
    const readAll = () =>
      Promise.all(readBack.map(async ([op, input]) => (await call(op, JSON.stringify(input))).text));
    const before = await readAll();
    const other = await world.newAccount();
    // What only this account's answers hold: the other account sends ARNs and names of it, never these.
    const secrets = [world.adminCredentials.accessKeyId, 'sweep-bucket', 'sweep-channel', 'sweep-audit-selector'];
    await sweep(other.root, (response, what) => {
      assert.ok(!secrets.some((secret) => response.text.includes(secret)), what);
    });
    assert.deepEqual(await readAll(), before);
  });
});

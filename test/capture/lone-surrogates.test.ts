import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateTrailCommand, LookupEventsCommand, PutEventSelectorsCommand } from '@aws-sdk/client-cloudtrail';
import { stringifiedLoneSurrogate, wellFormedJson } from '../../src/model/lone-surrogate.ts';
import { withMemoryDuckDB } from '../helpers/memory-duckdb.ts';
import { managementRecord } from '../helpers/records.ts';
import { rejectsWith, startTestServer, type TestWorld } from '../helpers/server.ts';
import { rawRequest, SDK_PREFIX } from '../helpers/signed-request.ts';

/**
 * Half of a UTF-16 surrogate pair alone (`"\ud800"` in JSON) parses in JavaScript but is not Unicode text,
 * and DuckDB refuses it: records holding one were acknowledged and then silently left out of history and
 * the Lake. Each way in now refuses it with an error naming the problem, or stores U+FFFD in its place;
 * whole pairs (an emoji written as two escapes, as Python's json writes it) are kept as they are.
 */
const LONE = ['\ud800', 'a\udfffb', '\udbff\udbff', 'x\ud83d'];
const PAIRED = '\ud83d\ude00';

describe('lone surrogates in JSON text', () => {
  it('are found in JSON.stringify text, and only there: pairs and escaped backslashes are kept', async () => {
    await withMemoryDuckDB(async (conn) => {
      for (const value of LONE) {
        const json = JSON.stringify({ [value]: value, n: 1 });
        assert.equal(stringifiedLoneSurrogate(json), true, json);
        const fixed = wellFormedJson(json);
        assert.equal(stringifiedLoneSurrogate(fixed), false, fixed);
        // DuckDB reads the fixed text; it refuses the original.
        await assert.rejects(conn.run('SELECT $1::JSON', [json]), /surrogate/);
        const read = (await conn.runAndReadAll('SELECT ($1::JSON)::VARCHAR', [fixed])).getRows()[0]?.[0];
        assert.deepEqual(JSON.parse(String(read)), JSON.parse(fixed));
      }
      for (const kept of [PAIRED, '\\ud800', '\\\\ud800', 'plain é']) {
        const json = JSON.stringify({ v: kept });
        assert.equal(stringifiedLoneSurrogate(json), false, json);
        assert.equal(wellFormedJson(json), json);
      }
      assert.equal(JSON.parse(wellFormedJson(JSON.stringify('a\ud800b'))), 'a\ufffdb');
    });
  });
});

describe('lone surrogates sent to the service', () => {
  let world: TestWorld;
  let stop: () => Promise<void>;
  before(async () => {
    ({ world, stop } = await startTestServer());
  });
  after(() => stop());

  it('refuses a CloudTrail request holding one with SerializationException, and keeps pairs', async () => {
    const ct = world.cloudtrail();
    await rejectsWith(
      ct.send(new CreateTrailCommand({ Name: 'lone', S3BucketName: 'lone-bucket', S3KeyPrefix: 'a\ud800' })),
      'SerializationException',
      /half of a UTF-16 surrogate pair/,
    );
    const { TrailARN } = await ct.send(new CreateTrailCommand({ Name: 'lone', S3BucketName: 'lone-bucket' }));
    await rejectsWith(
      ct.send(
        new PutEventSelectorsCommand({
          TrailName: 'lone',
          AdvancedEventSelectors: [{ Name: 'x\udfff', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }],
        }),
      ),
      'SerializationException',
    );
    assert.ok(TrailARN);
    // Written as Python's json writes it: the emoji as two escapes.
    const paired = await rawRequest({
      url: world.url,
      credentials: world.adminCredentials,
      target: `${SDK_PREFIX}.PutEventSelectors`,
      body: '{"TrailName":"lone","AdvancedEventSelectors":[{"Name":"smile \\ud83d\\ude00","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]}',
    });
    assert.equal(paired.status, 200, paired.text);
    await world.historyCaughtUp();
    const { Events = [] } = await ct.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'PutEventSelectors' }],
      }),
    );
    // The refused call is on the record too, with its error.
    const records = Events.map((e) => JSON.parse(String(e.CloudTrailEvent)));
    assert.deepEqual(records.map((r) => r.errorCode).sort(), ['SerializationException', undefined]);
    const kept = records.find((r) => r.errorCode === undefined);
    assert.equal(kept.requestParameters.advancedEventSelectors[0].name, 'smile 😀');
  });

  it('refuses an ingested record holding one, alone, and stores the others', async () => {
    const record = (eventName: string) =>
      managementRecord(world.app.admin.accountId, {
        eventName,
        requestParameters: { note: eventName === 'Lone' ? 'bad\ud800' : PAIRED },
      });
    const answer = await world
      .ingestApi()
      .call<{ Successful: { Index: number; EventID: string }[]; Failed: { Index: number; ErrorCode: string }[] }>(
        'PutRecords',
        { Records: [record('Paired'), record('Lone')] },
      );
    assert.deepEqual(
      answer.Failed.map((f) => [f.Index, f.ErrorCode]),
      [[1, 'InvalidRecord']],
    );
    await world.historyCaughtUp();
    const id = answer.Successful[0]?.EventID as string;
    const { Events = [] } = await world
      .cloudtrail()
      .send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: id }] }));
    assert.match(String(Events[0]?.CloudTrailEvent), /"note":"😀"/);
  });
});

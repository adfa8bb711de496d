import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { ManualClock } from '../../src/model/clock.ts';
import { withServer } from '../helpers/server.ts';

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

describe('delivery smoke', () => {
  it('delivers the calls made after StartLogging', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    await withServer(
      async (w) => {
        await w
          .cloudtrail()
          .send(
            new CreateTrailCommand({ Name: 'deliver', S3BucketName: 'deliver-bucket', EnableLogFileValidation: true }),
          );
        await w.cloudtrail().send(new DescribeTrailsCommand({}));
        await w.cloudtrail().send(new StartLoggingCommand({ Name: 'deliver' }));
        await w.cloudtrail().send(new DescribeTrailsCommand({}));
        await clock.advance(60_000);
        await w.app.deliveryIdle();
        await clock.advance(3_600_000);
        await w.app.deliveryIdle();
        const status = await w.cloudtrail().send(new GetTrailStatusCommand({ Name: 'deliver' }));
        console.log(JSON.stringify(status));
        const all = await files(join(w.dataDir, 'buckets', 'deliver-bucket'));
        console.log(all.map((f) => f.slice(w.dataDir.length)).join('\n'));
        const logFile = all.find((f) => f.includes('/CloudTrail/'));
        assert.ok(logFile);
        const records = JSON.parse(gunzipSync(await readFile(logFile)).toString()).Records;
        console.log(records.map((r: { eventName: string }) => r.eventName));
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', '3600'] },
    );
  });

  it('delivers the calls around a logged record that is not JSON', { timeout: 60_000 }, async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    await withServer(
      async (w) => {
        const ct = w.cloudtrail();
        await ct.send(new CreateTrailCommand({ Name: 'around', S3BucketName: 'around-bucket' }));
        await ct.send(new StartLoggingCommand({ Name: 'around' }));
        await ct.send(new DescribeTrailsCommand({}));
        // A bare payload (no routing header) that does not parse: no trail can take it.
        await w.app.services.capture.appendPayloads([Buffer.from('{"eventTime": ')]);
        await ct.send(new GetTrailStatusCommand({ Name: 'around' }));
        await clock.advance(60_000);
        await w.app.deliveryIdle();
        const names: string[] = [];
        for (const f of await files(join(w.dataDir, 'buckets', 'around-bucket'))) {
          if (!f.includes('/CloudTrail/')) continue;
          for (const r of JSON.parse(gunzipSync(await readFile(f)).toString()).Records) names.push(r.eventName);
        }
        assert.ok(names.includes('DescribeTrails') && names.includes('GetTrailStatus'), names.join(', '));
      },
      { clock, argv: ['--delivery-interval', '60', '--digest-interval', '3600'] },
    );
  });
});

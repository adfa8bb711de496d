import { type CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import type { ManualClock } from '../../src/model/clock.ts';
import type { TestWorld } from './server.ts';

const MINUTE_MS = 60_000;

/**
 * Runs trail delivery for `minutes` of the test clock, a minute at a time, each minute's deliveries finished
 * before the next, with a DescribeTrails call (a management event for the trails to deliver) in minutes
 * 1, 1 + callEvery, … made by `client`.
 */
export async function deliverMinutes(
  world: Pick<TestWorld, 'app' | 'cloudtrail'>,
  clock: ManualClock,
  minutes: number,
  callEvery: number,
  client: CloudTrailClient = world.cloudtrail(),
): Promise<void> {
  for (let minute = 1; minute <= minutes; minute++) {
    await clock.advance(MINUTE_MS);
    await world.app.deliveryIdle();
    if (minute % callEvery === 1) await client.send(new DescribeTrailsCommand({}));
  }
}

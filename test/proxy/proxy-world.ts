import {
  CreateTrailCommand,
  LookupEventsCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import type { Credentials } from '../../src/client/json-api-client.ts';
import { ManualClock } from '../../src/model/clock.ts';
import { advance, type Json, logFiles } from '../delivery/delivered-files.ts';
import { MOTO_CREDENTIALS } from '../helpers/moto.ts';
import { type TestWorld, withServer } from '../helpers/server.ts';

/**
 * The recording proxy's tests share this: the real server in front of a real moto_server, on a manual clock
 * that starts now (so SDK signatures are current), and SDK clients of other services pointed at opentrail
 * exactly as a user would point them (`endpoint`), signed with opentrail's own credentials.
 */
export interface ProxyWorld {
  w: TestWorld;
  clock: ManualClock;
  s3(credentials?: Credentials): S3Client;
  /** A client set to `region` (us-east-1 by default), as the SDK signs for its Region. */
  dynamodb(credentials?: Credentials, region?: string): DynamoDBClient;
  iam(credentials?: Credentials, region?: string): IAMClient;
  /** moto directly, to see what reached it. */
  motoS3(): S3Client;
}

export function withProxy(
  motoEndpoint: () => string,
  fn: (p: ProxyWorld) => Promise<void>,
  argv: string[] = [],
): Promise<void> {
  const clock = new ManualClock(Date.now());
  return withServer(
    async (w) => {
      const common = (credentials: Credentials = w.adminCredentials, region = 'us-east-1') => ({
        endpoint: w.url,
        region,
        credentials,
        maxAttempts: 1,
        systemClockOffset: clock.now() - Date.now(),
      });
      await fn({
        w,
        clock,
        s3: (c) => new S3Client({ ...common(c), forcePathStyle: true }),
        dynamodb: (c, region) => new DynamoDBClient(common(c, region)),
        iam: (c, region) => new IAMClient(common(c, region)),
        motoS3: () =>
          new S3Client({
            endpoint: motoEndpoint(),
            region: 'us-east-1',
            forcePathStyle: true,
            credentials: MOTO_CREDENTIALS,
          }),
      });
    },
    {
      clock,
      argv: ['--upstream', motoEndpoint(), '--delivery-interval', '60', ...argv],
      env: { OPENTRAIL_UPSTREAM_ACCESS_KEY_ID: 'testing', OPENTRAIL_UPSTREAM_SECRET_ACCESS_KEY: 'testing' },
    },
  );
}

/** The records event history holds for an event source, oldest first (in us-east-1, or `region`). */
export async function history(w: TestWorld, eventSource: string, region?: string): Promise<Json[]> {
  await w.historyCaughtUp();
  const { Events = [] } = await w.cloudtrail(region === undefined ? {} : { region }).send(
    new LookupEventsCommand({
      LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: eventSource }],
      MaxResults: 50,
    }),
  );
  return Events.map((e) => JSON.parse(e.CloudTrailEvent ?? '{}') as Json).reverse();
}

/** Data resource types a trail can select through advanced selectors, as the proxy records them. */
const DATA_TYPES = ['AWS::S3::Object', 'AWS::DynamoDB::Table', 'AWS::SNS::Topic', 'AWS::SQS::Queue'];

/**
 * A logging trail in a local bucket selecting every data event the proxy records; the function it returns
 * moves the clock past two deliveries and gives what the trail delivered, in order.
 */
export async function dataTrail(p: ProxyWorld, bucket: string): Promise<() => Promise<Json[]>> {
  const ct = p.w.cloudtrail();
  await ct.send(new CreateTrailCommand({ Name: 'data', S3BucketName: bucket }));
  await ct.send(
    new PutEventSelectorsCommand({
      TrailName: 'data',
      AdvancedEventSelectors: DATA_TYPES.map((type) => ({
        Name: type,
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: [type] },
        ],
      })),
    }),
  );
  await ct.send(new StartLoggingCommand({ Name: 'data' }));
  return async () => {
    await advance(p.w, p.clock, 2);
    return (await logFiles(p.w, bucket)).flatMap((f) => f.records);
  };
}

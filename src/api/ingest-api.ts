import { recordViews } from '../capture/check-batch.ts';
import { ServiceError } from '../model/service-error.ts';
import { ADMIN_SIGNING_NAME } from './admin-api.ts';
import type { JsonApi } from './aws-json.ts';

/**
 * The ingest API, for people's own CloudTrail records: `PutRecords` takes `{"Records":[…]}`, the shape of a
 * delivered log file, checks each record, fills what the service owns, appends the good ones as one atomic
 * batch and answers only after they are committed, listing each rejected record with its reason. Its calls
 * are not recorded as management events (AWS treats PutAuditEvents calls as data events of the channel).
 */
export const INGEST_TARGET_PREFIX = 'OpenTrailIngest_20261101';

export const ingestApi: JsonApi = {
  targetPrefixes: [INGEST_TARGET_PREFIX],
  signingNames: [ADMIN_SIGNING_NAME, 'cloudtrail'],
  eventSource: 'ingest.opentrail.local',
  recordCalls: false,
  // The body is parsed by an ingest worker, not by the protocol ladder (see src/capture/ingest-workers.ts).
  rawBody: true,
  operations: {
    PutRecords: {
      readOnly: false,
      handle: async (ctx, input: { Body: Buffer }) => {
        const batch = await ctx.services.ingestCheckers.check(input.Body, ctx.caller.principal.accountId);
        if (batch.kind === 'rejected') throw new ServiceError(batch.error, batch.message);
        await ctx.services.capture.appendPayloads(recordViews(batch));
        return { Successful: batch.successful, Failed: batch.failed };
      },
    },
  },
};

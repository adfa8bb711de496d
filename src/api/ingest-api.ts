import { checkIngestedRecord } from '../capture/ingest-records.ts';
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
/** Up to this many records per call; bigger batches should be split. */
export const MAX_INGEST_RECORDS = 10_000;

export const ingestApi: JsonApi = {
  targetPrefixes: [INGEST_TARGET_PREFIX],
  signingNames: [ADMIN_SIGNING_NAME, 'cloudtrail'],
  eventSource: 'ingest.opentrail.local',
  recordCalls: false,
  operations: {
    PutRecords: {
      readOnly: false,
      handle: async (ctx, input: Record<string, unknown>) => {
        const records = input['Records'];
        if (!Array.isArray(records)) {
          throw new ServiceError(
            'SerializationException',
            'The body must be {"Records":[…]}, the shape of a CloudTrail log file.',
          );
        }
        if (records.length > MAX_INGEST_RECORDS) {
          throw new ServiceError(
            'ValidationException',
            `A call takes at most ${MAX_INGEST_RECORDS} records; you sent ${records.length}. Split the batch.`,
          );
        }
        const accountId = ctx.caller.principal.accountId;
        const newEventId = () => ctx.services.ids.uuid();
        const accepted: string[] = [];
        const successful: { Index: number; EventID: string }[] = [];
        const failed: { Index: number; ErrorCode: string; ErrorMessage: string }[] = [];
        records.forEach((raw, index) => {
          const verdict = checkIngestedRecord(raw, { accountId, newEventId });
          if (verdict.ok) {
            accepted.push(verdict.json);
            successful.push({ Index: index, EventID: verdict.record.eventID });
          } else {
            failed.push({ Index: index, ErrorCode: verdict.errorCode, ErrorMessage: verdict.errorMessage });
          }
        });
        await ctx.services.capture.appendSerialized(accepted);
        return { Successful: successful, Failed: failed };
      },
    },
  },
};

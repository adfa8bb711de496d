import { isUtf8 } from 'node:buffer';
import { MAX_INGEST_RECORDS, NOT_UTF8_MESSAGE } from '../capture/check-batch.ts';
import { payloadViews } from '../log/record-payload.ts';
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

interface ImportRecordsBody {
  EventDataStore: string;
  Records: unknown[];
}

/** Bodies already read: the handler and the call's record (importRecordsSummary) read one body once. */
const importBodies = new WeakMap<Buffer, ImportRecordsBody>();

/** ImportRecords' body: `{"EventDataStore": ARN or id, "Records": [1..MAX_INGEST_RECORDS records]}`. */
function importRecordsInput(body: Buffer): ImportRecordsBody {
  const known = importBodies.get(body);
  if (known !== undefined) return known;
  if (!isUtf8(body)) {
    throw new ServiceError('SerializationException', NOT_UTF8_MESSAGE);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ServiceError('SerializationException', `The request body is not JSON: ${(error as Error).message}`);
  }
  const input = (parsed ?? {}) as { EventDataStore?: unknown; Records?: unknown };
  if (typeof input.EventDataStore !== 'string') {
    throw new ServiceError(
      'InvalidParameterException',
      'ImportRecords needs EventDataStore, the ARN or id of a store.',
    );
  }
  if (!Array.isArray(input.Records) || input.Records.length === 0 || input.Records.length > MAX_INGEST_RECORDS) {
    throw new ServiceError(
      'InvalidParameterException',
      `ImportRecords needs Records, a list of 1 to ${MAX_INGEST_RECORDS} CloudTrail records.`,
    );
  }
  const checked = { EventDataStore: input.EventDataStore, Records: input.Records };
  importBodies.set(body, checked);
  return checked;
}

/** What an ImportRecords call's record says of it: the store and how many records, never the records. */
function importRecordsSummary(body: Buffer): Record<string, unknown> {
  try {
    const { EventDataStore, Records } = importRecordsInput(body);
    return { eventDataStore: EventDataStore, records: Records.length };
  } catch {
    return { eventDataStore: null, records: null };
  }
}

export const ingestApi: JsonApi = {
  targetPrefixes: [INGEST_TARGET_PREFIX],
  signingNames: [ADMIN_SIGNING_NAME, 'cloudtrail'],
  eventSource: 'ingest.opentrail.local',
  recordCalls: false,
  // ImportRecords' record names counts, not each rejected record.
  redactForRecord: (operation, output) =>
    operation === 'ImportRecords'
      ? {
          imported: output['Imported'],
          duplicates: output['Duplicates'],
          failed: (output['Failed'] as unknown[]).length,
        }
      : output,
  // The body is parsed by an ingest worker, not by the protocol ladder (see src/capture/ingest-workers.ts).
  rawBody: true,
  operations: {
    PutRecords: {
      readOnly: false,
      handle: async (ctx, input: { Body: Buffer }) => {
        const batch = await ctx.services.ingestCheckers.check(input.Body, ctx.caller.principal.accountId);
        if (batch.kind === 'rejected') throw new ServiceError(batch.error, batch.message);
        await ctx.services.capture.appendPayloads(payloadViews(batch));
        return { Successful: batch.successful, Failed: batch.failed };
      },
    },
    // `opentrail import`: records from files on the caller's machine into one of its event data stores. Unlike
    // PutRecords it is recorded, as StartImport is: who put which events into a store must be on the record.
    ImportRecords: {
      readOnly: false,
      recordedAs: (input) => importRecordsSummary(input['Body'] as Buffer),
      handle: async (ctx, input: { Body: Buffer }) => {
        const { EventDataStore: store, Records: records } = importRecordsInput(input.Body);
        const result = await ctx.services.lakeImports.importRecords(ctx.caller, store, records);
        return {
          Imported: result.imported,
          Duplicates: result.duplicates,
          Failed: result.failed.map((f) => ({ Index: f.index, ErrorCode: 'InvalidRecord', ErrorMessage: f.reason })),
        };
      },
    },
  },
};

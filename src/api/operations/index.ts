import type { OperationTable } from '../operation.ts';
import { channelOperations } from './channel-operations.ts';
import { dashboardOperations } from './dashboard-operations.ts';
import { eventDataStoreOperations } from './event-data-store-operations.ts';
import { importOperations } from './import-operations.ts';
import { integrityOperations } from './integrity-operations.ts';
import { lookupOperations } from './lookup-operations.ts';
import { queryOperations } from './query-operations.ts';
import { selectorOperations } from './selector-operations.ts';
import { tagOperations } from './tag-operations.ts';
import { trailOperations } from './trail-operations.ts';

/** Every CloudTrail operation opentrail implements; the model's others answer UnsupportedOperationException. */
export const cloudTrailOperations: OperationTable = {
  ...trailOperations,
  ...selectorOperations,
  ...tagOperations,
  ...lookupOperations,
  ...integrityOperations,
  ...eventDataStoreOperations,
  ...queryOperations,
  ...channelOperations,
  ...importOperations,
  ...dashboardOperations,
};

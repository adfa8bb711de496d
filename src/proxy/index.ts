import type { OperationTable } from './operation-table.ts';
import table from './operations.generated.json' with { type: 'json' };

export { identifyOperation } from './identify-operation.ts';
export { MOTO_CREDENTIALS } from './moto-credentials.ts';
export { MOTO_ACCOUNT_ID, MOTO_TEST_KEYS, MotoApi, provisionMotoIdentity } from './moto-mode.ts';
export { type MotoServer, startMotoServer } from './moto-server.ts';
export type { OperationTable, ProxiedOperation, ProxiedService } from './operation-table.ts';
export { RecordingProxy } from './recording-proxy.ts';
export { type UpstreamSettings, Upstreams } from './upstream.ts';

/** The operation table generated from botocore's models (scripts/proxy-operations.ts). */
export function loadOperationTable(): OperationTable {
  return table as unknown as OperationTable;
}

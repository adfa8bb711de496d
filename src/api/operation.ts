import type { Caller } from '../identity/index.ts';
import type { RecordResource } from '../model/record.ts';
import type { Services } from './services.ts';

/** What an operation handler gets: the verified caller, the request id, and the domain services. */
export interface OperationContext {
  caller: Caller;
  requestId: string;
  services: Services;
}

/**
 * One operation of an AWS JSON API. `readOnly` feeds the self-recorded event (facts §4.1); `resources`
 * names what the call touched, for the event's `resources` (and LookupEvents' ResourceName/ResourceType).
 */
export interface OperationDef {
  readOnly: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: each handler declares its own input shape; the model has validated it.
  handle(ctx: OperationContext, input: any): Promise<Record<string, unknown>> | Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  resources?(ctx: OperationContext, input: any, output: Record<string, unknown> | undefined): RecordResource[];
}

export type OperationTable = Record<string, OperationDef>;

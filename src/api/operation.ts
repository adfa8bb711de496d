import type { Caller } from '../identity/index.ts';
import type { Services } from './services.ts';

/** What an operation handler gets: the verified caller, the request id, and the domain services. */
export interface OperationContext {
  caller: Caller;
  requestId: string;
  services: Services;
}

/** One operation of an AWS JSON API. `readOnly` feeds the self-recorded event (facts §4.1). */
export interface OperationDef {
  readOnly: boolean;
  /**
   * For an API whose calls are not recorded (`recordCalls: false`), an operation that still must be: what its
   * record's requestParameters hold (a raw body is not copied into a record).
   */
  recordedAs?: (input: Record<string, unknown>) => Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: each handler declares its own input shape; the model has validated it.
  handle(ctx: OperationContext, input: any): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export type OperationTable = Record<string, OperationDef>;

import { DAY_MS } from '../model/clock.ts';
import { ServiceError } from '../model/service-error.ts';
import type { BillingMode } from './event-data-store.ts';

/** Input rules of the event data store operations (facts §8.1, §1.5, Appendix A.5). */

export const MAX_STORES_PER_REGION = 10;
/** How long a deleted store stays restorable before it is gone (facts §8.1). */
export const PENDING_DELETION_MS = 7 * DAY_MS;

/** The oldest event time a store of this retention keeps at `nowMs`: older events are dropped, and not imported. */
export function retainedSinceMs(retentionPeriodDays: number, nowMs: number): number {
  return nowMs - retentionPeriodDays * DAY_MS;
}

export const RETENTION: Record<BillingMode, { min: number; max: number; default: number }> = {
  EXTENDABLE_RETENTION_PRICING: { min: 7, max: 3653, default: 366 },
  FIXED_RETENTION_PRICING: { min: 7, max: 2557, default: 2557 },
};

const NAME = /^[a-zA-Z0-9._-]{3,128}$/;
const ID = /^[a-f0-9-]{36}$/;
const ARN = /^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):eventdatastore\/([a-f0-9-]{36})$/;

export function eventDataStoreArn(region: string, accountId: string, id: string): string {
  return `arn:aws:cloudtrail:${region}:${accountId}:eventdatastore/${id}`;
}

export function validateStoreName(name: string): void {
  if (!NAME.test(name)) {
    throw new ServiceError(
      'InvalidParameterException',
      `Event data store name ${name} is not valid: use 3 to 128 letters, numbers, periods, underscores and dashes.`,
    );
  }
}

export function validateRetention(days: number, mode: BillingMode): void {
  const { min, max } = RETENTION[mode];
  if (!Number.isInteger(days) || days < min || days > max) {
    throw new ServiceError(
      'InvalidParameterException',
      `RetentionPeriod ${days} is not valid for ${mode}: specify ${min} to ${max} days.`,
    );
  }
}

/** An event data store named by ARN or by the UUID at its end. */
export type StoreRef = { kind: 'id'; id: string } | { kind: 'arn'; id: string; region: string; accountId: string };

export function parseStoreRef(value: string): StoreRef {
  if (value.startsWith('arn:')) {
    const m = ARN.exec(value);
    if (m === null) {
      throw new ServiceError(
        'EventDataStoreARNInvalidException',
        `${value} is not an event data store ARN, like arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE.`,
      );
    }
    return { kind: 'arn', region: m[1] as string, accountId: m[2] as string, id: m[3] as string };
  }
  if (!ID.test(value)) {
    throw new ServiceError(
      'EventDataStoreARNInvalidException',
      `${value} is neither an event data store ARN nor its 36-character ID.`,
    );
  }
  return { kind: 'id', id: value };
}

/**
 * The ARN a store reference names, whether or not the store exists: an ARN as it is, an ID as the caller's
 * store in the caller's Region. For filters (ListImports' Destination), where a store that is gone or never was
 * simply matches nothing.
 */
export function storeRefArn(value: string, caller: { accountId: string; region: string }): string {
  const ref = parseStoreRef(value);
  return ref.kind === 'arn'
    ? eventDataStoreArn(ref.region, ref.accountId, ref.id)
    : eventDataStoreArn(caller.region, caller.accountId, ref.id);
}

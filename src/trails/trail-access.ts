import type { Caller, IdentityStore } from '../identity/index.ts';
import { ServiceError } from '../model/service-error.ts';
import type { TrailRecord } from './trail.ts';
import { parseTrailNameOrArn, trailArn } from './trail-rules.ts';
import type { TrailStore } from './trail-store.ts';

/**
 * Which trails a caller sees, and from where (facts §3.4): its own trails; multi-Region trails in every
 * Region (as shadow trails outside their home Region); and organization trails from every member account.
 * A name finds only the caller's trail homed in the request's Region; other trails must be named by ARN.
 */
export class TrailAccess {
  readonly #store: TrailStore;
  readonly #identity: IdentityStore;

  constructor(store: TrailStore, identity: IdentityStore) {
    this.#store = store;
    this.#identity = identity;
  }

  /** Whether the caller's account may see the trail at all. */
  visible(caller: Caller, trail: TrailRecord): boolean {
    if (trail.accountId === caller.principal.accountId) return true;
    if (!trail.isOrganizationTrail || trail.organizationId === undefined) return false;
    return this.#identity.account(caller.principal.accountId)?.organizationId === trail.organizationId;
  }

  /** Whether the trail applies in `region` (home Region, or any Region for a multi-Region trail). */
  static appliesIn(trail: TrailRecord, region: string): boolean {
    return trail.homeRegion === region || trail.isMultiRegionTrail;
  }

  /** Trails the caller sees in its Region; shadow trails are those homed elsewhere or owned by another account. */
  inRegion(caller: Caller, includeShadowTrails: boolean): TrailRecord[] {
    return this.#store
      .all()
      .filter((t) => this.visible(caller, t) && TrailAccess.appliesIn(t, caller.region))
      .filter((t) => includeShadowTrails || !isShadow(caller, t))
      .sort(trailOrder);
  }

  /** Every trail the caller's account sees, in all Regions, once each. */
  all(caller: Caller): TrailRecord[] {
    return this.#store
      .all()
      .filter((t) => this.visible(caller, t))
      .sort(trailOrder);
  }

  /** Resolves a trail name or ARN for reading; unknown or invisible trails are TrailNotFoundException. */
  resolve(caller: Caller, nameOrArn: string): TrailRecord {
    const { arn, trail } = this.#lookUp(caller, nameOrArn);
    if (trail === undefined) {
      // AWS names the trail by its full ARN here, even when it was asked for by name.
      throw new ServiceError(
        'TrailNotFoundException',
        `Unknown trail: ${arn} for the user: ${caller.principal.accountId}`,
      );
    }
    return trail;
  }

  /** The trail the caller may see by that name or ARN, or undefined; a malformed name or ARN throws. */
  find(caller: Caller, nameOrArn: string): TrailRecord | undefined {
    return this.#lookUp(caller, nameOrArn).trail;
  }

  #lookUp(caller: Caller, nameOrArn: string): { arn: string; trail: TrailRecord | undefined } {
    const ref = parseTrailNameOrArn(nameOrArn);
    const arn =
      ref.kind === 'arn'
        ? trailArn(ref.region, ref.accountId, ref.name, ref.partition)
        : trailArn(caller.region, caller.principal.accountId, ref.name);
    const trail = this.#store.get(arn);
    return { arn, trail: trail !== undefined && this.visible(caller, trail) ? trail : undefined };
  }

  /**
   * Resolves a trail for a change: only its owner may change it (an organization's member accounts see
   * its organization trails but cannot change them), and only from its home Region.
   */
  resolveForChange(caller: Caller, nameOrArn: string): TrailRecord {
    const trail = this.resolve(caller, nameOrArn);
    if (trail.accountId !== caller.principal.accountId) {
      throw new ServiceError(
        'NotOrganizationMasterAccountException',
        `Trail ${trail.arn} is an organization trail; only its organization's management account ${trail.accountId} can change it.`,
      );
    }
    if (trail.homeRegion !== caller.region) {
      throw new ServiceError(
        'InvalidHomeRegionException',
        `Trail ${trail.name} can only be changed from its home Region, ${trail.homeRegion}; this request was made in ${caller.region}.`,
      );
    }
    return trail;
  }
}

export function isShadow(caller: Caller, trail: TrailRecord): boolean {
  return trail.homeRegion !== caller.region || trail.accountId !== caller.principal.accountId;
}

/** The order trails are listed in: by name, then ARN. */
export function trailOrder(a: { name: string; arn: string }, b: { name: string; arn: string }): number {
  return a.name.localeCompare(b.name) || a.arn.localeCompare(b.arn);
}

import type { IdentityStore } from '../../identity/index.ts';
import { REGIONS } from '../../model/regions.ts';
import type { TrailRecord } from '../trail.ts';

/**
 * Which accounts and Regions a trail covers: its own account, or every member account of its organization
 * (organization trails); its home Region, or every Region (multi-Region trails).
 */
export function trailAccounts(trail: TrailRecord, identity: IdentityStore): string[] {
  if (!trail.isOrganizationTrail || trail.organizationId === undefined) return [trail.accountId];
  const members = identity.membersOf(trail.organizationId).map((a) => a.accountId);
  return members.includes(trail.accountId) ? members : [trail.accountId, ...members];
}

export function trailRegions(trail: TrailRecord): readonly string[] {
  return trail.isMultiRegionTrail ? REGIONS : [trail.homeRegion];
}

/** Services whose events are global: recorded in us-east-1, and left out when IncludeGlobalServiceEvents is off. */
const GLOBAL_SOURCES = new Set([
  'iam.amazonaws.com',
  'sts.amazonaws.com',
  'cloudfront.amazonaws.com',
  'signin.amazonaws.com',
]);

export function isGlobalServiceEvent(eventSource: unknown): boolean {
  return typeof eventSource === 'string' && GLOBAL_SOURCES.has(eventSource);
}

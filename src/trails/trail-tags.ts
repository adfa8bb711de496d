import type { Caller } from '../identity/index.ts';
import { ServiceError } from '../model/service-error.ts';
import { removeTags, retaggedTags, type Tag, validateTagKey } from './trail-rules.ts';
import type { TrailService } from './trail-service.ts';

/**
 * AddTags / RemoveTags / ListTags (facts A.11) on trails, named by ARN. Event data stores, channels and
 * dashboards are tagged by their own services (src/lake/), by the same rule (retaggedTags).
 */
export const MAX_LIST_TAGS_RESOURCES = 20;

export async function addTags(trails: TrailService, caller: Caller, resourceId: string, tags: Tag[]): Promise<void> {
  requireTrailArn(caller, resourceId);
  await notFoundAsResource(() => trails.retag(caller, resourceId, (existing) => retaggedTags(existing, tags, 'add')));
}

export async function removeTagsFrom(
  trails: TrailService,
  caller: Caller,
  resourceId: string,
  tags: Tag[],
): Promise<void> {
  requireTrailArn(caller, resourceId);
  for (const t of tags) validateTagKey(t.Key);
  await notFoundAsResource(() => trails.retag(caller, resourceId, (existing) => removeTags(existing, tags)));
}

export function listTags(
  trails: TrailService,
  caller: Caller,
  resourceIds: string[],
): { ResourceId: string; TagsList: Tag[] }[] {
  if (resourceIds.length > MAX_LIST_TAGS_RESOURCES) {
    throw new ServiceError(
      'ValidationException',
      `ListTags takes at most ${MAX_LIST_TAGS_RESOURCES} resource ARNs in one call; you sent ${resourceIds.length}.`,
    );
  }
  return resourceIds.map((id) => {
    // ListTags declares no ChannelNotFoundException: an unknown channel is a resource not found.
    notFoundAsResource(() => requireTrailArn(caller, id));
    return { ResourceId: id, TagsList: notFoundAsResource(() => trails.access.resolve(caller, id)).tags };
  });
}

/**
 * Tagging takes full ARNs; a trail name, or an ARN of a type that has no tags, is refused by name. A trail's
 * tags are reached from its home Region and account only (AddTags' documentation; AWS refuses a multi-Region
 * or organization trail's ARN from the other Regions and accounts whose DescribeTrails lists it, with these
 * messages: aws/aws-sdk-java#1309, prowler-cloud/prowler#2025).
 */
function requireTrailArn(caller: Caller, resourceId: string): void {
  const m = /^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):([a-z]+)\/.+$/.exec(resourceId);
  const otherService = /^arn:aws[a-z-]*:([a-z0-9-]+):[^:]*:[^:]*:.+$/.exec(resourceId)?.[1];
  if (m === null && otherService !== undefined && otherService !== 'cloudtrail') {
    // A well-formed ARN of another service names a resource type CloudTrail does not tag.
    throw new ServiceError(
      'ResourceTypeNotSupportedException',
      `${resourceId} is a ${otherService} resource; CloudTrail tags only its own trails, event data stores, dashboards and channels.`,
    );
  }
  if (m === null) {
    throw new ServiceError(
      'CloudTrailARNInvalidException',
      `${resourceId} is not a CloudTrail resource ARN; pass the trail ARN, like arn:aws:cloudtrail:us-east-1:123456789012:trail/MyTrail.`,
    );
  }
  const [, region, account, type] = m;
  if (type === 'trail' && account !== caller.principal.accountId) {
    // An organization trail shows in its member accounts' DescribeTrails; its tags are the management account's.
    throw new ServiceError(
      'CloudTrailARNInvalidException',
      `AccountID in ARN is wrong, you can only access resources with AccountID ${caller.principal.accountId}.`,
    );
  }
  if (type === 'trail' && region !== caller.region) {
    throw new ServiceError(
      'CloudTrailARNInvalidException',
      `Region in ARN is wrong, you can only access resources in region ${caller.region}.`,
    );
  }
  if (type === 'eventdatastore') {
    throw new ServiceError('EventDataStoreNotFoundException', `The event data store ${resourceId} does not exist.`);
  }
  if (type === 'channel') {
    throw new ServiceError('ChannelNotFoundException', `The channel ${resourceId} does not exist.`);
  }
  if (type !== 'trail') {
    throw new ServiceError('ResourceTypeNotSupportedException', `Resources of type ${type} cannot be tagged.`);
  }
}

/** Unknown trails (and, for ListTags, channels) are ResourceNotFoundException, the not-found error all three declare. */
function notFoundAsResource<T>(fn: () => T): T {
  const translate = (error: unknown): never => {
    if (error instanceof ServiceError && error.name === 'ChannelNotFoundException') {
      throw new ServiceError('ResourceNotFoundException', error.message);
    }
    if (error instanceof ServiceError && error.name === 'TrailNotFoundException') {
      throw new ServiceError('ResourceNotFoundException', error.message.replace('Unknown trail', 'Resource not found'));
    }
    throw error;
  };
  try {
    const result = fn();
    return (result instanceof Promise ? result.catch(translate) : result) as T;
  } catch (error) {
    return translate(error);
  }
}

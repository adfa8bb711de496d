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
  requireTrailArn(resourceId);
  await notFoundAsResource(() => trails.retag(caller, resourceId, (existing) => retaggedTags(existing, tags, 'add')));
}

export async function removeTagsFrom(
  trails: TrailService,
  caller: Caller,
  resourceId: string,
  tags: Tag[],
): Promise<void> {
  requireTrailArn(resourceId);
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
    notFoundAsResource(() => requireTrailArn(id));
    return { ResourceId: id, TagsList: notFoundAsResource(() => trails.access.resolve(caller, id)).tags };
  });
}

/** Tagging takes full ARNs; a trail name, or an ARN of a type that has no tags, is refused by name. */
function requireTrailArn(resourceId: string): void {
  const m = /^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:([a-z]+)\/.+$/.exec(resourceId);
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
  const type = m[1];
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

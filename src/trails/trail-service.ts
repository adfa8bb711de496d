import type { Caller, IdentityStore } from '../identity/index.ts';
import type { Clock } from '../model/clock.ts';
import { SerialQueue } from '../model/serial-queue.ts';
import { type ErrorName, ServiceError } from '../model/service-error.ts';
import type { ObjectStore } from '../objectstore/index.ts';
import { defaultEventSelectors } from './event-selectors.ts';
import type { KmsKeys } from './kms-keys.ts';
import type { SnsTopics } from './sns-topics.ts';
import type { TrailRecord } from './trail.ts';
import { TrailAccess } from './trail-access.ts';
import { prepareTrailBucket } from './trail-bucket.ts';
import {
  normaliseKmsKeyId,
  normaliseSnsTopic,
  type Tag,
  trailArn,
  validateBucketName,
  validateCloudWatchLogs,
  validateS3KeyPrefix,
  validateTags,
  validateTrailName,
} from './trail-rules.ts';
import type { TrailStore } from './trail-store.ts';

/** CreateTrail's request members (facts A.1); UpdateTrail takes the same, all optional but Name. */
export interface TrailSettingsInput {
  Name: string;
  S3BucketName?: string;
  S3KeyPrefix?: string;
  SnsTopicName?: string;
  IncludeGlobalServiceEvents?: boolean;
  IsMultiRegionTrail?: boolean;
  EnableLogFileValidation?: boolean;
  CloudWatchLogsLogGroupArn?: string;
  CloudWatchLogsRoleArn?: string;
  KmsKeyId?: string;
  IsOrganizationTrail?: boolean;
  TagsList?: Tag[];
}

/** AWS's fixed quota: five trails per Region per account, shadow trails included (facts §11). */
export const MAX_TRAILS_PER_REGION = 5;

export interface TrailServiceDeps {
  store: TrailStore;
  identity: IdentityStore;
  objects: ObjectStore;
  clock: Clock;
  /** Where the log stands, committed (EventLog.loggedSeq), so delivery of a new trail starts where it was created. */
  currentSeq: () => Promise<number>;
  kms: KmsKeys;
  sns: SnsTopics;
  /** False in moto mode: buckets need not grant CloudTrail access in their policy. */
  checkBucketPolicies?: boolean;
}

/** The trail lifecycle: create, update, delete, start and stop logging (facts §3). */
export class TrailService {
  readonly access: TrailAccess;
  readonly #deps: TrailServiceDeps;
  /** Check-then-write changes run one at a time, so two CreateTrail calls cannot both take one name. */
  readonly #changes = new SerialQueue();

  constructor(deps: TrailServiceDeps) {
    this.#deps = deps;
    this.access = new TrailAccess(deps.store, deps.identity);
  }

  create(caller: Caller, input: TrailSettingsInput): Promise<TrailRecord> {
    return this.#changes.run(async () => {
      const accountId = caller.principal.accountId;
      validateTrailName(input.Name);
      if (input.S3BucketName === undefined) {
        throw new ServiceError('InvalidParameterException', 'S3BucketName is required to create a trail.');
      }
      validateTags(input.TagsList ?? []);
      const draft: TrailRecord = {
        arn: trailArn(caller.region, accountId, input.Name),
        name: input.Name,
        accountId,
        homeRegion: caller.region,
        s3BucketName: input.S3BucketName,
        includeGlobalServiceEvents: true,
        isMultiRegionTrail: false,
        logFileValidationEnabled: false,
        isOrganizationTrail: false,
        eventSelectors: defaultEventSelectors(),
        hasCustomEventSelectors: false,
        insightSelectors: [],
        tags: (input.TagsList ?? []).map((t) => ({ ...t })),
        isLogging: false,
        createdAtMs: this.#deps.clock.now(),
        createdAtSeq: await this.#deps.currentSeq(),
      };
      const trail = this.#applySettings(caller, draft, input);
      this.#checkNameFree(caller, trail, undefined, 'TrailAlreadyExistsException');
      this.#checkTrailLimit(caller, trail, 'MaximumNumberOfTrailsExceededException');
      // The bucket last: on the local store, preparing it claims the bucket, which a refused trail must not.
      await this.#checkKeyAndTopic(caller, trail, input);
      await this.#prepareBucket(trail);
      await this.#deps.store.put(trail);
      return trail;
    });
  }

  update(caller: Caller, input: TrailSettingsInput): Promise<TrailRecord> {
    return this.#changes.run(async () => {
      const current = this.access.resolveForChange(caller, input.Name);
      const trail = this.#applySettings(caller, structuredClone(current), { ...input, Name: current.name });
      if (trail.isMultiRegionTrail && !current.isMultiRegionTrail) {
        // UpdateTrail declares neither TrailAlreadyExists nor MaximumNumberOfTrailsExceeded: making a trail
        // multi-Region against a clash or a full Region is a parameter combination it refuses.
        this.#checkNameFree(caller, trail, current, 'InvalidParameterCombinationException');
        this.#checkTrailLimit(caller, trail, 'InvalidParameterCombinationException');
      }
      await this.#checkKeyAndTopic(caller, trail, input);
      if (
        trail.s3BucketName !== current.s3BucketName ||
        trail.s3KeyPrefix !== current.s3KeyPrefix ||
        trail.organizationId !== current.organizationId
      ) {
        await this.#prepareBucket(trail);
      }
      await this.#deps.store.put(trail);
      return trail;
    });
  }

  delete(caller: Caller, nameOrArn: string): Promise<void> {
    return this.#changes.run(async () => {
      const trail = this.access.resolveForChange(caller, nameOrArn);
      await this.#deps.store.delete(trail.arn);
    });
  }

  startLogging(caller: Caller, nameOrArn: string): Promise<TrailRecord> {
    return this.#setLogging(caller, nameOrArn, true);
  }

  stopLogging(caller: Caller, nameOrArn: string): Promise<TrailRecord> {
    return this.#setLogging(caller, nameOrArn, false);
  }

  /** Applies a change to one trail under the change queue; `change` returns the new record. */
  change(caller: Caller, nameOrArn: string, change: (trail: TrailRecord) => TrailRecord): Promise<TrailRecord> {
    return this.#changes.run(async () => {
      const next = change(structuredClone(this.access.resolveForChange(caller, nameOrArn)));
      await this.#deps.store.put(next);
      return next;
    });
  }

  /** Replaces a trail's tags, for AddTags/RemoveTags, which address trails by ARN from any Region. */
  retag(caller: Caller, arn: string, retag: (tags: Tag[]) => Tag[]): Promise<TrailRecord> {
    return this.#changes.run(async () => {
      const current = this.access.resolve(caller, arn);
      if (current.accountId !== caller.principal.accountId) {
        throw new ServiceError(
          'NotOrganizationMasterAccountException',
          `Only the management account ${current.accountId} can tag organization trail ${current.arn}.`,
        );
      }
      const next = { ...structuredClone(current), tags: retag(current.tags) };
      await this.#deps.store.put(next);
      return next;
    });
  }

  #setLogging(caller: Caller, nameOrArn: string, on: boolean): Promise<TrailRecord> {
    const now = this.#deps.clock.now();
    return this.change(caller, nameOrArn, (trail) => {
      if (trail.isLogging === on) return trail;
      return on
        ? { ...trail, isLogging: true, startLoggingTimeMs: now }
        : { ...trail, isLogging: false, stopLoggingTimeMs: now };
    });
  }

  /** Validates and applies the settings members present in `input` (UpdateTrail leaves the others as they are). */
  #applySettings(caller: Caller, trail: TrailRecord, input: TrailSettingsInput): TrailRecord {
    const { region } = caller;
    const accountId = caller.principal.accountId;
    if (input.S3BucketName !== undefined) {
      validateBucketName(input.S3BucketName);
      trail.s3BucketName = input.S3BucketName;
    }
    if (input.S3KeyPrefix !== undefined) {
      validateS3KeyPrefix(input.S3KeyPrefix);
      setOptional(trail, 's3KeyPrefix', input.S3KeyPrefix === '' ? undefined : input.S3KeyPrefix);
    }
    if (input.SnsTopicName !== undefined) {
      const topic = input.SnsTopicName === '' ? undefined : normaliseSnsTopic(input.SnsTopicName, region, accountId);
      setOptional(trail, 'snsTopicName', topic?.name);
      setOptional(trail, 'snsTopicArn', topic?.arn);
    }
    if (input.IncludeGlobalServiceEvents !== undefined)
      trail.includeGlobalServiceEvents = input.IncludeGlobalServiceEvents;
    if (input.IsMultiRegionTrail !== undefined) trail.isMultiRegionTrail = input.IsMultiRegionTrail;
    if (input.EnableLogFileValidation !== undefined) {
      // Digest chains begin when validation is turned on (or at StartLogging, whichever is later).
      if (input.EnableLogFileValidation && !trail.logFileValidationEnabled)
        trail.validationSinceMs = this.#deps.clock.now();
      trail.logFileValidationEnabled = input.EnableLogFileValidation;
    }
    if (input.KmsKeyId !== undefined) {
      setOptional(
        trail,
        'kmsKeyId',
        input.KmsKeyId === '' ? undefined : normaliseKmsKeyId(input.KmsKeyId, region, accountId),
      );
    }
    if (input.CloudWatchLogsLogGroupArn !== undefined || input.CloudWatchLogsRoleArn !== undefined) {
      const group = emptyAsUndefined(input.CloudWatchLogsLogGroupArn ?? trail.cloudWatchLogsLogGroupArn);
      const role = emptyAsUndefined(input.CloudWatchLogsRoleArn ?? trail.cloudWatchLogsRoleArn);
      validateCloudWatchLogs(group, role);
      setOptional(trail, 'cloudWatchLogsLogGroupArn', group);
      setOptional(trail, 'cloudWatchLogsRoleArn', role);
    }
    if (input.IsOrganizationTrail !== undefined) {
      trail.isOrganizationTrail = input.IsOrganizationTrail;
      setOptional(
        trail,
        'organizationId',
        input.IsOrganizationTrail ? this.#managedOrganization(accountId) : undefined,
      );
    }
    if (trail.isMultiRegionTrail && !trail.includeGlobalServiceEvents) {
      throw new ServiceError(
        'InvalidParameterCombinationException',
        'Multi-Region trail must include global service events. Set IncludeGlobalServiceEvents to true or IsMultiRegionTrail to false.',
      );
    }
    return trail;
  }

  /** The organization the account manages; organization trails can only be made from there (facts §3.2). */
  #managedOrganization(accountId: string): string {
    const org = this.#deps.identity.organizationOf(accountId);
    if (org === undefined) {
      throw new ServiceError(
        'OrganizationsNotInUseException',
        `Account ${accountId} is not a member of an organization, so it cannot have an organization trail.`,
      );
    }
    if (org.managementAccountId !== accountId) {
      throw new ServiceError(
        'NotOrganizationMasterAccountException',
        `Only the management account ${org.managementAccountId} of organization ${org.organizationId} can create or change organization trails.`,
      );
    }
    return org.organizationId;
  }

  /**
   * A trail's name must be free wherever it applies: its own Region, or every Region when multi-Region.
   * `changing` is the trail an UpdateTrail changes, which does not clash with itself.
   */
  #checkNameFree(caller: Caller, trail: TrailRecord, changing: TrailRecord | undefined, error: ErrorName): void {
    const clash = this.#deps.store
      .all()
      .find(
        (t) =>
          t.arn !== changing?.arn &&
          t.accountId === trail.accountId &&
          t.name === trail.name &&
          (t.homeRegion === trail.homeRegion || t.isMultiRegionTrail || trail.isMultiRegionTrail),
      );
    if (clash !== undefined) {
      throw new ServiceError(
        error,
        `Trail ${trail.name} already exists for customer: ${caller.principal.accountId}` +
          (clash.homeRegion === trail.homeRegion
            ? ''
            : ` (in ${clash.homeRegion}, where a multi-Region trail would apply too)`),
      );
    }
  }

  /** Counts the account's trails that apply in each Region the new trail applies in. */
  #checkTrailLimit(caller: Caller, trail: TrailRecord, error: ErrorName): void {
    const own = this.#deps.store.all().filter((t) => t.accountId === trail.accountId && t.arn !== trail.arn);
    const regions = trail.isMultiRegionTrail
      ? [...new Set([trail.homeRegion, ...own.map((t) => t.homeRegion)])]
      : [trail.homeRegion];
    for (const region of regions) {
      const count = own.filter((t) => TrailAccess.appliesIn(t, region)).length;
      if (count >= MAX_TRAILS_PER_REGION) {
        throw new ServiceError(
          error,
          `User: ${caller.principal.accountId} already has ${count} trails in ${region}; the limit is ${MAX_TRAILS_PER_REGION} trails per Region. Delete a trail first.`,
        );
      }
    }
  }

  /** With KMS and SNS endpoints, the key must exist (stored as its ARN) and the topic must let CloudTrail publish. */
  async #checkKeyAndTopic(caller: Caller, trail: TrailRecord, input: TrailSettingsInput): Promise<void> {
    if (input.KmsKeyId !== undefined && input.KmsKeyId !== '') {
      trail.kmsKeyId = await this.#deps.kms.resolve(input.KmsKeyId, caller.region, trail.accountId);
    }
    if (input.SnsTopicName !== undefined && trail.snsTopicArn !== undefined) {
      await this.#deps.sns.check(trail.snsTopicArn, trail.arn, trail.accountId);
    }
  }

  async #prepareBucket(trail: TrailRecord): Promise<void> {
    await prepareTrailBucket(
      this.#deps.objects,
      {
        arn: trail.arn,
        bucket: trail.s3BucketName,
        accountId: trail.accountId,
        ...(trail.s3KeyPrefix !== undefined ? { prefix: trail.s3KeyPrefix } : {}),
        ...(trail.organizationId !== undefined ? { organizationId: trail.organizationId } : {}),
      },
      { checkPolicy: this.#deps.checkBucketPolicies ?? true },
    );
  }
}

function emptyAsUndefined(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/** Sets or removes an optional member, keeping absent members absent (exactOptionalPropertyTypes). */
function setOptional<K extends keyof TrailRecord>(trail: TrailRecord, key: K, value: TrailRecord[K] | undefined): void {
  if (value === undefined) delete trail[key];
  else trail[key] = value;
}

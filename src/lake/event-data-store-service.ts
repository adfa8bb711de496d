import type { Caller, IdentityStore } from '../identity/index.ts';
import type { Clock } from '../model/clock.ts';
import type { IdSource } from '../model/ids.ts';
import { SerialQueue } from '../model/serial-queue.ts';
import { ServiceError } from '../model/service-error.ts';
import {
  type AdvancedEventSelector,
  type KmsKeys,
  retaggedTags,
  type Tag,
  validateAdvancedEventSelectors,
  validateTags,
} from '../trails/index.ts';
import type { BillingMode, EventDataStoreRecord, StoreStatus } from './event-data-store.ts';
import type { EventDataStoreStore } from './event-data-store-store.ts';
import {
  eventDataStoreArn,
  MAX_STORES_PER_REGION,
  PENDING_DELETION_MS,
  parseStoreRef,
  RETENTION,
  validateRetention,
  validateStoreName,
} from './store-rules.ts';
import { storeCategories, storeEventKind } from './store-selectors.ts';

/** CreateEventDataStore's members (facts A.5); UpdateEventDataStore takes the same but TagsList and StartIngestion. */
export interface EventDataStoreInput {
  Name?: string;
  AdvancedEventSelectors?: AdvancedEventSelector[];
  MultiRegionEnabled?: boolean;
  OrganizationEnabled?: boolean;
  RetentionPeriod?: number;
  TerminationProtectionEnabled?: boolean;
  TagsList?: Tag[];
  KmsKeyId?: string;
  StartIngestion?: boolean;
  BillingMode?: BillingMode;
}

export interface UpdateEventDataStoreInput extends Omit<EventDataStoreInput, 'TagsList' | 'StartIngestion'> {
  EventDataStore: string;
}

/** AWS's default selector: every management event (what CreateEventDataStore echoes when none are given). */
export function defaultStoreSelectors(): AdvancedEventSelector[] {
  return [{ Name: 'Default management events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }];
}

/** Categories whose stores can start and stop ingestion (facts §8.1). */
const INGESTION_CATEGORIES: ReadonlySet<string> = new Set([
  'Management',
  'Data',
  'NetworkActivity',
  'ConfigurationItem',
]);

export interface EventDataStoreServiceDeps {
  store: EventDataStoreStore;
  identity: IdentityStore;
  clock: Clock;
  ids: IdSource;
  /** Where the log stands, committed (EventLog.loggedSeq): ingestion windows open and close there. */
  currentSeq: () => Promise<number>;
  /** How many events a store holds (lake-table.ts countStoreEvents on a read connection). */
  countEvents: (storeId: string) => Promise<number>;
  /** The ARNs of the channels that deliver to a store (channel-service.ts): such a store cannot be deleted. */
  channelsDeliveringTo?: (storeArn: string) => string[];
  /** The KMS key check trails use: against the KMS endpoint when one is configured (KmsKeyNotFoundException). */
  kms: KmsKeys;
  /** Whether an import into the store is running (import-service.ts): such a store cannot be deleted. */
  hasOngoingImport?: (storeArn: string) => boolean;
}

/**
 * The event data store lifecycle (facts §8.1): ENABLED ⇄ STOPPED_INGESTION, either → PENDING_DELETION
 * (restorable for 7 days of the clock) → gone, with its events. A store is regional and belongs to one
 * account: other accounts and other Regions do not find it. Check-then-write changes run one at a time.
 */
export class EventDataStoreService {
  readonly #deps: EventDataStoreServiceDeps;
  readonly #changes = new SerialQueue();

  constructor(deps: EventDataStoreServiceDeps) {
    this.#deps = deps;
  }

  create(caller: Caller, input: EventDataStoreInput & { Name: string }): Promise<EventDataStoreRecord> {
    return this.#changes.run(async () => {
      const accountId = caller.principal.accountId;
      validateStoreName(input.Name);
      validateTags(input.TagsList ?? []);
      const billingMode = input.BillingMode ?? 'EXTENDABLE_RETENTION_PRICING';
      const retention = input.RetentionPeriod ?? RETENTION[billingMode].default;
      validateRetention(retention, billingMode);
      const selectors = this.#selectors(input.AdvancedEventSelectors) ?? defaultStoreSelectors();
      this.#checkNameFree(caller, input.Name, undefined);
      const kmsKeyId =
        input.KmsKeyId === undefined
          ? undefined
          : await this.#deps.kms.resolve(input.KmsKeyId, caller.region, accountId);
      if (this.#live(caller).filter((s) => s.status !== 'PENDING_DELETION').length >= MAX_STORES_PER_REGION) {
        throw new ServiceError(
          'EventDataStoreMaxLimitExceededException',
          `Account ${accountId} already has ${MAX_STORES_PER_REGION} event data stores in ${caller.region}, the limit.`,
        );
      }
      const id = this.#deps.ids.uuid();
      const now = this.#deps.clock.now();
      const ingesting = input.StartIngestion ?? true;
      const organizationEnabled = input.OrganizationEnabled ?? false;
      const record: EventDataStoreRecord = {
        id,
        arn: eventDataStoreArn(caller.region, accountId, id),
        name: input.Name,
        accountId,
        region: caller.region,
        status: ingesting ? 'ENABLED' : 'STOPPED_INGESTION',
        advancedEventSelectors: selectors,
        multiRegionEnabled: input.MultiRegionEnabled ?? true,
        organizationEnabled,
        ...(organizationEnabled ? { organizationId: this.#managedOrganization(accountId) } : {}),
        retentionPeriodDays: retention,
        terminationProtectionEnabled: input.TerminationProtectionEnabled ?? true,
        billingMode,
        ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
        tags: (input.TagsList ?? []).map((t) => ({ ...t })),
        createdAtMs: now,
        updatedAtMs: now,
        ingestion: ingesting ? [{ fromSeq: await this.#deps.currentSeq() }] : [],
      };
      await this.#deps.store.put(record);
      return record;
    });
  }

  update(caller: Caller, input: UpdateEventDataStoreInput): Promise<EventDataStoreRecord> {
    return this.#changes.run(async () => {
      const { EventDataStore: ref, ...changes } = input;
      if (Object.values(changes).every((v) => v === undefined)) {
        throw new ServiceError(
          'InvalidParameterException',
          'UpdateEventDataStore needs at least one setting to change besides EventDataStore.',
        );
      }
      const current = this.resolve(caller, ref);
      if (current.status === 'PENDING_DELETION') throw inactive(current);
      const next = structuredClone(current);
      if (changes.Name !== undefined && changes.Name !== current.name) {
        validateStoreName(changes.Name);
        this.#checkNameFree(caller, changes.Name, current.id);
        next.name = changes.Name;
      }
      if (changes.BillingMode !== undefined) {
        if (
          current.billingMode === 'EXTENDABLE_RETENTION_PRICING' &&
          changes.BillingMode === 'FIXED_RETENTION_PRICING'
        ) {
          throw new ServiceError(
            'InvalidParameterException',
            'The billing mode cannot change from EXTENDABLE_RETENTION_PRICING to FIXED_RETENTION_PRICING.',
          );
        }
        next.billingMode = changes.BillingMode;
      }
      if (changes.RetentionPeriod !== undefined) next.retentionPeriodDays = changes.RetentionPeriod;
      validateRetention(next.retentionPeriodDays, next.billingMode);
      if (changes.KmsKeyId !== undefined) {
        const key = await this.#deps.kms.resolve(changes.KmsKeyId, current.region, current.accountId);
        if (current.kmsKeyId !== undefined && current.kmsKeyId !== key) {
          throw new ServiceError(
            'InvalidParameterException',
            `The KMS key of event data store ${current.arn} cannot be changed or removed once set.`,
          );
        }
        next.kmsKeyId = key;
      }
      const selectors = this.#selectors(changes.AdvancedEventSelectors);
      if (selectors !== undefined) {
        const [was, now] = [storeEventKind(current.advancedEventSelectors), storeEventKind(selectors)];
        if (was !== now) {
          throw new ServiceError(
            'InvalidEventSelectorsException',
            `Event data store ${current.arn} holds ${was} events and cannot be changed to hold ${now} events; create another store for them.`,
          );
        }
        next.advancedEventSelectors = selectors;
      }
      if (changes.MultiRegionEnabled !== undefined) next.multiRegionEnabled = changes.MultiRegionEnabled;
      if (changes.TerminationProtectionEnabled !== undefined) {
        next.terminationProtectionEnabled = changes.TerminationProtectionEnabled;
      }
      if (changes.OrganizationEnabled !== undefined) {
        next.organizationEnabled = changes.OrganizationEnabled;
        if (changes.OrganizationEnabled) next.organizationId = this.#managedOrganization(current.accountId);
        else delete next.organizationId;
      }
      next.updatedAtMs = this.#deps.clock.now();
      await this.#deps.store.put(next);
      return next;
    });
  }

  delete(caller: Caller, ref: string): Promise<void> {
    return this.#changes.run(async () => {
      const current = this.resolve(caller, ref);
      if (current.status === 'PENDING_DELETION') throw inactive(current);
      if (current.terminationProtectionEnabled) {
        throw new ServiceError(
          'EventDataStoreTerminationProtectedException',
          `Event data store ${current.arn} has termination protection enabled; turn it off with UpdateEventDataStore first.`,
        );
      }
      const channels = this.#deps.channelsDeliveringTo?.(current.arn) ?? [];
      if (channels.length > 0) {
        throw new ServiceError(
          'ChannelExistsForEDSException',
          `Event data store ${current.arn} is the destination of channel ${channels.join(', ')}; delete the channel or change its destinations first.`,
        );
      }
      if (this.#deps.hasOngoingImport?.(current.arn) === true) {
        throw new ServiceError(
          'EventDataStoreHasOngoingImportException',
          `An import into event data store ${current.arn} is in progress; wait for it to finish or stop it with StopImport.`,
        );
      }
      const next = await this.#closeIngestion(structuredClone(current));
      next.statusBeforeDeletion = current.status;
      next.status = 'PENDING_DELETION';
      next.deletedAtMs = this.#deps.clock.now();
      await this.#deps.store.put(next);
    });
  }

  restore(caller: Caller, ref: string): Promise<EventDataStoreRecord> {
    return this.#changes.run(async () => {
      const current = this.resolve(caller, ref);
      if (current.status !== 'PENDING_DELETION') {
        throw new ServiceError(
          'InvalidEventDataStoreStatusException',
          `Event data store ${current.arn} is ${current.status}; only a store pending deletion can be restored.`,
        );
      }
      if (this.#live(caller).filter((s) => s.status !== 'PENDING_DELETION').length >= MAX_STORES_PER_REGION) {
        throw new ServiceError(
          'EventDataStoreMaxLimitExceededException',
          `Account ${current.accountId} already has ${MAX_STORES_PER_REGION} event data stores in ${current.region}.`,
        );
      }
      const { deletedAtMs: _deleted, statusBeforeDeletion, ...rest } = structuredClone(current);
      let next: EventDataStoreRecord = { ...rest, status: statusBeforeDeletion ?? 'ENABLED' };
      if (next.status === 'ENABLED') next = await this.#openIngestion(next);
      next.updatedAtMs = this.#deps.clock.now();
      await this.#deps.store.put(next);
      return next;
    });
  }

  startIngestion(caller: Caller, ref: string): Promise<void> {
    return this.#setIngestion(caller, ref, 'STOPPED_INGESTION', 'ENABLED');
  }

  stopIngestion(caller: Caller, ref: string): Promise<void> {
    return this.#setIngestion(caller, ref, 'ENABLED', 'STOPPED_INGESTION');
  }

  /** The caller's stores in its Region (pending deletion included, as AWS lists them), oldest first. */
  list(caller: Caller): EventDataStoreRecord[] {
    return this.#live(caller).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** Finds the caller's store by ARN or id, in the request's Region; anything else is not found. */
  resolve(caller: Caller, ref: string): EventDataStoreRecord {
    const parsed = parseStoreRef(ref);
    const store = this.#deps.store.get(parsed.id);
    const found =
      store !== undefined &&
      !this.isGone(store) &&
      store.accountId === caller.principal.accountId &&
      store.region === caller.region &&
      (parsed.kind === 'id' || (parsed.accountId === store.accountId && parsed.region === store.region));
    if (!found) {
      throw new ServiceError('EventDataStoreNotFoundException', `The event data store ${ref} does not exist.`);
    }
    return store;
  }

  /** Replaces a store's tags (AddTags/RemoveTags by ARN). */
  retag(caller: Caller, arn: string, tags: Tag[], mode: 'add' | 'remove'): Promise<void> {
    return this.#changes.run(async () => {
      const current = this.resolve(caller, arn);
      if (current.status === 'PENDING_DELETION') throw inactive(current);
      await this.#deps.store.put({ ...structuredClone(current), tags: retaggedTags(current.tags, tags, mode) });
    });
  }

  /** How many events the store holds now: for tests and health, not an AWS operation. */
  countEvents(storeId: string): Promise<number> {
    return this.#deps.countEvents(storeId);
  }

  /** Whether a store's 7 days of pending deletion are over (it is then gone, whether or not it was removed yet). */
  isGone(store: EventDataStoreRecord): boolean {
    return store.deletedAtMs !== undefined && this.#deps.clock.now() >= store.deletedAtMs + PENDING_DELETION_MS;
  }

  /** The stores whose pending deletion is over, for the retention job to remove with their events. */
  gone(): EventDataStoreRecord[] {
    return this.#deps.store.all().filter((s) => this.isGone(s));
  }

  async #setIngestion(caller: Caller, ref: string, from: StoreStatus, to: StoreStatus): Promise<void> {
    await this.#changes.run(async () => {
      const current = this.resolve(caller, ref);
      const categories = storeCategories(current.advancedEventSelectors);
      const unsupported = categories.find((c) => !INGESTION_CATEGORIES.has(c));
      if (unsupported !== undefined) {
        throw new ServiceError(
          'InvalidEventDataStoreCategoryException',
          `Event data store ${current.arn} holds ${unsupported} events; only stores of management, data, network activity or Config events start and stop ingestion.`,
        );
      }
      if (current.status !== from) {
        throw new ServiceError(
          'InvalidEventDataStoreStatusException',
          `Event data store ${current.arn} is ${current.status}; it must be ${from} to change to ${to}.`,
        );
      }
      const changed = structuredClone(current);
      const next = to === 'ENABLED' ? await this.#openIngestion(changed) : await this.#closeIngestion(changed);
      next.status = to;
      next.updatedAtMs = this.#deps.clock.now();
      await this.#deps.store.put(next);
    });
  }

  /** Ingestion resumes from now: records logged while it was off are never taken. */
  async #openIngestion(store: EventDataStoreRecord): Promise<EventDataStoreRecord> {
    return { ...store, ingestion: [...store.ingestion, { fromSeq: await this.#deps.currentSeq() }] };
  }

  async #closeIngestion(store: EventDataStoreRecord): Promise<EventDataStoreRecord> {
    const seq = await this.#deps.currentSeq();
    return { ...store, ingestion: store.ingestion.map((w) => (w.toSeq === undefined ? { ...w, toSeq: seq } : w)) };
  }

  #selectors(selectors: AdvancedEventSelector[] | undefined): AdvancedEventSelector[] | undefined {
    if (selectors === undefined) return undefined;
    const valid = validateAdvancedEventSelectors(selectors, 'eventDataStore');
    storeEventKind(valid);
    return valid;
  }

  /** The caller's stores in its Region that are not gone. */
  #live(caller: Caller): EventDataStoreRecord[] {
    return this.#deps.store
      .all()
      .filter((s) => s.accountId === caller.principal.accountId && s.region === caller.region && !this.isGone(s));
  }

  #checkNameFree(caller: Caller, name: string, except: string | undefined): void {
    if (this.#live(caller).some((s) => s.name === name && s.id !== except)) {
      throw new ServiceError(
        'EventDataStoreAlreadyExistsException',
        `An event data store named ${name} already exists in ${caller.region} for account ${caller.principal.accountId}.`,
      );
    }
  }

  /** Organization stores are made from the organization's management account (as organization trails). */
  #managedOrganization(accountId: string): string {
    const org = this.#deps.identity.organizationOf(accountId);
    if (org === undefined) {
      throw new ServiceError(
        'OrganizationsNotInUseException',
        `Account ${accountId} is not a member of an organization, so it cannot have an organization event data store.`,
      );
    }
    if (org.managementAccountId !== accountId) {
      throw new ServiceError(
        'NotOrganizationMasterAccountException',
        `Only the management account ${org.managementAccountId} of organization ${org.organizationId} can make organization event data stores.`,
      );
    }
    return org.organizationId;
  }
}

function inactive(store: EventDataStoreRecord): ServiceError {
  return new ServiceError(
    'InactiveEventDataStoreException',
    `Event data store ${store.arn} is pending deletion; restore it with RestoreEventDataStore first.`,
  );
}

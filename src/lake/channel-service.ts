import type { Caller } from '../identity/index.ts';
import { payloadViews } from '../log/record-payload.ts';
import { type Clock, isoSeconds } from '../model/clock.ts';
import type { IdSource } from '../model/ids.ts';
import { SerialQueue } from '../model/serial-queue.ts';
import { ServiceError } from '../model/service-error.ts';
import { retaggedTags, type Tag, validateTags } from '../trails/index.ts';
import type { AuditChannel, CheckedAuditEvents } from './audit-batch.ts';
import {
  type ChannelDestination,
  type ChannelRecord,
  CUSTOM_SOURCE,
  channelArn,
  type IngestionStatus,
  MAX_CHANNELS_PER_REGION,
  parseChannelRef,
  validateChannelName,
} from './channel.ts';
import type { AuditEventInput } from './channel-audit-event.ts';
import type { ChannelStore } from './channel-store.ts';
import type { EventDataStoreService } from './event-data-store-service.ts';
import { storeCategories } from './store-selectors.ts';

export interface ChannelServiceDeps {
  store: ChannelStore;
  eventDataStores: EventDataStoreService;
  clock: Clock;
  ids: IdSource;
  /** Checks a call's events and encodes the accepted ones (audit-batch.ts, on an ingest worker). */
  checkAuditEvents(
    events: readonly AuditEventInput[],
    channel: AuditChannel,
    ingestionTime: string,
  ): Promise<CheckedAuditEvents>;
  /** Appends log payloads as one batch; resolves once they are committed (Capture.appendPayloads). */
  appendPayloads(payloads: Uint8Array[]): Promise<unknown>;
}

export interface CreateChannelInput {
  Name: string;
  Source: string;
  Destinations: { Type: string; Location: string }[];
  Tags?: Tag[];
}

export interface PutAuditEventsResult {
  successful: { id: string; eventID: string }[];
  failed: { id: string; errorCode: string; errorMessage: string }[];
}

/**
 * Channels (facts §8.4) and PutAuditEvents into them (facts §8.6). A channel is regional and belongs to one
 * account; other accounts and Regions do not find it through the control plane, and PutAuditEvents tells an
 * account that names another's channel that it may not use it. Accepted events are appended to the log as
 * `ActivityAuditLog` records and acknowledged only after the commit; the channel's destination stores are
 * written into each record's routing header, so the lake consumer delivers them to exactly those stores
 * (channel-routing.ts) as the channel stood when the event was logged.
 *
 * IngestionStatus is answered from memory and written behind the calls (`saveStatuses`, at most once a
 * second, and when the server stops): writing it through would cost a DuckDB commit per call on the ingest
 * path. A crash of the process can lose the last second of it; the events themselves are durable.
 */
export class ChannelService {
  readonly #deps: ChannelServiceDeps;
  readonly #changes = new SerialQueue();
  readonly #status: Map<string, IngestionStatus>;
  /** Channels whose IngestionStatus changed since it was last stored. */
  readonly #unsaved = new Set<string>();

  constructor(deps: ChannelServiceDeps) {
    this.#deps = deps;
    this.#status = new Map(deps.store.loadedStatuses());
  }

  /** Stores the IngestionStatus that changed since the last call; what fails to be stored is tried again next time. */
  async saveStatuses(): Promise<void> {
    const ids = [...this.#unsaved];
    this.#unsaved.clear();
    try {
      await this.#deps.store.putStatuses(ids.map((id) => [id, this.#status.get(id) ?? {}]));
    } catch (error) {
      for (const id of ids) this.#unsaved.add(id);
      throw error;
    }
  }

  #setStatus(channelId: string, status: IngestionStatus): void {
    this.#status.set(channelId, status);
    this.#unsaved.add(channelId);
  }

  create(caller: Caller, input: CreateChannelInput): Promise<ChannelRecord> {
    return this.#changes.run(async () => {
      validateChannelName(input.Name);
      if (input.Source !== CUSTOM_SOURCE) {
        throw new ServiceError(
          'InvalidSourceException',
          `Source ${input.Source} is not supported: opentrail serves custom integrations only (Source "Custom").`,
        );
      }
      validateTags(input.Tags ?? []);
      const destinations = this.#destinations(caller, input.Destinations);
      this.#checkNameFree(caller, input.Name, undefined);
      if (this.list(caller).length >= MAX_CHANNELS_PER_REGION) {
        throw new ServiceError(
          'ChannelMaxLimitExceededException',
          `Account ${caller.principal.accountId} already has ${MAX_CHANNELS_PER_REGION} channels in ${caller.region}, the limit.`,
        );
      }
      const id = this.#deps.ids.uuid();
      const now = this.#deps.clock.now();
      const channel: ChannelRecord = {
        id,
        arn: channelArn(caller.region, caller.principal.accountId, id),
        name: input.Name,
        accountId: caller.principal.accountId,
        region: caller.region,
        source: input.Source,
        destinations,
        tags: (input.Tags ?? []).map((t) => ({ ...t })),
        createdAtMs: now,
        updatedAtMs: now,
      };
      await this.#deps.store.put(channel);
      return channel;
    });
  }

  update(
    caller: Caller,
    input: { Channel: string; Name?: string; Destinations?: CreateChannelInput['Destinations'] },
  ): Promise<ChannelRecord> {
    return this.#changes.run(async () => {
      const current = this.resolve(caller, input.Channel);
      const next = structuredClone(current);
      if (input.Name !== undefined && input.Name !== current.name) {
        validateChannelName(input.Name);
        this.#checkNameFree(caller, input.Name, current.id);
        next.name = input.Name;
      }
      if (input.Destinations !== undefined) next.destinations = this.#destinations(caller, input.Destinations);
      next.updatedAtMs = this.#deps.clock.now();
      await this.#deps.store.put(next);
      return next;
    });
  }

  delete(caller: Caller, ref: string): Promise<void> {
    return this.#changes.run(async () => {
      const current = this.resolve(caller, ref);
      await this.#deps.store.remove(current.id);
      this.#status.delete(current.id);
      this.#unsaved.delete(current.id);
    });
  }

  /** Replaces a channel's tags (AddTags/RemoveTags by ARN). */
  retag(caller: Caller, arn: string, tags: Tag[], mode: 'add' | 'remove'): Promise<void> {
    return this.#changes.run(async () => {
      const current = this.resolve(caller, arn);
      await this.#deps.store.put({ ...structuredClone(current), tags: retaggedTags(current.tags, tags, mode) });
    });
  }

  /** The caller's channels in its Region, oldest first. */
  list(caller: Caller): ChannelRecord[] {
    return this.#deps.store
      .all()
      .filter((c) => c.accountId === caller.principal.accountId && c.region === caller.region)
      .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** Finds the caller's channel by ARN or id in the request's Region; anything else is not found. */
  resolve(caller: Caller, ref: string): ChannelRecord {
    const parsed = parseChannelRef(ref);
    if (parsed === undefined) {
      throw new ServiceError(
        'ChannelARNInvalidException',
        `${ref} is neither a channel ARN (arn:aws:cloudtrail:us-east-1:123456789012:channel/EXAMPLE-…) nor a channel ID.`,
      );
    }
    const channel = this.#deps.store.get(parsed.id);
    const found =
      channel !== undefined &&
      channel.accountId === caller.principal.accountId &&
      channel.region === caller.region &&
      (parsed.accountId === undefined || (parsed.accountId === channel.accountId && parsed.region === channel.region));
    if (!found) throw new ServiceError('ChannelNotFoundException', `The channel ${ref} does not exist.`);
    return channel;
  }

  ingestionStatus(channel: ChannelRecord): IngestionStatus {
    return this.#status.get(channel.id) ?? {};
  }

  /** The channels, of any account, that deliver to the event data store with this ARN. */
  deliveringTo(storeArn: string): ChannelRecord[] {
    return this.#deps.store.all().filter((c) => c.destinations.some((d) => d.Location === storeArn));
  }

  /**
   * PutAuditEvents: request-level checks (the channel, its owner, duplicate ids) fail the whole call; each
   * event is then checked on its own, and the accepted ones are appended as one batch and committed before
   * the answer.
   */
  async putAuditEvents(caller: Caller, channelRef: string, events: AuditEventInput[]): Promise<PutAuditEventsResult> {
    const channel = this.#channelForPut(caller, channelRef);
    const seen = new Set<string>();
    for (const e of events) {
      if (seen.has(e.id)) {
        throw new ServiceError(
          'DuplicatedAuditEventId',
          `Audit event id ${e.id} appears more than once in the request.`,
        );
      }
      seen.add(e.id);
    }
    const now = this.#deps.clock.now();
    // Stopped or deleted destinations stay listed: the consumer's ingestion windows decide for them.
    const destinations = channel.destinations.map((d) => d.Location.slice(d.Location.lastIndexOf('/') + 1));
    const { arn, accountId, region } = channel;
    let checked: CheckedAuditEvents | undefined;
    try {
      checked = await this.#deps.checkAuditEvents(events, { arn, accountId, region, destinations }, isoSeconds(now));
      if (checked.successful.length > 0) await this.#deps.appendPayloads(payloadViews(checked));
    } catch (error) {
      // The attempt is on the record whether the check (a worker that stopped) or the append failed.
      this.#setStatus(channel.id, {
        ...attempted(this.ingestionStatus(channel), now, checked),
        latestErrorCode: 'InternalFailure',
      });
      throw error;
    }
    const result: PutAuditEventsResult = { successful: checked.successful, failed: checked.failed };
    const status = attempted(this.ingestionStatus(channel), now, checked);
    const lastFailure = result.failed[result.failed.length - 1];
    if (lastFailure !== undefined) status.latestErrorCode = lastFailure.errorCode;
    const lastSuccess = result.successful[result.successful.length - 1];
    if (lastSuccess !== undefined) {
      status.latestSuccessMs = now;
      status.latestSuccessEventId = lastSuccess.eventID;
    }
    this.#setStatus(channel.id, status);
    return result;
  }

  /** The channel a PutAuditEvents call names, with the data plane's own error names (facts §8.6). */
  #channelForPut(caller: Caller, ref: string): ChannelRecord {
    const parsed = parseChannelRef(ref);
    if (parsed === undefined) {
      throw new ServiceError('InvalidChannelARN', `${ref} is not a channel ARN or channel ID.`);
    }
    const channel = this.#deps.store.get(parsed.id);
    const found =
      channel !== undefined &&
      (parsed.accountId === undefined || (parsed.accountId === channel.accountId && parsed.region === channel.region));
    if (!found) throw new ServiceError('ChannelNotFound', `The channel ${ref} does not exist.`);
    if (channel.accountId !== caller.principal.accountId) {
      throw new ServiceError(
        'ChannelInsufficientPermission',
        `The channel ${ref} belongs to another account; only its owner may put events into it.`,
      );
    }
    if (channel.region !== caller.region) {
      throw new ServiceError('ChannelNotFound', `The channel ${ref} does not exist in ${caller.region}.`);
    }
    return channel;
  }

  /** Destinations must be the caller's single-Region stores that take ActivityAuditLog events (facts §8.4). */
  #destinations(caller: Caller, given: CreateChannelInput['Destinations']): ChannelDestination[] {
    const out: ChannelDestination[] = [];
    for (const d of given) {
      if (d.Type !== 'EVENT_DATA_STORE') {
        throw new ServiceError(
          'InvalidParameterException',
          `Destination type ${d.Type} is not supported: channels deliver to event data stores (EVENT_DATA_STORE); AWS_SERVICE channels are made by AWS services.`,
        );
      }
      const store = this.#deps.eventDataStores.resolve(caller, d.Location);
      if (store.status === 'PENDING_DELETION') {
        throw new ServiceError(
          'InactiveEventDataStoreException',
          `Event data store ${store.arn} is pending deletion; restore it before a channel delivers to it.`,
        );
      }
      if (!storeCategories(store.advancedEventSelectors).includes('ActivityAuditLog') || store.multiRegionEnabled) {
        throw new ServiceError(
          'InvalidEventDataStoreCategoryException',
          `Event data store ${store.arn} cannot take a channel's events: it must select eventCategory ActivityAuditLog and be single-Region.`,
        );
      }
      if (out.some((o) => o.Location === store.arn)) {
        throw new ServiceError('InvalidParameterException', `Destination ${store.arn} is listed twice.`);
      }
      out.push({ Type: 'EVENT_DATA_STORE', Location: store.arn });
    }
    return out;
  }

  #checkNameFree(caller: Caller, name: string, except: string | undefined): void {
    if (this.list(caller).some((c) => c.name === name && c.id !== except)) {
      throw new ServiceError(
        'ChannelAlreadyExistsException',
        `A channel named ${name} already exists in ${caller.region} for account ${caller.principal.accountId}.`,
      );
    }
  }
}

/** A channel's IngestionStatus after an attempt: its time, and the last event it accepted if it got that far. */
function attempted(status: IngestionStatus, now: number, checked: CheckedAuditEvents | undefined): IngestionStatus {
  const lastAttemptId = checked?.successful[checked.successful.length - 1]?.eventID;
  return {
    ...status,
    latestAttemptMs: now,
    ...(lastAttemptId !== undefined ? { latestAttemptEventId: lastAttemptId } : {}),
  };
}

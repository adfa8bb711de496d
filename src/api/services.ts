import type { Logger } from 'pino';
import type { Capture } from '../capture/capture.ts';
import type { IngestCheckers } from '../capture/ingest-workers.ts';
import type { EventHistory, LookupRateLimit } from '../history/index.ts';
import type { IdentityStore } from '../identity/index.ts';
import type {
  ChannelService,
  DashboardService,
  EventDataStoreService,
  LakeImports,
  LakeQueries,
} from '../lake/index.ts';
import type { Clock } from '../model/clock.ts';
import type { IdSource } from '../model/ids.ts';
import type { SigningKeys, TrailDelivery, TrailService } from '../trails/index.ts';

/**
 * The domain services the API layer calls; built once by the composition root (src/app.ts). Settings are not
 * among them: a handler that needs one gets that value, never the loaded config with its credentials.
 */
export interface Services {
  clock: Clock;
  ids: IdSource;
  identity: IdentityStore;
  trails: TrailService;
  delivery: TrailDelivery;
  signingKeys: SigningKeys;
  history: EventHistory;
  eventDataStores: EventDataStoreService;
  lakeQueries: LakeQueries;
  channels: ChannelService;
  lakeImports: LakeImports;
  dashboards: DashboardService;
  lookupRateLimit: LookupRateLimit;
  capture: Capture;
  ingestCheckers: IngestCheckers;
  logger: Logger;
}

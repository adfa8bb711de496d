import type { IdentityStore } from '../../identity/index.ts';
import type { Clock } from '../../model/clock.ts';
import type { ObjectStore } from '../../objectstore/index.ts';
import {
  DIGEST_SIGNATURE_ALGORITHM,
  type DigestContent,
  type DigestLogFile,
  digestKey,
  digestMetadata,
  digestTime,
  gzipOneMember,
  HASH_ALGORITHM,
  serializeDigest,
  sha256Hex,
  signDigest,
} from '../digest-file.ts';
import type { SigningKeys } from '../signing-keys.ts';
import type { DeliveryStore, DigestChain, TrailDeliveryState } from './delivery-store.ts';
import { trailAccounts, trailRegions } from './trail-scope.ts';

/**
 * Digest files (facts §5.4–5.5): every digest interval, one per trail, account and Region it covers (also
 * when no log file was delivered), listing the log files delivered since the previous one and chained to
 * it by its signature and hash, signed with the Region's key, the signature in the object's metadata.
 *
 * Exactly once: a digest's end time is stored on its chain before the object is written; a restart writes
 * the same digest again (same key, same bytes: RSA PKCS#1 v1.5 signatures are deterministic) and only then
 * moves the chain on. A trail that stops logging gets a final digest up to the delivery of its StopLogging
 * record (so it lists the file holding it); its next
 * StartLogging begins new chains, whose first digest has null `previous*` fields.
 */
export interface DigestWriterDeps {
  store: DeliveryStore;
  objects: ObjectStore;
  identity: IdentityStore;
  signingKeys: SigningKeys;
  clock: Clock;
}

export class DigestWriter {
  readonly #deps: DigestWriterDeps;

  constructor(deps: DigestWriterDeps) {
    this.#deps = deps;
  }

  /** Writes the digests due for one trail; returns true once a stopped trail's chains are closed. */
  async writeFor(state: TrailDeliveryState, onError: (error: unknown) => void): Promise<'open' | 'closed'> {
    const { trail } = state;
    const closing = state.finalDigestAtMs !== undefined;
    if (!trail.logFileValidationEnabled || (!state.logging && !closing)) {
      // Validation off (or not logging): the chain breaks; turning it on again starts new chains.
      await this.#deps.store.deleteChains(state.trailKey);
      return 'closed';
    }
    const existing = new Map(
      (await this.#deps.store.chains(state.trailKey)).map((c) => [`${c.accountId}/${c.region}`, c]),
    );
    const endMs = state.finalDigestAtMs ?? this.#deps.clock.now();
    const startMs = Math.max(trail.startLoggingTimeMs ?? endMs, trail.validationSinceMs ?? 0);
    for (const accountId of trailAccounts(trail, this.#deps.identity)) {
      for (const region of trailRegions(trail)) {
        const chain = existing.get(`${accountId}/${region}`) ?? {
          trailKey: state.trailKey,
          accountId,
          region,
          startMs,
        };
        try {
          // A final digest is never skipped for being in the second its predecessor ended: it lists the last files.
          await this.#writeOne(state, chain, closing ? Math.max(endMs, chain.startMs + 1000) : endMs);
        } catch (error) {
          onError(error);
        }
      }
    }
    if (!closing) return 'open';
    await this.#deps.store.deleteChains(state.trailKey);
    return 'closed';
  }

  async #writeOne(state: TrailDeliveryState, chain: DigestChain, nowMs: number): Promise<void> {
    const { trail } = state;
    const endMs = chain.pendingEndMs ?? Math.floor(nowMs / 1000) * 1000;
    if (endMs <= chain.startMs) return;
    if (chain.pendingEndMs === undefined) await this.#deps.store.saveChain({ ...chain, pendingEndMs: endMs });
    const files = await this.#deps.store.pendingFiles(chain, endMs);
    const key = digestKey({
      prefix: trail.s3KeyPrefix,
      organizationId: trail.isOrganizationTrail ? trail.organizationId : undefined,
      accountId: chain.accountId,
      region: chain.region,
      trailName: trail.name,
      homeRegion: trail.homeRegion,
      endMs,
    });
    const signingKey = await this.#deps.signingKeys.current(chain.region);
    const content: DigestContent = {
      awsAccountId: chain.accountId,
      digestStartTime: digestTime(chain.startMs),
      digestEndTime: digestTime(endMs),
      digestS3Bucket: trail.s3BucketName,
      digestS3Object: key,
      digestPublicKeyFingerprint: signingKey.fingerprint,
      digestSignatureAlgorithm: DIGEST_SIGNATURE_ALGORITHM,
      ...eventTimes(files),
      previousDigestS3Bucket: chain.previous?.bucket ?? null,
      previousDigestS3Object: chain.previous?.key ?? null,
      previousDigestHashValue: chain.previous?.hash ?? null,
      previousDigestHashAlgorithm: chain.previous ? HASH_ALGORITHM : null,
      previousDigestSignature: chain.previous?.signature ?? null,
      logFiles: files,
    };
    const bytes = serializeDigest(content);
    const signature = signDigest(content, bytes, signingKey.privateKey);
    await this.#deps.objects.putObject({
      bucket: trail.s3BucketName,
      key,
      body: gzipOneMember(bytes),
      contentType: 'application/json',
      metadata: digestMetadata(signature),
      acl: 'bucket-owner-full-control',
      // No kmsKeyId: digest files stay SSE-S3 when a trail encrypts its log files with KMS (facts §5.2).
    });
    await this.#deps.store.digestWritten(chain, endMs, {
      bucket: trail.s3BucketName,
      key,
      signature,
      hash: sha256Hex(bytes),
    });
  }
}

/** The newest and oldest event times over all listed files; both null when there are none. */
function eventTimes(files: DigestLogFile[]): { newestEventTime: string | null; oldestEventTime: string | null } {
  let newest: string | null = null;
  let oldest: string | null = null;
  for (const f of files) {
    if (newest === null || Date.parse(f.newestEventTime) > Date.parse(newest)) newest = f.newestEventTime;
    if (oldest === null || Date.parse(f.oldestEventTime) < Date.parse(oldest)) oldest = f.oldestEventTime;
  }
  return { newestEventTime: newest, oldestEventTime: oldest };
}

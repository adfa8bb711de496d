export { policyAllowsCloudTrail } from './bucket-policy.ts';
export type { DeliveryStatus } from './delivery/delivery-store.ts';
export { createNotifier, type Notifier } from './delivery/notifier.ts';
export { TrailDelivery } from './delivery/trail-delivery.ts';
export {
  DIGEST_SIGNATURE_ALGORITHM,
  type DigestContent,
  type DigestLogFile,
  digestKey,
  digestMetadata,
  digestTime,
  gzipOneMember,
  HASH_ALGORITHM,
  type KeyRoot,
  logFileKey,
  serializeDigest,
  sha256Hex,
  signatureString,
  signDigest,
  verifyDigest,
} from './digest-file.ts';
export {
  type AdvancedEventSelector,
  type EventSelector,
  isTrailCategory,
  type StoredEventSelector,
  validateAdvancedEventSelectors,
} from './event-selectors.ts';
export type { InsightSelector } from './insight-selectors.ts';
export { createKmsKeys, type KmsKeys } from './kms-keys.ts';
export { signSha256WithRsa, verifySha256WithRsa } from './rsa-signature.ts';
export { compileSelectors, eventCategoryOf, type RecordPredicate } from './selector-match.ts';
export {
  KEY_VALIDITY_MS,
  keyFingerprint,
  type PublicKey,
  publicKeyDer,
  ROTATE_BEFORE_END_MS,
  type SigningKey,
  SigningKeys,
} from './signing-keys.ts';
export { createSnsTopics, type SnsTopics } from './sns-topics.ts';
export { type TrailRecord, trailOutput, trailSettingsOutput } from './trail.ts';
export { isShadow, TrailAccess, trailOrder } from './trail-access.ts';
export {
  mergeTags,
  normaliseKmsKeyId,
  removeTags,
  retaggedTags,
  type Tag,
  validateBucketName,
  validateTagKey,
  validateTags,
} from './trail-rules.ts';
export {
  getEventConfiguration,
  getInsightSelectors,
  putEventConfiguration,
  putEventSelectors,
  putInsightSelectors,
  selectorsOf,
} from './trail-selectors.ts';
export { MAX_TRAILS_PER_REGION, TrailService, type TrailSettingsInput } from './trail-service.ts';
export { TrailStore } from './trail-store.ts';
export { addTags, listTags, removeTagsFrom } from './trail-tags.ts';

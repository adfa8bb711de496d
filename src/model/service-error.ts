/**
 * The one error table (style.md item 5): every error opentrail answers with, by its exact wire name, with
 * its HTTP status. Domain code throws `new ServiceError(name, message)`; only the API layer serialises.
 * `test/error-table.test.ts` checks the service errors against botocore's models and the per-operation
 * lists at run time.
 */

/** Errors the CloudTrail model declares (all modelled as HTTP 400, facts §1.3). */
const CLOUDTRAIL_ERRORS = {
  AccessDeniedException: 400,
  AccountHasOngoingImportException: 400,
  AccountNotFoundException: 400,
  AccountNotRegisteredException: 400,
  AccountRegisteredException: 400,
  CannotDelegateManagementAccountException: 400,
  ChannelARNInvalidException: 400,
  ChannelAlreadyExistsException: 400,
  ChannelExistsForEDSException: 400,
  ChannelMaxLimitExceededException: 400,
  ChannelNotFoundException: 400,
  CloudTrailARNInvalidException: 400,
  CloudTrailAccessNotEnabledException: 400,
  CloudTrailInvalidClientTokenIdException: 400,
  CloudWatchLogsDeliveryUnavailableException: 400,
  ConcurrentModificationException: 400,
  ConflictException: 400,
  DelegatedAdminAccountLimitExceededException: 400,
  EventDataStoreARNInvalidException: 400,
  EventDataStoreAlreadyExistsException: 400,
  EventDataStoreFederationEnabledException: 400,
  EventDataStoreHasOngoingImportException: 400,
  EventDataStoreMaxLimitExceededException: 400,
  EventDataStoreNotFoundException: 400,
  EventDataStoreTerminationProtectedException: 400,
  GenerateResponseException: 400,
  ImportNotFoundException: 400,
  InactiveEventDataStoreException: 400,
  InactiveQueryException: 400,
  InsightNotEnabledException: 400,
  InsufficientDependencyServiceAccessPermissionException: 400,
  InsufficientEncryptionPolicyException: 400,
  InsufficientIAMAccessPermissionException: 400,
  InsufficientS3BucketPolicyException: 400,
  InsufficientSnsTopicPolicyException: 400,
  InvalidCloudWatchLogsLogGroupArnException: 400,
  InvalidCloudWatchLogsRoleArnException: 400,
  InvalidDateRangeException: 400,
  InvalidEventCategoryException: 400,
  InvalidEventDataStoreCategoryException: 400,
  InvalidEventDataStoreStatusException: 400,
  InvalidEventSelectorsException: 400,
  InvalidHomeRegionException: 400,
  InvalidImportSourceException: 400,
  InvalidInsightSelectorsException: 400,
  InvalidKmsKeyIdException: 400,
  InvalidLookupAttributesException: 400,
  InvalidMaxResultsException: 400,
  InvalidNextTokenException: 400,
  InvalidParameterCombinationException: 400,
  InvalidParameterException: 400,
  InvalidQueryStatementException: 400,
  InvalidQueryStatusException: 400,
  InvalidS3BucketNameException: 400,
  InvalidS3PrefixException: 400,
  InvalidSnsTopicNameException: 400,
  InvalidSourceException: 400,
  InvalidTagParameterException: 400,
  InvalidTimeRangeException: 400,
  InvalidTokenException: 400,
  InvalidTrailNameException: 400,
  KmsException: 400,
  KmsKeyDisabledException: 400,
  KmsKeyNotFoundException: 400,
  MaxConcurrentQueriesException: 400,
  MaximumNumberOfTrailsExceededException: 400,
  NoManagementAccountSLRExistsException: 400,
  NotOrganizationManagementAccountException: 400,
  NotOrganizationMasterAccountException: 400,
  OperationNotPermittedException: 400,
  OrganizationNotInAllFeaturesModeException: 400,
  OrganizationsNotInUseException: 400,
  QueryIdNotFoundException: 400,
  ResourceARNNotValidException: 400,
  ResourceNotFoundException: 400,
  ResourcePolicyNotFoundException: 400,
  ResourcePolicyNotValidException: 400,
  ResourceTypeNotSupportedException: 400,
  S3BucketDoesNotExistException: 400,
  ServiceQuotaExceededException: 400,
  TagsLimitExceededException: 400,
  TrailAlreadyExistsException: 400,
  TrailNotFoundException: 400,
  TrailNotProvidedException: 400,
  UnsupportedOperationException: 400,
} as const;

/** Errors the cloudtrail-data model declares for PutAuditEvents. */
const CLOUDTRAIL_DATA_ERRORS = {
  ChannelInsufficientPermission: 400,
  ChannelNotFound: 400,
  ChannelUnsupportedSchema: 400,
  DuplicatedAuditEventId: 400,
  InvalidChannelARN: 400,
} as const;

/** Errors of AWS Organizations' DescribeOrganization (src/api/organizations-api.ts). */
const ORGANIZATIONS_ERRORS = {
  AWSOrganizationsNotInUseException: 400,
} as const;

/** Errors of the AWS protocols themselves, common to every operation (not in the service models). */
export const PROTOCOL_ERRORS = {
  IncompleteSignatureException: 400,
  InvalidSignatureException: 400,
  MissingAuthenticationTokenException: 403,
  UnrecognizedClientException: 400,
  UnknownOperationException: 400,
  SerializationException: 400,
  ValidationException: 400,
  RequestEntityTooLargeException: 413,
  InternalFailure: 500,
  ServiceUnavailableException: 503,
  /** AWS's common throttling error: any operation may answer it, modelled or not. */
  ThrottlingException: 400,
  /** Our own control-plane (admin API) resources. */
  EntityAlreadyExistsException: 400,
  NoSuchEntityException: 400,
  /** Not found for routes outside the AWS protocols (unknown paths). */
  NotFoundException: 404,
} as const;

/** What the recording proxy answers itself, in the protocol of the service it forwards to (src/proxy/). */
export const PROXY_ERRORS = {
  /** The upstream could not be reached or broke off its answer. */
  BadGateway: 502,
  /** S3's name for a request feature a server does not implement. */
  NotImplemented: 501,
  /** S3's answer to a request signed with Signature Version 2, which opentrail does not accept. */
  InvalidRequest: 400,
  /** S3's name for a body whose SHA-256 is not the one signed. */
  XAmzContentSHA256Mismatch: 400,
  /** S3's answers to reads of the local store's buckets (local-s3-reads.ts). */
  NoSuchBucket: 404,
  NoSuchKey: 404,
  AccessDenied: 403,
  InvalidRange: 416,
  InvalidArgument: 400,
} as const;

export const ERROR_STATUS = {
  ...PROXY_ERRORS,
  ...CLOUDTRAIL_ERRORS,
  ...CLOUDTRAIL_DATA_ERRORS,
  ...ORGANIZATIONS_ERRORS,
  ...PROTOCOL_ERRORS,
} as const;

export type ErrorName = keyof typeof ERROR_STATUS;

/** The members of S3's error documents that the service fills in besides Code and Message. */
export type S3ErrorMembers = Readonly<Partial<Record<'Key' | 'BucketName', string>>>;

/** An error that reaches the caller as `{"__type": name, "message": message}` with the table's status. */
export class ServiceError extends Error {
  override readonly name: ErrorName;
  readonly status: number;
  /** What S3's error documents carry besides Code and Message: the key or bucket a NoSuchKey/NoSuchBucket names. */
  readonly detail: S3ErrorMembers;

  constructor(name: ErrorName, message: string, options?: { cause?: unknown; detail?: S3ErrorMembers }) {
    super(message, options);
    this.name = name;
    this.status = ERROR_STATUS[name];
    this.detail = options?.detail ?? {};
  }

  /** 5xx errors are the service's fault; what caused them is logged, never sent. */
  get isFault(): boolean {
    return this.status >= 500;
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof ServiceError;
}

import type { OperationTable, ProxiedOperation, ProxiedService } from '../src/proxy/operation-table.ts';
import { readBotocoreModel } from './botocore-models.ts';

/**
 * The services the recording proxy names operations for, read from botocore's models: which HTTP route or
 * target each operation has, which members travel in the URI, query or headers, and which members are
 * secret. What botocore does not say (read-only, data event, CloudTrail's own event names) comes from the
 * tables below, each with its source.
 */
export const PROXIED_SERVICES = [
  ['s3', '2006-03-01'],
  ['dynamodb', '2012-08-10'],
  ['iam', '2010-05-08'],
  ['sts', '2011-06-15'],
  ['ec2', '2016-11-15'],
  ['lambda', '2015-03-31'],
  ['sns', '2010-03-31'],
  ['sqs', '2012-11-05'],
  ['kms', '2014-11-01'],
  ['logs', '2014-03-28'],
  ['events', '2015-10-07'],
  ['secretsmanager', '2017-10-17'],
  ['ssm', '2014-11-06'],
  ['cloudformation', '2010-05-15'],
  ['ecr', '2015-09-21'],
  ['ecs', '2014-11-13'],
  ['rds', '2014-10-31'],
  ['kinesis', '2013-12-02'],
  ['route53', '2013-04-01'],
  ['acm', '2015-12-08'],
  ['cloudwatch', '2010-08-01'],
  ['apigateway', '2015-07-09'],
  ['stepfunctions', '2016-11-23'],
  ['organizations', '2016-11-28'],
] as const;

export const PROXY_OPERATIONS_FILE = 'src/proxy/operations.generated.json';

/**
 * Data events and their resource types (CloudTrail User Guide, "Logging data events"; Amazon S3 User Guide,
 * "Amazon S3 CloudTrail events", object-level actions; DynamoDB Developer Guide, "DynamoDB data plane events";
 * Amazon SQS Developer Guide).
 * Every other operation is a management event.
 */
const DATA_EVENTS: Record<string, { type: string; operations: readonly string[] }> = {
  s3: {
    type: 'AWS::S3::Object',
    operations: [
      'AbortMultipartUpload',
      'CompleteMultipartUpload',
      'CopyObject',
      'CreateMultipartUpload',
      'DeleteObject',
      'DeleteObjectTagging',
      'DeleteObjects',
      'GetObject',
      'GetObjectAcl',
      'GetObjectAttributes',
      'GetObjectLegalHold',
      'GetObjectRetention',
      'GetObjectTagging',
      'GetObjectTorrent',
      'HeadObject',
      'ListMultipartUploads',
      'ListObjectVersions',
      'ListObjects',
      'ListObjectsV2',
      'ListParts',
      'PutObject',
      'PutObjectAcl',
      'PutObjectLegalHold',
      'PutObjectRetention',
      'PutObjectTagging',
      'RestoreObject',
      'SelectObjectContent',
      'UploadPart',
      'UploadPartCopy',
    ],
  },
  dynamodb: {
    type: 'AWS::DynamoDB::Table',
    operations: [
      'BatchExecuteStatement',
      'BatchGetItem',
      'BatchWriteItem',
      'DeleteItem',
      'ExecuteStatement',
      'ExecuteTransaction',
      'GetItem',
      'PutItem',
      'Query',
      'Scan',
      'TransactGetItems',
      'TransactWriteItems',
      'UpdateItem',
    ],
  },
  lambda: { type: 'AWS::Lambda::Function', operations: ['Invoke', 'InvokeWithResponseStream'] },
  sns: { type: 'AWS::SNS::Topic', operations: ['Publish', 'PublishBatch'] },
  // Amazon SQS Developer Guide, "Logging Amazon SQS API calls using AWS CloudTrail": the message operations.
  sqs: {
    type: 'AWS::SQS::Queue',
    operations: [
      'ChangeMessageVisibility',
      'ChangeMessageVisibilityBatch',
      'DeleteMessage',
      'DeleteMessageBatch',
      'ReceiveMessage',
      'SendMessage',
      'SendMessageBatch',
    ],
  },
};

/**
 * Where CloudTrail's eventName is not the API's operation name. S3 keeps the names of its older APIs
 * (seen in delivered logs: GetBucketLifecycle, GetAccelerateConfiguration; ListObjectsV2 is logged as
 * ListObjects with `list-type: 2`); Lambda suffixes its API version (the real logs under
 * shared/data/real-logs: CreateFunction20150331, GetFunction20150331v2, ...).
 */
const EVENT_NAMES: Record<string, Record<string, string>> = {
  s3: {
    GetBucketLifecycleConfiguration: 'GetBucketLifecycle',
    PutBucketLifecycleConfiguration: 'PutBucketLifecycle',
    GetBucketAccelerateConfiguration: 'GetAccelerateConfiguration',
    PutBucketAccelerateConfiguration: 'PutAccelerateConfiguration',
    GetBucketNotificationConfiguration: 'GetBucketNotification',
    PutBucketNotificationConfiguration: 'PutBucketNotification',
    ListObjectsV2: 'ListObjects',
    GetPublicAccessBlock: 'GetBucketPublicAccessBlock',
    PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
    DeletePublicAccessBlock: 'DeleteBucketPublicAccessBlock',
    GetObjectLockConfiguration: 'GetBucketObjectLockConfiguration',
    PutObjectLockConfiguration: 'PutBucketObjectLockConfiguration',
  },
  lambda: {
    AddPermission: 'AddPermission20150331v2',
    CreateEventSourceMapping: 'CreateEventSourceMapping20150331',
    CreateFunction: 'CreateFunction20150331',
    DeleteEventSourceMapping: 'DeleteEventSourceMapping20150331',
    DeleteFunction: 'DeleteFunction20150331',
    GetEventSourceMapping: 'GetEventSourceMapping20150331',
    GetFunction: 'GetFunction20150331v2',
    GetFunctionConfiguration: 'GetFunctionConfiguration20150331v2',
    GetPolicy: 'GetPolicy20150331v2',
    ListEventSourceMappings: 'ListEventSourceMappings20150331',
    ListFunctions: 'ListFunctions20150331',
    ListVersionsByFunction: 'ListVersionsByFunction20150331',
    RemovePermission: 'RemovePermission20150331v2',
    UpdateEventSourceMapping: 'UpdateEventSourceMapping20150331',
    UpdateFunctionCode: 'UpdateFunctionCode20150331v2',
    UpdateFunctionConfiguration: 'UpdateFunctionConfiguration20150331v2',
  },
};

/** Operations that only read, by CloudTrail's `readOnly`: the verbs AWS's read APIs begin with. */
const READ_ONLY =
  /^(Get|List|Describe|Head|Lookup|Search|Scan|Query|BatchGet|TransactGet|Select|View|Preview|Estimate|Check|Test|Simulate|Validate|Verify|Poll|Receive|Download|Export|Filter)(?=[A-Z]|$)/;
/**
 * Read-only calls whose verb does not say so, as the real logs under shared/data/real-logs record them:
 * KMS's cryptographic operations and STS's credential calls change no resource.
 */
const ALSO_READ_ONLY: Record<string, readonly string[]> = {
  kms: [
    'Decrypt',
    'Encrypt',
    'GenerateDataKey',
    'GenerateDataKeyPair',
    'GenerateDataKeyPairWithoutPlaintext',
    'GenerateDataKeyWithoutPlaintext',
    'GenerateMac',
    'GenerateRandom',
    'ReEncrypt',
    'Sign',
    'Verify',
    'VerifyMac',
  ],
  sts: [
    'AssumeRole',
    'AssumeRoleWithSAML',
    'AssumeRoleWithWebIdentity',
    'AssumeRoot',
    'DecodeAuthorizationMessage',
    'GetAccessKeyInfo',
    'GetCallerIdentity',
    'GetDelegatedAccessToken',
    'GetWebIdentityToken',
  ],
};

/** Calls whose verb reads but which the real logs record as writes: STS issuing session credentials. */
const NOT_READ_ONLY: Record<string, readonly string[]> = { sts: ['GetFederationToken', 'GetSessionToken'] };

/** Services whose CloudTrail eventSource is not `<endpointPrefix>.amazonaws.com` (facts §4.1). */
const EVENT_SOURCES: Record<string, string> = { cloudwatch: 'monitoring.amazonaws.com', ecr: 'ecr.amazonaws.com' };

export function generateOperationTable(): OperationTable {
  const services: Record<string, ProxiedService> = {};
  for (const [name, version] of PROXIED_SERVICES) {
    const model = readBotocoreModel(name, version) as unknown as Botocore;
    const md = model.metadata;
    const signingName = md.signingName ?? md.endpointPrefix;
    const operations: Record<string, ProxiedOperation> = {};
    const data = DATA_EVENTS[name];
    for (const [opName, op] of Object.entries(model.operations)) {
      operations[opName] = operationEntry(name, opName, op, model, data);
    }
    services[signingName] = {
      model: name,
      apiVersion: md.apiVersion,
      protocol: md.protocol,
      ...(md.protocols ? { protocols: md.protocols } : {}),
      ...(md.targetPrefix ? { targetPrefix: md.targetPrefix } : {}),
      eventSource: EVENT_SOURCES[name] ?? `${md.endpointPrefix}.amazonaws.com`,
      ...(data ? { dataResourceType: data.type } : {}),
      sensitive: memberNames(model, (ref, target) => ref.sensitive === true || target?.sensitive === true),
      timestamps: memberNames(model, (_ref, target) => target?.type === 'timestamp'),
      maps: onlyNames(model, ['map']),
      // Form-encoded requests carry every value as text, and XML answers write an empty list as an empty
      // element: these name the members to type back (JSON protocols carry their types).
      ...(md.protocol === 'query' || md.protocol === 'ec2'
        ? {
            numbers: onlyNames(model, ['integer', 'long', 'double', 'float']),
            booleans: onlyNames(model, ['boolean']),
            lists: onlyNames(model, ['list']),
          }
        : {}),
      operations,
    };
  }
  return { services };
}

export function operationTableText(): string {
  return `${JSON.stringify(generateOperationTable())}\n`;
}

function operationEntry(
  service: string,
  opName: string,
  op: BotocoreOperation,
  model: Botocore,
  data: { operations: readonly string[] } | undefined,
): ProxiedOperation {
  const [path = '/', queryText] = op.http.requestUri.split('?');
  const query: Record<string, string> = {};
  for (const part of (queryText ?? '').split('&').filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    query[eq < 0 ? part : part.slice(0, eq)] = eq < 0 ? '' : part.slice(eq + 1);
  }
  const input = op.input ? model.shapes[op.input.shape] : undefined;
  const required = new Set(input?.required ?? []);
  const bind: [string, string, string][] = [];
  const requiredQuery: string[] = [];
  const requiredHeaders: string[] = [];
  for (const [member, ref] of Object.entries(input?.members ?? {})) {
    if (ref.location === undefined || ref.location === 'headers' || ref.location === 'statusCode') continue;
    const wire = ref.locationName ?? member;
    bind.push([ref.location, wire, member]);
    if (required.has(member) && ref.location === 'querystring') requiredQuery.push(wire);
    if (required.has(member) && ref.location === 'header') requiredHeaders.push(wire.toLowerCase());
  }
  const eventName = EVENT_NAMES[service]?.[opName];
  return {
    method: op.http.method,
    path,
    ...(Object.keys(query).length > 0 ? { query } : {}),
    ...(requiredQuery.length > 0 ? { requiredQuery } : {}),
    ...(requiredHeaders.length > 0 ? { requiredHeaders } : {}),
    ...(bind.length > 0 ? { bind } : {}),
    readOnly:
      (READ_ONLY.test(opName) && !(NOT_READ_ONLY[service]?.includes(opName) ?? false)) ||
      (ALSO_READ_ONLY[service]?.includes(opName) ?? false),
    ...(data?.operations.includes(opName) ? { data: true } : {}),
    ...(eventName !== undefined ? { eventName } : {}),
  };
}

/**
 * Names of members that are of these types wherever the model has a member of that name: maps, whose keys
 * are the caller's (tag keys, attribute names), which CloudTrail records as sent, not lower-camel; numbers,
 * booleans and lists, to type the values of protocols that carry them as text.
 */
function onlyNames(model: Botocore, types: readonly string[]): string[] {
  const has = (target: BotocoreShape | undefined) => target !== undefined && types.includes(target.type);
  const other = new Set(memberNames(model, (_ref, target) => !has(target)));
  return memberNames(model, (_ref, target) => has(target)).filter((n) => !other.has(n));
}

/** Member names (and their wire names) anywhere in the model whose member or shape passes `test`. */
function memberNames(
  model: Botocore,
  test: (ref: BotocoreRef, target: BotocoreShape | undefined) => boolean,
): string[] {
  const names = new Set<string>();
  for (const shape of Object.values(model.shapes)) {
    for (const [member, ref] of Object.entries(shape.members ?? {})) {
      if (test(ref, model.shapes[ref.shape])) {
        names.add(member);
        if (ref.locationName !== undefined) names.add(ref.locationName);
      }
    }
  }
  return [...names].sort();
}

interface BotocoreRef {
  shape: string;
  location?: string;
  locationName?: string;
  sensitive?: boolean;
}
interface BotocoreOperation {
  http: { method: string; requestUri: string };
  input?: BotocoreRef;
}
interface Botocore {
  metadata: {
    apiVersion: string;
    protocol: string;
    protocols?: string[];
    endpointPrefix: string;
    signingName?: string;
    targetPrefix?: string;
  };
  operations: Record<string, BotocoreOperation>;
  shapes: Record<string, BotocoreShape>;
}
interface BotocoreShape {
  type: string;
  required?: string[];
  members?: Record<string, BotocoreRef>;
  sensitive?: boolean;
}

import { ServiceError } from '../model/service-error.ts';

/**
 * PutEventSelectors input rules (facts §7, §11). Every failure is InvalidEventSelectorsException, the only
 * selector error the model declares for the operation; messages name the selector and say what to fix.
 */

export type ReadWriteType = 'ReadOnly' | 'WriteOnly' | 'All';

export interface DataResource {
  Type?: string;
  Values?: string[];
}

export interface EventSelector {
  ReadWriteType?: ReadWriteType;
  IncludeManagementEvents?: boolean;
  DataResources?: DataResource[];
  ExcludeManagementEventSources?: string[];
}

/** A basic selector as stored and echoed by GetEventSelectors: every member present (facts §7.1). */
export interface StoredEventSelector {
  ReadWriteType: ReadWriteType;
  IncludeManagementEvents: boolean;
  DataResources: { Type: string; Values: string[] }[];
  ExcludeManagementEventSources: string[];
}

export interface AdvancedFieldSelector {
  Field: string;
  Equals?: string[];
  StartsWith?: string[];
  EndsWith?: string[];
  NotEquals?: string[];
  NotStartsWith?: string[];
  NotEndsWith?: string[];
}

export interface AdvancedEventSelector {
  Name?: string;
  FieldSelectors: AdvancedFieldSelector[];
}

export type SelectorTarget = 'trail' | 'eventDataStore';

export interface EventSelectorsInput {
  EventSelectors?: EventSelector[];
  AdvancedEventSelectors?: AdvancedEventSelector[];
}

export type ValidatedEventSelectors =
  | { EventSelectors: StoredEventSelector[] }
  | { AdvancedEventSelectors: AdvancedEventSelector[] };

export const MAX_EVENT_SELECTORS = 5;
export const MAX_DATA_RESOURCE_VALUES = 250;
export const MAX_ADVANCED_VALUES = 500;
export const MAX_EDS_ADVANCED_SELECTORS = 5;

const invalid = (message: string) => new ServiceError('InvalidEventSelectorsException', message);

/** What a trail logs before PutEventSelectors: all management events, no data events (facts §7.1). */
export function defaultEventSelectors(): StoredEventSelector[] {
  return [
    { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
  ];
}

/** Validates one PutEventSelectors request and returns the selectors to store, with AWS's defaults filled in. */
export function validateEventSelectors(
  input: EventSelectorsInput,
  target: SelectorTarget = 'trail',
): ValidatedEventSelectors {
  const { EventSelectors: basic, AdvancedEventSelectors: advanced } = input;
  if (basic !== undefined && advanced !== undefined) {
    throw invalid('Specify either EventSelectors or AdvancedEventSelectors, not both.');
  }
  if (advanced !== undefined) return { AdvancedEventSelectors: validateAdvancedEventSelectors(advanced, target) };
  if (basic === undefined) throw invalid('Specify EventSelectors or AdvancedEventSelectors.');
  if (target === 'eventDataStore') throw invalid('Event data stores take AdvancedEventSelectors only.');
  return { EventSelectors: validateBasicSelectors(basic) };
}

// --- Basic selectors (facts §7.2) ---

const BASIC_RESOURCE_TYPES = ['AWS::S3::Object', 'AWS::Lambda::Function', 'AWS::DynamoDB::Table'] as const;
type BasicResourceType = (typeof BASIC_RESOURCE_TYPES)[number];
const EXCLUDABLE_SOURCES = ['kms.amazonaws.com', 'rdsdata.amazonaws.com'];
const READ_WRITE_TYPES: readonly string[] = ['ReadOnly', 'WriteOnly', 'All'];

const ARN = 'arn:aws(?:-[a-z]+)*';
/** Values that select every resource of the type; they do not count towards the 250 limit. */
const ALL_RESOURCES: Record<BasicResourceType, RegExp> = {
  'AWS::S3::Object': new RegExp(`^${ARN}:s3(?::::)?$`),
  'AWS::Lambda::Function': new RegExp(`^${ARN}:lambda$`),
  'AWS::DynamoDB::Table': new RegExp(`^${ARN}:dynamodb$`),
};
// An S3 value needs the `/` after the bucket: `arn:aws:s3:::bucket` alone is refused by AWS.
const ONE_RESOURCE: Record<BasicResourceType, RegExp> = {
  'AWS::S3::Object': new RegExp(`^${ARN}:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.*$`),
  'AWS::Lambda::Function': new RegExp(
    `^${ARN}:lambda:[a-z0-9-]+:\\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$`,
  ),
  'AWS::DynamoDB::Table': new RegExp(`^${ARN}:dynamodb:[a-z0-9-]+:\\d{12}:table/[A-Za-z0-9_.-]{3,255}$`),
};
const VALUE_HINT: Record<BasicResourceType, string> = {
  'AWS::S3::Object':
    'use arn:aws:s3 for all buckets, arn:aws:s3:::<bucket>/ for a whole bucket (note the trailing slash) or arn:aws:s3:::<bucket>/<prefix>',
  'AWS::Lambda::Function':
    'use arn:aws:lambda for all functions or a function ARN such as arn:aws:lambda:us-east-1:123456789012:function:my-function',
  'AWS::DynamoDB::Table':
    'use arn:aws:dynamodb for all tables or a table ARN such as arn:aws:dynamodb:us-east-1:123456789012:table/my-table',
};

function validateBasicSelectors(selectors: readonly EventSelector[]): StoredEventSelector[] {
  if (selectors.length < 1 || selectors.length > MAX_EVENT_SELECTORS) {
    throw invalid(
      `Specify a valid number of event selectors (1 to ${MAX_EVENT_SELECTORS}) for a trail; ${selectors.length} were given.`,
    );
  }
  const stored = selectors.map((s, i) => normaliseBasicSelector(s, `EventSelectors[${i}]`));
  const specific = stored
    .flatMap((s) => s.DataResources)
    .reduce((n, r) => n + r.Values.filter((v) => !ALL_RESOURCES[r.Type as BasicResourceType].test(v)).length, 0);
  if (specific > MAX_DATA_RESOURCE_VALUES) {
    throw invalid(
      `Specify a valid number of DataResources.Values (0 to ${MAX_DATA_RESOURCE_VALUES}) for all your selectors; ${specific} were given. Values that select all resources of a type (arn:aws:s3, arn:aws:lambda, arn:aws:dynamodb) do not count.`,
    );
  }
  return stored;
}

function normaliseBasicSelector(s: EventSelector, where: string): StoredEventSelector {
  const readWrite = s.ReadWriteType ?? 'All';
  if (!READ_WRITE_TYPES.includes(readWrite)) {
    throw invalid(`${where}.ReadWriteType ${readWrite} is not valid: use ReadOnly, WriteOnly or All.`);
  }
  const includeManagement = s.IncludeManagementEvents ?? true;
  const dataResources = (s.DataResources ?? []).map((r, j) => normaliseDataResource(r, `${where}.DataResources[${j}]`));
  if (!includeManagement && dataResources.length === 0) {
    // AWS's own wording for this case.
    throw invalid(
      'Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty.',
    );
  }
  const excluded = s.ExcludeManagementEventSources ?? [];
  for (const source of excluded) {
    if (!EXCLUDABLE_SOURCES.includes(source)) {
      throw invalid(
        `${where}.ExcludeManagementEventSources cannot contain ${source}: only kms.amazonaws.com and rdsdata.amazonaws.com can be excluded.`,
      );
    }
  }
  return {
    ReadWriteType: readWrite,
    IncludeManagementEvents: includeManagement,
    DataResources: dataResources,
    ExcludeManagementEventSources: [...excluded],
  };
}

function normaliseDataResource(r: DataResource, where: string): { Type: string; Values: string[] } {
  const type = r.Type;
  if (type === undefined || !(BASIC_RESOURCE_TYPES as readonly string[]).includes(type)) {
    throw invalid(
      `${where}.Type ${type ?? '(missing)'} is not valid for EventSelectors: use ${BASIC_RESOURCE_TYPES.join(', ')}, or AdvancedEventSelectors for other resource types.`,
    );
  }
  const basicType = type as BasicResourceType;
  const values = r.Values ?? [];
  for (const value of values) {
    if (!ALL_RESOURCES[basicType].test(value) && !ONE_RESOURCE[basicType].test(value)) {
      throw invalid(`Value ${value} for DataResources.Values is invalid. For ${type}, ${VALUE_HINT[basicType]}.`);
    }
  }
  return { Type: type, Values: [...values] };
}

// --- Advanced selectors (facts §7.3) ---

export const OPERATORS = ['Equals', 'StartsWith', 'EndsWith', 'NotEquals', 'NotStartsWith', 'NotEndsWith'] as const;
const EQUALS_ONLY = ['readOnly', 'eventCategory', 'resources.type'];
const TRAIL_CATEGORIES = ['Management', 'Data', 'NetworkActivity'];
/** Whether trails deliver a category's events; the other categories exist only in event data stores. */
export function isTrailCategory(category: string): boolean {
  return TRAIL_CATEGORIES.includes(category);
}
/** Event data stores of Config items, Audit Manager evidence, integrations and Insights. */
const EDS_ONLY_CATEGORIES = ['ConfigurationItem', 'Evidence', 'ActivityAuditLog', 'Insight'];

/**
 * `resources.type` values of data events (facts §7.3, whose list is partial): the CloudTrail API Reference's
 * list for AdvancedFieldSelector (as the AWS SDKs' generated docs carry it), and objects in S3 directory
 * buckets, which the API Reference's DataResource says are logged through advanced selectors.
 */
export const DATA_RESOURCE_TYPES: readonly string[] = `
  AWS::DynamoDB::Table AWS::Lambda::Function AWS::S3::Object AWS::AppConfig::Configuration AWS::B2BI::Transformer
  AWS::Bedrock::AgentAlias AWS::Bedrock::KnowledgeBase AWS::Cassandra::Table AWS::CloudFront::KeyValueStore
  AWS::CloudTrail::Channel AWS::CodeWhisperer::Customization AWS::CodeWhisperer::Profile AWS::Cognito::IdentityPool
  AWS::DynamoDB::Stream AWS::EC2::Snapshot AWS::EMRWAL::Workspace AWS::FinSpace::Environment AWS::Glue::Table
  AWS::GreengrassV2::ComponentVersion AWS::GreengrassV2::Deployment AWS::GuardDuty::Detector AWS::IoT::Certificate
  AWS::IoT::Thing AWS::IoTSiteWise::Asset AWS::IoTSiteWise::TimeSeries AWS::IoTTwinMaker::Entity
  AWS::IoTTwinMaker::Workspace AWS::KendraRanking::ExecutionPlan AWS::KinesisVideo::Stream
  AWS::ManagedBlockchain::Network AWS::ManagedBlockchain::Node AWS::MedicalImaging::Datastore AWS::NeptuneGraph::Graph
  AWS::PCAConnectorAD::Connector AWS::QApps::QApp AWS::QBusiness::Application AWS::QBusiness::DataSource
  AWS::QBusiness::Index AWS::QBusiness::WebExperience AWS::RDS::DBCluster AWS::S3::AccessPoint AWS::S3Express::Object
  AWS::S3ObjectLambda::AccessPoint AWS::S3Outposts::Object AWS::SageMaker::Endpoint
  AWS::SageMaker::ExperimentTrialComponent AWS::SageMaker::FeatureGroup AWS::ServiceDiscovery::Namespace
  AWS::ServiceDiscovery::Service AWS::SCN::Instance AWS::SNS::PlatformEndpoint AWS::SNS::Topic AWS::SQS::Queue
  AWS::SSM::ManagedNode AWS::SSMMessages::ControlChannel AWS::SWF::Domain AWS::ThinClient::Device
  AWS::ThinClient::Environment AWS::Timestream::Database AWS::Timestream::Table AWS::VerifiedPermissions::PolicyStore
  AWS::XRay::Trace`
  .trim()
  .split(/\s+/);

const MANAGEMENT_FIELDS = ['eventCategory', 'eventSource', 'readOnly'];
const EDS_MANAGEMENT_FIELDS = [
  ...MANAGEMENT_FIELDS,
  'eventName',
  'eventType',
  'sessionCredentialFromConsole',
  'userIdentity.arn',
];
const DATA_FIELDS = [...EDS_MANAGEMENT_FIELDS, 'resources.type', 'resources.ARN'];
const NETWORK_FIELDS = ['eventCategory', 'eventSource', 'eventName', 'errorCode', 'vpcEndpointId'];

function allowedFields(category: string, target: SelectorTarget): string[] {
  const trail = target === 'trail';
  if (category === 'Management') return trail ? MANAGEMENT_FIELDS : EDS_MANAGEMENT_FIELDS;
  if (category === 'Data') return DATA_FIELDS;
  // The API reference allows userIdentity.arn on network activity selectors of trails only.
  if (category === 'NetworkActivity') return trail ? [...NETWORK_FIELDS, 'userIdentity.arn'] : NETWORK_FIELDS;
  return ['eventCategory'];
}

type FieldMap = Map<string, AdvancedFieldSelector>;

export function validateAdvancedEventSelectors(
  selectors: readonly AdvancedEventSelector[],
  target: SelectorTarget = 'trail',
): AdvancedEventSelector[] {
  if (selectors.length === 0) throw invalid('AdvancedEventSelectors must contain at least one selector.');
  // Trails have no count limit of their own: the 500-value cap bounds them (facts §11).
  if (target === 'eventDataStore' && selectors.length > MAX_EDS_ADVANCED_SELECTORS) {
    throw invalid(
      `An event data store can have at most ${MAX_EDS_ADVANCED_SELECTORS} advanced event selectors; ${selectors.length} were given.`,
    );
  }
  for (const [i, s] of selectors.entries()) validateAdvancedSelector(s, `AdvancedEventSelectors[${i}]`, target);
  const total = selectors
    .flatMap((s) => s.FieldSelectors)
    .reduce((n, f) => n + OPERATORS.reduce((m, op) => m + (f[op]?.length ?? 0), 0), 0);
  if (total > MAX_ADVANCED_VALUES) {
    throw invalid(
      `Specify up to ${MAX_ADVANCED_VALUES} values for all conditions in all advanced event selectors; ${total} were given.`,
    );
  }
  return structuredClone([...selectors]);
}

function validateAdvancedSelector(s: AdvancedEventSelector, where: string, target: SelectorTarget): void {
  if (s.Name !== undefined && s.Name.length > 1000) throw invalid(`${where}.Name must be at most 1000 characters.`);
  if (s.FieldSelectors.length === 0) {
    throw invalid(`${where}.FieldSelectors must contain at least one field selector, starting with eventCategory.`);
  }
  const fields: FieldMap = new Map();
  for (const f of s.FieldSelectors) {
    if (fields.has(f.Field)) throw invalid(`${where}: field ${f.Field} appears more than once; combine its values.`);
    validateOperators(f, `${where} field ${f.Field}`);
    fields.set(f.Field, f);
  }
  const category = eventCategoryOf(fields, where, target);
  const allowed = allowedFields(category, target);
  for (const field of fields.keys()) {
    if (!allowed.includes(field)) {
      throw invalid(
        `${where}: field ${field} is not supported for ${category} events on ${target === 'trail' ? 'a trail' : 'an event data store'}; use ${allowed.join(', ')}.`,
      );
    }
  }
  checkFieldValues(fields, category, where, target);
}

function validateOperators(f: AdvancedFieldSelector, where: string): void {
  const used = OPERATORS.filter((op) => f[op] !== undefined);
  if (used.length === 0) {
    throw invalid(`${where} has no operator: add one of ${OPERATORS.join(', ')} with at least one value.`);
  }
  if (EQUALS_ONLY.includes(f.Field) && !onlyEquals(f)) {
    throw invalid(`${where} accepts only the Equals operator.`);
  }
  for (const op of used) {
    const values = f[op] ?? [];
    if (values.length === 0) throw invalid(`${where}: ${op} must list at least one value.`);
    for (const v of values) {
      if (v.length < 1 || v.length > 2048) throw invalid(`${where}: ${op} values must be 1 to 2048 characters long.`);
    }
  }
}

/** Whether a field selector uses no operator but Equals. */
function onlyEquals(f: AdvancedFieldSelector): boolean {
  return OPERATORS.every((op) => op === 'Equals' || f[op] === undefined);
}

function eventCategoryOf(fields: FieldMap, where: string, target: SelectorTarget): string {
  const values = fields.get('eventCategory')?.Equals;
  if (values === undefined) {
    throw invalid(
      `${where} must include an eventCategory field selector, e.g. {"Field":"eventCategory","Equals":["Management"]}.`,
    );
  }
  const categories = target === 'trail' ? TRAIL_CATEGORIES : [...TRAIL_CATEGORIES, ...EDS_ONLY_CATEGORIES];
  const [category] = values;
  if (values.length !== 1 || category === undefined || !categories.includes(category)) {
    throw invalid(`${where}: eventCategory must equal exactly one of ${categories.join(', ')}.`);
  }
  return category;
}

function checkFieldValues(fields: FieldMap, category: string, where: string, target: SelectorTarget): void {
  const readOnly = fields.get('readOnly')?.Equals ?? [];
  if (readOnly.some((v) => v !== 'true' && v !== 'false'))
    throw invalid(`${where}: readOnly must equal true or false.`);
  if (category === 'Data') checkDataResources(fields, where);
  if (category === 'NetworkActivity') {
    if (!fields.has('eventSource')) throw invalid(`${where}: network activity selectors require an eventSource field.`);
    // The User Guide: eventSource and errorCode can only use Equals; another source needs a selector of its own.
    for (const field of ['eventSource', 'errorCode']) {
      const selector = fields.get(field);
      if (selector !== undefined && !onlyEquals(selector)) {
        throw invalid(
          `${where}: for network activity events, ${field} can only use the Equals operator; log another event source with a selector of its own.`,
        );
      }
    }
    if (allValues(fields.get('errorCode')).some((v) => v !== 'VpceAccessDenied')) {
      throw invalid(`${where}: the only valid value for errorCode is VpceAccessDenied.`);
    }
  }
  const source = fields.get('eventSource');
  if (category === 'Management' && target === 'trail' && source !== undefined) {
    const ok = OPERATORS.every((op) => op === 'NotEquals' || source[op] === undefined);
    if (!ok || (source.NotEquals ?? []).some((v) => !EXCLUDABLE_SOURCES.includes(v))) {
      throw invalid(
        `${where}: for management events on a trail, eventSource can only be NotEquals kms.amazonaws.com and/or rdsdata.amazonaws.com.`,
      );
    }
  }
}

function checkDataResources(fields: FieldMap, where: string): void {
  const types = fields.get('resources.type')?.Equals;
  const [type] = types ?? [];
  if (types?.length !== 1 || type === undefined) {
    throw invalid(
      `${where}: data event selectors require a resources.type field that equals exactly one resource type.`,
    );
  }
  if (!DATA_RESOURCE_TYPES.includes(type)) {
    throw invalid(`${where}: resources.type ${type} is not a supported data resource type, such as AWS::S3::Object.`);
  }
  const arnField = fields.get('resources.ARN');
  const exact = [...(arnField?.Equals ?? []), ...(arnField?.NotEquals ?? [])];
  const pattern = type === 'AWS::S3::Object' ? /^arn:[^:]+:s3:::[^/]+\/.*$/ : /^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/;
  for (const v of exact) {
    if (!pattern.test(v)) {
      throw invalid(
        `${where}: resources.ARN value ${v} must be a full ${type} ARN for Equals and NotEquals; use StartsWith to match a prefix.`,
      );
    }
  }
}

function allValues(f: AdvancedFieldSelector | undefined): string[] {
  return f === undefined ? [] : OPERATORS.flatMap((op) => f[op] ?? []);
}

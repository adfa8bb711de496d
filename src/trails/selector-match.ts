import type { CloudTrailRecord } from '../model/record.ts';
import {
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  isTrailCategory,
  type ReadWriteType,
  type StoredEventSelector,
} from './event-selectors.ts';

/**
 * Whether a record goes to a trail, decided as CloudTrail's event selectors decide it (facts §7). A trail's stored
 * selectors are compiled once into a predicate that runs for every record the trail sees (tens of thousands a
 * second), so values become Sets, bucket maps and prefix lists up front; a call compiles nothing (no regex, no
 * per-value closure) and works out a record's category and resources at most once whichever selectors ask.
 *
 * Where AWS's documentation leaves a case open, the choice is commented where it is made: a record without
 * `readOnly` is a write (READ_WRITE), `sessionCredentialFromConsole` absent is false (FLAG_FIELDS), `resources.type`
 * and `resources.ARN` must hold for the same resource (compileAdvanced), S3 object ARNs come from
 * `requestParameters` when a record lists none (derivedS3Object), and an unqualified Lambda function ARN also
 * selects its versions and aliases (lambdaOrTableArns).
 */

export interface TrailEventSelectors {
  eventSelectors?: StoredEventSelector[] | undefined;
  advancedEventSelectors?: AdvancedEventSelector[] | undefined;
}

export type RecordPredicate = (record: CloudTrailRecord) => boolean;

/** One entry of a record's `resources`, or the S3 object derived from its request. */
export interface RecordResourceRef {
  type: string | undefined;
  arn: string | undefined;
}

/** What one predicate call knows about the record; `resources` is filled in when a selector first needs it. */
interface Subject {
  record: CloudTrailRecord;
  category: string;
  resources: RecordResourceRef[] | undefined;
}

type SubjectTest = (subject: Subject) => boolean;
type ValueTest = (value: string | undefined) => boolean;

/**
 * Compiles a trail's stored selectors into one predicate. A record matches when it matches ANY selector (facts §7.1).
 * With no selectors at all nothing matches: a new trail stores the default selector, so callers pass what is stored.
 */
export function compileSelectors(selectors: TrailEventSelectors): RecordPredicate {
  const tests: SubjectTest[] = [
    ...(selectors.eventSelectors ?? []).map(compileBasic),
    ...(selectors.advancedEventSelectors ?? []).map(compileAdvanced),
  ];
  return (record) => {
    const category = eventCategoryOf(record);
    // Insight records take their own path (PutInsightSelectors, facts §9); ActivityAuditLog, ConfigurationItem
    // and Evidence exist only in event data stores. No trail selector, basic or advanced, ever matches them.
    if (!isTrailCategory(category)) return false;
    const subject: Subject = { record, category, resources: undefined };
    for (const test of tests) if (test(subject)) return true;
    return false;
  };
}

/**
 * The record's category. `eventCategory` arrived with eventVersion 1.07 (facts §4.1); older or imported records
 * without it are classed by `eventType` and `managementEvent`: before 1.07 the only non-management events a trail
 * logged were data events.
 */
export function eventCategoryOf(record: CloudTrailRecord): string {
  const category: unknown = record.eventCategory;
  if (typeof category === 'string' && category !== '') return category;
  if (record.eventType === 'AwsCloudTrailInsight') return 'Insight';
  if (record.eventType === 'ActivityLog') return 'ActivityAuditLog';
  return record.managementEvent === false ? 'Data' : 'Management';
}

// --- Basic selectors (facts §7.2) ---

/**
 * AWS splits events into read-only and write and names no third kind, so a record without `readOnly` (some
 * AwsServiceEvent records) counts as a write: WriteOnly keeps it, ReadOnly drops it. Advanced selectors treat it the
 * same way (FLAG_FIELDS), so a basic selector and its advanced equivalent log the same events.
 */
const READ_WRITE: Record<ReadWriteType, (record: CloudTrailRecord) => boolean> = {
  All: () => true,
  ReadOnly: (record) => record.readOnly === true,
  WriteOnly: (record) => record.readOnly !== true,
};

interface DataResourceTest {
  type: string;
  eventSource: string;
  matchesArn: (arn: string) => boolean;
}

/** The resource types basic selectors take, and the only service whose data events each one selects. */
const BASIC_DATA_SOURCES: ReadonlyMap<string, string> = new Map([
  ['AWS::S3::Object', 's3.amazonaws.com'],
  ['AWS::Lambda::Function', 'lambda.amazonaws.com'],
  ['AWS::DynamoDB::Table', 'dynamodb.amazonaws.com'],
]);

function compileBasic(selector: StoredEventSelector): SubjectTest {
  const readWrite = READ_WRITE[selector.ReadWriteType];
  const includeManagement = selector.IncludeManagementEvents;
  const excludedSources: ReadonlySet<string> = new Set(selector.ExcludeManagementEventSources);
  const dataResources = selector.DataResources.flatMap(compileDataResource);
  return (subject) => {
    const { record, category } = subject;
    if (!readWrite(record)) return false;
    if (category === 'Management') {
      return includeManagement && !(record.eventSource !== undefined && excludedSources.has(record.eventSource));
    }
    // Network activity events need advanced selectors; data events need a DataResources entry that names them.
    if (category !== 'Data' || dataResources.length === 0) return false;
    for (const resource of resourcesOf(subject)) {
      if (resource.arn === undefined) continue;
      for (const test of dataResources) {
        if (test.type === resource.type && test.eventSource === record.eventSource && test.matchesArn(resource.arn)) {
          return true;
        }
      }
    }
    return false;
  };
}

/** An entry with no Values selects nothing (the validator allows it; AWS echoes it back). */
function compileDataResource(resource: { Type: string; Values: string[] }): DataResourceTest[] {
  const eventSource = BASIC_DATA_SOURCES.get(resource.Type);
  if (eventSource === undefined || resource.Values.length === 0) return [];
  const matchesArn =
    resource.Type === 'AWS::S3::Object' ? s3ObjectArns(resource.Values) : lambdaOrTableArns(resource.Values);
  return [{ type: resource.Type, eventSource, matchesArn }];
}

/**
 * `arn:<p>:s3` and `arn:<p>:s3:::` select every object of the partition; anything else is `arn:<p>:s3:::<bucket>/<key
 * prefix>` (the validator insists on the `/`), so `arn:aws:s3:::logs/` never selects bucket `logs2`. Values are
 * grouped by bucket so a record is checked against its own bucket's prefixes only.
 */
function s3ObjectArns(values: readonly string[]): (arn: string) => boolean {
  const everything: string[] = [];
  const prefixesByBucket = new Map<string, string[]>();
  for (const value of values) {
    const all = allResourcesPrefix(value);
    if (all !== undefined) {
      everything.push(all);
      continue;
    }
    const slash = value.indexOf('/');
    const bucket = value.slice(0, slash + 1);
    const prefixes = prefixesByBucket.get(bucket) ?? [];
    prefixes.push(value.slice(slash + 1));
    prefixesByBucket.set(bucket, prefixes);
  }
  return (arn) => {
    if (startsWithAny(everything, arn)) return true;
    const slash = arn.indexOf('/');
    if (slash === -1) return false;
    const prefixes = prefixesByBucket.get(arn.slice(0, slash + 1));
    return prefixes !== undefined && startsWithAny(prefixes, arn.slice(slash + 1));
  };
}

/**
 * `arn:<p>:lambda` / `arn:<p>:dynamodb` select every function or table of the partition; any other value is an exact
 * ARN, so `function:helloworld` never selects `function:helloworld2` (DataResource.Values in the model). AWS does not
 * say whether an unqualified function ARN covers invocations recorded against a version or alias
 * (`function:name:PROD`); it does here, as the function is the same. A qualified value still matches only itself.
 */
function lambdaOrTableArns(values: readonly string[]): (arn: string) => boolean {
  const everything: string[] = [];
  const exact = new Set<string>();
  for (const value of values) {
    const all = allResourcesPrefix(value);
    if (all === undefined) exact.add(value);
    else everything.push(all);
  }
  return (arn) => exact.has(arn) || startsWithAny(everything, arn) || exact.has(withoutFunctionQualifier(arn));
}

/** `arn:aws-cn:s3` or `arn:aws:s3:::` → `arn:aws-cn:s3:` / `arn:aws:s3:`; undefined for a value naming a resource. */
function allResourcesPrefix(value: string): string | undefined {
  const parts = value.split(':');
  if (parts.slice(3).some((part) => part !== '')) return undefined;
  return `${parts.slice(0, 3).join(':')}:`;
}

/** `arn:aws:lambda:us-east-1:123456789012:function:name:PROD` → the ARN up to the name; other ARNs unchanged. */
function withoutFunctionQualifier(arn: string): string {
  let colon = -1;
  for (let n = 0; n < 7; n++) {
    colon = arn.indexOf(':', colon + 1);
    if (colon === -1) return arn;
  }
  return arn.slice(0, colon);
}

// --- Advanced selectors (facts §7.3) ---

/**
 * Conditions on the record are ANDed, eventCategory first as it turns most records away. `resources.type` and
 * `resources.ARN` are conditions on ONE resource: the record matches when some entry of `resources` meets all of
 * them, so the ARN of the access point a record also lists cannot satisfy the ARN condition of a selector of type
 * AWS::S3::Object. A record without resources is tested as one resource with no type and no ARN, so the
 * absent-field rule (Not* match, the rest do not) holds there too.
 */
function compileAdvanced(selector: AdvancedEventSelector): SubjectTest {
  const recordTests: SubjectTest[] = [];
  const resourceTests: ((resource: RecordResourceRef) => boolean)[] = [];
  const fields = [...selector.FieldSelectors].sort(
    (a, b) => Number(b.Field === 'eventCategory') - Number(a.Field === 'eventCategory'),
  );
  for (const field of fields) {
    const test = compileOperators(field);
    if (field.Field === 'resources.type') resourceTests.push((resource) => test(resource.type));
    else if (field.Field === 'resources.ARN') resourceTests.push((resource) => test(resource.arn));
    else {
      const read = fieldReader(field.Field);
      recordTests.push((subject) => test(read(subject)));
    }
  }
  return (subject) => {
    for (const test of recordTests) if (!test(subject)) return false;
    if (resourceTests.length === 0) return true;
    const resources = resourcesOf(subject);
    for (const resource of resources.length > 0 ? resources : NO_RESOURCE) {
      if (meetsAll(resourceTests, resource)) return true;
    }
    return false;
  };
}

const NO_RESOURCE: readonly RecordResourceRef[] = [{ type: undefined, arn: undefined }];

function meetsAll(tests: readonly ((resource: RecordResourceRef) => boolean)[], resource: RecordResourceRef): boolean {
  for (const test of tests) if (!test(resource)) return false;
  return true;
}

/**
 * Values of one operator are ORed; the operators of one field are ANDed. Equals/StartsWith/EndsWith match when some
 * value does, the Not* operators when none does; an absent field matches no value, so only the Not* operators hold.
 */
function compileOperators(field: AdvancedFieldSelector): ValueTest {
  const tests: ValueTest[] = [];
  if (field.Equals !== undefined) tests.push(equalsAny(field.Equals));
  if (field.StartsWith !== undefined) tests.push(prefixedByAny(field.StartsWith));
  if (field.EndsWith !== undefined) tests.push(suffixedByAny(field.EndsWith));
  if (field.NotEquals !== undefined) tests.push(none(equalsAny(field.NotEquals)));
  if (field.NotStartsWith !== undefined) tests.push(none(prefixedByAny(field.NotStartsWith)));
  if (field.NotEndsWith !== undefined) tests.push(none(suffixedByAny(field.NotEndsWith)));
  const [only] = tests;
  if (tests.length === 1 && only !== undefined) return only;
  return (value) => {
    for (const test of tests) if (!test(value)) return false;
    return true;
  };
}

function equalsAny(values: readonly string[]): ValueTest {
  const set: ReadonlySet<string> = new Set(values);
  return (value) => value !== undefined && set.has(value);
}

function prefixedByAny(prefixes: readonly string[]): ValueTest {
  return (value) => value !== undefined && startsWithAny(prefixes, value);
}

function suffixedByAny(suffixes: readonly string[]): ValueTest {
  return (value) => {
    if (value === undefined) return false;
    for (const suffix of suffixes) if (value.endsWith(suffix)) return true;
    return false;
  };
}

const none =
  (test: ValueTest): ValueTest =>
  (value) =>
    !test(value);

/**
 * Both flags are booleans that CloudTrail writes only when true (`sessionCredentialFromConsole` as the string
 * "true", facts §4.1), so absence reads as "false": `readOnly Equals false` keeps writes without the member (see
 * READ_WRITE), and `sessionCredentialFromConsole Equals false` keeps calls not made from the console.
 */
const FLAG_FIELDS: ReadonlyMap<string, (subject: Subject) => string> = new Map([
  ['readOnly', (subject: Subject) => flag(subject.record.readOnly)],
  ['sessionCredentialFromConsole', (subject: Subject) => flag(subject.record['sessionCredentialFromConsole'])],
]);

const flag = (value: unknown): string => (value === true || value === 'true' ? 'true' : 'false');

/** eventCategory reads the category worked out once per record; other fields are paths into the record. */
function fieldReader(field: string): (subject: Subject) => string | undefined {
  if (field === 'eventCategory') return (subject) => subject.category;
  const flagReader = FLAG_FIELDS.get(field);
  if (flagReader !== undefined) return flagReader;
  const path = field.split('.');
  return (subject) => scalarAt(subject.record, path);
}

function scalarAt(root: unknown, path: readonly string[]): string | undefined {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string') return value;
  return typeof value === 'boolean' || typeof value === 'number' ? String(value) : undefined;
}

// --- A record's resources ---

const S3_OBJECT = 'AWS::S3::Object';

function resourcesOf(subject: Subject): RecordResourceRef[] {
  subject.resources ??= recordResources(subject.record, subject.category);
  return subject.resources;
}

/** The resources (type and ARN) a record's data event touched, as selectors see them; entries without both are left out. */
export function dataEventResourceArns(record: CloudTrailRecord): { type: string; arn: string }[] {
  return recordResources(record, eventCategoryOf(record)).flatMap(({ type, arn }) =>
    type === undefined || arn === undefined ? [] : [{ type, arn }],
  );
}

/**
 * The record's `resources`, plus the S3 object of an S3 data event that lists none. S3 writes `ARNPrefix` instead of
 * `ARN` for the objects of ListObjects and DeleteObjects (`arn:aws:s3:::bucket/` or `…/prefix`); it is matched as the
 * ARN, so a bucket selector keeps those events.
 */
function recordResources(record: CloudTrailRecord, category: string): RecordResourceRef[] {
  const listed: RecordResourceRef[] = [];
  if (Array.isArray(record.resources)) {
    for (const entry of record.resources as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { type, ARN, ARNPrefix } = entry as Record<string, unknown>;
      listed.push({ type: stringOrUndefined(type), arn: stringOrUndefined(ARN) ?? stringOrUndefined(ARNPrefix) });
    }
  }
  if (category === 'Data' && record.eventSource === 's3.amazonaws.com' && !listed.some((r) => r.type === S3_OBJECT)) {
    const derived = derivedS3Object(record, listed);
    if (derived !== undefined) listed.push(derived);
  }
  return listed;
}

/**
 * `arn:<partition>:s3:::<bucketName>/<key>` from requestParameters; without a key (a bucket-wide data event) the ARN
 * ends at `<bucket>/`, which bucket-wide and all-bucket values select and key-prefix values do not. The partition
 * comes from another ARN of the record, else from the Region.
 */
function derivedS3Object(
  record: CloudTrailRecord,
  listed: readonly RecordResourceRef[],
): RecordResourceRef | undefined {
  const bucket = record.requestParameters?.['bucketName'];
  if (typeof bucket !== 'string' || bucket === '') return undefined;
  const key = record.requestParameters?.['key'];
  return {
    type: S3_OBJECT,
    arn: `arn:${partitionOf(record, listed)}:s3:::${bucket}/${typeof key === 'string' ? key : ''}`,
  };
}

const REGION_PARTITIONS: readonly (readonly [string, string])[] = [
  ['cn-', 'aws-cn'],
  ['us-gov-', 'aws-us-gov'],
  ['us-iso-', 'aws-iso'],
  ['us-isob-', 'aws-iso-b'],
  ['us-isof-', 'aws-iso-f'],
  ['eu-isoe-', 'aws-iso-e'],
];

function partitionOf(record: CloudTrailRecord, listed: readonly RecordResourceRef[]): string {
  for (const { arn } of listed) {
    const partition = arn?.startsWith('arn:') ? arn.split(':')[1] : undefined;
    if (partition) return partition;
  }
  const region = typeof record.awsRegion === 'string' ? record.awsRegion : '';
  return REGION_PARTITIONS.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

function startsWithAny(prefixes: readonly string[], value: string): boolean {
  for (const prefix of prefixes) if (value.startsWith(prefix)) return true;
  return false;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

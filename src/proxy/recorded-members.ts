import { XMLParser } from 'fast-xml-parser';
import { lowerCamelMembers, MAX_RECORDED_DEPTH, recordedDate, TOO_DEEP } from '../capture/camel-case.ts';
import { MAX_DATE_MS } from '../model/clock.ts';
import { ownMember } from '../model/own-member.ts';
import { DYNAMODB_ITEM_OPERATIONS, dynamodbItemParameters, type KeyNames, objectOf } from './dynamodb-members.ts';
import { header, type IdentifiedOperation } from './identify-operation.ts';
import type { ProxiedService } from './operation-table.ts';

/**
 * requestParameters and responseElements of a proxied call, as AWS records them for each protocol: JSON and
 * query members lower-camel (`UserName` → `userName`), S3's own shape (`bucketName`, `key`, `Host`, its
 * subresources and `x-amz-*` headers verbatim), and never a secret: members botocore marks sensitive, and
 * the names below, are recorded as AWS records hidden values.
 */
export const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

/** Secrets some models do not mark sensitive; compared lower-case. */
const ALWAYS_SECRET = [
  'password',
  'newpassword',
  'oldpassword',
  'secretaccesskey',
  'sessiontoken',
  'privatekey',
  'plaintext',
  'secretstring',
  'secretbinary',
  // SQS's records hide message bodies (Amazon SQS Developer Guide's SendMessage record).
  'messagebody',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-copy-source-server-side-encryption-customer-key',
];

/** Headers S3 records among requestParameters: everything `x-amz-*` but the signature's own. */
const UNRECORDED_S3_HEADERS = new Set([
  'x-amz-date',
  'x-amz-content-sha256',
  'x-amz-security-token',
  'x-amz-user-agent',
  'x-amz-decoded-content-length',
  'x-amz-sdk-checksum-algorithm',
  'x-amz-trailer',
]);

export interface RequestView {
  host: string;
  query: URLSearchParams;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body when it was read; undefined when it was streamed through. */
  body?: Buffer;
  /** DynamoDB's key attributes of the caller's tables, as far as the proxy saw them. */
  keyNames?: KeyNames;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: true });

export function requestParameters(
  service: ProxiedService,
  found: IdentifiedOperation,
  req: RequestView,
): Record<string, unknown> | null {
  let members: Record<string, unknown>;
  switch (service.protocol) {
    case 'rest-xml':
      members =
        service.model === 's3' ? s3Parameters(found, req) : restParameters(service, found, req, bodyXml(req.body));
      break;
    case 'rest-json':
      members = restParameters(service, found, req, bodyJson(req.body));
      break;
    default:
      members =
        service.model === 'dynamodb' && DYNAMODB_ITEM_OPERATIONS.has(found.name)
          ? dynamodbItemParameters(found.name, bodyJson(req.body) ?? {}, req.keyNames ?? (() => undefined))
          : rpcParameters(service, req);
  }
  const recorded = recordedCopy(members, service);
  return Object.keys(recorded).length === 0 ? null : recorded;
}

export function responseElements(
  service: ProxiedService,
  found: IdentifiedOperation,
  response: { headers: Readonly<Record<string, string | string[] | undefined>>; body: Buffer | undefined },
): Record<string, unknown> | null {
  // DynamoDB's item operations answer with items: CloudTrail records none of it.
  if (service.model === 'dynamodb' && DYNAMODB_ITEM_OPERATIONS.has(found.name)) return null;
  let members: Record<string, unknown> | undefined;
  if (service.model === 's3') {
    members = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (name.startsWith('x-amz-') && name !== 'x-amz-id-2' && name !== 'x-amz-request-id' && value !== undefined) {
        members[name] = Array.isArray(value) ? value.join(',') : value;
      }
    }
  } else if (response.body !== undefined && response.body.length > 0) {
    const type = header(response.headers, 'content-type') ?? '';
    members = type.includes('xml')
      ? xmlResult(service, response.body)
      : objectMembers(lowerCamelMembers(bodyJson(response.body), mapNames(service)));
  }
  if (members === undefined || Object.keys(members).length === 0) return null;
  return recordedCopy(members, service);
}

function s3Parameters(found: IdentifiedOperation, req: RequestView): Record<string, unknown> {
  const members: Record<string, unknown> = {};
  // A presigned URL's own parameters are recorded as S3 records them, but never its signature.
  for (const [k, v] of req.query) if (k !== 'x-id' && k !== 'X-Amz-Signature') ownMember(members, k, v);
  const bucket = found.labels['Bucket'];
  if (bucket !== undefined) members['bucketName'] = bucket;
  members['Host'] = req.host;
  const key = found.labels['Key'];
  if (key !== undefined) members['key'] = key;
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-') && !UNRECORDED_S3_HEADERS.has(name) && !name.startsWith('x-amz-checksum-')) {
      members[name] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  // A bucket policy is the one JSON body S3 takes; its records carry it parsed (the real PutBucketPolicy records).
  if (found.name === 'PutBucketPolicy') {
    const policy = bodyJson(req.body);
    return policy === undefined ? members : { bucketPolicy: policy, ...members };
  }
  const body = bodyXml(req.body);
  return body === undefined ? members : { ...body, ...members };
}

/** REST protocols: members bound to the URI, query and headers by the model, then the body's members. */
function restParameters(
  service: ProxiedService,
  found: IdentifiedOperation,
  req: RequestView,
  body: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const members: Record<string, unknown> = { ...(body ?? {}) };
  for (const [location, wire, member] of found.op.bind ?? []) {
    const value =
      location === 'uri'
        ? found.labels[wire]
        : location === 'querystring'
          ? (req.query.get(wire) ?? undefined)
          : header(req.headers, wire.toLowerCase());
    if (value !== undefined) members[member] = value;
  }
  return objectMembers(lowerCamelMembers(members, mapNames(service)));
}

/** JSON bodies, or query-protocol forms (`Tags.member.1.Key=k`) unflattened into nested members. */
function rpcParameters(service: ProxiedService, req: RequestView): Record<string, unknown> {
  const type = header(req.headers, 'content-type') ?? '';
  if (req.body !== undefined && type.includes('json')) {
    return objectMembers(lowerCamelMembers(bodyJson(req.body), mapNames(service)));
  }
  const form = new URLSearchParams(
    req.body !== undefined && type.startsWith('application/x-www-form-urlencoded') ? req.body.toString('utf8') : '',
  );
  for (const [k, v] of req.query) form.append(k, v);
  form.delete('X-Amz-Signature');
  form.delete('Action');
  form.delete('Version');
  return objectMembers(lowerCamelMembers(typedValues(unflatten(form), service), mapNames(service)));
}

/**
 * A form's values typed as the model types them: CloudTrail records a query call's numbers and booleans as
 * such (the real CreateRole records' maxSessionDuration 3600, CreateLoginProfile's passwordResetRequired
 * false), where the form carried text.
 */
function typedValues(members: Record<string, unknown>, service: ProxiedService): Record<string, unknown> {
  const numbers = exactNames(service.numbers);
  const booleans = exactNames(service.booleans);
  const walk = (value: unknown, name: string | undefined, depth: number): unknown => {
    if (depth >= MAX_RECORDED_DEPTH) return value;
    if (Array.isArray(value)) return value.map((v) => walk(v, name, depth + 1));
    if (typeof value === 'string' && name !== undefined) {
      if (numbers.has(name) && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      if (booleans.has(name) && (value === 'true' || value === 'false')) return value === 'true';
      return value;
    }
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) ownMember(out, k, walk(v, k, depth + 1));
    return out;
  };
  return walk(members, undefined, 0) as Record<string, unknown>;
}

/** `A.member.1.B=x&A.member.2.B=y` → { A: [{B: x}, {B: y}] }; `.member`/`.entry` list wrappers are dropped. */
function unflatten(form: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of form) {
    const path = key.split('.').filter((p) => p !== 'member' && p !== 'entry' && p !== 'item');
    let node: Record<string, unknown> | unknown[] = root;
    path.forEach((part, i) => {
      const last = i === path.length - 1;
      const index = /^\d+$/.test(part) ? Number(part) - 1 : undefined;
      const nextIsIndex = !last && /^\d+$/.test(path[i + 1] as string);
      const slot = index !== undefined && Array.isArray(node) ? index : part;
      const container = node as Record<string | number, unknown>;
      // Names are the caller's: `__proto__.x` or `constructor.prototype.x` must name members of this object,
      // never walk into (and change) the prototype every object shares.
      const own = Object.hasOwn(container, slot) ? container[slot] : undefined;
      if (last) ownMember(container, slot, value);
      else {
        node = (own ?? ownMember(container, slot, nextIsIndex ? [] : {})) as Record<string, unknown> | unknown[];
      }
    });
  }
  return root;
}

/** A query/EC2 protocol answer: the members of `<OpResult>`, or of the response itself for EC2. */
function xmlResult(service: ProxiedService, body: Buffer): Record<string, unknown> | undefined {
  const doc = parseXml(body);
  const response = doc === undefined ? undefined : objectMembers(Object.values(doc)[0]);
  if (response === undefined) return undefined;
  const resultKey = Object.keys(response).find((k) => k.endsWith('Result'));
  const result = resultKey !== undefined ? objectMembers(response[resultKey]) : response;
  if (result === undefined) return undefined;
  const { xmlns: _ns, requestId: _id, ResponseMetadata: _meta, ...members } = result;
  return objectMembers(lowerCamelMembers(xmlLists(members, service), mapNames(service)));
}

/**
 * An XML answer's lists as CloudTrail records them: the query protocol's `<Tags><member>…</member></Tags>` as a
 * list (`"tags": [{…}]`, the real CreateUser records), an empty list element as `[]` (CreateInstanceProfile's
 * `"roles": []`); EC2's `<instancesSet><item>…` as `{"items": [{…}]}`, as EC2's records write them.
 */
function xmlLists(members: Record<string, unknown>, service: ProxiedService): Record<string, unknown> {
  const lists = exactNames(service.lists);
  const ec2 = service.protocol === 'ec2';
  const walk = (value: unknown, name: string | undefined, depth: number): unknown => {
    if (depth >= MAX_RECORDED_DEPTH) return value;
    if (Array.isArray(value)) return value.map((v) => walk(v, name, depth + 1));
    if (value === '' && name !== undefined && lists.has(name)) return ec2 ? { items: [] } : [];
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    const wrapped = (value as Record<string, unknown>)[keys[0] as string];
    if (keys.length === 1 && keys[0] === (ec2 ? 'item' : 'member')) {
      const items = (Array.isArray(wrapped) ? wrapped : [wrapped]).map((v) => walk(v, undefined, depth + 1));
      return ec2 ? { items } : items;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) ownMember(out, k, walk(v, k, depth + 1));
    return out;
  };
  return walk(members, undefined, 0) as Record<string, unknown>;
}

function bodyXml(body: Buffer | undefined): Record<string, unknown> | undefined {
  return body === undefined || body.length === 0 ? undefined : parseXml(body);
}

function parseXml(body: Buffer): Record<string, unknown> | undefined {
  try {
    const { '?xml': _decl, ...doc } = xml.parse(body.toString('utf8')) as Record<string, unknown>;
    return doc;
  } catch {
    return undefined;
  }
}

function bodyJson(body: Buffer | undefined): Record<string, unknown> | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    return objectMembers(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
}

function objectMembers(value: unknown): Record<string, unknown> {
  return objectOf(value) ?? {};
}

const nameSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/** A set made once per list of the operation table's member names (each list is made into one kind of set). */
function setOnce(names: readonly string[], make: () => ReadonlySet<string>): ReadonlySet<string> {
  let set = nameSets.get(names);
  if (set === undefined) {
    set = make();
    nameSets.set(names, set);
  }
  return set;
}

/** Member names lower-case (with `more`), for matching whatever case a protocol writes them in. */
function lowerCaseNames(names: readonly string[], more: readonly string[] = []): ReadonlySet<string> {
  return setOnce(names, () => new Set([...more, ...names.map((n) => n.toLowerCase())]));
}

/** Member names as the wire spells them (the service's maps, numbers, booleans, lists). */
function exactNames(names: readonly string[] = NO_LIST): ReadonlySet<string> {
  return setOnce(names, () => new Set(names));
}

const NO_LIST: readonly string[] = [];

function mapNames(service: ProxiedService): ReadonlySet<string> {
  return exactNames(service.maps);
}

/**
 * Protocols whose timestamp members CloudTrail writes as Java's date text (`Jul 10, 2023, 12:07:59 PM`), as the
 * real logs show for IAM's createDate, STS's expiration, RDS's instanceCreateTime (query), and Secrets
 * Manager's deletionDate and SSM's executionDate (JSON). Other protocols keep what the wire carried: the logs
 * show EC2's launchTime as epoch milliseconds and Lambda's lastModified as its own text.
 */
const JAVA_TIME_PROTOCOLS = new Set(['json', 'query']);
/** A timestamp as the query protocol sends it: ISO 8601. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const NO_NAMES: ReadonlySet<string> = new Set();
/**
 * Services whose records leave secret members out rather than hide their values, as the real logs show: IAM's
 * CreateAccessKey answer without secretAccessKey and CreateLoginProfile without password, STS's credentials
 * without secretAccessKey, Secrets Manager's PutSecretValue without secretString. Others write
 * HIDDEN_DUE_TO_SECURITY_REASONS (SSM's PutParameter value, RDS's masterUserPassword, SQS's messageBody).
 */
const OMITTING_SECRETS: ReadonlySet<string> = new Set(['iam', 'sts', 'secretsmanager']);

/**
 * A copy of the members as CloudTrail records them, in one walk: every secret member's value hidden (or the
 * member left out, by the service's custom: OMITTING_SECRETS), and the service's timestamp members (by name,
 * at any depth) written as CloudTrail writes them. Nesting deeper than a request's is cut, as in
 * lowerCamelMembers: an upstream's answer can be nested thousands of levels, which would hide its deep secrets
 * from this walk and make the record's serialisation run out of stack (the record was lost).
 */
function recordedCopy(members: Record<string, unknown>, service: ProxiedService): Record<string, unknown> {
  const secrets = lowerCaseNames(service.sensitive, ALWAYS_SECRET);
  const timestamps = JAVA_TIME_PROTOCOLS.has(service.protocol) ? lowerCaseNames(service.timestamps) : NO_NAMES;
  const omitted = OMITTING_SECRETS.has(service.model);
  const walk = (value: unknown, depth: number): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_RECORDED_DEPTH) return TOO_DEEP;
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const name = k.toLowerCase();
      if (secrets.has(name) && omitted) continue;
      // A timestamp's name over an object (another shape's member of that name) is walked like any other.
      const time = timestamps.has(name) && (typeof v === 'number' || typeof v === 'string');
      ownMember(out, k, secrets.has(name) ? HIDDEN : time ? recordedTime(v) : walk(v, depth + 1));
    }
    return out;
  };
  return walk(members, 0) as Record<string, unknown>;
}

/** The JSON protocol sends a timestamp as epoch seconds, the query protocol as ISO 8601; anything else stays. */
function recordedTime(value: number | string): unknown {
  const ms = typeof value === 'number' ? value * 1000 : ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? recordedDate(new Date(ms)) : value;
}

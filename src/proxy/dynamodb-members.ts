import { lowerCamelMembers, lowerFirst } from '../capture/camel-case.ts';
import { dropOldest } from '../model/drop-oldest.ts';
import { ownMember } from '../model/own-member.ts';

/**
 * DynamoDB's item operations as CloudTrail records them (DynamoDB Developer Guide, "Understanding DynamoDB log
 * file entries"): an attribute's value never, but for a key's, written plain (`"key": {"Artist": "No One You
 * Know"}`); an item as the names of its attributes; `expressionAttributeNames` as sent, the values they stand
 * against left out; a transaction's items as one `requestItems` list, each with its operation. Attribute names
 * are the caller's and keep their case. The answers of these operations are not recorded (responseElements null).
 */
export const DYNAMODB_ITEM_OPERATIONS: ReadonlySet<string> = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

/** Members holding attribute values: never recorded. */
const VALUES = new Set([
  'ExpressionAttributeValues',
  'Parameters',
  'AttributeUpdates',
  'Expected',
  'KeyConditions',
  'QueryFilter',
  'ScanFilter',
]);
/** Members holding a key (attribute → value), recorded plain. */
const KEYS = new Set(['Key', 'ExclusiveStartKey']);
/** Members whose keys are the caller's names, recorded as sent. */
const NAMES = new Set(['ExpressionAttributeNames']);

/** The table a PartiQL statement reads or writes: `FROM t`, `INTO t`, `UPDATE t` (quoted or not). */
export function statementTable(statement: string): string | undefined {
  return /\b(?:FROM|INTO|UPDATE)\s+"?([A-Za-z0-9_.-]{3,255})"?/i.exec(statement)?.[1];
}

/** A string ('…', quotes doubled inside) or number literal of PartiQL, and what stands before it. */
const LITERAL = /'(?:[^']|'')*'|(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])/g;
const KEY_COMPARISON = /"?([A-Za-z0-9_.-]+)"?\s*=\s*$/;
const REDACTED = '***(Redacted)';

/**
 * A PartiQL statement with its values redacted as CloudTrail redacts them (the DynamoDB Developer Guide's
 * ExecuteStatement and BatchExecuteStatement records): every literal value but one compared with a key
 * attribute (`Artist = 'No One You Know'`), which stays; all of them when the table's key is not known.
 */
function redactedStatement(statement: string, keyNames: KeyNames): string {
  const table = statementTable(statement);
  const keys = new Set(table === undefined ? [] : (keyNames(table) ?? []));
  return statement.replace(LITERAL, (literal, offset: number) => {
    // A document's attribute names (`{'Artist' : …}`) are names, not values.
    if (/^\s*:/.test(statement.slice(offset + literal.length, offset + literal.length + 50))) return literal;
    const attribute = KEY_COMPARISON.exec(statement.slice(Math.max(0, offset - 300), offset))?.[1];
    return attribute !== undefined && keys.has(attribute) ? literal : REDACTED;
  });
}

/** A table's key attribute names, when known (KeySchemas). */
export type KeyNames = (tableName: string) => readonly string[] | undefined;

/**
 * The key attributes of the tables the proxy saw created or described, per account and Region: CloudTrail
 * records a written item's key (`key` beside `item`), which only the table's key schema tells apart.
 */
export class KeySchemas {
  readonly #tables = new Map<string, string[]>();

  /** Learns from a successful CreateTable (its request) or CreateTable / DescribeTable answer. */
  learn(scope: string, operation: string, request: Buffer | undefined, answer: Buffer | undefined): void {
    if (operation !== 'CreateTable' && operation !== 'DescribeTable') return;
    for (const body of [request, answer]) {
      const doc = parsed(body);
      const table = objectOf(doc?.['TableDescription']) ?? objectOf(doc?.['Table']) ?? doc;
      const name = table?.['TableName'];
      const schema = listOf(table?.['KeySchema']).map((k) => objectOf(k)?.['AttributeName']);
      if (typeof name !== 'string' || schema.length === 0 || !schema.every((n) => typeof n === 'string')) continue;
      this.#tables.delete(`${scope}/${name}`);
      this.#tables.set(`${scope}/${name}`, schema as string[]);
      dropOldest(this.#tables, KEY_SCHEMAS_KEPT);
    }
  }

  of(scope: string): KeyNames {
    return (tableName) => this.#tables.get(`${scope}/${tableName}`);
  }
}

const KEY_SCHEMAS_KEPT = 10_000;

function parsed(body: Buffer | undefined): Record<string, unknown> | undefined {
  try {
    return body === undefined ? undefined : objectOf(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** The recorded requestParameters of a DynamoDB item operation's JSON body. */
export function dynamodbItemParameters(
  operation: string,
  body: Record<string, unknown>,
  keyNames: KeyNames,
): Record<string, unknown> {
  const members = (m: Record<string, unknown>) => recordedItemMembers(m, keyNames);
  /** `requestItems` in place of the body's member `listed`, then its other members. */
  const withOthers = (listed: string, requestItems: unknown[]) => {
    const { [listed]: _listed, ...others } = body;
    return { requestItems, ...members(others) };
  };
  /** `RequestItems: {table: …}` → one `requestItems` entry per request (or per table). */
  const perTable = (entries: (tableName: string, requests: unknown) => Record<string, unknown>[]) =>
    withOthers(
      'RequestItems',
      Object.entries(objectOf(body['RequestItems']) ?? {}).flatMap(([t, requests]) => entries(t, requests)),
    );
  /** PartiQL statements, their parameters (values) left out. */
  const statements = (listed: string) =>
    withOthers(
      listed,
      listOf(body[listed]).map((s) => members(objectOf(s) ?? {})),
    );
  switch (operation) {
    case 'TransactWriteItems':
    case 'TransactGetItems':
      // `TransactItems: [{Put: {…}}, …]` → `requestItems: [{operation: 'Put', …}, …]`, as the guide's example.
      return withOthers(
        'TransactItems',
        listOf(body['TransactItems']).flatMap((entry) =>
          Object.entries(objectOf(entry) ?? {}).map(([operation, action]) => ({
            operation,
            ...recordedItemMembers(objectOf(action) ?? {}, keyNames, 'items'),
          })),
        ),
      );
    case 'BatchWriteItem':
      return perTable((TableName, requests) =>
        listOf(requests).map((r) => {
          const request = objectOf(r) ?? {};
          const put = objectOf(request['PutRequest']);
          return put !== undefined
            ? { operation: 'Put', ...recordedItemMembers({ TableName, ...put }, keyNames, 'items') }
            : { operation: 'Delete', ...members({ TableName, ...objectOf(request['DeleteRequest']) }) };
        }),
      );
    case 'BatchGetItem':
      return perTable((TableName, requests) => {
        const { Keys, ...rest } = objectOf(requests) ?? {};
        return [{ ...members({ TableName, ...rest }), keys: listOf(Keys).map(plainKey) }];
      });
    case 'BatchExecuteStatement':
      return statements('Statements');
    case 'ExecuteTransaction':
      return statements('TransactStatements');
    default:
      return members(body);
  }
}

/**
 * One item operation's members: keys plain, an item as its key (when the table's is known) and its attribute
 * names (`items` in a transaction or batch), values left out, the rest lower-camel.
 */
function recordedItemMembers(
  members: Record<string, unknown>,
  keyNames: KeyNames,
  itemsName = 'item',
): Record<string, unknown> {
  const tableName = typeof members['TableName'] === 'string' ? members['TableName'] : undefined;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(members)) {
    if (VALUES.has(name)) continue;
    const recorded = lowerFirst(name);
    if (KEYS.has(name)) ownMember(out, recorded, plainKey(value));
    else if (name === 'Statement' && typeof value === 'string') {
      ownMember(out, recorded, redactedStatement(value, keyNames));
    } else if (name === 'Item') {
      const item = objectOf(value) ?? {};
      const key = tableName === undefined ? undefined : keyNames(tableName);
      if (key !== undefined) out['key'] = plainKey(Object.fromEntries(key.map((k) => [k, item[k]])));
      ownMember(out, itemsName, Object.keys(item));
    } else if (NAMES.has(name)) ownMember(out, recorded, { ...(objectOf(value) ?? {}) });
    else ownMember(out, recorded, lowerCamelMembers(value));
  }
  return out;
}

/** `{Artist: {S: "x"}}` → `{Artist: "x"}`: each key attribute's value without its type. */
function plainKey(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, typed] of Object.entries(objectOf(value) ?? {})) {
    const inner = objectOf(typed);
    ownMember(out, name, inner === undefined ? typed : Object.values(inner)[0]);
  }
  return out;
}

/** A JSON object's members; undefined for anything else (arrays included). */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

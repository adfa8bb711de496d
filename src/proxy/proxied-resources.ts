import type { RecordResource } from '../model/record.ts';
import { statementTable } from './dynamodb-members.ts';
import type { IdentifiedOperation } from './identify-operation.ts';
import type { ProxiedService } from './operation-table.ts';

/**
 * The `resources` of a proxied call, for the services whose data events trails select by resource: S3
 * buckets and objects (object ARNs first, then the bucket with its account, as S3 writes them; `ARNPrefix`
 * for the objects a ListObjects or DeleteObjects covers), DynamoDB tables, Lambda functions, SNS topics and
 * SQS queues.
 */
export interface ResourceContext {
  accountId: string;
  region: string;
  /** The recorded requestParameters (lower-camel, or S3's shape). */
  params: Record<string, unknown> | null;
}

export function proxiedResources(
  service: ProxiedService,
  found: IdentifiedOperation,
  ctx: ResourceContext,
): RecordResource[] {
  switch (service.model) {
    case 's3':
      return s3Resources(found, ctx);
    case 'dynamodb':
      return tableNames(ctx.params).map((name) => ({
        accountId: ctx.accountId,
        type: 'AWS::DynamoDB::Table',
        ARN: name.startsWith('arn:') ? name : `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${name}`,
      }));
    case 'lambda': {
      const name = found.labels['FunctionName'];
      if (name === undefined || !found.op.data) return [];
      const arn = name.startsWith('arn:') ? name : `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`;
      return [{ accountId: ctx.accountId, type: 'AWS::Lambda::Function', ARN: arn }];
    }
    case 'sqs': {
      // `https://sqs.<region>.amazonaws.com/<owner>/<queue>` (or the upstream's own host): the queue's ARN.
      const url = ctx.params?.['queueUrl'];
      const [owner, queue] = typeof url === 'string' ? url.split('/').slice(-2) : [];
      return found.op.data && owner !== undefined && /^\d{12}$/.test(owner) && queue
        ? [{ accountId: ctx.accountId, type: 'AWS::SQS::Queue', ARN: `arn:aws:sqs:${ctx.region}:${owner}:${queue}` }]
        : [];
    }
    case 'sns': {
      const topic = ctx.params?.['topicArn'];
      return found.op.data && typeof topic === 'string'
        ? [{ accountId: ctx.accountId, type: 'AWS::SNS::Topic', ARN: topic }]
        : [];
    }
    default:
      return [];
  }
}

function s3Resources(found: IdentifiedOperation, ctx: ResourceContext): RecordResource[] {
  const bucket = found.labels['Bucket'];
  // No real CreateBucket record names its bucket among resources (five in the real logs); other bucket calls do.
  if (bucket === undefined || found.name === 'CreateBucket') return [];
  const bucketResource = { accountId: ctx.accountId, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` };
  const key = found.labels['Key'];
  if (key !== undefined) return [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, bucketResource];
  if (found.op.data) {
    const prefix = typeof ctx.params?.['prefix'] === 'string' ? ctx.params['prefix'] : '';
    return [{ type: 'AWS::S3::Object', ARNPrefix: `arn:aws:s3:::${bucket}/${prefix}` }, bucketResource];
  }
  return [bucketResource];
}

/**
 * Tables a DynamoDB call names, in its recorded members (dynamodb-members.ts): `tableName`, each of
 * `requestItems`' (batches and transactions), or a PartiQL statement's.
 */
function tableNames(params: Record<string, unknown> | null): string[] {
  if (params === null) return [];
  const names = new Set<string>();
  const entries = [params, ...(Array.isArray(params['requestItems']) ? params['requestItems'] : [])];
  for (const entry of entries as ({ tableName?: unknown; statement?: unknown } | null)[]) {
    if (typeof entry?.tableName === 'string') names.add(entry.tableName);
    const table = typeof entry?.statement === 'string' ? statementTable(entry.statement) : undefined;
    if (table !== undefined) names.add(table);
  }
  return [...names];
}

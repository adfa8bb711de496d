/**
 * Just enough of IAM policy evaluation to answer one question the way AWS does before it accepts a trail's
 * bucket: would CloudTrail, writing for this trail, be allowed `action` on `resource`? An explicit Deny
 * wins over any Allow; statements with conditions apply only when every condition holds for CloudTrail's
 * own request context (`s3:x-amz-acl` = bucket-owner-full-control, `aws:SourceArn` = the trail,
 * `aws:SourceAccount` = its account). A condition on any other key or with any other operator is treated
 * as not holding, so such an Allow does not count (and such a Deny does not block).
 */
export interface CloudTrailRequestContext {
  trailArn: string;
  accountId: string;
}

interface Statement {
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export function policyAllowsCloudTrail(
  policyText: string,
  action: string,
  resource: string,
  context: CloudTrailRequestContext,
): boolean {
  let statements: Statement[];
  try {
    const policy = JSON.parse(policyText) as { Statement?: Statement | Statement[] };
    statements = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : [];
  } catch {
    return false;
  }
  const applies = (s: Statement) =>
    namesCloudTrail(s.Principal) &&
    asList(s.Action).some((a) => wildcardMatch(a.toLowerCase(), action.toLowerCase())) &&
    asList(s.Resource).some((r) => wildcardMatch(r, resource)) &&
    conditionsHold(s.Condition, context);
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

function namesCloudTrail(principal: unknown): boolean {
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object') return false;
  const p = principal as { Service?: unknown; AWS?: unknown };
  return asList(p.Service).includes('cloudtrail.amazonaws.com') || asList(p.AWS).includes('*');
}

const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => wildcardMatch(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => wildcardMatch(p, v),
};

function conditionsHold(condition: Statement['Condition'], context: CloudTrailRequestContext): boolean {
  if (condition === undefined) return true;
  const values: Record<string, string> = {
    's3:x-amz-acl': 'bucket-owner-full-control',
    'aws:sourcearn': context.trailArn,
    'aws:sourceaccount': context.accountId,
  };
  return Object.entries(condition).every(([operator, keys]) => {
    const test = OPERATORS[operator];
    if (test === undefined) return false;
    return Object.entries(keys).every(([key, patterns]) => {
      const value = values[key.toLowerCase()];
      return value !== undefined && asList(patterns).some((p) => test(p, value));
    });
  });
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * IAM policy wildcards: `*` any run of characters, `?` one character. Matched by walking both strings and
 * going back only to the last `*` (at most pattern × value steps), never a regular expression a crafted
 * policy could make backtrack for minutes.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * SearchSampleQueries (facts §8.7): a set of useful Lake queries, found by the words of a search phrase.
 * AWS ranks its samples by semantic search; here a sample's relevance is the share of the phrase's words
 * that its name and description contain. `$EDS_ID` stands for the event data store to query, as in AWS's.
 * Every sample runs as written through the Lake SQL sandbox (test/lake/sample-queries.test.ts).
 */
export interface SampleQuery {
  name: string;
  description: string;
  sql: string;
}

export const SAMPLE_QUERIES: readonly SampleQuery[] = [
  {
    name: 'Top callers',
    description: 'The identities (users and roles) that made the most API calls.',
    sql: 'SELECT userIdentity.arn AS caller, count(*) AS calls FROM $EDS_ID GROUP BY userIdentity.arn ORDER BY calls DESC LIMIT 10',
  },
  {
    name: 'Most frequent API calls',
    description: 'The API calls made most often, by service and event name.',
    sql: 'SELECT eventSource, eventName, count(*) AS calls FROM $EDS_ID GROUP BY eventSource, eventName ORDER BY calls DESC LIMIT 20',
  },
  {
    name: 'Failed console logins',
    description:
      'Console sign-in attempts that failed, with who, from which IP address and whether MFA was used: a security investigation starting point.',
    sql: "SELECT eventTime, userIdentity.arn AS identity, sourceIPAddress, element_at(additionalEventData, 'MFAUsed') AS mfaUsed, errorMessage FROM $EDS_ID WHERE eventName = 'ConsoleLogin' AND element_at(responseElements, 'ConsoleLogin') = 'Failure' ORDER BY eventTime DESC",
  },
  {
    name: 'Access denied errors by caller',
    description:
      'Calls refused for lack of permissions, by identity and API: a sign of misconfigured policies or probing.',
    sql: "SELECT userIdentity.arn AS caller, eventSource, eventName, count(*) AS denied FROM $EDS_ID WHERE errorCode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation') GROUP BY userIdentity.arn, eventSource, eventName ORDER BY denied DESC LIMIT 20",
  },
  {
    name: 'Changes to IAM',
    description:
      'Every change made to IAM users, roles, groups and policies, newest first: a security investigation of permissions.',
    sql: "SELECT eventTime, userIdentity.arn AS changedBy, eventName, requestParameters FROM $EDS_ID WHERE eventSource = 'iam.amazonaws.com' AND readOnly = false ORDER BY eventTime DESC LIMIT 100",
  },
  {
    name: 'Root user activity',
    description: "API calls and sign-ins made with the account's root user, which should be rare.",
    sql: "SELECT eventTime, eventSource, eventName, sourceIPAddress FROM $EDS_ID WHERE userIdentity.type = 'Root' ORDER BY eventTime DESC LIMIT 100",
  },
  {
    name: 'CloudTrail logging changes',
    description:
      'Trails or event data stores stopped, deleted or reconfigured: a security investigation of audit tampering.',
    sql: "SELECT eventTime, userIdentity.arn AS changedBy, eventName, requestParameters FROM $EDS_ID WHERE eventSource = 'cloudtrail.amazonaws.com' AND eventName IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'DeleteEventDataStore', 'StopEventDataStoreIngestion') ORDER BY eventTime DESC",
  },
  {
    name: 'Security group changes',
    description: 'Inbound and outbound rules added to or removed from EC2 security groups.',
    sql: "SELECT eventTime, userIdentity.arn AS changedBy, eventName, element_at(requestParameters, 'groupId') AS groupId FROM $EDS_ID WHERE eventSource = 'ec2.amazonaws.com' AND eventName IN ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress') ORDER BY eventTime DESC",
  },
  {
    name: 'Calls by source IP address',
    description: 'The IP addresses calls came from, with how many calls and how many distinct callers used each.',
    sql: 'SELECT sourceIPAddress, count(*) AS calls, approx_distinct(userIdentity.arn) AS callers FROM $EDS_ID GROUP BY sourceIPAddress ORDER BY calls DESC LIMIT 20',
  },
  {
    name: 'API calls per hour',
    description: 'Activity over time: the number of calls in each hour, for spotting bursts.',
    sql: "SELECT date_trunc('hour', eventTime) AS hour, count(*) AS calls FROM $EDS_ID GROUP BY date_trunc('hour', eventTime) ORDER BY hour",
  },
];

const STOP_WORDS = new Set([
  'a',
  'an',
  'and',
  'by',
  'for',
  'from',
  'in',
  'of',
  'on',
  'or',
  'the',
  'to',
  'with',
  'which',
  'what',
  'who',
]);

function words(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 1 && !STOP_WORDS.has(w));
}

/** A word matches one of the sample's when either starts with the other ("logins" and "login", "iam" and "iam"). */
function matches(word: string, sampleWords: readonly string[]): boolean {
  return sampleWords.some((w) => w.startsWith(word) || word.startsWith(w));
}

/** The samples that share words with the phrase, most relevant first (relevance 0–1). */
export function searchSampleQueries(phrase: string): (SampleQuery & { relevance: number })[] {
  const wanted = [...new Set(words(phrase))];
  if (wanted.length === 0) return [];
  return SAMPLE_QUERIES.map((q) => {
    const own = words(`${q.name} ${q.description}`);
    const relevance = wanted.filter((w) => matches(w, own)).length / wanted.length;
    return { ...q, relevance: Math.round(relevance * 1000) / 1000 };
  })
    .filter((q) => q.relevance > 0)
    .sort((a, b) => b.relevance - a.relevance || a.name.localeCompare(b.name));
}

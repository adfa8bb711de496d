import { HIGHLIGHTS_NAME, type WidgetRecord } from './dashboard.ts';
import { END_TIME, EVENT_DATA_STORE_ID, PERIOD, START_TIME } from './widget-parameters.ts';

/**
 * The dashboards opentrail ships, like AWS's managed ones and its Highlights dashboard: every widget is Lake
 * SQL over the store named by `$EventDataStoreId$` between `$StartTime$` and `$EndTime$`, and each one runs
 * in test/lake/dashboard-managed.test.ts. The managed dashboards are there in every account and Region (a
 * refresh names the store); the Highlights dashboard is made by CreateDashboard with its name.
 */
export interface ManagedDashboard {
  name: string;
  widgets: readonly WidgetRecord[];
}

/** The usual `FROM store WHERE eventTime in the window` of a managed widget, and its parameters in order. */
const IN_WINDOW = "FROM ? WHERE eventTime >= '?' AND eventTime < '?'";
const WINDOW_PARAMETERS = [EVENT_DATA_STORE_ID, START_TIME, END_TIME];

function widget(
  dashboard: string,
  alias: string,
  title: string,
  view: Record<string, string>,
  select: string,
  rest = '',
  marks: { before?: string[]; after?: string[] } = {},
): WidgetRecord {
  return {
    queryAlias: `${dashboard}-${alias}`,
    queryStatement: `${select} ${IN_WINDOW}${rest}`,
    queryParameters: [...(marks.before ?? []), ...WINDOW_PARAMETERS, ...(marks.after ?? [])],
    viewProperties: { Title: title, Height: '2', Width: '4', ...view },
  };
}

const TABLE = { View: 'Table' };
const bar = (x: string, y: string) => ({ View: 'BarChart', XAxisColumn: x, YAxisColumn: y });
const CARD = { View: 'Card' };

const ACTIVITY = 'AWSCloudTrail-ActivityOverview';
const SECURITY = 'AWSCloudTrail-SecurityOverview';

const FAILED_SIGN_IN = "eventName = 'ConsoleLogin' AND element_at(responseElements, 'ConsoleLogin') = 'Failure'";
const ACCESS_DENIED =
  "errorCode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation')";
const LOGGING_CHANGES =
  "eventSource = 'cloudtrail.amazonaws.com' AND eventName IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'DeleteEventDataStore', 'StopEventDataStoreIngestion')";

export const MANAGED_DASHBOARDS: readonly ManagedDashboard[] = [
  {
    name: ACTIVITY,
    widgets: [
      widget(
        ACTIVITY,
        'EventsOverTime',
        'Events over time',
        { View: 'LineChart', XAxisColumn: 'period', YAxisColumn: 'events' },
        "SELECT date_trunc('?', eventTime) AS period, count(*) AS events",
        " GROUP BY date_trunc('?', eventTime) ORDER BY period",
        // One period mark before the window's three, one after: the parameters follow the marks in order.
        { before: [PERIOD], after: [PERIOD] },
      ),
      widget(
        ACTIVITY,
        'TopServices',
        'Top services',
        bar('eventSource', 'events'),
        'SELECT eventSource, count(*) AS events',
        ' GROUP BY eventSource ORDER BY events DESC, eventSource LIMIT 10',
      ),
      widget(
        ACTIVITY,
        'TopApiCalls',
        'Top API calls',
        bar('eventName', 'events'),
        'SELECT eventSource, eventName, count(*) AS events',
        ' GROUP BY eventSource, eventName ORDER BY events DESC, eventName LIMIT 10',
      ),
      widget(
        ACTIVITY,
        'TopCallers',
        'Top callers',
        TABLE,
        'SELECT userIdentity.arn AS caller, count(*) AS events',
        ' GROUP BY userIdentity.arn ORDER BY events DESC, caller LIMIT 10',
      ),
      widget(
        ACTIVITY,
        'TopSourceIps',
        'Top source IP addresses',
        TABLE,
        'SELECT sourceIPAddress, count(*) AS events',
        ' GROUP BY sourceIPAddress ORDER BY events DESC, sourceIPAddress LIMIT 10',
      ),
      widget(
        ACTIVITY,
        'ReadWrite',
        'Read and write events',
        { View: 'PieChart', XAxisColumn: 'readOnly', YAxisColumn: 'events' },
        'SELECT readOnly, count(*) AS events',
        ' GROUP BY readOnly ORDER BY readOnly',
      ),
      widget(
        ACTIVITY,
        'TopErrors',
        'Top errors',
        bar('errorCode', 'events'),
        'SELECT errorCode, count(*) AS events',
        ' AND errorCode IS NOT NULL GROUP BY errorCode ORDER BY events DESC, errorCode LIMIT 10',
      ),
      widget(
        ACTIVITY,
        'Regions',
        'Events by Region',
        bar('awsRegion', 'events'),
        'SELECT awsRegion, count(*) AS events',
        ' GROUP BY awsRegion ORDER BY events DESC, awsRegion',
      ),
    ],
  },
  {
    name: SECURITY,
    widgets: [
      widget(
        SECURITY,
        'FailedSignIns',
        'Failed console sign-ins',
        TABLE,
        "SELECT userIdentity.arn AS identity, sourceIPAddress, element_at(additionalEventData, 'MFAUsed') AS mfaUsed, count(*) AS failures",
        ` AND ${FAILED_SIGN_IN} GROUP BY userIdentity.arn, sourceIPAddress, element_at(additionalEventData, 'MFAUsed') ORDER BY failures DESC, identity`,
      ),
      widget(
        SECURITY,
        'SignInsWithoutMfa',
        'Console sign-ins without MFA',
        TABLE,
        'SELECT userIdentity.arn AS identity, count(*) AS signIns',
        " AND eventName = 'ConsoleLogin' AND element_at(additionalEventData, 'MFAUsed') = 'No' GROUP BY userIdentity.arn ORDER BY signIns DESC, identity",
      ),
      widget(
        SECURITY,
        'AccessDenied',
        'Access denied by caller',
        TABLE,
        'SELECT userIdentity.arn AS caller, eventSource, eventName, count(*) AS denied',
        ` AND ${ACCESS_DENIED} GROUP BY userIdentity.arn, eventSource, eventName ORDER BY denied DESC, caller LIMIT 20`,
      ),
      widget(
        SECURITY,
        'RootActivity',
        'Root user activity',
        TABLE,
        'SELECT eventTime, eventSource, eventName, sourceIPAddress',
        " AND userIdentity.type = 'Root' ORDER BY eventTime DESC LIMIT 100",
      ),
      widget(
        SECURITY,
        'IamChanges',
        'Changes to IAM',
        TABLE,
        'SELECT eventTime, userIdentity.arn AS changedBy, eventName',
        " AND eventSource = 'iam.amazonaws.com' AND readOnly = false ORDER BY eventTime DESC LIMIT 100",
      ),
      widget(
        SECURITY,
        'LoggingChanges',
        'CloudTrail logging changes',
        TABLE,
        'SELECT eventTime, userIdentity.arn AS changedBy, eventName',
        ` AND ${LOGGING_CHANGES} ORDER BY eventTime DESC`,
      ),
      widget(
        SECURITY,
        'CrossAccountCalls',
        'Calls from other accounts',
        TABLE,
        'SELECT userIdentity.accountId AS callerAccount, count(*) AS events',
        ' AND userIdentity.accountId <> recipientAccountId GROUP BY userIdentity.accountId ORDER BY events DESC, callerAccount',
      ),
    ],
  },
];

/** The Highlights dashboard's widgets: security highlights at a glance, each one number or a short list. */
export const HIGHLIGHTS_WIDGETS: readonly WidgetRecord[] = [
  widget(HIGHLIGHTS_NAME, 'TotalEvents', 'Total events', CARD, 'SELECT count(*) AS events'),
  widget(
    HIGHLIGHTS_NAME,
    'FailedSignIns',
    'Failed console sign-ins',
    CARD,
    'SELECT count(*) AS failures',
    ` AND ${FAILED_SIGN_IN}`,
  ),
  widget(
    HIGHLIGHTS_NAME,
    'AccessDenied',
    'Access denied calls',
    CARD,
    'SELECT count(*) AS denied',
    ` AND ${ACCESS_DENIED}`,
  ),
  widget(
    HIGHLIGHTS_NAME,
    'RootActivity',
    'Root user calls',
    CARD,
    'SELECT count(*) AS rootCalls',
    " AND userIdentity.type = 'Root'",
  ),
  widget(
    HIGHLIGHTS_NAME,
    'CrossAccountAccess',
    'Total cross-account access',
    CARD,
    'SELECT count(*) AS events',
    ' AND userIdentity.accountId <> recipientAccountId',
  ),
  widget(
    HIGHLIGHTS_NAME,
    'TopErrors',
    'Top errors',
    bar('errorCode', 'events'),
    'SELECT errorCode, count(*) AS events',
    ' AND errorCode IS NOT NULL GROUP BY errorCode ORDER BY events DESC, errorCode LIMIT 5',
  ),
  widget(
    HIGHLIGHTS_NAME,
    'TopCallers',
    'Most active callers',
    TABLE,
    'SELECT userIdentity.arn AS caller, count(*) AS events',
    ' GROUP BY userIdentity.arn ORDER BY events DESC, caller LIMIT 5',
  ),
  widget(
    HIGHLIGHTS_NAME,
    'LoggingChanges',
    'CloudTrail logging changes',
    CARD,
    'SELECT count(*) AS changes',
    ` AND ${LOGGING_CHANGES}`,
  ),
];

export function managedDashboard(name: string): ManagedDashboard | undefined {
  return MANAGED_DASHBOARDS.find((d) => d.name === name);
}

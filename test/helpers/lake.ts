import assert from 'node:assert/strict';
import {
  type CloudTrailClient,
  DescribeQueryCommand,
  GetImportCommand,
  type GetImportCommandOutput,
  GetQueryResultsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudtrail';

/** Runs a Lake query to its end and reads every page of its rows, each row as one object of its columns. */
export async function lakeQueryRows(ct: CloudTrailClient, sql: string): Promise<Record<string, string | null>[]> {
  const { QueryId } = await ct.send(new StartQueryCommand({ QueryStatement: sql }));
  for (;;) {
    const d = await ct.send(new DescribeQueryCommand({ QueryId }));
    if (d.QueryStatus === 'FINISHED') break;
    assert.ok(d.QueryStatus === 'QUEUED' || d.QueryStatus === 'RUNNING', `${sql}: ${d.QueryStatus} ${d.ErrorMessage}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const rows: Record<string, string | null>[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ct.send(new GetQueryResultsCommand({ QueryId, NextToken }));
    for (const row of page.QueryResultRows ?? []) rows.push(Object.assign({}, ...row));
    NextToken = page.NextToken;
  } while (NextToken);
  return rows;
}

/** Polls GetImport until the import has left INITIALIZING and IN_PROGRESS. */
export async function importSettled(ct: CloudTrailClient, ImportId: string): Promise<GetImportCommandOutput> {
  for (;;) {
    const got = await ct.send(new GetImportCommand({ ImportId }));
    if (got.ImportStatus !== 'INITIALIZING' && got.ImportStatus !== 'IN_PROGRESS') return got;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A statement that keeps a query running long enough to be caught RUNNING, cancelled or stopped: the store's
 * events joined with themselves `ways` times (400 events, four ways: 400⁴ rows to count).
 */
export function runawayQuery(storeId: string, ways = 4): string {
  const names = Array.from({ length: ways }, (_, i) => String.fromCharCode(97 + i));
  const joins = names.slice(1).map((n) => ` JOIN ${storeId} ${n} ON true`);
  return `SELECT count(*) FROM ${storeId} a${joins.join('')} WHERE a.eventID <> ${names[ways - 1]}.eventID`;
}

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

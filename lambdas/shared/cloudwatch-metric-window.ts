/**
 * One metric window from CloudWatch, as the shadow gates read it: a GetMetricData call (followed
 * through its pages) whose single period spans the whole window, so a p99 is the window's, not a
 * mean of minutes. The window is widened to whole minutes (and one more at the end, for the
 * datapoint still being aggregated); periods of a minute or more are multiples of 60 seconds.
 * Every datapoint of a query is returned, so a caller sums counts and takes the largest p99 of a
 * window split into several datapoints (the safe side).
 */
import { type CloudWatchClient, type Dimension, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';

/** CloudWatch periods of a minute or more are multiples of 60 seconds. */
const PERIOD_STEP_SECONDS = 60;

export interface MetricWindowQuery {
  /** The query's id in GetMetricData (lower-case first letter, as CloudWatch requires). */
  readonly id: string;
  readonly metric: string;
  readonly stat: string;
}

export interface MetricWindowRequest {
  readonly namespace: string;
  readonly dimensions: readonly Dimension[];
  readonly queries: readonly MetricWindowQuery[];
  readonly start: Date;
  readonly end: Date;
}

/** Each query's datapoints over the window, by query id (absent: no datapoint). */
export async function readMetricWindow(client: CloudWatchClient, request: MetricWindowRequest): Promise<ReadonlyMap<string, number[]>> {
  const startTime = new Date(Math.floor(request.start.getTime() / 60_000) * 60_000);
  const endTime = new Date(Math.ceil(request.end.getTime() / 60_000) * 60_000 + 60_000);
  const period = Math.max(
    PERIOD_STEP_SECONDS,
    Math.ceil((endTime.getTime() - startTime.getTime()) / 1000 / PERIOD_STEP_SECONDS) * PERIOD_STEP_SECONDS,
  );
  const queries: MetricDataQuery[] = request.queries.map(({ id, metric, stat }) => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: request.namespace, MetricName: metric, Dimensions: [...request.dimensions] },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  }));
  const values = new Map<string, number[]>();
  let nextToken: string | undefined;
  do {
    const response = await client.send(
      new GetMetricDataCommand({ StartTime: startTime, EndTime: endTime, MetricDataQueries: queries, NextToken: nextToken }),
    );
    for (const result of response.MetricDataResults ?? []) {
      values.set(result.Id!, [...(values.get(result.Id!) ?? []), ...(result.Values ?? [])]);
    }
    nextToken = response.NextToken;
  } while (nextToken);
  return values;
}

/** The sum of a query's datapoints (0 without any). */
export function sumOf(values: ReadonlyMap<string, number[]>, id: string): number {
  return (values.get(id) ?? []).reduce((total, value) => total + value, 0);
}

/**
 * ShadowMetricsReader on CloudWatch: one GetMetricData call over the shadow window for the
 * candidate's Shadow* metrics (dimensions Model and Version), one period spanning the whole window
 * so the p99 is the window's, not a mean of minutes. Sums add up every datapoint returned; a
 * window split into several datapoints takes the largest p99 (the safe side).
 */
import { type CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { METRIC_DIMENSIONS, METRICS_NAMESPACE, SHADOW_METRICS } from '../../contracts/metrics';
import type { ShadowWindow } from '../shared/shadow-gates';
import type { ShadowMetricsReader } from './deploy-serverless';

/** CloudWatch periods of a minute or more are multiples of 60 seconds. */
const PERIOD_STEP_SECONDS = 60;

const QUERIES = [
  { id: 'requests', metric: SHADOW_METRICS.requests, stat: 'Sum' },
  { id: 'failed', metric: SHADOW_METRICS.failedRequests, stat: 'Sum' },
  { id: 'compared', metric: SHADOW_METRICS.comparedRows, stat: 'Sum' },
  { id: 'agreeing', metric: SHADOW_METRICS.agreeingRows, stat: 'Sum' },
  { id: 'latency', metric: SHADOW_METRICS.latency, stat: 'p99' },
] as const;

export class CloudWatchShadowMetrics implements ShadowMetricsReader {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly modelName: string,
  ) {}

  async read({ version, start, end }: { version: number; start: Date; end: Date }): Promise<ShadowWindow> {
    const startTime = new Date(Math.floor(start.getTime() / 60_000) * 60_000);
    const endTime = new Date(Math.ceil(end.getTime() / 60_000) * 60_000 + 60_000);
    const period = Math.max(
      PERIOD_STEP_SECONDS,
      Math.ceil((endTime.getTime() - startTime.getTime()) / 1000 / PERIOD_STEP_SECONDS) * PERIOD_STEP_SECONDS,
    );
    const dimensions = [
      { Name: METRIC_DIMENSIONS.model, Value: this.modelName },
      { Name: METRIC_DIMENSIONS.version, Value: String(version) },
    ];
    const queries: MetricDataQuery[] = QUERIES.map(({ id, metric, stat }) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: METRICS_NAMESPACE, MetricName: metric, Dimensions: dimensions }, Period: period, Stat: stat },
      ReturnData: true,
    }));
    const values = new Map<string, number[]>();
    let nextToken: string | undefined;
    do {
      const response = await this.client.send(
        new GetMetricDataCommand({ StartTime: startTime, EndTime: endTime, MetricDataQueries: queries, NextToken: nextToken }),
      );
      for (const result of response.MetricDataResults ?? []) {
        values.set(result.Id!, [...(values.get(result.Id!) ?? []), ...(result.Values ?? [])]);
      }
      nextToken = response.NextToken;
    } while (nextToken);
    const sum = (id: string) => (values.get(id) ?? []).reduce((total, value) => total + value, 0);
    const latencies = values.get('latency') ?? [];
    return {
      requests: sum('requests'),
      failedRequests: sum('failed'),
      comparedRows: sum('compared'),
      agreeingRows: sum('agreeing'),
      ...(latencies.length > 0 ? { p99LatencyMs: Math.max(...latencies) } : {}),
    };
  }
}

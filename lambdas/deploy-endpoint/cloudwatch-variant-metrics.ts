/**
 * VariantMetricsReader on CloudWatch: one GetMetricData call (paginated) over the shadow window for
 * the shadow variant's AWS/SageMaker metrics (dimensions EndpointName and VariantName):
 * Invocations and Invocation5XXErrors summed, ModelLatency's p99 (microseconds, reported in
 * milliseconds). One period spans the whole window, so the p99 is the window's; a window split into
 * several datapoints takes the largest p99 (the safe side). 4XX errors are the caller's (the same
 * request reached production) and count as no failure, as in the endpoint's rollback alarms.
 */
import { type CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { ShadowWindow } from '../shared/shadow-gates';
import type { VariantMetricsReader } from './shadow-phase';

/** CloudWatch periods of a minute or more are multiples of 60 seconds. */
const PERIOD_STEP_SECONDS = 60;
const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';

const QUERIES = [
  { id: 'invocations', metric: 'Invocations', stat: 'Sum' },
  { id: 'errors', metric: 'Invocation5XXErrors', stat: 'Sum' },
  { id: 'latency', metric: 'ModelLatency', stat: 'p99' },
] as const;

export class CloudWatchVariantMetrics implements VariantMetricsReader {
  constructor(private readonly client: CloudWatchClient) {}

  async read(span: {
    endpointName: string;
    variantName: string;
    start: Date;
    end: Date;
  }): Promise<Omit<ShadowWindow, 'comparedRows' | 'agreeingRows'>> {
    const startTime = new Date(Math.floor(span.start.getTime() / 60_000) * 60_000);
    const endTime = new Date(Math.ceil(span.end.getTime() / 60_000) * 60_000 + 60_000);
    const period = Math.max(
      PERIOD_STEP_SECONDS,
      Math.ceil((endTime.getTime() - startTime.getTime()) / 1000 / PERIOD_STEP_SECONDS) * PERIOD_STEP_SECONDS,
    );
    const dimensions = [
      { Name: 'EndpointName', Value: span.endpointName },
      { Name: 'VariantName', Value: span.variantName },
    ];
    const queries: MetricDataQuery[] = QUERIES.map(({ id, metric, stat }) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: SAGEMAKER_NAMESPACE, MetricName: metric, Dimensions: dimensions }, Period: period, Stat: stat },
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
    const latenciesMicroseconds = values.get('latency') ?? [];
    return {
      requests: sum('invocations'),
      failedRequests: sum('errors'),
      ...(latenciesMicroseconds.length > 0 ? { p99LatencyMs: Math.max(...latenciesMicroseconds) / 1000 } : {}),
    };
  }
}

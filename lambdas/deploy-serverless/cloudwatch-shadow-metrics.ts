/**
 * ShadowMetricsReader on CloudWatch: one GetMetricData call over the shadow window for the
 * candidate's Shadow* metrics (dimensions Model and Version), one period spanning the whole window
 * so the p99 is the window's, not a mean of minutes. Sums add up every datapoint returned; a
 * window split into several datapoints takes the largest p99 (the safe side).
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { METRIC_DIMENSIONS, METRICS_NAMESPACE, SHADOW_METRICS } from '../../contracts/metrics';
import { readMetricWindow, sumOf } from '../shared/cloudwatch-metric-window';
import type { ShadowWindow } from '../shared/shadow-gates';
import type { ShadowMetricsReader } from './deploy-serverless';

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
    const values = await readMetricWindow(this.client, {
      namespace: METRICS_NAMESPACE,
      dimensions: [
        { Name: METRIC_DIMENSIONS.model, Value: this.modelName },
        { Name: METRIC_DIMENSIONS.version, Value: String(version) },
      ],
      queries: QUERIES,
      start,
      end,
    });
    const latencies = values.get('latency') ?? [];
    return {
      requests: sumOf(values, 'requests'),
      failedRequests: sumOf(values, 'failed'),
      comparedRows: sumOf(values, 'compared'),
      agreeingRows: sumOf(values, 'agreeing'),
      ...(latencies.length > 0 ? { p99LatencyMs: Math.max(...latencies) } : {}),
    };
  }
}

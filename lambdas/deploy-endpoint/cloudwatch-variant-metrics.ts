/**
 * VariantMetricsReader on CloudWatch: one GetMetricData call (paginated) over the shadow window for
 * the shadow variant's AWS/SageMaker metrics (dimensions EndpointName and VariantName):
 * Invocations and Invocation5XXErrors summed, ModelLatency's p99 (microseconds, reported in
 * milliseconds). One period spans the whole window, so the p99 is the window's; a window split into
 * several datapoints takes the largest p99 (the safe side). 4XX errors are the caller's (the same
 * request reached production) and count as no failure, as in the endpoint's rollback alarms.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { readMetricWindow, sumOf } from '../shared/cloudwatch-metric-window';
import type { ShadowWindow } from '../shared/shadow-gates';
import type { VariantMetricsReader } from './shadow-phase';

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
    const values = await readMetricWindow(this.client, {
      namespace: SAGEMAKER_NAMESPACE,
      dimensions: [
        { Name: 'EndpointName', Value: span.endpointName },
        { Name: 'VariantName', Value: span.variantName },
      ],
      queries: QUERIES,
      start: span.start,
      end: span.end,
    });
    const latenciesMicroseconds = values.get('latency') ?? [];
    return {
      requests: sumOf(values, 'invocations'),
      failedRequests: sumOf(values, 'errors'),
      ...(latenciesMicroseconds.length > 0 ? { p99LatencyMs: Math.max(...latenciesMicroseconds) / 1000 } : {}),
    };
  }
}

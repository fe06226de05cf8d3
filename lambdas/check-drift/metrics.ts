/**
 * The drift metrics (contracts/metrics.ts DRIFT_METRICS) of one verdict, in CloudWatch embedded
 * metric format through Powertools Metrics. Nothing is published without a verdict, so an empty
 * window never resolves or raises the alarm. Each dimension set is its own EMF document, without
 * Powertools' default `service` dimension.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

import { DRIFT_METRICS, METRIC_DIMENSIONS } from '../../contracts/metrics';
import type { DriftVerdict } from './verdict';

export interface MetricDocument {
  readonly dimensions: Record<string, string>;
  readonly metrics: { readonly name: string; readonly unit: Unit; readonly value: number }[];
}

/** What one drift check publishes. */
export function driftMetrics(model: string, verdict: DriftVerdict): MetricDocument[] {
  const dataset: MetricDocument['metrics'] = [{ name: DRIFT_METRICS.sampleSize, unit: MetricUnit.Count, value: verdict.sampleSize }];
  if (verdict.status !== 'insufficient-data') {
    dataset.push({ name: DRIFT_METRICS.datasetDrift, unit: MetricUnit.Count, value: verdict.status === 'drift' ? 1 : 0 });
    dataset.push({ name: DRIFT_METRICS.driftedFeatureShare, unit: MetricUnit.NoUnit, value: verdict.driftedFeatureShare ?? 0 });
  }
  const documents: MetricDocument[] = [{ dimensions: { [METRIC_DIMENSIONS.model]: model }, metrics: dataset }];
  for (const feature of [...verdict.features, ...(verdict.prediction ? [verdict.prediction] : [])]) {
    const comparison = feature.comparison;
    if (!comparison || feature.status === 'insufficient-data') continue;
    const metrics: MetricDocument['metrics'] = [
      { name: DRIFT_METRICS.featurePsi, unit: MetricUnit.NoUnit, value: comparison.psi },
      { name: DRIFT_METRICS.featureJs, unit: MetricUnit.NoUnit, value: comparison.js },
    ];
    // FeatureKS is the KS statistic of numeric features; categoricals have the chi-square test instead.
    if (comparison.kind === 'numeric') metrics.push({ name: DRIFT_METRICS.featureKs, unit: MetricUnit.NoUnit, value: comparison.ks });
    documents.push({ dimensions: { [METRIC_DIMENSIONS.model]: model, [METRIC_DIMENSIONS.feature]: feature.name }, metrics });
  }
  return documents;
}

/** Publishes each document through a fresh Metrics instance (one EMF line per dimension set). */
export function publishMetrics(documents: readonly MetricDocument[], createMetrics: () => Metrics): void {
  for (const document of documents) {
    const metrics = createMetrics();
    metrics.clearDefaultDimensions();
    metrics.addDimensions(document.dimensions);
    for (const metric of document.metrics) metrics.addMetric(metric.name, metric.unit, metric.value);
    metrics.publishStoredMetrics();
  }
}

/**
 * The shadow function of one serverless model: predict invokes it asynchronously with each request
 * it mirrors (shadow-score.ts scores it with the candidate in shadow and compares the answers), and
 * it publishes the Shadow* metrics (embedded metric format, dimensions Model and Version) the
 * deploy function's shadow gates read. Nothing is returned to anyone: Lambda discards an
 * asynchronous invocation's result.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { METRIC_DIMENSIONS, METRICS_NAMESPACE, SHADOW_METRICS } from '../../contracts/metrics';
import { modelSchemaJsonSchema } from '../../contracts/serving-schema';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { S3ObjectStore } from '../shared/s3-object-store';
import { OnnxScorer } from '../shared/serving/onnx-scorer';
import { fetchServedModel } from '../shared/serving/served-version';
import type { ShadowObservation } from '../shared/serving/shadow';
import { ShadowScorer } from './shadow-score';

const environmentSchema = z.object({
  TABLE_NAME: z.string().min(1),
  MODEL_SCHEMA: modelSchemaJsonSchema,
  SHADOW_TOLERANCE: z.coerce.number().min(0),
});

/** Adds one mirrored request's Shadow* metrics under the candidate's version. */
export function recordShadowObservation(metrics: Metrics, observation: ShadowObservation): void {
  metrics.addDimension(METRIC_DIMENSIONS.version, String(observation.version));
  metrics.addMetric(SHADOW_METRICS.requests, MetricUnit.Count, 1);
  metrics.addMetric(SHADOW_METRICS.failedRequests, MetricUnit.Count, observation.failed ? 1 : 0);
  metrics.addMetric(SHADOW_METRICS.latency, MetricUnit.Milliseconds, observation.latencyMs);
  metrics.addMetric(SHADOW_METRICS.comparedRows, MetricUnit.Count, observation.comparedRows);
  metrics.addMetric(SHADOW_METRICS.agreeingRows, MetricUnit.Count, observation.agreeingRows);
}

/** The Shadow* metrics' own Metrics: METRICS_NAMESPACE, dimension Model (Powertools' `service` dimension removed). */
export function shadowMetricsFor(modelName: string): Metrics {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [METRIC_DIMENSIONS.model]: modelName });
  return metrics;
}

const logger = new Logger();
let scoring: { scorer: ShadowScorer; metrics: Metrics } | undefined;

function fromEnvironment(): { scorer: ShadowScorer; metrics: Metrics } {
  if (scoring) return scoring;
  const parsed = environmentSchema.safeParse(process.env);
  if (!parsed.success) throw new Error(`shadow function environment is invalid: ${z.prettifyError(parsed.error)}`);
  const env = parsed.data;
  const registry = new DynamoDbRegistryStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), env.TABLE_NAME);
  const objects = new S3ObjectStore(new S3Client({}));
  const scorer = new ShadowScorer({
    schema: env.MODEL_SCHEMA,
    registry,
    tolerance: env.SHADOW_TOLERANCE,
    loadScorer: async (version) => {
      const { modelBytes, trainingRanges } = await fetchServedModel(objects, version);
      return OnnxScorer.create(modelBytes, trainingRanges);
    },
  });
  scoring = { scorer, metrics: shadowMetricsFor(env.MODEL_SCHEMA.modelName) };
  return scoring;
}

export async function handler(event: unknown, context: Context): Promise<void> {
  logger.addContext(context);
  const { scorer, metrics } = fromEnvironment();
  const request = scorer.parse(event);
  const observation = await scorer.observe(request);
  if (observation.error) {
    logger.warn('the candidate in shadow failed a mirrored request', {
      requestId: request.requestId,
      candidateVersion: observation.version,
      error: observation.error.message,
    });
  }
  recordShadowObservation(metrics, observation);
  metrics.publishStoredMetrics();
}

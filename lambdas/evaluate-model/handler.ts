/**
 * The evaluate-model function: `{ model, artifactUri, holdoutUri, trainingJobName,
 * billableSeconds, trainingSeconds, runId }` in (the training pipeline's EvaluateModel task),
 * `{ passed, metrics, reasons, artifactSha256, spotSavings?, reportUri, champion }` out. A model
 * that fails the gate is a result (`passed: false`) the pipeline branches on; faults throw:
 * ValidationError (bad event or model entry), NotFoundError (missing artifact or holdout),
 * ArtifactIntegrityError (no model.onnx in the artifact), ModelContractError (the model's input
 * or output does not fit its configuration), SDK errors (retryable). It publishes the run's
 * metrics as EMF, the training spend among them when the environment names the training
 * instances' price (TRAINING_INSTANCE_HOUR_USD, TRAINING_INSTANCE_COUNT).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { EVALUATION_METRICS, METRIC_DIMENSIONS, METRICS_NAMESPACE } from '../../contracts/metrics';
import { modelDocumentSchema } from '../../contracts/model';
import { spotSavingsUsd, trainingCostUsd } from '../../contracts/pricing';
import { PlatformError, ValidationError } from '../shared/errors';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { S3ObjectStore } from '../shared/s3-object-store';
import { OnnxScorer } from '../shared/serving/onnx-scorer';
import { type EvaluateContext, type EvaluationResult, evaluateModel } from './evaluate-model';

/** The CloudWatch namespace of every platform metric. */

const s3Uri = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.*$/, 'must be an S3 URI: s3://<bucket>/<key or prefix/>');
const seconds = z.number().min(0).nullable().default(null);

export const evaluateModelEventSchema = z.object({
  model: z.unknown(),
  artifactUri: s3Uri.refine((uri) => !uri.endsWith('/'), 'must name the artifact object (model.tar.gz), not a prefix'),
  holdoutUri: s3Uri,
  trainingJobName: z.string().min(1).max(63),
  billableSeconds: seconds,
  trainingSeconds: seconds,
  runId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 characters of A-Z, a-z, 0-9, _ . : -'),
});

function issuesText(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues.map((issue) => `${[root, ...issue.path.map(String)].filter(Boolean).join('.')}: ${issue.message}`).join('; ');
}

/** Parses the event and evaluates against the given storage and registry. */
export async function evaluate(event: unknown, context: EvaluateContext): Promise<EvaluationResult> {
  const parsed = evaluateModelEventSchema.safeParse(event);
  if (!parsed.success) throw new ValidationError(`invalid evaluate-model event: ${issuesText(parsed.error.issues, '')}`);
  const model = modelDocumentSchema.safeParse(parsed.data.model);
  if (!model.success) throw new ValidationError(`the model entry does not parse: ${issuesText(model.error.issues, 'model')}`);
  if (context.modelName !== undefined && model.data.name !== context.modelName) {
    throw new ValidationError(
      `this evaluate-model function serves model "${context.modelName}" and may touch only its artifacts; the event names "${model.data.name}"`,
    );
  }
  return evaluateModel(context, { ...parsed.data, model: model.data });
}

/** The training job's time, and what an instance-hour of it costs when the function was told. */
export interface TrainingSpend {
  readonly trainingSeconds: number | null;
  readonly billableSeconds: number | null;
  readonly trainingJobName?: string;
  readonly price?: TrainingPrice;
}

/** The on-demand price of the model's training instances (TRAINING_INSTANCE_HOUR_USD, TRAINING_INSTANCE_COUNT). */
export interface TrainingPrice {
  readonly instanceHourUsd: number;
  readonly instanceCount: number;
}

const trainingPriceEnvironmentSchema = z.object({
  TRAINING_INSTANCE_HOUR_USD: z.coerce.number().positive(),
  TRAINING_INSTANCE_COUNT: z.coerce.number().int().min(1),
});

/** The training price the ModelEvaluation construct sets; undefined when it set none; an Error when it is malformed. */
export function trainingPriceFromEnvironment(environment: Record<string, string | undefined>): TrainingPrice | undefined {
  if (environment.TRAINING_INSTANCE_HOUR_USD === undefined && environment.TRAINING_INSTANCE_COUNT === undefined) return undefined;
  const parsed = trainingPriceEnvironmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new Error(
      `TRAINING_INSTANCE_HOUR_USD must be a positive price and TRAINING_INSTANCE_COUNT a positive integer, got ${JSON.stringify(environment.TRAINING_INSTANCE_HOUR_USD)} and ${JSON.stringify(environment.TRAINING_INSTANCE_COUNT)}`,
    );
  }
  return { instanceHourUsd: parsed.data.TRAINING_INSTANCE_HOUR_USD, instanceCount: parsed.data.TRAINING_INSTANCE_COUNT };
}

/**
 * Publishes the run's outcome as embedded metric format (one log line, no PutMetricData call):
 * the gate, the training seconds and, with a price, TrainingCostUsd and SpotSavingsUsd. The
 * version is issued after evaluation, so the run's training job (which the registry records
 * with the version) goes along as metadata rather than as a dimension.
 */
export function publishEvaluationMetrics(metrics: Metrics, modelName: string, result: EvaluationResult, training: TrainingSpend): void {
  metrics.addDimension(METRIC_DIMENSIONS.model, modelName);
  if (training.trainingJobName !== undefined) metrics.addMetadata('trainingJobName', training.trainingJobName);
  metrics.addMetric(EVALUATION_METRICS.passed, MetricUnit.Count, result.passed ? 1 : 0);
  if (result.spotSavings !== undefined)
    metrics.addMetric(EVALUATION_METRICS.spotSavingsPercent, MetricUnit.Percent, result.spotSavings * 100);
  const { trainingSeconds, billableSeconds, price } = training;
  if (trainingSeconds !== null) metrics.addMetric(EVALUATION_METRICS.trainingSeconds, MetricUnit.Seconds, trainingSeconds);
  if (billableSeconds !== null) metrics.addMetric(EVALUATION_METRICS.billableSeconds, MetricUnit.Seconds, billableSeconds);
  if (price && billableSeconds !== null) {
    metrics.addMetric(
      EVALUATION_METRICS.trainingCostUsd,
      MetricUnit.NoUnit,
      trainingCostUsd(billableSeconds, price.instanceCount, price.instanceHourUsd),
    );
    if (trainingSeconds !== null) {
      metrics.addMetric(
        EVALUATION_METRICS.spotSavingsUsd,
        MetricUnit.NoUnit,
        spotSavingsUsd(trainingSeconds, billableSeconds, price.instanceCount, price.instanceHourUsd),
      );
    }
  }
  metrics.publishStoredMetrics();
}

const logger = new Logger();
const tracer = new Tracer();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE });

let evaluateContext: EvaluateContext | undefined;
let trainingPrice: TrainingPrice | undefined;

/** Built once per container from the environment the ModelEvaluation construct sets. */
function contextFromEnvironment(): EvaluateContext {
  if (evaluateContext) return evaluateContext;
  const artifactsBucket = process.env.ARTIFACTS_BUCKET;
  const tableName = process.env.TABLE_NAME;
  if (!artifactsBucket || !tableName) {
    throw new Error(
      'ARTIFACTS_BUCKET and TABLE_NAME must be set; the evaluate-model function needs the artifacts bucket and the registry table',
    );
  }
  trainingPrice = trainingPriceFromEnvironment(process.env);
  const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
  evaluateContext = {
    store: new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({}))),
    registry: new DynamoDbRegistryStore(documents, tableName),
    artifactsBucket,
    loadModel: (modelBytes) => OnnxScorer.create(modelBytes),
    ...(process.env.MODEL_NAME ? { modelName: process.env.MODEL_NAME } : {}),
  };
  return evaluateContext;
}

export async function handler(event: unknown, context: Context): Promise<EvaluationResult> {
  logger.addContext(context);
  const fields = (event ?? {}) as { artifactUri?: unknown; runId?: unknown; model?: { name?: unknown } };
  const modelName = typeof fields.model?.name === 'string' ? fields.model.name : 'unknown';
  logger.appendKeys({ model: modelName, runId: typeof fields.runId === 'string' ? fields.runId : 'missing' });
  try {
    const result = await evaluate(event, contextFromEnvironment());
    const {
      trainingSeconds = null,
      billableSeconds = null,
      trainingJobName,
    } = event as { trainingSeconds?: number | null; billableSeconds?: number | null; trainingJobName?: string };
    publishEvaluationMetrics(metrics, modelName, result, {
      trainingSeconds,
      billableSeconds,
      ...(trainingJobName === undefined ? {} : { trainingJobName }),
      ...(trainingPrice === undefined ? {} : { price: trainingPrice }),
    });
    logger.info('model evaluated', { passed: result.passed, reasons: result.reasons, reportUri: result.reportUri });
    return result;
  } catch (error) {
    if (error instanceof PlatformError) {
      logger.warn('evaluation refused', { error: error.name, message: error.message, details: error.details });
    } else {
      logger.error('evaluation failed', error as Error);
    }
    throw error;
  } finally {
    logger.removeKeys(['model', 'runId']);
  }
}

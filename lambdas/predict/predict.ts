/**
 * The predict function's core: `{ instances: [...] }` in (a direct invocation, or an API Gateway
 * proxy event whose body is that JSON), predictions out, through the serving core's Predictor
 * built from the function's environment. A bad request is a ValidationError (HTTP 400) naming
 * the row and column. Canary-routed requests record the Canary* metrics the rollback alarms watch;
 * rows outside the training ranges are answered, flagged, and counted (OutOfRangeRows). A request
 * mirrored to a candidate in shadow is handed to the shadow mirror once its answer is ready; the
 * caller waits for the hand-over (an asynchronous invocation), never for the candidate.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { CANARY_METRICS, METRIC_DIMENSIONS, METRICS_NAMESPACE, PREDICT_METRICS } from '../../contracts/metrics';
import { modelSchemaJsonSchema, type PredictResponse } from '../../contracts/serving-schema';
import { PlatformError, ValidationError } from '../shared/errors';
import type { ArtifactObjects } from '../shared/object-store';
import { CaptureBuffer, type CaptureOptions } from '../shared/serving/capture';
import { OnnxScorer } from '../shared/serving/onnx-scorer';
import { type CanaryObservation, DEFAULT_REFRESH_INTERVAL_MS, Predictor, type PredictorOptions } from '../shared/serving/predictor';
import { fetchServedModel, type RegistryReader } from '../shared/serving/served-version';
import type { MirrorRequest } from '../shared/serving/shadow';

const apiEventSchema = z.looseObject({
  body: z.string().nullable(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({ requestId: z.string() }),
});

const environmentSchema = z.object({
  TABLE_NAME: z.string().min(1),
  MODEL_SCHEMA: modelSchemaJsonSchema,
  CAPTURE_BUCKET: z.string().min(1).optional(),
  CAPTURE_PERCENT: z.coerce.number().min(0).max(100).default(0),
  /** JSON array: columns besides the features a captured row keeps (serving.captureColumns). */
  CAPTURE_COLUMNS: z
    .string()
    .default('[]')
    .transform((text, ctx) => {
      try {
        return z.array(z.string()).parse(JSON.parse(text));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not a JSON array of column names: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  MODEL_VERSION: z.coerce.number().int().positive().optional(),
  MODEL_REFRESH_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_REFRESH_INTERVAL_MS / 1000),
  /** Share of requests the Staging version (the model-version canary) answers. */
  CANARY_PERCENT: z.coerce.number().min(0).max(100).default(0),
  /** Share of requests mirrored to the Staging version while it is in shadow. */
  SHADOW_PERCENT: z.coerce.number().min(0).max(100).default(0),
});

/** Hands a mirrored request to the shadow function; resolves false when it was dropped (too large). Throws when the hand-over failed. */
export type ShadowMirror = (request: MirrorRequest) => Promise<boolean>;

export interface PredictHandlerDependencies {
  readonly predictor: Predictor;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Holds the Canary* metrics of a canary-routed request (see canaryMetricsFor); published after it. */
  readonly canaryMetrics?: Metrics;
  /** Where mirrored requests go (the shadow function); without it nothing is mirrored. */
  readonly mirror?: ShadowMirror;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The Canary* metrics' own Metrics: METRICS_NAMESPACE and the single dimension `Model`
 * (Powertools' default `service` dimension removed), the exact metric the canary alarms watch.
 */
export function canaryMetricsFor(modelName: string): Metrics {
  const canaryMetrics = new Metrics({ namespace: METRICS_NAMESPACE });
  canaryMetrics.clearDefaultDimensions();
  canaryMetrics.setDefaultDimensions({ [METRIC_DIMENSIONS.model]: modelName });
  return canaryMetrics;
}

/** Adds one canary-routed request: a request, a failure (0 or 1) and the candidate's latency. */
export function recordCanaryRequest(canaryMetrics: Metrics, observation: CanaryObservation): void {
  canaryMetrics.addMetric(CANARY_METRICS.requests, MetricUnit.Count, 1);
  canaryMetrics.addMetric(CANARY_METRICS.failedRequests, MetricUnit.Count, observation.failed ? 1 : 0);
  canaryMetrics.addMetric(CANARY_METRICS.latency, MetricUnit.Milliseconds, observation.latencyMs);
}

/** Builds the predictor from the environment the ServerlessInference construct sets. */
export function predictorFromEnvironment(
  environment: NodeJS.ProcessEnv,
  registry: RegistryReader,
  objects: ArtifactObjects,
  logger: Logger,
  canaryMetrics?: Metrics,
  runtimeOptions: Pick<CaptureOptions, 'random' | 'writeTimeoutMs'> & Pick<PredictorOptions, 'now'> = {},
): Predictor {
  const { now, ...captureOptions } = runtimeOptions;
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new Error(`predict function environment is invalid: ${z.prettifyError(parsed.error)}`);
  }
  const env = parsed.data;
  const captureBucket = env.CAPTURE_BUCKET;
  const capture =
    captureBucket && env.CAPTURE_PERCENT > 0
      ? new CaptureBuffer({
          modelName: env.MODEL_SCHEMA.modelName,
          samplePercent: env.CAPTURE_PERCENT,
          keepFields: [...env.MODEL_SCHEMA.features.map((feature) => feature.name), ...env.CAPTURE_COLUMNS],
          write: (key, body) => objects.put(captureBucket, key, body, 'application/x-ndjson'),
          ...captureOptions,
        })
      : undefined;
  return new Predictor({
    schema: env.MODEL_SCHEMA,
    registry,
    loadScorer: async (version) => {
      const { modelBytes, trainingRanges } = await fetchServedModel(objects, version);
      return OnnxScorer.create(modelBytes, trainingRanges);
    },
    pinnedVersion: env.MODEL_VERSION,
    refreshIntervalMs: env.MODEL_REFRESH_SECONDS * 1000,
    canaryPercent: env.CANARY_PERCENT,
    shadowPercent: env.SHADOW_PERCENT,
    onCanaryRequest: (observation) => {
      if (canaryMetrics) recordCanaryRequest(canaryMetrics, observation);
      if (observation.error) {
        logger.warn('canary version failed; the production version answered', {
          canaryVersion: observation.version,
          error: observation.error.message,
        });
      }
    },
    capture,
    onRefreshError: (error) => logger.warn('model refresh failed; the loaded version keeps serving', error),
    ...(now ? { now } : {}),
  });
}

/** The handler over a given predictor: direct invocations throw typed errors, API events get HTTP responses. */
export function createPredictHandler({ predictor, logger, metrics, canaryMetrics, mirror }: PredictHandlerDependencies) {
  return async (event: unknown, context: Pick<Context, 'awsRequestId'>): Promise<PredictResponse | ApiResponse> => {
    // Direct invocations skip the schema: a failed zod parse builds issue objects on every request.
    const apiEvent = isApiEventShaped(event) ? apiEventSchema.safeParse(event) : NOT_AN_API_EVENT;
    const requestId = apiEvent.success ? apiEvent.data.requestContext.requestId : context.awsRequestId;
    try {
      const body = apiEvent.success ? parseBody(apiEvent.data.body, apiEvent.data.isBase64Encoded) : event;
      const { response, capture, outOfRangeRows, mirror: mirrored } = await predictor.predict(instancesOf(body), requestId);
      metrics.addMetric(PREDICT_METRICS.predictedRows, MetricUnit.Count, response.predictions.length);
      metrics.addMetric(PREDICT_METRICS.outOfRangeRows, MetricUnit.Count, outOfRangeRows);
      if (capture) {
        metrics.addMetric(PREDICT_METRICS.capturedRecords, MetricUnit.Count, capture.written);
        metrics.addMetric(PREDICT_METRICS.captureDroppedRecords, MetricUnit.Count, capture.dropped);
        if (capture.error) logger.warn('capture batch dropped', { dropped: capture.dropped, error: capture.error.message });
      }
      if (mirrored && mirror) await sendMirror(mirror, mirrored, metrics, logger);
      return apiEvent.success ? json(200, response) : response;
    } catch (error) {
      if (error instanceof PlatformError) {
        metrics.addMetric(PREDICT_METRICS.rejectedRequests, MetricUnit.Count, 1);
        logger.warn('prediction refused', { error: error.name, message: error.message });
        if (apiEvent.success) return json(error.httpStatus, error.toJSON());
      } else {
        metrics.addMetric(PREDICT_METRICS.failedRequests, MetricUnit.Count, 1);
        logger.error('prediction failed', error as Error);
        if (apiEvent.success) return json(500, { error: { code: 'InternalError', message: 'prediction failed', details: { requestId } } });
      }
      throw error;
    } finally {
      metrics.publishStoredMetrics();
      if (canaryMetrics?.hasStoredMetrics()) canaryMetrics.publishStoredMetrics();
    }
  };
}

/** Hands the request to the shadow function; a failure is logged and counted, never the caller's problem. */
async function sendMirror(mirror: ShadowMirror, request: MirrorRequest, metrics: Metrics, logger: Logger): Promise<void> {
  try {
    if (await mirror(request)) return;
    logger.warn('mirrored request dropped: over the 1 MB asynchronous invocation payload', { rows: request.instances.length });
  } catch (error) {
    logger.warn('mirrored request dropped: the shadow function could not be invoked', { error: (error as Error).message });
  }
  metrics.addMetric(PREDICT_METRICS.shadowMirrorsDropped, MetricUnit.Count, 1);
}

const NOT_AN_API_EVENT = { success: false } as const;

function isApiEventShaped(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'requestContext' in event && 'body' in event;
}

/** `{ instances: [...] }`, checked by hand: a schema library would walk all rows, which encodeRows checks anyway. */
function instancesOf(body: unknown): unknown[] {
  const instances = (body as { instances?: unknown } | null)?.instances;
  if (typeof body !== 'object' || body === null || !Array.isArray(instances)) {
    throw new ValidationError('the request must be { "instances": [row, ...] }, each row an object keyed by feature name or an array');
  }
  const extra = Object.keys(body).filter((key) => key !== 'instances');
  if (extra.length > 0) throw new ValidationError(`the request has unknown fields: ${extra.join(', ')}; only "instances" is accepted`);
  return instances;
}

function parseBody(body: string | null, base64: boolean | undefined): unknown {
  const text = base64 ? Buffer.from(body ?? '', 'base64').toString('utf8') : (body ?? '');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the request body is not JSON: ${(error as Error).message}`);
  }
}

function json(statusCode: number, value: unknown): ApiResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

/**
 * The check-drift function: `{ model, windowStart?, windowEnd? }` or `{ model, captureUri }` in
 * (the DriftMonitor schedule sends `{ model, windowEnd: <scheduled time> }`), the verdict out,
 * `drift-report.json` written and the drift metrics published. One function per model: its
 * features, target and thresholds come from DRIFT_SETTINGS, set by the construct from the config.
 * Faults throw: ValidationError (bad event), NotFoundError (missing reference profile object),
 * SDK errors (retryable).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { type DriftModelSettings, driftModelSettingsSchema } from '../../contracts/drift';
import { METRICS_NAMESPACE } from '../../contracts/metrics';
import type { DriftVerdictRequest } from '../../contracts/registry';
import { PlatformError, ValidationError } from '../shared/errors';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { RegistryFunctionClient } from '../shared/registry/lambda-registry-client';
import { S3ObjectStore } from '../shared/s3-object-store';
import { type CheckDriftRequest, type CheckDriftResult, checkDrift, type DriftContext } from './check-drift';
import { driftMetrics, publishMetrics } from './metrics';
import { driftVerdictRequest } from './verdict-record';

const isoTime = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 time');

export const checkDriftEventSchema = z
  .object({
    model: z.string().min(1),
    windowStart: isoTime.optional(),
    windowEnd: isoTime.optional(),
    captureUri: z
      .string()
      .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.*$/, 'must be an S3 URI: s3://<bucket>/<prefix/>')
      .optional(),
  })
  .strict()
  .refine((event) => event.captureUri === undefined || (event.windowStart === undefined && event.windowEnd === undefined), {
    message: 'give either a window (windowStart/windowEnd) or a captureUri, not both',
  });

export function parseSettings(text: string | undefined): DriftModelSettings {
  if (!text) throw new Error('DRIFT_SETTINGS is not set; the DriftMonitor construct sets it from the model configuration');
  const parsed = driftModelSettingsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`DRIFT_SETTINGS is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function parseEvent(event: unknown): CheckDriftRequest {
  const parsed = checkDriftEventSchema.safeParse(event);
  if (!parsed.success) {
    const text = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(event)'}: ${issue.message}`).join('; ');
    throw new ValidationError(`invalid check-drift event: ${text}`);
  }
  return parsed.data;
}

export interface CheckDriftDependencies {
  readonly context: DriftContext;
  readonly settings: DriftModelSettings;
  readonly logger: Logger;
  readonly createMetrics: () => Metrics;
  /** Keeps a verdict in the registry's audit trail (the drift history, published as a registry event). */
  readonly recordVerdict?: (request: DriftVerdictRequest) => Promise<unknown>;
  /** Who the registry records as the verdict's actor. @default 'check-drift' */
  readonly actor?: string;
}

export function createCheckDriftHandler({ context, settings, logger, createMetrics, recordVerdict, actor }: CheckDriftDependencies) {
  return async (event: unknown): Promise<CheckDriftResult> => {
    try {
      const outcome = await checkDrift(context, settings, parseEvent(event));
      if (outcome.verdict) publishMetrics(driftMetrics(settings.name, outcome.verdict), createMetrics);
      if (recordVerdict && 'sampleSize' in outcome.result) await recordVerdict(driftVerdictRequest(outcome.result, actor ?? 'check-drift'));
      logger.info('drift checked', { ...outcome.result });
      return outcome.result;
    } catch (error) {
      if (error instanceof PlatformError) logger.warn('drift check refused', { error: error.name, message: error.message });
      else logger.error('drift check failed', error as Error);
      throw error;
    }
  };
}

const logger = new Logger();
const tracer = new Tracer();
let lambdaHandler: ReturnType<typeof createCheckDriftHandler> | undefined;

function fromEnvironment(): ReturnType<typeof createCheckDriftHandler> {
  if (lambdaHandler) return lambdaHandler;
  const { TABLE_NAME, ARTIFACTS_BUCKET, CAPTURE_BUCKET } = process.env;
  if (!TABLE_NAME || !ARTIFACTS_BUCKET || !CAPTURE_BUCKET) {
    throw new Error('TABLE_NAME, ARTIFACTS_BUCKET and CAPTURE_BUCKET must be set; the DriftMonitor construct sets them');
  }
  const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
  lambdaHandler = createCheckDriftHandler({
    context: {
      store: new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({}))),
      registry: new DynamoDbRegistryStore(documents, TABLE_NAME),
      artifactsBucket: ARTIFACTS_BUCKET,
      captureBucket: CAPTURE_BUCKET,
    },
    settings: parseSettings(process.env.DRIFT_SETTINGS),
    logger,
    createMetrics: () => new Metrics({ namespace: METRICS_NAMESPACE }),
    ...registryRecorder(process.env.REGISTRY_FUNCTION_NAME),
  });
  return lambdaHandler;
}

/** The verdict goes to the registry function (the table's only writer) when the construct names it. */
function registryRecorder(functionName: string | undefined): Pick<CheckDriftDependencies, 'recordVerdict' | 'actor'> {
  if (!functionName) return {};
  const registry = new RegistryFunctionClient(tracer.captureAWSv3Client(new LambdaClient({})), functionName);
  return {
    recordVerdict: (request) => registry.call('recordDriftVerdict', { ...request }),
    actor: `check-drift:${process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function'}`,
  };
}

export async function handler(event: unknown, context: Context): Promise<CheckDriftResult> {
  logger.addContext(context);
  return fromEnvironment()(event);
}

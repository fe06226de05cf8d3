/**
 * The validate-data function: `{ datasetUri, model, referenceProfileUri?, mode?, runId?, format?,
 * delimiter?, split? }` in, a small summary out (`valid: false` is a result the pipeline branches on).
 * `model` carries the model's dataset schema (name, columns, target, dataset rules) — the state
 * machine passes it from the platform configuration, so the function needs no configuration
 * lookup and env stays under Lambda's 4 KB limit. Faults throw: ValidationError (bad event),
 * NotFoundError (missing object), DatasetFormatError (unreadable data), SDK errors (retryable).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { csvDelimiterSchema, datasetSchemaSchema } from '../../contracts/dataset';
import { modelDocumentSchema } from '../../contracts/model';
import { PlatformError, ValidationError } from '../shared/errors';
import { DATASET_FORMATS } from '../shared/readers/index';
import { S3ObjectStore } from '../shared/s3-object-store';
import { type RunContext, runValidation, type ShardListing, VALIDATION_MODES, type ValidationSummary } from './validate-data';

const logger = new Logger();
const tracer = new Tracer();

const s3Uri = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.*$/, 'must be an S3 URI: s3://<bucket>/<key or prefix/>');

export const validateDataEventSchema = z
  .object({
    datasetUri: s3Uri,
    model: z.unknown(),
    referenceProfileUri: s3Uri.optional(),
    mode: z.enum(VALIDATION_MODES).default('single'),
    runId: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 characters of A-Z, a-z, 0-9, _ . : -')
      .optional(),
    format: z.enum(DATASET_FORMATS).optional(),
    // null: the run set none (the pipeline's default), so the model's dataset.delimiter applies.
    delimiter: csvDelimiterSchema.nullable().optional(),
    split: z.object({ holdoutUri: s3Uri.nullable() }).strict().optional(),
  })
  .superRefine((event, ctx) => {
    if (event.mode !== 'single' && event.runId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['runId'], message: `is required in ${event.mode} mode (every shard of a run shares it)` });
    }
  });

function issuesText(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues.map((issue) => `${[root, ...issue.path.map(String)].filter(Boolean).join('.')}: ${issue.message}`).join('; ');
}

/** Parses the event and runs the validation against the given storage. */
export async function validateData(event: unknown, context: RunContext): Promise<ValidationSummary | ShardListing> {
  const parsed = validateDataEventSchema.safeParse(event);
  if (!parsed.success) throw new ValidationError(`invalid validate-data event: ${issuesText(parsed.error.issues, '')}`);
  // A training run's split needs the whole model document (problem type, split settings, gate minimum).
  const model = parsed.data.split ? modelDocumentSchema.safeParse(parsed.data.model) : datasetSchemaSchema.safeParse(parsed.data.model);
  if (!model.success) throw new ValidationError(`the dataset schema does not parse: ${issuesText(model.error.issues, 'model')}`);
  if (context.modelName !== undefined && model.data.name !== context.modelName) {
    throw new ValidationError(
      `this validate-data function serves model "${context.modelName}" and may touch only its data; the event names "${model.data.name}"`,
    );
  }
  const { delimiter, ...request } = parsed.data;
  return runValidation(context, { ...request, model: model.data, ...(delimiter == null ? {} : { delimiter }) });
}

let runContext: RunContext | undefined;

/** Built once per container from the environment the construct sets. */
function contextFromEnvironment(): RunContext {
  if (runContext) return runContext;
  const artifactsBucket = process.env.ARTIFACTS_BUCKET;
  if (!artifactsBucket) throw new Error('ARTIFACTS_BUCKET is not set; the validate-data function needs the artifacts bucket name');
  runContext = {
    store: new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({}))),
    artifactsBucket,
    ...(process.env.MODEL_NAME ? { modelName: process.env.MODEL_NAME } : {}),
  };
  return runContext;
}

export async function handler(event: unknown, context: Context): Promise<ValidationSummary | ShardListing> {
  logger.addContext(context);
  const datasetUri = (event as { datasetUri?: unknown } | null)?.datasetUri;
  logger.appendKeys({ datasetUri: typeof datasetUri === 'string' ? datasetUri : 'missing' });
  try {
    const summary = await validateData(event, contextFromEnvironment());
    if (summary.mode === 'list') logger.info('dataset listed', { shards: summary.shards.length });
    else logger.info('dataset validated', { valid: summary.valid, rowCount: summary.rowCount, badRowCount: summary.badRowCount });
    return summary;
  } catch (error) {
    if (error instanceof PlatformError) {
      logger.warn('dataset refused', { error: error.name, message: error.message, details: error.details });
    } else {
      logger.error('validation failed', error as Error);
    }
    throw error;
  } finally {
    logger.removeKeys(['datasetUri']);
  }
}

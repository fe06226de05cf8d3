/**
 * The batch inference pipeline's contract: where its Amazon States Language file is, the
 * `${Placeholder}` values it is deployed with (one state machine per model), and the request
 * `POST /pipelines/batch` and `mlops batch` start it with.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { S3_URI_PATTERN } from './limits';
import { STATE_MACHINES_DIRECTORY } from './state-machines';

export const BATCH_DEFINITION_PATH = path.join(STATE_MACHINES_DIRECTORY, 'batch-inference.asl.json');

export function readBatchDefinition(): string {
  return readFileSync(BATCH_DEFINITION_PATH, 'utf8');
}

/** Where scored objects and manifests may go: the artifacts bucket's `batch/<model>/` (the batch-score function may write nowhere else). */
export const BATCH_OUTPUT_PREFIX = 'batch/';

/**
 * The folder under `<model>/` of the datasets bucket meant for batch inputs (`<model>/batch/<week>/`):
 * the retraining trigger never takes it for a training dataset version.
 */
export const BATCH_INPUT_FOLDER = 'batch';

/**
 * Where a model's batch run may read and write, as its batch-score function's role allows: inputs
 * under the datasets bucket's `<model>/`, scored objects and the manifest under the artifacts
 * bucket's `batch/<model>/`.
 */
export function batchLocations(modelName: string): { readonly inputPrefix: string; readonly outputPrefix: string } {
  return { inputPrefix: `${modelName}/`, outputPrefix: `${BATCH_OUTPUT_PREFIX}${modelName}/` };
}

/** Output formats of the scored objects. */
export const BATCH_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/** The Content-Type each output format is stored with. */
export const BATCH_CONTENT_TYPES: Readonly<Record<BatchFormat, string>> = {
  csv: 'text/csv',
  jsonl: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
};

export interface BatchSubstitutionValues {
  readonly modelName: string;
  readonly batchScoreFunctionArn: string;
  readonly checkDriftFunctionArn: string;
  /** The capture bucket the scored rows' capture records go to (the drift check reads them there). */
  readonly captureBucket: string;
}

/** The DefinitionSubstitutions of a model's batch pipeline. */
export function batchSubstitutions(values: BatchSubstitutionValues): Record<string, string> {
  return {
    ModelName: values.modelName,
    BatchScoreFunctionArn: values.batchScoreFunctionArn,
    CheckDriftFunctionArn: values.checkDriftFunctionArn,
    CaptureBucket: values.captureBucket,
  };
}

/** Whether a state machine's DefinitionSubstitutions are a batch pipeline's (a training pipeline has no batch-score function). */
export function isBatchSubstitutions(substitutions: Readonly<Record<string, unknown>>): boolean {
  return typeof substitutions.BatchScoreFunctionArn === 'string';
}

/** Memory of the batch-score function, in MB, unless the construct is given another (its GB-s count uses it). */
export const BATCH_SCORE_MEMORY_MB = 2048;

/** Limits of the batch request: S3 keys are at most 1,024 bytes; column names as the dataset schema allows. */
export const BATCH_LIMITS = { uriLength: 1024, columnNameLength: 128 } as const;

/** An output location: an S3 prefix ending in `/`. */
export const BATCH_OUTPUT_URI_PATTERN = new RegExp(`${S3_URI_PATTERN.source}\\/$`);

const s3Uri = z.string().max(BATCH_LIMITS.uriLength).regex(S3_URI_PATTERN, 'must be an S3 URI: s3://<bucket>/<key or prefix/>');

/** The execution input (and the body of POST /pipelines/batch). */
export const batchRequestSchema = z
  .object({
    model: z.string().min(1),
    inputUri: s3Uri.describe('one object, or a prefix ending in / (every object under it)'),
    outputUri: z
      .string()
      .max(BATCH_LIMITS.uriLength)
      .regex(BATCH_OUTPUT_URI_PATTERN, 'must be an S3 prefix ending in /: s3://<bucket>/<prefix>/')
      .describe('where the scored objects and _manifest.json go'),
    version: z.number().int().positive().optional().describe('the version to score with; default: the production version'),
    format: z.enum(BATCH_FORMATS).optional(),
    rowIdColumn: z
      .string()
      .min(1)
      .max(BATCH_LIMITS.columnNameLength)
      .optional()
      .describe("the input column carrying each row's id; default: the row's number"),
    maxFailedPercent: z.number().min(0).max(100).optional().describe('share of rows that may fail before the run fails (default 1)'),
  })
  .strict();
export type BatchRequest = z.input<typeof batchRequestSchema>;

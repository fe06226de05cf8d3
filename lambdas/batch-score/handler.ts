/**
 * The batch-score function of one model (the batch inference pipeline's list, score and
 * summarize steps, batch-job.ts): the model's schema and the buckets (capture, and the datasets and
 * artifacts buckets its inputs and outputs must be in) come from its environment,
 * the version from the registry, the ONNX session from the version's artifact (one session per
 * container, kept while the same version is asked for). Faults throw typed errors the state
 * machine matches: ValidationError, NotFoundError, BatchFailuresExceeded.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { modelSchemaJsonSchema } from '../../contracts/serving-schema';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { S3ObjectStore } from '../shared/s3-object-store';
import { OnnxScorer } from '../shared/serving/onnx-scorer';
import { fetchServedModel } from '../shared/serving/served-version';
import { BatchJob } from './batch-job';

const environmentSchema = z.object({
  TABLE_NAME: z.string().min(1),
  CAPTURE_BUCKET: z.string().min(1),
  DATASETS_BUCKET: z.string().min(1),
  ARTIFACTS_BUCKET: z.string().min(1),
  MODEL_SCHEMA: modelSchemaJsonSchema,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number().int().positive().default(3008),
});

const logger = new Logger();
const tracer = new Tracer();
let job: BatchJob | undefined;

function fromEnvironment(): BatchJob {
  if (job) return job;
  const parsed = environmentSchema.safeParse(process.env);
  if (!parsed.success) throw new Error(`batch-score environment is invalid: ${z.prettifyError(parsed.error)}`);
  const env = parsed.data;
  const objects = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));
  job = new BatchJob({
    schema: env.MODEL_SCHEMA,
    registry: new DynamoDbRegistryStore(DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))), env.TABLE_NAME),
    objects,
    captureBucket: env.CAPTURE_BUCKET,
    datasetsBucket: env.DATASETS_BUCKET,
    artifactsBucket: env.ARTIFACTS_BUCKET,
    memoryMb: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    loadScorer: async (version) => {
      const { modelBytes, trainingRanges } = await fetchServedModel(objects, version);
      return OnnxScorer.create(modelBytes, trainingRanges);
    },
  });
  return job;
}

export async function handler(event: unknown, context: Context): Promise<unknown> {
  logger.addContext(context);
  return fromEnvironment().run(event);
}

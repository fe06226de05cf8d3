/**
 * The deploy function of one endpoint model: the pipeline's rollout contract `begin` / `poll`
 * (lambdas/shared/rollout.ts; deploy-endpoint.ts does the work, one DescribeEndpoint per poll)
 * over SageMaker, the registry table (reads) and the registry function (stage and phase changes);
 * in a shadow phase also CloudWatch (the shadow variant's metrics) and S3 (both variants' capture).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { endpointTargetSchema } from '../../contracts/endpoint-deployment';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { RegistryFunctionClient } from '../shared/registry/lambda-registry-client';
import { CloudWatchVariantMetrics } from './cloudwatch-variant-metrics';
import { type DeployEndpointDependencies, deployEndpoint } from './deploy-endpoint';
import { S3CaptureSource } from './s3-capture-source';
import { SageMakerEndpointApi } from './sagemaker-endpoint-api';

const logger = new Logger();
const tracer = new Tracer();
let dependencies: DeployEndpointDependencies | undefined;

function fromEnvironment(): DeployEndpointDependencies {
  if (dependencies) return dependencies;
  const env = z
    .object({
      MODEL_NAME: z.string().min(1),
      TABLE_NAME: z.string().min(1),
      REGISTRY_FUNCTION_NAME: z.string().min(1),
      ENDPOINT_TARGET: z.string().min(1),
    })
    .parse(process.env);
  const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
  const registryFunction = new RegistryFunctionClient(tracer.captureAWSv3Client(new LambdaClient({})), env.REGISTRY_FUNCTION_NAME);
  const target = endpointTargetSchema.parse(JSON.parse(env.ENDPOINT_TARGET));
  dependencies = {
    modelName: env.MODEL_NAME,
    target,
    endpoints: new SageMakerEndpointApi(tracer.captureAWSv3Client(new SageMakerClient({}))),
    versions: new DynamoDbRegistryStore(documents, env.TABLE_NAME),
    registry: {
      transition: (request) => registryFunction.call('transition', request),
      setRolloutPhase: (request) => registryFunction.call('setRolloutPhase', request),
    },
    // The shadow phase's readers exist only for a model with one (serving.shadowPercent > 0).
    ...(target.shadow
      ? {
          shadowReaders: {
            metrics: new CloudWatchVariantMetrics(tracer.captureAWSv3Client(new CloudWatchClient({}))),
            captures: new S3CaptureSource(tracer.captureAWSv3Client(new S3Client({}))),
          },
        }
      : {}),
  };
  return dependencies;
}

export async function handler(event: unknown, context: Context): Promise<unknown> {
  logger.addContext(context);
  const result = await deployEndpoint(fromEnvironment(), event);
  logger.info('deploy request done', { action: (event as { action?: string })?.action, status: result.status, reason: result.reason });
  return result;
}

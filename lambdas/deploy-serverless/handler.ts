/**
 * The deploy function of one serverless model: the pipeline's rollout contract
 * (lambdas/shared/rollout.ts) over the shadow phase and the predict function's model-version
 * canary. `begin` stages the candidate, `poll` judges the shadow window (one GetMetricData call) or
 * reads the canary alarms and the bake clock (one DescribeAlarms call): registry reads and at most
 * one CloudWatch call per request, never a wait.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { ValidationError } from '../shared/errors';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { RegistryFunctionClient } from '../shared/registry/lambda-registry-client';
import { type RolloutResult, rolloutEventSchema } from '../shared/rollout';
import { CloudWatchCanaryAlarms } from './cloudwatch-alarm-reader';
import { CloudWatchShadowMetrics } from './cloudwatch-shadow-metrics';
import { beginCanary, type CanaryDeployment, type CanaryRolloutDependencies, pollCanary } from './deploy-serverless';

export async function runCanaryRequest(dependencies: CanaryRolloutDependencies, event: unknown): Promise<RolloutResult<CanaryDeployment>> {
  const parsed = rolloutEventSchema.safeParse(event);
  if (!parsed.success) throw new ValidationError(`invalid rollout request: ${z.prettifyError(parsed.error)}`);
  return parsed.data.action === 'begin' ? beginCanary(dependencies, parsed.data) : pollCanary(dependencies, parsed.data);
}

const environmentSchema = z.object({
  MODEL_NAME: z.string().min(1),
  TABLE_NAME: z.string().min(1),
  REGISTRY_FUNCTION_NAME: z.string().min(1),
  CANARY_PERCENT: z.coerce.number().min(1).max(100),
  BAKE_TIME_SECONDS: z.coerce.number().int().min(0),
  MODEL_REFRESH_SECONDS: z.coerce.number().int().min(0),
  CANARY_ALARM_NAMES: z.string().transform((names) => names.split(',').filter(Boolean)),
  /** The shadow phase (serving.shadow*); SHADOW_PERCENT 0: none. */
  SHADOW_PERCENT: z.coerce.number().min(0).max(100),
  SHADOW_SECONDS: z.coerce.number().int().min(0),
  MIN_SHADOW_REQUESTS: z.coerce.number().int().min(1),
  MIN_SHADOW_AGREEMENT: z.coerce.number().min(0).max(1),
  LATENCY_BUDGET_MS: z.coerce.number().positive(),
});

const logger = new Logger();
const tracer = new Tracer();
let dependencies: CanaryRolloutDependencies | undefined;

function fromEnvironment(): CanaryRolloutDependencies {
  if (dependencies) return dependencies;
  const parsed = environmentSchema.safeParse(process.env);
  if (!parsed.success) throw new Error(`serverless deploy function environment is invalid: ${z.prettifyError(parsed.error)}`);
  const env = parsed.data;
  const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
  const registryFunction = new RegistryFunctionClient(tracer.captureAWSv3Client(new LambdaClient({})), env.REGISTRY_FUNCTION_NAME);
  const cloudWatch = tracer.captureAWSv3Client(new CloudWatchClient({}));
  dependencies = {
    modelName: env.MODEL_NAME,
    canaryPercent: env.CANARY_PERCENT,
    bakeTimeSeconds: env.BAKE_TIME_SECONDS,
    registryCacheSeconds: env.MODEL_REFRESH_SECONDS,
    versions: new DynamoDbRegistryStore(documents, env.TABLE_NAME),
    registry: {
      transition: (request) => registryFunction.call('transition', request),
      setRolloutPhase: (request) => registryFunction.call('setRolloutPhase', request),
    },
    alarms: new CloudWatchCanaryAlarms(cloudWatch, env.CANARY_ALARM_NAMES),
    ...(env.SHADOW_PERCENT > 0
      ? {
          shadow: {
            percent: env.SHADOW_PERCENT,
            windowSeconds: env.SHADOW_SECONDS,
            minRequests: env.MIN_SHADOW_REQUESTS,
            minAgreement: env.MIN_SHADOW_AGREEMENT,
            latencyBudgetMs: env.LATENCY_BUDGET_MS,
            metrics: new CloudWatchShadowMetrics(cloudWatch, env.MODEL_NAME),
          },
        }
      : {}),
  };
  return dependencies;
}

export async function handler(event: unknown, context: Context): Promise<RolloutResult<CanaryDeployment>> {
  logger.addContext(context);
  const result = await runCanaryRequest(fromEnvironment(), event);
  logger.info('rollout request done', { action: (event as { action?: string })?.action, status: result.status, reason: result.reason });
  return result;
}

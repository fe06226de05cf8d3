/**
 * The deploy function of one endpoint model: the pipeline's rollout contract `begin` / `poll`
 * (lambdas/shared/rollout.ts, one DescribeEndpoint per poll), `deploy` (start, then wait while
 * the invocation has time), `start` and `check`, and `rollback` (registry rollback, then a
 * guarded redeploy of the restored version). Outcomes, rollbacks included, are return values;
 * faults are thrown.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import type { VersionRecord } from '../../contracts/registry';
import type { RegistryStore } from '../shared/registry/registry-store';
import { NotFoundError, ValidationError } from '../shared/errors';
import { RegistryFunctionClient } from '../shared/registry/lambda-registry-client';
import { beginEventSchema, pollEventSchema, type RolloutRegistry } from '../shared/rollout';
import {
  classifyDeployment,
  type EndpointApi,
  type EndpointTarget,
  endpointTargetSchema,
  type RegistryCommands,
  rollbackToPreviousVersion,
  startDeployment,
  timeDeploymentId,
  waitForDeployment,
} from './endpoint-deployment';
import { beginEndpointRollout, pollEndpointRollout } from './deploy-endpoint';
import { SageMakerEndpointApi } from './sagemaker-endpoint-api';

/** Time kept back from the invocation's limit to return a TimedOut report instead of being cut off. */
const RESPONSE_MARGIN_MS = 30_000;

const version = z.number().int().positive();
const deploymentId = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,14}$/, 'must be 1-14 letters, digits or -')
  .optional();
const eventSchema = z.discriminatedUnion('action', [
  beginEventSchema,
  pollEventSchema,
  z.object({ action: z.literal('deploy'), version, deploymentId, pollSeconds: z.number().int().min(1).max(300).optional() }).strict(),
  z.object({ action: z.literal('start'), version, deploymentId }).strict(),
  z.object({ action: z.literal('check'), endpointConfigName: z.string().min(1), updateSeen: z.boolean().default(true) }).strict(),
  z
    .object({
      action: z.literal('rollback'),
      actor: z.string().min(1),
      reason: z.string().max(1024).optional(),
      idempotencyKey: z.string().min(1).max(200).optional(),
    })
    .strict(),
]);
export type DeployEvent = z.input<typeof eventSchema>;

export interface DeployDependencies {
  readonly modelName: string;
  readonly target: EndpointTarget;
  readonly endpoints: EndpointApi;
  readonly versions: Pick<RegistryStore, 'getVersion'>;
  readonly registry: RegistryCommands & RolloutRegistry;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Runs one request; `remainingMs` bounds how long a `deploy` may wait. */
export async function runDeployRequest(dependencies: DeployDependencies, event: unknown, remainingMs: number): Promise<unknown> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) throw new ValidationError(`invalid deploy request: ${z.prettifyError(parsed.error)}`);
  const request = parsed.data;
  const { modelName, target, endpoints } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const load = async (number: number): Promise<VersionRecord> => {
    const record = await dependencies.versions.getVersion(modelName, number);
    if (!record) throw new NotFoundError(`model "${modelName}" has no version ${number}`, { modelName, version: number });
    return record;
  };
  const deploy = async (record: VersionRecord, id: string | undefined, pollSeconds = 30) => {
    const started = await startDeployment(endpoints, target, record, id ?? timeDeploymentId(now()));
    return waitForDeployment(endpoints, started, {
      pollIntervalMs: pollSeconds * 1000,
      timeoutMs: Math.max(0, remainingMs - RESPONSE_MARGIN_MS),
      sleep: dependencies.sleep,
      now: () => now().getTime(),
    });
  };
  switch (request.action) {
    case 'begin':
      return beginEndpointRollout(dependencies, await load(request.version), request);
    case 'poll':
      return pollEndpointRollout(dependencies, request);
    case 'deploy':
      return deploy(await load(request.version), request.deploymentId, request.pollSeconds);
    case 'start':
      return startDeployment(endpoints, target, await load(request.version), request.deploymentId ?? timeDeploymentId(now()));
    case 'check': {
      const description = await endpoints.describeEndpoint(target.endpointName);
      return {
        endpointName: target.endpointName,
        endpointConfigName: request.endpointConfigName,
        state: classifyDeployment(description, request.endpointConfigName, request.updateSeen),
        endpointStatus: description.EndpointStatus,
        ...(description.FailureReason ? { failureReason: description.FailureReason } : {}),
      };
    }
    case 'rollback':
      return rollbackToPreviousVersion(
        dependencies.registry,
        { modelName, actor: request.actor, reason: request.reason, idempotencyKey: request.idempotencyKey },
        // A retried rollback (same idempotency key) reuses the resources of the first attempt.
        (record) =>
          deploy(
            record,
            request.idempotencyKey ? `r${createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 12)}` : undefined,
          ),
      );
  }
}

const logger = new Logger();
const tracer = new Tracer();
let dependencies: DeployDependencies | undefined;

function fromEnvironment(): DeployDependencies {
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
  dependencies = {
    modelName: env.MODEL_NAME,
    target: endpointTargetSchema.parse(JSON.parse(env.ENDPOINT_TARGET)),
    endpoints: new SageMakerEndpointApi(tracer.captureAWSv3Client(new SageMakerClient({}))),
    versions: new DynamoDbRegistryStore(documents, env.TABLE_NAME),
    registry: {
      rollback: (request) => registryFunction.call('rollback', request),
      transition: (request) => registryFunction.call('transition', request),
    },
  };
  return dependencies;
}

export async function handler(event: unknown, context: Context): Promise<unknown> {
  logger.addContext(context);
  const result = await runDeployRequest(fromEnvironment(), event, context.getRemainingTimeInMillis());
  logger.info('deploy request done', { action: (event as { action?: string })?.action, result: result as Record<string, unknown> });
  return result;
}

/**
 * The deploy function's core: the pipeline's rollout contract (lambdas/shared/rollout.ts) for an
 * endpoint model, over the blue/green deployment in endpoint-deployment.ts: `begin` stages the candidate in the registry and
 * starts the endpoint update (once per run), `poll` makes one DescribeEndpoint call and maps
 * the endpoint's state onto the contract, recording a rollback (Rejected) or a failed
 * deployment (Archived) in the registry.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { EndpointTarget } from '../../contracts/endpoint-deployment';
import type { VersionRecord } from '../../contracts/registry';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../shared/errors';
import type { RegistryStore } from '../shared/registry/registry-store';
import {
  type BeginEvent,
  beginIdempotencyKey,
  type PollEvent,
  parseDeployment,
  type RolloutRegistry,
  type RolloutResult,
  registryReason,
  rolloutActor,
  rolloutEventSchema,
} from '../shared/rollout';
import {
  classifyDeployment,
  deploymentResourceName,
  type EndpointApi,
  type EndpointDescription,
  startDeployment,
} from './endpoint-deployment';

export const endpointDeploymentSchema = z.object({
  mode: z.literal('endpoint'),
  modelName: z.string().min(1),
  version: z.number().int().positive(),
  runId: z.string().min(1),
  endpointName: z.string().min(1),
  endpointConfigName: z.string().min(1),
  /** Whether the endpoint was seen updating towards this configuration (then InService on another one is a rollback). */
  updateSeen: z.boolean(),
});
export type EndpointDeployment = z.output<typeof endpointDeploymentSchema>;

export interface EndpointRolloutDependencies {
  readonly modelName: string;
  readonly target: EndpointTarget;
  readonly endpoints: EndpointApi;
  readonly registry: RolloutRegistry;
}

export interface DeployEndpointDependencies extends EndpointRolloutDependencies {
  readonly versions: Pick<RegistryStore, 'getVersion'>;
}

/** One request of the rollout contract: `begin` a version's rollout, or `poll` it. */
export async function deployEndpoint(dependencies: DeployEndpointDependencies, event: unknown): Promise<RolloutResult<EndpointDeployment>> {
  const parsed = rolloutEventSchema.safeParse(event);
  if (!parsed.success) throw new ValidationError(`invalid deploy request: ${z.prettifyError(parsed.error)}`);
  const request = parsed.data;
  if (request.action === 'poll') return pollEndpointRollout(dependencies, request);
  const { modelName } = dependencies;
  const record = await dependencies.versions.getVersion(modelName, request.version);
  if (!record) throw new NotFoundError(`model "${modelName}" has no version ${request.version}`, { modelName, version: request.version });
  return beginEndpointRollout(dependencies, record, request);
}

/** Statuses that show an update has begun. */
const UPDATE_STATUSES = new Set(['Updating', 'SystemUpdating', 'RollingBack']);

/** Resource names from the run: a 12-hex digest keeps them unique per run within SageMaker's 63 characters. */
export function runDeploymentId(runId: string): string {
  return `b${createHash('sha256').update(runId).digest('hex').slice(0, 12)}`;
}

export async function beginEndpointRollout(
  dependencies: EndpointRolloutDependencies,
  record: VersionRecord,
  event: BeginEvent,
): Promise<RolloutResult<EndpointDeployment>> {
  const { modelName, target, endpoints } = dependencies;
  const endpointConfigName = deploymentResourceName(target.endpointName, record.version, runDeploymentId(event.runId));
  const deployment: EndpointDeployment = {
    mode: 'endpoint',
    modelName,
    version: record.version,
    runId: event.runId,
    endpointName: target.endpointName,
    endpointConfigName,
    updateSeen: false,
  };
  if (record.stage === 'Production') {
    return { status: 'InService', deployment, reason: `version ${record.version} already serves production` };
  }
  if (record.stage === 'Rejected') {
    throw new InvalidTransitionError(`version ${record.version} of "${modelName}" is Rejected; it cannot be rolled out`, {
      modelName,
      version: record.version,
    });
  }
  await dependencies.registry.transition({
    modelName,
    version: record.version,
    toStage: 'Staging',
    actor: rolloutActor(modelName, event.runId),
    reason: `blue/green deployment to endpoint ${target.endpointName} (run ${event.runId})`,
    idempotencyKey: beginIdempotencyKey(event.runId),
  });
  // A repeated begin finds the endpoint already serving or moving to this run's configuration: no second update.
  const description = await endpoints.describeEndpoint(target.endpointName);
  if (targets(description, endpointConfigName)) {
    return { status: 'InProgress', deployment: { ...deployment, updateSeen: updateSeen(description, endpointConfigName) }, reason: null };
  }
  await startDeployment(endpoints, target, record, runDeploymentId(event.runId));
  return { status: 'InProgress', deployment, reason: null };
}

export async function pollEndpointRollout(
  dependencies: EndpointRolloutDependencies,
  event: PollEvent,
): Promise<RolloutResult<EndpointDeployment>> {
  const deployment = parseDeployment(endpointDeploymentSchema, event);
  const description = await dependencies.endpoints.describeEndpoint(deployment.endpointName);
  const seen = deployment.updateSeen || updateSeen(description, deployment.endpointConfigName);
  const next = { ...deployment, updateSeen: seen };
  const status = description.EndpointStatus ?? 'Unknown';
  switch (classifyDeployment(description, deployment.endpointConfigName, seen)) {
    case 'InProgress':
      return { status: 'InProgress', deployment: next, reason: null };
    case 'Succeeded':
      return {
        status: 'InService',
        deployment: next,
        reason: `endpoint ${deployment.endpointName} serves ${deployment.endpointConfigName}`,
      };
    case 'RolledBack': {
      const reason = registryReason(
        `endpoint deployment rolled back to ${description.EndpointConfigName ?? 'the previous configuration'}` +
          (description.FailureReason ? `: ${description.FailureReason}` : ''),
      );
      await record(dependencies, deployment, 'Rejected', reason);
      return { status: 'RolledBack', deployment: next, reason };
    }
    case 'RollbackFailed':
    case 'Failed': {
      const reason = registryReason(`endpoint ${status}${description.FailureReason ? `: ${description.FailureReason}` : ''}`);
      await record(dependencies, deployment, 'Archived', `deployment failed: ${reason}`);
      return { status: 'Failed', deployment: next, reason };
    }
  }
}

async function record(
  dependencies: EndpointRolloutDependencies,
  deployment: EndpointDeployment,
  toStage: 'Rejected' | 'Archived',
  reason: string,
): Promise<void> {
  await dependencies.registry.transition({
    modelName: dependencies.modelName,
    version: deployment.version,
    toStage,
    actor: rolloutActor(dependencies.modelName, deployment.runId),
    reason: registryReason(reason),
  });
}

function targets(description: EndpointDescription, endpointConfigName: string): boolean {
  return (
    description.EndpointConfigName === endpointConfigName || description.PendingDeploymentSummary?.EndpointConfigName === endpointConfigName
  );
}

function updateSeen(description: EndpointDescription, endpointConfigName: string): boolean {
  return (
    UPDATE_STATUSES.has(description.EndpointStatus ?? '') || description.PendingDeploymentSummary?.EndpointConfigName === endpointConfigName
  );
}

/**
 * The deploy function's core: the pipeline's rollout contract (lambdas/shared/rollout.ts) for an
 * endpoint model, over the blue/green deployment in endpoint-deployment.ts: `begin` stages the
 * candidate in the registry and starts the endpoint update (once per run), `poll` makes one
 * DescribeEndpoint call and maps the endpoint's state onto the contract, recording a rollback
 * (Rejected) or a failed deployment (Archived) in the registry. With a shadow phase
 * (serving.shadowPercent > 0, and a production version on the endpoint) the candidate first runs
 * as the endpoint's shadow variant (shadow-phase.ts) and its canary starts only once it passed.
 */
import * as z from 'zod';
import type { EndpointTarget } from '../../contracts/endpoint-deployment';
import { ROLLOUT_PHASES, type VersionRecord } from '../../contracts/registry';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../shared/errors';
import type { RegistryStore } from '../shared/registry/registry-store';
import {
  type BeginEvent,
  beginIdempotencyKey,
  canaryPhaseIdempotencyKey,
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
import {
  type EndpointShadowReaders,
  judgeEndpointShadow,
  productionVariantOf,
  restoreProduction,
  runResourceId,
  type ShadowState,
  shadowConfigName,
  startShadow,
} from './shadow-phase';

export const endpointDeploymentSchema = z.object({
  mode: z.literal('endpoint'),
  modelName: z.string().min(1),
  version: z.number().int().positive(),
  runId: z.string().min(1),
  endpointName: z.string().min(1),
  endpointConfigName: z.string().min(1),
  /** Whether the endpoint was seen updating towards this configuration (then InService on another one is a rollback). */
  updateSeen: z.boolean(),
  /** The phase the rollout is in; absent (a rollout without a shadow phase): its canary. */
  phase: z.enum(ROLLOUT_PHASES).optional(),
  /** The shadow variant's configuration and production's model, kept into the canary to take the shadow off after a rollback. */
  shadow: z
    .object({
      configName: z.string().min(1),
      productionModelName: z.string().min(1),
      productionVersion: z.number().int().positive(),
      updateSeen: z.boolean(),
      liveSince: z.iso.datetime().optional(),
    })
    .optional(),
});
export type EndpointDeployment = z.output<typeof endpointDeploymentSchema>;

export interface EndpointRolloutDependencies {
  readonly modelName: string;
  readonly target: EndpointTarget;
  readonly endpoints: EndpointApi;
  readonly registry: RolloutRegistry;
  /** The registry's reads a shadow phase needs (the production version, the Staging phase); without them, no shadow phase. */
  readonly versions?: Pick<RegistryStore, 'getVersion' | 'getModel'>;
  /** The shadow's metrics and capture; required when the target has a shadow phase. */
  readonly shadowReaders?: EndpointShadowReaders;
  readonly now?: () => Date;
}

export interface DeployEndpointDependencies extends EndpointRolloutDependencies {
  readonly versions: Pick<RegistryStore, 'getVersion' | 'getModel'>;
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
  return runResourceId(runId, 'b');
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
  const shadowed = await beginShadow(dependencies, record, event, deployment);
  if (shadowed) return shadowed;
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
  if (deployment.phase === 'shadow') return pollShadow(dependencies, deployment);
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
      // Rolled back onto the shadow configuration: the rejected candidate's shadow variant comes off too.
      if (deployment.shadow) await restoreProduction(dependencies.endpoints, dependencies.target, deployment.shadow, deployment.runId);
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

/**
 * Begins in shadow when the target has a shadow phase, the registry has a production version
 * other than the candidate, and the endpoint serves a version the deploy function rolled out;
 * otherwise returns undefined and the rollout starts in its canary, as without a shadow phase.
 */
async function beginShadow(
  dependencies: EndpointRolloutDependencies,
  record: VersionRecord,
  event: BeginEvent,
  deployment: EndpointDeployment,
): Promise<RolloutResult<EndpointDeployment> | undefined> {
  const { modelName, target, endpoints } = dependencies;
  const settings = target.shadow;
  if (!settings || !dependencies.versions) return undefined;
  const productionVersion = (await dependencies.versions.getModel(modelName))?.productionVersion;
  if (productionVersion === undefined || productionVersion === record.version) return undefined;
  const configName = shadowConfigName(target, record.version, event.runId);
  const description = await endpoints.describeEndpoint(target.endpointName);
  // A repeated begin finds the endpoint on (or moving to) this run's shadow configuration: production's model is in it.
  const repeated = targets(description, configName);
  const production = repeated
    ? { modelName: (await endpoints.describeEndpointConfig(configName)).ProductionVariants?.[0]?.ModelName ?? '' }
    : await productionVariantOf(endpoints, target, description);
  if (!production?.modelName) return undefined;
  await dependencies.registry.transition({
    modelName,
    version: record.version,
    toStage: 'Staging',
    phase: 'shadow',
    actor: rolloutActor(modelName, event.runId),
    reason: `shadow: endpoint ${target.endpointName} replicates ${settings.percent}% of requests to version ${record.version} as its shadow variant for ${settings.seconds} s against production version ${productionVersion}, then blue/green canary (run ${event.runId})`,
    idempotencyKey: beginIdempotencyKey(event.runId),
  });
  const shadow: ShadowState = { configName, productionModelName: production.modelName, productionVersion, updateSeen: false };
  if (!repeated) {
    await startShadow(
      endpoints,
      target,
      settings,
      { version: record.version, artifactUri: record.artifactUri, modelName: deployment.endpointConfigName },
      shadow,
    );
  }
  return {
    status: 'InProgress',
    deployment: { ...deployment, phase: 'shadow', shadow: { ...shadow, updateSeen: repeated && updateSeen(description, configName) } },
    reason: null,
  };
}

/**
 * One look at the shadow: the registry first (a decision already recorded is replayed, the
 * shadow variant taken off), then the endpoint (the shadow configuration must be in service),
 * then the window and its gates.
 */
async function pollShadow(
  dependencies: EndpointRolloutDependencies,
  deployment: EndpointDeployment,
): Promise<RolloutResult<EndpointDeployment>> {
  const { modelName, target, endpoints } = dependencies;
  const shadow = deployment.shadow;
  const settings = target.shadow;
  if (!shadow || !settings || !dependencies.versions || !dependencies.shadowReaders) {
    throw new Error(`the rollout of version ${deployment.version} is in shadow, but this deploy function has no shadow phase configured`);
  }
  const current = await dependencies.versions.getVersion(modelName, deployment.version);
  if (!current)
    throw new NotFoundError(`model "${modelName}" has no version ${deployment.version}`, { modelName, version: deployment.version });
  switch (current.stage) {
    case 'Production':
      return { status: 'InService', deployment, reason: `version ${current.version} was promoted` };
    case 'Rejected':
      await restoreProduction(endpoints, target, shadow, deployment.runId);
      return { status: 'RolledBack', deployment, reason: `version ${current.version} was already rejected` };
    case 'Registered':
    case 'Archived':
      await restoreProduction(endpoints, target, shadow, deployment.runId);
      return { status: 'Failed', deployment, reason: `version ${current.version} left Staging (now ${current.stage}) during its shadow` };
  }
  if ((await dependencies.versions.getModel(modelName))?.stagingPhase === 'canary') {
    return continueToCanary(dependencies, deployment, current, null);
  }
  const description = await endpoints.describeEndpoint(target.endpointName);
  const seen = shadow.updateSeen || updateSeen(description, shadow.configName);
  const state = classifyDeployment(description, shadow.configName, seen);
  if (state === 'InProgress')
    return { status: 'InProgress', deployment: { ...deployment, shadow: { ...shadow, updateSeen: seen } }, reason: null };
  if (state !== 'Succeeded') {
    const reason = registryReason(
      `the shadow variant could not be started: endpoint ${description.EndpointStatus ?? 'Unknown'} on ${description.EndpointConfigName ?? 'no configuration'}${
        description.FailureReason ? `: ${description.FailureReason}` : ''
      }`,
    );
    await record(dependencies, deployment, 'Archived', `deployment failed: ${reason}`);
    return { status: 'Failed', deployment, reason };
  }
  const now = (dependencies.now ?? (() => new Date()))();
  const liveSince = shadow.liveSince ?? now.toISOString();
  const next: EndpointDeployment = { ...deployment, shadow: { ...shadow, updateSeen: seen, liveSince } };
  const verdict = await judgeEndpointShadow(dependencies.shadowReaders, target, settings, new Date(liveSince), now);
  switch (verdict.kind) {
    case 'wait':
      return { status: 'InProgress', deployment: next, reason: verdict.reason };
    case 'no-traffic': {
      const reason = registryReason(verdict.reason);
      await record(dependencies, next, 'Archived', `deployment failed: ${reason}`);
      await restoreProduction(endpoints, target, shadow, deployment.runId);
      return { status: 'Failed', deployment: next, reason };
    }
    case 'rejected': {
      const reason = registryReason(verdict.reason);
      // Rejected first: a repeated poll finds the decision in the registry and only takes the shadow off.
      await record(dependencies, next, 'Rejected', reason);
      await restoreProduction(endpoints, target, shadow, deployment.runId);
      return { status: 'RolledBack', deployment: next, reason };
    }
    case 'passed': {
      if (!dependencies.registry.setRolloutPhase)
        throw new Error('the rollout registry cannot change rollout phases; a shadow phase needs it');
      await dependencies.registry.setRolloutPhase({
        modelName,
        version: deployment.version,
        phase: 'canary',
        actor: rolloutActor(modelName, deployment.runId),
        reason: registryReason(`${verdict.reason}; blue/green canary on endpoint ${target.endpointName}`),
        idempotencyKey: canaryPhaseIdempotencyKey(deployment.runId),
      });
      return continueToCanary(dependencies, next, current, verdict.reason);
    }
  }
}

/** Starts the candidate's blue/green canary from the shadow configuration (once: a repeated request finds the endpoint moving). */
async function continueToCanary(
  dependencies: EndpointRolloutDependencies,
  deployment: EndpointDeployment,
  version: VersionRecord,
  reason: string | null,
): Promise<RolloutResult<EndpointDeployment>> {
  const description = await dependencies.endpoints.describeEndpoint(dependencies.target.endpointName);
  const canary: EndpointDeployment = { ...deployment, phase: 'canary', updateSeen: false };
  if (targets(description, deployment.endpointConfigName)) {
    return { status: 'InProgress', deployment: { ...canary, updateSeen: updateSeen(description, deployment.endpointConfigName) }, reason };
  }
  await startDeployment(dependencies.endpoints, dependencies.target, version, runDeploymentId(deployment.runId));
  return { status: 'InProgress', deployment: canary, reason };
}

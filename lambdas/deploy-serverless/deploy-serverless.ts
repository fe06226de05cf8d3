/**
 * The guarded rollout of a serverless model: a shadow phase, then a model-version canary inside
 * the predict function. `begin` moves the candidate to Staging — in shadow when the model has a
 * shadow phase and a production version to compare with: predict answers every request from
 * production and mirrors shadowPercent of them to the shadow function, which compares the
 * candidate's answers and emits the Shadow* metrics. `poll` in shadow waits for the window, then
 * judges it (agreement, error rate, p99 latency): a failed gate rejects the candidate before any
 * caller saw its answers, a pass moves it on to its canary. In its canary predict routes
 * canaryPercent of requests to it (by request id) and emits the Canary* metrics; `poll` reads the
 * canary alarms: one in ALARM rolls the candidate back (Rejected, so predict returns to 100%
 * Production), a bake time without alarm is InService. No AWS imports: the alarms and the shadow
 * metrics come in as readers (CloudWatch on AWS, local observations offline).
 */
import * as z from 'zod';
import { CANARY_ERROR_RATE_PERCENT } from '../../contracts/metrics';
import { ROLLOUT_PHASES, type VersionRecord } from '../../contracts/registry';
import { InvalidTransitionError, NotFoundError } from '../shared/errors';
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
} from '../shared/rollout';
import { judgeShadow, SHADOW_TRAFFIC_WAIT_WINDOWS, type ShadowWindow } from '../shared/shadow-gates';

export interface AlarmState {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  /** CloudWatch's StateReason: why the alarm is in its state. */
  readonly reason: string;
}

/** The canary alarms' current states (DescribeAlarms on AWS; a local evaluator offline). */
export interface CanaryAlarmReader {
  readAlarms(): Promise<readonly AlarmState[]>;
}

/** Canary traffic over one alarm period. */
export interface CanaryMetricsWindow {
  readonly requests: number;
  readonly failedRequests: number;
  /** Latencies of the window's canary requests, in milliseconds. */
  readonly latenciesMs: readonly number[];
}

export interface CanaryThresholds {
  /** @default CANARY_ERROR_RATE_PERCENT */
  readonly errorRatePercent?: number;
  readonly latencyBudgetMs: number;
}

export interface CanaryEvaluation {
  readonly errorRatePercent: number;
  /** Undefined when the window holds no latency (no canary traffic: not breaching). */
  readonly p99LatencyMs?: number;
  /** The two alarms as CloudWatch would set them on this window. */
  readonly alarms: readonly AlarmState[];
}

/**
 * What the canary alarms of ServerlessInference decide on one window, for the offline runtime:
 * error rate `100 * failed / max(requests, 1)` above the threshold, p99 latency (nearest rank)
 * above the budget. A window without traffic breaches neither (missing data is not breaching).
 */
export function evaluateCanary(window: CanaryMetricsWindow, thresholds: CanaryThresholds): CanaryEvaluation {
  const errorLimit = thresholds.errorRatePercent ?? CANARY_ERROR_RATE_PERCENT;
  const errorRatePercent = (100 * window.failedRequests) / Math.max(window.requests, 1);
  const sorted = [...window.latenciesMs].sort((a, b) => a - b);
  // Undefined for a window without latencies (index -1).
  const p99LatencyMs: number | undefined = sorted[Math.ceil(0.99 * sorted.length) - 1];
  // Without requests there are no failed ones, so the rate is 0 and the alarm stays OK.
  const errorAlarm: AlarmState =
    errorRatePercent > errorLimit
      ? {
          name: 'CanaryErrorRate',
          state: 'ALARM',
          reason: `canary error rate ${round(errorRatePercent)}% (${window.failedRequests} of ${window.requests} requests) is above ${errorLimit}%`,
        }
      : { name: 'CanaryErrorRate', state: 'OK', reason: `canary error rate ${round(errorRatePercent)}% is within ${errorLimit}%` };
  const latencyAlarm: AlarmState =
    (p99LatencyMs ?? Number.NEGATIVE_INFINITY) > thresholds.latencyBudgetMs
      ? {
          name: 'CanaryLatency',
          state: 'ALARM',
          reason: `canary p99 latency ${round(p99LatencyMs!)} ms is above the ${thresholds.latencyBudgetMs} ms budget`,
        }
      : {
          name: 'CanaryLatency',
          state: 'OK',
          reason:
            p99LatencyMs === undefined
              ? 'no canary latency in the window'
              : `canary p99 latency ${round(p99LatencyMs)} ms is within the ${thresholds.latencyBudgetMs} ms budget`,
        };
  return { errorRatePercent, ...(p99LatencyMs === undefined ? {} : { p99LatencyMs }), alarms: [errorAlarm, latencyAlarm] };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The candidate's mirrored traffic over a time window (GetMetricData on AWS; the local observations offline). */
export interface ShadowMetricsReader {
  read(window: { readonly version: number; readonly start: Date; readonly end: Date }): Promise<ShadowWindow>;
}

/** A model's shadow phase (serving.shadow*); a rollout without it starts in its canary. */
export interface ShadowRolloutSettings {
  /** Share of requests predict mirrors (above 0). */
  readonly percent: number;
  readonly windowSeconds: number;
  readonly minRequests: number;
  /** In [0, 1]. */
  readonly minAgreement: number;
  readonly latencyBudgetMs: number;
  readonly metrics: ShadowMetricsReader;
}

export { SHADOW_TRAFFIC_WAIT_WINDOWS };

/** What begin hands the state machine, and poll gets back. */
export const canaryDeploymentSchema = z.object({
  mode: z.literal('serverless-canary'),
  modelName: z.string().min(1),
  version: z.number().int().positive(),
  runId: z.string().min(1),
  /** The phase the rollout is in (a deployment from before shadow phases is in its canary). */
  phase: z.enum(ROLLOUT_PHASES).default('canary'),
  /** When the current phase started (the registry's record of it). */
  startedAt: z.iso.datetime(),
  canaryPercent: z.number().min(0).max(100),
  /** Bake time plus predict's registry cache TTL: predict may start routing that much after the canary starts. */
  bakeSeconds: z.number().int().min(0),
  /** In shadow: the window (plus the cache TTL) before the gates decide, and how long it may wait for its minimum requests. */
  shadow: z
    .object({ percent: z.number().min(0).max(100), windowSeconds: z.number().int().min(0), deadlineSeconds: z.number().int().min(0) })
    .optional(),
});
export type CanaryDeployment = z.output<typeof canaryDeploymentSchema>;

export interface CanaryRolloutDependencies {
  readonly modelName: string;
  readonly canaryPercent: number;
  readonly bakeTimeSeconds: number;
  /** How long predict may take to notice a registry change (its cache TTL). */
  readonly registryCacheSeconds: number;
  readonly versions: Pick<RegistryStore, 'getVersion' | 'getModel'>;
  readonly registry: RolloutRegistry;
  readonly alarms: CanaryAlarmReader;
  /** The shadow phase before the canary; absent (or percent 0): the rollout starts in its canary. */
  readonly shadow?: ShadowRolloutSettings;
  readonly now?: () => Date;
}

/**
 * Starts the rollout: the candidate goes to Staging (replayed, not repeated, for the same run), in
 * shadow when the model has a shadow phase and a production version to compare with, else in its canary.
 */
export async function beginCanary(dependencies: CanaryRolloutDependencies, event: BeginEvent): Promise<RolloutResult<CanaryDeployment>> {
  const { modelName, shadow } = dependencies;
  const record = await requireVersion(dependencies, event.version);
  const canary = canaryOf(dependencies, event.version, event.runId);
  if (record.stage === 'Production') {
    return { status: 'InService', deployment: canary(record.updatedAt), reason: `version ${event.version} already serves production` };
  }
  if (record.stage === 'Rejected') {
    throw new InvalidTransitionError(`version ${event.version} of "${modelName}" is Rejected; it cannot be rolled out`, {
      modelName,
      version: event.version,
    });
  }
  const production = (await dependencies.versions.getModel(modelName))?.productionVersion;
  const canaryReason = `canary: ${dependencies.canaryPercent}% of requests for ${dependencies.bakeTimeSeconds} s`;
  const shadowed = shadow !== undefined && shadow.percent > 0 && production !== undefined && production !== event.version;
  const skipped = shadow !== undefined && shadow.percent > 0 && !shadowed ? ' (no production version to shadow)' : '';
  const { version } = await dependencies.registry.transition({
    modelName,
    version: event.version,
    toStage: 'Staging',
    phase: shadowed ? 'shadow' : 'canary',
    actor: rolloutActor(modelName, event.runId),
    reason: shadowed
      ? `shadow: ${shadow.percent}% of requests mirrored for ${shadow.windowSeconds} s against production version ${production}, then ${canaryReason} (run ${event.runId})`
      : `${canaryReason}${skipped} (run ${event.runId})`,
    idempotencyKey: beginIdempotencyKey(event.runId),
  });
  if (!shadowed) return { status: 'InProgress', deployment: canary(version.updatedAt), reason: null };
  const windowSeconds = shadow.windowSeconds + dependencies.registryCacheSeconds;
  return {
    status: 'InProgress',
    deployment: {
      ...canary(version.updatedAt),
      phase: 'shadow',
      shadow: {
        percent: shadow.percent,
        windowSeconds,
        deadlineSeconds: SHADOW_TRAFFIC_WAIT_WINDOWS * shadow.windowSeconds + dependencies.registryCacheSeconds,
      },
    },
    reason: null,
  };
}

function canaryOf(dependencies: CanaryRolloutDependencies, version: number, runId: string) {
  return (startedAt: string): CanaryDeployment => ({
    mode: 'serverless-canary',
    modelName: dependencies.modelName,
    version,
    runId,
    phase: 'canary',
    startedAt,
    canaryPercent: dependencies.canaryPercent,
    bakeSeconds: dependencies.bakeTimeSeconds + dependencies.registryCacheSeconds,
  });
}

/** One look at the rollout: in shadow, the window and its gates; in the canary, the alarms first, then the bake clock. */
export async function pollCanary(dependencies: CanaryRolloutDependencies, event: PollEvent): Promise<RolloutResult<CanaryDeployment>> {
  const deployment = parseDeployment(canaryDeploymentSchema, event);
  const { modelName } = dependencies;
  const record = await requireVersion(dependencies, deployment.version);
  // A repeated poll, or a change someone made meanwhile: the registry says how it ended.
  switch (record.stage) {
    case 'Production':
      return { status: 'InService', deployment, reason: `version ${record.version} was promoted` };
    case 'Rejected':
      return { status: 'RolledBack', deployment, reason: `version ${record.version} was already rolled back (Rejected)` };
    case 'Registered':
    case 'Archived':
      return {
        status: 'Failed',
        deployment,
        reason: `version ${record.version} left Staging (now ${record.stage}) during its canary; another rollout or a person moved it`,
      };
    // Staging: the canary goes on.
  }
  if (deployment.phase === 'shadow') return pollShadow(dependencies, deployment, record);
  const firing = (await dependencies.alarms.readAlarms()).filter((alarm) => alarm.state === 'ALARM');
  if (firing.length > 0) {
    const reason = registryReason(
      `canary rolled back: ${firing.map((alarm) => `alarm ${alarm.name} in ALARM: ${alarm.reason}`).join('; ')}`,
    );
    await dependencies.registry.transition({
      modelName,
      version: record.version,
      toStage: 'Rejected',
      actor: rolloutActor(modelName, deployment.runId),
      reason,
    });
    return { status: 'RolledBack', deployment, reason };
  }
  const now = (dependencies.now ?? (() => new Date()))().getTime();
  const elapsedSeconds = (now - Date.parse(deployment.startedAt)) / 1000;
  if (elapsedSeconds >= deployment.bakeSeconds) {
    return {
      status: 'InService',
      deployment,
      reason: `no canary alarm in ${Math.floor(elapsedSeconds)} s (bake ${deployment.bakeSeconds} s)`,
    };
  }
  return { status: 'InProgress', deployment, reason: null };
}

/** One look at the shadow: nothing before the window ends; then the gates reject the candidate or move it to its canary. */
async function pollShadow(
  dependencies: CanaryRolloutDependencies,
  deployment: CanaryDeployment,
  record: VersionRecord,
): Promise<RolloutResult<CanaryDeployment>> {
  const { modelName, shadow } = dependencies;
  const window = deployment.shadow;
  if (!shadow || !window)
    throw new Error(`the rollout of version ${record.version} is in shadow, but this deploy function has no shadow settings`);
  const model = await dependencies.versions.getModel(modelName);
  // A repeated poll after the move to the canary: the registry has the canary's start.
  if (model?.stagingPhase === 'canary') {
    const { shadow: _window, ...canary } = deployment;
    return { status: 'InProgress', deployment: { ...canary, phase: 'canary', startedAt: record.updatedAt }, reason: null };
  }
  const now = (dependencies.now ?? (() => new Date()))();
  const elapsedSeconds = (now.getTime() - Date.parse(deployment.startedAt)) / 1000;
  if (elapsedSeconds < window.windowSeconds) return { status: 'InProgress', deployment, reason: null };
  const figures = await shadow.metrics.read({ version: record.version, start: new Date(deployment.startedAt), end: now });
  const judgement = judgeShadow(figures, shadow);
  const actor = rolloutActor(modelName, deployment.runId);
  if (!judgement.decided) {
    if (elapsedSeconds < window.deadlineSeconds) {
      return { status: 'InProgress', deployment, reason: `shadow waits for traffic: ${judgement.reason}` };
    }
    const reason = registryReason(`shadow ended after ${Math.floor(elapsedSeconds)} s without enough traffic: ${judgement.reason}`);
    await dependencies.registry.transition({
      modelName,
      version: record.version,
      toStage: 'Archived',
      actor,
      reason: `deployment failed: ${reason}`,
    });
    return { status: 'Failed', deployment, reason };
  }
  if (!judgement.passed) {
    const reason = registryReason(`shadow rejected before any caller saw it: ${judgement.failures.join('; ')} (${judgement.summary})`);
    await dependencies.registry.transition({ modelName, version: record.version, toStage: 'Rejected', actor, reason });
    return { status: 'RolledBack', deployment, reason };
  }
  if (!dependencies.registry.setRolloutPhase) throw new Error('the rollout registry cannot change rollout phases; a shadow phase needs it');
  const reason = `shadow passed: ${judgement.summary}`;
  const { version } = await dependencies.registry.setRolloutPhase({
    modelName,
    version: record.version,
    phase: 'canary',
    actor,
    reason: registryReason(`${reason}; canary: ${deployment.canaryPercent}% of requests for ${dependencies.bakeTimeSeconds} s`),
    idempotencyKey: canaryPhaseIdempotencyKey(deployment.runId),
  });
  const { shadow: _window, ...canary } = deployment;
  return { status: 'InProgress', deployment: { ...canary, phase: 'canary', startedAt: version.updatedAt }, reason };
}

async function requireVersion(dependencies: CanaryRolloutDependencies, version: number): Promise<VersionRecord> {
  const record = await dependencies.versions.getVersion(dependencies.modelName, version);
  if (!record) {
    throw new NotFoundError(`model "${dependencies.modelName}" has no version ${version}`, { modelName: dependencies.modelName, version });
  }
  return record;
}

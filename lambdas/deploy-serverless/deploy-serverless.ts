/**
 * The guarded rollout of a serverless model: a model-version canary inside the predict
 * function. `begin` moves the candidate to Staging; predict then routes canaryPercent of
 * requests to it (by request id) and emits the Canary* metrics for them. `poll` reads the
 * canary alarms: one in ALARM rolls the candidate back (Rejected, so predict returns to 100%
 * Production), a bake time without alarm is InService. No AWS imports: the alarms come in as a
 * CanaryAlarmReader (CloudWatch on AWS, evaluateCanary over local metrics offline).
 */
import * as z from 'zod';
import { CANARY_ERROR_RATE_PERCENT } from '../../contracts/metrics';
import type { VersionRecord } from '../../contracts/registry';
import { InvalidTransitionError, NotFoundError } from '../shared/errors';
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
} from '../shared/rollout';

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

/** What begin hands the state machine, and poll gets back. */
export const canaryDeploymentSchema = z.object({
  mode: z.literal('serverless-canary'),
  modelName: z.string().min(1),
  version: z.number().int().positive(),
  runId: z.string().min(1),
  /** When the candidate entered Staging (the registry's record of it). */
  startedAt: z.iso.datetime(),
  canaryPercent: z.number().min(0).max(100),
  /** Bake time plus predict's registry cache TTL: predict may start routing that much after startedAt. */
  bakeSeconds: z.number().int().min(0),
});
export type CanaryDeployment = z.output<typeof canaryDeploymentSchema>;

export interface CanaryRolloutDependencies {
  readonly modelName: string;
  readonly canaryPercent: number;
  readonly bakeTimeSeconds: number;
  /** How long predict may take to notice a registry change (its cache TTL). */
  readonly registryCacheSeconds: number;
  readonly versions: Pick<RegistryStore, 'getVersion'>;
  readonly registry: RolloutRegistry;
  readonly alarms: CanaryAlarmReader;
  readonly now?: () => Date;
}

/** Starts the canary: the candidate goes to Staging (replayed, not repeated, for the same run). */
export async function beginCanary(dependencies: CanaryRolloutDependencies, event: BeginEvent): Promise<RolloutResult<CanaryDeployment>> {
  const { modelName } = dependencies;
  const record = await requireVersion(dependencies, event.version);
  const deployment = (startedAt: string): CanaryDeployment => ({
    mode: 'serverless-canary',
    modelName,
    version: event.version,
    runId: event.runId,
    startedAt,
    canaryPercent: dependencies.canaryPercent,
    bakeSeconds: dependencies.bakeTimeSeconds + dependencies.registryCacheSeconds,
  });
  if (record.stage === 'Production') {
    return { status: 'InService', deployment: deployment(record.updatedAt), reason: `version ${event.version} already serves production` };
  }
  if (record.stage === 'Rejected') {
    throw new InvalidTransitionError(`version ${event.version} of "${modelName}" is Rejected; it cannot be rolled out`, {
      modelName,
      version: event.version,
    });
  }
  const { version } = await dependencies.registry.transition({
    modelName,
    version: event.version,
    toStage: 'Staging',
    actor: rolloutActor(modelName, event.runId),
    reason: `canary: ${dependencies.canaryPercent}% of requests for ${dependencies.bakeTimeSeconds} s (run ${event.runId})`,
    idempotencyKey: beginIdempotencyKey(event.runId),
  });
  return { status: 'InProgress', deployment: deployment(version.updatedAt), reason: null };
}

/** One look at the canary: alarms first, then the bake clock. */
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

async function requireVersion(dependencies: CanaryRolloutDependencies, version: number): Promise<VersionRecord> {
  const record = await dependencies.versions.getVersion(dependencies.modelName, version);
  if (!record) {
    throw new NotFoundError(`model "${dependencies.modelName}" has no version ${version}`, { modelName: dependencies.modelName, version });
  }
  return record;
}

/**
 * The pipeline's rollout contract, one for both serving paths: `begin` starts a guarded
 * rollout of a registry version — in shadow first when the model has a shadow phase, then its
 * canary — and `poll` (with the `deployment` object begin or the last poll returned, passed back
 * verbatim) says where it stands. Endpoint models implement it in
 * lambdas/deploy-endpoint, serverless models in lambdas/deploy-serverless. Outcomes are return values
 * the state machine branches on; a malformed event or an unknown version is thrown.
 */
import * as z from 'zod';
import type { RolloutPhase } from '../../contracts/registry';
import { ValidationError } from './errors';
import type { StageChangeResult } from './registry/registry-base';

export const ROLLOUT_STATUSES = ['InProgress', 'InService', 'RolledBack', 'Failed'] as const;
/**
 * InProgress: poll again later (in shadow, or in its canary). InService: the version passed its
 * shadow gates and its bake time without an alarm (the pipeline promotes it next). RolledBack: a
 * shadow gate failed or an alarm fired; the production version keeps serving and the candidate is
 * Rejected in the registry. Failed: the rollout could not proceed.
 */
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** The `deployment` object stays small: the state machine carries it between polls. */
export const MAX_DEPLOYMENT_BYTES = 4096;

export interface RolloutResult<D extends object> {
  readonly status: RolloutStatus;
  /** Opaque to the state machine; handed back unchanged in the next `poll`. */
  readonly deployment: D;
  readonly reason: string | null;
}

/** A Step Functions execution name: 1-80 letters, digits, - and _ (also the idempotency key's base). */
const runId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a Step Functions execution name: 1-80 letters, digits, - or _');
const version = z.number().int().positive();

export const beginEventSchema = z.object({ action: z.literal('begin'), version, runId }).strict();
export const pollEventSchema = z
  .object({ action: z.literal('poll'), version, deployment: z.record(z.string(), z.unknown()) })
  .strict()
  .refine((event) => Buffer.byteLength(JSON.stringify(event.deployment)) <= MAX_DEPLOYMENT_BYTES, {
    message: `deployment must be at most ${MAX_DEPLOYMENT_BYTES} bytes of JSON`,
    path: ['deployment'],
  });
export const rolloutEventSchema = z.discriminatedUnion('action', [beginEventSchema, pollEventSchema]);
export type BeginEvent = z.output<typeof beginEventSchema>;
export type PollEvent = z.output<typeof pollEventSchema>;

/** Reads a poll's `deployment` back into its shape, refusing one that belongs to another version or path. */
export function parseDeployment<S extends z.ZodType<{ version: number }>>(schema: S, event: PollEvent): z.output<S> {
  const parsed = schema.safeParse(event.deployment);
  if (!parsed.success) {
    throw new ValidationError(`invalid poll request: deployment is not one this function returned: ${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.version !== event.version) {
    throw new ValidationError(`invalid poll request: deployment is for version ${parsed.data.version}, the event names ${event.version}`);
  }
  return parsed.data;
}

/** The registry change a rollout makes (the registry function, invoked; or a Registry in tests). */
export interface RolloutRegistry {
  transition(request: {
    modelName: string;
    version: number;
    toStage: 'Staging' | 'Archived' | 'Rejected';
    /** With Staging: the phase the rollout starts in (default canary). */
    phase?: RolloutPhase;
    actor: string;
    reason?: string;
    idempotencyKey?: string;
  }): Promise<Pick<StageChangeResult, 'changed' | 'version'>>;
  /** Moves the Staging version on to its canary (needed by rollouts with a shadow phase). */
  setRolloutPhase?(request: {
    modelName: string;
    version: number;
    phase: RolloutPhase;
    actor: string;
    reason?: string;
    idempotencyKey?: string;
  }): Promise<Pick<StageChangeResult, 'changed' | 'version'>>;
}

/** The key under which `begin` of a run moves its candidate to Staging, so a repeated begin replays it. */
export function beginIdempotencyKey(runId: string): string {
  return `${runId}:rollout-begin`;
}

/** The key under which a run's candidate moves from shadow to its canary, so a repeated poll replays it. */
export function canaryPhaseIdempotencyKey(runId: string): string {
  return `${runId}:rollout-canary`;
}

/** Registry reasons are at most 1,024 characters; alarm reasons can be longer. */
export function registryReason(text: string): string {
  return text.length <= 1024 ? text : `${text.slice(0, 1021)}...`;
}

/** Who the registry records as making the rollout's changes. */
export function rolloutActor(modelName: string, runId?: string): string {
  return runId ? `rollout:${modelName}:${runId}` : `rollout:${modelName}`;
}

/**
 * The registry's records and requests: stages, the legal stage changes, and zod schemas
 * for every request the registry accepts (from Step Functions or the API).
 */
import * as z from 'zod';
import { modelNameSchema, s3UriSchema } from './fields';

export const STAGES = ['Registered', 'Staging', 'Production', 'Archived', 'Rejected'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Stage changes a caller may ask for directly. Production is left only as a side effect of
 * promoting or rolling back to another version, so a model never loses its production
 * version by accident; Rejected is final.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<Stage, readonly Stage[]>> = {
  Registered: ['Staging', 'Production', 'Archived', 'Rejected'],
  Staging: ['Production', 'Archived', 'Rejected'],
  Production: [],
  Archived: ['Staging', 'Production'],
  Rejected: [],
};

/**
 * Where the Staging version stands in its rollout: `shadow` (mirrored traffic only: production
 * answers every request, the candidate's answers are compared and discarded) or `canary` (it
 * answers its share of requests). Predict reads it from the model record.
 */
export const ROLLOUT_PHASES = ['shadow', 'canary'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

/** How many former production versions are kept as successive rollback targets. */
export const PRODUCTION_HISTORY_LIMIT = 20;

/** One split of the training data: its rows and the SHA-256 of its CSV parts. */
export interface SplitPartLineage {
  readonly rows: number;
  readonly sha256: string;
}

/** How the run's dataset was split: the rows the model trained, validated and was evaluated on. */
export interface SplitLineage {
  readonly uri: string;
  /** What the gate scored: the split's holdout, or the run's own holdoutUri. */
  readonly holdoutUri: string;
  readonly seed: number;
  readonly unlabelledRows: number;
  readonly train: SplitPartLineage;
  readonly validation: SplitPartLineage;
  /** Absent when the run brought its own holdout. */
  readonly holdout?: SplitPartLineage;
}

export interface Lineage {
  readonly datasetUri: string;
  readonly datasetEtag: string;
  readonly profileUri?: string;
  readonly codeCommit?: string;
  readonly trainingJobName?: string;
  readonly hyperparameters: Record<string, string>;
  readonly split?: SplitLineage;
}

export interface VersionRecord {
  readonly modelName: string;
  readonly version: number;
  readonly stage: Stage;
  readonly artifactUri: string;
  readonly artifactSha256: string;
  readonly metrics: Record<string, number>;
  readonly lineage: Lineage;
  /** 1 − billable / training seconds of a managed-spot training job. */
  readonly spotSavings?: number;
  readonly description?: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
}

export interface ModelRecord {
  readonly modelName: string;
  readonly latestVersion: number;
  readonly productionVersion?: number;
  /** The rollback target: the version that was in production before the current one. */
  readonly previousProductionVersion?: number;
  /** Former production versions, oldest first; the last one is previousProductionVersion. */
  readonly productionHistory: readonly number[];
  readonly stagingVersion?: number;
  /** The Staging version's rollout phase; absent with no Staging version (a record written before phases existed: canary). */
  readonly stagingPhase?: RolloutPhase;
  /** Incremented by every change; the optimistic lock that serialises changes to one model. */
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type AuditAction =
  | 'register'
  | 'transition'
  | 'promote'
  | 'rollback'
  | 'pipeline-failure'
  | 'approval-requested'
  | 'approval-decided'
  | 'rollout-phase'
  | 'pipeline-redrive'
  | 'drift-verdict';

export const APPROVAL_STATUSES = ['Pending', 'Approved', 'Rejected'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A pipeline run waiting for a person to approve a version before it is deployed. */
export interface ApprovalRecord {
  readonly modelName: string;
  readonly version: number;
  readonly status: ApprovalStatus;
  /** The Step Functions task token the decision is sent back with. */
  readonly taskToken: string;
  readonly executionArn: string;
  readonly requestedAt: string;
  readonly decidedAt?: string;
  readonly decidedBy?: string;
  readonly reason?: string;
}

export interface AuditEvent {
  readonly modelName: string;
  readonly eventId: string;
  readonly at: string;
  readonly actor: string;
  readonly action: AuditAction;
  readonly version?: number;
  readonly fromStage?: Stage;
  readonly toStage?: Stage;
  readonly reason?: string;
  readonly details?: Record<string, string>;
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque; pass back as `cursor` to read the next page. Absent on the last page. */
  readonly nextCursor?: string;
}

const modelName = modelNameSchema;
const version = z.number().int().positive();
const actor = z.string().min(1).max(512);
const reason = z.string().max(1024).optional();
const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:@/-]+$/, 'may contain only letters, digits and _ . : @ / -')
  .optional();
const s3Uri = s3UriSchema;
const pageSize = z.number().int().min(1).max(100).default(25);
const splitPart = z.object({ rows: z.number().int().min(0), sha256: z.string().regex(/^[a-f0-9]{64}$/) }).strict();
/** Extra keys validate-data adds for the state machine (the channel URIs) are dropped, not refused. */
const splitLineageSchema = z.object({
  uri: s3Uri,
  holdoutUri: s3Uri,
  seed: z.number().int().min(0),
  unlabelledRows: z.number().int().min(0),
  train: splitPart,
  validation: splitPart,
  holdout: splitPart.optional(),
});

export const registerRequestSchema = z
  .object({
    modelName,
    artifactUri: s3Uri,
    artifactSha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be the lowercase hex SHA-256 of the artifact (64 characters)'),
    metrics: z.record(z.string().min(1).max(64), z.number().refine(Number.isFinite, 'must be a finite number')).default({}),
    lineage: z
      .object({
        datasetUri: s3Uri,
        datasetEtag: z.string().min(1).max(128),
        profileUri: s3Uri.optional(),
        codeCommit: z.string().min(1).max(64).optional(),
        trainingJobName: z.string().min(1).max(63).optional(),
        hyperparameters: z.record(z.string(), z.string()).default({}),
        split: splitLineageSchema.optional(),
      })
      .strict(),
    spotSavings: z.number().min(0).max(1).optional(),
    description: z.string().max(1024).optional(),
    /** A model that failed the evaluation gate is registered directly as Rejected, for the record. */
    stage: z.enum(['Registered', 'Rejected']).default('Registered'),
    reason,
    actor,
    idempotencyKey,
  })
  .strict();

export const transitionRequestSchema = z
  .object({
    modelName,
    version,
    toStage: z.enum(STAGES),
    /** With toStage Staging: the rollout phase it enters (default canary). */
    phase: z.enum(ROLLOUT_PHASES).optional(),
    actor,
    reason,
    idempotencyKey,
  })
  .strict()
  .refine((request) => request.phase === undefined || request.toStage === 'Staging', {
    message: 'phase is only for a transition to Staging',
    path: ['phase'],
  });

/** Moves the Staging version to another rollout phase (shadow → canary), recorded in the audit trail. */
export const setRolloutPhaseRequestSchema = z
  .object({ modelName, version, phase: z.enum(ROLLOUT_PHASES), actor, reason, idempotencyKey })
  .strict();

export const promoteRequestSchema = z
  .object({
    modelName,
    version,
    actor,
    reason,
    idempotencyKey,
    /** Promote only if this is still the production version (null: only if there is none). */
    expectedProductionVersion: version.nullable().optional(),
  })
  .strict();

export const rollbackRequestSchema = z
  .object({
    modelName,
    actor,
    reason,
    idempotencyKey,
    /** Roll back only if this is still the production version (guards against a repeated request). */
    fromVersion: version.optional(),
  })
  .strict();

export const pipelineFailureRequestSchema = z
  .object({
    modelName,
    actor,
    executionArn: z.string().min(1).max(2048),
    failedState: z.string().min(1).max(128),
    error: z.string().max(256).default('Unknown'),
    cause: z.string().max(32_768).default(''),
    idempotencyKey,
  })
  .strict();

/**
 * The pipeline's AwaitRedrive task: in the attempt that failed (`redriveCount` = `failedAttempt`)
 * the registry answers with the run's own error; after a RedriveExecution (`redriveCount` higher)
 * it records the redrive and tells the run where to resume.
 */
export const awaitRedriveSchema = z
  .object({
    modelName,
    executionArn: z.string().min(1).max(2048),
    failedState: z.string().min(1).max(128),
    error: z.string().max(256).default('Unknown'),
    cause: z.string().max(32_768).default(''),
    failedAttempt: z.number().int().min(0),
    redriveCount: z.number().int().min(0),
    actor,
  })
  .strict();

/** check-drift's verdict on a window of captured traffic, kept in the model's audit trail. */
export const driftVerdictRequestSchema = z
  .object({
    modelName,
    actor,
    status: z.enum(['drift', 'no-drift', 'insufficient-data']),
    productionVersion: version,
    windowEnd: z.string().min(1).max(64),
    sampleSize: z.number().int().min(0),
    driftedFeatures: z.array(z.string().min(1).max(256)).max(500),
    driftedFeatureShare: z.number().min(0).max(1).nullable(),
    reportUri: s3UriSchema,
    idempotencyKey,
  })
  .strict();

export const requestApprovalSchema = z
  .object({
    modelName,
    version,
    taskToken: z.string().min(1).max(1024),
    executionArn: z.string().min(1).max(2048),
    actor,
  })
  .strict();

export const decideApprovalSchema = z.object({ modelName, version, approved: z.boolean(), actor, reason }).strict();

export const listRequestSchema = z.object({ modelName, limit: pageSize, cursor: z.string().max(2048).optional() }).strict();
export const listVersionsRequestSchema = listRequestSchema.extend({ stage: z.enum(STAGES).optional() }).strict();
export const listModelsRequestSchema = z.object({ limit: pageSize, cursor: z.string().max(2048).optional() }).strict();
export const getVersionRequestSchema = z.object({ modelName, version }).strict();
export const getModelRequestSchema = z.object({ modelName }).strict();

export type RegisterRequest = z.input<typeof registerRequestSchema>;
export type RequestApprovalRequest = z.input<typeof requestApprovalSchema>;
export type DecideApprovalRequest = z.input<typeof decideApprovalSchema>;
export type TransitionRequest = z.input<typeof transitionRequestSchema>;
export type SetRolloutPhaseRequest = z.input<typeof setRolloutPhaseRequestSchema>;
export type PromoteRequest = z.input<typeof promoteRequestSchema>;
export type RollbackRequest = z.input<typeof rollbackRequestSchema>;
export type PipelineFailureRequest = z.input<typeof pipelineFailureRequestSchema>;
export type AwaitRedriveRequest = z.input<typeof awaitRedriveSchema>;
export type DriftVerdictRequest = z.input<typeof driftVerdictRequestSchema>;
export type ListVersionsRequest = z.input<typeof listVersionsRequestSchema>;
export type ListEventsRequest = z.input<typeof listRequestSchema>;
export type ListModelsRequest = z.input<typeof listModelsRequestSchema>;

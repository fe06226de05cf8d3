/**
 * The registry's events on EventBridge: every change the registry records (its audit trail) is
 * published once, with source `cdk-mlops`, a detail type per kind of change and one detail shape
 * (`RegistryEventDetail`, whose JSON schema is below). The publisher function maps audit events to
 * them; teams match `source` and `detail-type` in their own rules and deduplicate on
 * `detail.eventId`, the registry's id of the change.
 */
import type { JsonSchemaObject } from './api';
import { type AuditAction, type AuditEvent, STAGES } from './registry';

/** EventBridge `source` of every registry event. */
export const REGISTRY_EVENT_SOURCE = 'cdk-mlops';

/** EventBridge `detail-type` by the audit action that records the change. */
export const REGISTRY_DETAIL_TYPES = {
  register: 'Model Version Registered',
  transition: 'Model Version Stage Changed',
  promote: 'Model Version Promoted',
  rollback: 'Model Rolled Back',
  'approval-requested': 'Model Version Approval Requested',
  'approval-decided': 'Model Version Approval Decided',
  'pipeline-failure': 'Training Run Failed',
  'pipeline-redrive': 'Training Run Redriven',
  'drift-verdict': 'Model Drift Verdict',
  'rollout-phase': 'Model Rollout Phase Changed',
} as const satisfies Record<AuditAction, string>;

export type RegistryDetailType = (typeof REGISTRY_DETAIL_TYPES)[AuditAction];

/** The `detail` of every registry event: the audit event as the registry recorded it. */
export interface RegistryEventDetail {
  /** The registry's id of the change: unique, the same in every delivery of the event. */
  readonly eventId: string;
  readonly modelName: string;
  readonly action: AuditAction;
  readonly at: string;
  readonly actor: string;
  readonly version?: number;
  readonly fromStage?: AuditEvent['fromStage'];
  readonly toStage?: AuditEvent['toStage'];
  readonly reason?: string;
  readonly details?: Record<string, string>;
}

/** One EventBridge entry of a registry change. */
export interface RegistryEventEntry {
  readonly source: typeof REGISTRY_EVENT_SOURCE;
  readonly detailType: RegistryDetailType;
  readonly detail: RegistryEventDetail;
}

/** The EventBridge entry of an audit event. */
export function registryEventOf(event: AuditEvent): RegistryEventEntry {
  return {
    source: REGISTRY_EVENT_SOURCE,
    detailType: REGISTRY_DETAIL_TYPES[event.action],
    detail: {
      eventId: event.eventId,
      modelName: event.modelName,
      action: event.action,
      at: event.at,
      actor: event.actor,
      ...(event.version === undefined ? {} : { version: event.version }),
      ...(event.fromStage === undefined ? {} : { fromStage: event.fromStage }),
      ...(event.toStage === undefined ? {} : { toStage: event.toStage }),
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      ...(event.details === undefined ? {} : { details: event.details }),
    },
  };
}

/** JSON schema (draft 4 and 7 alike) of `detail`, for every detail type. */
export const registryEventDetailSchema: JsonSchemaObject = {
  type: 'object',
  description: 'A change the cdk-mlops model registry recorded. Deduplicate deliveries on eventId.',
  properties: {
    eventId: { type: 'string', minLength: 1, description: "The registry's id of the change; the same in every delivery." },
    modelName: { type: 'string', minLength: 1 },
    action: { type: 'string', enum: Object.keys(REGISTRY_DETAIL_TYPES) },
    at: { type: 'string', description: 'ISO 8601 time of the change.' },
    actor: { type: 'string', description: "Who made it: an IAM ARN, cognito:<user>, or the pipeline run's execution ARN." },
    version: { type: 'integer', minimum: 1 },
    fromStage: { type: 'string', enum: [...STAGES] },
    toStage: { type: 'string', enum: [...STAGES] },
    reason: { type: 'string' },
    details: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'Per action: executionArn, failedState, error, cause (run failed); redriveCount (redriven); status, windowEnd, driftedFeatures, reportUri (drift verdict).',
    },
  },
  required: ['eventId', 'modelName', 'action', 'at', 'actor'],
  additionalProperties: false,
};

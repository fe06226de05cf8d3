/**
 * The registry function's core: the actions it accepts and the registry-service method each one
 * calls. Every method validates its own request with zod; a request without a known action is a
 * ValidationError naming the actions.
 */
import * as z from 'zod';
import type {
  AwaitRedriveRequest,
  DecideApprovalRequest,
  DriftVerdictRequest,
  ListEventsRequest,
  ListModelsRequest,
  ListVersionsRequest,
  PipelineFailureRequest,
  PromoteRequest,
  RegisterRequest,
  RequestApprovalRequest,
  RollbackRequest,
  SetRolloutPhaseRequest,
  TransitionRequest,
} from '../../contracts/registry';
import { ValidationError } from '../shared/errors';
import type { Registry } from '../shared/registry/registry-service';

export const REGISTRY_ACTIONS = [
  'register',
  'getModel',
  'listModels',
  'getVersion',
  'listVersions',
  'listEvents',
  'transition',
  'setRolloutPhase',
  'promote',
  'rollback',
  'recordPipelineFailure',
  'requestApproval',
  'getApproval',
  'decideApproval',
  'awaitRedrive',
  'recordDriftVerdict',
] as const;
export type RegistryAction = (typeof REGISTRY_ACTIONS)[number];

const eventSchema = z.looseObject({ action: z.enum(REGISTRY_ACTIONS) });

type Operation = (target: Registry, request: Record<string, unknown>) => Promise<unknown>;

/** Each registry method validates its own request with zod; the casts only name the expected shape. */
const OPERATIONS: Readonly<Record<RegistryAction, Operation>> = {
  register: (target, request) => target.registerVersion(request as RegisterRequest),
  getModel: (target, request) => target.getModel(request as { modelName: string }),
  listModels: (target, request) => target.listModels(request as ListModelsRequest),
  getVersion: (target, request) => target.getVersion(request as { modelName: string; version: number }),
  listVersions: (target, request) => target.listVersions(request as ListVersionsRequest),
  listEvents: (target, request) => target.listEvents(request as ListEventsRequest),
  transition: (target, request) => target.transition(request as TransitionRequest),
  setRolloutPhase: (target, request) => target.setRolloutPhase(request as SetRolloutPhaseRequest),
  promote: (target, request) => target.promote(request as PromoteRequest),
  rollback: (target, request) => target.rollback(request as RollbackRequest),
  recordPipelineFailure: (target, request) => target.recordPipelineFailure(request as PipelineFailureRequest),
  requestApproval: (target, request) => target.requestApproval(request as RequestApprovalRequest),
  getApproval: (target, request) => target.getApproval(request as { modelName: string; version: number }),
  decideApproval: (target, request) => target.decideApproval(request as DecideApprovalRequest),
  awaitRedrive: (target, request) => target.awaitRedrive(request as AwaitRedriveRequest),
  recordDriftVerdict: (target, request) => target.recordDriftVerdict(request as DriftVerdictRequest),
};

export async function dispatch(target: Registry, event: unknown): Promise<unknown> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) {
    throw new ValidationError(`registry request needs "action", one of: ${REGISTRY_ACTIONS.join(', ')}`, {
      received: typeof event === 'object' && event !== null ? Object.keys(event) : typeof event,
    });
  }
  const { action, ...request } = parsed.data;
  return OPERATIONS[action](target, request);
}

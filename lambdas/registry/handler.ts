/**
 * The registry function: `{ action, ...request }` from Step Functions or the API in, the
 * registry's result out. Typed errors (ValidationError, NotFoundError, ConflictError,
 * InvalidTransitionError) propagate with their stable names for `Catch` and HTTP mapping.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { PlatformError, ValidationError } from '../shared/errors';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import type {
  DecideApprovalRequest,
  ListEventsRequest,
  ListModelsRequest,
  ListVersionsRequest,
  PipelineFailureRequest,
  PromoteRequest,
  RegisterRequest,
  RequestApprovalRequest,
  RollbackRequest,
  TransitionRequest,
} from '../../contracts/registry';
import { Registry } from '../shared/registry/registry-service';

const logger = new Logger();
const tracer = new Tracer();

export const REGISTRY_ACTIONS = [
  'register',
  'getModel',
  'listModels',
  'getVersion',
  'listVersions',
  'listEvents',
  'transition',
  'promote',
  'rollback',
  'recordPipelineFailure',
  'requestApproval',
  'getApproval',
  'decideApproval',
] as const;
export type RegistryAction = (typeof REGISTRY_ACTIONS)[number];

const eventSchema = z.looseObject({ action: z.enum(REGISTRY_ACTIONS) });

let registry: Registry | undefined;

/** Built once per container from the environment the construct sets. */
function registryFromEnvironment(): Registry {
  if (registry) return registry;
  const tableName = process.env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set; the registry function needs its table name');
  const client = tracer.captureAWSv3Client(new DynamoDBClient({}));
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const knownModels = process.env.MODEL_NAMES?.split(',').filter(Boolean);
  registry = new Registry(new DynamoDbRegistryStore(documents, tableName), { knownModels });
  return registry;
}

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
  promote: (target, request) => target.promote(request as PromoteRequest),
  rollback: (target, request) => target.rollback(request as RollbackRequest),
  recordPipelineFailure: (target, request) => target.recordPipelineFailure(request as PipelineFailureRequest),
  requestApproval: (target, request) => target.requestApproval(request as RequestApprovalRequest),
  getApproval: (target, request) => target.getApproval(request as { modelName: string; version: number }),
  decideApproval: (target, request) => target.decideApproval(request as DecideApprovalRequest),
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

export async function handler(event: unknown, context: Context): Promise<unknown> {
  logger.addContext(context);
  const action = (event as { action?: unknown } | null)?.action;
  logger.appendKeys({ action: typeof action === 'string' ? action : 'missing' });
  try {
    return await dispatch(registryFromEnvironment(), event);
  } catch (error) {
    if (error instanceof PlatformError) {
      logger.warn('registry request refused', { error: error.name, message: error.message, details: error.details });
    } else {
      logger.error('registry request failed', error as Error);
    }
    throw error;
  } finally {
    logger.removeKeys(['action']);
  }
}

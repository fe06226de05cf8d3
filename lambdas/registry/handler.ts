/**
 * The registry function: `{ action, ...request }` from Step Functions or the API in, the
 * registry's result out (registry.ts dispatches the action over the registry service on the
 * DynamoDB table). Typed errors (ValidationError, NotFoundError, ConflictError,
 * InvalidTransitionError) propagate with their stable names for `Catch` and HTTP mapping.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { PlatformError } from '../shared/errors';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { Registry } from '../shared/registry/registry-service';
import { dispatch } from './registry';

const logger = new Logger();
const tracer = new Tracer();

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

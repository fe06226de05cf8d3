/**
 * The API function: API Gateway (Lambda proxy) requests for execution status, the registry's
 * reads and stage changes, and approvals. It finds the route from the request's resource,
 * calls the router, and returns the API's JSON (errors as `{ error: { code, message, details } }`).
 * The registry is reached through the registry function, the only writer of its table.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorBody, matchRoute } from '../../contracts/api';
import type { ModelCardConfig } from '../../contracts/model-card';
import { NotFoundError, ValidationError } from '../shared/errors';
import { registryCardReader, writeModelCard } from '../shared/model-card';
import { RegistryFunctionClient } from '../shared/registry/lambda-registry-client';
import { S3ObjectStore } from '../shared/s3-object-store';
import { type ApiRequest, errorResult, handleApiRequest, type PlatformApiBackend } from './api';
import { awsBackend } from './sfn-api-backend';

const logger = new Logger();
const tracer = new Tracer();

/**
 * The router's request from a proxy event. Model routes exist both under `{name}` and under each
 * configured model's own path (so `/models/<name>/predict` can reach that model's target), so
 * a path segment of the resource is either a literal model name or a `{parameter}`.
 */
export function apiRequestFromEvent(event: APIGatewayProxyEvent): ApiRequest {
  const matched = matchRoute(event.httpMethod, event.resource);
  if (!matched.route) throw new ValidationError(`the API function does not serve ${event.httpMethod} ${event.resource}`);
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(matched.params)) {
    params[name] = /^\{.+\}$/.test(value) ? (event.pathParameters?.[value.slice(1, -1)] ?? '') : value;
  }
  return {
    operation: matched.route.operation,
    params,
    query: event.queryStringParameters ?? {},
    body: parseBody(event.body, event.isBase64Encoded),
    actor: actorOf(event),
  };
}

function parseBody(body: string | null, base64: boolean): unknown {
  if (body === null || body === '') return undefined;
  const text = base64 ? Buffer.from(body, 'base64').toString('utf8') : body;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the request body is not JSON: ${(error as Error).message}`);
  }
}

/** The IAM principal, or the user pool user when a Cognito authorizer is configured. */
function actorOf(event: APIGatewayProxyEvent): string {
  const claims = event.requestContext.authorizer?.claims as Record<string, string> | undefined;
  const user = claims?.email ?? claims?.['cognito:username'] ?? claims?.sub;
  return (
    (user ? `cognito:${user}` : undefined) ?? event.requestContext.identity?.userArn ?? event.requestContext.identity?.caller ?? 'unknown'
  );
}

let backend: PlatformApiBackend | undefined;

function backendFromEnvironment(): PlatformApiBackend {
  if (backend) return backend;
  const functionName = process.env.REGISTRY_FUNCTION_NAME;
  if (!functionName) throw new Error('REGISTRY_FUNCTION_NAME is not set; the API function needs the registry function');
  const registry = new RegistryFunctionClient(tracer.captureAWSv3Client(new LambdaClient({})), functionName);
  backend = {
    ...awsBackend({
      registry,
      stepFunctions: tracer.captureAWSv3Client(new SFNClient({})),
      stateMachineArns: (process.env.STATE_MACHINE_ARNS ?? '').split(',').filter(Boolean),
    }),
    ...modelCardsFromEnvironment(registry),
  };
  return backend;
}

/** Model cards, when the construct hands the function the artifacts bucket and each model's card settings. */
function modelCardsFromEnvironment(registry: RegistryFunctionClient): Pick<PlatformApiBackend, 'modelCard'> {
  const { ARTIFACTS_BUCKET, MODEL_CARDS } = process.env;
  if (!ARTIFACTS_BUCKET || !MODEL_CARDS) return {};
  const configs = JSON.parse(MODEL_CARDS) as Record<string, ModelCardConfig>;
  const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));
  const reader = registryCardReader((action, request) => registry.call(action as never, request));
  return {
    modelCard: async (modelName, version) => {
      const config = configs[modelName];
      if (!config) throw new NotFoundError(`unknown model "${modelName}"`, { modelName });
      return writeModelCard({ registry: reader, store, artifactsBucket: ARTIFACTS_BUCKET, config }, modelName, version);
    },
  };
}

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  const requestId = event.requestContext?.requestId ?? context.awsRequestId;
  let result: { statusCode: number; body: unknown };
  try {
    const request = apiRequestFromEvent(event);
    logger.appendKeys({ operation: request.operation });
    result = await handleApiRequest(request, backendFromEnvironment(), {
      requestId,
      onUnexpectedError: (error) => logger.error('API request failed', error as Error),
    });
  } catch (error) {
    result = errorResult(error, requestId);
    if (result.statusCode >= 500) logger.error('API request failed', error as Error);
  }
  if (result.statusCode >= 400 && result.statusCode < 500)
    logger.warn('API request refused', { statusCode: result.statusCode, body: result.body });
  logger.removeKeys(['operation']);
  return {
    statusCode: result.statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(result.body ?? errorBody('InternalError', 'empty result')),
  };
}

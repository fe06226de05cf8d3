/**
 * The routes the API function serves (execution status, the registry's reads and stage
 * changes, approvals), free of AWS: a request (operation, path parameters, query, parsed
 * body, caller) in, a status code and JSON body out. Its I/O is a PlatformApiBackend, so the
 * Lambda handler and the local API server run the same code.
 */

import { type ApiErrorBody, type ExecutionStatus, errorBody, type RedriveResponse } from '../../contracts/api';
import { ConflictError, ValidationError } from '../shared/errors';
import { stateMachineOfExecution } from './executions';

export interface PlatformApiBackend {
  /** One registry request (`{ action, ...request }` of lambdas/registry/handler.ts). */
  registry(action: string, request: Record<string, unknown>): Promise<unknown>;
  describeExecution(executionArn: string): Promise<ExecutionStatus>;
  /** Resumes a run waiting for approval; ConflictError when the token expired or was already answered. */
  sendTaskSuccess(taskToken: string, output: Record<string, unknown>): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
  /** Step Functions RedriveExecution after the platform's checks (lambdas/api/redrive.ts). */
  redriveExecution(executionArn: string): Promise<RedriveResponse>;
  /** Builds and keeps a version's model card (lambdas/shared/model-card.ts); absent where cards are not set up. */
  modelCard?(modelName: string, version: number): Promise<unknown>;
}

export interface ApiRequest {
  readonly operation: string;
  /** Decoded path parameters: name, version, id. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON body (already checked against the route's schema by API Gateway or the local server). */
  readonly body: unknown;
  /** Who asks: the caller's IAM ARN or user-pool identity; recorded in the audit trail. */
  readonly actor: string;
}

export interface ApiResult {
  readonly statusCode: number;
  readonly body: unknown;
}

/** The error name → HTTP status and code, for errors that crossed a Lambda boundary (name only). */
const ERROR_STATUS: Readonly<Record<string, { status: number; code: string }>> = {
  ValidationError: { status: 400, code: 'ValidationFailed' },
  // An AWS service refusing the request as malformed (DynamoDB, Step Functions): the caller's input, not a fault.
  ValidationException: { status: 400, code: 'ValidationFailed' },
  InvalidArn: { status: 400, code: 'ValidationFailed' },
  InvalidToken: { status: 400, code: 'ValidationFailed' },
  InvalidOutput: { status: 400, code: 'ValidationFailed' },
  NotFoundError: { status: 404, code: 'NotFound' },
  ConflictError: { status: 409, code: 'Conflict' },
  ExecutionNotRedrivable: { status: 409, code: 'NotRedrivable' },
  ExecutionDoesNotExist: { status: 404, code: 'NotFound' },
  ExecutionLimitExceeded: { status: 429, code: 'Throttled' },
  InvalidTransitionError: { status: 409, code: 'InvalidTransition' },
  DatasetFormatError: { status: 422, code: 'DatasetUnreadable' },
  ThrottlingException: { status: 429, code: 'Throttled' },
  TooManyRequestsException: { status: 429, code: 'Throttled' },
};

/** Maps any error to the API's error response; unexpected errors become 500 without their message. */
export function errorResult(error: unknown, requestId?: string): ApiResult & { body: ApiErrorBody } {
  const name = error instanceof Error ? error.name : '';
  const known = ERROR_STATUS[name];
  if (known && error instanceof Error) {
    const details = (error as { details?: unknown }).details;
    return {
      statusCode: known.status,
      body: errorBody(
        known.code,
        error.message,
        typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {},
      ),
    };
  }
  return { statusCode: 500, body: errorBody('InternalError', 'the request failed', requestId ? { requestId } : {}) };
}

type Handler = (request: ApiRequest, backend: PlatformApiBackend) => Promise<unknown>;

const HANDLERS: Readonly<Record<string, Handler>> = {
  getExecution: async ({ params }, backend) => {
    const id = requiredParam(params, 'id');
    stateMachineOfExecution(id);
    return backend.describeExecution(id);
  },
  redriveExecution: async ({ params }, backend) => {
    const id = requiredParam(params, 'id');
    stateMachineOfExecution(id);
    return backend.redriveExecution(id);
  },
  listModels: ({ query }, backend) => backend.registry('listModels', { limit: integerQuery(query, 'limit'), cursor: query.cursor }),
  getModel: ({ params }, backend) => backend.registry('getModel', { modelName: requiredParam(params, 'name') }),
  listVersions: ({ params, query }, backend) =>
    backend.registry('listVersions', {
      modelName: requiredParam(params, 'name'),
      stage: query.stage,
      limit: integerQuery(query, 'limit'),
      cursor: query.cursor,
    }),
  getVersion: ({ params }, backend) =>
    backend.registry('getVersion', { modelName: requiredParam(params, 'name'), version: versionParam(params) }),
  getModelCard: ({ params }, backend) => {
    if (!backend.modelCard) throw new Error('model cards are not set up for this API (ARTIFACTS_BUCKET and MODEL_CARDS)');
    return backend.modelCard(requiredParam(params, 'name'), versionParam(params));
  },
  promoteVersion: ({ params, body, actor }, backend) => {
    const { force, ...request } = bodyObject(body);
    // Two promotions of one model must not both win one after the other: the caller says which
    // production version it expects to replace, or opts out with force.
    if (request.expectedProductionVersion === undefined && force !== true) {
      throw new ValidationError(
        'say which production version this promotion replaces: expectedProductionVersion (null when there is none), or force: true to promote over whatever is in production by then',
        { field: 'expectedProductionVersion' },
      );
    }
    return backend.registry('promote', { ...request, modelName: requiredParam(params, 'name'), version: versionParam(params), actor });
  },
  archiveVersion: ({ params, body, actor }, backend) =>
    backend.registry('transition', {
      ...bodyObject(body),
      modelName: requiredParam(params, 'name'),
      version: versionParam(params),
      toStage: 'Archived',
      actor,
    }),
  rollbackModel: ({ params, body, actor }, backend) =>
    backend.registry('rollback', { ...bodyObject(body), modelName: requiredParam(params, 'name'), actor }),
  approveVersion: approve,
};

/** Serves one request; every failure becomes the API's error body with its status. */
export async function handleApiRequest(
  request: ApiRequest,
  backend: PlatformApiBackend,
  options: { requestId?: string; onUnexpectedError?: (error: unknown) => void } = {},
): Promise<ApiResult> {
  const handler = HANDLERS[request.operation];
  if (!handler) return errorResult(new ValidationError(`the API function does not serve operation "${request.operation}"`));
  try {
    return { statusCode: 200, body: await handler(request, backend) };
  } catch (error) {
    const result = errorResult(error, options.requestId);
    if (result.statusCode >= 500) options.onUnexpectedError?.(error);
    return result;
  }
}

interface ApprovalLike {
  readonly status: 'Pending' | 'Approved' | 'Rejected';
  readonly taskToken: string;
  readonly [key: string]: unknown;
}

/**
 * Records the decision in the registry, then answers the waiting run with the approval's task
 * token. A retry after the registry recorded the decision but the answer failed resends it;
 * a different decision on an already decided version is refused by the registry (409).
 */
async function approve({ params, body, actor }: ApiRequest, backend: PlatformApiBackend): Promise<unknown> {
  const modelName = requiredParam(params, 'name');
  const version = versionParam(params);
  const { approved = true, reason } = bodyObject(body) as { approved?: boolean; reason?: string };
  const wanted = approved ? 'Approved' : 'Rejected';
  const current = (await backend.registry('getApproval', { modelName, version })) as ApprovalLike;
  const decided =
    current.status === wanted
      ? { approval: current, version: await backend.registry('getVersion', { modelName, version }) }
      : ((await backend.registry('decideApproval', { modelName, version, approved, actor, reason })) as {
          approval: ApprovalLike;
          version: unknown;
        });
  const token = decided.approval.taskToken;
  if (approved) {
    await backend.sendTaskSuccess(token, { approved: true, modelName, version, decidedBy: actor });
  } else {
    await backend.sendTaskFailure(
      token,
      'VersionRejected',
      `version ${version} of "${modelName}" was rejected by ${actor}${reason ? `: ${reason}` : ''}`,
    );
  }
  const { taskToken: _taskToken, ...approval } = decided.approval;
  return { approval, version: decided.version };
}

function requiredParam(params: Readonly<Record<string, string>>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new ValidationError(`the path parameter "${name}" is missing`);
  return value;
}

function versionParam(params: Readonly<Record<string, string>>): number {
  const text = requiredParam(params, 'version');
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new ValidationError(`version must be a positive integer, got "${text}"`, { version: text });
  return Number(text);
}

function integerQuery(query: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const text = query[name];
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,6}$/.test(text))
    throw new ValidationError(`the query parameter ${name} must be a whole number, got "${text}"`, { [name]: text });
  return Number(text);
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** The error a backend raises when Step Functions no longer waits for a token. */
export function staleTaskToken(cause: string): ConflictError {
  return new ConflictError(`the pipeline run no longer waits for this decision (${cause})`);
}

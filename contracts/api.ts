/**
 * The platform API's contract, shared by the API Gateway construct, the API function, the
 * local API server and the OpenAPI export: every route (method, path, who serves it, which
 * body schema), the request-body JSON schemas, and the error body. The schemas use only
 * keywords that mean the same in JSON Schema draft 4 (API Gateway models) and draft 7 (ajv).
 */

import { BATCH_FORMATS, BATCH_LIMITS, BATCH_OUTPUT_URI_PATTERN } from './batch-inference';
import { MAX_MODEL_NAME_LENGTH, MAX_ROWS_PER_REQUEST, RESOURCE_NAME_PATTERN, S3_URI_PATTERN } from './limits';
import type { ApprovalRecord, ModelRecord, Page, VersionRecord } from './registry';
import { PIPELINE_HYPERPARAMETER_COUNT, RESERVED_HYPERPARAMETER_PATTERN, SAGEMAKER_HYPERPARAMETER_LIMITS } from './training-job';

/**
 * Who answers a route: a direct Step Functions integration (StartExecution of the model's training
 * or batch inference pipeline), the API function, or the model's predict target.
 */
export type RouteTarget = 'startExecution' | 'startBatch' | 'apiFunction' | 'predict';

export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  /** Path template; `{name}` is a model name, `{version}` a version number, `{id}` the URL-encoded execution ARN. */
  readonly path: string;
  /** Stable operation name (OpenAPI operationId, API Gateway method name, router key). */
  readonly operation: string;
  readonly summary: string;
  readonly target: RouteTarget;
  /** Name of the request-body schema in requestBodySchemas; absent for GET. */
  readonly bodySchema?: BodySchemaName;
  /** Query-string parameters the route reads. */
  readonly query?: readonly string[];
}

export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/pipelines/training',
    operation: 'startTraining',
    summary: "Starts the model's training pipeline; returns the execution ARN.",
    target: 'startExecution',
    bodySchema: 'TrainingRequest',
  },
  {
    method: 'POST',
    path: '/pipelines/batch',
    operation: 'startBatch',
    summary:
      "Starts the model's batch inference pipeline over the input objects; returns the execution ARN. The scored objects and _manifest.json (counts, failures, drift, cost) go under outputUri.",
    target: 'startBatch',
    bodySchema: 'BatchRequest',
  },
  {
    method: 'GET',
    path: '/pipelines/executions/{id}',
    operation: 'getExecution',
    summary:
      'Status, current state, states entered so far and failure cause of a pipeline execution ({id}: the URL-encoded execution ARN).',
    target: 'apiFunction',
  },
  {
    method: 'POST',
    path: '/pipelines/executions/{id}/redrive',
    operation: 'redriveExecution',
    summary:
      'Redrives a failed, aborted or timed-out pipeline run (Step Functions RedriveExecution): it resumes where it failed, without validating or training again; 409 with the reason when it cannot be redriven.',
    target: 'apiFunction',
  },
  {
    method: 'GET',
    path: '/models',
    operation: 'listModels',
    summary: 'The registered models.',
    target: 'apiFunction',
    query: ['limit', 'cursor'],
  },
  {
    method: 'GET',
    path: '/models/{name}',
    operation: 'getModel',
    summary: "A model's pointers (latest, production, staging).",
    target: 'apiFunction',
  },
  {
    method: 'GET',
    path: '/models/{name}/versions',
    operation: 'listVersions',
    summary: "A model's versions, newest first.",
    target: 'apiFunction',
    query: ['stage', 'limit', 'cursor'],
  },
  { method: 'GET', path: '/models/{name}/versions/{version}', operation: 'getVersion', summary: 'One version.', target: 'apiFunction' },
  {
    method: 'GET',
    path: '/models/{name}/versions/{version}/card',
    operation: 'getModelCard',
    summary:
      "The version's model card (JSON and Markdown) from the registry, the run's reports and the configuration; kept in the artifacts bucket.",
    target: 'apiFunction',
  },
  {
    method: 'POST',
    path: '/models/{name}/versions/{version}/approve',
    operation: 'approveVersion',
    summary: 'Approves (or rejects) a version awaiting approval and resumes its pipeline run.',
    target: 'apiFunction',
    bodySchema: 'ApproveRequest',
  },
  {
    method: 'POST',
    path: '/models/{name}/versions/{version}/promote',
    operation: 'promoteVersion',
    summary: 'Makes a version the production version; the former one becomes the rollback target.',
    target: 'apiFunction',
    bodySchema: 'PromoteRequest',
  },
  {
    method: 'POST',
    path: '/models/{name}/versions/{version}/archive',
    operation: 'archiveVersion',
    summary: 'Archives a version that is not in production.',
    target: 'apiFunction',
    bodySchema: 'ArchiveRequest',
  },
  {
    method: 'POST',
    path: '/models/{name}/rollback',
    operation: 'rollbackModel',
    summary: 'Restores the previous production version.',
    target: 'apiFunction',
    bodySchema: 'RollbackRequest',
  },
  {
    method: 'POST',
    path: '/models/{name}/predict',
    operation: 'predict',
    summary: "Scores rows with the model's production version (serverless alias or SageMaker endpoint).",
    target: 'predict',
    bodySchema: 'PredictRequest',
  },
];

/** A JSON schema object (the subset both draft 4 and draft 7 read alike). */
export interface JsonSchemaObject {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JsonSchemaObject>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchemaObject;
  readonly patternProperties?: Readonly<Record<string, JsonSchemaObject>>;
  /** Matches what the schema does not; `{ not: {} }` matches nothing (draft 4 has no `false` schema). */
  readonly not?: JsonSchemaObject;
  readonly items?: JsonSchemaObject;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
  readonly minProperties?: number;
  readonly maxProperties?: number;
}

/** Model names, as the configuration and the registry define them (JSON schema form of RESOURCE_NAME_PATTERN). */
export const MODEL_NAME_PATTERN = RESOURCE_NAME_PATTERN.source;
const S3_URI_PATTERN_TEXT = S3_URI_PATTERN.source.replaceAll('\\/', '/');

const reason: JsonSchemaObject = { type: 'string', maxLength: 1024, description: 'Why; kept in the audit trail.' };
const idempotencyKey: JsonSchemaObject = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z0-9_.:@/-]+$',
  description: 'A repeated request with the same key returns the first result instead of acting twice.',
};
const versionNumber: JsonSchemaObject = { type: 'integer', minimum: 1 };

/**
 * The training request. `models` restricts `model` to the models with a deployed pipeline;
 * with none (no pipeline deployed yet) only the name's shape is checked.
 */
export function trainingRequestSchema(models: readonly string[]): JsonSchemaObject {
  return {
    type: 'object',
    description: 'Execution input of the training pipeline (statemachines/training.asl.json).',
    properties: {
      model: {
        type: 'string',
        minLength: 1,
        maxLength: MAX_MODEL_NAME_LENGTH,
        pattern: MODEL_NAME_PATTERN,
        ...(models.length > 0 ? { enum: [...models] } : {}),
        description: 'The model whose pipeline runs.',
      },
      datasetUri: {
        type: 'string',
        maxLength: 1024,
        pattern: S3_URI_PATTERN_TEXT,
        description: 'The training data: s3://bucket/key, or s3://bucket/prefix/ (ending in /) for a sharded dataset.',
      },
      holdoutUri: {
        type: 'string',
        maxLength: 1024,
        pattern: S3_URI_PATTERN_TEXT,
        description: 'Evaluation data; defaults to the holdout split off datasetUri (rows the model never trains on).',
      },
      delimiter: {
        type: 'string',
        minLength: 1,
        maxLength: 1,
        description: 'Field delimiter of the run\'s CSV data (e.g. ";" or a tab); defaults to the model\'s dataset.delimiter, else ",".',
      },
      hyperparameters: {
        type: 'object',
        // The pipeline adds its own (sagemaker_program, sagemaker_submit_directory) within SageMaker's 100.
        maxProperties: SAGEMAKER_HYPERPARAMETER_LIMITS.entries - PIPELINE_HYPERPARAMETER_COUNT,
        // Draft 4 (API Gateway's request validation) has no propertyNames: names are refused by pattern.
        patternProperties: {
          [RESERVED_HYPERPARAMETER_PATTERN.source]: {
            not: {},
            description: 'Reserved: the pipeline chooses the training code (sagemaker_*) and the tuner sets _tuning_*.',
          },
          [`^.{${SAGEMAKER_HYPERPARAMETER_LIMITS.keyLength + 1},}$`]: { not: {}, description: 'Names are at most 256 characters.' },
        },
        additionalProperties: { type: 'string', maxLength: SAGEMAKER_HYPERPARAMETER_LIMITS.valueLength },
        description:
          'Passed to the training job as SageMaker HyperParameters (string values). Names starting sagemaker_ or _tuning_ are refused: the pipeline chooses the training code.',
      },
      requireApproval: {
        type: 'boolean',
        description:
          'true: wait for POST .../approve before deploying. A model whose approval policy is required waits whatever this says; a run cannot lower the policy.',
      },
      codeCommit: { type: 'string', minLength: 1, maxLength: 64, description: 'Commit of the training code, kept in the lineage.' },
    },
    required: ['model', 'datasetUri'],
    additionalProperties: false,
  };
}

/**
 * The batch inference request (contracts/batch-inference.ts batchRequestSchema in JSON schema form).
 * `models` restricts `model` to the models with a deployed batch pipeline.
 */
export function batchRequestJsonSchema(models: readonly string[]): JsonSchemaObject {
  return {
    type: 'object',
    description: 'Execution input of the batch inference pipeline (statemachines/batch-inference.asl.json).',
    properties: {
      model: {
        type: 'string',
        minLength: 1,
        maxLength: MAX_MODEL_NAME_LENGTH,
        pattern: MODEL_NAME_PATTERN,
        ...(models.length > 0 ? { enum: [...models] } : {}),
        description: 'The model that scores the rows.',
      },
      inputUri: {
        type: 'string',
        maxLength: BATCH_LIMITS.uriLength,
        pattern: S3_URI_PATTERN_TEXT,
        description:
          "One object (s3://bucket/key) or every object under a prefix (s3://bucket/prefix/), in the datasets bucket under the model's name.",
      },
      outputUri: {
        type: 'string',
        maxLength: BATCH_LIMITS.uriLength,
        pattern: BATCH_OUTPUT_URI_PATTERN.source.replaceAll('\\/', '/'),
        description: 'Where the scored objects and _manifest.json go: a prefix ending in /, in the artifacts bucket under batch/<model>/.',
      },
      version: { ...versionNumber, description: 'The version to score with; default: the production version.' },
      format: { type: 'string', enum: [...BATCH_FORMATS], description: 'Format of the scored objects; default csv.' },
      rowIdColumn: {
        type: 'string',
        minLength: 1,
        maxLength: BATCH_LIMITS.columnNameLength,
        description: "The input column carrying each row's id; default: the row's number in its object.",
      },
      maxFailedPercent: {
        type: 'number',
        minimum: 0,
        maximum: 100,
        description: 'Share of rows (percent) that may fail (unreadable or refused by the schema) before the run fails; default 1.',
      },
    },
    required: ['model', 'inputUri', 'outputUri'],
    additionalProperties: false,
  };
}

export const requestBodySchemas = {
  TrainingRequest: trainingRequestSchema([]),
  BatchRequest: batchRequestJsonSchema([]),
  ApproveRequest: {
    type: 'object',
    properties: {
      approved: { type: 'boolean', description: 'false rejects the version (it becomes Rejected and the run fails); default true.' },
      reason,
    },
    additionalProperties: false,
  },
  PromoteRequest: {
    type: 'object',
    properties: {
      reason,
      idempotencyKey,
      expectedProductionVersion: {
        type: ['integer', 'null'],
        minimum: 1,
        description:
          'Promote only if this is still the production version (null: only if there is none). Required unless force is true, so two promotions cannot both win.',
      },
      force: {
        type: 'boolean',
        description: 'true: promote whatever the production version is by then (opting out of the check above).',
      },
    },
    additionalProperties: false,
  },
  ArchiveRequest: { type: 'object', properties: { reason, idempotencyKey }, additionalProperties: false },
  RollbackRequest: {
    type: 'object',
    properties: {
      reason,
      idempotencyKey,
      fromVersion: { ...versionNumber, description: 'Roll back only if this is still the production version.' },
    },
    additionalProperties: false,
  },
  PredictRequest: {
    type: 'object',
    properties: {
      instances: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_ROWS_PER_REQUEST,
        items: { type: ['object', 'array'] },
        description: 'Rows: objects keyed by feature name, or arrays in feature order.',
      },
    },
    required: ['instances'],
    additionalProperties: false,
  },
} as const satisfies Record<string, JsonSchemaObject>;

export type BodySchemaName = keyof typeof requestBodySchemas;

/**
 * The body schema of a route, with the training and batch requests narrowed to the models whose
 * pipeline is deployed (`batchModels` defaults to `trainableModels`: the platform deploys both per model).
 */
export function bodySchemaFor(
  name: BodySchemaName,
  trainableModels: readonly string[],
  batchModels: readonly string[] = trainableModels,
): JsonSchemaObject {
  if (name === 'TrainingRequest') return trainingRequestSchema(trainableModels);
  if (name === 'BatchRequest') return batchRequestJsonSchema(batchModels);
  return requestBodySchemas[name];
}

/** Every error the API returns, whichever component produced it. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: Record<string, unknown> };
}

export const errorBodySchema: JsonSchemaObject = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: {
          type: 'string',
          description: 'ValidationFailed, Forbidden, NotFound, Conflict, InvalidTransition, NotRedrivable, Throttled, InternalError',
        },
        message: { type: 'string' },
        details: { type: 'object' },
      },
      required: ['code', 'message', 'details'],
    },
  },
  required: ['error'],
};

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ApiErrorBody {
  return { error: { code, message, details } };
}

/** The message of a body that fails its schema, the same from API Gateway and from the local server. */
export const INVALID_BODY_MESSAGE = 'the request body does not match the schema';
/** A route that does not exist, or (on API Gateway, which cannot tell them apart) an unsigned request. */
export const NO_ROUTE_MESSAGE = 'no route matches the request, or the request is not signed (the API uses IAM SigV4 authentication)';
/** POST /pipelines/training when no training pipeline is deployed. */
export const NO_PIPELINE_MESSAGE = 'no training pipeline is deployed for the requested model';
/** POST /models/{name}/predict for a model the platform does not serve. */
export const NOT_SERVED_MESSAGE = 'the platform serves no model of that name';

/** Finds the route of a request path; parameters come back as they appear in the path (not decoded). */
export function matchRoute(
  method: string,
  path: string,
  routes: readonly ApiRoute[] = API_ROUTES,
): { route: ApiRoute; params: Record<string, string> } | { route: undefined; methodMismatch: boolean } {
  const segments = path.replace(/\/+$/, '').split('/');
  let methodMismatch = false;
  for (const route of routes) {
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = template.every((part, index) => {
      const segment = segments[index]!;
      if (part.startsWith('{') && part.endsWith('}')) {
        if (segment === '') return false;
        params[part.slice(1, -1)] = segment;
        return true;
      }
      return part === segment;
    });
    if (!matches) continue;
    if (route.method !== method) {
      methodMismatch = true;
      continue;
    }
    return { route, params };
  }
  return { route: undefined, methodMismatch };
}

/** GET /pipelines/executions/{id}: a pipeline run as the API reports it. */
export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;
export type ExecutionStatusName = (typeof EXECUTION_STATUSES)[number];

export interface StateProgress {
  readonly name: string;
  readonly enteredAt: string;
  readonly exitedAt?: string;
}

export interface ExecutionStatus {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatusName | string;
  readonly startDate: string;
  readonly stopDate?: string;
  /** The state the run is in (running), or the last one it entered (stopped). */
  readonly currentState?: string;
  /** States entered, oldest first (the latest MAX_REPORTED_STATES when the history is longer). */
  readonly states: readonly StateProgress[];
  /** A stopped run's error name (DatasetInvalid, ModelRejected, States.TaskFailed, …). */
  readonly error?: string;
  /**
   * Why it failed, in words: a rejected dataset's failed rules with counts and examples, the
   * gate's reasons, the alarm that rolled a deployment back; a Lambda error's message without
   * the runtime's JSON and stack trace.
   */
  readonly cause?: string;
}

/** POST /pipelines/training and POST /pipelines/batch: the started run (Step Functions StartExecution's answer). */
export interface StartTrainingResponse {
  readonly executionArn: string;
  /** Epoch seconds, as Step Functions reports it. */
  readonly startDate: number;
}

/** POST /pipelines/executions/{id}/redrive: the redriven run (Step Functions RedriveExecution's answer and where it goes on). */
export interface RedriveResponse {
  readonly executionArn: string;
  /** Epoch seconds, as Step Functions reports it. */
  readonly redriveDate: number;
  /** The run's redrives so far, this one included. */
  readonly redriveCount: number;
  /** The state Step Functions restarts (the run's last unsuccessful state). */
  readonly restarts: string;
  /** The state that failed, for a run that failed after its retries. */
  readonly failedState?: string;
  /** Where the run goes on from there. */
  readonly resumesAt: string;
}

/** GET /models and GET /models/{name}/versions. */
export type ModelsPage = Page<ModelRecord>;
export type VersionsPage = Page<VersionRecord>;

/** POST …/promote, …/archive and /models/{name}/rollback; `changed` is false when the version already was there. */
export interface StageChangeResponse {
  readonly changed: boolean;
  readonly version: VersionRecord;
  readonly model: ModelRecord;
}

/** POST …/approve: the decided approval and the version it concerns. */
export interface ApproveResponse {
  readonly approval: ApprovalRecord;
  readonly version: VersionRecord;
}

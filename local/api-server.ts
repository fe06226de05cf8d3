/**
 * The local API server: the platform API's routes, methods, status codes and error bodies on
 * 127.0.0.1 over node:http, for the offline runtime (`npm start`) and the CLI's tests. Bodies
 * are checked against the same JSON schemas as API Gateway's models (contracts/api.ts);
 * the API function's routes run the API function's own router; training and prediction go to
 * the backend, which the offline runtime builds from the real handlers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import {
  type ApiRoute,
  type BodySchemaName,
  bodySchemaFor,
  errorBody,
  INVALID_BODY_MESSAGE,
  matchRoute,
  NO_PIPELINE_MESSAGE,
  NO_ROUTE_MESSAGE,
  NOT_SERVED_MESSAGE,
} from '../contracts/api';
import type { BatchRequest } from '../contracts/batch-inference';
import { API_GATEWAY_MAX_PAYLOAD_BYTES, PROXY_ENVELOPE_BYTES, SYNC_INVOKE_MAX_PAYLOAD_BYTES } from '../contracts/limits';
import { type ApiResult, errorResult, handleApiRequest, type PlatformApiBackend } from '../lambdas/api/api';

/** The execution input POST /pipelines/training passes on (already schema-checked). */
export interface TrainingInput {
  readonly model: string;
  readonly datasetUri: string;
  readonly holdoutUri?: string;
  readonly delimiter?: string;
  readonly hyperparameters?: Record<string, string>;
  readonly requireApproval?: boolean;
  readonly codeCommit?: string;
}

/** What the offline runtime provides behind the API. */
export interface LocalPlatformBackend extends PlatformApiBackend {
  /** Models with a training pipeline; POST /pipelines/training accepts only these (404 while there are none). */
  readonly trainableModels: readonly string[];
  /** Models served for prediction; other names get 404. */
  readonly servedModels: readonly string[];
  /** Starts a pipeline run; `startDate` in epoch seconds, as Step Functions returns it. */
  startTraining(model: string, input: TrainingInput): Promise<{ executionArn: string; startDate: number }>;
  /** Starts a batch inference run of the model's batch pipeline (statemachines/batch-inference.asl.json). */
  startBatch(model: string, input: BatchRequest): Promise<{ executionArn: string; startDate: number }>;
  /** The predict function's response for `{ instances }` (throws the platform's typed errors). */
  predict(model: string, body: { instances: unknown[] }): Promise<unknown>;
  /**
   * Offline only: stores an uploaded dataset file in the local datasets bucket and returns its
   * s3:// URI (`PUT /local/datasets/{model}/{file}`, what `mlops train --data ./file.csv` sends).
   */
  uploadDataset?(model: string, fileName: string, body: Uint8Array): Promise<{ datasetUri: string }>;
}

export interface LocalApiServerOptions {
  /** Recorded as the actor of stage changes and approvals. @default 'local-user' */
  readonly actor?: string;
  /** Where unexpected errors are reported. @default console.error */
  readonly onError?: (error: unknown) => void;
}

/** The local-only upload route (no API Gateway counterpart: on AWS datasets are uploaded to S3 directly). */
const UPLOAD_ROUTE = /^\/local\/datasets\/([^/]+)\/([^/]+)$/;
/** A dataset upload may be this large (S3 takes 5 GB in one PUT; the local server holds it in memory). */
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export function createApiServer(backend: LocalPlatformBackend, options: LocalApiServerOptions = {}): Server {
  const validators = new SchemaValidators();
  const actor = options.actor ?? 'local-user';
  const onError = options.onError ?? ((error: unknown) => console.error('local API: request failed', error));
  return createServer((request, response) => {
    serve(request, backend, validators, actor, onError)
      .catch((error: unknown) => {
        onError(error);
        return errorResult(error);
      })
      .then((result) => send(response, result));
  });
}

/** Starts the server on 127.0.0.1 (a free port unless one is given); `url` ends in /. */
export async function startApiServer(
  backend: LocalPlatformBackend,
  options: LocalApiServerOptions & { readonly port?: number } = {},
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createApiServer(backend, options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

async function serve(
  request: IncomingMessage,
  backend: LocalPlatformBackend,
  validators: SchemaValidators,
  actor: string,
  onError: (error: unknown) => void,
): Promise<ApiResult> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const upload = UPLOAD_ROUTE.exec(url.pathname);
  if (upload && request.method === 'PUT' && backend.uploadDataset) return uploadDataset(request, backend, upload[1]!, upload[2]!);
  const matched = matchRoute(request.method ?? 'GET', url.pathname);
  if (!matched.route) return { statusCode: 404, body: errorBody('NotFound', NO_ROUTE_MESSAGE) };
  const { route } = matched;
  let params: Record<string, string>;
  try {
    params = Object.fromEntries(Object.entries(matched.params).map(([name, value]) => [name, decodeURIComponent(value)]));
  } catch {
    // API Gateway answers a malformed %-escape in the path with 400 before any integration runs.
    return { statusCode: 400, body: errorBody('ValidationFailed', `the path ${url.pathname} has a malformed %-escape`) };
  }
  const bytes = await readBody(request, API_GATEWAY_MAX_PAYLOAD_BYTES);
  if (bytes === undefined) return { statusCode: 413, body: errorBody('ValidationFailed', 'Request Too Long') };
  const text = bytes.toString('utf8');
  // The predict function is invoked synchronously with the body as a JSON string in a proxy event.
  if (route.target === 'predict' && escapedBytes(text) + PROXY_ENVELOPE_BYTES > SYNC_INVOKE_MAX_PAYLOAD_BYTES) {
    return {
      statusCode: 413,
      body: errorBody(
        'ValidationFailed',
        `the request takes ${escapedBytes(text)} bytes in a Lambda proxy event, over the ${SYNC_INVOKE_MAX_PAYLOAD_BYTES - PROXY_ENVELOPE_BYTES} a synchronous invocation can carry; send fewer rows per request`,
      ),
    };
  }

  // API Gateway answers these from a mock before any body validation.
  if ((route.target === 'startExecution' || route.target === 'startBatch') && backend.trainableModels.length === 0) {
    return { statusCode: 404, body: errorBody('NotFound', NO_PIPELINE_MESSAGE) };
  }
  if (route.target === 'predict' && !backend.servedModels.includes(params.name!)) {
    return { statusCode: 404, body: errorBody('NotFound', NOT_SERVED_MESSAGE) };
  }
  const body = route.bodySchema ? validators.check(route, text, backend.trainableModels) : { ok: true as const, value: undefined };
  if (!body.ok) return { statusCode: 400, body: errorBody('ValidationFailed', INVALID_BODY_MESSAGE, { validation: body.problem }) };

  try {
    switch (route.target) {
      case 'startExecution': {
        const input = body.value as TrainingInput;
        return { statusCode: 200, body: await backend.startTraining(input.model, input) };
      }
      case 'startBatch': {
        const input = body.value as BatchRequest;
        return { statusCode: 200, body: await backend.startBatch(input.model, input) };
      }
      case 'predict':
        return { statusCode: 200, body: await backend.predict(params.name!, body.value as { instances: unknown[] }) };
      case 'apiFunction':
        return await handleApiRequest(
          { operation: route.operation, params, query: Object.fromEntries(url.searchParams), body: body.value, actor },
          backend,
          { onUnexpectedError: onError },
        );
    }
  } catch (error) {
    const result = errorResult(error);
    if (result.statusCode >= 500) onError(error);
    return result;
  }
}

/** Compiled body schemas; the training schema is recompiled when the set of trainable models changes. */
class SchemaValidators {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  check(route: ApiRoute, text: string, trainable: readonly string[]): { ok: true; value: unknown } | { ok: false; problem: string } {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { ok: false, problem: `the body is not JSON: ${(error as Error).message}` };
    }
    const validate = this.validator(route.bodySchema!, trainable);
    if (validate(value)) return { ok: true, value };
    // API Gateway's validator names the allowed values of an enum; so does this one.
    const problem = (validate.errors ?? [])
      .map((error) => {
        const allowed = error.keyword === 'enum' ? ` (${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
        return `${error.instancePath || '(body)'} ${error.message ?? 'is invalid'}${allowed}`;
      })
      .join('; ');
    return { ok: false, problem };
  }

  private validator(name: BodySchemaName, trainable: readonly string[]): ValidateFunction {
    const key = name === 'TrainingRequest' || name === 'BatchRequest' ? `${name}:${[...trainable].sort().join(',')}` : name;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(bodySchemaFor(name, [...trainable].sort()));
      this.compiled.set(key, validate);
    }
    return validate;
  }
}

/** The request body; undefined when it exceeds `limit` bytes. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Bytes a text takes as a JSON string (quotes, backslashes and control characters escaped). */
function escapedBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

async function uploadDataset(request: IncomingMessage, backend: LocalPlatformBackend, model: string, file: string): Promise<ApiResult> {
  const modelName = decodeURIComponent(model);
  const fileName = decodeURIComponent(file);
  if (!backend.trainableModels.includes(modelName)) {
    return { statusCode: 404, body: errorBody('NotFound', NO_PIPELINE_MESSAGE, { model: modelName }) };
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(fileName)) {
    return {
      statusCode: 400,
      body: errorBody('ValidationFailed', 'the file name may hold only letters, digits, ".", "_" and "-"', { file: fileName }),
    };
  }
  const body = await readBody(request, MAX_UPLOAD_BYTES);
  if (body === undefined) return { statusCode: 413, body: errorBody('ValidationFailed', 'the upload is over 2 GB') };
  if (body.length === 0) return { statusCode: 400, body: errorBody('ValidationFailed', `${fileName} is empty`) };
  return { statusCode: 200, body: await backend.uploadDataset!(modelName, fileName, body) };
}

function send(response: ServerResponse, result: ApiResult): void {
  const text = JSON.stringify(result.body);
  response.writeHead(result.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

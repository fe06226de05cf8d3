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
  /** The predict function's response for `{ instances }` (throws the platform's typed errors). */
  predict(model: string, body: { instances: unknown[] }): Promise<unknown>;
}

export interface LocalApiServerOptions {
  /** Recorded as the actor of stage changes and approvals. @default 'local-user' */
  readonly actor?: string;
  /** Where unexpected errors are reported. @default console.error */
  readonly onError?: (error: unknown) => void;
}

/** API Gateway's payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

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
  const matched = matchRoute(request.method ?? 'GET', url.pathname);
  if (!matched.route) return { statusCode: 404, body: errorBody('NotFound', NO_ROUTE_MESSAGE) };
  const { route } = matched;
  const params = Object.fromEntries(Object.entries(matched.params).map(([name, value]) => [name, decodeURIComponent(value)]));
  const text = await readBody(request);
  if (text === undefined) return { statusCode: 413, body: errorBody('ValidationFailed', 'Request Too Long') };

  // API Gateway answers these from a mock before any body validation.
  if (route.target === 'startExecution' && backend.trainableModels.length === 0) {
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
    const problem = (validate.errors ?? []).map((error) => `${error.instancePath || '(body)'} ${error.message ?? 'is invalid'}`).join('; ');
    return { ok: false, problem };
  }

  private validator(name: BodySchemaName, trainable: readonly string[]): ValidateFunction {
    const key = name === 'TrainingRequest' ? `${name}:${[...trainable].sort().join(',')}` : name;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(bodySchemaFor(name, [...trainable].sort()));
      this.compiled.set(key, validate);
    }
    return validate;
  }
}

/** The request body as text; undefined when it exceeds the payload limit. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, result: ApiResult): void {
  const text = JSON.stringify(result.body);
  response.writeHead(result.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/**
 * SageMaker's inference container contract over node:http. GET /ping answers 200 once the
 * container can serve (its model loaded, or the bootstrap model) and 503 while loading or after a
 * failed load; POST /invocations answers the serving contract; any other route is 404 or 405.
 * Every answer but a successful one carries the API's error body, and a fault never shows its
 * stack to the caller (it goes to the log, with the request id the body names).
 *
 * Capture: SageMaker data capture, enabled in the endpoint configuration, records request and
 * response bodies itself, so the container writes no capture. check-drift reads a captured
 * response as `{ predictions: [...] }` with each prediction's `label` or `value`: the body written
 * here is exactly PredictResponse, as `application/json`, the content type the endpoint
 * configuration tells capture to keep as JSON text.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { PlatformError } from '../../lambdas/shared/errors';
import { MethodNotAllowedError, RouteNotFoundError } from './errors';
import { checkContentType, checkDeclaredLength, instancesOf, JSON_CONTENT_TYPE, readBody } from './invocation-request';
import type { LogFields, Logger } from './log';
import type { ServedModel } from './served-model';

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** Added to the request's log line. */
  readonly log?: LogFields;
}

export function createRequestHandler(model: ServedModel, log: Logger): RequestListener {
  return (request, response) => {
    const started = performance.now();
    const requestId = randomUUID();
    const path = (request.url ?? '/').split('?')[0]!;
    route(model, request, path)
      .catch((error: unknown) => errorReply(error, requestId))
      .then((reply) => {
        send(request, response, reply);
        // SageMaker pings every few seconds; a line per ping would bury the invocations (status changes are logged).
        if (path === '/ping' && reply.status === 200) return;
        const write = reply.status === 500 ? log.error : log.info;
        write('request', {
          requestId,
          method: request.method,
          path,
          status: reply.status,
          latencyMs: Math.round((performance.now() - started) * 100) / 100,
          ...reply.log,
        });
      });
  };
}

async function route(model: ServedModel, request: IncomingMessage, path: string): Promise<Reply> {
  if (path === '/ping') {
    allowOnly(request, ['GET', 'HEAD']);
    const status = model.status;
    return { status: status === 'ready' || status === 'no-model' ? 200 : 503, body: { status } };
  }
  if (path === '/invocations') {
    allowOnly(request, ['POST']);
    return invoke(model, request);
  }
  throw new RouteNotFoundError(`no route ${request.method} ${path}; the container serves GET /ping and POST /invocations`);
}

async function invoke(model: ServedModel, request: IncomingMessage): Promise<Reply> {
  checkContentType(request.headers['content-type']);
  checkDeclaredLength(request.headers['content-length']);
  const body = await readBody(request);
  const response = await model.predict(instancesOf(body));
  return { status: 200, body: response, log: { requestBytes: body.length, rows: response.predictions.length } };
}

function allowOnly(request: IncomingMessage, methods: readonly string[]): void {
  if (!methods.includes(request.method ?? '')) {
    throw new MethodNotAllowedError(`${request.url} takes ${methods.join(' or ')}, got ${request.method}`, methods);
  }
}

function errorReply(error: unknown, requestId: string): Reply {
  if (error instanceof PlatformError) {
    return {
      status: error.httpStatus,
      body: error.toJSON(),
      headers: error instanceof MethodNotAllowedError ? { allow: error.allowed.join(', ') } : {},
      log: { errorCode: error.code },
    };
  }
  const fault = error instanceof Error ? error : new Error(String(error));
  return {
    status: 500,
    body: { error: { code: 'InternalError', message: 'prediction failed', details: { requestId } } },
    log: { errorCode: 'InternalError', fault: { name: fault.name, message: fault.message, stack: fault.stack } },
  };
}

function send(request: IncomingMessage, response: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  response.end(request.method === 'HEAD' ? undefined : text);
}

/**
 * The serving container as SageMaker runs it: `server.ts serve` started as a process, serving
 * the model the demo trains from a model directory laid out as SageMaker extracts model.tar.gz,
 * called over HTTP. Its answers are compared with the predict Lambda's for the same request
 * bodies (same serving core, same contract); the bootstrap mode, a model that fails to load,
 * settings it refuses, the HTTP contract's edges, its logs and SIGTERM are checked on their own.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_INVOCATION_BODY_BYTES } from '../../containers/onnx-serving/invocation-request';
import { NO_MODEL_MESSAGE } from '../../containers/onnx-serving/served-model';
import type { VersionRecord } from '../../contracts/registry';
import { parseRecord } from '../../lambdas/check-drift/capture';
import { type ApiResponse, createPredictHandler } from '../../lambdas/predict/predict';
import { OnnxScorer } from '../../lambdas/shared/serving/onnx-scorer';
import { Predictor } from '../../lambdas/shared/serving/predictor';
import { generateChurn } from '../../local/sample-data';
import { DEMO_SCHEMA, type ServingProcess, startServing, stopServing, trainDemoModel, waitUntilHealthy } from './serving-process';

const MODEL_VERSION = 7;
const root = mkdtempSync(path.join(tmpdir(), 'onnx-serving-'));
/** Customers as clients send them: features plus the id, target and sensitive columns the schema ignores. */
const customers = generateChurn({ rows: 200, seed: 11, firstId: 500_000 });
const featureNames = DEMO_SCHEMA.features.map((feature) => feature.name);

let serving: ServingProcess;
let bootstrap: ServingProcess;
let broken: ServingProcess;
let lambda: ReturnType<typeof createPredictHandler>;

beforeAll(async () => {
  // The reference Lambda handler publishes metrics after each request; nothing reads them here.
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  const modelDirectory = path.join(root, 'model');
  const modelBytes = await trainDemoModel(modelDirectory);
  const empty = path.join(root, 'empty');
  const corrupt = path.join(root, 'corrupt');
  mkdirSync(empty);
  mkdirSync(corrupt);
  writeFileSync(path.join(corrupt, 'model.onnx'), 'not an ONNX model');
  const schema = JSON.stringify(DEMO_SCHEMA);
  [serving, bootstrap, broken] = await Promise.all([
    startServing({ SM_MODEL_DIR: modelDirectory, MODEL_SCHEMA: schema, MODEL_VERSION: String(MODEL_VERSION) }),
    startServing({ SM_MODEL_DIR: empty, MODEL_SCHEMA: schema }),
    startServing({ SM_MODEL_DIR: corrupt, MODEL_SCHEMA: schema, MODEL_VERSION: '8' }),
  ]);

  // The predict Lambda's handler over the same model bytes, pinned to the same version.
  const version = { modelName: 'churn', version: MODEL_VERSION } as VersionRecord;
  const registry = { getModel: async () => undefined, getVersion: async () => version };
  const predictor = new Predictor({
    schema: DEMO_SCHEMA,
    registry,
    pinnedVersion: MODEL_VERSION,
    loadScorer: async () => OnnxScorer.create(modelBytes),
  });
  lambda = createPredictHandler({
    predictor,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'predict' }),
  });
  await waitUntilHealthy(serving.url);
});

afterAll(async () => {
  await Promise.all([stopServing(serving), stopServing(bootstrap), stopServing(broken)]);
  rmSync(root, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

interface Answer {
  readonly status: number;
  readonly body: any;
}

async function invoke(
  url: string,
  body: string | object,
  contentType = 'application/json',
): Promise<Answer & { contentType: string | null }> {
  const response = await fetch(`${url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), contentType: response.headers.get('content-type') };
}

/** What the predict Lambda answers behind API Gateway for the same body. */
async function lambdaAnswer(body: string | object): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const result = (await lambda({ body: text, requestContext: { requestId: 'api-1' } }, { awsRequestId: 'api-1' })) as ApiResponse;
  return { status: result.statusCode, body: JSON.parse(result.body) };
}

/** A POST with a body of `bytes` spaces, declared up front or sent chunked. */
function postOversized(url: string, bytes: number, declared: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}/invocations`,
      { method: 'POST', headers: { 'content-type': 'application/json', ...(declared ? { 'content-length': String(bytes) } : {}) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
      },
    );
    request.on('error', reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const write = (): void => {
      while (sent < bytes) {
        const size = Math.min(chunk.length, bytes - sent);
        sent += size;
        if (!request.write(chunk.subarray(0, size))) {
          request.once('drain', write);
          return;
        }
      }
      request.end();
    };
    write();
  });
}

describe('the serving container with the model the demo trains', () => {
  it('answers /ping with 200 once the model is loaded', async () => {
    const response = await fetch(`${serving.url}/ping`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
    expect(serving.logs).toContainEqual(
      expect.objectContaining({ message: 'model loaded', modelName: 'churn', modelVersion: MODEL_VERSION, features: featureNames.length }),
    );
  });

  it('answers POST /invocations exactly as the predict Lambda does for the same rows', async () => {
    const body = { instances: customers };
    const answer = await invoke(serving.url, body);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json');
    expect(answer.body).toEqual((await lambdaAnswer(body)).body);
    expect(answer.body).toMatchObject({ modelName: 'churn', modelVersion: MODEL_VERSION, labels: [0, 1] });
    expect(answer.body.predictions).toHaveLength(customers.length);
    const labels = new Set(answer.body.predictions.map((prediction: { label: number }) => prediction.label));
    expect(labels).toEqual(new Set([0, 1]));
  });

  it('takes rows as arrays in feature order, and a charset parameter on the content type', async () => {
    const asObjects = await invoke(serving.url, { instances: customers.slice(0, 20) });
    const asArrays = await invoke(
      serving.url,
      { instances: customers.slice(0, 20).map((customer) => featureNames.map((name) => customer[name as keyof typeof customer])) },
      'application/json; charset=utf-8',
    );
    expect(asArrays.status).toBe(200);
    expect(asArrays.body).toEqual(asObjects.body);
  });

  it('writes the body check-drift reads from SageMaker data capture', async () => {
    const instances = customers.slice(0, 3);
    const answer = await invoke(serving.url, { instances });
    // A capture record as SageMaker writes it: both bodies verbatim, typed JSON by the endpoint configuration.
    const record = {
      captureData: {
        endpointInput: { observedContentType: 'application/json', mode: 'INPUT', data: JSON.stringify({ instances }), encoding: 'JSON' },
        endpointOutput: { observedContentType: answer.contentType, mode: 'OUTPUT', data: JSON.stringify(answer.body), encoding: 'JSON' },
      },
      eventMetadata: { eventId: 'e-1', inferenceTime: '2026-01-05T10:00:00Z' },
    };
    expect(parseRecord(record)).toEqual({
      at: Date.parse('2026-01-05T10:00:00Z'),
      rows: instances.map((input, row) => ({ input, output: answer.body.predictions[row] })),
    });
    expect(answer.body.predictions[0]).toEqual({ label: expect.any(Number), probabilities: [expect.any(Number), expect.any(Number)] });
  });

  it.each([
    ['a body that is not JSON', '{"instances": [', /^the request body is not JSON: /],
    ['a body that is not { instances }', '[{"tenure_months": 3}]', /^the request must be \{ "instances": \[row, \.\.\.\] \}/],
    [
      'fields besides instances',
      '{"instances": [], "model": "churn"}',
      /^the request has unknown fields: model; only "instances" is accepted$/,
    ],
    ['no rows', '{"instances": []}', /^instances must hold at least one row, got \[\]$/],
  ])('refuses %s with 400 and the Lambda’s error body', async (_, body, message) => {
    const answer = await invoke(serving.url, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'ValidationFailed', message: expect.stringMatching(message) });
    expect(answer).toMatchObject(await lambdaAnswer(body));
  });

  it('names the row and column of an unknown category, as the Lambda does', async () => {
    const instances = [customers[0], { ...customers[1], contract: 'three-year' }];
    const answer = await invoke(serving.url, { instances });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe('instances[1].contract: must be one of month-to-month, one-year, two-year, got "three-year"');
    expect(answer.body.error.details.problems).toEqual([answer.body.error.message]);
    expect(answer).toMatchObject(await lambdaAnswer({ instances }));
  });

  it('refuses more rows than one request may carry', async () => {
    const instances = generateChurn({ rows: 10_001, seed: 5 });
    const answer = await invoke(serving.url, { instances });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe('instances may hold at most 10000 rows, got 10001');
    expect(answer).toMatchObject(await lambdaAnswer({ instances }));
  });

  it('refuses another content type with 415', async () => {
    const answer = await invoke(serving.url, 'tenure_months,contract\n3,one-year\n', 'text/csv');
    expect(answer.status).toBe(415);
    expect(answer.body).toEqual({
      error: {
        code: 'UnsupportedMediaType',
        message: '/invocations takes Content-Type application/json, got "text/csv"',
        details: { contentType: 'text/csv' },
      },
    });
  });

  it('refuses a body over InvokeEndpoint’s 6 MB limit with 413, whether its length is declared or it is chunked', async () => {
    for (const declared of [true, false]) {
      const answer = await postOversized(serving.url, MAX_INVOCATION_BODY_BYTES + 1, declared);
      expect(answer.status).toBe(413);
      expect(answer.body.error).toMatchObject({ code: 'PayloadTooLarge', details: { limitBytes: 6_291_456 } });
    }
    // The server is still serving.
    expect((await invoke(serving.url, { instances: customers.slice(0, 1) })).status).toBe(200);
  });

  it('answers 404 for another route and 405 for another method, naming the allowed ones', async () => {
    const unknown = await fetch(`${serving.url}/models/churn/predict`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'NotFound' } });
    const getInvocations = await fetch(`${serving.url}/invocations`);
    expect(getInvocations.status).toBe(405);
    expect(getInvocations.headers.get('allow')).toBe('POST');
    expect(await getInvocations.json()).toMatchObject({ error: { code: 'MethodNotAllowed' } });
    const postPing = await fetch(`${serving.url}/ping`, { method: 'POST' });
    expect(postPing.status).toBe(405);
    expect(postPing.headers.get('allow')).toBe('GET, HEAD');
    await postPing.arrayBuffer();
  });

  it('logs one JSON line per request with its status and latency, and nothing of the rows', async () => {
    const lines = serving.logs.filter((line) => line.message === 'request' && line.path === '/invocations');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines).toContainEqual(
      expect.objectContaining({
        method: 'POST',
        status: 200,
        rows: customers.length,
        requestBytes: expect.any(Number),
        latencyMs: expect.any(Number),
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ status: 400, errorCode: 'ValidationFailed' }));
    const logged = JSON.stringify(serving.logs);
    expect(logged).not.toContain(customers[0]!.customer_id);
    expect(logged).not.toContain('three-year');
    // Health checks are not logged one by one.
    expect(serving.logs.filter((line) => line.path === '/ping' && line.status === 200)).toEqual([]);
  });

  it('answers the request in flight on SIGTERM, then exits with 0', async () => {
    const body = Buffer.from(JSON.stringify({ instances: customers.slice(0, 5) }));
    let finishSending = (): void => undefined;
    const answer = new Promise<Answer>((resolve, reject) => {
      const request = httpRequest(
        `${serving.url}/invocations`,
        { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
        },
      );
      request.on('error', reject);
      request.write(body.subarray(0, 10));
      finishSending = () => request.end(body.subarray(10));
    });
    // The headers are in, the body is not: the request is open when the signal arrives.
    await new Promise((resolve) => setTimeout(resolve, 200));
    serving.process.kill('SIGTERM');
    await expect.poll(() => serving.logs.find((line) => line.message === 'stopping')).toMatchObject({ signal: 'SIGTERM', openRequests: 1 });
    finishSending();
    expect((await answer).status).toBe(200);
    expect(await serving.exited).toBe(0);
    expect(serving.logs.at(-1)).toMatchObject({ message: 'stopped' });
  });
});

describe('the serving container before any model exists (the bootstrap model)', () => {
  it('is healthy, so the first deployment of the stack succeeds', async () => {
    const response = await fetch(`${bootstrap.url}/ping`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'no-model' });
  });

  it('answers every invocation with 404 NoModelDeployed, a client error the rollback alarms do not count', async () => {
    const answer = await invoke(bootstrap.url, { instances: customers.slice(0, 2) });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({
      error: { code: 'NoModelDeployed', message: `model "churn": ${NO_MODEL_MESSAGE}`, details: {} },
    });
    expect(NO_MODEL_MESSAGE).toBe('no model version has been deployed to this endpoint yet; run the training pipeline to deploy one');
  });
});

describe('the serving container refusing to serve what it cannot', () => {
  it('fails its health check, and answers 503, when the model does not load', async () => {
    await expect.poll(() => broken.logs.some((line) => line.message === 'model failed to load'), { timeout: 10_000 }).toBe(true);
    const ping = await fetch(`${broken.url}/ping`);
    expect(ping.status).toBe(503);
    expect(await ping.json()).toEqual({ status: 'failed' });
    const answer = await invoke(broken.url, { instances: customers.slice(0, 1) });
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('ModelUnavailable');
  });

  it.each([
    [
      'an invalid MODEL_SCHEMA',
      { SM_MODEL_DIR: path.join(root, 'empty'), MODEL_SCHEMA: '{"modelName": "churn"}' },
      /MODEL_SCHEMA is not a valid model schema/,
    ],
    [
      'a model without MODEL_SCHEMA',
      { SM_MODEL_DIR: path.join(root, 'model') },
      /MODEL_SCHEMA is required: .*model\.onnx holds a model to serve/,
    ],
    [
      'MODEL_VERSION without a model',
      { SM_MODEL_DIR: path.join(root, 'empty'), MODEL_VERSION: '3' },
      /MODEL_VERSION is 3 but .* holds no model\.onnx/,
    ],
  ])('exits with 1 at startup, naming the problem, for %s', async (_, environment, reason) => {
    await expect(startServing(environment)).rejects.toThrow(new RegExp(`exited with 1 before listening[\\s\\S]*${reason.source}`));
  });

  it('exits with 2 when started without the "serve" argument', async () => {
    await expect(startServing({}, undefined, 'train')).rejects.toThrow(/exited with 2 before listening[\s\S]*usage: server\.mjs serve/);
  });
});

/**
 * The local API server answers like the API Gateway API: same routes, status codes and error
 * bodies, bodies checked against the shared schemas, the API function's router behind the
 * registry and approval routes, and the backend behind training and prediction.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INVALID_BODY_MESSAGE, NO_PIPELINE_MESSAGE, NO_ROUTE_MESSAGE, NOT_SERVED_MESSAGE } from '../../contracts/api';
import { API_GATEWAY_MAX_PAYLOAD_BYTES } from '../../contracts/limits';
import { startApiServer } from '../../local/api-server';
import { StubPlatformBackend } from '../support/stub-platform-backend';

let backend: StubPlatformBackend;
let server: Awaited<ReturnType<typeof startApiServer>>;
const errors: unknown[] = [];

beforeAll(async () => {
  server = await startApiServer(
    {
      // Delegates to the current test's backend, so each test starts from an empty registry.
      get trainableModels() {
        return backend.trainableModels;
      },
      get servedModels() {
        return backend.servedModels;
      },
      registry: (action, request) => backend.registry(action, request),
      describeExecution: (arn) => backend.describeExecution(arn),
      redriveExecution: (arn) => backend.redriveExecution(arn),
      sendTaskSuccess: (token, output) => backend.sendTaskSuccess(token, output),
      sendTaskFailure: (token, error, cause) => backend.sendTaskFailure(token, error, cause),
      startTraining: (model, input) => backend.startTraining(model, input),
      startBatch: (model, input) => backend.startBatch(model, input),
      predict: (model, body) => backend.predict(model, body),
      uploadDataset: (model, fileName, body) => backend.uploadDataset(model, fileName, body),
    },
    { actor: 'tester', onError: (error) => errors.push(error) },
  );
});
afterAll(() => server.close());
beforeEach(() => {
  backend = new StubPlatformBackend();
  errors.length = 0;
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(new URL(path.replace(/^\//, ''), server.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('the local API server', () => {
  it('starts a training run with the validated body and returns its execution ARN', async () => {
    const response = await call('POST', '/pipelines/training', {
      model: 'churn',
      datasetUri: 's3://datasets/churn/train.csv',
      hyperparameters: { epochs: '10' },
    });
    expect(response).toEqual({
      status: 200,
      body: { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:mlops-dev-churn:run-1', startDate: 1_767_225_600 },
    });
    expect(backend.started).toEqual([{ model: 'churn', datasetUri: 's3://datasets/churn/train.csv', hyperparameters: { epochs: '10' } }]);
  });

  it('refuses a training body that breaks the schema with 400 and the failing fields', async () => {
    const response = await call('POST', '/pipelines/training', { model: 'churn', datasetUri: 'https://example.com/x.csv', epochs: 3 });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('ValidationFailed');
    expect(response.body.error.message).toBe(INVALID_BODY_MESSAGE);
    expect(response.body.error.details.validation).toMatch(/must NOT have additional properties/);
    expect(response.body.error.details.validation).toMatch(/\/datasetUri must match pattern/);
    expect(backend.started).toEqual([]);
  });

  it("refuses hyperparameters that would choose the training code (sagemaker_*) or the tuner's (_tuning_*), and too many", async () => {
    for (const hyperparameters of [
      { sagemaker_program: 'evil.py' },
      { epochs: '3', sagemaker_submit_directory: 's3://attacker/code.tar.gz' },
      { _tuning_objective_metric: 'x' },
      { ['k'.repeat(257)]: '1' },
      Object.fromEntries(Array.from({ length: 99 }, (_, index) => [`p${index}`, '1'])),
    ]) {
      const response = await call('POST', '/pipelines/training', {
        model: 'churn',
        datasetUri: 's3://datasets/churn/train.csv',
        hyperparameters,
      });
      expect(response.status, JSON.stringify(Object.keys(hyperparameters).slice(0, 2))).toBe(400);
      expect(response.body.error.details.validation).toMatch(/\/hyperparameters/);
    }
    const allowed = Object.fromEntries(Array.from({ length: 98 }, (_, index) => [`p${index}`, '1']));
    const accepted = await call('POST', '/pipelines/training', {
      model: 'churn',
      datasetUri: 's3://datasets/churn/train.csv',
      hyperparameters: allowed,
    });
    expect(accepted.status).toBe(200);
    expect(backend.started).toHaveLength(1);
  });

  it('refuses a model without a pipeline (400 from the enum), and every model while no pipeline is deployed (404)', async () => {
    const unknown = await call('POST', '/pipelines/training', { model: 'fraud', datasetUri: 's3://datasets/x/y.csv' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.validation).toMatch(/\/model must be equal to one of the allowed values/);
    backend.trainableModels = [];
    const none = await call('POST', '/pipelines/training', { model: 'churn', datasetUri: 's3://datasets/x/y.csv' });
    expect(none).toEqual({ status: 404, body: { error: { code: 'NotFound', message: NO_PIPELINE_MESSAGE, details: {} } } });
  });

  it('answers a body that is not JSON with 400', async () => {
    const response = await call('POST', '/pipelines/training', '{"model": ');
    expect(response.status).toBe(400);
    expect(response.body.error.details.validation).toMatch(/not JSON/);
  });

  it('answers a malformed %-escape in the path with 400, as API Gateway does, not 500', async () => {
    const response = await call('GET', '/models/%E0%A4%A/versions');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('ValidationFailed');
    expect(errors).toEqual([]);
  });

  it('answers an unknown route or method with 404 and the error body', async () => {
    expect(await call('GET', '/nowhere')).toEqual({
      status: 404,
      body: { error: { code: 'NotFound', message: NO_ROUTE_MESSAGE, details: {} } },
    });
    expect((await call('DELETE', '/models/churn')).status).toBe(404);
  });

  it('reports an execution state by state, and refuses an id that is not an execution ARN', async () => {
    const { body: started } = await call('POST', '/pipelines/training', { model: 'churn', datasetUri: 's3://datasets/churn/train.csv' });
    const path = `/pipelines/executions/${encodeURIComponent(started.executionArn)}`;
    const first = await call('GET', path);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'RUNNING', currentState: 'ApplyDefaults', executionArn: started.executionArn });
    const bad = await call('GET', '/pipelines/executions/run-1');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^id must be the URL-encoded ARN of a pipeline execution/);
    const missing = await call('GET', `/pipelines/executions/${encodeURIComponent(`${started.executionArn}x`)}`);
    expect(missing.status).toBe(404);
  });

  it('lists and reads models and versions through the registry', async () => {
    await backend.registerVersion();
    await backend.registerVersion('churn', 0.92);
    const models = await call('GET', '/models');
    expect(models.body.items.map((model: any) => [model.modelName, model.latestVersion])).toEqual([['churn', 2]]);
    expect((await call('GET', '/models/churn')).body).toMatchObject({ modelName: 'churn', latestVersion: 2 });
    const versions = await call('GET', '/models/churn/versions?limit=1');
    expect(versions.body.items).toHaveLength(1);
    expect(versions.body.nextCursor).toEqual(expect.any(String));
    expect((await call('GET', '/models/churn/versions/2')).body).toMatchObject({ version: 2, metrics: { accuracy: 0.92 } });
    expect((await call('GET', '/models/churn/versions/7')).status).toBe(404);
    const badVersion = await call('GET', '/models/churn/versions/two');
    expect(badVersion).toMatchObject({ status: 400, body: { error: { message: 'version must be a positive integer, got "two"' } } });
    expect((await call('GET', '/models/churn/versions?limit=lots')).status).toBe(400);
  });

  it('promotes, archives and rolls back with the caller as actor, mapping refusals to 409', async () => {
    await backend.registerVersion();
    await backend.registerVersion();
    // A promotion says which production version it replaces (or forces): without either it is refused.
    const unguarded = await call('POST', '/models/churn/versions/1/promote', { reason: 'first' });
    expect(unguarded.status).toBe(400);
    expect(unguarded.body.error.message).toMatch(/expectedProductionVersion .*or force: true/);
    const promoted = await call('POST', '/models/churn/versions/1/promote', { reason: 'first', expectedProductionVersion: null });
    expect(promoted).toMatchObject({ status: 200, body: { changed: true, version: { version: 1, stage: 'Production' } } });
    // Two promotions that both expected version 1: the second loses.
    expect((await call('POST', '/models/churn/versions/2/promote', { expectedProductionVersion: 1 })).status).toBe(200);
    expect((await call('POST', '/models/churn/versions/1/promote', { expectedProductionVersion: 1 })).status).toBe(409);
    expect((await call('POST', '/models/churn/versions/2/promote', { force: true })).status).toBe(200);
    const archiveProduction = await call('POST', '/models/churn/versions/2/archive', {});
    expect(archiveProduction.status).toBe(409);
    expect(archiveProduction.body.error.code).toBe('InvalidTransition');
    const rolledBack = await call('POST', '/models/churn/rollback', { reason: 'regression', fromVersion: 2 });
    expect(rolledBack).toMatchObject({ status: 200, body: { version: { version: 1, stage: 'Production' } } });
    const stale = await call('POST', '/models/churn/versions/2/promote', { expectedProductionVersion: 2 });
    expect(stale.status).toBe(409);
    const events = await backend.registryCore.listEvents({ modelName: 'churn' });
    const actors = events.items.filter((event) => ['promote', 'rollback'].includes(event.action)).map((event) => event.actor);
    expect(actors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(actors)).toEqual(new Set(['tester']));
  });

  it('refuses a stage-change body with an unknown field before the registry sees it', async () => {
    await backend.registerVersion();
    const response = await call('POST', '/models/churn/versions/1/promote', { stage: 'Production' });
    expect(response.status).toBe(400);
    expect(response.body.error.details.validation).toMatch(/additional properties/);
  });

  it('approves a waiting version: records the decision, sends the task token, and never returns the token', async () => {
    await backend.registerVersion();
    await backend.registryCore.requestApproval({
      modelName: 'churn',
      version: 1,
      taskToken: 'token-1',
      executionArn: 'run-1',
      actor: 'pipeline',
    });
    const approved = await call('POST', '/models/churn/versions/1/approve', { reason: 'looks good' });
    expect(approved.status).toBe(200);
    expect(approved.body.approval).toMatchObject({ status: 'Approved', decidedBy: 'tester', reason: 'looks good' });
    expect(JSON.stringify(approved.body)).not.toContain('token-1');
    expect(backend.answers).toEqual([
      { kind: 'success', token: 'token-1', payload: { approved: true, modelName: 'churn', version: 1, decidedBy: 'tester' } },
    ]);
    // A retry (say the first answer was lost) resends the same decision; the opposite one is refused.
    expect((await call('POST', '/models/churn/versions/1/approve', {})).status).toBe(200);
    expect(backend.answers).toHaveLength(2);
    const reversed = await call('POST', '/models/churn/versions/1/approve', { approved: false });
    expect(reversed.status).toBe(409);
    expect(reversed.body.error.message).toBe('version 1 of "churn" was already approved');
  });

  it('rejects a waiting version: the version becomes Rejected and the run is failed with the reason', async () => {
    await backend.registerVersion();
    await backend.registryCore.requestApproval({
      modelName: 'churn',
      version: 1,
      taskToken: 'token-2',
      executionArn: 'run-2',
      actor: 'pipeline',
    });
    const rejected = await call('POST', '/models/churn/versions/1/approve', { approved: false, reason: 'bias on region' });
    expect(rejected.body.version).toMatchObject({ stage: 'Rejected' });
    expect(backend.answers).toEqual([
      {
        kind: 'failure',
        token: 'token-2',
        payload: { error: 'VersionRejected', cause: 'version 1 of "churn" was rejected by tester: bias on region' },
      },
    ]);
  });

  it('answers 409 when the run no longer waits for the token, and 404 when nothing awaits approval', async () => {
    await backend.registerVersion();
    expect((await call('POST', '/models/churn/versions/1/approve', {})).status).toBe(404);
    await backend.registryCore.requestApproval({
      modelName: 'churn',
      version: 1,
      taskToken: 'old',
      executionArn: 'run-3',
      actor: 'pipeline',
    });
    backend.expiredTokens.add('old');
    const response = await call('POST', '/models/churn/versions/1/approve', {});
    expect(response).toMatchObject({
      status: 409,
      body: { error: { code: 'Conflict', message: expect.stringMatching(/no longer waits/) } },
    });
  });

  it('predicts for a served model, 404s an unserved one, and passes typed refusals through', async () => {
    const ok = await call('POST', '/models/churn/predict', { instances: [{ tenure: 30 }, { tenure: 2 }] });
    expect(ok).toEqual({
      status: 200,
      body: {
        modelName: 'churn',
        modelVersion: 3,
        labels: ['churn', 'stay'],
        predictions: [
          { label: 'stay', probabilities: [0.2, 0.8] },
          { label: 'churn', probabilities: [0.9, 0.1] },
        ],
      },
    });
    expect(await call('POST', '/models/fraud/predict', { instances: [{}] })).toEqual({
      status: 404,
      body: { error: { code: 'NotFound', message: NOT_SERVED_MESSAGE, details: {} } },
    });
    expect((await call('POST', '/models/churn/predict', { instances: [] })).status).toBe(400);
    const refused = await call('POST', '/models/churn/predict', { instances: [{ tenure: 'long' }] });
    expect(refused).toEqual({
      status: 400,
      body: { error: { code: 'ValidationFailed', message: 'instances[0].tenure: must be a number, got "long"', details: {} } },
    });
  });

  it('refuses a predict body a synchronous Lambda invocation could not carry (6 MB as a proxy event), though under 10 MB', async () => {
    // 5.5 MB of JSON, whose quotes a proxy event escapes: over 6 MB there.
    const instances = Array.from({ length: 20_000 }, () => ({ tenure: 30, note: `"${'q"'.repeat(130)}` }));
    const text = JSON.stringify({ instances });
    expect(text.length).toBeLessThan(API_GATEWAY_MAX_PAYLOAD_BYTES);
    const response = await call('POST', '/models/churn/predict', text);
    expect(response.status).toBe(413);
    expect(response.body.error.message).toMatch(
      // 6 MB less 64 KB for the rest of the proxy event.
      /in a Lambda proxy event, over the 6225920 a synchronous invocation can carry; send fewer rows/,
    );
    expect(backend.predictRequests).toEqual([]);
  });

  it("refuses a body over API Gateway's 10 MB with 413, and reads one of exactly 10 MB", async () => {
    const body = (bytes: number) =>
      JSON.stringify({ model: 'churn', datasetUri: 's3://datasets/x/y.csv', note: '' }).replace('""', `"${'n'.repeat(bytes - 64)}"`);
    expect(body(10 * 1024 * 1024)).toHaveLength(10 * 1024 * 1024);
    const atLimit = await call('POST', '/pipelines/training', body(10 * 1024 * 1024));
    expect(atLimit.status).toBe(400);
    expect(await call('POST', '/pipelines/training', body(10 * 1024 * 1024 + 1))).toEqual({
      status: 413,
      body: { error: { code: 'ValidationFailed', message: 'Request Too Long', details: {} } },
    });
  });

  it('names the allowed values of an enum, as API Gateway does', async () => {
    const response = await call('POST', '/pipelines/training', { model: 'fraud', datasetUri: 's3://datasets/x/y.csv' });
    expect(response.body.error.details.validation).toBe('/model must be equal to one of the allowed values (churn)');
  });

  it('hides an unexpected failure behind 500 and reports it', async () => {
    backend.predict = async () => {
      throw new Error('onnx session crashed at 0xdeadbeef');
    };
    const response = await call('POST', '/models/churn/predict', { instances: [{ tenure: 1 }] });
    expect(response).toEqual({ status: 500, body: { error: { code: 'InternalError', message: 'the request failed', details: {} } } });
    expect(errors).toHaveLength(1);
  });
});

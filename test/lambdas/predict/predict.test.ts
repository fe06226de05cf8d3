/**
 * The predict function end to end with a real ONNX model built here and scored by
 * onnxruntime-node: first the Predictor over in-memory registry and object stores, then the
 * handler over the real adapters on DynamoDB Local (registry) and s3rver (artifacts, capture).
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PREDICT_METRICS } from '../../../contracts/metrics';
import type { VersionRecord } from '../../../contracts/registry';
import { type PredictResponse, SERVING_SCHEMA_FILE, type TrainingRanges } from '../../../contracts/serving-schema';
import { createPredictHandler, predictorFromEnvironment } from '../../../lambdas/predict/predict';
import { NotFoundError, ValidationError } from '../../../lambdas/shared/errors';
import type { ArtifactObjects } from '../../../lambdas/shared/object-store';
import { DynamoDbRegistryStore } from '../../../lambdas/shared/registry/dynamodb-registry-store';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import type { RegistryStore } from '../../../lambdas/shared/registry/registry-store';
import { S3ObjectStore } from '../../../lambdas/shared/s3-object-store';
import { CaptureBuffer } from '../../../lambdas/shared/serving/capture';
import { ArtifactIntegrityError, extractModelFile } from '../../../lambdas/shared/serving/model-artifact';
import { OnnxScorer } from '../../../lambdas/shared/serving/onnx-scorer';
import { Predictor } from '../../../lambdas/shared/serving/predictor';
import { fetchModelBytes, fetchServedModel } from '../../../lambdas/shared/serving/served-version';
import { createRegistryTable, LOCAL_AWS } from '../../../local/dynamodb-local';
import { localS3ClientConfig, type RunningS3Local, startS3Local } from '../../../local/s3-local';
import { CHURN_SCHEMA, churnModelBytes, churnProbability, churnRows } from '../../../testkit/churn-model';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';
import { packModelArchive as packFiles } from '../../../testkit/onnx-encoder';
import { packModelArchive, sha256Hex } from '../../../testkit/onnx-model';

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';
/** float32 scoring against float64 reference arithmetic. */
const TOLERANCE = 1e-5;

class InMemoryObjectStore implements ArtifactObjects {
  readonly objects = new Map<string, Uint8Array | string>();
  failPuts = false;
  async getBytes(bucket: string, key: string): Promise<Uint8Array> {
    const body = this.objects.get(`${bucket}/${key}`);
    if (body === undefined) throw new Error(`NoSuchKey: ${bucket}/${key}`);
    return typeof body === 'string' ? Buffer.from(body) : body;
  }
  async put(bucket: string, key: string, body: string): Promise<void> {
    if (this.failPuts) throw new Error('SlowDown: capture bucket unavailable');
    this.objects.set(`${bucket}/${key}`, body);
  }
}

/** Registers and promotes a version whose artifact is `archive`, stored at `models/churn/v<n>/model.tar.gz`. */
async function publish(registry: Registry, put: (key: string, body: Uint8Array) => Promise<void>, archive: Uint8Array, promote = true) {
  const latest = await registry.getModel({ modelName: 'churn' }).catch(() => undefined);
  const key = `models/churn/v${(latest?.latestVersion ?? 0) + 1}/model.tar.gz`;
  await put(key, archive);
  const version = await registry.registerVersion({
    modelName: 'churn',
    artifactUri: `s3://artifacts/${key}`,
    artifactSha256: sha256Hex(archive),
    lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
    actor: ACTOR,
  });
  if (promote) await registry.promote({ modelName: 'churn', version: version.version, actor: ACTOR });
  return version;
}

describe('Predictor with a real ONNX model', () => {
  let store: RegistryStore;
  let registry: Registry;
  const objects = new InMemoryObjectStore();
  const loads: number[] = [];
  const loadScorer = async (version: VersionRecord) => {
    loads.push(version.version);
    return OnnxScorer.create(await fetchModelBytes(objects, version));
  };

  beforeAll(async () => {
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    await publish(
      registry,
      async (key, body) => void objects.objects.set(`artifacts/${key}`, body),
      await packModelArchive(churnModelBytes()),
    );
  });

  it('scores rows with the production version and returns probabilities and labels', async () => {
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    const rows = churnRows(5);
    const { response } = await predictor.predict(rows, 'request-1');
    expect(response.modelName).toBe('churn');
    expect(response.modelVersion).toBe(1);
    expect(response.labels).toEqual([0, 1]);
    response.predictions.forEach((prediction, index) => {
      const expected = churnProbability(rows[index]!);
      if (!('probabilities' in prediction)) throw new Error('expected a classification');
      expect(prediction.probabilities[1]).toBeCloseTo(expected, 5);
      expect(prediction.probabilities[0]).toBeCloseTo(1 - expected, 5);
      expect(prediction.label).toBe(expected >= 0.5 ? 1 : 0);
    });
  });

  it('scores a batch of 1,000 rows in one call, each row matching the reference probability', async () => {
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    const rows = churnRows(1000, 7);
    const { response } = await predictor.predict(rows, 'request-batch');
    expect(response.predictions).toHaveLength(1000);
    const worst = Math.max(
      ...response.predictions.map((prediction, index) =>
        'probabilities' in prediction ? Math.abs(prediction.probabilities[1]! - churnProbability(rows[index]!)) : 1,
      ),
    );
    expect(worst).toBeLessThan(TOLERANCE);
    const positives = response.predictions.filter((prediction) => 'label' in prediction && prediction.label === 1).length;
    expect(positives).toBeGreaterThan(0);
    expect(positives).toBeLessThan(1000);
  });

  it('loads the model once and reuses the session for later requests', async () => {
    loads.length = 0;
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    await Promise.all([predictor.predict(churnRows(1), 'a'), predictor.predict(churnRows(2), 'b')]);
    await predictor.predict(churnRows(3), 'c');
    expect(loads).toEqual([1]);
  });

  it('refuses a NaN input with a 400 naming the row and column, before loading any model', async () => {
    loads.length = 0;
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    const rows: unknown[] = churnRows(3);
    rows[2] = { ...(rows[2] as object), monthly_charges: Number.NaN };
    const attempt = predictor.predict(rows, 'request-nan');
    await expect(attempt).rejects.toMatchObject({
      name: 'ValidationError',
      httpStatus: 400,
      message: 'instances[2].monthly_charges: must be a finite number, got NaN',
    });
    expect(loads).toEqual([]);
  });

  it('refuses a row of the wrong shape with a 400', async () => {
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    await expect(predictor.predict([[1, 2, 3]], 'request-shape')).rejects.toBeInstanceOf(ValidationError);
  });

  it('answers even when every capture write fails, and reports the dropped records', async () => {
    objects.failPuts = true;
    const capture = new CaptureBuffer({
      modelName: 'churn',
      samplePercent: 100,
      maxRecords: 1,
      write: (key, body) => objects.put('capture', key, body),
    });
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, capture });
    const outcome = await predictor.predict(churnRows(4), 'request-capture');
    objects.failPuts = false;
    expect(outcome.response.predictions).toHaveLength(4);
    expect(outcome.capture).toMatchObject({ written: 0, dropped: 4 });
    expect(outcome.capture?.error?.message).toBe('SlowDown: capture bucket unavailable');
  });

  it('switches to a newly promoted version after the refresh interval, and back after a rollback', async () => {
    let now = 0;
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, refreshIntervalMs: 1000, now: () => now });
    expect((await predictor.predict(churnRows(1), 'r1')).response.modelVersion).toBe(1);
    const inverted = churnModelBytes([0.05, -0.02, 0.8, 0.3], 0.4);
    await publish(registry, async (key, body) => void objects.objects.set(`artifacts/${key}`, body), await packModelArchive(inverted));
    now = 999;
    expect((await predictor.predict(churnRows(1), 'r2')).response.modelVersion).toBe(1);
    now = 1000;
    const [row] = churnRows(1);
    const { response } = await predictor.predict([row], 'r3');
    expect(response.modelVersion).toBe(2);
    expect((response.predictions[0] as { probabilities: number[] }).probabilities[1]).toBeCloseTo(1 - churnProbability(row!), 5);
    await registry.rollback({ modelName: 'churn', actor: ACTOR });
    now = 2000;
    expect((await predictor.predict(churnRows(1), 'r4')).response.modelVersion).toBe(1);
  });

  it('keeps serving the loaded version when a refresh fails', async () => {
    let now = 0;
    const errors: string[] = [];
    const flaky: RegistryStore = Object.create(store);
    const predictor = new Predictor({
      schema: CHURN_SCHEMA,
      registry: flaky,
      loadScorer,
      refreshIntervalMs: 10,
      now: () => now,
      onRefreshError: (error) => errors.push(error.message),
    });
    await predictor.predict(churnRows(1), 'before');
    flaky.getModel = async () => Promise.reject(new Error('ProvisionedThroughputExceededException'));
    now = 100;
    expect((await predictor.predict(churnRows(1), 'during')).response.modelVersion).toBe(1);
    expect(errors).toEqual(['ProvisionedThroughputExceededException']);
  });

  it('refuses an artifact whose SHA-256 differs from the registry record', async () => {
    const [version] = (await store.listVersions('churn', { limit: 1 })).items;
    const tampered = { ...version!, artifactSha256: 'f'.repeat(64) };
    await expect(fetchModelBytes(objects, tampered)).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });

  it('refuses an archive without model.onnx at its root', async () => {
    const archive = await packModelArchive(churnModelBytes(), 'weights.onnx');
    await expect(extractModelFile(archive, 's3://artifacts/x.tar.gz')).rejects.toThrow(
      's3://artifacts/x.tar.gz holds no model.onnx at its root',
    );
  });

  it('reports a model without a production version as not found', async () => {
    const empty = new Predictor({ schema: { ...CHURN_SCHEMA, modelName: 'fraud' }, registry: store, loadScorer });
    await expect(empty.predict(churnRows(1), 'none')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('Predictor with the training ranges of a version', () => {
  const RANGES: TrainingRanges = {
    tenure_months: { min: 0, max: 72 },
    monthly_charges: { min: 18.25, max: 118.75 },
    contract: { values: ['month-to-month', 'one-year'] },
    auto_pay: { values: ['false', 'true'] },
  };
  const objects = new InMemoryObjectStore();
  const store = new InMemoryRegistryStore();
  const registry = new Registry(store, { knownModels: ['churn'] });
  const loadScorer = async (version: VersionRecord) => {
    const { modelBytes, trainingRanges } = await fetchServedModel(objects, version);
    return OnnxScorer.create(modelBytes, trainingRanges);
  };
  const put = async (key: string, body: Uint8Array) => void objects.objects.set(`artifacts/${key}`, body);

  it('answers rows outside the ranges, flags their features and counts them', async () => {
    const schemaFile = JSON.stringify({ ...CHURN_SCHEMA, trainingRanges: RANGES });
    await publish(registry, put, await packFiles({ 'model.onnx': churnModelBytes(), [SERVING_SCHEMA_FILE]: schemaFile }));
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    const rows = [
      { tenure_months: 12, monthly_charges: 70, contract: 'one-year', auto_pay: true },
      { tenure_months: -50, monthly_charges: 70, contract: 'one-year', auto_pay: false },
      { tenure_months: 30, monthly_charges: 1e9, contract: 'two-year', auto_pay: null },
      { tenure_months: 72, monthly_charges: 118.75, contract: 'month-to-month', auto_pay: false },
    ];
    const { response, outOfRangeRows } = await predictor.predict(rows, 'ranges-1');
    expect(response.predictions.map((prediction) => prediction.outOfRange)).toEqual([
      undefined,
      ['tenure_months'],
      ['monthly_charges', 'contract'],
      undefined,
    ]);
    expect(outOfRangeRows).toBe(2);
    // Flagged, not refused: the answer is the model's, as for any row.
    const expected = churnProbability({ ...rows[1]!, auto_pay: false } as never);
    expect((response.predictions[1] as { probabilities: number[] }).probabilities[1]).toBeCloseTo(expected, 5);
  });

  it('flags nothing for an artifact without serving-schema.json, and refuses one whose ranges are unreadable', async () => {
    await publish(registry, put, await packModelArchive(churnModelBytes()));
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    const { response, outOfRangeRows } = await predictor.predict(
      [{ tenure_months: -50, monthly_charges: 1e9, contract: 'two-year', auto_pay: true }],
      'r',
    );
    expect(response.predictions[0]!.outOfRange).toBeUndefined();
    expect(outOfRangeRows).toBe(0);
    const broken = await packFiles({
      'model.onnx': churnModelBytes(),
      [SERVING_SCHEMA_FILE]: '{"trainingRanges": {"tenure_months": {"min": "low"}}}',
    });
    const version = await publish(registry, put, broken);
    await expect(fetchServedModel(objects, version)).rejects.toThrow(/serving-schema\.json has unreadable trainingRanges/);
  });

  it('publishes OutOfRangeRows with every answer', async () => {
    const recorded: Array<[string, number]> = [];
    const metrics = {
      addMetric: (name: string, _unit: string, value: number) => recorded.push([name, value]),
      publishStoredMetrics: () => {},
    } as unknown as Metrics;
    const predictor = { predict: async () => ({ response: { modelName: 'churn', modelVersion: 1, predictions: [] }, outOfRangeRows: 3 }) };
    const handle = createPredictHandler({ predictor: predictor as never, logger: new Logger({ logLevel: 'SILENT' }), metrics });
    await handle({ instances: [{}] }, { awsRequestId: 'm-1' });
    expect(recorded).toContainEqual([PREDICT_METRICS.outOfRangeRows, 3]);
  });
});

describe('predict handler on DynamoDB Local and s3rver', () => {
  const tableName = `predict-${Date.now()}`;
  let s3Local: RunningS3Local;
  let s3: S3Client;
  let dynamo: DynamoDBClient;
  let handle: ReturnType<typeof createPredictHandler>;
  const context = { awsRequestId: 'invocation-1' };
  const apiEvent = (body: unknown) => ({
    body: typeof body === 'string' ? body : JSON.stringify(body),
    requestContext: { requestId: 'api-1' },
  });

  beforeAll(async () => {
    s3Local = await startS3Local({ buckets: ['artifacts', 'capture'] });
    s3 = new S3Client(localS3ClientConfig(s3Local.endpoint));
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: inject('dynamoDbEndpoint') });
    await createRegistryTable(dynamo, tableName);
    const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
    const store = new DynamoDbRegistryStore(documents, tableName);
    const registry = new Registry(store, { knownModels: ['churn'] });
    const put = async (key: string, body: Uint8Array) =>
      void (await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: key, Body: body })));
    await publish(registry, put, await packModelArchive(churnModelBytes()));
    // Metrics would print embedded-metric JSON to stdout on every request.
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const logger = new Logger({ logLevel: 'SILENT' });
    const environment = {
      TABLE_NAME: tableName,
      MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA),
      CAPTURE_BUCKET: 'capture',
      CAPTURE_PERCENT: '100',
    };
    const predictor = predictorFromEnvironment(environment, store, new S3ObjectStore(s3), logger);
    handle = createPredictHandler({ predictor, logger, metrics: new Metrics({ namespace: 'Test', serviceName: 'predict' }) });
    await predictor.warm();
    // Capture batches hold 1,000 records: the 1,000-row request below fills one.
  }, 60_000);

  afterAll(async () => {
    s3.destroy();
    dynamo.destroy();
    await s3Local.stop();
  });

  it('answers a direct invocation with the production version read from S3 and verified', async () => {
    const rows = churnRows(2);
    const response = (await handle({ instances: rows }, context)) as PredictResponse;
    expect(response.modelVersion).toBe(1);
    expect((response.predictions[1] as { probabilities: number[] }).probabilities[1]).toBeCloseTo(churnProbability(rows[1]!), 5);
  });

  it('answers an API Gateway event with 200 and the predictions as JSON', async () => {
    const response = (await handle(apiEvent({ instances: churnRows(1) }), context)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ modelName: 'churn', modelVersion: 1, labels: [0, 1] });
  });

  it('answers 400 with the row and column for a value of the wrong type', async () => {
    const rows: unknown[] = churnRows(2);
    rows[1] = { ...(rows[1] as object), tenure_months: 'NaN' };
    const response = (await handle(apiEvent({ instances: rows }), context)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: {
        code: 'ValidationFailed',
        message: 'instances[1].tenure_months: must be an integer, got "NaN"',
        details: { problems: ['instances[1].tenure_months: must be an integer, got "NaN"'] },
      },
    });
  });

  it('answers 400 for a body that is not JSON or not { instances }', async () => {
    const notJson = (await handle(apiEvent('{oops'), context)) as { statusCode: number; body: string };
    expect(notJson.statusCode).toBe(400);
    expect(JSON.parse(notJson.body).error.message).toMatch(/^the request body is not JSON/);
    const wrongShape = (await handle(apiEvent({ rows: [] }), context)) as { statusCode: number };
    expect(wrongShape.statusCode).toBe(400);
  });

  it('throws ValidationError to a direct caller, for Step Functions to catch by name', async () => {
    await expect(handle({ instances: [[1]] }, context)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('writes captured requests to the capture bucket as JSON Lines once a batch fills, keeping the features only', async () => {
    // Clients send identifiers along (accepted, ignored by the model): capture leaves them out unless opted in.
    const rows = churnRows(1000, 3).map((row, index) => ({ ...row, customer_id: `c-${index}` }));
    await handle({ instances: rows }, context);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'capture', Prefix: 'churn/serverless/' }));
    expect(listed.Contents?.length).toBe(1);
    const object = await s3.send(new GetObjectCommand({ Bucket: 'capture', Key: listed.Contents![0]!.Key! }));
    const lines = (await object.Body!.transformToString()).trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1000);
    const last = JSON.parse(lines.at(-1)!);
    const { customer_id: _id, ...features } = rows[999]!;
    expect(last).toMatchObject({ modelName: 'churn', modelVersion: 1, requestId: 'invocation-1', row: 999 });
    expect(last.input).toEqual(features);
  });
});

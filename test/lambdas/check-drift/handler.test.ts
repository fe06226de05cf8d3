import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { DriftModelSettings } from '../../../contracts/drift';
import type { DriftReport } from '../../../lambdas/check-drift/check-drift';
import { createCheckDriftHandler } from '../../../lambdas/check-drift/handler';
import type { ObjectStore } from '../../../lambdas/shared/object-store';
import { serializeProfile } from '../../../lambdas/shared/profile/codec';
import { DynamoDbRegistryStore } from '../../../lambdas/shared/registry/dynamodb-registry-store';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import { S3ObjectStore } from '../../../lambdas/shared/s3-object-store';
import { createRegistryTable, LOCAL_AWS } from '../../../local/dynamodb-local';
import { type RunningS3Local, startS3Local } from '../../../local/s3-local';
import { profileValues } from '../../../testkit/profile-values';
import { normalSampler, seededRandom } from '../../../testkit/samples';

const CONTRACTS = ['month-to-month', 'one-year', 'two-year'];
const settings: DriftModelSettings = {
  name: 'churn',
  features: [
    { name: 'tenure_months', type: 'integer', critical: false },
    { name: 'monthly_charges', type: 'number', critical: false },
    { name: 'contract', type: 'category', critical: false },
  ],
  target: { name: 'churned', type: 'integer' },
  windowHours: 24,
  rules: {
    psiWarn: 0.1,
    psiDrift: 0.25,
    ksPValue: 0.05,
    jsDistance: 0.1,
    minSampleSize: 1000,
    driftedFeatureShare: 0.5,
    multipleTesting: 'benjamini-hochberg',
    featureThresholds: {},
  },
};
const WINDOW_END = '2026-05-01T12:00:00.000Z';

const random = seededRandom(11);
const normal = normalSampler(random);
const row = (shift: number) => ({
  tenure_months: Math.floor(random() * 72),
  monthly_charges: Math.round((70 + shift + 20 * normal()) * 100) / 100,
  contract: shift > 0 && random() < 0.3 ? 'enterprise' : CONTRACTS[Math.floor(random() * 3)]!,
});

let s3: RunningS3Local;
let s3Client: S3Client;
let dynamo: DynamoDBClient;
let registry: Registry;
let handler: ReturnType<typeof createCheckDriftHandler>;
let tableName: string;
let published: Array<Record<string, unknown>>;

async function put(bucket: string, key: string, body: string): Promise<void> {
  await s3Client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Serverless capture lines, as the predict function's CaptureBuffer writes them. */
function serverlessLines(count: number, at: string, shift = 0, asArray = false): string {
  return Array.from({ length: count }, (_, index) => {
    const input = row(shift);
    return JSON.stringify({
      capturedAt: at,
      requestId: `r${index}`,
      modelName: 'churn',
      modelVersion: 1,
      row: 0,
      input: asArray ? [input.tenure_months, input.monthly_charges, input.contract] : input,
      output: { label: index % 4 === 0 ? 1 : 0, probabilities: [0.7, 0.3] },
    });
  }).join('\n');
}

function newHandler(tableName: string, store: ObjectStore = new S3ObjectStore(s3Client)) {
  const documents = DynamoDBDocumentClient.from(dynamo);
  return createCheckDriftHandler({
    context: {
      store,
      registry: new DynamoDbRegistryStore(documents, tableName),
      artifactsBucket: 'artifacts',
      captureBucket: 'capture',
    },
    settings,
    logger: new Logger({ logLevel: 'SILENT' }),
    createMetrics: () => {
      const metrics = new Metrics({ namespace: 'CdkMlops', serviceName: 'check-drift' });
      vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
        published.push(metrics.serializeMetrics() as unknown as Record<string, unknown>);
        return metrics;
      });
      return metrics;
    },
  });
}

async function report(uri: string): Promise<DriftReport> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  const response = await s3Client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await response.Body!.transformToString()) as DriftReport;
}

beforeAll(async () => {
  s3 = await startS3Local({ buckets: ['artifacts', 'capture'] });
  s3Client = s3.client();
  dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: inject('dynamoDbEndpoint') });
  tableName = `drift-${randomUUID()}`;
  await createRegistryTable(dynamo, tableName);
  registry = new Registry(new DynamoDbRegistryStore(DynamoDBDocumentClient.from(dynamo), tableName));
  handler = newHandler(tableName);

  const training = Array.from({ length: 20_000 }, () => ({ ...row(0), churned: random() < 0.25 ? 1 : 0 }));
  const reference = profileValues([
    { name: 'tenure_months', kind: 'numeric', values: training.map((r) => r.tenure_months) },
    { name: 'monthly_charges', kind: 'numeric', values: training.map((r) => r.monthly_charges) },
    { name: 'contract', kind: 'categorical', values: training.map((r) => r.contract) },
    { name: 'churned', kind: 'numeric', values: training.map((r) => r.churned) },
  ]);
  await put('artifacts', 'profiles/churn/run-1/profile.json', serializeProfile(reference));
});

afterAll(async () => {
  s3Client?.destroy();
  dynamo?.destroy();
  await s3?.stop();
});

describe('check-drift handler', () => {
  it('answers "no production model" before any version is promoted, publishing nothing', async () => {
    published = [];
    const result = await handler({ model: 'churn', windowEnd: WINDOW_END });
    expect(result).toMatchObject({ status: 'no-production-model', model: 'churn' });
    expect(published).toEqual([]);
  });

  it('answers "no reference profile" when the production version has no profile in its lineage', async () => {
    const version = await registry.registerVersion({
      modelName: 'churn',
      artifactUri: 's3://artifacts/models/churn/1/model.tar.gz',
      artifactSha256: 'a'.repeat(64),
      lineage: { datasetUri: 's3://datasets/churn/v1/', datasetEtag: 'e1' },
      actor: 'test',
    });
    await registry.promote({ modelName: 'churn', version: version.version, actor: 'test' });
    const result = await handler({ model: 'churn', windowEnd: WINDOW_END });
    expect(result).toMatchObject({ status: 'no-reference-profile', message: expect.stringMatching(/without lineage\.profileUri/) });
  });

  it('finds no drift in a window like the training data, writes the report and publishes the metrics', async () => {
    const version = await registry.registerVersion({
      modelName: 'churn',
      artifactUri: 's3://artifacts/models/churn/2/model.tar.gz',
      artifactSha256: 'b'.repeat(64),
      lineage: { datasetUri: 's3://datasets/churn/v2/', datasetEtag: 'e2', profileUri: 's3://artifacts/profiles/churn/run-1/profile.json' },
      actor: 'test',
    });
    await registry.promote({ modelName: 'churn', version: version.version, actor: 'test' });
    await put('capture', 'churn/serverless/2026/05/01/10/a.jsonl', serverlessLines(800, '2026-05-01T10:30:00.000Z'));
    await put(
      'capture',
      'churn/serverless/2026/05/01/11/b.jsonl',
      `${serverlessLines(700, '2026-05-01T11:15:00.000Z', 0, true)}\nnot json\n`,
    );
    // The hour of the window end and a line before the window start are left out.
    await put('capture', 'churn/serverless/2026/05/01/12/c.jsonl', serverlessLines(500, '2026-05-01T12:10:00.000Z', 30));
    await put('capture', 'churn/serverless/2026/04/30/12/d.jsonl', serverlessLines(50, '2026-04-30T11:59:00.000Z', 30));
    published = [];
    const result = await handler({ model: 'churn', windowEnd: WINDOW_END });
    expect(result).toMatchObject({ status: 'no-drift', productionVersion: 2, sampleSize: 1500, captureObjects: 3, driftedFeatures: [] });
    const written = await report((result as { reportUri: string }).reportUri);
    expect(written.window).toEqual({ start: '2026-04-30T12:00:00.000Z', end: WINDOW_END });
    expect(written.capture).toMatchObject({ rows: 1500, malformed: 1, firstProblem: expect.stringMatching(/not JSON/) });
    expect(written.verdict.features.map((feature) => feature.status)).toEqual(['stable', 'stable', 'stable']);

    const dataset = published.find((document) => JSON.stringify(document).includes('DatasetDrift'))!;
    expect(dataset).toMatchObject({ Model: 'churn', DatasetDrift: 0, DriftedFeatureShare: 0, DriftSampleSize: 1500 });
    expect((dataset._aws as { CloudWatchMetrics: [{ Namespace: string; Dimensions: string[][] }] }).CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'CdkMlops',
      Dimensions: [['Model']],
    });
    const charges = published.find((document) => document.Feature === 'monthly_charges')!;
    expect(charges).toMatchObject({
      Model: 'churn',
      FeaturePSI: expect.any(Number),
      FeatureKS: expect.any(Number),
      FeatureJS: expect.any(Number),
    });
    expect((charges._aws as { CloudWatchMetrics: [{ Dimensions: string[][] }] }).CloudWatchMetrics[0]!.Dimensions).toEqual([
      ['Model', 'Feature'],
    ]);
    expect(published.find((document) => document.Feature === 'prediction(churned)')).toBeDefined();
  });

  it('finds drift in SageMaker endpoint capture (JSON, CSV and base64 bodies) and reports the new category', async () => {
    const endpointLine = (rows: ReturnType<typeof row>[], encoding: 'JSON' | 'CSV' | 'BASE64') => {
      const json = JSON.stringify({ instances: rows });
      const csv = rows.map((r) => `${r.tenure_months},${r.monthly_charges},${r.contract}`).join('\n');
      const data = encoding === 'JSON' ? json : encoding === 'CSV' ? csv : Buffer.from(json).toString('base64');
      return JSON.stringify({
        captureData: {
          endpointInput: { observedContentType: encoding === 'CSV' ? 'text/csv' : 'application/json', mode: 'INPUT', data, encoding },
          endpointOutput: {
            observedContentType: 'application/json',
            mode: 'OUTPUT',
            data: JSON.stringify({ predictions: rows.map(() => ({ label: 1 })) }),
            encoding: 'JSON',
          },
        },
        eventMetadata: { eventId: randomUUID(), inferenceTime: '2026-05-02T09:30:00Z' },
        eventVersion: '0',
      });
    };
    const lines = ['JSON', 'CSV', 'BASE64'].flatMap((encoding) =>
      Array.from({ length: 10 }, () =>
        endpointLine(
          Array.from({ length: 50 }, () => row(15)),
          encoding as 'JSON',
        ),
      ),
    );
    await put('capture', 'churn/endpoint/churn-endpoint/AllTraffic/2026/05/02/09/e.jsonl', lines.join('\n'));
    published = [];
    const result = await handler({ model: 'churn', windowStart: '2026-05-02T09:00:00Z', windowEnd: '2026-05-02T10:00:00Z' });
    expect(result).toMatchObject({ status: 'drift', sampleSize: 1500, predictionDrift: 'drift' });
    expect((result as { driftedFeatures: string[] }).driftedFeatures).toEqual(['monthly_charges', 'contract']);
    const written = await report((result as { reportUri: string }).reportUri);
    const contract = written.verdict.features.find((feature) => feature.name === 'contract')!;
    expect(contract.comparison).toMatchObject({ kind: 'categorical', newCategories: [{ value: 'enterprise', count: expect.any(Number) }] });
    expect(published.find((document) => 'DatasetDrift' in document)).toMatchObject({ DatasetDrift: 1 });
  });

  it('gives no verdict and publishes no DatasetDrift for a window below the minimum sample size', async () => {
    await put('capture', 'churn/serverless/2026/05/03/08/f.jsonl', serverlessLines(200, '2026-05-03T08:00:00.000Z', 40));
    published = [];
    const result = await handler({ model: 'churn', captureUri: 's3://capture/churn/serverless/2026/05/03/' });
    expect(result).toMatchObject({ status: 'insufficient-data', sampleSize: 200, driftedFeatureShare: null, windowStart: null });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ DriftSampleSize: 200 });
    expect(published[0]).not.toHaveProperty('DatasetDrift');
  });

  it('reads 8 capture objects at a time, whatever their number', async () => {
    for (let index = 0; index < 12; index++) {
      await put('capture', `churn/serverless/2026/05/04/08/${index}.jsonl`, serverlessLines(100, '2026-05-04T08:00:00.000Z'));
    }
    const s3Store = new S3ObjectStore(s3Client);
    let open = 0;
    let mostOpen = 0;
    const counting: ObjectStore = Object.assign(Object.create(s3Store), {
      async stream(bucket: string, key: string) {
        const source = await s3Store.stream(bucket, key);
        open++;
        mostOpen = Math.max(mostOpen, open);
        return (async function* () {
          try {
            // Let every other worker open its stream before this one is read.
            await new Promise((resolve) => setTimeout(resolve, 20));
            yield* source;
          } finally {
            open--;
          }
        })();
      },
    });
    const result = await newHandler(tableName, counting)({ model: 'churn', captureUri: 's3://capture/churn/serverless/2026/05/04/' });
    expect(result).toMatchObject({ captureObjects: 12, sampleSize: 1200 });
    expect(mostOpen).toBe(8);
  });

  it('refuses a bad event, naming the field', async () => {
    await expect(handler({ model: 'churn', windowEnd: 'yesterday' })).rejects.toThrow(
      /invalid check-drift event: windowEnd: must be an ISO 8601 time/,
    );
    await expect(handler({ model: 'fraud' })).rejects.toThrow(/this function checks model "churn", not "fraud"/);
    await expect(handler({ model: 'churn', windowStart: WINDOW_END, windowEnd: '2026-04-01T00:00:00Z' })).rejects.toThrow(
      /windowStart must be before windowEnd/,
    );
  });
});

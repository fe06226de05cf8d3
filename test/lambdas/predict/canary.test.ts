/**
 * The model-version canary inside predict: routing by request-id hash (share honoured, a
 * request's rows kept together), both sessions loaded, the 30 s registry TTL noticing a new
 * Staging or Production version, fallback to production when the candidate fails, and the
 * Canary* metrics emitted (embedded metric format, dimension Model only) for canary requests only.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VersionRecord } from '../../../contracts/registry';
import type { PredictResponse } from '../../../contracts/serving-schema';
import { canaryMetricsFor, createPredictHandler, predictorFromEnvironment } from '../../../lambdas/predict/predict';
import type { ArtifactObjects } from '../../../lambdas/shared/object-store';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import { type CanaryObservation, canaryBucket, Predictor, type Scorer } from '../../../lambdas/shared/serving/predictor';
import { CHURN_SCHEMA, churnModelBytes, churnRows } from '../../../testkit/churn-model';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';
import { packModelArchive, sha256Hex } from '../../../testkit/onnx-model';
import { registerChurnVersions } from '../../support/registry-versions';

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';

/** A scorer that answers every row with a probability identifying its version (0.1 * version). */
function versionScorer(version: number, rowsSeen: number[]): Scorer {
  return {
    async score(_values, rows) {
      rowsSeen.push(rows);
      return { data: new Float32Array(rows).fill(0.1 * version), dims: [rows, 1] };
    },
  };
}

describe('model-version canary in predict', () => {
  let store: InMemoryRegistryStore;
  let registry: Registry;
  let loads: number[];
  let rowsSeen: Record<number, number[]>;
  let failingVersions: Set<number>;
  const loadScorer = async (version: VersionRecord): Promise<Scorer> => {
    loads.push(version.version);
    if (failingVersions.has(version.version)) throw new Error(`artifact of v${version.version} is corrupt`);
    rowsSeen[version.version] = [];
    return versionScorer(version.version, rowsSeen[version.version]!);
  };

  beforeEach(async () => {
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    loads = [];
    rowsSeen = {};
    failingVersions = new Set();
    await registerChurnVersions(registry, 3, ACTOR);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
  });

  const stage = (version: number) => registry.transition({ modelName: 'churn', version, toStage: 'Staging', actor: ACTOR });

  it('spreads request ids evenly: 10% of 20,000 random and 20,000 sequential ids fall in the canary share, within 1 point', () => {
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, canaryPercent: 10 });
    const random = Array.from({ length: 20_000 }, () => randomUUID()).filter((id) => predictor.routesToCanary(id)).length;
    const sequential = Array.from({ length: 20_000 }, (_, index) => `req-${index}`).filter((id) => predictor.routesToCanary(id)).length;
    expect(random / 20_000).toBeGreaterThan(0.09);
    expect(random / 20_000).toBeLessThan(0.11);
    expect(sequential / 20_000).toBeGreaterThan(0.09);
    expect(sequential / 20_000).toBeLessThan(0.11);
    expect(canaryBucket('same-id')).toBe(canaryBucket('same-id'));
    // 10,000 buckets (pipeline.md): shares in hundredths of a percent.
    const buckets = Array.from({ length: 20_000 }, (_, index) => canaryBucket(`req-${index}`));
    expect(buckets.every((bucket) => Number.isInteger(bucket) && bucket >= 0 && bucket < 10_000)).toBe(true);
    expect(Math.max(...buckets)).toBeGreaterThanOrEqual(9990);
  });

  it('serves the canary share with the Staging version and the rest with production, keeping both sessions loaded', async () => {
    await stage(2);
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, canaryPercent: 25 });
    expect(await predictor.loadedVersions()).toEqual({ production: 1, canary: 2 });
    const served: number[] = [];
    for (let index = 0; index < 2000; index++) {
      const { response } = await predictor.predict(churnRows(3, index + 1), `request-${index}`);
      served.push(response.modelVersion);
      // All rows of a request come from one version: its probability says which.
      const probabilities = response.predictions.map((prediction) => (prediction as { probabilities: number[] }).probabilities[1]!);
      for (const probability of probabilities) expect(probability).toBeCloseTo(0.1 * response.modelVersion, 6);
    }
    const share = served.filter((version) => version === 2).length / served.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.28);
    expect(loads).toEqual([1, 2]);
    expect(rowsSeen[2]!.every((rows) => rows === 3)).toBe(true);
    // Deterministic: a request id is answered by the same version every time.
    const id = Array.from({ length: 100 }, (_, index) => `retry-${index}`).find((candidate) => predictor.routesToCanary(candidate))!;
    for (let attempt = 0; attempt < 5; attempt++) expect((await predictor.predict(churnRows(1), id)).response.modelVersion).toBe(2);
  });

  it('serves production only when there is no Staging version, or when the canary share is 0', async () => {
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, canaryPercent: 50 });
    const versions = new Set<number>();
    for (let index = 0; index < 200; index++) versions.add((await predictor.predict(churnRows(1), `r-${index}`)).response.modelVersion);
    expect([...versions]).toEqual([1]);
    expect(await predictor.loadedVersions()).toEqual({ production: 1 });

    await stage(2);
    loads = [];
    const noCanary = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer });
    for (let index = 0; index < 200; index++) expect((await noCanary.predict(churnRows(1), `r-${index}`)).response.modelVersion).toBe(1);
    expect(loads).toEqual([1]);
  });

  it('notices a new Staging version, its promotion and its rejection once the 30 s registry TTL has passed, reusing loaded sessions', async () => {
    let now = 0;
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, canaryPercent: 10, now: () => now });
    expect(await predictor.loadedVersions()).toEqual({ production: 1 });
    await stage(2);
    now = 29_999;
    expect(await predictor.loadedVersions()).toEqual({ production: 1 });
    now = 30_000;
    expect(await predictor.loadedVersions()).toEqual({ production: 1, canary: 2 });
    await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR });
    now = 60_000;
    expect(await predictor.loadedVersions()).toEqual({ production: 2 });
    // The promoted canary kept its session: no second load of version 2.
    expect(loads).toEqual([1, 2]);
    await stage(3);
    now = 90_000;
    expect(await predictor.loadedVersions()).toEqual({ production: 2, canary: 3 });
    await registry.transition({ modelName: 'churn', version: 3, toStage: 'Rejected', actor: ACTOR, reason: 'canary alarm' });
    now = 120_000;
    expect(await predictor.loadedVersions()).toEqual({ production: 2 });
    expect(loads).toEqual([1, 2, 3]);
  });

  it('answers a canary request with production when the candidate cannot load or score, and reports it failed', async () => {
    await stage(2);
    failingVersions.add(2);
    const observations: CanaryObservation[] = [];
    const predictor = new Predictor({
      schema: CHURN_SCHEMA,
      registry: store,
      loadScorer,
      canaryPercent: 100,
      onCanaryRequest: (observation) => observations.push(observation),
    });
    const { response } = await predictor.predict(churnRows(2), 'any');
    expect(response.modelVersion).toBe(1);
    expect(observations).toHaveLength(1);
    expect(observations[0]).toMatchObject({ version: 2, failed: true });
    expect(observations[0]!.error?.message).toBe('artifact of v2 is corrupt');
  });
});

describe('Canary* metrics from the predict handler', () => {
  let lines: string[];
  let store: InMemoryRegistryStore;
  const objects = new Map<string, Uint8Array>();
  const artifacts: ArtifactObjects = {
    getBytes: async (bucket, key) => {
      const body = objects.get(`${bucket}/${key}`);
      if (!body) throw new Error(`NoSuchKey: ${bucket}/${key}`);
      return body;
    },
    put: async () => undefined,
  };

  beforeEach(async () => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    lines = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    store = new InMemoryRegistryStore();
    const registry = new Registry(store, { knownModels: ['churn'] });
    objects.clear();
    for (const [number, weights] of [
      [1, undefined],
      [2, [0.05, -0.02, 0.8, 0.3]],
    ] as const) {
      const archive = await packModelArchive(churnModelBytes(weights));
      objects.set(`artifacts/models/churn/v${number}/model.tar.gz`, archive);
      await registry.registerVersion({
        modelName: 'churn',
        artifactUri: `s3://artifacts/models/churn/v${number}/model.tar.gz`,
        artifactSha256: sha256Hex(archive),
        lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
        actor: ACTOR,
      });
    }
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  function handlerAndPredictor() {
    const logger = new Logger({ logLevel: 'SILENT' });
    const canaryMetrics = canaryMetricsFor('churn');
    const environment = { TABLE_NAME: 'registry', MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA), CANARY_PERCENT: '10' };
    const predictor = predictorFromEnvironment(environment, store, artifacts, logger, canaryMetrics);
    const metrics = new Metrics({ namespace: 'CdkMlops', serviceName: 'predict' });
    return { predictor, handle: createPredictHandler({ predictor, logger, metrics, canaryMetrics }) };
  }

  const emf = () =>
    lines
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> } });
  const idRouted = (predictor: Predictor, toCanary: boolean) =>
    Array.from({ length: 500 }, (_, index) => `inv-${index}`).find((id) => predictor.routesToCanary(id) === toCanary)!;

  it('emits CanaryRequests, CanaryFailedRequests and CanaryLatency with only the Model dimension, for a canary request only', async () => {
    const { predictor, handle } = handlerAndPredictor();
    const production = (await handle({ instances: churnRows(2) }, { awsRequestId: idRouted(predictor, false) })) as PredictResponse;
    expect(production.modelVersion).toBe(1);
    expect(emf().some((line) => 'PredictedRows' in line)).toBe(true);
    expect(emf().filter((line) => 'CanaryRequests' in line)).toEqual([]);

    const canary = (await handle({ instances: churnRows(2) }, { awsRequestId: idRouted(predictor, true) })) as PredictResponse;
    expect(canary.modelVersion).toBe(2);
    const canaryLines = emf().filter((line) => 'CanaryRequests' in line);
    expect(canaryLines).toHaveLength(1);
    const [line] = canaryLines;
    expect(line).toMatchObject({ Model: 'churn', CanaryRequests: 1, CanaryFailedRequests: 0 });
    expect(line!.service).toBeUndefined();
    expect(line!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'CdkMlops', Dimensions: [['Model']] });
    expect(line!.CanaryLatency as number).toBeGreaterThanOrEqual(0);
    expect(line!.CanaryLatency as number).toBeLessThan(1000);
  });

  it('counts a candidate whose artifact cannot be read as a failed canary request while production answers', async () => {
    objects.delete('artifacts/models/churn/v2/model.tar.gz');
    const { predictor, handle } = handlerAndPredictor();
    const response = (await handle({ instances: churnRows(1) }, { awsRequestId: idRouted(predictor, true) })) as PredictResponse;
    expect(response.modelVersion).toBe(1);
    const canaryLines = emf().filter((entry) => 'CanaryRequests' in entry);
    expect(canaryLines).toHaveLength(1);
    expect(canaryLines[0]).toMatchObject({ Model: 'churn', CanaryRequests: 1, CanaryFailedRequests: 1 });
  });
});

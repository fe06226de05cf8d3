/**
 * The shadow phase inside predict and the shadow function: a Staging version in shadow answers no
 * caller (production answers every request), shadowPercent of requests come back with a mirrored
 * request carrying production's answers, which predict hands over after answering (a failed or
 * dropped hand-over is counted, never the caller's error); the shadow function scores a mirror
 * with the candidate and compares answers (same label; regression within a relative tolerance).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PREDICT_METRICS } from '../../../contracts/metrics';
import type { VersionRecord } from '../../../contracts/registry';
import type { PredictResponse } from '../../../contracts/serving-schema';
import { createPredictHandler } from '../../../lambdas/predict/predict';
import { ShadowScorer } from '../../../lambdas/shadow-score/shadow-score';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import { Predictor, type Scorer } from '../../../lambdas/shared/serving/predictor';
import { agreementOf, agrees, type MirrorRequest, mirrorPayload } from '../../../lambdas/shared/serving/shadow';
import { CHURN_SCHEMA, churnRows } from '../../../testkit/churn-model';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';
import { registerChurnVersions } from '../../support/registry-versions';

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';

/** Every row gets probability 0.1 × version: versions 1-4 answer label 0, versions 5 and up label 1. */
function versionScorer(version: number): Scorer {
  return {
    async score(_values, rows) {
      return { data: new Float32Array(rows).fill(0.1 * version), dims: [rows, 1] };
    },
  };
}

describe('shadow phase in predict', () => {
  let store: InMemoryRegistryStore;
  let registry: Registry;
  let loads: number[];
  const loadScorer = async (version: VersionRecord): Promise<Scorer> => {
    loads.push(version.version);
    return versionScorer(version.version);
  };

  beforeEach(async () => {
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    loads = [];
    await registerChurnVersions(registry, 6, ACTOR);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
  });
  afterEach(() => vi.restoreAllMocks());

  const shadow = (version: number) =>
    registry.transition({ modelName: 'churn', version, toStage: 'Staging', phase: 'shadow', actor: ACTOR });

  it('answers every request from production while the candidate is in shadow, never loading the candidate, and mirrors the share with production answers', async () => {
    await shadow(6);
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, canaryPercent: 50, shadowPercent: 30 });
    expect(await predictor.loadedVersions()).toEqual({ production: 1, shadow: 6 });
    const rows = churnRows(3);
    let mirrored = 0;
    for (let request = 0; request < 2000; request++) {
      const outcome = await predictor.predict(rows, `req-${request}`);
      expect(outcome.response.modelVersion).toBe(1);
      if (outcome.mirror) {
        mirrored++;
        expect(outcome.mirror).toEqual({
          modelName: 'churn',
          requestId: `req-${request}`,
          productionVersion: 1,
          candidateVersion: 6,
          instances: rows,
          production: [0, 0, 0],
        });
      }
    }
    expect(mirrored / 2000).toBeGreaterThan(0.27);
    expect(mirrored / 2000).toBeLessThan(0.33);
    expect(loads).toEqual([1]);
  });

  it('mirrors nothing with shadowPercent 0 or a candidate in its canary, and routes the canary once the phase moves on', async () => {
    await shadow(6);
    const off = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, canaryPercent: 50, shadowPercent: 0 });
    for (let request = 0; request < 100; request++) expect((await off.predict(churnRows(1), `off-${request}`)).mirror).toBeUndefined();
    await registry.setRolloutPhase({ modelName: 'churn', version: 6, phase: 'canary', actor: ACTOR });
    const canary = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, canaryPercent: 50, shadowPercent: 100 });
    const versions = new Set<number>();
    for (let request = 0; request < 100; request++) {
      const outcome = await canary.predict(churnRows(1), `canary-${request}`);
      expect(outcome.mirror).toBeUndefined();
      versions.add(outcome.response.modelVersion);
    }
    expect([...versions].sort()).toEqual([1, 6]);
  });

  it('hands the mirror over after answering; a failed or dropped hand-over is counted and the caller still gets its answer', async () => {
    await shadow(6);
    const predictor = new Predictor({ schema: CHURN_SCHEMA, registry: store, loadScorer, shadowPercent: 100 });
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'predict' });
    const added = vi.spyOn(metrics, 'addMetric');
    const logger = new Logger({ logLevel: 'SILENT' });
    const handed: MirrorRequest[] = [];
    const outcomes: Array<'sent' | 'dropped' | 'throws'> = ['sent', 'dropped', 'throws'];
    let call = 0;
    const handle = createPredictHandler({
      predictor,
      logger,
      metrics,
      mirror: async (request) => {
        const outcome = outcomes[call++]!;
        if (outcome === 'throws') throw new Error('Rate exceeded');
        if (outcome === 'sent') handed.push(request);
        return outcome === 'sent';
      },
    });
    for (let request = 0; request < 3; request++) {
      const response = (await handle({ instances: churnRows(2) }, { awsRequestId: `r-${request}` })) as PredictResponse;
      expect(response.modelVersion).toBe(1);
      expect(response.predictions).toHaveLength(2);
    }
    expect(handed.map((request) => request.requestId)).toEqual(['r-0']);
    const dropped = added.mock.calls.filter(([name]) => name === PREDICT_METRICS.shadowMirrorsDropped);
    expect(dropped).toHaveLength(2);
  });

  it('drops a mirror over the 1 MB asynchronous payload limit', () => {
    const request = (rows: number): MirrorRequest => ({
      modelName: 'churn',
      requestId: 'r',
      productionVersion: 1,
      candidateVersion: 2,
      instances: Array.from({ length: rows }, () => ({ note: 'x'.repeat(1000) })),
      production: Array.from({ length: rows }, () => 0),
    });
    expect(mirrorPayload(request(10))).toBeInstanceOf(Uint8Array);
    expect(mirrorPayload(request(1100))).toBeUndefined();
  });
});

describe('agreement with production', () => {
  const regression = 'regression' as const;

  it('agrees on the same label only for a classifier', () => {
    expect(agrees('binary-classification', 1, { label: 1, probabilities: [0.2, 0.8] }, 0)).toBe(true);
    expect(agrees('binary-classification', 1, { label: 0, probabilities: [0.8, 0.2] }, 1)).toBe(false);
    expect(agrees('multiclass-classification', 'b', { label: 'b', probabilities: [0, 1, 0] }, 0)).toBe(true);
  });

  it('agrees within the relative tolerance for a regression model (0 only with 0; non-finite never)', () => {
    expect(agrees(regression, 100, { value: 104.9 }, 0.05)).toBe(true);
    expect(agrees(regression, 100, { value: 105.1 }, 0.05)).toBe(false);
    expect(agrees(regression, -100, { value: -96 }, 0.05)).toBe(true);
    expect(agrees(regression, 0, { value: 0 }, 0.05)).toBe(true);
    expect(agrees(regression, 0, { value: 1e-9 }, 0.05)).toBe(false);
    expect(agrees(regression, 1, { value: Number.NaN }, 0.05)).toBe(false);
  });

  it('counts agreeing rows as the number of rows agrees() accepts, and refuses answers of different lengths', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), {
          maxLength: 50,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (pairs, tolerance) => {
          const production = pairs.map(([value]) => value);
          const candidate = pairs.map(([, value]) => ({ value }));
          const { comparedRows, agreeingRows } = agreementOf(regression, production, candidate, tolerance);
          expect(comparedRows).toBe(pairs.length);
          expect(agreeingRows).toBe(pairs.filter(([a, b]) => Math.abs(a - b) <= tolerance * Math.abs(a)).length);
          // A candidate identical to production always agrees fully.
          expect(
            agreementOf(
              regression,
              production,
              production.map((value) => ({ value })),
              tolerance,
            ).agreeingRows,
          ).toBe(pairs.length);
        },
      ),
    );
    expect(() => agreementOf(regression, [1, 2], [{ value: 1 }], 0)).toThrow('production answered 2 rows and the candidate 1');
  });
});

describe('the shadow function', () => {
  let store: InMemoryRegistryStore;
  let registry: Registry;

  beforeEach(async () => {
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    await registerChurnVersions(registry, 6, ACTOR);
  });

  const mirror = (candidateVersion: number, production: number[]): MirrorRequest => ({
    modelName: 'churn',
    requestId: 'req-1',
    productionVersion: 1,
    candidateVersion,
    instances: churnRows(production.length),
    production,
  });

  it("scores a mirror with the candidate, counting rows that agree with production's answers and timing the scoring only", async () => {
    let now = 0;
    const loads: number[] = [];
    const scorer = new ShadowScorer({
      schema: CHURN_SCHEMA,
      registry: store,
      tolerance: 0.05,
      clock: () => now,
      loadScorer: async (version) => {
        loads.push(version.version);
        now += 1000; // loading is not the candidate's latency
        const inner = versionScorer(version.version);
        return {
          async score(values, rows, columns) {
            now += 7;
            return inner.score(values, rows, columns);
          },
        };
      },
    });
    const agreeing = await scorer.observe(scorer.parse(JSON.parse(JSON.stringify(mirror(2, [0, 0, 1, 0])))));
    expect(agreeing).toEqual({ version: 2, failed: false, latencyMs: 7, comparedRows: 4, agreeingRows: 3 });
    const disagreeing = await scorer.observe(mirror(6, [0, 0, 1, 0]));
    expect(disagreeing).toMatchObject({ version: 6, failed: false, comparedRows: 4, agreeingRows: 1 });
    await scorer.observe(mirror(6, [1]));
    expect(loads).toEqual([2, 6]);
  });

  it("reports the candidate failed (not the caller's fault) when its artifact cannot load, and loads it again next time", async () => {
    let failing = true;
    const scorer = new ShadowScorer({
      schema: CHURN_SCHEMA,
      registry: store,
      tolerance: 0,
      loadScorer: async (version) => {
        if (failing) throw new Error('checksum mismatch');
        return versionScorer(version.version);
      },
    });
    const failed = await scorer.observe(mirror(6, [1, 1]));
    expect(failed).toMatchObject({ version: 6, failed: true, comparedRows: 0, agreeingRows: 0 });
    expect(failed.error?.message).toBe('checksum mismatch');
    failing = false;
    expect(await scorer.observe(mirror(6, [1, 1]))).toMatchObject({ failed: false, comparedRows: 2, agreeingRows: 2 });
  });

  it('refuses a malformed mirror or one for another model', () => {
    const scorer = new ShadowScorer({
      schema: CHURN_SCHEMA,
      registry: store,
      tolerance: 0,
      loadScorer: async (v) => versionScorer(v.version),
    });
    expect(() => scorer.parse({ ...mirror(2, [0]), production: [0, 1] })).toThrow('production must hold one answer per row');
    expect(() => scorer.parse({ ...mirror(2, [0]), modelName: 'fraud' })).toThrow('this function shadows "churn"');
  });
});

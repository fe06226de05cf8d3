/**
 * Metric functions against hand-computed values (small confusion matrices, ROC-AUC with ties,
 * regression errors, disparate impact), fast-check properties (ROC-AUC is the Mann–Whitney U
 * probability counted pair by pair; metrics do not depend on row order), and the gate's sentences.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../contracts/platform-config';
import type { ModelSchema } from '../../../contracts/serving-schema';
import { applyGate, formatNumber } from '../../../lambdas/evaluate-model/gate';
import type { Holdout } from '../../../lambdas/evaluate-model/holdout';
import {
  binaryScores,
  confusionMatrix,
  disparateImpact,
  macroRocAuc,
  multiclassScores,
  regressionScores,
  rocAuc,
} from '../../../lambdas/evaluate-model/metrics';
import { assessQuality, registryMetrics } from '../../../lambdas/evaluate-model/quality';

describe('classification scores', () => {
  it('reads accuracy, precision, recall and F1 of the positive class from a 2x2 confusion matrix', () => {
    // TP 3, FN 1, FP 1, TN 5
    const actual = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    const predicted = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0];
    const counts = confusionMatrix(actual, predicted, 2);
    expect(counts).toEqual([
      [5, 1],
      [1, 3],
    ]);
    expect(binaryScores(counts)).toEqual({ accuracy: 0.8, precision: 0.75, recall: 0.75, f1: 0.75 });
  });

  it('computes F1 as the harmonic mean when precision and recall differ', () => {
    // TP 2, FP 2, FN 3, TN 3: precision 0.5, recall 0.4, F1 = 0.4 / 0.9
    const scores = binaryScores([
      [3, 2],
      [3, 2],
    ]);
    expect(scores.accuracy).toBe(0.5);
    expect(scores.precision).toBe(0.5);
    expect(scores.recall).toBe(0.4);
    expect(scores.f1).toBeCloseTo(4 / 9, 12);
  });

  it('gives precision and F1 of 0 when nothing is predicted positive', () => {
    expect(
      binaryScores([
        [6, 0],
        [4, 0],
      ]),
    ).toEqual({ accuracy: 0.6, precision: 0, recall: 0, f1: 0 });
  });

  it('macro-averages precision, recall and F1 over three classes', () => {
    const scores = multiclassScores([
      [2, 1, 0],
      [0, 3, 1],
      [1, 0, 2],
    ]);
    expect(scores.accuracy).toBe(0.7);
    const macro = (2 / 3 + 3 / 4 + 2 / 3) / 3;
    expect(scores.precision).toBeCloseTo(macro, 12);
    expect(scores.recall).toBeCloseTo(macro, 12);
    expect(scores.f1).toBeCloseTo(macro, 12);
  });
  it('refuses actual and predicted labels of different lengths', () => {
    expect(() => confusionMatrix([0, 1, 1], [0, 1], 2)).toThrow('3 actual values but 2 predictions');
  });

  it('macro-averages over the classes in the data or the predictions only, leaving a class absent from both out', () => {
    // Class 2 appears nowhere: it is not averaged in as a zero.
    expect(
      multiclassScores([
        [2, 0, 0],
        [0, 2, 0],
        [0, 0, 0],
      ]),
    ).toEqual({ accuracy: 1, precision: 1, recall: 1, f1: 1 });
    // Class 1 is only predicted, class 2 only actual: both count (precision 1, 0, 0; recall 1/2, 0, 0).
    const scores = multiclassScores([
      [1, 1, 0],
      [0, 0, 0],
      [0, 1, 0],
    ]);
    expect(scores.precision).toBeCloseTo(1 / 3, 12);
    expect(scores.recall).toBeCloseTo(1 / 6, 12);
  });
});

describe('ROC-AUC', () => {
  it('matches the textbook example', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
  });

  it('counts a tie between a positive and a negative as one half', () => {
    // Pairs: 0.5>0.2, 0.5=0.5 (½), 0.9>0.2, 0.9>0.5 → 3.5 of 4
    expect(rocAuc([0.2, 0.5, 0.5, 0.9], [false, true, false, true])).toBe(0.875);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [true, false, true, false])).toBe(0.5);
  });

  it('is 1 for a perfect ranking, 0 for an inverted one, and undefined with one class', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [false, false, true, true])).toBe(0);
    expect(rocAuc([0.1, 0.9], [true, true])).toBeUndefined();
  });

  it('averages one-vs-rest areas over classes for a multiclass model', () => {
    // Classes 0 and 1 ranked perfectly (1 each); class 2 scores every row 0.1, a tie throughout (0.5).
    const probabilities = [0.9, 0, 0.1, 0, 0.9, 0.1, 0.4, 0.5, 0.1, 0.5, 0.4, 0.1];
    const actual = [0, 1, 2, 2];
    expect(macroRocAuc(probabilities, actual, 3)).toBeCloseTo(2.5 / 3, 12);
  });

  it('has no multiclass area when every row is of one class', () => {
    expect(macroRocAuc([0.5, 0.5, 0.2, 0.8], [1, 1], 2)).toBeUndefined();
  });

  it('equals the Mann–Whitney U probability counted pair by pair, ties included', () => {
    // size 'max' here and below: fast-check 4 otherwise caps an array at 2 × minLength + 10 rows.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.boolean()), { minLength: 2, maxLength: 60, size: 'max' }),
        (rows) => {
          const scores = rows.map(([score]) => score / 6);
          const labels = rows.map(([, label]) => label);
          const positives = scores.filter((_, i) => labels[i]);
          const negatives = scores.filter((_, i) => !labels[i]);
          const area = rocAuc(scores, labels);
          if (positives.length === 0 || negatives.length === 0) return area === undefined;
          let wins = 0;
          for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
          return Math.abs(area! - wins / (positives.length * negatives.length)) < 1e-12;
        },
      ),
    );
  });
});

describe('regression scores', () => {
  it('computes MAE, RMSE and R² of a small example', () => {
    const scores = regressionScores([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(scores.mae).toBe(0.5);
    expect(scores.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(scores.r2).toBeCloseTo(1 - 1.5 / 29.1875, 12);
  });

  it('reports R² of a constant target as 1 for a perfect fit and 0 otherwise', () => {
    expect(regressionScores([2, 2, 2], [2, 2, 2]).r2).toBe(1);
    expect(regressionScores([2, 2, 2], [1, 2, 3]).r2).toBe(0);
  });

  it('refuses to score no rows', () => {
    expect(() => regressionScores([], [])).toThrow('regression scores need at least one row');
  });
});

describe('disparate impact', () => {
  it("divides each group's rate by the largest group's, so a ratio can fall on either side of parity", () => {
    const impact = disparateImpact([
      { group: 'a', rows: 500, rate: 0.5 },
      { group: 'b', rows: 300, rate: 0.4 },
      { group: 'c', rows: 200, rate: 0.6 },
    ])!;
    expect(impact.reference).toEqual({ group: 'a', rows: 500, rate: 0.5 });
    expect(impact.ratios.map((ratio) => [ratio.group, ratio.ratio])).toEqual([
      ['b', 0.4 / 0.5],
      ['c', 0.6 / 0.5],
    ]);
    // Furthest from parity in log terms: |ln 0.8| = 0.223 > |ln 1.2| = 0.182.
    expect(impact.value).toBeCloseTo(0.8, 12);
    expect(
      disparateImpact([
        { group: 'a', rows: 10, rate: 0 },
        { group: 'b', rows: 5, rate: 0 },
      ])!.value,
    ).toBe(1);
    expect(disparateImpact([{ group: 'a', rows: 10, rate: 0.3 }])).toBeUndefined();
  });

  it("gives each ratio Katz's 95% log interval (hand-computed: 0.3 of 40 against 0.5 of 40)", () => {
    const [ratio] = disparateImpact([
      { group: 'F', rows: 40, rate: 0.5 },
      { group: 'M', rows: 40, rate: 0.3 },
    ])!.ratios;
    // se = sqrt(0.7 / 12 + 0.5 / 20) = 0.288675; 0.6 · exp(±1.959964 · se)
    expect(ratio!.ratio).toBeCloseTo(0.6, 12);
    expect(ratio!.interval[0]).toBeCloseTo(0.340746, 5);
    expect(ratio!.interval[1]).toBeCloseTo(1.056506, 5);
  });

  it('takes the largest group as the reference whatever the input order, the first name on a tie', () => {
    const impact = disparateImpact([
      { group: 'small', rows: 10, rate: 0.2 },
      { group: 'large', rows: 90, rate: 0.4 },
    ])!;
    expect(impact.reference.group).toBe('large');
    expect(impact.ratios.map((ratio) => [ratio.group, ratio.ratio])).toEqual([['small', 0.5]]);
    const tie = disparateImpact([
      { group: 'b', rows: 50, rate: 0.4 },
      { group: 'a', rows: 50, rate: 0.2 },
      { group: 'c', rows: 50, rate: 0.8 },
    ])!;
    expect(tie.reference.group).toBe('a');
    expect(tie.ratios.map((ratio) => ratio.group)).toEqual(['b', 'c']);
  });

  it('gives a ratio against a reference rate of 0 as 1 for another 0 and as infinite otherwise', () => {
    const impact = disparateImpact([
      { group: 'a', rows: 100, rate: 0 },
      { group: 'b', rows: 50, rate: 0 },
      { group: 'c', rows: 40, rate: 0.1 },
    ])!;
    expect(impact.ratios.map((ratio) => ratio.ratio)).toEqual([1, Number.POSITIVE_INFINITY]);
    expect(impact.value).toBe(Number.POSITIVE_INFINITY);
  });

  it('reports the ratio furthest from parity in log terms: the first of two equally far, a ratio of 0 beyond any other', () => {
    // |ln 2| = |ln 0.5|: the first ratio (the larger group) stays.
    const even = disparateImpact([
      { group: 'ref', rows: 100, rate: 0.4 },
      { group: 'high', rows: 60, rate: 0.8 },
      { group: 'low', rows: 50, rate: 0.2 },
    ])!;
    expect(even.value).toBe(2);
    // A later, further ratio replaces an earlier one.
    const further = disparateImpact([
      { group: 'ref', rows: 100, rate: 0.4 },
      { group: 'near', rows: 60, rate: 0.36 },
      { group: 'far', rows: 50, rate: 0.1 },
    ])!;
    expect(further.value).toBe(0.25);
    const none = disparateImpact([
      { group: 'ref', rows: 100, rate: 0.5 },
      { group: 'some', rows: 60, rate: 0.4 },
      { group: 'none', rows: 50, rate: 0 },
    ])!;
    expect(none.value).toBe(0);
  });

  it('adds half a count to a group with all or no favourable outcomes, so its interval stays finite (values from the formula in Python)', () => {
    const interval = (reference: { rows: number; rate: number }, group: { rows: number; rate: number }) =>
      disparateImpact([
        { group: 'reference', ...reference },
        { group: 'group', ...group },
      ])!.ratios[0]!.interval;
    // p1 = 50.5 / 51 for 50 of 50 favourable.
    const all = interval({ rows: 100, rate: 0.5 }, { rows: 50, rate: 1 });
    expect(all[0]).toBeCloseTo(1.624771905416849, 12);
    expect(all[1]).toBeCloseTo(2.413848418899923, 12);
    // p1 = 0.5 / 51 for none of 50.
    const none = interval({ rows: 100, rate: 0.5 }, { rows: 50, rate: 0 });
    expect(none[0]).toBeCloseTo(0.001201307825635346, 14);
    expect(none[1]).toBeCloseTo(0.32004079578176203, 12);
    // The reference group is smoothed the same way: p0 = 100.5 / 101.
    const reference = interval({ rows: 100, rate: 1 }, { rows: 50, rate: 0.5 });
    expect(reference[0]).toBeCloseTo(0.3807129141122683, 12);
    expect(reference[1]).toBeCloseTo(0.6632129901436478, 12);
  });

  it('refuses a confidence level it has no normal quantile for', () => {
    const groups = [
      { group: 'a', rows: 10, rate: 0.5 },
      { group: 'b', rows: 10, rate: 0.5 },
    ];
    expect(() => disparateImpact(groups, 0.8)).toThrow(new RangeError('confidence must be one of 0.9, 0.95, 0.99, got 0.8'));
    expect(disparateImpact(groups, 0.99)!.confidence).toBe(0.99);
  });

  it('narrows the interval as the groups grow, so real disparities stay visible', () => {
    const width = (rows: number) => {
      const [ratio] = disparateImpact([
        { group: 'F', rows, rate: 0.5 },
        { group: 'M', rows, rate: 0.3 },
      ])!.ratios;
      return ratio!.interval[1] - ratio!.interval[0];
    };
    expect(width(4000)).toBeLessThan(width(400));
    expect(width(400)).toBeLessThan(width(40));
  });
});

describe('metrics do not depend on row order', () => {
  it('holds for classification scores, ROC-AUC and regression scores under any permutation', () => {
    fc.assert(
      fc.property(
        fc
          .array(
            fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 10 }), fc.float({ min: -100, max: 100, noNaN: true })),
            {
              minLength: 2,
              maxLength: 40,
              size: 'max',
            },
          )
          .chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        ([rows, shuffled]) => {
          const measure = (data: typeof rows) => {
            const actual = data.map(([label]) => label);
            const scores = data.map(([, score]) => score / 10);
            const predicted = scores.map((score) => (score >= 0.5 ? 1 : 0));
            return {
              classification: binaryScores(confusionMatrix(actual, predicted, 2)),
              area: rocAuc(
                scores,
                actual.map((label) => label === 1),
              ),
              regression: regressionScores(
                data.map(([, score]) => score),
                data.map(([, , value]) => value),
              ),
            };
          };
          const a = measure(rows);
          const b = measure(shuffled);
          expect(b.classification).toEqual(a.classification);
          expect(b.area).toBe(a.area);
          expect(b.regression.mae).toBeCloseTo(a.regression.mae, 9);
          expect(b.regression.rmse).toBeCloseTo(a.regression.rmse, 9);
          expect(b.regression.r2).toBeCloseTo(a.regression.r2, 9);
        },
      ),
    );
  });
});

const BINARY_SCHEMA: ModelSchema = {
  modelName: 'churn',
  problemType: 'binary-classification',
  features: [{ name: 'x', type: 'number', nullable: false }],
  ignoredColumns: [],
  classLabels: [0, 1],
};

/** A holdout whose rows are (group, actual label, positive probability). */
function holdoutOf(rows: readonly [string, number, number][]): { holdout: Holdout; positive: Float32Array } {
  const groupNames = [...new Set(rows.map(([group]) => group))];
  return {
    holdout: {
      uri: 's3://datasets/holdout.csv',
      objects: [],
      rows: rows.length,
      width: 1,
      features: new Float32Array(rows.length),
      targets: Float64Array.from(rows.map(([, label]) => label)),
      groups: Int32Array.from(rows.map(([group]) => groupNames.indexOf(group))),
      groupNames,
      skipped: { nullTarget: 0, invalidTarget: 0, invalidFeature: 0, unreadable: 0, examples: [] },
    },
    positive: Float32Array.from(rows.map(([, , probability]) => probability)),
  };
}

describe('assessQuality', () => {
  it('computes per-group rates and the disparate impact over groups of at least 30 rows', () => {
    // F: 40 rows, 20 predicted positive (rate 0.5); M: 40 rows, 12 predicted positive (rate 0.3); X: 5 rows, none positive.
    const rows: [string, number, number][] = [
      ...Array.from({ length: 40 }, (_, i): [string, number, number] => ['F', i < 20 ? 1 : 0, i < 20 ? 0.9 : 0.1]),
      ...Array.from({ length: 40 }, (_, i): [string, number, number] => ['M', i < 16 ? 1 : 0, i < 12 ? 0.8 : 0.2]),
      ...Array.from({ length: 5 }, (): [string, number, number] => ['X', 0, 0.3]),
    ];
    const { holdout, positive } = holdoutOf(rows);
    const quality = assessQuality(BINARY_SCHEMA, holdout, { kind: 'binary', positive });
    expect(quality.groups.map((group) => [group.group, group.rows, group.positiveRate, group.accuracy])).toEqual([
      ['F', 40, 0.5, 1],
      ['M', 40, 0.3, 0.9],
      ['X', 5, 0, 1],
    ]);
    expect(quality.disparateImpact).toMatchObject({
      reference: { group: 'F', rows: 40, rate: 0.5 },
      ratios: [{ group: 'M', rows: 40, rate: 0.3, ratio: 0.3 / 0.5 }],
      value: 0.3 / 0.5,
      minGroupRows: 30,
    });
    // 85 rows, 4 wrong (M rows 12-15 are positives predicted negative)
    expect(quality.metrics.accuracy).toBeCloseTo(81 / 85, 12);
    expect(quality.metrics.recall).toBeCloseTo(32 / 36, 12);
    expect(quality.metrics.precision).toBe(1);
    expect(quality.confusionMatrix).toEqual({
      labels: ['0', '1'],
      counts: [
        [49, 0],
        [4, 32],
      ],
    });
    const flat = registryMetrics(quality, holdout.rows, 'gender');
    expect(flat['accuracy.gender=M']).toBe(0.9);
    expect(flat['positiveRate.gender=F']).toBe(0.5);
    expect(flat.disparateImpact).toBeCloseTo(0.6, 12);
    expect(flat.holdoutRows).toBe(85);
  });

  it('leaves ROC-AUC out, saying why, when the holdout has one class', () => {
    const { holdout, positive } = holdoutOf([
      ['a', 0, 0.1],
      ['a', 0, 0.7],
    ]);
    const quality = assessQuality(BINARY_SCHEMA, holdout, { kind: 'binary', positive });
    expect(quality.metrics.rocAuc).toBeUndefined();
    expect(quality.unavailable.rocAuc).toMatch(/single class/);
  });
});

/** A disparate impact of one group ("other", 100 rows) against the reference ("female", 2000 rows). */
function impactOf(ratio: number, interval: [number, number]) {
  return {
    attribute: 'gender',
    reference: { group: 'female', rows: 2000, rate: 0.5 },
    ratios: [{ group: 'other', rows: 100, rate: 0.5 * ratio, ratio, interval }],
    value: ratio,
    confidence: 0.95,
  };
}

describe('applyGate', () => {
  it('refuses to judge a model on too small a holdout, naming the classes that are short', () => {
    const gate = (holdout: { rows: number; classes?: Record<string, number> }) =>
      applyGate({
        problemType: 'binary-classification',
        holdout,
        thresholds: { metrics: {}, disparateImpact: [0.8, 1.25], championMargin: 0.01, minHoldoutRows: 30 },
        metrics: { accuracy: 1, f1: 1 },
        unavailable: {},
      });
    expect(gate({ rows: 1, classes: { '0': 0, '1': 1 } }).reasons).toEqual([
      'the holdout is too small to judge the model: 0 rows of class "0", 1 row of class "1" (at least 30 per class needed, thresholds.minHoldoutRows)',
    ]);
    expect(gate({ rows: 60, classes: { '0': 30, '1': 30 } }).passed).toBe(true);
    expect(gate({ rows: 60, classes: { '0': 31, '1': 29 } }).passed).toBe(false);
    expect(gate({ rows: 29 }).reasons).toEqual([
      'the holdout is too small to judge the model: 29 rows (at least 30 needed, thresholds.minHoldoutRows)',
    ]);
    expect(gate({ rows: 30 }).passed).toBe(true);
  });

  const thresholdsOf = (thresholds: object) =>
    parseConfig({
      projectName: 'p',
      environment: 'dev',
      owner: 'o',
      training: { imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/train:1' },
      models: [
        {
          name: 'churn',
          problemType: 'binary-classification',
          columns: [
            { name: 'x', type: 'number' },
            { name: 'y', type: 'integer' },
          ],
          target: 'y',
          thresholds,
        },
      ],
    }).models[0]!.thresholds;

  it('passes a model within every bound and without a champion', () => {
    const outcome = applyGate({
      problemType: 'binary-classification',
      holdout: { rows: 2000 },
      thresholds: thresholdsOf({ metrics: { accuracy: { min: 0.85 }, f1: { min: 0.8 } } }),
      metrics: { accuracy: 0.9, f1: 0.82 },
      unavailable: {},
      disparateImpact: impactOf(0.9, [0.85, 0.95]),
    });
    expect(outcome).toMatchObject({ passed: true, reasons: [], gatedMetrics: ['accuracy', 'f1'], comparisons: [] });
  });

  it('refuses a disparity only when its whole interval lies outside the allowed range, on either side', () => {
    const gate = (ratio: number, interval: [number, number]) =>
      applyGate({
        problemType: 'binary-classification',
        holdout: { rows: 2000 },
        thresholds: thresholdsOf({}),
        metrics: { accuracy: 0.9, f1: 0.9 },
        unavailable: {},
        disparateImpact: impactOf(ratio, interval),
      });
    // A small group's 0.75 whose interval reaches parity is noise, not evidence.
    expect(gate(0.75, [0.55, 1.02]).passed).toBe(true);
    expect(gate(0.62, [0.5, 0.79]).reasons).toEqual([
      'disparate impact of gender "other" against "female" is 0.62 (95% interval 0.5–0.79, 100 vs 2000 rows), outside [0.8, 1.25]',
    ]);
    expect(gate(1.4, [1.3, 1.5]).passed).toBe(false);
    expect(gate(0.8, [0.79, 0.81]).passed).toBe(true);
  });

  it('names every failed bound, the disparate impact and the champion comparison in one sentence each', () => {
    const outcome = applyGate({
      problemType: 'binary-classification',
      holdout: { rows: 2000 },
      thresholds: thresholdsOf({ metrics: { accuracy: { min: 0.85 }, f1: { min: 0.8 } } }),
      metrics: { accuracy: 0.84, f1: 0.71 },
      unavailable: {},
      disparateImpact: impactOf(0.72, [0.7, 0.74]),
      champion: { version: 7, metrics: { accuracy: 0.87, f1: 0.7 } },
    });
    expect(outcome.passed).toBe(false);
    expect(outcome.reasons).toEqual([
      'accuracy 0.84 is below the minimum 0.85',
      'f1 0.71 is below the minimum 0.8',
      'disparate impact of gender "other" against "female" is 0.72 (95% interval 0.7–0.74, 100 vs 2000 rows), outside [0.8, 1.25]',
      'accuracy 0.84 is worse than the production version 7 (0.87) by more than the margin 0.01',
    ]);
    expect(outcome.comparisons.map((comparison) => [comparison.metric, comparison.passed])).toEqual([
      ['accuracy', false],
      ['f1', true],
    ]);
  });

  it('compares accuracy and F1 with the champion when no bounds are configured, within the margin', () => {
    const outcome = applyGate({
      problemType: 'binary-classification',
      holdout: { rows: 2000 },
      thresholds: thresholdsOf({}),
      metrics: { accuracy: 0.861, f1: 0.5 },
      unavailable: {},
      champion: { version: 2, metrics: { accuracy: 0.87 } },
    });
    expect(outcome.gatedMetrics).toEqual(['accuracy', 'f1']);
    expect(outcome.passed).toBe(true);
    expect(outcome.uncompared).toEqual(['f1']);
  });

  it('gives error metrics a margin relative to the champion', () => {
    const thresholds = { metrics: {}, disparateImpact: [0.8, 1.25] as [number, number], championMargin: 0.1, minHoldoutRows: 30 };
    const within = applyGate({
      problemType: 'regression',
      holdout: { rows: 2000 },
      thresholds,
      metrics: { rmse: 10.9 },
      unavailable: {},
      champion: { version: 1, metrics: { rmse: 10 } },
    });
    expect(within.passed).toBe(true);
    const beyond = applyGate({
      problemType: 'regression',
      holdout: { rows: 2000 },
      thresholds,
      metrics: { rmse: 11.2 },
      unavailable: {},
      champion: { version: 1, metrics: { rmse: 10 } },
    });
    expect(beyond.reasons).toEqual(['rmse 11.2 is worse than the production version 1 (10) by more than the margin 0.1 (10% of its rmse)']);
  });

  it('fails a bound on a metric that could not be computed, saying why', () => {
    const outcome = applyGate({
      problemType: 'binary-classification',
      holdout: { rows: 2000 },
      thresholds: thresholdsOf({ metrics: { rocAuc: { min: 0.7 } } }),
      metrics: { accuracy: 1 },
      unavailable: { rocAuc: 'the holdout holds a single class' },
    });
    expect(outcome.reasons).toEqual(['rocAuc could not be computed (the holdout holds a single class), and the gate requires min 0.7']);
  });

  it('formats numbers with at most four decimals', () => {
    expect(formatNumber(0.712345)).toBe('0.7123');
    expect(formatNumber(0.8)).toBe('0.8');
  });
});

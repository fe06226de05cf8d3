/**
 * assessQuality and registryMetrics on small hand-computed holdouts: the three problem types, the
 * binary decision threshold, the multiclass arg-max, the per-group table (largest first, rows
 * without a group left out), the 30-row floor of disparate impact, and the flat registry map (the
 * 8 largest groups, names cut at 64 characters).
 */
import { describe, expect, it } from 'vitest';
import type { ModelSchema } from '../../../contracts/serving-schema';
import type { Holdout } from '../../../lambdas/evaluate-model/holdout';
import {
  assessQuality,
  MAX_METRIC_GROUPS,
  MIN_GROUP_ROWS_FOR_DISPARATE_IMPACT,
  registryMetrics,
} from '../../../lambdas/evaluate-model/quality';
import { ModelContractError } from '../../../lambdas/evaluate-model/scoring';

const schema = (problemType: ModelSchema['problemType'], classLabels?: ModelSchema['classLabels']): ModelSchema => ({
  modelName: 'm',
  problemType,
  features: [{ name: 'x', type: 'number', nullable: false }],
  ignoredColumns: [],
  ...(classLabels ? { classLabels } : {}),
});

/** A holdout of (group or null, target) rows; groups are numbered in the order given by `groupNames`. */
function holdoutOf(rows: readonly [string | null, number][], groupNames = [...new Set(rows.flatMap(([group]) => group ?? []))]): Holdout {
  return {
    uri: 's3://datasets/holdout.csv',
    objects: [],
    rows: rows.length,
    width: 1,
    features: new Float32Array(rows.length),
    targets: Float64Array.from(rows.map(([, target]) => target)),
    groups: Int32Array.from(rows.map(([group]) => (group === null ? -1 : groupNames.indexOf(group)))),
    groupNames,
    skipped: { nullTarget: 0, invalidTarget: 0, invalidFeature: 0, unreadable: 0, examples: [] },
  };
}

/** `count` copies of a (group, target) row. */
const repeat = <G extends string | null>(count: number, row: [G, number]): [G, number][] => Array.from({ length: count }, () => row);

describe('assessQuality for binary models', () => {
  it('predicts the positive class at a probability of exactly 0.5, and ranks by the actual label 1', () => {
    const holdout = holdoutOf([
      [null, 1],
      [null, 0],
      [null, 1],
      [null, 0],
    ]);
    const quality = assessQuality(schema('binary-classification'), holdout, {
      kind: 'binary',
      positive: Float32Array.from([0.5, 0.4999, 0.9, 0.1]),
    });
    expect(quality.confusionMatrix).toEqual({
      labels: ['0', '1'],
      counts: [
        [2, 0],
        [0, 2],
      ],
    });
    expect(quality.metrics).toEqual({ accuracy: 1, precision: 1, recall: 1, f1: 1, rocAuc: 1 });
    // A ranking that puts both negatives above both positives has an area of 0, not 1.
    const inverted = assessQuality(schema('binary-classification'), holdout, {
      kind: 'binary',
      positive: Float32Array.from([0.1, 0.9, 0.2, 0.8]),
    });
    expect(inverted.metrics.rocAuc).toBe(0);
    expect(quality.unavailable).toEqual({});
  });

  it('refuses a holdout label the model has no output for', () => {
    const holdout = holdoutOf([
      [null, 0],
      [null, 2],
    ]);
    expect(() => assessQuality(schema('binary-classification'), holdout, { kind: 'binary', positive: new Float32Array(2) })).toThrow(
      expect.objectContaining({
        name: ModelContractError.name,
        message: 'the holdout has class index 2, but the model outputs 2 classes',
        details: { classes: 2 },
      }),
    );
    // The last label the model outputs is accepted.
    expect(() =>
      assessQuality(schema('binary-classification'), holdoutOf([[null, 1]]), { kind: 'binary', positive: new Float32Array(1) }),
    ).not.toThrow();
  });

  it('lists groups largest first, then by name, leaves rows without a group and empty groups out, and gives each its rates', () => {
    const rows: [string | null, number][] = [...repeat(2, ['b', 1]), ...repeat(3, ['c', 0]), ...repeat(2, ['a', 0]), [null, 1]];
    // "empty" is a known group name with no row.
    const holdout = holdoutOf(rows, ['b', 'empty', 'c', 'a']);
    const positive = Float32Array.from([0.9, 0.2, 0.1, 0.1, 0.8, 0.3, 0.3, 0.9]);
    const quality = assessQuality(schema('binary-classification'), holdout, { kind: 'binary', positive });
    expect(quality.groups).toEqual([
      { group: 'c', rows: 3, positiveRate: 1 / 3, accuracy: 2 / 3, precision: 0, recall: 0, f1: 0 },
      { group: 'a', rows: 2, positiveRate: 0, accuracy: 1, precision: 0, recall: 0, f1: 0 },
      { group: 'b', rows: 2, positiveRate: 0.5, accuracy: 0.5, precision: 1, recall: 0.5, f1: 2 / 3 },
    ]);
    // Fewer than two groups of 30 rows: no disparate impact.
    expect(quality).not.toHaveProperty('disparateImpact');
  });

  it(`compares groups of exactly ${MIN_GROUP_ROWS_FOR_DISPARATE_IMPACT} rows in the disparate impact, and leaves smaller ones out`, () => {
    const rows: [string, number][] = [...repeat(40, ['big', 1]), ...repeat(30, ['edge', 1]), ...repeat(29, ['small', 1])];
    const positive = Float32Array.from(rows.map(([group], index) => (group === 'edge' && index % 2 === 0 ? 0.1 : 0.9)));
    const quality = assessQuality(schema('binary-classification'), holdoutOf(rows), { kind: 'binary', positive });
    expect(quality.disparateImpact?.reference.group).toBe('big');
    expect(quality.disparateImpact?.ratios.map((ratio) => [ratio.group, ratio.ratio])).toEqual([['edge', 0.5]]);
    expect(quality.disparateImpact?.minGroupRows).toBe(30);
  });
});

describe('assessQuality for multiclass models', () => {
  it('predicts the most probable class, the first one on a tie, and scores with macro averages', () => {
    const holdout = holdoutOf([
      ['g', 1],
      ['g', 0],
      ['g', 1],
      ['g', 2],
      ['g', 2],
    ]);
    // Rows: a 1 and 2 tie (the first, 1, wins); a clear 0; a 1 whose runner-up 0.4 beats the row before's
    // last value (each row is compared within itself); a clear 2; a 0/2 tie for a row of class 2 (0 wins: wrong).
    const probabilities = Float32Array.from([0.2, 0.4, 0.4, 0.8, 0.1, 0.1, 0.1, 0.5, 0.4, 0.1, 0.2, 0.7, 0.45, 0.1, 0.45]);
    const quality = assessQuality(schema('multiclass-classification', ['x', 'y', 'z']), holdout, {
      kind: 'multiclass',
      classes: 3,
      probabilities,
    });
    expect(quality.confusionMatrix).toEqual({
      labels: ['x', 'y', 'z'],
      counts: [
        [1, 0, 0],
        [0, 2, 0],
        [1, 0, 1],
      ],
    });
    expect(quality.metrics.accuracy).toBe(0.8);
    // Precision 1/2, 1, 1; recall 1, 1, 1/2: macro 5/6 each; F1 2/3, 1, 2/3.
    expect(quality.metrics.precision).toBeCloseTo(5 / 6, 12);
    expect(quality.metrics.recall).toBeCloseTo(5 / 6, 12);
    expect(quality.metrics.f1).toBeCloseTo(7 / 9, 12);
    expect(quality.metrics.rocAuc).toBeGreaterThan(0.5);
    // Multiclass groups have the multiclass scores and no positive rate; there is no disparate impact.
    expect(quality.groups).toStrictEqual([
      { group: 'g', rows: 5, accuracy: 0.8, precision: quality.metrics.precision, recall: quality.metrics.recall, f1: quality.metrics.f1 },
    ]);
  });

  it('has no disparate impact, even with two groups of 30 rows: there is no favourable outcome to compare', () => {
    const rows: [string, number][] = [...repeat(30, ['a', 0]), ...repeat(30, ['b', 1])];
    const probabilities = Float32Array.from(rows.flatMap(([, label]) => (label === 0 ? [0.9, 0.1] : [0.1, 0.9])));
    const quality = assessQuality(schema('multiclass-classification'), holdoutOf(rows), { kind: 'multiclass', classes: 2, probabilities });
    expect(quality.groups.map((group) => [group.group, group.accuracy])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(quality).not.toHaveProperty('disparateImpact');
  });

  it('refuses a class index beyond the model outputs', () => {
    expect(() =>
      assessQuality(schema('multiclass-classification'), holdoutOf([[null, 3]]), {
        kind: 'multiclass',
        classes: 3,
        probabilities: new Float32Array(3),
      }),
    ).toThrow(/class index 3, but the model outputs 3 classes/);
  });
});

describe('assessQuality for regression models', () => {
  it('computes MAE, RMSE and R² overall and MAE and RMSE per group', () => {
    const holdout = holdoutOf([
      ['a', 1],
      ['a', 3],
      ['b', 5],
      [null, 7],
    ]);
    const quality = assessQuality(schema('regression'), holdout, { kind: 'regression', values: Float32Array.from([2, 3, 3, 7]) });
    // Errors 1, 0, -2, 0: MAE 3/4, RMSE sqrt(5/4); target mean 4, total sum of squares 20, R² 1 - 5/20.
    expect(quality.metrics).toEqual({ mae: 0.75, rmse: Math.sqrt(1.25), r2: 0.75 });
    expect(quality.unavailable).toEqual({});
    expect(quality.groups).toStrictEqual([
      { group: 'a', rows: 2, mae: 0.5, rmse: Math.sqrt(0.5) },
      { group: 'b', rows: 1, mae: 2, rmse: 2 },
    ]);
    expect(quality).not.toHaveProperty('confusionMatrix');
  });
});

describe('registryMetrics', () => {
  const binaryQuality = (groupSizes: readonly [string, number][]) => {
    const rows = groupSizes.flatMap(([group, size]) => repeat(size, [group, 1] as [string, number]));
    return assessQuality(schema('binary-classification'), holdoutOf(rows), {
      kind: 'binary',
      positive: Float32Array.from(rows.map((_, index) => (index % 4 === 0 ? 0.1 : 0.9))),
    });
  };

  it('records the headline metrics and the holdout size only, when no sensitive attribute is configured', () => {
    const quality = binaryQuality([['a', 4]]);
    expect(Object.keys(registryMetrics(quality, 4)).sort()).toEqual(['accuracy', 'f1', 'holdoutRows', 'precision', 'recall']);
  });

  it('records the disparate impact only when there is one', () => {
    const withImpact = binaryQuality([
      ['a', 40],
      ['b', 32],
    ]);
    expect(registryMetrics(withImpact, 72).disparateImpact).toBe(withImpact.disparateImpact!.value);
    expect(registryMetrics(binaryQuality([['a', 4]]), 4)).not.toHaveProperty('disparateImpact');
  });

  it(`records accuracy and positive rate of the ${MAX_METRIC_GROUPS} largest groups, with names cut at 64 characters`, () => {
    const longName = 'g'.repeat(80);
    const sizes: [string, number][] = [
      [longName, 20],
      ...Array.from({ length: 8 }, (_, index): [string, number] => [`group${index}`, 12 - index]),
    ];
    const flat = registryMetrics(binaryQuality(sizes), 0, 'region');
    const groupKeys = Object.keys(flat).filter((key) => key.includes('='));
    expect(groupKeys).toHaveLength(2 * MAX_METRIC_GROUPS);
    // The ninth group (the smallest) is left out.
    expect(groupKeys.some((key) => key.endsWith('group7'))).toBe(false);
    expect(flat['accuracy.region=group6']).toBeDefined();
    const cut = `accuracy.region=${longName}`.slice(0, 64);
    expect(cut).toHaveLength(64);
    expect(flat[cut]).toBe(0.75);
    expect(flat[`positiveRate.region=${longName}`.slice(0, 64)]).toBe(0.75);
    // At most ~25 keys in all (pipeline.md): the headline metrics, holdoutRows, disparateImpact and the 16 group metrics.
    expect(Object.keys(flat).length).toBeLessThanOrEqual(25);
  });

  it('records the MAE of each group for a regression model, and no classification metric', () => {
    const quality = assessQuality(
      schema('regression'),
      holdoutOf([
        ['a', 1],
        ['b', 2],
      ]),
      { kind: 'regression', values: Float32Array.from([1.5, 2]) },
    );
    const flat = registryMetrics(quality, 2, 'site');
    expect(Object.keys(flat).filter((key) => key.includes('='))).toEqual(['mae.site=a', 'mae.site=b']);
    expect(flat['mae.site=a']).toBe(0.5);
    expect(flat['mae.site=b']).toBe(0);
  });
});

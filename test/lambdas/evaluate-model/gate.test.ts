/**
 * The evaluation gate at its edges: a metric exactly on a bound, a challenger exactly on the
 * champion's limit, a disparate-impact interval touching the allowed range, and which metrics the
 * champion comparison covers. Each case sits on the boundary so that moving a comparison by one
 * step (`<` for `<=`, a bound shifted) changes the outcome.
 */
import { describe, expect, it } from 'vitest';
import { applyGate, type GateInput } from '../../../lambdas/evaluate-model/gate';

type Thresholds = GateInput['thresholds'];

function thresholds(overrides: Partial<Thresholds> = {}): Thresholds {
  return { metrics: {}, disparateImpact: [0.8, 1.25], championMargin: 0.01, minHoldoutRows: 30, ...overrides };
}

function gate(input: Partial<GateInput> & Pick<GateInput, 'metrics'>) {
  return applyGate({
    problemType: 'binary-classification',
    thresholds: thresholds(),
    unavailable: {},
    holdout: { rows: 2000 },
    ...input,
  });
}

describe('the gate on a metric bound', () => {
  it('passes a metric exactly at its minimum and fails it just below', () => {
    const bounded = thresholds({ metrics: { accuracy: { min: 0.85 } } });
    expect(gate({ thresholds: bounded, metrics: { accuracy: 0.85 } }).passed).toBe(true);
    expect(gate({ thresholds: bounded, metrics: { accuracy: 0.8499 } }).reasons).toEqual(['accuracy 0.8499 is below the minimum 0.85']);
  });

  it('passes a metric exactly at its maximum and fails it just above', () => {
    const bounded = thresholds({ metrics: { rmse: { max: 5 } } });
    const regression = (rmse: number) => gate({ problemType: 'regression', thresholds: bounded, metrics: { rmse } });
    expect(regression(5).passed).toBe(true);
    expect(regression(4).passed).toBe(true);
    expect(regression(5.0001).reasons).toEqual(['rmse 5.0001 is above the maximum 5']);
    expect(regression(6).passed).toBe(false);
  });

  it('checks a metric against both ends of a range bound', () => {
    const bounded = thresholds({ metrics: { r2: { min: 0.5, max: 0.99 } } });
    const regression = (r2: number) => gate({ problemType: 'regression', thresholds: bounded, metrics: { r2 } });
    expect(regression(0.5).passed).toBe(true);
    expect(regression(0.99).passed).toBe(true);
    expect(regression(0.4).reasons).toEqual(['r2 0.4 is below the minimum 0.5']);
    expect(regression(0.995).reasons).toEqual(['r2 0.995 is above the maximum 0.99']);
  });

  it('names the whole bound of a metric that was not computed, and says so when no reason was given', () => {
    const outcome = gate({ problemType: 'regression', thresholds: thresholds({ metrics: { r2: { min: 0.5, max: 0.99 } } }), metrics: {} });
    expect(outcome.reasons).toEqual(['r2 could not be computed (it was not computed), and the gate requires min 0.5 and max 0.99']);
    const maxOnly = gate({ problemType: 'regression', thresholds: thresholds({ metrics: { mae: { max: 3 } } }), metrics: {} });
    expect(maxOnly.reasons).toEqual(['mae could not be computed (it was not computed), and the gate requires max 3']);
  });
});

describe('the gate on the champion', () => {
  // 0.875 − 0.125 = 0.75 and 10 · 1.25 = 12.5 exactly in binary floating point: the limits are not rounded.
  it('passes a score exactly at the champion minus the margin and fails it just below', () => {
    const input = { thresholds: thresholds({ championMargin: 0.125 }), champion: { version: 3, metrics: { accuracy: 0.875, f1: 0.875 } } };
    const atLimit = gate({ ...input, metrics: { accuracy: 0.75, f1: 0.75 } });
    expect(atLimit.passed).toBe(true);
    expect(atLimit.comparisons).toEqual([
      { metric: 'accuracy', challenger: 0.75, champion: 0.875, limit: 0.75, passed: true },
      { metric: 'f1', challenger: 0.75, champion: 0.875, limit: 0.75, passed: true },
    ]);
    const below = gate({ ...input, metrics: { accuracy: 0.7499, f1: 0.75 } });
    expect(below.reasons).toEqual(['accuracy 0.7499 is worse than the production version 3 (0.875) by more than the margin 0.125']);
  });

  it('passes an error exactly at the champion plus its relative margin and fails it just above', () => {
    const input = {
      problemType: 'regression' as const,
      thresholds: thresholds({ championMargin: 0.25 }),
      champion: { version: 4, metrics: { rmse: 10 } },
    };
    expect(gate({ ...input, metrics: { rmse: 12.5 } }).comparisons).toEqual([
      { metric: 'rmse', challenger: 12.5, champion: 10, limit: 12.5, passed: true },
    ]);
    expect(gate({ ...input, metrics: { rmse: 12.5001 } }).reasons).toEqual([
      'rmse 12.5001 is worse than the production version 4 (10) by more than the margin 0.25 (25% of its rmse)',
    ]);
  });

  it('treats MAE as an error too: a lower MAE than the champion passes, a higher one beyond the margin fails', () => {
    const input = {
      problemType: 'regression' as const,
      thresholds: thresholds({ metrics: { mae: { max: 100 } }, championMargin: 0.5 }),
      champion: { version: 2, metrics: { mae: 2 } },
    };
    expect(gate({ ...input, metrics: { mae: 1 } }).passed).toBe(true);
    expect(gate({ ...input, metrics: { mae: 3 } }).comparisons[0]).toMatchObject({ limit: 3, passed: true });
    expect(gate({ ...input, metrics: { mae: 3.1 } }).reasons).toEqual([
      'mae 3.1 is worse than the production version 2 (2) by more than the margin 0.5 (50% of its mae)',
    ]);
  });

  it('compares accuracy and F1 for a multiclass model without bounds, and RMSE for a regression model', () => {
    const multiclass = gate({
      problemType: 'multiclass-classification',
      metrics: { accuracy: 0.5, f1: 0.5 },
      champion: { version: 1, metrics: { accuracy: 0.9, f1: 0.9 } },
    });
    expect(multiclass.gatedMetrics).toEqual(['accuracy', 'f1']);
    expect(multiclass.comparisons.map((comparison) => [comparison.metric, comparison.passed])).toEqual([
      ['accuracy', false],
      ['f1', false],
    ]);
    const regression = gate({
      problemType: 'regression',
      metrics: { rmse: 1, mae: 9 },
      champion: { version: 1, metrics: { rmse: 2, mae: 1 } },
    });
    expect(regression.gatedMetrics).toEqual(['rmse']);
    expect(regression.passed).toBe(true);
  });

  it('compares only the bounded metrics when bounds are configured, not the defaults', () => {
    const outcome = gate({
      thresholds: thresholds({ metrics: { recall: { min: 0.5 } } }),
      metrics: { accuracy: 0.1, f1: 0.1, recall: 0.9 },
      champion: { version: 5, metrics: { accuracy: 0.99, f1: 0.99, recall: 0.9 } },
    });
    expect(outcome.gatedMetrics).toEqual(['recall']);
    expect(outcome.comparisons.map((comparison) => comparison.metric)).toEqual(['recall']);
    expect(outcome.passed).toBe(true);
  });

  it('does not compare a metric the challenger lacks: its missing bound is the one reason', () => {
    const outcome = gate({
      thresholds: thresholds({ metrics: { rocAuc: { min: 0.7 } } }),
      metrics: { accuracy: 0.9 },
      unavailable: { rocAuc: 'the holdout holds a single class' },
      champion: { version: 2, metrics: { rocAuc: 0.9 } },
    });
    expect(outcome.comparisons).toEqual([]);
    expect(outcome.uncompared).toEqual([]);
    expect(outcome.reasons).toEqual(['rocAuc could not be computed (the holdout holds a single class), and the gate requires min 0.7']);
  });
});

describe('the gate on disparate impact', () => {
  const impact = (interval: [number, number]) => ({
    attribute: 'gender',
    reference: { group: 'female', rows: 2000, rate: 0.5 },
    ratios: [{ group: 'other', rows: 100, rate: 0.5, ratio: (interval[0] + interval[1]) / 2, interval }],
    value: (interval[0] + interval[1]) / 2,
    confidence: 0.95,
  });
  const withImpact = (interval: [number, number]) => gate({ metrics: {}, disparateImpact: impact(interval) });

  it('passes an interval whose upper end touches the lower limit, and fails one entirely below it', () => {
    expect(withImpact([0.6, 0.8]).passed).toBe(true);
    expect(withImpact([0.6, 0.7999]).passed).toBe(false);
  });

  it('passes an interval whose lower end touches the upper limit, and fails one entirely above it', () => {
    expect(withImpact([1.25, 1.5]).passed).toBe(true);
    expect(withImpact([1.2501, 1.5]).passed).toBe(false);
  });
});

/**
 * One feature's drift rules on their edges, with comparisons made by hand (no profiles, so the
 * statistics module's exact values do not matter here): a p-value equal to the level is not a
 * rejection, a PSI or JS distance equal to its threshold is, a large PSI or JS within sampling noise
 * is not, and new categories are reported without making drift on their own.
 */
import { describe, expect, it } from 'vitest';
import type { DriftThresholds } from '../../../contracts/drift';
import type { CategoricalComparison, NumericComparison } from '../../../lambdas/check-drift/statistics';
import { classifyFeature } from '../../../lambdas/check-drift/verdict';

const THRESHOLDS: DriftThresholds = { psiWarn: 0.1, psiDrift: 0.25, ksPValue: 0.05, jsDistance: 0.1 };

function numeric(overrides: Partial<NumericComparison> = {}): NumericComparison {
  return {
    kind: 'numeric',
    referenceCount: 5000,
    currentCount: 1000,
    psi: 0,
    psiPValue: 1,
    ks: 0,
    ksPValue: 1,
    js: 0,
    jsPValue: 1,
    wasserstein: 0,
    bins: 10,
    ...overrides,
  };
}

function categorical(overrides: Partial<CategoricalComparison> = {}): CategoricalComparison {
  return {
    kind: 'categorical',
    referenceCount: 5000,
    currentCount: 1000,
    psi: 0,
    psiPValue: 1,
    js: 0,
    jsPValue: 1,
    chiSquare: 0,
    chiSquarePValue: 1,
    degreesOfFreedom: 2,
    newCategories: [],
    bins: 3,
    ...overrides,
  };
}

/** The feature's own p-values taken as the adjusted ones. */
function classify(comparison: NumericComparison | CategoricalComparison, thresholds: DriftThresholds = THRESHOLDS) {
  const testPValue = comparison.kind === 'numeric' ? comparison.ksPValue : comparison.chiSquarePValue;
  return classifyFeature(comparison, thresholds, { testPValue, psiPValue: comparison.psiPValue, jsPValue: comparison.jsPValue });
}

describe('the distribution test', () => {
  it('rejects below the level, not at it', () => {
    expect(classify(numeric({ ksPValue: 0.05 }))).toEqual({ status: 'stable', reasons: [] });
    expect(classify(numeric({ ksPValue: 0.0499 }))).toEqual({ status: 'drift', reasons: ['KS p 0.0499 < 0.05'] });
  });

  it('names chi-square for a categorical feature', () => {
    expect(classify(categorical({ chiSquarePValue: 0.01 }))).toEqual({ status: 'drift', reasons: ['chi-square p 0.0100 < 0.05'] });
  });

  it('judges the adjusted p-value, not the feature own one', () => {
    const comparison = numeric({ ksPValue: 0.01 });
    expect(classifyFeature(comparison, THRESHOLDS, { testPValue: 0.06, psiPValue: 1, jsPValue: 1 }).status).toBe('stable');
  });

  it('writes p-values under 1e-3 in exponent notation, 1e-3 itself with three digits, and 0 as 0', () => {
    expect(classify(numeric({ ksPValue: 1.234e-5 })).reasons).toEqual(['KS p 1.23e-5 < 0.05']);
    expect(classify(numeric({ ksPValue: 1e-3 })).reasons).toEqual(['KS p 0.00100 < 0.05']);
    expect(classify(numeric({ ksPValue: 0 })).reasons).toEqual(['KS p 0 < 0.05']);
  });
});

describe('PSI', () => {
  it('drifts at exactly the drift threshold when beyond noise', () => {
    expect(classify(numeric({ psi: 0.25, psiPValue: 0.001 }))).toEqual({ status: 'drift', reasons: ['PSI 0.250 >= 0.25'] });
  });

  it('only warns just below the drift threshold, and from exactly the warn threshold', () => {
    expect(classify(numeric({ psi: 0.2499, psiPValue: 0.001 }))).toEqual({ status: 'warn', reasons: ['PSI 0.250 >= 0.1 (warn)'] });
    expect(classify(numeric({ psi: 0.1, psiPValue: 0.001 }))).toEqual({ status: 'warn', reasons: ['PSI 0.100 >= 0.1 (warn)'] });
    expect(classify(numeric({ psi: 0.0999, psiPValue: 0.001 }))).toEqual({ status: 'stable', reasons: [] });
  });

  it('neither drifts nor warns when the PSI is within sampling noise (its p-value at the level)', () => {
    expect(classify(numeric({ psi: 0.9, psiPValue: 0.05 }))).toEqual({ status: 'stable', reasons: [] });
  });
});

describe('JS distance', () => {
  it('drifts at exactly the threshold when beyond noise, not just below it or within noise', () => {
    expect(classify(numeric({ js: 0.1, jsPValue: 0.0499 }))).toEqual({ status: 'drift', reasons: ['JS distance 0.100 >= 0.1'] });
    expect(classify(numeric({ js: 0.0999, jsPValue: 0.001 }))).toEqual({ status: 'stable', reasons: [] });
    expect(classify(numeric({ js: 0.5, jsPValue: 0.05 }))).toEqual({ status: 'stable', reasons: [] });
  });

  it('lists every rule that fired, in order', () => {
    expect(classify(numeric({ ksPValue: 0.01, psi: 0.3, psiPValue: 0.01, js: 0.2, jsPValue: 0.01 })).reasons).toEqual([
      'KS p 0.0100 < 0.05',
      'PSI 0.300 >= 0.25',
      'JS distance 0.200 >= 0.1',
    ]);
  });
});

describe('new categories', () => {
  const categories = (count: number) => Array.from({ length: count }, (_, index) => ({ value: `c${index}`, count: 10 - index }));

  it('are reported but do not make a feature drift on their own', () => {
    expect(classify(categorical({ newCategories: categories(1) }))).toEqual({ status: 'stable', reasons: ['new categories: "c0"'] });
  });

  it('are kept beside a warning and beside drift', () => {
    expect(classify(categorical({ newCategories: categories(1), psi: 0.2, psiPValue: 0.01 }))).toEqual({
      status: 'warn',
      reasons: ['PSI 0.200 >= 0.1 (warn)', 'new categories: "c0"'],
    });
    expect(classify(categorical({ newCategories: categories(1), chiSquarePValue: 0.01 }))).toEqual({
      status: 'drift',
      reasons: ['chi-square p 0.0100 < 0.05', 'new categories: "c0"'],
    });
  });

  it('name at most five, and count the rest', () => {
    expect(classify(categorical({ newCategories: categories(5) })).reasons).toEqual(['new categories: "c0", "c1", "c2", "c3", "c4"']);
    expect(classify(categorical({ newCategories: categories(7) })).reasons).toEqual([
      'new categories: "c0", "c1", "c2", "c3", "c4" and 2 more',
    ]);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import type { DriftRules } from '../../../contracts/drift';
import type { NumericComparison } from '../../../lambdas/check-drift/statistics';
import { adjustPValues, assessDrift, type ComparedColumn } from '../../../lambdas/check-drift/verdict';
import type { DatasetProfile } from '../../../lambdas/shared/profile/profile';
import { profileValues } from '../../../testkit/profile-values';
import { normalSampler, sample, seededRandom } from '../../../testkit/samples';

const RULES: DriftRules = {
  psiWarn: 0.1,
  psiDrift: 0.25,
  ksPValue: 0.05,
  jsDistance: 0.1,
  minSampleSize: 1000,
  driftedFeatureShare: 0.5,
  multipleTesting: 'benjamini-hochberg',
  featureThresholds: {},
};

// A fresh sampler for every test: what a test draws must not depend on which tests ran before it
// (Stryker runs only the tests that cover a mutant, and `it.only` runs one).
let normal = normalSampler(seededRandom(7));
beforeEach(() => {
  normal = normalSampler(seededRandom(7));
});

function features(count: number, critical: string[] = []): ComparedColumn[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `f${index}`,
    role: 'feature' as const,
    referenceColumn: `f${index}`,
    critical: critical.includes(`f${index}`),
  }));
}

/** Profiles `count` numeric columns; `shift(index)` moves column index's current mean. */
function profiles(count: number, referenceRows: number, currentRows: number, shift: (index: number) => number = () => 0) {
  const names = Array.from({ length: count }, (_, index) => `f${index}`);
  const reference = profileValues(
    names.map((name) => ({ name, kind: 'numeric' as const, values: Array.from(sample(referenceRows, normal)) })),
  );
  const current = profileValues(
    names.map((name, index) => ({
      name,
      kind: 'numeric' as const,
      values: Array.from(sample(currentRows, () => normal() + shift(index))),
    })),
    reference,
  );
  return { reference, current };
}

describe('the drift verdict', () => {
  it('stays quiet on identical distributions at n = 100, where the naive PSI/JS rules alarm on noise', () => {
    let naiveAlarms = 0;
    for (let run = 0; run < 5; run++) {
      const { reference, current } = profiles(20, 10_000, 100);
      const verdict = assessDrift(reference, current, features(20), { ...RULES, minSampleSize: 100 });
      expect(verdict.status).toBe('no-drift');
      expect(verdict.driftedFeatures).toEqual([]);
      naiveAlarms += verdict.features.filter((feature) => feature.comparison!.psi >= 0.1 || feature.comparison!.js >= 0.1).length;
    }
    // Thresholds alone would have flagged most of the 100 features.
    expect(naiveAlarms).toBeGreaterThan(50);
  });

  it('finds a mean shift in most features and names the rules that fired', () => {
    const { reference, current } = profiles(4, 20_000, 5_000, (index) => (index < 3 ? 0.8 : 0));
    const verdict = assessDrift(reference, current, features(4), RULES);
    expect(verdict.status).toBe('drift');
    expect(verdict.driftedFeatures).toEqual(['f0', 'f1', 'f2']);
    expect(verdict.driftedFeatureShare).toBe(0.75);
    const first = verdict.features[0]!;
    expect(first.reasons.join('; ')).toMatch(/KS p .* < 0\.05/);
    expect(first.reasons.join('; ')).toMatch(/PSI .* >= 0\.25/);
    expect(verdict.features[3]!.status).toBe('stable');
  });

  it('finds a variance change that leaves the mean alone', () => {
    const reference = profileValues([{ name: 'f0', kind: 'numeric', values: Array.from(sample(20_000, normal)) }]);
    const current = profileValues([{ name: 'f0', kind: 'numeric', values: Array.from(sample(5_000, () => 1.5 * normal())) }], reference);
    expect(assessDrift(reference, current, features(1), RULES).status).toBe('drift');
  });

  it('marks the dataset drifted when exactly the configured share of features drift', () => {
    const { reference, current } = profiles(4, 20_000, 5_000, (index) => (index < 2 ? 0.8 : 0));
    const verdict = assessDrift(reference, current, features(4), RULES);
    expect(verdict.driftedFeatures).toEqual(['f0', 'f1']);
    expect(verdict.driftedFeatureShare).toBe(RULES.driftedFeatureShare);
    expect(verdict.status).toBe('drift');
    expect(verdict.criticalDrift).toEqual([]);
  });

  it('keeps the dataset undrifted while fewer than the configured share of features drift', () => {
    const { reference, current } = profiles(4, 20_000, 5_000, (index) => (index === 0 ? 0.5 : 0));
    const verdict = assessDrift(reference, current, features(4), RULES);
    expect(verdict.driftedFeatures).toEqual(['f0']);
    expect(verdict.status).toBe('no-drift');
  });

  it('marks the dataset drifted when a critical feature drifts alone', () => {
    const { reference, current } = profiles(4, 20_000, 5_000, (index) => (index === 0 ? 0.5 : 0));
    const verdict = assessDrift(reference, current, features(4, ['f0']), RULES);
    expect(verdict.status).toBe('drift');
    expect(verdict.criticalDrift).toEqual(['f0']);
  });

  it('gives no verdict below the minimum sample size, however different the data', () => {
    const { reference, current } = profiles(3, 5_000, 500, () => 3);
    const verdict = assessDrift(reference, current, features(3), RULES);
    expect(verdict.status).toBe('insufficient-data');
    expect(verdict.driftedFeatureShare).toBeNull();
    expect(verdict.features.map((feature) => [feature.status, feature.reasons])).toEqual(
      Array.from({ length: 3 }, () => ['insufficient-data', ['500 values in the window, fewer than minSampleSize 1000']]),
    );
    expect(verdict.criticalDrift).toEqual([]);
  });

  it('gives no verdict on a critical feature below the minimum sample size, and names no critical drift', () => {
    const { reference, current } = profiles(1, 5_000, 500, () => 3);
    const verdict = assessDrift(reference, current, features(1, ['f0']), { ...RULES, minSampleSize: 400 });
    expect(verdict.criticalDrift).toEqual(['f0']);
    const tooFew = assessDrift(reference, current, features(1, ['f0']), RULES);
    expect(tooFew).toMatchObject({ status: 'insufficient-data', criticalDrift: [] });
  });

  it('gives no verdict when no feature can be compared, however many rows the window holds', () => {
    const { reference, current } = profiles(1, 5_000, 2_000);
    const verdict = assessDrift(
      reference,
      current,
      [{ name: 'tenure', role: 'feature', referenceColumn: 'tenure', critical: false }],
      RULES,
    );
    expect(verdict).toMatchObject({ status: 'insufficient-data', sampleSize: 2000, evaluatedFeatures: 0, driftedFeatureShare: null });
  });

  it('gives no verdict on a feature whose reference column holds no value', () => {
    const reference = profileValues([{ name: 'plan', kind: 'categorical', values: Array.from({ length: 50 }, () => null) }]);
    const current = profileValues([
      { name: 'plan', kind: 'categorical', values: Array.from({ length: 2000 }, (_, i) => (i % 2 ? 'a' : 'b')) },
    ]);
    const verdict = assessDrift(reference, current, [{ name: 'plan', role: 'feature', referenceColumn: 'plan', critical: false }], RULES);
    expect(verdict.features[0]!.status).toBe('insufficient-data');
    expect(verdict.status).toBe('insufficient-data');
  });

  it('gives no verdict on an empty window', () => {
    const { reference, current } = profiles(2, 5_000, 0);
    const verdict = assessDrift(reference, current, features(2), RULES);
    expect(verdict).toMatchObject({ status: 'insufficient-data', sampleSize: 0, evaluatedFeatures: 0 });
  });

  it('drifts a categorical feature on a new category and reports it', () => {
    const reference = profileValues([
      { name: 'plan', kind: 'categorical', values: Array.from({ length: 5000 }, (_, i) => (i % 2 ? 'basic' : 'pro')) },
    ]);
    const current = profileValues(
      [
        {
          name: 'plan',
          kind: 'categorical',
          values: Array.from({ length: 2000 }, (_, i) => (i % 4 === 0 ? 'enterprise' : i % 2 ? 'basic' : 'pro')),
        },
      ],
      reference,
    );
    const verdict = assessDrift(reference, current, [{ name: 'plan', role: 'feature', referenceColumn: 'plan', critical: false }], RULES);
    expect(verdict.status).toBe('drift');
    expect(verdict.features[0]!.reasons.join('; ')).toMatch(/chi-square p .* < 0\.05.*new categories: "enterprise"/);
  });

  it('applies per-feature thresholds over the model-wide ones', () => {
    const { reference, current } = profiles(1, 20_000, 5_000, () => 0.5);
    const strict = assessDrift(reference, current, features(1), RULES);
    const lenient = assessDrift(reference, current, features(1), {
      ...RULES,
      featureThresholds: { f0: { ksPValue: 1e-200, psiDrift: 10, jsDistance: 1 } },
    });
    expect(strict.features[0]!.status).toBe('drift');
    // KS p ≈ 6e-170 is no longer below the feature's level; PSI ≈ 0.27 still passes the warn threshold beyond noise.
    expect(lenient.features[0]!.status).toBe('warn');
    expect(lenient.features[0]!.thresholds).toEqual({ psiWarn: 0.1, psiDrift: 10, ksPValue: 1e-200, jsDistance: 1 });
    expect(lenient.warnedFeatures).toEqual(['f0']);
    expect(lenient.driftedFeatures).toEqual([]);
    expect(strict.warnedFeatures).toEqual([]);
  });

  it('reports the prediction without letting it drive the verdict', () => {
    const reference = profileValues([
      { name: 'f0', kind: 'numeric', values: Array.from(sample(5000, normal)) },
      { name: 'churned', kind: 'numeric', values: Array.from({ length: 5000 }, (_, i) => (i % 4 === 0 ? 1 : 0)) },
    ]);
    const current: DatasetProfile = profileValues(
      [
        { name: 'f0', kind: 'numeric', values: Array.from(sample(2000, normal)) },
        { name: 'prediction(churned)', kind: 'numeric', values: Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 1 : 0)) },
      ],
      {
        ...reference,
        columns: { f0: reference.columns.f0!, 'prediction(churned)': reference.columns.churned! },
      },
    );
    const verdict = assessDrift(
      reference,
      current,
      [...features(1), { name: 'prediction(churned)', role: 'prediction', referenceColumn: 'churned', critical: false }],
      RULES,
    );
    expect(verdict.prediction!.status).toBe('drift');
    expect(verdict.status).toBe('no-drift');
    expect(verdict.evaluatedFeatures).toBe(1);
  });

  it('reports a feature the reference profile lacks instead of failing', () => {
    const { reference, current } = profiles(1, 5_000, 2_000);
    const verdict = assessDrift(
      reference,
      current,
      [...features(1), { name: 'tenure', role: 'feature', referenceColumn: 'tenure', critical: true }],
      RULES,
    );
    expect(verdict.features[1]).toMatchObject({
      status: 'not-in-reference',
      reasons: ['the reference profile has no comparable column "tenure"'],
    });
    expect(verdict.status).toBe('no-drift');
  });

  it('reports a feature missing from the window, or of another kind than in the reference, as not comparable', () => {
    const reference = profileValues([
      { name: 'f0', kind: 'numeric', values: Array.from(sample(5000, normal)) },
      { name: 'plan', kind: 'categorical', values: Array.from({ length: 5000 }, (_, i) => (i % 2 ? 'a' : 'b')) },
      { name: 'age', kind: 'numeric', values: Array.from(sample(5000, normal)) },
    ]);
    const current = profileValues(
      [
        { name: 'f0', kind: 'numeric', values: Array.from(sample(2000, normal)) },
        { name: 'plan', kind: 'numeric', values: Array.from(sample(2000, normal)) },
      ],
      reference,
    );
    const columns: ComparedColumn[] = ['f0', 'plan', 'age'].map((name) => ({
      name,
      role: 'feature',
      referenceColumn: name,
      critical: false,
    }));
    const verdict = assessDrift(reference, current, columns, RULES);
    expect(verdict.features.map((feature) => feature.status)).toEqual(['stable', 'not-in-reference', 'not-in-reference']);
    const swapped = assessDrift(current, reference, columns.slice(0, 2), RULES);
    expect(swapped.features[1]!.status).toBe('not-in-reference');
  });

  it('corrects the features p-values as one family, leaving the prediction out of it', () => {
    const reference = profileValues([
      { name: 'f0', kind: 'numeric', values: Array.from(sample(5000, normal)) },
      { name: 'f1', kind: 'numeric', values: Array.from(sample(5000, normal)) },
    ]);
    const current = profileValues(
      [
        { name: 'f0', kind: 'numeric', values: Array.from(sample(2000, () => normal() + 0.1)) },
        { name: 'f1', kind: 'numeric', values: Array.from(sample(2000, () => normal() + 0.1)) },
        { name: 'prediction(f1)', kind: 'numeric', values: Array.from(sample(2000, () => normal() + 0.1)) },
      ],
      { ...reference, columns: { ...reference.columns, 'prediction(f1)': reference.columns.f1! } },
    );
    const verdict = assessDrift(
      reference,
      current,
      [...features(2), { name: 'prediction(f1)', role: 'prediction', referenceColumn: 'f1', critical: false }],
      { ...RULES, multipleTesting: 'bonferroni' },
    );
    for (const feature of verdict.features) {
      const comparison = feature.comparison as NumericComparison;
      expect(comparison.ksPValue).toBeLessThan(0.3);
      expect(feature.adjusted).toEqual({
        testPValue: Math.min(1, 2 * comparison.ksPValue),
        psiPValue: Math.min(1, 2 * comparison.psiPValue),
        jsPValue: Math.min(1, 2 * comparison.jsPValue),
      });
    }
    const prediction = verdict.prediction!.comparison as NumericComparison;
    expect(verdict.prediction!.adjusted).toEqual({
      testPValue: prediction.ksPValue,
      psiPValue: prediction.psiPValue,
      jsPValue: prediction.jsPValue,
    });
  });
});

describe('multiple-testing corrections', () => {
  const pValues = [0.01, 0.04, 0.03, 0.2];

  it('Bonferroni multiplies by the number of tests, capped at 1', () => {
    expect(adjustPValues(pValues, 'bonferroni')).toEqual([0.04, 0.16, 0.12, 0.8]);
    expect(adjustPValues([0.5, 0.9], 'bonferroni')).toEqual([1, 1]);
  });

  it('Benjamini–Hochberg matches the step-up computation by hand', () => {
    // Sorted 0.01, 0.03, 0.04, 0.2 → 0.04, 0.06, 0.0533, 0.2 → running minimum from the top: 0.04, 0.0533, 0.0533, 0.2
    const adjusted = adjustPValues(pValues, 'benjamini-hochberg');
    expect(adjusted[0]).toBeCloseTo(0.04, 12);
    expect(adjusted[1]).toBeCloseTo(0.16 / 3, 12);
    expect(adjusted[2]).toBeCloseTo(0.16 / 3, 12);
    expect(adjusted[3]).toBeCloseTo(0.2, 12);
  });

  it('leaves the p-values alone with "none"', () => {
    expect(adjustPValues(pValues, 'none')).toEqual(pValues);
  });
});

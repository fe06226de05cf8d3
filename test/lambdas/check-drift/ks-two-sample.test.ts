import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ksTwoSamplePValue, MAX_EXACT_SIZE } from '../../../lambdas/check-drift/ks-two-sample';
import { kolmogorovSmirnovSurvival } from '../../../lambdas/check-drift/kstwo';
import { smirnovSurvival } from '../../../lambdas/check-drift/smirnov';
import { exactKsPValueEqualSizes } from '../../../testkit/samples';

/** Cases recorded from scipy 1.10 by test/fixtures/scipy/generate.py. */
function fixture<T>(name: string): T[] {
  const url = new URL(`../../fixtures/scipy/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: T[] }).cases;
}

/**
 * Relative error at most 1e-9, or absolute at most 1e-20 for p-values that small (kstwo.sf and
 * smirnov at the far end of their range). Measured: the largest relative error over every fixture
 * with p > 1e-290 is under 1e-12.
 */
function expectScipy(actual: number, expected: number, label: string): void {
  const error = Math.abs(actual - expected);
  if (error > 1e-20) expect(error / expected, label).toBeLessThanOrEqual(1e-9);
}

/**
 * A two-sample p-value: relative error at most 1e-9, and below 1e-290 where scipy's is (0 or
 * subnormal). Only the exact unequal-size path, whose band may exceed the cell budget, may
 * report a p-value below 1e-20 by an upper bound instead (see ks-two-sample.ts): at least
 * scipy's value and still below 1e-20.
 */
function expectTwoSample(actual: number, expected: number, n: number, m: number, label: string): void {
  const mayBound = n !== m && Math.max(n, m) <= MAX_EXACT_SIZE && expected < 1e-20;
  if (mayBound && actual > expected * (1 + 1e-9)) expect(actual, label).toBeLessThan(1e-20);
  else if (expected < 1e-290) expect(actual, label).toBeLessThan(1e-290);
  else expect(Math.abs(actual - expected) / expected, label).toBeLessThanOrEqual(1e-9);
}

/**
 * Under Stryker (vitest.mutation.config.ts) the instrumented recursion runs many times slower: per
 * mutant, exact unequal-size cases over 10⁶ lattice points are left to `npm test` (the cell
 * budget's own test below still runs one of 2·10⁷ cells).
 */
function affordable(n: number, m: number): boolean {
  return process.env.MUTATION_TESTING !== '1' || n === m || Math.max(n, m) > MAX_EXACT_SIZE || n * m <= 1_000_000;
}

describe('two-sample KS p-value (scipy ks_2samp, two-sided, method auto)', () => {
  it('matches scipy over sizes from 5 to 1,000,000, equal and unequal, exact and asymptotic, across the range of d', () => {
    const cases = fixture<{ d: number; n: number; m: number; p: number; mode: string }>('ks-two-sample').filter(({ n, m }) =>
      affordable(n, m),
    );
    expect(cases.length).toBeGreaterThan(1000);
    expect(new Set(cases.map((c) => c.mode))).toEqual(new Set(['exact', 'asymp']));
    for (const { d, n, m, p, mode } of cases) expectTwoSample(ksTwoSamplePValue(d, n, m), p, n, m, `d=${d} n=${n} m=${m} (${mode})`);
  });

  it('computes exactly up to 10,000 values per sample and asymptotically beyond, as scipy decides', () => {
    const cases = fixture<{ d: number; n: number; m: number; p: number; mode: string }>('ks-two-sample');
    for (const { d, n, m, p, mode } of cases) {
      if (Math.max(n, m) > MAX_EXACT_SIZE) expect(mode).toBe('asymp');
      // scipy falls back when rounding takes the exact value past 1: equal sizes, d of a step or two.
      else if (mode === 'asymp') expect([n === m, Math.round(d * n) <= 3, p]).toEqual([true, true, 1]);
    }
  });

  it("takes the asymptotic distribution at nm/(n + m) rounded half to even, like numpy's round", () => {
    // 10001 · 10001 / 20002 = 5000.5, which numpy rounds to 5000.
    expect(ksTwoSamplePValue(0.02, 10_001, 10_001)).toBe(kolmogorovSmirnovSurvival(0.02, 5000));
    // 10003 · 10003 / 20006 = 5001.5, which numpy rounds up to the even 5002. From scipy 1.10:
    // /usr/bin/python3 -c "import numpy as np; from scipy import stats; r = np.random.default_rng(1);
    //   a = r.normal(size=10003); b = r.normal(size=10003) + 0.05; print(stats.ks_2samp(a, b))"
    // → statistic 0.02369289213236031, pvalue 0.007162626685131637 (kstwo.sf at 5001: 0.007170673732042285).
    expectTwoSample(ksTwoSamplePValue(0.02369289213236031, 10_003, 10_003), 0.007162626685131637, 10_003, 10_003, 'n = m = 10003');
    expect(ksTwoSamplePValue(0.02369289213236031, 10_003, 10_003)).toBe(kolmogorovSmirnovSurvival(0.02369289213236031, 5002));
  });

  it('agrees with Gnedenko and Korolyuk’s formula for equal sizes at every attainable d', () => {
    for (const n of [10, 100, 1000]) {
      for (let k = 1; k <= n; k += Math.max(1, Math.floor(n / 50))) {
        expectTwoSample(ksTwoSamplePValue(k / n, n, n), exactKsPValueEqualSizes(n, k), n, n, `n=${n} k=${k}`);
      }
    }
  });

  it('rounds d to the lattice of attainable values h / lcm(n, m) before the exact computation', () => {
    expect(ksTwoSamplePValue(0.3004, 50, 20)).toBe(ksTwoSamplePValue(0.3, 50, 20));
    expect(ksTwoSamplePValue(0.2, 500, 137)).toBe(ksTwoSamplePValue(Math.round(0.2 * 68_500) / 68_500, 500, 137));
  });

  it('reports a p-value whose band exceeds the cell budget by the exact value at the widest band that fits, below 1e-20', () => {
    // n = 10,000 and m = 9,999: lcm 99,990,000 and d = 0.5 a band of 10⁸ cells. The budget, 2·10⁷
    // cells, fits h′ = ⌊(2·10⁷ / 10⁴ − 1) · 10⁴ / 2⌋ = 9,995,000. scipy (test/fixtures/scipy/generate.py):
    // /usr/bin/python3 -c "import generate as g; print(g.ks_2samp_pvalue(9995000/99990000, 10000, 9999),
    //   g.ks_2samp_pvalue(0.5, 10000, 9999))"  → 5.790020228155315e-44 (exact) and 0 (exact, underflowed)
    const bound = ksTwoSamplePValue(0.5, 10_000, 9_999);
    expect(Math.abs(bound - 5.790020228155315e-44) / 5.790020228155315e-44).toBeLessThanOrEqual(1e-9);
    expect(bound).toBe(ksTwoSamplePValue(9_995_000 / 99_990_000, 10_000, 9_999));
  });

  it('is 1 for a zero statistic, an empty sample and a statistic that is not a number, and falls as d grows', () => {
    expect(ksTwoSamplePValue(0, 300, 200)).toBe(1);
    expect(ksTwoSamplePValue(0, 300, 300)).toBe(1);
    // d · lcm rounds to 0 on the lattice: equal sizes (0.001 · 300) and unequal (0.0001 · 600).
    expect(ksTwoSamplePValue(0.001, 300, 300)).toBe(1);
    expect(ksTwoSamplePValue(0.0001, 300, 200)).toBe(1);
    expect(ksTwoSamplePValue(0.4, 0, 200)).toBe(1);
    expect(ksTwoSamplePValue(0.4, 200, 0)).toBe(1);
    expect(ksTwoSamplePValue(0.4, 30_000, 0)).toBe(1);
    expect(ksTwoSamplePValue(0.4, 0, 30_000)).toBe(1);
    expect(ksTwoSamplePValue(Number.NaN, 300, 200)).toBe(1);
    expect(ksTwoSamplePValue(Number.NaN, 30_000, 20_000)).toBe(1);
    let previous = 1;
    for (let h = 1; h <= 60; h++) {
      const p = ksTwoSamplePValue(h / 60, 20, 30);
      expect(p).toBeLessThanOrEqual(previous);
      previous = p;
    }
  });
});

describe('one-sample KS distributions (scipy kstwo and smirnov)', () => {
  it('kstwo.sf matches scipy for n from 1 to 2,000,000 through every method scipy switches between', () => {
    for (const { n, d, sf } of fixture<{ n: number; d: number; sf: number }>('kstwo')) {
      expectScipy(kolmogorovSmirnovSurvival(d, n), sf, `n=${n} d=${d}`);
    }
  });

  it('smirnov matches scipy for n from 1 to 1,000,001, including the closed forms at both ends', () => {
    for (const { n, x, sf } of fixture<{ n: number; x: number; sf: number }>('smirnov')) {
      expectScipy(smirnovSurvival(n, x), sf, `n=${n} x=${x}`);
    }
  });

  it('is 1 at or below the support 1/(2n) and 0 from 1', () => {
    expect(kolmogorovSmirnovSurvival(0.5 / 40, 40)).toBe(1);
    expect(kolmogorovSmirnovSurvival(1, 40)).toBe(0);
  });
});

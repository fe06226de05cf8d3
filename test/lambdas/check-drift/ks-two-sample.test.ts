import { readFileSync } from 'node:fs';
import fc from 'fast-check';
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
    for (const { d, n, m, p, mode } of cases) {
      const actual = ksTwoSamplePValue(d, n, m);
      expectTwoSample(actual, p, n, m, `d=${d} n=${n} m=${m} (${mode})`);
      // Never an exact sum that rounding took past 1 (scipy falls back to the asymptotic value there).
      expect(actual, `d=${d} n=${n} m=${m}`).toBeLessThanOrEqual(1);
    }
  });

  it('computes exactly up to 10,000 values per sample and asymptotically beyond, as scipy decides', () => {
    expect(MAX_EXACT_SIZE).toBe(10_000);
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

  it('equals the share of lattice paths that leave the band, counted over the grid, for sizes up to 24 and d on the lattice h/lcm', () => {
    // A path from (0, 0) to (n, m) orders the two samples; D ≥ h/lcm(n, m) when some point has
    // |x/n − y/m| ≥ h/lcm, that is |x·m − y·n| ≥ h·gcd(n, m). Counted forward over the grid, in integers.
    const outsideShare = (n: number, m: number, h: number): number => {
      let divisor = n;
      for (let rest = m; rest !== 0; ) [divisor, rest] = [rest, divisor % rest];
      const inside = (x: number, y: number) => Math.abs(x * m - y * n) < h * divisor;
      const paths: number[][] = [];
      for (let x = 0; x <= n; x++) {
        paths.push([]);
        for (let y = 0; y <= m; y++) {
          const into = x === 0 && y === 0 ? 1 : (x > 0 ? paths[x - 1]![y]! : 0) + (y > 0 ? paths[x]![y - 1]! : 0);
          paths[x]!.push(inside(x, y) ? into : 0);
        }
      }
      // C(n + m, m) ≤ C(48, 24) ≈ 3.2e13: every count here is an exact integer in float64.
      let total = 1;
      for (let k = 1; k <= m; k++) total = (total * (n + k)) / k;
      return (total - paths[n]![m]!) / total;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 24 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, m, u) => {
          let divisor = n;
          for (let rest = m; rest !== 0; ) [divisor, rest] = [rest, divisor % rest];
          const lcm = (n / divisor) * m;
          const h = 1 + Math.floor(u * lcm);
          if (h > lcm) return;
          const expected = outsideShare(n, m, h);
          // Where rounding takes the exact sum past 1 (D ≥ one step, which every path reaches), scipy and this
          // module fall back to the asymptotic distribution.
          if (expected === 1) return;
          const actual = ksTwoSamplePValue(h / lcm, n, m);
          expect(Math.abs(actual - expected) / expected, `n=${n} m=${m} h=${h}`).toBeLessThanOrEqual(1e-11);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is 1 at d = 1/n for equal sizes where the closed form sums to exactly 1, as scipy reports it', () => {
    // Every path leaves the band at its first step. scipy: g.ks_2samp_pvalue(1/3, 3, 3) and (1/9, 9, 9) → (1.0, 'exact');
    // the asymptotic fallback there would give kstwo.sf(1/3, 2) < 1.
    expect(ksTwoSamplePValue(1 / 3, 3, 3)).toBe(1);
    expect(ksTwoSamplePValue(1 / 9, 9, 9)).toBe(1);
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
    // n = 10,000 and m = 5,000 (gcd 5,000, lcm 10,000): d = 0.5 spans 5·10⁷ cells; the budget fits
    // h′ = ⌊(2000 − 1) · 2 / 2⌋ = 1,999. scipy: g.ks_2samp_pvalue(1999/10000, 10000, 5000) → 6.048189474313936e-117.
    const coarser = ksTwoSamplePValue(0.5, 10_000, 5_000);
    expect(Math.abs(coarser - 6.048189474313936e-117) / 6.048189474313936e-117).toBeLessThanOrEqual(1e-9);
    expect(coarser).toBe(ksTwoSamplePValue(1_999 / 10_000, 5_000, 10_000));
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

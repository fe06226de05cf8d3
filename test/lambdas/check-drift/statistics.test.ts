import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../../lambdas/check-drift/distributions';
import {
  chiSquareTest,
  compareCategorical,
  compareNumeric,
  groupBins,
  jensenShannonDistance,
  ksStatistic,
  populationStabilityIndex,
  psiPValue,
  wassersteinDistance,
} from '../../../lambdas/check-drift/statistics';
import type { CategoricalColumnProfile, DatasetProfile, NumericColumnProfile } from '../../../lambdas/shared/profile/profile';
import { profileValues } from '../../../testkit/profile-values';
import { exactKs, exactWasserstein, normalSampler, sample, seededRandom } from '../../../testkit/samples';

function numericProfiles(reference: ArrayLike<number>, current: ArrayLike<number>) {
  const referenceProfile = profileValues([{ name: 'x', kind: 'numeric', values: Array.from(reference) }]);
  const currentProfile = profileValues([{ name: 'x', kind: 'numeric', values: Array.from(current) }], referenceProfile);
  return { reference: referenceProfile.columns.x as NumericColumnProfile, current: currentProfile.columns.x as NumericColumnProfile };
}

function categorical(values: (string | null)[], name = 'c'): CategoricalColumnProfile {
  return (profileValues([{ name, kind: 'categorical', values }]) as DatasetProfile).columns[name] as CategoricalColumnProfile;
}

const sorted = (values: Float64Array) => Float64Array.from(values).sort();

describe('PSI', () => {
  it('matches a hand computation on four bins', () => {
    // p = 0.1, 0.2, 0.3, 0.4; q = 0.2, 0.2, 0.3, 0.3
    const expected = (0.2 - 0.1) * Math.log(0.2 / 0.1) + (0.3 - 0.4) * Math.log(0.3 / 0.4);
    expect(populationStabilityIndex([10, 20, 30, 40], [20, 20, 30, 30])).toBeCloseTo(expected, 12);
  });

  it('smooths an empty bin with epsilon = 1e-4 instead of dividing by zero', () => {
    // p = 0.5, 0.5, 0 (→ ε); q = 0.25, 0.25, 0.5
    const expected = 2 * (0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(populationStabilityIndex([5, 5, 0], [1, 1, 2])).toBeCloseTo(expected, 12);
  });

  it('gives the noise p-value of N·PSI against chi-square with bins − 1 degrees of freedom', () => {
    // N = 100·100/200 = 50; 50 · 0.3384 = 16.92 ≈ the 95th percentile of χ²(9).
    expect(psiPValue(16.919 / 50, 100, 100, 10)).toBeCloseTo(0.05, 4);
  });
});

describe('Jensen–Shannon distance', () => {
  it('is 1 for disjoint distributions and 0 for identical ones', () => {
    expect(jensenShannonDistance([1, 0], [0, 3])).toBeCloseTo(1, 12);
    expect(jensenShannonDistance([2, 6, 2], [1, 3, 1])).toBe(0);
  });

  it('matches a hand computation', () => {
    // p = (1/2, 1/2), q = (1, 0), m = (3/4, 1/4)
    const divergence = 0.5 * (0.5 * Math.log2(0.5 / 0.75) + 0.5 * Math.log2(0.5 / 0.25)) + 0.5 * Math.log2(1 / 0.75);
    expect(jensenShannonDistance([1, 1], [2, 0])).toBeCloseTo(Math.sqrt(divergence), 12);
  });
});

describe('chi-square', () => {
  it('matches the textbook quantiles', () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(5.991465, 2)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(16.918978, 9)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(124.342113, 100)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(0, 4)).toBe(1);
  });

  it('tests homogeneity of a 2 × 3 table like a hand computation', () => {
    // Rows (30, 50, 20) and (20, 30, 50): totals 100 and 100, column totals 50, 80, 70.
    const expected = [30, 50, 20, 20, 30, 50].reduce((sum, observed, index) => {
      const expectedCount = [25, 40, 35][index % 3]!;
      return sum + (observed - expectedCount) ** 2 / expectedCount;
    }, 0);
    const test = chiSquareTest([30, 50, 20], [20, 30, 50]);
    expect(test.statistic).toBeCloseTo(expected, 10);
    expect(test.degreesOfFreedom).toBe(2);
    expect(test.pValue).toBeCloseTo(Math.exp(-expected / 2), 10); // χ²(2) survival is e^(−x/2)
  });
});

describe('Kolmogorov–Smirnov', () => {
  it('reads the statistic from binned counts exactly at the bin boundaries', () => {
    // CDFs at the boundaries: (0.1, 0.3, 0.6) vs (0.2, 0.4, 0.6)
    expect(ksStatistic([10, 20, 30, 40], [20, 20, 20, 40])).toBeCloseTo(0.1, 12);
  });

  it('reads every inner boundary, the last one too', () => {
    // CDFs at the boundaries: (0.1, 0.1, 0.1) vs (0.1, 0.1, 1.0): the whole difference is at the last.
    expect(ksStatistic([1, 0, 0, 9], [1, 0, 9, 0])).toBeCloseTo(0.9, 12);
    expect(ksStatistic([9, 1], [1, 9])).toBeCloseTo(0.8, 12);
  });
});

describe('numeric comparison against the exact statistics of the raw samples (n = m = 100,000)', () => {
  const random = seededRandom(42);
  const normal = normalSampler(random);
  const cases: [string, () => number, () => number][] = [
    ['identical normals', normal, normal],
    ['a mean shift of 0.05', normal, () => normal() + 0.05],
    ['a variance change (sd 1 → 1.2)', normal, () => 1.2 * normal()],
    ['heavy tails (log-normal, sigma 1 → 1.3)', () => Math.exp(normal()), () => Math.exp(1.3 * normal())],
    ['a Pareto tail shifted by 10%', () => 1 / random() ** (1 / 1.5), () => 1.1 / random() ** (1 / 1.5)],
  ];
  for (const [label, drawReference, drawCurrent] of cases) {
    it(`${label}: KS within 5e-4, Wasserstein-1 within 1% of the exact value`, () => {
      const reference = sample(100_000, drawReference);
      const current = sample(100_000, drawCurrent);
      const profiles = numericProfiles(reference, current);
      const comparison = compareNumeric('x', profiles.reference, profiles.current);
      const sortedReference = sorted(reference);
      const sortedCurrent = sorted(current);
      expect(Math.abs(comparison.ks - exactKs(sortedReference, sortedCurrent))).toBeLessThanOrEqual(5e-4);
      const exact = exactWasserstein(sortedReference, sortedCurrent);
      expect(Math.abs(comparison.wasserstein - exact)).toBeLessThanOrEqual(0.01 * exact);
    });
  }

  it('finds the shift at this size and not the noise', () => {
    const reference = sample(100_000, normal);
    const same = compareNumeric(
      'x',
      ...(Object.values(numericProfiles(reference, sample(100_000, normal))) as [NumericColumnProfile, NumericColumnProfile]),
    );
    const shifted = compareNumeric(
      'x',
      ...(Object.values(
        numericProfiles(
          reference,
          sample(100_000, () => normal() + 0.05),
        ),
      ) as [NumericColumnProfile, NumericColumnProfile]),
    );
    expect(same.ksPValue).toBeGreaterThan(0.01);
    expect(shifted.ksPValue).toBeLessThan(1e-6);
    expect(shifted.psi).toBeLessThan(0.1); // a real but small shift: PSI alone would not alarm
  });
});

describe('edge cases', () => {
  it('gives zero statistics and p = 1 for an empty current window', () => {
    const { reference } = numericProfiles([1, 2, 3, 4], []);
    const empty = numericProfiles([1, 2, 3, 4], []).current;
    const comparison = compareNumeric('x', reference, empty);
    expect(comparison).toMatchObject({ currentCount: 0, psi: 0, ks: 0, js: 0, wasserstein: 0, ksPValue: 1 });
  });

  it('handles a constant column: zero when unchanged, exact when the constant moves', () => {
    const same = numericProfiles(new Array(500).fill(3), new Array(400).fill(3));
    expect(compareNumeric('x', same.reference, same.current)).toMatchObject({ ks: 0, psi: 0, js: 0, wasserstein: 0 });
    const moved = numericProfiles(new Array(500).fill(3), new Array(400).fill(5));
    const comparison = compareNumeric('x', moved.reference, moved.current);
    // Both samples sit in the reference's last bin: the extremes give KS, the moments place W1.
    expect(comparison.ks).toBe(1);
    expect(comparison.ksPValue).toBeLessThan(1e-10);
    expect(comparison.wasserstein).toBeCloseTo(2, 12);
  });

  it('refuses a current profile binned on other edges', () => {
    const a = numericProfiles([1, 2, 3], [1, 2]);
    const b = numericProfiles([5, 6, 7], [5]);
    expect(() => compareNumeric('amount', a.reference, b.current)).toThrow(
      /column "amount": the current profile was not binned on the reference/,
    );
  });

  it('reports a category unseen in the reference and counts it in the test', () => {
    const reference = categorical([...new Array(600).fill('a'), ...new Array(400).fill('b')]);
    const current = categorical([...new Array(500).fill('a'), ...new Array(300).fill('b'), ...new Array(200).fill('c')]);
    const comparison = compareCategorical(reference, current);
    expect(comparison.newCategories).toEqual([{ value: 'c', count: 200 }]);
    expect(comparison.degreesOfFreedom).toBe(2);
    expect(comparison.chiSquare).toBeCloseTo(chiSquareTest([600, 400, 0], [500, 300, 200]).statistic, 10);
    expect(comparison.chiSquarePValue).toBeLessThan(1e-10);
    expect(comparison.psi).toBeCloseTo(populationStabilityIndex([600, 400, 0], [500, 300, 200]), 12);
  });

  it('folds unseen categories into "other" when the reference folded its own rare values', () => {
    const reference: CategoricalColumnProfile = {
      kind: 'categorical',
      count: 110,
      nulls: 0,
      invalid: 0,
      categories: [['a', 100]],
      otherCount: 10,
    };
    const current: CategoricalColumnProfile = {
      kind: 'categorical',
      count: 110,
      nulls: 0,
      invalid: 0,
      categories: [
        ['a', 100],
        ['zz', 10],
      ],
      otherCount: 0,
    };
    const comparison = compareCategorical(reference, current);
    expect(comparison.newCategories).toEqual([]);
    expect(comparison.chiSquare).toBe(0);
    // Current "other" (5) plus the unseen category (10) against the reference's "other" (10).
    const withOther = compareCategorical(reference, { ...current, count: 115, otherCount: 5 });
    expect(withOther).toMatchObject({ currentCount: 115, bins: 2, newCategories: [] });
    expect(withOther.chiSquare).toBeCloseTo(chiSquareTest([100, 10], [100, 15]).statistic, 12);
  });

  it('adds current mass past a reference whose top deciles one heavy value filled to the top group', () => {
    // Reference mass 5 at bin 0 fills deciles 1-5, 5 more at bin 2 fills 6-10: two groups, and bin 3
    // (no reference mass) belongs to the second. Nothing is added when bin 3 is empty in both.
    expect(groupBins([5, 0, 5, 0], [1, 2, 3, 4], 10)).toEqual({ reference: [5, 5], current: [1, 9] });
    expect(groupBins([5, 0, 5, 0], [1, 2, 3, 0], 10)).toEqual({ reference: [5, 5], current: [1, 5] });
  });

  it('groups into 10 deciles of reference mass by default (PSI and JS, internals.md)', () => {
    const uniform = Array.from({ length: 100 }, () => 1);
    const grouped = groupBins(uniform, uniform);
    expect(grouped.reference).toEqual(Array.from({ length: 10 }, () => 10));
    expect(grouped.current).toEqual(grouped.reference);
  });

  it('gives one empty group for two empty histograms', () => {
    expect(groupBins([0, 0, 0], [0, 0, 0], 10)).toEqual({ reference: [0], current: [0] });
    expect(groupBins([], [], 10)).toEqual({ reference: [0], current: [0] });
  });

  it('gives chi-square no degrees of freedom (statistic 0, p = 1) when one sample is empty or one category holds everything', () => {
    expect(chiSquareTest([0, 0, 0], [3, 4, 5])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
    expect(chiSquareTest([3, 4, 5], [0, 0, 0])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
    expect(chiSquareTest([0, 7, 0], [0, 2, 0])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
  });

  it('names the column in the refusal’s details', () => {
    const a = numericProfiles([1, 2, 3], [1, 2]);
    const b = numericProfiles([5, 6, 7], [5]);
    expect(() => compareNumeric('amount', a.reference, b.current)).toThrow(expect.objectContaining({ details: { column: 'amount' } }));
  });

  it('leaves out categories empty in both samples, keeping the others aligned', () => {
    // A stored reference may list a category with no values: b is empty in both and drops out, so
    // the table is a: 100 vs 50, c (new): 0 vs 5; "other" is empty in both and drops out too.
    const reference: CategoricalColumnProfile = {
      kind: 'categorical',
      count: 100,
      nulls: 0,
      invalid: 0,
      categories: [
        ['a', 100],
        ['b', 0],
      ],
      otherCount: 0,
    };
    const current: CategoricalColumnProfile = {
      kind: 'categorical',
      count: 55,
      nulls: 0,
      invalid: 0,
      categories: [
        ['a', 50],
        ['c', 5],
      ],
      otherCount: 0,
    };
    const comparison = compareCategorical(reference, current);
    const expected = chiSquareTest([100, 0], [50, 5]);
    expect(comparison).toMatchObject({
      bins: 2,
      degreesOfFreedom: 1,
      referenceCount: 100,
      currentCount: 55,
      chiSquare: expected.statistic,
    });
    expect(comparison.newCategories).toEqual([{ value: 'c', count: 5 }]);
    expect(comparison.psi).toBeCloseTo(populationStabilityIndex([100, 0], [50, 5]), 12);
    expect(comparison.psiPValue).toBeCloseTo(psiPValue(comparison.psi, 100, 55, 2), 12);
  });

  it('counts "other" apart from a category named by the empty string', () => {
    const reference: CategoricalColumnProfile = {
      kind: 'categorical',
      count: 100,
      nulls: 0,
      invalid: 0,
      categories: [
        ['', 30],
        ['a', 70],
      ],
      otherCount: 0,
    };
    const current: CategoricalColumnProfile = {
      ...reference,
      categories: [
        ['', 70],
        ['a', 30],
      ],
    };
    const comparison = compareCategorical(reference, current);
    expect(comparison.bins).toBe(2);
    expect(comparison.psi).toBeCloseTo(populationStabilityIndex([30, 70], [70, 30]), 12);
    expect(comparison.chiSquare).toBeCloseTo(chiSquareTest([30, 70], [70, 30]).statistic, 12);
  });

  it('groups fine bins into deciles of reference mass and keeps current mass past the reference in the top group', () => {
    const grouped = groupBins([0, ...new Array(20).fill(5), 0], [3, ...new Array(20).fill(5), 7], 10);
    expect(grouped.reference).toEqual(new Array(10).fill(10));
    expect(grouped.current).toEqual([13, 10, 10, 10, 10, 10, 10, 10, 10, 17]);
  });
});

describe('properties', () => {
  // size 'max' throughout: fast-check 4 otherwise caps an array at 2 × minLength + 10 whatever maxLength says.
  const counts = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 30, size: 'max' });
  const pair = counts.chain((a) =>
    fc.tuple(fc.constant(a), fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: a.length, maxLength: a.length })),
  );
  const nonEmpty = ([a, b]: [number[], number[]]) => a.some((x) => x > 0) && b.some((x) => x > 0);

  it('PSI, JS, KS and chi-square are symmetric', () => {
    fc.assert(
      fc.property(pair.filter(nonEmpty), ([a, b]) => {
        expect(populationStabilityIndex(a, b)).toBeCloseTo(populationStabilityIndex(b, a), 9);
        expect(jensenShannonDistance(a, b)).toBeCloseTo(jensenShannonDistance(b, a), 12);
        expect(ksStatistic(a, b)).toBeCloseTo(ksStatistic(b, a), 12);
        expect(chiSquareTest(a, b).statistic).toBeCloseTo(chiSquareTest(b, a).statistic, 6);
      }),
    );
  });

  it('every statistic is zero on identical proportions and JS stays in [0, 1]', () => {
    fc.assert(
      fc.property(pair.filter(nonEmpty), fc.integer({ min: 1, max: 5 }), ([a, b], scale) => {
        const scaled = a.map((x) => x * scale);
        expect(populationStabilityIndex(a, scaled)).toBeCloseTo(0, 12);
        expect(jensenShannonDistance(a, scaled)).toBeCloseTo(0, 6);
        expect(ksStatistic(a, scaled)).toBeCloseTo(0, 12);
        expect(chiSquareTest(a, scaled).statistic).toBeCloseTo(0, 6);
        const js = jensenShannonDistance(a, b);
        expect(js).toBeGreaterThanOrEqual(0);
        expect(js).toBeLessThanOrEqual(1);
        expect(populationStabilityIndex(a, b)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('Wasserstein-1 is zero against itself, and exact when every current value is among the reference values', () => {
    // Few distinct values: every reference value is an edge holding its mass exactly, so the
    // distance is exact whenever the current values are among the reference's.
    const reference = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 60, size: 'max' });
    const withCurrent = reference.chain((a) =>
      fc.tuple(
        fc.constant(a),
        fc.array(
          fc.nat({ max: a.length - 1 }).map((index) => a[index]!),
          { minLength: 1, maxLength: 60, size: 'max' },
        ),
      ),
    );
    fc.assert(
      fc.property(withCurrent, ([a, b]) => {
        const self = numericProfiles(a, a);
        expect(wassersteinDistance(self.reference, self.current)).toBeCloseTo(0, 9);
        const forward = numericProfiles(a, b);
        const exact = exactWasserstein(Float64Array.from(a).sort(), Float64Array.from(b).sort());
        expect(wassersteinDistance(forward.reference, forward.current)).toBeCloseTo(exact, 9);
      }),
    );
  });

  it('Wasserstein-1 is symmetric when both samples hold the same values (in any proportions)', () => {
    const values = fc.uniqueArray(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 20, size: 'max' });
    /** Every value once, then more draws among them. */
    const over = (set: number[]) =>
      fc
        .array(
          fc.nat({ max: set.length - 1 }).map((index) => set[index]!),
          { maxLength: 40, size: 'max' },
        )
        .map((extra) => [...set, ...extra]);
    fc.assert(
      fc.property(
        values.chain((set) => fc.tuple(over(set), over(set))),
        ([a, b]) => {
          const forward = numericProfiles(a, b);
          const backward = numericProfiles(b, a);
          const distance = wassersteinDistance(forward.reference, forward.current);
          expect(wassersteinDistance(backward.reference, backward.current)).toBeCloseTo(distance, 9);
          expect(distance).toBeCloseTo(exactWasserstein(Float64Array.from(a).sort(), Float64Array.from(b).sort()), 9);
        },
      ),
    );
  });
});

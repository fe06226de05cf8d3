import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ksStatistic } from '../../../../lambdas/check-drift/statistics';
import { wassersteinDistance } from '../../../../lambdas/check-drift/wasserstein';
import { EXACT_REFERENCE_VALUES, NumericColumnProfiler } from '../../../../lambdas/shared/profile/profilers';
import { QuantileSketch, SKETCH_LEVEL_CAPACITY } from '../../../../lambdas/shared/profile/quantile-sketch';
import { exactKs, exactWasserstein, normalSampler, sample, seededRandom } from '../../../../testkit/samples';

/** Values of `sorted` below x. */
function rankOf(sorted: Float64Array, x: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < x) low = middle + 1;
    else high = middle;
  }
  return low;
}

describe('QuantileSketch', () => {
  it('reports every rank within its error bound, and the bound within levels × n / k', () => {
    fc.assert(
      fc.property(
        // size 'max': fast-check 4 otherwise caps an array at 10 values whatever maxLength says,
        // and 3 runs in 60 compacted at all; with it about 85% do.
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20_000, size: 'max' }),
        fc.integer({ min: 3, max: 9 }).map((power) => 2 ** power),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (input, capacity, queries) => {
          const values = Float64Array.from(input);
          const sketch = new QuantileSketch(capacity);
          for (let from = 0; from < values.length; from += 997) sketch.add(values.subarray(from), Math.min(997, values.length - from));
          const { values: kept, weights } = sketch.weighted();
          expect(weights.reduce((total, weight) => total + weight, 0)).toBe(values.length);
          const sorted = values.slice().sort();
          for (const x of [...queries, ...input.slice(0, 20)]) {
            let below = 0;
            for (let i = 0; i < kept.length && kept[i]! < x; i++) below += weights[i]!;
            expect(Math.abs(below - rankOf(sorted, x))).toBeLessThanOrEqual(sketch.rankErrorBound);
          }
          const levels = Math.max(1, Math.ceil(Math.log2(values.length / capacity)) + 1);
          expect(sketch.rankErrorBound).toBeLessThanOrEqual((levels * values.length) / capacity);
          expect(sketch.retainedBytes).toBeLessThanOrEqual((levels + 1) * capacity * 8);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('QuantileSketch compactions', () => {
  it('refuses a level capacity that is not a power of two of at least 8', () => {
    for (const capacity of [4, 12, 0]) expect(() => new QuantileSketch(capacity)).toThrow(/must be a power of two, at least 8, got /);
    expect(new QuantileSketch(8).count).toBe(0);
  });

  it('compacts level 0 around its protected ends, alternating which half moves up', () => {
    const sketch = new QuantileSketch(8);
    sketch.add(Float64Array.from([7, 6, 5, 4, 3, 2, 1, 0]), 8);
    // Sorted 0 … 7, the 2 smallest and 2 largest kept; of 2 … 5 the even positions (2, 4) move up, weight 2.
    expect(sketch.weighted()).toEqual({ values: Float64Array.from([0, 1, 2, 4, 6, 7]), weights: Float64Array.from([1, 1, 2, 2, 1, 1]) });
    expect([sketch.count, sketch.rankErrorBound, sketch.retainedBytes]).toEqual([8, 1, 2 * 8 * 8]);
    sketch.add(Float64Array.from([8, 9, 10, 11, 99]), 4);
    // Level 0 is 0, 1, 6 … 11: now the odd positions of the middle (7, 9) move up.
    expect(sketch.weighted()).toEqual({
      values: Float64Array.from([0, 1, 2, 4, 7, 9, 10, 11]),
      weights: Float64Array.from([1, 1, 2, 2, 2, 2, 1, 1]),
    });
    expect([sketch.count, sketch.rankErrorBound]).toEqual([12, 2]);
  });

  it('cascades compactions up the levels as a transcription of the documented rule does', () => {
    // python3: the KLL rule of the module comment with k = 8 over [(i * 37) % 101 for i in range(100)], added at once.
    const sketch = new QuantileSketch(8);
    const values = Float64Array.from({ length: 100 }, (_, i) => (i * 37) % 101);
    sketch.add(values.subarray(0, 37), 37);
    sketch.add(values.subarray(37), 63);
    expect(sketch.weighted()).toEqual({
      values: Float64Array.from([0, 1, 2, 12, 30, 31, 50, 65, 74, 78, 99, 100]),
      weights: Float64Array.from([1, 1, 8, 16, 16, 8, 16, 8, 16, 8, 1, 1]),
    });
    expect([sketch.count, sketch.rankErrorBound, sketch.retainedBytes]).toEqual([100, 56, 5 * 8 * 8]);
  });
});

describe('a reference profile beyond the exact limit', () => {
  // Each run profiles 1.5M values; under Stryker (vitest.mutation.config.ts), whose instrumented
  // code is many times slower, one seed per mutant instead of three.
  const MUTATION_RUNS = process.env.MUTATION_TESTING === '1' ? 1 : 3;
  const n = EXACT_REFERENCE_VALUES + (EXACT_REFERENCE_VALUES >> 1);

  function profileOf(values: Float64Array, edges?: readonly number[]) {
    const profiler = new NumericColumnProfiler(edges);
    let largest = 0;
    for (let from = 0; from < values.length; from += 8192) {
      profiler.addBatch(values.subarray(from, from + 8192), new Uint8Array(8192), Math.min(8192, values.length - from));
      largest = Math.max(largest, profiler.retainedBytes);
    }
    return { profiler, column: profiler.finish(), largest };
  }

  it('holds a bounded sketch, not the values, with its CDF at every edge within the stated rank error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        const random = seededRandom(seed);
        const normal = normalSampler(random);
        const values = sample(n, () => Math.exp(normal()) * 100);
        const { profiler, column, largest } = profileOf(values);
        expect(largest).toBeLessThanOrEqual(EXACT_REFERENCE_VALUES * 8);
        const error = profiler.sketchRankError;
        expect(error).toBeGreaterThan(0);
        // The stated bound: the levels compacted × n / k, k = SKETCH_LEVEL_CAPACITY = 2^15 (internals.md).
        expect(SKETCH_LEVEL_CAPACITY).toBe(2 ** 15);
        expect(error).toBeLessThanOrEqual((Math.ceil(Math.log2(n / SKETCH_LEVEL_CAPACITY)) + 1) / SKETCH_LEVEL_CAPACITY);
        const sorted = values.slice().sort();
        expect(column.count).toBe(n);
        expect(column.min).toBe(sorted[0]);
        expect(column.tails!.highest.at(-1)).toBe(sorted[n - 1]);
        let below = column.histogram.counts[0]!;
        column.histogram.edges.forEach((edge, index) => {
          expect(Math.abs(below - rankOf(sorted, edge)) / n).toBeLessThanOrEqual(error);
          below += column.histogram.counts[index + 1]!;
        });
        expect(below).toBe(n);
      }),
      { numRuns: MUTATION_RUNS },
    );
  });

  it('keeps KS within the largest bin mass plus the rank error, and W1 within 2%, of the exact two-sample values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 0.3, noNaN: true }), (seed, shift) => {
        const random = seededRandom(seed);
        const normal = normalSampler(random);
        const reference = sample(n, () => Math.exp(normal()) * 100);
        const current = sample(100_000, () => Math.exp(normal() + shift) * 100);
        const { profiler, column } = profileOf(reference);
        const window = profileOf(current, column.histogram.edges).column;
        const sortedReference = reference.slice().sort();
        const sortedCurrent = current.slice().sort();
        const largestBin = Math.max(...column.histogram.counts) / n;
        const ks = ksStatistic(column.histogram.counts, window.histogram.counts);
        expect(Math.abs(ks - exactKs(sortedReference, sortedCurrent))).toBeLessThanOrEqual(largestBin + profiler.sketchRankError);
        const w1 = wassersteinDistance(column, window);
        const exact = exactWasserstein(sortedReference, sortedCurrent);
        expect(Math.abs(w1 - exact)).toBeLessThanOrEqual(0.02 * exact);
      }),
      { numRuns: MUTATION_RUNS },
    );
  });
});

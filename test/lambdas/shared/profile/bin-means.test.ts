import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binAnchor,
  binMeans,
  binSpan,
  decodeMeanLevels,
  encodeMeanLevels,
  MEAN_LEVELS,
  meanLevelsFromOffsets,
  mergeMeanLevels,
} from '../../../../lambdas/shared/profile/bin-means';
import { parseProfile, serializeProfile } from '../../../../lambdas/shared/profile/codec';
import { binIndex } from '../../../../lambdas/shared/profile/edge-index';
import type { DatasetProfile, NumericColumnProfile } from '../../../../lambdas/shared/profile/profile';
import { mergeProfiles, NumericColumnProfiler } from '../../../../lambdas/shared/profile/profilers';
import { seededRandom } from '../../../../local/sample-data';

function profile(values: readonly number[], edges?: readonly number[]): NumericColumnProfile {
  const profiler = new NumericColumnProfiler(edges);
  profiler.addBatch(Float64Array.from(values), new Uint8Array(values.length), values.length);
  return profiler.finish();
}

/** The exact mean of each bin's values. */
function trueMeans(values: readonly number[], edges: readonly number[]): number[] {
  const sums = new Array<number>(edges.length + 1).fill(0);
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of values) {
    const bin = binIndex(edges, value);
    sums[bin]! += value;
    counts[bin]!++;
  }
  return sums.map((sum, bin) => (counts[bin]! > 0 ? sum / counts[bin]! : Number.NaN));
}

/** Every bin mean within `levels` levels of the truth (half a level is the rounding). */
function expectMeansNear(column: NumericColumnProfile, expected: readonly number[], levels: number): void {
  const { edges, counts, meanLevels } = column.histogram;
  const means = binMeans({ edges, counts, min: column.min, max: column.max }, meanLevels!);
  counts.forEach((count, bin) => {
    if (count === 0) return;
    const [low, high] = binSpan(edges, bin, column.min!, column.max!);
    expect(Math.abs(means[bin]! - expected[bin]!)).toBeLessThanOrEqual(
      ((high - low) * levels) / MEAN_LEVELS + 4 * Number.EPSILON * Math.abs(low),
    );
  });
}

function skewedSample(seed: number, n: number): number[] {
  const random = seededRandom(seed);
  // Log-normal-like and shifted far from zero, so bins are narrow next to their values.
  return Array.from({ length: n }, () => 1e6 + Math.exp(3 * (random() + random() + random() - 1.5)));
}

describe('bin means', () => {
  it('hold each bin’s mean to half a level of its span, for a reference and for a window binned on its edges', () => {
    const reference = skewedSample(1, 50_000);
    const window = skewedSample(2, 20_000).map((value) => value * 1.000001);
    const referenceProfile = profile(reference);
    const edges = referenceProfile.histogram.edges;
    expectMeansNear(referenceProfile, trueMeans(reference, edges), 0.5);
    expectMeansNear(profile(window, edges), trueMeans(window, edges), 0.5);
  });

  it('merge to within a level of the whole dataset’s means, in any split; counts and tails merge exactly', () => {
    const values = skewedSample(3, 30_000);
    const whole = profile(values);
    const edges = whole.histogram.edges;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: values.length }), { maxLength: 5 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parts: DatasetProfile[] = [];
        let start = 0;
        for (const end of [...points, values.length]) {
          parts.push({ formatVersion: 1, rowCount: end - start, columns: { x: profile(values.slice(start, end), edges) } });
          start = end;
        }
        const merged = parts.reduce(mergeProfiles).columns.x as NumericColumnProfile;
        expect(merged.histogram.counts).toEqual(whole.histogram.counts);
        expect(merged.tails).toEqual(whole.tails);
        expectMeansNear(merged, trueMeans(values, edges), 0.5 * parts.length);
      }),
      // Each split profiles 30,000 values; under Stryker (vitest.mutation.config.ts), whose
      // instrumented binning loop is several times slower, 4 splits per mutant instead of 20.
      { numRuns: process.env.MUTATION_TESTING === '1' ? 4 : 20 },
    );
  });

  it('travel as two base64 digits per bin and back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: MEAN_LEVELS })), (levels) => {
        expect(decodeMeanLevels(encodeMeanLevels(levels), levels.length, 'x')).toEqual(levels);
      }),
    );
    // Two base64 digits hold 4096 levels: a bin's mean to 1/4095 of its span (internals.md).
    expect(MEAN_LEVELS).toBe(4095);
    expect(() => decodeMeanLevels('AAA', 2, 'amount')).toThrow(/column "amount" has 1.5 bin means for 2 bins/);
    expect(() => decodeMeanLevels('A.', 1, 'amount')).toThrow(/column "amount" has a bin mean that is not two base64 digits/);
  });
});

describe('profiles with bin means and tails', () => {
  it('round-trip through storage exactly', () => {
    const column = profile(skewedSample(4, 40_000));
    const stored: DatasetProfile = { formatVersion: 1, rowCount: 40_000, columns: { x: column } };
    expect(parseProfile(serializeProfile(stored))).toEqual(stored);
  });

  it('still parse when written before bin means and tails existed, and merge with new ones without them', () => {
    const column = profile(skewedSample(5, 5000));
    const { meanLevels: _, ...histogram } = column.histogram;
    const old: DatasetProfile = { formatVersion: 1, rowCount: 5000, columns: { x: { ...column, histogram, tails: undefined } } };
    const text = serializeProfile(old);
    expect(text).not.toContain('meanLevels');
    const parsed = parseProfile(text);
    expect(parsed.columns.x).not.toHaveProperty('tails');
    const merged = mergeProfiles(parsed, { formatVersion: 1, rowCount: 5000, columns: { x: column } }).columns.x as NumericColumnProfile;
    expect(merged.histogram.meanLevels).toBeUndefined();
    expect(merged.tails).toBeUndefined();
  });
});

describe('bin mean arithmetic', () => {
  it('anchors each bin at its lower edge, the open bin below the edges at the first edge', () => {
    expect(binAnchor([], 0)).toBe(0);
    expect([0, 1, 2, 3].map((bin) => binAnchor([10, 20, 30], bin))).toEqual([10, 10, 20, 30]);
  });

  it('spans a bin between its edges, closed by the profile’s min and max and never inverted', () => {
    const edges = [10, 20, 30];
    expect([0, 1, 2, 3].map((bin) => binSpan(edges, bin, 5, 40))).toEqual([
      [5, 10],
      [10, 20],
      [20, 30],
      [30, 40],
    ]);
    expect(binSpan(edges, 1, 12, 40)).toEqual([12, 20]);
    expect(binSpan(edges, 2, 5, 25)).toEqual([20, 25]);
    expect(binSpan(edges, 3, 5, 25)).toEqual([30, 30]);
    expect(binSpan(edges, 0, 15, 40)).toEqual([15, 15]);
  });

  it('levels a mean by its place in the bin’s span, clamped, and 0 for an empty bin or span', () => {
    const column = { edges: [10, 20], counts: [0, 2, 1], min: 10, max: 25 };
    // Bin 1: 10 + 5 / 2 = 12.5, a quarter of [10, 20]: round(0.25 · 4095) = 1024. Bin 2: 20 + 3 / 1 = 23, 0.6 of [20, 25]: 2457.
    expect(meanLevelsFromOffsets(column, [0, 5, 3])).toEqual([0, 1024, 2457]);
    // Means beyond the span clamp to its ends.
    expect(meanLevelsFromOffsets(column, [0, -4, 99])).toEqual([0, 0, MEAN_LEVELS]);
    // A bin of zero width (min = max = its edge) has level 0 whatever its mean.
    expect(meanLevelsFromOffsets({ edges: [10], counts: [0, 1], min: 10, max: 10 }, [0, 0])).toEqual([0, 0]);
    expect(meanLevelsFromOffsets({ edges: [], counts: [0], min: null, max: null }, [0])).toEqual([0]);
  });

  it('reads means back from levels, finite even across ±1e308', () => {
    const column = { edges: [10, 20], counts: [0, 2, 1], min: 10, max: 25 };
    // python3: 10 + 2 * ((20/2 - 10/2) * (1024/4095)) = 12.5006105006105; 20 + 2 * ((25/2 - 20/2) * (2457/4095)) = 23.0
    expect(binMeans(column, [0, 1024, 2457])).toEqual([10, 12.5006105006105, 23]);
    expect(binMeans({ ...column, min: null, max: null }, [0, 1024, 2457])).toEqual([0, 0, 0]);
    const wide = { edges: [], counts: [2], min: -1e308, max: 1e308 };
    // python3: -1e308 + 2 * ((1e308/2 - -1e308/2) * (2048/4095)) = 2.4420024420014736e+304
    expect(binMeans(wide, [2048])).toEqual([2.4420024420014736e304]);
    expect(meanLevelsFromOffsets(wide, [1e308])).toEqual([Math.round(MEAN_LEVELS * 0.75)]);
    // The top levels of that bin: twice the half-span overflows; the mean stays finite and within the bin.
    // python3: -1e308 + (1e308/2 - -1e308/2) * (4095/4095) + (1e308/2 - -1e308/2) * (4095/4095) = 1e308
    expect(binMeans(wide, [MEAN_LEVELS])).toEqual([1e308]);
    for (const level of [3000, 4000, MEAN_LEVELS - 1]) {
      const [mean] = binMeans(wide, [level]);
      expect(Number.isFinite(mean), `level ${level}`).toBe(true);
      expect(mean).toBeGreaterThanOrEqual(-1e308);
      expect(mean).toBeLessThanOrEqual(1e308);
    }
  });

  it('merges means weighted by each part’s count', () => {
    const edges = [10, 20, 30];
    // a: one value 10 in bin 1 (its span [10, 10]); b: three values of mean 19 in bin 1 (span [15, 19], level 4095).
    const a = { edges, counts: [0, 1, 0, 0], min: 10, max: 10, meanLevels: [0, 0, 0, 0] };
    const b = { edges, counts: [0, 3, 0, 0], min: 15, max: 19, meanLevels: [0, MEAN_LEVELS, 0, 0] };
    const merged = { edges, counts: [0, 4, 0, 0], min: 10, max: 19 };
    // (10 + 3 · 19) / 4 = 16.75, 0.75 of [10, 19]: round(3071.25) = 3071.
    expect(mergeMeanLevels(merged, a, b)).toEqual([0, 3071, 0, 0]);
    expect(mergeMeanLevels(merged, b, a)).toEqual([0, 3071, 0, 0]);
  });

  it('writes a level as two base64 digits, high six bits first, and names the column of a bad digit in either place', () => {
    expect(encodeMeanLevels([0, 63, 64, MEAN_LEVELS])).toBe('AAA/BA//');
    expect(decodeMeanLevels('AAA/BA//', 4, 'x')).toEqual([0, 63, 64, MEAN_LEVELS]);
    expect(() => decodeMeanLevels('.A', 1, 'amount')).toThrow(/column "amount" has a bin mean that is not two base64 digits/);
    expect(() => decodeMeanLevels('AAAA', 1, 'amount')).toThrow(/column "amount" has 2 bin means for 1 bins/);
    // The API error body names the column in its details too.
    for (const text of ['A.', 'AAAA']) {
      expect(() => decodeMeanLevels(text, 1, 'amount')).toThrow(expect.objectContaining({ details: { column: 'amount' } }));
    }
  });
});

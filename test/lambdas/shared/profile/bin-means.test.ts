import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binMeans, binSpan, decodeMeanLevels, encodeMeanLevels, MEAN_LEVELS } from '../../../../lambdas/shared/profile/bin-means';
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
      { numRuns: 20 },
    );
  });

  it('travel as two base64 digits per bin and back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: MEAN_LEVELS })), (levels) => {
        expect(decodeMeanLevels(encodeMeanLevels(levels), levels.length, 'x')).toEqual(levels);
      }),
    );
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

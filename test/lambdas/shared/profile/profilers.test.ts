import { describe, expect, it } from 'vitest';
import {
  type CategoricalColumnProfile,
  CELL_INVALID,
  CELL_NULL,
  CELL_VALUE,
  type DatasetProfile,
  MAX_CATEGORY_LENGTH,
  MAX_TRACKED_CATEGORIES,
  type NumericColumnProfile,
} from '../../../../lambdas/shared/profile/profile';
import {
  CategoricalColumnProfiler,
  type CodeDictionary,
  EXACT_REFERENCE_VALUES,
  mergeProfiles,
  NumericColumnProfiler,
} from '../../../../lambdas/shared/profile/profilers';
import { profileValues } from '../../../../testkit/profile-values';

/** A dictionary with `permanent` permanent values; codes from `permanent` on are this batch's transient values. */
function dictionaryOf(permanent: readonly string[], transient: readonly string[]): CodeDictionary {
  return {
    permanentSize: permanent.length,
    valueOf: (code) => (code < permanent.length ? permanent[code]! : transient[code - permanent.length]!),
  };
}

/** Feeds a categorical profiler codes (every cell a value unless `states` says otherwise). */
function addCodes(profiler: CategoricalColumnProfiler, codes: readonly number[], dictionary?: CodeDictionary, states?: readonly number[]) {
  profiler.addBatch(Int32Array.from(codes), Uint8Array.from(states ?? codes.map(() => CELL_VALUE)), codes.length, dictionary);
}

describe('CategoricalColumnProfiler', () => {
  it('counts permanent codes exactly, nulls and invalid cells apart, and ignores skipped cells', () => {
    const profiler = new CategoricalColumnProfiler();
    // Codes 0 = a, 1 = b; a skipped cell (state 3) counts nowhere.
    addCodes(profiler, [0, 1, 0, 0, 1, 0, 0, 1], undefined, [
      CELL_VALUE,
      CELL_VALUE,
      CELL_NULL,
      CELL_INVALID,
      CELL_VALUE,
      3,
      CELL_VALUE,
      3,
    ]);
    expect(profiler.finish(['a', 'b'])).toEqual({
      kind: 'categorical',
      count: 4,
      nulls: 1,
      invalid: 1,
      categories: [
        ['a', 2],
        ['b', 2],
      ],
      otherCount: 0,
    });
  });

  it('grows its counts for codes beyond its first 64, and leaves out codes no value used', () => {
    const profiler = new CategoricalColumnProfiler();
    addCodes(profiler, [3, 200, 200, 64, 1000]);
    addCodes(profiler, [200, 127]);
    const dictionary = Array.from({ length: 1001 }, (_, code) => `v${code}`);
    expect(profiler.finish(dictionary).categories).toEqual([
      ['v200', 3],
      ['v1000', 1],
      ['v127', 1],
      ['v3', 1],
      ['v64', 1],
    ]);
  });

  it('grows its counts for a first code just past them (64)', () => {
    const profiler = new CategoricalColumnProfiler();
    addCodes(profiler, [64, 64]);
    expect(profiler.finish(Array.from({ length: 65 }, (_, code) => `v${code}`)).categories).toEqual([['v64', 2]]);
  });

  it('counts transient codes by value through the dictionary, exactly while they fit the sketch', () => {
    const profiler = new CategoricalColumnProfiler();
    // Batch 1: permanent a (0); transient codes 1 = x, 2 = y. Batch 2: the same values under swapped transient codes.
    addCodes(profiler, [0, 1, 2, 1, 0], dictionaryOf(['a'], ['x', 'y']));
    addCodes(profiler, [1, 2, 2, 0], dictionaryOf(['a'], ['y', 'x']));
    expect(profiler.finish(['a'])).toMatchObject({
      count: 9,
      categories: [
        ['x', 4],
        ['a', 3],
        ['y', 2],
      ],
      otherCount: 0,
    });
  });

  it('counts a transient value longer than MAX_CATEGORY_LENGTH in otherCount, never by name', () => {
    const long = 'q'.repeat(MAX_CATEGORY_LENGTH + 1);
    const longest = 'k'.repeat(MAX_CATEGORY_LENGTH);
    const profiler = new CategoricalColumnProfiler();
    addCodes(profiler, [0, 1, 2, 1], dictionaryOf(['a'], [long, longest]));
    expect(profiler.finish(['a'])).toMatchObject({
      count: 4,
      categories: [
        ['a', 1],
        [longest, 1],
      ],
      otherCount: 2,
    });
  });

  it('keeps the sketch’s guaranteed counts of transient values and folds what they miss into otherCount', () => {
    const profiler = new CategoricalColumnProfiler();
    // One frequent transient value among MAX_TRACKED_CATEGORIES + 500 distinct rare ones: the sketch
    // must evict, so the rare ones' guaranteed counts fall to 0 and their values go to otherCount.
    const transient = ['hot', ...Array.from({ length: MAX_TRACKED_CATEGORIES + 500 }, (_, index) => `rare${index}`)];
    const codes: number[] = [];
    for (let index = 1; index < transient.length; index++) codes.push(0, index);
    addCodes(profiler, codes, dictionaryOf([], transient));
    const profile = profiler.finish([]);
    expect(profile.count).toBe(codes.length);
    expect(profile.categories[0]).toEqual(['hot', transient.length - 1]);
    expect(profile.otherCount).toBe(codes.length - profile.categories.reduce((total, [, count]) => total + count, 0));
    expect(profile.otherCount).toBeGreaterThan(0);
  });

  it('keeps 1,000 categories by default and values of up to 1,024 characters by name (internals.md)', () => {
    const many = new CategoricalColumnProfiler();
    const names = Array.from({ length: 1001 }, (_, index) => `v${String(index).padStart(4, '0')}`);
    addCodes(
      many,
      names.map((_, index) => index),
    );
    const profile = many.finish(names);
    expect(profile.categories).toHaveLength(1000);
    expect(profile.otherCount).toBe(1);
    const long = new CategoricalColumnProfiler();
    addCodes(long, [0, 1], dictionaryOf([], ['k'.repeat(1024), 'q'.repeat(1025)]));
    expect(long.finish([])).toMatchObject({ categories: [['k'.repeat(1024), 1]], otherCount: 1 });
  });

  it('keeps at most maxCategories, most frequent first with ties by value, the rest in otherCount', () => {
    const profiler = new CategoricalColumnProfiler();
    addCodes(profiler, [2, 0, 1, 2, 1, 3, 2, 1, 3]);
    expect(profiler.finish(['d', 'c', 'b', 'a'], 2)).toEqual({
      kind: 'categorical',
      count: 9,
      nulls: 0,
      invalid: 0,
      categories: [
        ['b', 3],
        ['c', 3],
      ],
      otherCount: 3,
    });
  });
});

/** Profiles `values` in batches of the given sizes (all cells values), on `edges` when given. */
function profileBatches(values: readonly number[], sizes: readonly number[], edges?: readonly number[]): NumericColumnProfile {
  const profiler = new NumericColumnProfiler(edges);
  let start = 0;
  for (const size of sizes) {
    const batch = Float64Array.from(values.slice(start, start + size));
    profiler.addBatch(batch, new Uint8Array(size), size);
    start += size;
  }
  return profiler.finish();
}

describe('NumericColumnProfiler', () => {
  it('keeps every value of a reference that outgrows its first buffer, batch after batch', () => {
    const values = Array.from({ length: 3000 }, (_, index) => (index * 7919) % 3000);
    const { moments, ...whole } = profileBatches(values, [3000]);
    for (const sizes of [
      [1000, 1000, 1000],
      [1, 2047, 952],
    ]) {
      const { moments: batchedMoments, ...batched } = profileBatches(values, sizes);
      expect(batched).toEqual(whole);
      // Moments merged batch by batch agree to rounding: mean 1499.5, M2 = 3000 · (3000² − 1) / 12.
      expect(batchedMoments.mean).toBe(1499.5);
      expect(batchedMoments.m2).toBeCloseTo(2_249_999_750, 5);
    }
    expect(moments).toEqual({ count: 3000, mean: 1499.5, m2: 2_249_999_750 });
    expect(whole).toMatchObject({ count: 3000, min: 0, max: 2999, histogram: { counts: [0, ...new Array(3000).fill(1)].slice(0, 3001) } });
  });

  it('compacts a batch of more than 1024 cells with a null in it, every value kept', () => {
    const values = Float64Array.from({ length: 3000 }, (_, index) => index);
    const states = new Uint8Array(3000);
    states[0] = CELL_NULL;
    const profiler = new NumericColumnProfiler();
    profiler.addBatch(values, states, 3000);
    // Values 1 … 2999: mean 1500, M2 = Σ (i − 1500)² = 2247750500 (python3: sum((i-1500)**2 for i in range(1,3000))).
    expect(profiler.finish()).toMatchObject({
      count: 2999,
      nulls: 1,
      min: 1,
      max: 2999,
      moments: { count: 2999, mean: 1500, m2: 2_247_750_500 },
    });
  });

  it('takes the variance of a batch far from the reference’s median about the batch’s own mean', () => {
    // Edges around 0, values around 1e9: about the median, Σ(x − c)² − (Σ(x − c))²/n would lose every digit.
    const profile = profileBatches([1e9 + 1, 1e9 + 2, 1e9 + 3], [3], [-1, 0, 1]);
    expect(profile.moments).toEqual({ count: 3, mean: 1e9 + 2, m2: 2 });
    expect(profile.histogram.counts).toEqual([0, 0, 0, 3]);
  });

  it('sums a batch about the reference’s median: the moments of values near it are exact', () => {
    const profile = profileBatches([0.1, 0.2, 0.3, 0.4], [2, 2], [0.1, 0.2, 0.3]);
    expect(profile.moments.mean).toBeCloseTo(0.25, 15);
    expect(profile.moments.m2).toBeCloseTo(0.05, 15);
    expect(profile).toMatchObject({ count: 4, min: 0.1, max: 0.4, histogram: { counts: [0, 1, 1, 2] } });
  });

  it('reports no extremes for a column without values, and 0 for -0', () => {
    const empty = new NumericColumnProfiler().finish();
    expect(empty).toMatchObject({
      count: 0,
      min: null,
      max: null,
      moments: { count: 0, mean: 0, m2: 0 },
      histogram: { edges: [], counts: [0] },
    });
    const zeros = profileBatches([-0, -0], [2]);
    expect(Object.is(zeros.min, 0) && Object.is(zeros.max, 0) && Object.is(zeros.moments.mean, 0)).toBe(true);
    const binnedEmpty = new NumericColumnProfiler([1, 2]).finish();
    expect(binnedEmpty).toMatchObject({ count: 0, min: null, max: null, histogram: { edges: [1, 2], counts: [0, 0, 0] } });
  });

  it('states its memory: the kept values (8 bytes each, from a 1024-value buffer) or nothing when binning', () => {
    const reference = new NumericColumnProfiler();
    expect(reference.retainedBytes).toBe(1024 * 8);
    reference.addBatch(new Float64Array(1500), new Uint8Array(1500), 1500);
    expect(reference.retainedBytes).toBe(2048 * 8);
    expect(reference.sketchRankError).toBe(0);
    const binning = new NumericColumnProfiler([0, 1]);
    binning.addBatch(new Float64Array(1500), new Uint8Array(1500), 1500);
    expect(binning.retainedBytes).toBe(0);
    expect(binning.sketchRankError).toBe(0);
  });
});

describe('the exact limit of a reference column', () => {
  it('keeps exactly EXACT_REFERENCE_VALUES values (8 MiB), and switches to the sketch at one more', () => {
    const profiler = new NumericColumnProfiler();
    const values = Float64Array.from({ length: EXACT_REFERENCE_VALUES }, (_, index) => index);
    profiler.addBatch(values, new Uint8Array(EXACT_REFERENCE_VALUES), EXACT_REFERENCE_VALUES);
    expect(profiler.sketchRankError).toBe(0);
    expect(profiler.retainedBytes).toBe(8 * 1024 * 1024);
    profiler.addBatch(Float64Array.of(-1), new Uint8Array(1), 1);
    expect(profiler.sketchRankError).toBeGreaterThan(0);
    expect(profiler.retainedBytes).toBeLessThan(8 * 1024 * 1024);
    const column = profiler.finish();
    expect(column).toMatchObject({ count: EXACT_REFERENCE_VALUES + 1, min: -1, max: EXACT_REFERENCE_VALUES - 1 });
    expect(column.tails!.lowest.slice(0, 3)).toEqual([-1, 0, 1]);
    expect(column.histogram.counts.reduce((total, count) => total + count, 0)).toBe(EXACT_REFERENCE_VALUES + 1);
  });
});

describe('mergeProfiles', () => {
  const numeric = (values: (number | null)[], reference?: DatasetProfile) =>
    profileValues([{ name: 'x', kind: 'numeric', values }], reference);

  it('takes the extremes of the side with values when the other has none', () => {
    const reference = numeric([1, 5, 9]);
    const withValues = numeric([2, 7], reference);
    const withoutValues = numeric([null], reference);
    for (const merged of [mergeProfiles(withValues, withoutValues), mergeProfiles(withoutValues, withValues)]) {
      expect(merged.columns.x).toMatchObject({ count: 2, nulls: 1, min: 2, max: 7, moments: { count: 2, mean: 4.5, m2: 12.5 } });
    }
    expect(mergeProfiles(withoutValues, withoutValues).columns.x).toMatchObject({ count: 0, nulls: 2, min: null, max: null });
    expect(mergeProfiles(numeric([3, 8], reference), numeric([1, 6], reference)).columns.x).toMatchObject({ min: 1, max: 8 });
  });

  it('merges the tails, and drops them when one side has none (a profile stored before them)', () => {
    const reference = numeric([1, 5, 9]);
    const a = numeric([2, 7], reference);
    const b = numeric([4], reference);
    expect((mergeProfiles(a, b).columns.x as NumericColumnProfile).tails).toEqual({ lowest: [2, 4, 7], highest: [2, 4, 7] });
    const { tails: _, ...withoutTails } = b.columns.x as NumericColumnProfile;
    const old: DatasetProfile = { ...b, columns: { x: withoutTails } };
    expect((mergeProfiles(a, old).columns.x as NumericColumnProfile).tails).toBeUndefined();
    expect((mergeProfiles(old, a).columns.x as NumericColumnProfile).tails).toBeUndefined();
  });

  it('refuses edges that differ in one value only, or in number, naming the column in the details', () => {
    const a = numeric([1, 2, 3]);
    const b = numeric([1, 2, 4]);
    expect(() => mergeProfiles(a, b)).toThrow(
      'cannot merge profiles of column "x": their histograms have different bin edges (3 vs 3 edges)',
    );
    const shorter = numeric([1, 2]);
    expect(() => mergeProfiles(shorter, a)).toThrow(
      'cannot merge profiles of column "x": their histograms have different bin edges (2 vs 3 edges)',
    );
    expect(() => mergeProfiles(a, b)).toThrow(expect.objectContaining({ details: { column: 'x' } }));
  });

  it('refuses as many columns under partly other names', () => {
    const a = profileValues([
      { name: 'x', kind: 'numeric', values: [1] },
      { name: 'y', kind: 'numeric', values: [1] },
    ]);
    const b = profileValues([
      { name: 'x', kind: 'numeric', values: [1] },
      { name: 'z', kind: 'numeric', values: [1] },
    ]);
    expect(() => mergeProfiles(a, b)).toThrow('cannot merge profiles with different columns: [x, y] and [x, z]');
  });

  it('refuses a column that is numeric in one profile and categorical in the other', () => {
    const a = numeric([1]);
    const b = profileValues([{ name: 'x', kind: 'categorical', values: ['1'] }]);
    expect(() => mergeProfiles(a, b)).toThrow('cannot merge profiles of column "x": one is numeric, the other categorical');
    expect(() => mergeProfiles(b, a)).toThrow('cannot merge profiles of column "x": one is categorical, the other numeric');
    expect(() => mergeProfiles(a, b)).toThrow(expect.objectContaining({ details: { column: 'x' } }));
  });

  it('refuses profiles with more columns on one side', () => {
    const a = numeric([1]);
    const b = profileValues([
      { name: 'x', kind: 'numeric', values: [1] },
      { name: 'y', kind: 'numeric', values: [1] },
    ]);
    expect(() => mergeProfiles(a, b)).toThrow('cannot merge profiles with different columns: [x] and [x, y]');
    expect(() => mergeProfiles(b, a)).toThrow('cannot merge profiles with different columns: [x, y] and [x]');
  });

  it('adds category counts, nulls, invalid values and otherCount, and folds beyond MAX_TRACKED_CATEGORIES', () => {
    const a: CategoricalColumnProfile = {
      kind: 'categorical',
      count: MAX_TRACKED_CATEGORIES + 4 + 3, // 5 + 999 + 3
      nulls: 1,
      invalid: 2,
      categories: Array.from({ length: MAX_TRACKED_CATEGORIES }, (_, index) => [
        `a${String(index).padStart(4, '0')}`,
        index === 0 ? 5 : 1,
      ]) as [string, number][],
      otherCount: 3,
    };
    const b: CategoricalColumnProfile = {
      kind: 'categorical',
      count: 9, // 2 + 6 + 1
      nulls: 4,
      invalid: 8,
      categories: [
        ['b', 2],
        ['a0001', 6],
      ],
      otherCount: 1,
    };
    const merged = mergeProfiles(
      { formatVersion: 1, rowCount: 1, columns: { c: a } },
      { formatVersion: 1, rowCount: 2, columns: { c: b } },
    );
    expect(merged.rowCount).toBe(3);
    const column = merged.columns.c as CategoricalColumnProfile;
    expect(column).toMatchObject({ nulls: 5, invalid: 10, count: a.count + b.count });
    expect(column.categories).toHaveLength(MAX_TRACKED_CATEGORIES);
    expect(column.categories.slice(0, 3)).toEqual([
      ['a0001', 7],
      ['a0000', 5],
      ['b', 2],
    ]);
    // 1001 categories in the union: the rarest (a0999, once; ties by value) folds into otherCount with both sides' own.
    expect(column.otherCount).toBe(3 + 1 + 1);
    expect(column.categories.at(-1)).toEqual(['a0998', 1]);
  });
});

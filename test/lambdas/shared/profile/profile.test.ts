import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProfile, serializeProfile } from '../../../../lambdas/shared/profile/codec';
import { binIndex, EdgeIndex, quantileEdges } from '../../../../lambdas/shared/profile/edge-index';
import {
  type DatasetProfile,
  emptyMoments,
  MAX_HISTOGRAM_EDGES,
  mergeMoments,
  type NumericColumnProfile,
  variance,
} from '../../../../lambdas/shared/profile/profile';
import { mergeProfiles, NumericColumnProfiler } from '../../../../lambdas/shared/profile/profilers';
import { seededRandom } from '../../../../local/sample-data';
import { profileValues } from '../../../../testkit/profile-values';

type Row = { amount: number | null | string; score: number | null; colour: string | null };

const rowArbitrary: fc.Arbitrary<Row> = fc.record({
  amount: fc.oneof(
    { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant('not a number') },
  ),
  score: fc.option(fc.integer({ min: -50, max: 50 }), { freq: 5 }),
  colour: fc.option(fc.constantFrom('red', 'green', 'blue', 'ultraviolet'), { freq: 6 }),
});

function profileRows(rows: readonly Row[], reference?: DatasetProfile): DatasetProfile {
  return profileValues(
    [
      { name: 'amount', kind: 'numeric', values: rows.map((row) => row.amount) },
      { name: 'score', kind: 'numeric', values: rows.map((row) => row.score) },
      { name: 'colour', kind: 'categorical', values: rows.map((row) => row.colour) },
    ],
    reference,
  );
}

/** Everything but the floating-point moments must match exactly; those within a relative tolerance. */
function expectSameProfile(actual: DatasetProfile, expected: DatasetProfile): void {
  expect(actual.rowCount).toBe(expected.rowCount);
  for (const [name, column] of Object.entries(expected.columns)) {
    const other = actual.columns[name]!;
    if (column.kind === 'numeric' && other.kind === 'numeric') {
      const { moments, ...exact } = column;
      const { moments: otherMoments, ...otherExact } = other;
      expect(otherExact).toEqual(exact);
      expect(otherMoments.count).toBe(moments.count);
      const scale = Math.max(1, Math.abs(moments.mean));
      expect(Math.abs(otherMoments.mean - moments.mean)).toBeLessThanOrEqual(1e-9 * scale);
      expect(Math.abs(otherMoments.m2 - moments.m2)).toBeLessThanOrEqual(1e-9 * Math.max(1, moments.m2));
    } else {
      expect(other).toEqual(column);
    }
  }
}

/** Cuts rows into consecutive parts at the given (unsorted, possibly repeated) positions. */
function split<T>(rows: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((cut) => cut % (rows.length + 1)))].sort((a, b) => a - b);
  const parts: T[][] = [];
  let start = 0;
  for (const point of [...points, rows.length]) {
    parts.push(rows.slice(start, point));
    start = point;
  }
  return parts;
}

describe('profile moments', () => {
  it('merging moments of two halves gives the mean and variance of the whole', () => {
    const left = profileValues([{ name: 'x', kind: 'numeric', values: [1, 2, 3] }]).columns.x!;
    const right = profileValues([{ name: 'x', kind: 'numeric', values: [10, 20] }]).columns.x!;
    if (left.kind !== 'numeric' || right.kind !== 'numeric') throw new Error('expected numeric profiles');
    const merged = mergeMoments(left.moments, right.moments);
    // Hand-computed: mean 36/5 = 7.2; sum of squared deviations 38.44+27.04+17.64+7.84+163.84 = 254.8.
    expect(merged.count).toBe(5);
    expect(merged.mean).toBeCloseTo(7.2, 12);
    expect(merged.m2).toBeCloseTo(254.8, 9);
    expect(variance(merged)).toBeCloseTo(63.7, 9);
  });

  it('merges with empty moments as the identity, and has a variance only from two values on', () => {
    // Exactly the other side: the general update would give 0 + (0.1 · 3) / 3 = 0.10000000000000002.
    const some = { count: 3, mean: 0.1, m2: 0.02 };
    expect(mergeMoments(emptyMoments(), some)).toEqual(some);
    expect(mergeMoments(some, emptyMoments())).toEqual(some);
    expect(mergeMoments(emptyMoments(), emptyMoments())).toEqual({ count: 0, mean: 0, m2: 0 });
    expect(variance(emptyMoments())).toBeNull();
    expect(variance({ count: 1, mean: 5, m2: 0 })).toBeNull();
    expect(variance({ count: 2, mean: 5, m2: 8 })).toBe(8);
    // -0 plus an update that underflows to -0 (−5e-324 / 2) would be -0: the merged mean is 0.
    expect(Object.is(mergeMoments({ count: 1, mean: -0, m2: 0 }, { count: 1, mean: -5e-324, m2: 0 }).mean, 0)).toBe(true);
    expect(mergeMoments({ count: 1, mean: -1, m2: 0 }, { count: 3, mean: 3, m2: 6 })).toEqual({ count: 4, mean: 2, m2: 18 });
  });

  it('counts nulls and unparseable values apart from the statistics', () => {
    const profile = profileValues([{ name: 'x', kind: 'numeric', values: [4, null, 'NaN', 6, Number.POSITIVE_INFINITY] }]);
    expect(profile.columns.x).toMatchObject({ count: 2, nulls: 1, invalid: 2, min: 4, max: 6, moments: { count: 2, mean: 5, m2: 2 } });
  });
});

describe('profile histogram', () => {
  it('gives each distinct value its own bin when there are few of them', () => {
    const profile = profileValues([{ name: 'x', kind: 'numeric', values: [3, 1, 2, 2, 3, 3] }]);
    expect(profile.columns.x).toMatchObject({ histogram: { edges: [1, 2, 3], counts: [0, 1, 2, 3] } });
  });

  it('places quantile edges so every bin holds about the same share of the reference', () => {
    const sorted = Float64Array.from({ length: 1000 }, (_, index) => index);
    expect(quantileEdges(sorted, 4)).toEqual([0, 250, 500, 750]);
  });

  it('collapses a heavy repeated value into one edge', () => {
    const sorted = Float64Array.from([1, 5, 5, 5, 5, 5, 5, 5, 9, 10]);
    expect(quantileEdges(sorted, 3)).toEqual([1, 5, 9]);
  });

  it('bins current data with the reference edges, counting values outside them in the end bins', () => {
    const reference = profileValues([{ name: 'x', kind: 'numeric', values: [10, 20, 30] }]);
    const current = profileValues([{ name: 'x', kind: 'numeric', values: [5, 10, 15, 30, 99] }], reference);
    expect(current.columns.x).toMatchObject({ histogram: { edges: [10, 20, 30], counts: [1, 2, 0, 2] } });
    expect(binIndex([10, 20, 30], 20)).toBe(2);
  });

  it('finds the same bin through the edge index as by binary search, for crowded and spread edges alike', () => {
    // size 'max': fast-check 4 otherwise caps an array at 10 values whatever maxLength says. Mixed
    // magnitudes give crowded (keyed, two-edge) grids; one range alone gives spread (linear) ones.
    const edgeSet = (edge: fc.Arbitrary<number>) =>
      fc
        .array(edge, { maxLength: 300, size: 'max' })
        .map((values) => [...new Set(values.map((value) => (Object.is(value, -0) ? 0 : value)))].sort((a, b) => a - b));
    const edgesArbitrary = fc.oneof(
      edgeSet(
        fc.oneof(
          fc.double({ min: -1e9, max: 1e9, noNaN: true }),
          fc.double({ min: -1, max: 1, noNaN: true }),
          fc.integer({ min: -3, max: 3 }),
        ),
      ),
      edgeSet(fc.double({ min: -1, max: 1, noNaN: true })),
      edgeSet(fc.integer({ min: -1000, max: 1000 })),
    );
    fc.assert(
      fc.property(
        edgesArbitrary,
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 50, size: 'max' }),
        (edges, values) => {
          const index = new EdgeIndex(edges);
          for (const value of [...values, ...edges, ...edges.map((edge) => edge + 1e-9), ...edges.map((edge) => edge - 1e-9)]) {
            expect(index.bin(value)).toBe(binIndex(edges, value));
          }
        },
      ),
    );
  });

  it('bins batches (with nulls, invalid and unknown cells, in any split) exactly as binary search does, on linear and keyed grids of one or two edges per cell', () => {
    // Edges drawn as reference quantiles of mixed shapes: normal (linear grid), log-normal and Pareto
    // with a crowded head (magnitude-keyed grid, crowded cells), and small spread edge sets.
    const random = seededRandom(11);
    const shapes: (() => number)[] = [
      () => 3 + normal(random),
      () => Math.exp(2 * normal(random)),
      () => -1 / random() ** (1 / 1.2),
      () => (random() < 0.5 ? -1 : 1) / random() ** 2,
    ];
    const referenceEdges = shapes.map((draw) => {
      const profiler = new NumericColumnProfiler();
      profiler.addBatch(Float64Array.from({ length: 20_000 }, draw), new Uint8Array(20_000), 20_000);
      return profiler.finish().histogram.edges;
    });
    // The grid layouts these edges take (private fields, read so the test is known to cover each).
    const layouts = referenceEdges.map((edges) => {
      const index = new EdgeIndex(edges) as unknown as { keyed: boolean; secondMask: number };
      return `${index.keyed ? 'keyed' : 'linear'}, ${index.secondMask === 0 ? 'one edge' : 'two edges'} per cell`;
    });
    expect(layouts).toEqual(expect.arrayContaining(['linear, one edge per cell', 'keyed, one edge per cell', 'keyed, two edges per cell']));
    const edgesArbitrary = fc.oneof(
      fc.constantFrom(...referenceEdges),
      fc
        .array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -3, max: 3 })), { maxLength: 40, size: 'max' })
        .map((values) => [...new Set(values.map((value) => (Object.is(value, -0) ? 0 : value)))].sort((a, b) => a - b)),
    );
    const cellArbitrary = fc.oneof(
      { weight: 6, arbitrary: fc.double({ min: -1e4, max: 1e4, noNaN: true }).map((value) => ({ value, state: 0 })) },
      { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }).map((value) => ({ value, state: 0 })) },
      { weight: 1, arbitrary: fc.constantFrom(1, 2, 3).map((state) => ({ value: 0, state })) },
    );
    fc.assert(
      fc.property(
        edgesArbitrary,
        fc.array(cellArbitrary, { maxLength: 300, size: 'max' }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (edges, cells, cuts) => {
          const profiler = new NumericColumnProfiler(edges);
          const expected = new Array<number>(edges.length + 1).fill(0);
          const values = Float64Array.from(cells, (cell) => cell.value);
          const states = Uint8Array.from(cells, (cell) => cell.state);
          let start = 0;
          for (const part of split(cells, cuts)) {
            profiler.addBatch(values.subarray(start, start + part.length), states.subarray(start, start + part.length), part.length);
            start += part.length;
          }
          for (const cell of cells) if (cell.state === 0) expected[binIndex(edges, cell.value)]!++;
          const profile = profiler.finish();
          expect(profile.histogram.counts).toEqual(expected);
          expect(profile.nulls).toBe(cells.filter((cell) => cell.state === 1).length);
          expect(profile.invalid).toBe(cells.filter((cell) => cell.state === 2).length);
          expect(profile.count).toBe(cells.filter((cell) => cell.state === 0).length);
        },
      ),
    );
  });

  it('reads the KS statistic from binned CDFs within 5e-4 of the exact two-sample statistic', () => {
    const random = seededRandom(7);
    const n = 100_000;
    const reference = Float64Array.from({ length: n }, () => normal(random));
    const current = Float64Array.from({ length: n }, () => normal(random) * 1.02 + 0.01);
    const referenceProfiler = new NumericColumnProfiler();
    referenceProfiler.addBatch(reference, new Uint8Array(n), n);
    const referenceProfile = referenceProfiler.finish();
    const currentProfiler = new NumericColumnProfiler(referenceProfile.histogram.edges);
    currentProfiler.addBatch(current, new Uint8Array(n), n);
    const currentProfile = currentProfiler.finish();
    expect(referenceProfile.histogram.edges.length).toBe(MAX_HISTOGRAM_EDGES);
    const binned = binnedKs(referenceProfile.histogram.counts, currentProfile.histogram.counts);
    const exact = exactKs(reference, current);
    expect(exact).toBeGreaterThan(0.005);
    expect(Math.abs(binned - exact)).toBeLessThanOrEqual(5e-4);
  });
});

describe('profile merge', () => {
  it('profiling a dataset whole equals merging the profiles of any split of it', () => {
    fc.assert(
      fc.property(fc.array(rowArbitrary, { maxLength: 200, size: 'max' }), fc.array(fc.nat(), { maxLength: 6 }), (rows, cuts) => {
        const whole = profileRows(rows);
        const merged = split(rows, cuts)
          .map((part) => profileRows(part, whole))
          .reduce(mergeProfiles);
        expectSameProfile(merged, whole);
      }),
    );
  });

  it('merge is commutative', () => {
    fc.assert(
      fc.property(
        fc.array(rowArbitrary, { maxLength: 100, size: 'max' }),
        fc.array(rowArbitrary, { maxLength: 100, size: 'max' }),
        (left, right) => {
          const reference = profileRows([...left, ...right]);
          const a = profileRows(left, reference);
          const b = profileRows(right, reference);
          expectSameProfile(mergeProfiles(a, b), mergeProfiles(b, a));
        },
      ),
    );
  });

  it('merge is associative', () => {
    fc.assert(
      fc.property(
        fc.array(rowArbitrary, { maxLength: 60, size: 'max' }),
        fc.array(rowArbitrary, { maxLength: 60, size: 'max' }),
        fc.array(rowArbitrary, { maxLength: 60, size: 'max' }),
        (first, second, third) => {
          const reference = profileRows([...first, ...second, ...third]);
          const [a, b, c] = [first, second, third].map((rows) => profileRows(rows, reference)) as [
            DatasetProfile,
            DatasetProfile,
            DatasetProfile,
          ];
          expectSameProfile(mergeProfiles(mergeProfiles(a, b), c), mergeProfiles(a, mergeProfiles(b, c)));
        },
      ),
    );
  });

  it('refuses to merge profiles whose histograms have different edges', () => {
    const a = profileValues([{ name: 'x', kind: 'numeric', values: [1, 2] }]);
    const b = profileValues([{ name: 'x', kind: 'numeric', values: [1, 3] }]);
    expect(() => mergeProfiles(a, b)).toThrow(/column "x".*different bin edges/);
  });

  it('refuses to merge profiles of as many columns under other names (a shard of another dataset)', () => {
    const a = profileValues([{ name: 'x', kind: 'numeric', values: [1, 2] }]);
    const b = profileValues([{ name: 'y', kind: 'numeric', values: [1, 2] }]);
    expect(() => mergeProfiles(a, b)).toThrow('cannot merge profiles with different columns: [x] and [y]');
  });

  it('keeps the most frequent categories and folds the rest into other, with exact totals', () => {
    const values = Array.from({ length: 1500 }, (_, index) => `c${index}`).concat(['c7', 'c7']);
    const column = profileValues([{ name: 'c', kind: 'categorical', values }]).columns.c!;
    if (column.kind !== 'categorical') throw new Error('expected a categorical profile');
    expect(column.categories).toHaveLength(1000);
    expect(column.categories[0]).toEqual(['c7', 3]);
    expect(column.otherCount).toBe(500);
    expect(column.count).toBe(1502);
  });
});

describe('profile serialization', () => {
  it('round-trips a profile exactly', () => {
    fc.assert(
      fc.property(fc.array(rowArbitrary, { maxLength: 100, size: 'max' }), (rows) => {
        const profile = profileRows(rows);
        expect(parseProfile(serializeProfile(profile))).toEqual(profile);
      }),
    );
  });

  it('keeps a column with the full number of edges and a billion rows under 64 KB', () => {
    const random = seededRandom(3);
    const n = 200_000;
    const profiler = new NumericColumnProfiler();
    profiler.addBatch(
      Float64Array.from({ length: n }, () => Math.exp(normal(random)) * 1234.5678),
      new Uint8Array(n),
      n,
    );
    const column = profiler.finish();
    // Scale the counts as if the dataset had a billion rows: the longest numbers JSON will hold.
    column.histogram.counts = column.histogram.counts.map((count) => count * 5000);
    const bytes = Buffer.byteLength(serializeProfile({ formatVersion: 1, rowCount: n * 5000, columns: { x: column } }));
    expect(column.histogram.edges).toHaveLength(3072);
    expect(bytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('reads a profile stored before bin means and tails, compares with it and merges it without them', () => {
    // As the codec wrote it before issue 15: edges 1, 2, 3 and no meanLevels or tails.
    const stored =
      '{"formatVersion":1,"rowCount":3,"columns":{"x":{"kind":"numeric","count":3,"nulls":0,"invalid":0,"min":1,"max":3,' +
      '"moments":{"count":3,"mean":2,"m2":2},"histogram":{"edges":"AAAAAAAA8D8AAAAAAAAAQAAAAAAAAAhA","counts":[0,1,1,1]}}}}';
    const old = parseProfile(stored);
    const column = old.columns.x as NumericColumnProfile;
    expect(column.histogram).toEqual({ edges: [1, 2, 3], counts: [0, 1, 1, 1] });
    expect(column.tails).toBeUndefined();
    const current = profileValues([{ name: 'x', kind: 'numeric', values: [1, 2, 2, 4] }], old);
    expect((current.columns.x as NumericColumnProfile).histogram.meanLevels).toBeDefined();
    const merged = mergeProfiles(old, current).columns.x as NumericColumnProfile;
    expect(merged.histogram.counts).toEqual([0, 2, 3, 2]);
    expect([merged.histogram.meanLevels, merged.tails]).toEqual([undefined, undefined]);
    expect(parseProfile(serializeProfile(old))).toEqual(old);
  });

  it('rejects a stored profile whose counts do not match its edges, naming the column', () => {
    const text = serializeProfile(profileValues([{ name: 'x', kind: 'numeric', values: [1, 2] }])).replace(
      '"counts":[0,1,1]',
      '"counts":[0,1]',
    );
    expect(() => parseProfile(text)).toThrow(/column "x" has 2 bin counts for 2 edges/);
  });
});

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function binnedKs(referenceCounts: readonly number[], currentCounts: readonly number[]): number {
  const referenceTotal = referenceCounts.reduce((a, b) => a + b, 0);
  const currentTotal = currentCounts.reduce((a, b) => a + b, 0);
  let referenceCdf = 0;
  let currentCdf = 0;
  let statistic = 0;
  for (let bin = 0; bin < referenceCounts.length; bin++) {
    referenceCdf += referenceCounts[bin]! / referenceTotal;
    currentCdf += currentCounts[bin]! / currentTotal;
    statistic = Math.max(statistic, Math.abs(referenceCdf - currentCdf));
  }
  return statistic;
}

/** The exact two-sample KS statistic over the raw samples (what scipy.stats.ks_2samp computes). */
function exactKs(first: Float64Array, second: Float64Array): number {
  const a = Float64Array.from(first).sort();
  const b = Float64Array.from(second).sort();
  let i = 0;
  let j = 0;
  let statistic = 0;
  while (i < a.length && j < b.length) {
    const value = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i]! <= value) i++;
    while (j < b.length && b[j]! <= value) j++;
    statistic = Math.max(statistic, Math.abs(i / a.length - j / b.length));
  }
  return statistic;
}

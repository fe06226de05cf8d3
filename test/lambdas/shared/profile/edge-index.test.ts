import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binAnchor } from '../../../../lambdas/shared/profile/bin-means';
import { binIndex, EdgeIndex, quantileEdges, weightedQuantileEdges } from '../../../../lambdas/shared/profile/edge-index';
import { TailTracker, tailsOfSorted } from '../../../../lambdas/shared/profile/tail-values';

/** Each value repeated its weight's number of times: the sample a weighted one stands for. */
function expand(values: readonly number[], weights: readonly number[]): Float64Array {
  return Float64Array.from(values.flatMap((value, i) => new Array<number>(weights[i]!).fill(value)));
}

describe('binIndex', () => {
  it('counts the edges at or below the value', () => {
    expect(binIndex([], 5)).toBe(0);
    expect(binIndex([10, 20, 30], 9.5)).toBe(0);
    expect(binIndex([10, 20, 30], 10)).toBe(1);
    expect(binIndex([10, 20, 30], 29.5)).toBe(2);
    expect(binIndex([10, 20, 30], 30)).toBe(3);
    expect(binIndex([10, 20, 30], 1e9)).toBe(3);
  });
});

describe('quantileEdges', () => {
  it('is empty for no values and every distinct value for at most maxEdges of them', () => {
    expect(quantileEdges(new Float64Array(0), 4)).toEqual([]);
    expect(quantileEdges(Float64Array.from([2, 2, 3, 7, 7, 9]), 4)).toEqual([2, 3, 7, 9]);
    expect(weightedQuantileEdges(new Float64Array(0), new Float64Array(0), 0, 4)).toEqual([]);
    expect(weightedQuantileEdges(Float64Array.from([2, 3, 7, 9]), Float64Array.from([5, 1, 2, 1]), 9, 4)).toEqual([2, 3, 7, 9]);
  });

  it('takes the i/maxEdges quantiles when the bulk bins are small (no tail refinement)', () => {
    // python3: [(i * 1000) // 7 for i in range(7)]
    expect(
      quantileEdges(
        Float64Array.from({ length: 1000 }, (_, i) => i),
        7,
      ),
    ).toEqual([0, 142, 285, 428, 571, 714, 857]);
  });

  it('refines both tails in geometric steps and spaces the bulk evenly between them, each edge a new value', () => {
    // 20,000 values floor(i / 3), 400 edges: bulk bins of 50 > TAIL_EDGE_DEPTH, so the tail ranks
    // are round(48 · 1.1^k) from each end (25 a side, 50 ≤ 400 / 8) and a repeated value moves the
    // edge to the next larger one. Expected values from a Python transcription of the documented rule:
    // ranks 0, round(48·1.1^k), count − those, bulk from + ⌊(i+1)·span/(bulk+1)⌋; bisect_right past repeats.
    const edges = quantileEdges(
      Float64Array.from({ length: 20_000 }, (_, i) => Math.floor(i / 3)),
      400,
    );
    expect(edges).toHaveLength(400);
    expect(edges.slice(0, 27)).toEqual([
      0, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 67, 73, 81, 89, 98, 107, 118, 130, 143, 157, 175,
    ]);
    expect(edges.slice(195, 200)).toEqual([3242, 3260, 3278, 3297, 3315]);
    expect(edges.slice(-27)).toEqual([
      6472, 6490, 6509, 6523, 6536, 6548, 6559, 6568, 6577, 6585, 6593, 6599, 6606, 6611, 6616, 6621, 6625, 6629, 6632, 6635, 6638, 6641,
      6643, 6645, 6647, 6649, 6650,
    ]);
    for (let i = 1; i < edges.length; i++) expect(edges[i]!).toBeGreaterThan(edges[i - 1]!);
  });

  it('stops when a heavy value leaves no larger value for the remaining ranks', () => {
    // Ranks 0, 3, 6 of [1, 2, 3, 9 × 7]: 1, then 9 at rank 3; rank 6 lands on 9 again and nothing is larger.
    expect(quantileEdges(Float64Array.from([1, 2, 3, 9, 9, 9, 9, 9, 9, 9]), 3)).toEqual([1, 9]);
    expect(weightedQuantileEdges(Float64Array.from([1, 2, 3, 9]), Float64Array.from([1, 1, 1, 7]), 10, 3)).toEqual([1, 9]);
  });

  it('over a weighted sample equals quantileEdges over the sample the weights stand for', () => {
    const sampleArbitrary = fc
      .uniqueArray(fc.integer({ min: -500, max: 500 }), { minLength: 1, maxLength: 60, size: 'max' })
      .chain((values) =>
        fc.tuple(
          fc.constant([...values].sort((a, b) => a - b)),
          fc.array(fc.integer({ min: 1, max: 40 }), { minLength: values.length, maxLength: values.length }),
        ),
      );
    fc.assert(
      fc.property(sampleArbitrary, fc.integer({ min: 1, max: 20 }), ([values, weights], maxEdges) => {
        const expanded = expand(values, weights);
        expect(weightedQuantileEdges(Float64Array.from(values), Float64Array.from(weights), expanded.length, maxEdges)).toEqual(
          quantileEdges(expanded, maxEdges),
        );
      }),
    );
  });

  it('over a weighted sample with tail refinement equals quantileEdges over the sample the weights stand for', () => {
    // 2,000 distinct values of weight 10 or 11 (about 21,000 in all), 400 edges: tail ranks apply.
    const values = Array.from({ length: 2000 }, (_, i) => i * 0.5 - 300);
    const weights = values.map((_, i) => 10 + ((i * 7) % 3 === 0 ? 1 : 0));
    const expanded = expand(values, weights);
    const edges = quantileEdges(expanded, 400);
    expect(edges).toHaveLength(400);
    expect(weightedQuantileEdges(Float64Array.from(values), Float64Array.from(weights), expanded.length, 400)).toEqual(edges);
  });
});

describe('EdgeIndex.count', () => {
  /** What count must produce, by binary search and plain sums. */
  function expected(edges: readonly number[], values: readonly number[], center: number) {
    const counts = new Array<number>(edges.length + 2).fill(0);
    const offsetSums = new Array<number>(edges.length + 2).fill(0);
    let shifted = 0;
    let squares = 0;
    for (const value of values) {
      const bin = binIndex(edges, value);
      counts[bin + 1]!++;
      offsetSums[bin + 1]! += value - binAnchor(edges, bin);
      shifted += value - center;
      squares += (value - center) ** 2;
    }
    return { counts, offsetSums, sums: [center, shifted, squares], tails: tailsOfSorted([...values].sort((a, b) => a - b)) };
  }

  function run(edges: readonly number[], values: readonly number[], center: number) {
    const index = new EdgeIndex(edges);
    const counts = new Float64Array(edges.length + 2);
    const offsetSums = new Float64Array(edges.length + 2);
    const sums = Float64Array.from([center, 0, 0]);
    const tails = new TailTracker();
    index.count(Float64Array.from(values), values.length, counts, offsetSums, sums, tails);
    return { counts: [...counts], offsetSums: [...offsetSums], sums: [...sums], tails: tails.finish() };
  }

  // Values and edges are multiples of 1/4 of modest size, so every sum is exact in float64 in any order.
  const quarter = (min: number, max: number) => fc.integer({ min: min * 4, max: max * 4 }).map((k) => k / 4);
  // size 'max' here and below: fast-check 4 otherwise caps an array at 10 values whatever
  // maxLength says (no second chunk, tails never full, a handful of edges).
  const edgesArbitrary = fc.oneof(
    // Spread edges (a linear grid).
    fc.uniqueArray(quarter(-1000, 1000), { maxLength: 60, size: 'max' }),
    // Crowded near zero and spread far out (a magnitude-keyed grid, often two edges per cell).
    fc.uniqueArray(
      fc.oneof(
        quarter(-2, 2),
        fc.integer({ min: 1, max: 20 }).map((k) => 2 ** k),
      ),
      { maxLength: 60, size: 'max' },
    ),
  );

  it('bins, sums offsets from anchors, sums moments about the center and keeps the extremes', () => {
    fc.assert(
      fc.property(
        edgesArbitrary.map((edges) => [...edges].sort((a, b) => a - b)),
        fc.array(fc.oneof(quarter(-1100, 1100), quarter(-3, 3)), { minLength: 0, maxLength: 9000, size: 'max' }),
        quarter(-10, 10),
        (edges, values, center) => {
          expect(run(edges, values, center)).toEqual(expected(edges, values, center));
        },
      ),
      // Shrinking 9,000 values past the 4,096-value chunk took over 15 minutes on a failure: report
      // the first one as drawn.
      { numRuns: 40, endOnFailure: true },
    );
  });

  it('counts 10,000 values (three chunks) alike on linear and magnitude-keyed grids of one or two edges per cell', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => (((i * 7919) % 10_007) - 5000) / 4);
    const spread = Array.from({ length: 50 }, (_, i) => i * 40 - 1000);
    const powers = Array.from({ length: 41 }, (_, k) => 2 ** (k - 20));
    const crowded = [...Array.from({ length: 17 }, (_, i) => (i - 8) / 4), ...Array.from({ length: 12 }, (_, k) => 2 ** (k + 1))].sort(
      (a, b) => a - b,
    );
    const layouts = [spread, powers, crowded].map((edges) => {
      const index = new EdgeIndex(edges) as unknown as { keyed: boolean; secondMask: number };
      return [index.keyed, index.secondMask];
    });
    expect(layouts).toEqual([
      [false, 0],
      [true, 0],
      [false, -1],
    ]);
    for (const edges of [spread, powers, crowded]) expect(run(edges, values, 3.5)).toEqual(expected(edges, values, 3.5));
  });

  it('handles a grid of no edges: every value in the one bin', () => {
    expect(run([], [3, -1, 2], 1)).toEqual(expected([], [3, -1, 2], 1));
  });
});

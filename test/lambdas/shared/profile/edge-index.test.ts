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

describe('EdgeIndex.bin', () => {
  it('finds the bin binary search finds, below, on, between and beyond the edges of any grid', () => {
    const edges = fc.uniqueArray(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -3, max: 3 })), {
      maxLength: 80,
    });
    fc.assert(
      fc.property(
        edges.map((values) => [...new Set(values.map((value) => value + 0))].sort((a, b) => a - b)),
        fc.array(fc.double({ min: -2e6, max: 2e6, noNaN: true }), { maxLength: 50 }),
        (sorted, values) => {
          const index = new EdgeIndex(sorted);
          for (const value of [...values, ...sorted, -3e6, 3e6]) expect(index.bin(value)).toBe(binIndex(sorted, value));
        },
      ),
    );
  });
});

/**
 * The grid's tables (private): they decide which values take the one-comparison path and which
 * are set aside for a binary search, which the bins alone cannot show (both are exact).
 */
interface GridTables {
  keyed: boolean;
  origin: number;
  scale: number;
  lastCell: number;
  cellStarts: Int32Array;
  cellBins: Int32Array;
  cellEdges: Float64Array;
  secondEdges: Float64Array;
  secondMask: number;
}

function gridOf(edges: readonly number[]) {
  const tables = new EdgeIndex(edges) as unknown as GridTables;
  /** A table of edges per cell as { cell: edge } for the cells that have one (the others hold NaN). */
  const held = (table: Float64Array) => Object.fromEntries([...table].flatMap((edge, cell) => (Number.isNaN(edge) ? [] : [[cell, edge]])));
  return {
    keyed: tables.keyed,
    pairs: tables.secondMask === -1,
    origin: tables.origin,
    scale: tables.scale,
    lastCell: tables.lastCell,
    cellStarts: [...tables.cellStarts],
    cellBins: [...tables.cellBins],
    cellEdges: { length: tables.cellEdges.length, ...held(tables.cellEdges) },
    secondEdges: { length: tables.secondEdges.length, ...held(tables.secondEdges) },
  };
}

/** `count` copies of value. */
const repeat = (value: number, count: number) => new Array<number>(count).fill(value);

describe('EdgeIndex grid', () => {
  // Expected tables from a Python transcription of the documented rule (8 cells per edge, cell =
  // ⌊(x − first) · cells / span⌋ clamped to [0, cells], a cell's edges on the fast path when at most
  // one, or two once cells of two are admitted):
  //   python3 -c "cells=32; print([min(int((e-0)*cells/10), cells) for e in (0, 1, 2, 10)])"  # [0, 3, 6, 32]
  it('records per cell the edges in earlier cells, its bin and its one edge on a linear grid', () => {
    expect(gridOf([0, 1, 2, 10])).toEqual({
      keyed: false,
      pairs: false,
      origin: 0,
      scale: 3.2,
      lastCell: 32,
      cellStarts: [0, ...repeat(1, 3), ...repeat(2, 3), ...repeat(3, 26), 4],
      cellBins: [1, ...repeat(2, 3), ...repeat(3, 3), ...repeat(4, 26)],
      cellEdges: { length: 33, 0: 0, 3: 1, 6: 2, 32: 10 },
      // One-edge grids share a one-cell table of NaN, read at cell & 0.
      secondEdges: { length: 1 },
    });
  });

  it('admits cells of two edges when one-edge cells would leave more than 1% crowded, and sets aside cells of three', () => {
    // 0 and 0.1 share cell 0 on both grids (2 of 4 edges crowded): cells of two, on the linear grid (no cell of three on either).
    expect(gridOf([0, 0.1, 2, 10])).toEqual({
      keyed: false,
      pairs: true,
      origin: 0,
      scale: 3.2,
      lastCell: 32,
      cellStarts: [0, ...repeat(2, 6), ...repeat(3, 26), 4],
      cellBins: [1, ...repeat(3, 6), ...repeat(4, 26)],
      cellEdges: { length: 33, 0: 0, 6: 2, 32: 10 },
      secondEdges: { length: 33, 0: 0.1 },
    });
    // Cell 0 holds three edges (0, 0.05, 0.1): crowded, its bin 0 sends its values to the binary search.
    expect(gridOf([0, 0.05, 0.1, 2, 10])).toEqual({
      keyed: false,
      pairs: true,
      origin: 0,
      scale: 4,
      lastCell: 40,
      cellStarts: [0, ...repeat(3, 8), ...repeat(4, 32), 5],
      cellBins: [0, ...repeat(4, 8), ...repeat(5, 32)],
      cellEdges: { length: 41, 8: 2, 40: 10 },
      secondEdges: { length: 41 },
    });
  });

  it('spans no width when the edges have none (no edges, one edge, or a span whose cells would be infinitely narrow)', () => {
    expect(gridOf([])).toEqual({
      keyed: false,
      pairs: false,
      origin: 0,
      scale: 0,
      lastCell: 1,
      cellStarts: [0, 0, 0],
      cellBins: [1, 1],
      cellEdges: { length: 2 },
      secondEdges: { length: 1 },
    });
    expect(gridOf([5])).toMatchObject({
      origin: 5,
      scale: 0,
      lastCell: 8,
      cellStarts: [0, ...repeat(1, 9)],
      cellEdges: { length: 9, 0: 5 },
    });
    // 16 cells over 5e-324: 16 / 5e-324 overflows to Infinity, so both edges share cell 0 (a cell of two).
    expect(gridOf([0, 5e-324])).toMatchObject({ pairs: true, origin: 0, scale: 0, cellEdges: { 0: 0 }, secondEdges: { 0: 5e-324 } });
  });

  it('keys a grid of negative heavy-tailed edges by minus the magnitude of their high words', () => {
    // python3 -c "import struct; h=struct.unpack('<q', struct.pack('<d', -1.1**199))[0]>>32&0x7fffffff; print(-h)"  # -1101304983
    const edges = Array.from({ length: 200 }, (_, k) => -(1.1 ** (199 - k)));
    expect(gridOf(edges)).toMatchObject({ keyed: true, pairs: false, origin: -1_101_304_983, lastCell: 1600 });
  });

  describe('chooses the grid at the 1% limit', () => {
    const geometric = Array.from({ length: 199 }, (_, k) => 1.1 ** k);
    const choice = (edges: readonly number[]) => {
      const { keyed, pairs } = gridOf([...edges].sort((a, b) => a - b));
      return { keyed, pairs };
    };

    it('keeps the linear grid with exactly 1% of its edges crowded', () => {
      // 200 edges 1000 … 1198 and 1000.01: 1000 and 1000.01 share a cell, 2 = 1% of 200.
      expect(choice([...Array.from({ length: 199 }, (_, i) => 1000 + i), 1000.01])).toEqual({ keyed: false, pairs: false });
    });

    it('takes the magnitude-keyed grid with exactly 1% of its edges crowded when the linear grid has more', () => {
      // Geometric edges crowd the linear grid's low cells; on keys only 1.1^50 and 1.1^50 · 1.0001 share a cell.
      expect(choice([...geometric, 1.1 ** 50 * 1.0001])).toEqual({ keyed: true, pairs: false });
    });

    it('admits cells of two on the grid with fewer edges in cells of three or more', () => {
      // Keys: two shared cells (4 edges crowded > 2), none of three; the linear grid has 138 edges in cells of three or more.
      expect(choice([...geometric, 1.1 ** 50 * 1.0001, 1.1 ** 90 * 1.0001])).toEqual({ keyed: true, pairs: true });
      // Pairs near 1 … 40: 6 edges crowded on the linear grid, 4 on keys, no cell of three on either: the linear grid stays.
      const integers = Array.from({ length: 40 }, (_, i) => i + 1);
      expect(choice([...integers, 5.01, 10.01, 20.01, 40.01])).toEqual({ keyed: false, pairs: true });
      // 50 close pairs, every cell of two on both grids: equally good, the linear grid stays.
      expect(choice(Array.from({ length: 50 }, (_, i) => [i + 1, i + 1 + 1e-6]).flat())).toEqual({ keyed: false, pairs: true });
    });
  });
});

describe('EdgeIndex.count on magnitude-keyed grids with crowded cells', () => {
  it('bins each edge, the values between edges and beyond both ends as binary search does', () => {
    // Keys: 1.1^50 · 1.0001 shares 1.1^50's cell (a cell of two), and 1.1^90 · 1.0001 and · 1.0002
    // share 1.1^90's (three: crowded, binary-searched).
    const geometric = Array.from({ length: 199 }, (_, k) => 1.1 ** k);
    const edges = [...geometric, 1.1 ** 50 * 1.0001, 1.1 ** 90 * 1.0001, 1.1 ** 90 * 1.0002].sort((a, b) => a - b);
    expect(gridOf(edges)).toMatchObject({ keyed: true, pairs: true });
    const values = edges.flatMap((edge, i) => [edge, i + 1 < edges.length ? (edge + edges[i + 1]!) / 2 : edge * 2]);
    values.push(0.5, -3);
    // Tails whose bounds (∓1e12) hold every value: only the crowded cell's values are set aside.
    const tails = new TailTracker();
    for (const extreme of [-1e12, 1e12]) for (let i = 0; i < 64; i++) tails.offer(extreme);
    const index = new EdgeIndex(edges);
    const counts = new Float64Array(edges.length + 2);
    index.count(Float64Array.from(values), values.length, counts, new Float64Array(edges.length + 2), Float64Array.from([0, 0, 0]), tails);
    const expected = new Array<number>(edges.length + 2).fill(0);
    for (const value of values) expected[binIndex(edges, value) + 1]!++;
    expect([...counts]).toEqual(expected);
  });
});

/** A TailTracker that records what EdgeIndex.count asks of it: its bounds, and the values offered. */
class WatchedTails extends TailTracker {
  boundReads = 0;
  readonly offered: number[] = [];

  override get lowBound(): number {
    this.boundReads++;
    return super.lowBound;
  }

  override get highBound(): number {
    this.boundReads++;
    return super.highBound;
  }

  override offer(value: number): void {
    this.offered.push(value);
    super.offer(value);
  }
}

describe('EdgeIndex.count and the tails', () => {
  it.each([
    ['a linear grid', Array.from({ length: 200 }, (_, i) => i), false],
    ['a magnitude-keyed grid', Array.from({ length: 200 }, (_, k) => 1.1 ** k), true],
  ])(
    'on %s, offers only values beyond the bounds and looks again only at values beyond the bounds a chunk started with',
    (_, edges, keyed) => {
      expect(gridOf(edges)).toMatchObject({ keyed, pairs: false, cellBins: expect.not.arrayContaining([0]) });
      const tails = new WatchedTails();
      for (let value = 1; value <= 201; value++) tails.offer(value);
      // Bounds 64 (the 64th smallest) and 138 (the 64th largest); no cell is crowded.
      expect([tails.lowBound, tails.highBound]).toEqual([64, 138]);
      tails.boundReads = 0;
      tails.offered.length = 0;
      const values = [63, 63, 64, 100.5, 138, 139, 139];
      const index = new EdgeIndex(edges);
      index.count(
        Float64Array.from(values),
        values.length,
        new Float64Array(202),
        new Float64Array(202),
        Float64Array.from([0, 0, 0]),
        tails,
      );
      // Set aside: the values strictly beyond 64 and 138 (both 63s and 139s). Looked at again, each
      // offered only while beyond the bounds as they stand: the first 63 lowers the low bound to 63
      // and the first 139 raises the high one to 139, so their twins are refused without an offer.
      expect(tails.offered).toEqual([63, 139]);
      // Reads: both bounds once for the chunk; then the low bound for each value set aside, and the
      // high one for each that is not below the low bound (63 offered: 1; the other three: 2 each).
      expect(tails.boundReads).toBe(2 + 1 + 2 + 2 + 2);
      expect(tails.finish()).toEqual({
        lowest: [...Array.from({ length: 62 }, (_, i) => i + 1), 63, 63],
        highest: [139, 139, ...Array.from({ length: 62 }, (_, i) => 140 + i)],
      });
    },
  );
});

describe('weightedQuantileEdges', () => {
  it('takes each repeated value once (a sketch holds equal values at several levels)', () => {
    expect(weightedQuantileEdges(Float64Array.from([2, 2, 3, 3, 3, 7]), Float64Array.from([1, 2, 1, 4, 1, 1]), 10, 4)).toEqual([2, 3, 7]);
    // Three distinct values for three edges: all of them. Counted with repeats (four) they would go
    // to ranks 0, 2 and 5 of 8, which read 1, 3 and 3 again (cumulative weights 1, 2, 4, 6, 8): [1, 3].
    expect(weightedQuantileEdges(Float64Array.from([1, 2, 3, 3, 3]), Float64Array.from([1, 1, 2, 2, 2]), 8, 3)).toEqual([1, 2, 3]);
  });
});

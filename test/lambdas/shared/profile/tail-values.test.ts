import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeTails, TAIL_SIZE, TailTracker, tailRanks, tailsOfSorted } from '../../../../lambdas/shared/profile/tail-values';

// size 'max': fast-check 4 otherwise caps an array at 10 values whatever maxLength says, and the
// tails (TAIL_SIZE = 64 a side) never fill; this way most runs overflow them.
const valuesArbitrary = fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true })), {
  maxLength: 400,
  size: 'max',
});
const ascending = (values: readonly number[]) => Float64Array.from(values).sort();

describe('column tails', () => {
  it('keeps the same smallest and largest values as sorting, offered only the values beyond its bounds', () => {
    fc.assert(
      fc.property(valuesArbitrary, (values) => {
        const tracker = new TailTracker();
        for (const value of values) if (value < tracker.lowBound || value > tracker.highBound) tracker.offer(value);
        expect(tracker.finish()).toEqual(tailsOfSorted(ascending(values)));
        if (values.length > 0) expect([tracker.min + 0, tracker.max + 0]).toEqual([Math.min(...values) + 0, Math.max(...values) + 0]);
      }),
    );
  });

  it('merges exactly, in any order: the tails of a union are the merged tails of its parts', () => {
    fc.assert(
      fc.property(valuesArbitrary, valuesArbitrary, valuesArbitrary, (a, b, c) => {
        const [ta, tb, tc] = [a, b, c].map((values) => tailsOfSorted(ascending(values))) as [
          ReturnType<typeof tailsOfSorted>,
          ReturnType<typeof tailsOfSorted>,
          ReturnType<typeof tailsOfSorted>,
        ];
        const whole = tailsOfSorted(ascending([...a, ...b, ...c]));
        expect(mergeTails(mergeTails(ta, tb), tc)).toEqual(whole);
        expect(mergeTails(ta, mergeTails(tb, tc))).toEqual(whole);
        expect(mergeTails(tb, ta)).toEqual(mergeTails(ta, tb));
      }),
    );
  });

  it('keeps every value of a column no longer than the tail size', () => {
    expect(tailsOfSorted(Float64Array.from([1, 2, 3]))).toEqual({ lowest: [1, 2, 3], highest: [1, 2, 3] });
    expect(tailsOfSorted(ascending(Array.from({ length: 1000 }, (_, i) => i))).highest).toHaveLength(64);
  });

  it('refines the reference edges geometrically from the tails to the bulk bins, and only when the bulk bins are larger', () => {
    // 100,000 / 3072 ≈ 32.6 values per bulk bin, fewer than the outermost tail bin would hold.
    expect(tailRanks(100_000, 3072)).toEqual([]);
    // 1,000,000 / 3072 ≈ 325.5 values per bulk bin: depths 48, 53, 58 … from each end, 10% apart,
    // up to the last depth whose next step would be as large as a bulk bin.
    const ranks = tailRanks(1_000_000, 3072);
    const low = ranks.slice(0, ranks.length / 2);
    const high = ranks.slice(ranks.length / 2).map((rank) => 1_000_000 - rank);
    expect(low.slice(0, 4)).toEqual([48, 53, 58, 64]);
    expect(high.reverse()).toEqual(low);
    for (let i = 1; i < low.length; i++) expect(low[i]! / low[i - 1]!).toBeCloseTo(1.1, 1);
    expect(low[low.length - 1]! * 0.1).toBeLessThan(1_000_000 / 3072);
    expect(low[low.length - 1]! * 1.1 * 0.1).toBeGreaterThanOrEqual(1_000_000 / 3072);
    // The figures internals.md states: 90 tail edges at a million rows, 234 at a billion, none up to 48 × 3072 = 147,456 rows.
    expect(ranks).toHaveLength(90);
    expect(tailRanks(1_000_000_000, 3072)).toHaveLength(234);
    expect(tailRanks(48 * 3072, 3072)).toEqual([]);
    expect(tailRanks(48 * 3072 + 1, 3072).length).toBeGreaterThan(0);
    expect(tailRanks(1_000_000, 16)).toEqual([]);
  });

  it('refines at exactly an eighth of the edges, and not at bulk bins of exactly TAIL_EDGE_DEPTH values', () => {
    // python3: d = 48.0; while d * 0.1 < count / 400 and d < count / 4: ranks += [floor(d + 0.5), count - floor(d + 0.5)]; d *= 1.1
    const depths = [48, 53, 58, 64, 70, 77, 85, 94, 103, 113, 124, 137, 151, 166, 182, 201, 221, 243, 267, 294, 323, 355, 391, 430, 473];
    const ranksOf = (count: number) => [...depths, ...depths.map((depth) => count - depth).reverse()];
    // 20,000 / 400 = 50 per bulk bin: 25 depths a side, 50 ranks = 400 / 8, still allowed.
    expect(tailRanks(20_000, 400)).toEqual(ranksOf(20_000));
    expect(tailRanks(48 * 400, 400)).toEqual([]);
    expect(tailRanks(48 * 400 + 1, 400)).toEqual(ranksOf(48 * 400 + 1));
  });

  it('bounds offers by the kept extremes only once TAIL_SIZE values are kept', () => {
    const tracker = new TailTracker();
    expect([tracker.min, tracker.max]).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    for (let i = 0; i < TAIL_SIZE - 1; i++) tracker.offer(1000 - i);
    expect([tracker.lowBound, tracker.highBound]).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    tracker.offer(5000);
    // 64 values 937 … 1000 and 5000: the largest kept low value and the smallest kept high value.
    expect([tracker.lowBound, tracker.highBound]).toEqual([5000, 938]);
    expect([tracker.min, tracker.max]).toEqual([938, 5000]);
    tracker.offer(-1);
    tracker.offer(6000);
    expect([tracker.lowBound, tracker.highBound]).toEqual([1000, 939]);
    const { lowest, highest } = tracker.finish();
    expect([lowest[0], lowest[1], lowest[TAIL_SIZE - 1]]).toEqual([-1, 938, 1000]);
    expect([highest[0], highest[TAIL_SIZE - 2], highest[TAIL_SIZE - 1]]).toEqual([939, 5000, 6000]);
  });

  it('turns -0 into 0 and keeps a given number of extremes', () => {
    const tracker = new TailTracker();
    tracker.offer(-0);
    const finished = tracker.finish();
    expect(Object.is(finished.lowest[0], 0) && Object.is(finished.highest[0], 0)).toBe(true);
    const sorted = tailsOfSorted(Float64Array.from([-0, 1, 2, 3]), 2);
    expect(sorted).toEqual({ lowest: [0, 1], highest: [2, 3] });
    expect(Object.is(sorted.lowest[0], 0)).toBe(true);
    expect(mergeTails({ lowest: [1, 4], highest: [1, 4] }, { lowest: [2, 3], highest: [2, 3] }, 3)).toEqual({
      lowest: [1, 2, 3],
      highest: [2, 3, 4],
    });
    expect(mergeTails({ lowest: [5], highest: [5] }, { lowest: [], highest: [] }, 3)).toEqual({ lowest: [5], highest: [5] });
  });
});

/**
 * A streaming quantile sketch for reference columns too long to keep (NumericColumnProfiler keeps
 * up to EXACT_REFERENCE_VALUES values, then switches to this). It is the compactor hierarchy of
 * KLL (Karnin, Lang and Liberty, 2016) with every level the same capacity k: when a level fills,
 * it is sorted and every other value (alternately the odd and the even ones) moves up a level with
 * twice the weight. Total weight stays exactly the number of values.
 *
 * Error, deterministic: one compaction at level h moves any value's rank by at most 2^h, and level
 * h is compacted at most n / (k·2^h) times, so every rank is within (levels compacted) × n / k of
 * the truth; `rankErrorBound` tracks the exact sum. At k = 2^15: 3.4·10⁻⁴ of n at 2^26 values (10
 * levels), 5.5·10⁻⁴ at 2^32. Memory: k float64 per level, 256 KiB × (log2(n / k) + 1), 3 MiB at
 * 2^26 values. Hand-written: `tdigest` (the npm package) has no rank-error bound and is unmaintained.
 */

export const SKETCH_LEVEL_CAPACITY = 1 << 15;

/** Values sorted ascending, each with its weight (a power of two). */
export interface WeightedValues {
  readonly values: Float64Array;
  readonly weights: Float64Array;
}

export class QuantileSketch {
  private readonly levels: Float64Array[] = [];
  private readonly sizes: number[] = [];
  private readonly odd: boolean[] = [];
  private total = 0;
  private errorBound = 0;

  /** Values kept uncompacted at each end of level 0: a quarter of its capacity, so every level fills exactly. */
  private readonly protectedEnds: number;

  constructor(readonly capacity = SKETCH_LEVEL_CAPACITY) {
    if (capacity < 8 || (capacity & (capacity - 1)) !== 0) {
      throw new Error(`the sketch's level capacity must be a power of two, at least 8, got ${capacity}`);
    }
    this.protectedEnds = capacity / 4;
  }

  /** Values added. */
  get count(): number {
    return this.total;
  }

  /** Most any rank read from the sketch can differ from the exact rank (in values). */
  get rankErrorBound(): number {
    return this.errorBound;
  }

  /** Bytes held by the levels. */
  get retainedBytes(): number {
    return this.levels.length * this.capacity * 8;
  }

  add(values: Float64Array, count: number): void {
    let from = 0;
    while (from < count) {
      const level = this.level(0);
      const take = Math.min(this.capacity - this.sizes[0]!, count - from);
      level.set(values.subarray(from, from + take), this.sizes[0]);
      this.sizes[0]! += take;
      from += take;
      if (this.sizes[0] === this.capacity) this.compact(0);
    }
    this.total += count;
  }

  /** Every retained value with its weight, ascending; the weights sum to `count`. */
  weighted(): WeightedValues {
    const pairs: [number, number][] = [];
    this.levels.forEach((level, height) => {
      for (let i = 0; i < this.sizes[height]!; i++) pairs.push([level[i]!, 2 ** height]);
    });
    pairs.sort((a, b) => a[0] - b[0]);
    return { values: Float64Array.from(pairs, ([value]) => value), weights: Float64Array.from(pairs, ([, weight]) => weight) };
  }

  private level(height: number): Float64Array {
    while (this.levels.length <= height) {
      this.levels.push(new Float64Array(this.capacity));
      this.sizes.push(0);
      this.odd.push(false);
    }
    return this.levels[height]!;
  }

  private compact(height: number): void {
    const items = this.levels[height]!.sort();
    const above = this.level(height + 1);
    // Level 0 keeps its `protectedEnds` smallest and largest values and compacts only the middle:
    // the values within that many of either end of the column are never compacted, so the ranks
    // the tail edges are read at are exact there.
    const kept = height === 0 ? this.protectedEnds : 0;
    // Alternating which half moves up makes the errors of successive compactions cancel rather than add.
    const start = kept + (this.odd[height] ? 1 : 0);
    this.odd[height] = !this.odd[height];
    let size = this.sizes[height + 1]!;
    for (let i = start; i < this.capacity - kept; i += 2) above[size++] = items[i]!;
    this.sizes[height + 1] = size;
    if (kept > 0) items.copyWithin(kept, this.capacity - kept);
    this.sizes[height] = 2 * kept;
    this.errorBound += 2 ** height;
    if (size === this.capacity) this.compact(height + 1);
  }
}

/**
 * The extreme values of a numeric column, kept exactly: its TAIL_SIZE smallest and TAIL_SIZE
 * largest values. A histogram over the reference's quantiles cannot see inside its outermost
 * bins, and there, in heavy tails, the few largest values decide much of a Wasserstein distance;
 * with both samples' extremes known the distance is exact in the far tails. Keeping the k
 * smallest (largest) is exactly mergeable: the k smallest of a union are the k smallest of the
 * parts' k smallest, whatever the order of the merges.
 *
 * Also here: the tail ranks of the reference's edge layout, which refines the histogram from
 * inside the extremes to the bulk in geometric steps (see `tailRanks`).
 */

/** Values kept at each end of a numeric column (1 KB of float64 in all, 1.4 KB serialized). */
export const TAIL_SIZE = 64;
/**
 * Depth of the reference's outermost edges: a window binned on them has about this many values
 * in each outermost bin, and those its tails almost always keep whole (P(Poisson(48) > 64) ≈ 1%).
 */
export const TAIL_EDGE_DEPTH = 48;
/** Growth of the depth from one tail edge to the next, from TAIL_EDGE_DEPTH toward the bulk. */
export const TAIL_GROWTH = 1.1;

/** A column's smallest and largest values, each list ascending; the lists overlap when count < 2 × TAIL_SIZE. */
export interface TailValues {
  lowest: number[];
  highest: number[];
}

/** The extremes of an ascending array. */
export function tailsOfSorted(sorted: ArrayLike<number>, size = TAIL_SIZE): TailValues {
  const kept = Math.min(size, sorted.length);
  return {
    // `+ 0` turns -0 into 0, as the profile does for min and max.
    lowest: Array.from({ length: kept }, (_, index) => sorted[index]! + 0),
    highest: Array.from({ length: kept }, (_, index) => sorted[sorted.length - kept + index]! + 0),
  };
}

/** The extremes of the union of two samples, from theirs. */
export function mergeTails(a: TailValues, b: TailValues, size = TAIL_SIZE): TailValues {
  const lowest = mergeAscending(a.lowest, b.lowest);
  const highest = mergeAscending(a.highest, b.highest);
  return { lowest: lowest.slice(0, size), highest: highest.slice(Math.max(0, highest.length - size)) };
}

function mergeAscending(a: readonly number[], b: readonly number[]): number[] {
  const merged: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) merged.push(j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!);
  return merged;
}

/**
 * Streams values into the extremes. Each end is a sorted buffer; a value enters only when it
 * beats the buffer's worst, which after the first few thousand values is rare. The binning loop
 * (EdgeIndex.count) compares each value with `lowBound` and `highBound` and offers only those
 * beyond them, so tracking costs two comparisons per value.
 */
export class TailTracker {
  private readonly lowest = new Float64Array(TAIL_SIZE);
  private readonly highest = new Float64Array(TAIL_SIZE);
  private size = 0;

  /** Values below this may enter the smallest (every value, until TAIL_SIZE have been offered). */
  get lowBound(): number {
    return this.size < TAIL_SIZE ? Number.POSITIVE_INFINITY : this.lowest[TAIL_SIZE - 1]!;
  }

  /** Values above this may enter the largest. */
  get highBound(): number {
    return this.size < TAIL_SIZE ? Number.NEGATIVE_INFINITY : this.highest[0]!;
  }

  /** The smallest value offered (+∞ before any). */
  get min(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.lowest[0]!;
  }

  /** The largest value offered (−∞ before any). */
  get max(): number {
    return this.size === 0 ? Number.NEGATIVE_INFINITY : this.highest[this.size - 1]!;
  }

  /** Offers one value (never NaN); cheap when it is within the bounds. */
  offer(value: number): void {
    const lowest = this.lowest;
    const highest = this.highest;
    if (this.size < TAIL_SIZE) {
      insertAscending(lowest, this.size, value);
      insertAscending(highest, this.size, value);
      this.size++;
      return;
    }
    if (value < lowest[TAIL_SIZE - 1]!) insertAscending(lowest, TAIL_SIZE - 1, value);
    if (value > highest[0]!) {
      highest.copyWithin(0, 1);
      insertAscending(highest, TAIL_SIZE - 1, value);
    }
  }

  finish(): TailValues {
    return {
      lowest: Array.from(this.lowest.subarray(0, this.size), (value) => value + 0),
      highest: Array.from(this.highest.subarray(0, this.size), (value) => value + 0),
    };
  }
}

/** Inserts value into the ascending buffer[0 … length), which has room for one more. */
function insertAscending(buffer: Float64Array, length: number, value: number): void {
  let position = length;
  while (position > 0 && buffer[position - 1]! > value) {
    buffer[position] = buffer[position - 1]!;
    position--;
  }
  buffer[position] = value;
}

/**
 * Ranks (0-based positions in the sorted reference) of the edges that refine its tails: depths
 * TAIL_EDGE_DEPTH, × TAIL_GROWTH, × TAIL_GROWTH², … from each end, until a step would hold as many
 * values as a bulk bin (count / maxEdges) and the bulk's own bins grow by no more than TAIL_GROWTH
 * from one to the next. Every bin from the extremes to the bulk is then at most 10% of its depth
 * (in mass), so no bin holds much of the distance in a heavy tail, where the two CDFs of a window
 * and its reference cross and a bin's share of Wasserstein-1 must be estimated (wasserstein.ts):
 * coarser steps (1.5) left Pareto(1.5) pairs at 10⁶ rows 1.4% off, these 0.2%. Empty when the
 * bulk bins hold TAIL_EDGE_DEPTH values or fewer (no bin is then larger than a bulk bin, which
 * bounds the KS statistic's error), or when the refinement would take more than an eighth of the
 * edges (tiny maxEdges); at 3072 edges it takes 90 at a million rows, 234 at a billion.
 */
export function tailRanks(count: number, maxEdges: number): number[] {
  const bulkBin = count / maxEdges;
  const ranks: number[] = [];
  if (bulkBin <= TAIL_EDGE_DEPTH) return ranks;
  for (let depth = TAIL_EDGE_DEPTH; depth * (TAIL_GROWTH - 1) < bulkBin && depth < count / 4; depth *= TAIL_GROWTH) {
    const rank = Math.round(depth);
    ranks.push(rank, count - rank);
  }
  if (ranks.length > maxEdges / 8) return [];
  return ranks.sort((a, b) => a - b);
}

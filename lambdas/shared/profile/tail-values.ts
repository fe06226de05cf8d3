/**
 * The extreme values of a numeric column, kept exactly: its TAIL_SIZE smallest and TAIL_SIZE
 * largest values. A histogram over the reference's quantiles cannot see inside its outermost
 * bins, and there, in heavy tails, the few largest values decide much of a Wasserstein distance;
 * with both samples' extremes known the distance is exact in the far tails. Keeping the k
 * smallest (largest) is exactly mergeable: the k smallest of a union are the k smallest of the
 * parts' k smallest, whatever the order of the merges.
 *
 * Also here: the tail ranks of the reference's edge layout, which refines the histogram from the
 * extremes' depth to the bulk bins' size in geometric steps (see `tailRanks`).
 */

/** Values kept at each end of a numeric column (1 KB of float64 in all, 1.4 KB serialized). */
export const TAIL_SIZE = 64;
/** Growth of the bin counts from the exact extremes toward the bulk, in the reference's tail edges. */
export const TAIL_GROWTH = 1.5;

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
 * beats the buffer's worst, which after the first few thousand values is rare, so a batch costs
 * two comparisons per value.
 */
export class TailTracker {
  private readonly lowest = new Float64Array(TAIL_SIZE);
  private readonly highest = new Float64Array(TAIL_SIZE);
  private size = 0;

  add(values: Float64Array, length: number): void {
    const lowest = this.lowest;
    const highest = this.highest;
    let start = 0;
    // Fill both buffers with the first values.
    for (; start < length && this.size < TAIL_SIZE; start++) {
      insertAscending(lowest, this.size, values[start]!);
      insertAscending(highest, this.size, values[start]!);
      this.size++;
    }
    if (start < length) trackTails(values, start, length, lowest, highest);
  }

  finish(): TailValues {
    return {
      lowest: Array.from(this.lowest.subarray(0, this.size), (value) => value + 0),
      highest: Array.from(this.highest.subarray(0, this.size), (value) => value + 0),
    };
  }
}

/**
 * The steady-state loop of TailTracker.add over full buffers, a plain function with every input a
 * parameter (V8 compiles such loops faster than the same loop in a method).
 */
function trackTails(values: Float64Array, start: number, length: number, lowest: Float64Array, highest: Float64Array): void {
  let lowBound = lowest[TAIL_SIZE - 1]!;
  let highBound = highest[0]!;
  for (let i = start; i < length; i++) {
    const value = values[i]!;
    if (value < lowBound || value > highBound) {
      admit(value, lowest, highest);
      lowBound = lowest[TAIL_SIZE - 1]!;
      highBound = highest[0]!;
    }
  }
}

/** Puts a value that beats one end's worst into that end (kept out of trackTails' loop). */
function admit(value: number, lowest: Float64Array, highest: Float64Array): void {
  if (value < lowest[TAIL_SIZE - 1]!) insertAscending(lowest, TAIL_SIZE - 1, value);
  if (value > highest[0]!) {
    highest.copyWithin(0, 1);
    insertAscending(highest, TAIL_SIZE - 1, value);
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
 * Ranks (0-based positions in the sorted reference) of the edges that refine its tails: TAIL_SIZE,
 * TAIL_SIZE × TAIL_GROWTH, TAIL_SIZE × TAIL_GROWTH², … from each end, while smaller than the bulk
 * bins' count (count / maxEdges). The outermost bin on each side then holds exactly the values the
 * tails keep, and the bins between grow geometrically, so none is much wider (in mass) than the
 * distance to its end of the distribution: inside such a bin the two CDFs are as unlikely to
 * cross as in the bulk. Empty when the bulk bins hold TAIL_SIZE values or fewer, or when the
 * refinement would take more than a sixteenth of the edges (tiny maxEdges); at 3072 edges and a
 * billion rows it takes 44.
 */
export function tailRanks(count: number, maxEdges: number): number[] {
  const bulkBin = count / maxEdges;
  const ranks: number[] = [];
  for (let depth = TAIL_SIZE; depth < bulkBin; depth *= TAIL_GROWTH) {
    const rank = Math.round(depth);
    ranks.push(rank, count - rank);
  }
  if (ranks.length > maxEdges / 16) return [];
  return ranks.sort((a, b) => a - b);
}

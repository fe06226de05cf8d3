/**
 * Building profiles: the numeric and categorical column profilers the readers feed batch by
 * batch, and the merge of two profiles of the same columns (shards of one dataset).
 */
import { ValidationError } from '../errors';
import { binAnchor, meanLevelsFromOffsets, mergeMeanLevels } from './bin-means';
import { EdgeIndex, quantileEdges } from './edge-index';
import {
  type CategoricalColumnProfile,
  CELL_INVALID,
  CELL_NULL,
  CELL_VALUE,
  type ColumnProfile,
  type DatasetProfile,
  emptyMoments,
  MAX_HISTOGRAM_EDGES,
  MAX_TRACKED_CATEGORIES,
  mergeMoments,
  type NumericColumnProfile,
  type NumericHistogram,
  PROFILE_FORMAT_VERSION,
} from './profile';
import { mergeTails, TailTracker, type TailValues, tailsOfSorted } from './tail-values';

// Scratch shared by every numeric profiler: batches are added synchronously, one at a time, so
// one buffer serves all columns (and memory does not grow with the number of columns).
/** The values of a batch with nulls or invalid cells, compacted, during NumericColumnProfiler.addBatch. */
let compacted = new Float64Array(0);

/** Σ (value − mean)² over values[0 … count). */
function squaredDeviations(values: Float64Array, count: number, mean: number): number {
  let m2 = 0;
  for (let i = 0; i < count; i++) {
    const deviation = values[i]! - mean;
    m2 += deviation * deviation;
  }
  return m2;
}

/**
 * Accumulates one numeric column batch by batch. Given edges (from a reference profile) it bins
 * as it goes in constant memory; without, this dataset is the reference: it keeps the values
 * (8 bytes each) and derives the edges from their exact quantiles when finished.
 */
export class NumericColumnProfiler {
  private moments = emptyMoments();
  private nulls = 0;
  private invalid = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private readonly counts: Float64Array | undefined;
  /** Per bin, the sum of its values' offsets from binAnchor, shifted like `counts`. */
  private readonly offsetSums: Float64Array | undefined;
  private readonly tails = new TailTracker();
  private readonly edgeIndex: EdgeIndex | undefined;
  private retained: Float64Array | undefined;
  private retainedLength = 0;
  /** [center, Σ (value − center), Σ (value − center)²] of the batch being binned (EdgeIndex.count). */
  private readonly batchSums = new Float64Array(3);

  constructor(private readonly edges?: readonly number[]) {
    if (edges) {
      // Shifted by one for EdgeIndex.count: bin b is counts[b + 1].
      this.counts = new Float64Array(edges.length + 2);
      this.offsetSums = new Float64Array(edges.length + 2);
      this.edgeIndex = new EdgeIndex(edges);
      // The reference's median: values are summed about it, near where most of them lie.
      this.batchSums[0] = edges.length > 0 ? edges[edges.length >> 1]! : 0;
    } else {
      this.retained = new Float64Array(1024);
    }
  }

  /** Adds `length` cells; only cells whose state is CELL_VALUE enter the statistics. */
  addBatch(values: Float64Array, states: Uint8Array, length: number): void {
    // Batches without nulls or invalid cells (the usual case) are used in place; others are first
    // compacted to their values, so the hot loops below never look at states.
    const usable = CELL_VALUE; // read once: an imported binding can cost a call per read where it is not inlined
    let first = 0;
    while (first < length && states[first] === usable) first++;
    let count = length;
    if (first < length) {
      count = this.compact(values, states, length, first);
      values = compacted;
    }
    if (count === 0) return;
    if (this.edgeIndex) this.binBatch(values, count);
    else this.retainBatch(values, count);
  }

  /**
   * One pass bins the batch, sums it about the center and offers the tails their candidates (whose
   * extremes are the column's min and max). The batch's M2 is Σ (x − c)² − (Σ (x − c))²/n, exact
   * on paper; where the batch lies so far from the center that fewer than six of its digits would
   * survive the subtraction, it is taken again about the batch's own mean.
   */
  private binBatch(values: Float64Array, count: number): void {
    const sums = this.batchSums;
    this.edgeIndex!.count(values, count, this.counts!, this.offsetSums!, sums, this.tails);
    const center = sums[0]!;
    const shifted = sums[1]!;
    const squares = sums[2]!;
    const mean = center + shifted / count;
    let m2 = squares - (shifted * shifted) / count;
    if (!(m2 * 1e6 >= squares)) m2 = squaredDeviations(values, count, mean);
    this.moments = mergeMoments(this.moments, { count, mean, m2 });
    this.min = this.tails.min;
    this.max = this.tails.max;
  }

  /** Keeps the batch for the edges, with its moments (sum, then squared deviations: two passes, stable). */
  private retainBatch(values: Float64Array, count: number): void {
    let sum = 0;
    let min = this.min;
    let max = this.max;
    for (let i = 0; i < count; i++) {
      const value = values[i]!;
      sum += value;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    this.min = min;
    this.max = max;
    const mean = sum / count;
    this.moments = mergeMoments(this.moments, { count, mean, m2: squaredDeviations(values, count, mean) });
    this.retain(values, count);
  }

  /** Copies the values of cells[0 … length) to `compacted`, counting nulls and invalid cells; returns how many. */
  private compact(values: Float64Array, states: Uint8Array, length: number, first: number): number {
    if (compacted.length < length) compacted = new Float64Array(Math.max(length, 1024));
    const scratch = compacted;
    scratch.set(values.subarray(0, first));
    let count = first;
    let nulls = 0;
    let invalid = 0;
    for (let i = first; i < length; i++) {
      const state = states[i];
      if (state === CELL_VALUE) scratch[count++] = values[i]!;
      else if (state === CELL_NULL) nulls++;
      else if (state === CELL_INVALID) invalid++;
    }
    this.nulls += nulls;
    this.invalid += invalid;
    return count;
  }

  private retain(values: Float64Array, count: number): void {
    let retained = this.retained!;
    if (this.retainedLength + count > retained.length) {
      const grown = new Float64Array(Math.max(retained.length * 2, this.retainedLength + count));
      grown.set(retained.subarray(0, this.retainedLength));
      retained = grown;
      this.retained = grown;
    }
    retained.set(values.subarray(0, count), this.retainedLength);
    this.retainedLength += count;
  }

  finish(maxEdges = MAX_HISTOGRAM_EDGES): NumericColumnProfile {
    let edges: number[];
    let counts: number[];
    let offsetSums: ArrayLike<number>;
    let tails: TailValues;
    if (this.counts) {
      edges = [...this.edges!];
      counts = Array.from(this.counts.subarray(1));
      offsetSums = this.offsetSums!.subarray(1);
      tails = this.tails.finish();
    } else {
      const sorted = this.retained!.subarray(0, this.retainedLength).sort();
      edges = quantileEdges(sorted, maxEdges);
      counts = new Array<number>(edges.length + 1).fill(0);
      const sums = new Float64Array(edges.length + 1);
      // Sorted values fall into consecutive bins: one linear walk instead of a search per value.
      let bin = 0;
      let anchor = binAnchor(edges, 0);
      for (const value of sorted) {
        while (bin < edges.length && edges[bin]! <= value) anchor = binAnchor(edges, ++bin);
        counts[bin]!++;
        sums[bin]! += value - anchor;
      }
      offsetSums = sums;
      tails = tailsOfSorted(sorted);
      this.retained = undefined;
    }
    const empty = this.moments.count === 0;
    const min = empty ? null : this.min + 0;
    const max = empty ? null : this.max + 0;
    const histogram: NumericHistogram = { edges, counts, meanLevels: meanLevelsFromOffsets({ edges, counts, min, max }, offsetSums) };
    return {
      kind: 'numeric',
      count: this.moments.count,
      nulls: this.nulls,
      invalid: this.invalid,
      min,
      max,
      moments: { ...this.moments, mean: this.moments.mean + 0 },
      histogram,
      tails,
    };
  }
}

/** Counts dictionary codes of one categorical column; the caller owns the code → value dictionary. */
export class CategoricalColumnProfiler {
  private counts = new Float64Array(64);
  private nulls = 0;
  private invalid = 0;

  addBatch(codes: Int32Array, states: Uint8Array, length: number): void {
    for (let i = 0; i < length; i++) {
      const state = states[i];
      if (state === CELL_VALUE) {
        const code = codes[i]!;
        if (code >= this.counts.length) {
          const grown = new Float64Array(Math.max(this.counts.length * 2, code + 1));
          grown.set(this.counts);
          this.counts = grown;
        }
        this.counts[code]!++;
      } else if (state === CELL_NULL) {
        this.nulls++;
      } else if (state === CELL_INVALID) {
        this.invalid++;
      }
    }
  }

  finish(dictionary: readonly string[], maxCategories = MAX_TRACKED_CATEGORIES): CategoricalColumnProfile {
    const pairs: [string, number][] = [];
    for (let code = 0; code < dictionary.length && code < this.counts.length; code++) {
      const count = this.counts[code]!;
      if (count > 0) pairs.push([dictionary[code]!, count]);
    }
    return capCategories(
      { kind: 'categorical', count: 0, nulls: this.nulls, invalid: this.invalid, categories: [], otherCount: 0 },
      pairs,
      0,
      maxCategories,
    );
  }
}

function compareCategories(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

function capCategories(
  base: CategoricalColumnProfile,
  pairs: [string, number][],
  otherCount: number,
  maxCategories: number,
): CategoricalColumnProfile {
  pairs.sort(compareCategories);
  const kept = pairs.slice(0, maxCategories);
  const folded = pairs.slice(maxCategories).reduce((total, [, count]) => total + count, otherCount);
  const count = kept.reduce((total, [, value]) => total + value, folded);
  return { ...base, count, categories: kept, otherCount: folded };
}

function mergeNumeric(name: string, a: NumericColumnProfile, b: NumericColumnProfile): NumericColumnProfile {
  const edgesA = a.histogram.edges;
  const edgesB = b.histogram.edges;
  if (edgesA.length !== edgesB.length || edgesA.some((edge, index) => edge !== edgesB[index])) {
    throw new ValidationError(
      `cannot merge profiles of column "${name}": their histograms have different bin edges (${edgesA.length} vs ${edgesB.length} edges); profile every shard with the same reference profile`,
      { column: name },
    );
  }
  const min = a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min);
  const max = a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max);
  const counts = a.histogram.counts.map((count, index) => count + b.histogram.counts[index]!);
  const histogram: NumericHistogram = { edges: [...edgesA], counts };
  // Bin means and tails survive a merge only when both sides have them (older profiles do not).
  const levelsA = a.histogram.meanLevels;
  const levelsB = b.histogram.meanLevels;
  if (levelsA && levelsB) {
    histogram.meanLevels = mergeMeanLevels(
      { edges: edgesA, counts, min, max },
      { ...a, ...a.histogram, meanLevels: levelsA },
      { ...b, ...b.histogram, meanLevels: levelsB },
    );
  }
  return {
    kind: 'numeric',
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    invalid: a.invalid + b.invalid,
    min,
    max,
    moments: mergeMoments(a.moments, b.moments),
    histogram,
    ...(a.tails && b.tails ? { tails: mergeTails(a.tails, b.tails) } : {}),
  };
}

function mergeCategorical(a: CategoricalColumnProfile, b: CategoricalColumnProfile): CategoricalColumnProfile {
  const counts = new Map<string, number>(a.categories);
  for (const [value, count] of b.categories) counts.set(value, (counts.get(value) ?? 0) + count);
  return capCategories(
    { kind: 'categorical', count: 0, nulls: a.nulls + b.nulls, invalid: a.invalid + b.invalid, categories: [], otherCount: 0 },
    [...counts],
    a.otherCount + b.otherCount,
    MAX_TRACKED_CATEGORIES,
  );
}

/** Merges two profiles of the same columns (and, for numeric columns, the same edges). */
export function mergeProfiles(a: DatasetProfile, b: DatasetProfile): DatasetProfile {
  const namesA = Object.keys(a.columns);
  const namesB = Object.keys(b.columns);
  if (namesA.length !== namesB.length || namesA.some((name) => !(name in b.columns))) {
    throw new ValidationError(`cannot merge profiles with different columns: [${namesA.join(', ')}] and [${namesB.join(', ')}]`);
  }
  const columns: Record<string, ColumnProfile> = {};
  for (const name of namesA) {
    const left = a.columns[name]!;
    const right = b.columns[name]!;
    if (left.kind === 'numeric' && right.kind === 'numeric') columns[name] = mergeNumeric(name, left, right);
    else if (left.kind === 'categorical' && right.kind === 'categorical') columns[name] = mergeCategorical(left, right);
    else
      throw new ValidationError(`cannot merge profiles of column "${name}": one is ${left.kind}, the other ${right.kind}`, {
        column: name,
      });
  }
  return { formatVersion: PROFILE_FORMAT_VERSION, rowCount: a.rowCount + b.rowCount, columns };
}

/**
 * The dataset profile: per column counts, nulls, min/max, mergeable moments (Chan et al.'s
 * parallel variance), a histogram over fixed quantile edges and categorical counts. Pure code
 * (no AWS): validate-data writes profiles, check-drift compares two of them without re-reading
 * data, and shard profiles merge into one with `mergeProfiles` (associative and commutative).
 *
 * Histogram layout: with edges e[0] < … < e[K-1], `counts` has K + 1 bins; bin 0 is (-∞, e[0]),
 * bin i is [e[i-1], e[i]), bin K is [e[K-1], +∞). The CDF is therefore known exactly at every
 * edge, and a reference profile (edges from its own quantiles) has an empty bin 0. Current data
 * is binned with the reference's edges through EdgeIndex (a grid lookup, exact), never sorted.
 */
import * as z from 'zod';
import { ValidationError } from './errors';

export const PROFILE_FORMAT_VERSION = 1;

/**
 * Quantile edges per numeric column. With ≤ 1/3072 of the reference mass per bin, the KS
 * statistic read from the binned CDFs is within 3.3e-4 of the exact two-sample statistic
 * (the error is bounded by the largest bin mass), under the 5e-4 the drift check needs at
 * n = 1M; and 3072 float64 edges (base64) plus counts serialize to about 55 KB, under 64 KB.
 */
export const MAX_HISTOGRAM_EDGES = 3072;

/**
 * Categories kept per column. Counts are exact, and merging is exactly associative, while a
 * column has at most this many distinct values; beyond it the rarest are folded into
 * `otherCount` (totals stay exact). Category columns in practice have far fewer values.
 */
export const MAX_TRACKED_CATEGORIES = 1000;

/** Count, mean and sum of squared deviations (M2): variance = m2 / (count - 1). */
export interface Moments {
  count: number;
  mean: number;
  m2: number;
}

export interface NumericHistogram {
  /** Strictly increasing bin edges, shared by every profile compared or merged with this one. */
  edges: number[];
  /** edges.length + 1 bin counts, see the module comment. */
  counts: number[];
}

export interface NumericColumnProfile {
  kind: 'numeric';
  /** Non-null, parseable values. */
  count: number;
  nulls: number;
  /** Values present but unparseable for the column's type ("abc", "1e400", "NaN"); not in the statistics. */
  invalid: number;
  min: number | null;
  max: number | null;
  moments: Moments;
  histogram: NumericHistogram;
}

export interface CategoricalColumnProfile {
  kind: 'categorical';
  count: number;
  nulls: number;
  invalid: number;
  /** [value, count] pairs, most frequent first (ties by value), at most MAX_TRACKED_CATEGORIES. */
  categories: [string, number][];
  /** Values of categories beyond MAX_TRACKED_CATEGORIES. */
  otherCount: number;
}

export type ColumnProfile = NumericColumnProfile | CategoricalColumnProfile;

export interface DatasetProfile {
  formatVersion: typeof PROFILE_FORMAT_VERSION;
  rowCount: number;
  /** Columns in schema order. */
  columns: Record<string, ColumnProfile>;
}

/**
 * Per-value state of a decoded column batch: the value is usable, absent, or unparseable. Other
 * states (a cell of a row the reader could not split into fields) are left out of the profile.
 */
export const CELL_VALUE = 0;
export const CELL_NULL = 1;
export const CELL_INVALID = 2;

export function emptyMoments(): Moments {
  return { count: 0, mean: 0, m2: 0 };
}

/** Chan, Golub and LeVeque's pairwise update: exact in real arithmetic, stable in floating point. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.count === 0) return { ...b };
  if (b.count === 0) return { ...a };
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  return {
    count,
    // `+ 0` turns -0 into 0, which JSON cannot tell apart anyway.
    mean: a.mean + (delta * b.count) / count + 0,
    m2: a.m2 + b.m2 + (delta * delta * a.count * b.count) / count,
  };
}

export function variance(moments: Moments): number | null {
  return moments.count < 2 ? null : moments.m2 / (moments.count - 1);
}

/** Number of edges ≤ value: the index of the bin holding value. */
export function binIndex(edges: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (edges[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Finds bins fast: a uniform grid over the edge range records, per cell, how many edges fall in
 * earlier cells. Exact for any edges: the cell function is monotone non-decreasing, so every edge
 * in an earlier cell is ≤ the value and every edge in a later cell is > it. Most cells hold no
 * edge or one, so a value's bin is its cell's start plus one comparison with that cell's edge (NaN
 * when there is none), with no branch; values in crowded cells (two or more edges) are set aside
 * and binary-searched over their cell's edges after the batch.
 *
 * The grid spans either the values themselves (linear) or the sign-magnitude of their float64
 * high words, a key ordered like the values whose cells are spaced logarithmically (heavy tails:
 * Pareto, log-normal). Whichever leaves fewer edges in crowded cells is used: with quantile edges
 * each edge stands for the same mass, so that is the share of values off the fast path.
 */
/** Grid cells per edge: 8 × 3072 cells of 12 bytes stay in the L2 cache. */
const CELLS_PER_EDGE = 8;
/** A bound on grid memory (12 MB) for profiles with unusually many edges. */
const MAX_CELLS = 1 << 20;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const keyScratch = new Float64Array(1);
const keyScratchWords = new Int32Array(keyScratch.buffer);

/** The float64 high word as sign and magnitude: monotone non-decreasing in the value, ±0 → 0. */
function magnitudeKey(highWord: number): number {
  const sign = highWord >> 31;
  return ((highWord & 0x7fffffff) ^ sign) - sign;
}

function valueKey(value: number): number {
  keyScratch[0] = value;
  return magnitudeKey(keyScratchWords[LITTLE_ENDIAN ? 1 : 0]!);
}

/** Cell of a grid coordinate: clamped to [0, lastCell], monotone, NaN → 0. */
function gridCell(coordinate: number, origin: number, scale: number, lastCell: number): number {
  const cell = (coordinate - origin) * scale;
  return cell > 0 ? (cell < lastCell ? cell | 0 : lastCell) : 0;
}

interface Grid {
  origin: number;
  scale: number;
  lastCell: number;
  /** Per cell, the number of edges in earlier cells; lastCell + 2 entries, the last = edge count. */
  cellStarts: Int32Array;
  /** Edges lying in cells with two or more edges. */
  crowded: number;
}

function buildGrid(coordinates: Float64Array, cells: number): Grid {
  const count = coordinates.length;
  const origin = count > 0 ? coordinates[0]! : 0;
  const span = count > 0 ? coordinates[count - 1]! - origin : 0;
  const scale = span > 0 && Number.isFinite(cells / span) ? cells / span : 0;
  const lastCell = cells;
  const cellStarts = new Int32Array(lastCell + 2);
  for (let edge = 0; edge < count; edge++) cellStarts[gridCell(coordinates[edge]!, origin, scale, lastCell) + 1]!++;
  let crowded = 0;
  for (let cell = 1; cell < cellStarts.length; cell++) {
    if (cellStarts[cell]! > 1) crowded += cellStarts[cell]!;
    cellStarts[cell]! += cellStarts[cell - 1]!;
  }
  return { origin, scale, lastCell, cellStarts, crowded };
}

// Scratch shared by every profiler: batches are added synchronously, one at a time, so one
// buffer serves all columns (and memory does not grow with the number of columns).
/** Positions of values in crowded cells, during EdgeIndex.count. */
let crowdedPositions = new Int32Array(0);
/** The values of a batch with nulls or invalid cells, compacted, during NumericColumnProfiler.addBatch. */
let compacted = new Float64Array(0);

export class EdgeIndex {
  /** Number of edges. */
  readonly size: number;
  private readonly edges: Float64Array;
  /** Whether the grid spans magnitude keys (see magnitudeKey) rather than values. */
  private readonly keyed: boolean;
  private readonly origin: number;
  private readonly scale: number;
  private readonly lastCell: number;
  private readonly cellStarts: Int32Array;
  /** Per cell: 1 + its start when it holds at most one edge, else 0 (crowded). */
  private readonly cellBins: Int32Array;
  /** Per cell: its one edge, else NaN (compares false with everything). */
  private readonly cellEdges: Float64Array;

  constructor(edges: readonly number[]) {
    const count = edges.length;
    this.size = count;
    this.edges = Float64Array.from(edges);
    const cells = Math.min(MAX_CELLS, Math.max(1, CELLS_PER_EDGE * count));
    let grid = buildGrid(this.edges, cells);
    let keyed = false;
    if (grid.crowded > 0 && LITTLE_ENDIAN) {
      const keyGrid = buildGrid(Float64Array.from(edges, valueKey), cells);
      if (keyGrid.crowded < grid.crowded) {
        grid = keyGrid;
        keyed = true;
      }
    }
    this.keyed = keyed;
    this.origin = grid.origin;
    this.scale = grid.scale;
    this.lastCell = grid.lastCell;
    this.cellStarts = grid.cellStarts;
    this.cellBins = new Int32Array(grid.lastCell + 1);
    this.cellEdges = new Float64Array(grid.lastCell + 1).fill(Number.NaN);
    for (let cell = 0; cell <= grid.lastCell; cell++) {
      const start = grid.cellStarts[cell]!;
      const end = grid.cellStarts[cell + 1]!;
      if (end - start <= 1) this.cellBins[cell] = start + 1;
      if (end - start === 1) this.cellEdges[cell] = this.edges[start]!;
    }
  }

  private cellOf(value: number): number {
    return gridCell(this.keyed ? valueKey(value) : value, this.origin, this.scale, this.lastCell);
  }

  /** Number of edges in the cell of value that are ≤ value, plus the edges of earlier cells. */
  private searchCell(cell: number, value: number): number {
    const edges = this.edges;
    let low = this.cellStarts[cell]!;
    let high = this.cellStarts[cell + 1]!;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle]! <= value) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Number of edges ≤ value: the bin of value (see the module comment). */
  bin(value: number): number {
    return this.searchCell(this.cellOf(value), value);
  }

  /**
   * Bins values[0 … length) (never NaN) into `counts`, which holds the size + 1 bins shifted by
   * one: counts[0] is scratch, bin b is counts[b + 1]. Sets extremes to [sum of the values,
   * min(extremes[1], values), max(extremes[2], values)], so one pass does all of it.
   */
  count(values: Float64Array, length: number, counts: Float64Array, extremes: Float64Array): void {
    if (crowdedPositions.length <= length) crowdedPositions = new Int32Array(length + 1);
    const positions = crowdedPositions;
    const cellBins = this.cellBins;
    const cellEdges = this.cellEdges;
    const origin = this.origin;
    const scale = this.scale;
    const lastCell = this.lastCell;
    const crowded = this.keyed
      ? binKeyed(values, length, counts, extremes, cellBins, cellEdges, origin, scale, lastCell, positions)
      : binLinear(values, length, counts, extremes, cellBins, cellEdges, origin, scale, lastCell, positions);
    for (let k = 0; k < crowded; k++) {
      const value = values[positions[k]!]!;
      counts[this.searchCell(this.cellOf(value), value) + 1]!++;
    }
    counts[0] = 0;
  }
}

// The two hot loops of EdgeIndex.count, identical but for the grid coordinate, free of
// data-dependent branches but for min and max: a crowded cell's bin is the scratch slot 0, and
// its position is written unconditionally and kept by advancing the cursor. Plain functions with
// every input a parameter: V8 compiles them faster than the same loop in a method.

function binLinear(
  values: Float64Array,
  length: number,
  counts: Float64Array,
  extremes: Float64Array,
  cellBins: Int32Array,
  cellEdges: Float64Array,
  origin: number,
  scale: number,
  lastCell: number,
  positions: Int32Array,
): number {
  let crowded = 0;
  let sum = 0;
  let min = extremes[1]!;
  let max = extremes[2]!;
  for (let i = 0; i < length; i++) {
    const value = values[i]!;
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
    let cell = (value - origin) * scale;
    cell = cell > 0 ? (cell < lastCell ? cell | 0 : lastCell) : 0;
    const bin = cellBins[cell]!;
    counts[bin + (value >= cellEdges[cell]! ? 1 : 0)]!++;
    positions[crowded] = i;
    crowded += (bin - 1) >>> 31;
  }
  extremes[0] = sum;
  extremes[1] = min;
  extremes[2] = max;
  return crowded;
}

function binKeyed(
  values: Float64Array,
  length: number,
  counts: Float64Array,
  extremes: Float64Array,
  cellBins: Int32Array,
  cellEdges: Float64Array,
  origin: number,
  scale: number,
  lastCell: number,
  positions: Int32Array,
): number {
  const words = new Int32Array(values.buffer, values.byteOffset, length * 2);
  let crowded = 0;
  let sum = 0;
  let min = extremes[1]!;
  let max = extremes[2]!;
  for (let i = 0; i < length; i++) {
    const value = values[i]!;
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
    let cell = (magnitudeKey(words[2 * i + 1]!) - origin) * scale;
    cell = cell > 0 ? (cell < lastCell ? cell | 0 : lastCell) : 0;
    const bin = cellBins[cell]!;
    counts[bin + (value >= cellEdges[cell]! ? 1 : 0)]!++;
    positions[crowded] = i;
    crowded += (bin - 1) >>> 31;
  }
  extremes[0] = sum;
  extremes[1] = min;
  extremes[2] = max;
  return crowded;
}

/**
 * Edges from a sorted sample: every distinct value when there are at most `maxEdges` (each
 * value then has its own bin and the binned CDF is exact), otherwise the i/maxEdges quantiles
 * never repeated (a heavy value becomes one edge, its mass sits at the edge where the CDF is
 * known, and the next edge is the next larger value).
 */
export function quantileEdges(sorted: Float64Array, maxEdges = MAX_HISTOGRAM_EDGES): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const distinct: number[] = [];
  for (let i = 0; i < n && distinct.length <= maxEdges; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  }
  if (distinct.length <= maxEdges) return distinct;
  const edges: number[] = [];
  let next = 0;
  for (let i = 0; i < maxEdges; i++) {
    // After a heavy value, the next edge is the next larger value, so the mass above it still gets fine bins.
    let index = Math.max(Math.floor((i * n) / maxEdges), next);
    if (edges.length > 0) {
      const last = edges[edges.length - 1]!;
      if (index < n && sorted[index]! <= last) index = binIndex(sorted, last);
    }
    if (index >= n) break;
    edges.push(sorted[index]!);
    next = index + 1;
  }
  return edges;
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
  private readonly edgeIndex: EdgeIndex | undefined;
  private retained: Float64Array | undefined;
  private retainedLength = 0;
  /** [sum, min, max] of the batch being added. */
  private readonly extremes = new Float64Array(3);

  constructor(private readonly edges?: readonly number[]) {
    if (edges) {
      // Shifted by one for EdgeIndex.count: bin b is counts[b + 1].
      this.counts = new Float64Array(edges.length + 2);
      this.edgeIndex = new EdgeIndex(edges);
    } else {
      this.retained = new Float64Array(1024);
    }
  }

  /** Adds `length` cells; only cells whose state is CELL_VALUE enter the statistics. */
  addBatch(values: Float64Array, states: Uint8Array, length: number): void {
    // Batches without nulls or invalid cells (the usual case) are used in place; others are first
    // compacted to their values, so the hot loops below never look at states.
    let first = 0;
    while (first < length && states[first] === CELL_VALUE) first++;
    let count = length;
    if (first < length) {
      count = this.compact(values, states, length, first);
      values = compacted;
    }
    const extremes = this.extremes;
    extremes[1] = this.min;
    extremes[2] = this.max;
    if (this.edgeIndex) {
      this.edgeIndex.count(values, count, this.counts!, extremes);
    } else {
      let sum = 0;
      let min = this.min;
      let max = this.max;
      for (let i = 0; i < count; i++) {
        const value = values[i]!;
        sum += value;
        if (value < min) min = value;
        if (value > max) max = value;
      }
      extremes[0] = sum;
      extremes[1] = min;
      extremes[2] = max;
    }
    this.min = extremes[1]!;
    this.max = extremes[2]!;
    if (count === 0) return;
    // Sum then squared deviations from the batch mean (two passes, stable), merged by Chan's formula.
    const mean = extremes[0]! / count;
    let m2 = 0;
    for (let i = 0; i < count; i++) {
      const deviation = values[i]! - mean;
      m2 += deviation * deviation;
    }
    this.moments = mergeMoments(this.moments, { count, mean, m2 });
    if (!this.edgeIndex) this.retain(values, count);
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
    let histogram: NumericHistogram;
    if (this.counts) {
      histogram = { edges: [...this.edges!], counts: Array.from(this.counts.subarray(1)) };
    } else {
      const sorted = this.retained!.subarray(0, this.retainedLength).sort();
      const edges = quantileEdges(sorted, maxEdges);
      const counts = new Array<number>(edges.length + 1).fill(0);
      // Sorted values fall into consecutive bins: one linear walk instead of a search per value.
      let bin = 0;
      for (const value of sorted) {
        while (bin < edges.length && edges[bin]! <= value) bin++;
        counts[bin]!++;
      }
      histogram = { edges, counts };
      this.retained = undefined;
    }
    const empty = this.moments.count === 0;
    return {
      kind: 'numeric',
      count: this.moments.count,
      nulls: this.nulls,
      invalid: this.invalid,
      min: empty ? null : this.min + 0,
      max: empty ? null : this.max + 0,
      moments: { ...this.moments, mean: this.moments.mean + 0 },
      histogram,
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
  return {
    kind: 'numeric',
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    invalid: a.invalid + b.invalid,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    moments: mergeMoments(a.moments, b.moments),
    histogram: { edges: [...edgesA], counts: a.histogram.counts.map((count, index) => count + b.histogram.counts[index]!) },
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

/** Column kinds the profiler distinguishes, derived from the dataset schema's column types. */
export type ProfileKind = 'numeric' | 'categorical';

export interface ProfiledColumn {
  readonly name: string;
  readonly kind: ProfileKind;
}

/** Profiles plain in-memory values; the readers feed the column profilers directly instead. */
export function profileValues(
  columns: readonly (ProfiledColumn & { values: readonly (number | string | null)[] })[],
  reference?: DatasetProfile,
): DatasetProfile {
  const rowCount = columns[0]?.values.length ?? 0;
  const result: Record<string, ColumnProfile> = {};
  for (const column of columns) {
    const states = new Uint8Array(column.values.length);
    if (column.kind === 'numeric') {
      const referenceColumn = reference?.columns[column.name];
      const profiler = new NumericColumnProfiler(referenceColumn?.kind === 'numeric' ? referenceColumn.histogram.edges : undefined);
      const values = new Float64Array(column.values.length);
      column.values.forEach((value, index) => {
        if (value === null) states[index] = CELL_NULL;
        else if (typeof value !== 'number' || !Number.isFinite(value)) states[index] = CELL_INVALID;
        else values[index] = value;
      });
      profiler.addBatch(values, states, values.length);
      result[column.name] = profiler.finish();
    } else {
      const dictionary: string[] = [];
      const codesByValue = new Map<string, number>();
      const codes = new Int32Array(column.values.length);
      column.values.forEach((value, index) => {
        if (value === null) {
          states[index] = CELL_NULL;
          return;
        }
        const text = String(value);
        let code = codesByValue.get(text);
        if (code === undefined) {
          code = dictionary.push(text) - 1;
          codesByValue.set(text, code);
        }
        codes[index] = code;
      });
      const profiler = new CategoricalColumnProfiler();
      profiler.addBatch(codes, states, codes.length);
      result[column.name] = profiler.finish(dictionary);
    }
  }
  return { formatVersion: PROFILE_FORMAT_VERSION, rowCount, columns: result };
}

// Serialization: edges travel as base64 of little-endian float64 (exact, and 11 bytes per edge
// instead of up to 24 as JSON text), which keeps a 3072-edge column under 64 KB.

function encodeEdges(edges: readonly number[]): string {
  return Buffer.from(new Float64Array(edges).buffer).toString('base64');
}

function decodeEdges(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 8 !== 0) throw new ValidationError('profile histogram edges are not a whole number of float64 values');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const edges: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += 8) edges.push(view.getFloat64(offset, true));
  return edges;
}

const count = z.number().int().min(0);
const momentsSchema = z.object({ count, mean: z.number(), m2: z.number().min(0) });
const serializedColumnSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('numeric'),
    count,
    nulls: count,
    invalid: count,
    min: z.number().nullable(),
    max: z.number().nullable(),
    moments: momentsSchema,
    histogram: z.object({ edges: z.base64(), counts: z.array(count) }),
  }),
  z.object({
    kind: z.literal('categorical'),
    count,
    nulls: count,
    invalid: count,
    categories: z.array(z.tuple([z.string(), count])),
    otherCount: count,
  }),
]);
const serializedProfileSchema = z.object({
  formatVersion: z.literal(PROFILE_FORMAT_VERSION),
  rowCount: count,
  columns: z.record(z.string(), serializedColumnSchema),
});

export function serializeProfile(profile: DatasetProfile): string {
  const columns: Record<string, unknown> = {};
  for (const [name, column] of Object.entries(profile.columns)) {
    columns[name] =
      column.kind === 'numeric'
        ? { ...column, histogram: { edges: encodeEdges(column.histogram.edges), counts: column.histogram.counts } }
        : column;
  }
  return JSON.stringify({ ...profile, columns });
}

/** Parses a stored profile; throws ValidationError naming the first problem. */
export function parseProfile(text: string): DatasetProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`profile is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = serializedProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ValidationError(`profile is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const columns: Record<string, ColumnProfile> = {};
  for (const [name, column] of Object.entries(parsed.data.columns)) {
    if (column.kind === 'numeric') {
      const edges = decodeEdges(column.histogram.edges);
      if (column.histogram.counts.length !== edges.length + 1) {
        throw new ValidationError(`profile column "${name}" has ${column.histogram.counts.length} bin counts for ${edges.length} edges`);
      }
      columns[name] = { ...column, histogram: { edges, counts: column.histogram.counts } };
    } else {
      columns[name] = column;
    }
  }
  return { formatVersion: PROFILE_FORMAT_VERSION, rowCount: parsed.data.rowCount, columns };
}

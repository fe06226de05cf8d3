/**
 * Binning numeric values into a profile's histogram: the bin of a value (`binIndex`, a binary
 * search, and `EdgeIndex`, a grid lookup that is exact and near one comparison per value) and the
 * quantile edges a reference profile derives from its sorted values.
 */
import { binAnchor } from './bin-means';
import { MAX_HISTOGRAM_EDGES } from './profile';
import { type TailTracker, tailRanks } from './tail-values';

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
 * edge or one, so a value's bin is its cell's start plus one comparison with that cell's edge
 * (NaN when there is none), with no branch; values in crowded cells (two or more edges) are set
 * aside and binary-searched over their cell's edges after the batch.
 *
 * The grid spans either the values themselves (linear) or the sign-magnitude of their float64
 * high words, a key ordered like the values whose cells are spaced logarithmically (heavy tails:
 * Pareto, log-normal). With quantile edges each edge stands for the same mass, so the share of
 * edges in crowded cells is the share of values off the fast path: the first grid to leave at
 * most 1% of them crowded is used. Where neither does (Pareto(1.5)'s dense low end crowds 10% of
 * its values), cells of two edges join the fast path with a second comparison (0.3% left).
 * One edge per cell otherwise: a grid is 12 bytes a cell, not 20, and validate-data and
 * check-drift bin every column of a batch in turn, each column's grid fetched afresh.
 */
/** Grid cells per edge: 8 × 3072 cells of 12 bytes stay in the L2 cache. */
const CELLS_PER_EDGE = 8;
/** A bound on grid memory (20 MB) for profiles with unusually many edges. */
const MAX_CELLS = 1 << 20;
/** Share of edges in crowded cells a one-edge grid may leave before cells of two edges are admitted. */
const CROWDED_SHARE = 0.01;
/** The second-edge table of a one-edge grid: `cell & 0` reads this NaN for every cell. */
const NO_SECOND_EDGES = new Float64Array([Number.NaN]);

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
  /** Edges lying in cells with two or more edges, and with three or more. */
  crowded: number;
  crowdedPairs: number;
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
  let crowdedPairs = 0;
  for (let cell = 1; cell < cellStarts.length; cell++) {
    if (cellStarts[cell]! > 1) crowded += cellStarts[cell]!;
    if (cellStarts[cell]! > 2) crowdedPairs += cellStarts[cell]!;
    cellStarts[cell]! += cellStarts[cell - 1]!;
  }
  return { origin, scale, lastCell, cellStarts, crowded, crowdedPairs };
}

/** Values binned between two looks at the tails' bounds. */
const CHUNK = 4096;
// Scratch shared by every profiler: batches are added synchronously, one at a time, so one
// buffer serves all columns (and memory does not grow with the number of columns).
/** Positions of the values set aside during EdgeIndex.count (in crowded cells, or beyond the tails' bounds), one chunk's worth. */
const setAside = new Int32Array(CHUNK);

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
  /** Per cell: 1 + its start when it holds at most `edgesPerCell` edges, else 0 (crowded). */
  private readonly cellBins: Int32Array;
  /** Per cell: its first edge, else NaN (compares false with everything). */
  private readonly cellEdges: Float64Array;
  /** Per cell: its second edge, else NaN; NO_SECOND_EDGES for one-edge grids. */
  private readonly secondEdges: Float64Array;
  /** −1 (all bits) when cells hold two edges, 0 when one: the loops read secondEdges[cell & secondMask]. */
  private readonly secondMask: number;
  /** binAnchor of bin b at b + 1 (slot 0 is the crowded values' scratch), shifted like `counts`. */
  private readonly anchors: Float64Array;

  constructor(edges: readonly number[]) {
    const count = edges.length;
    this.size = count;
    this.edges = Float64Array.from(edges);
    this.anchors = Float64Array.from({ length: count + 2 }, (_, slot) => (slot === 0 ? 0 : binAnchor(edges, slot - 1)));
    const cells = Math.min(MAX_CELLS, Math.max(1, CELLS_PER_EDGE * count));
    const allowed = CROWDED_SHARE * count;
    let grid = buildGrid(this.edges, cells);
    let keyed = false;
    let pairs = false;
    if (grid.crowded > allowed && LITTLE_ENDIAN) {
      const keyGrid = buildGrid(Float64Array.from(edges, valueKey), cells);
      if (keyGrid.crowded <= allowed) {
        grid = keyGrid;
        keyed = true;
      } else {
        pairs = true;
        if (keyGrid.crowdedPairs < grid.crowdedPairs) {
          grid = keyGrid;
          keyed = true;
        }
      }
    }
    this.keyed = keyed;
    this.origin = grid.origin;
    this.scale = grid.scale;
    this.lastCell = grid.lastCell;
    this.cellStarts = grid.cellStarts;
    this.cellBins = new Int32Array(grid.lastCell + 1);
    this.cellEdges = new Float64Array(grid.lastCell + 1).fill(Number.NaN);
    this.secondEdges = pairs ? new Float64Array(grid.lastCell + 1).fill(Number.NaN) : NO_SECOND_EDGES;
    this.secondMask = pairs ? -1 : 0;
    const edgesPerCell = pairs ? 2 : 1;
    for (let cell = 0; cell <= grid.lastCell; cell++) {
      const start = grid.cellStarts[cell]!;
      const end = grid.cellStarts[cell + 1]!;
      if (end - start > edgesPerCell) continue;
      this.cellBins[cell] = start + 1;
      if (end > start) this.cellEdges[cell] = this.edges[start]!;
      if (end - start === 2) this.secondEdges[cell] = this.edges[start + 1]!;
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
   * Bins values[0 … length) (never NaN) in one pass, near one comparison per value:
   * - `counts` holds the size + 1 bins shifted by one (counts[0] is scratch, bin b is
   *   counts[b + 1]); `offsetSums`, shifted alike, gains each value's offset from its bin's anchor
   *   (bin-means.ts);
   * - `sums` = [center, Σ (value − center), Σ (value − center)²]: the center is read, the two sums
   *   are written (the batch's moments, see NumericColumnProfiler.addBatch);
   * - values beyond the tails' bounds are offered to `tails`. The batch goes in chunks, so the
   *   bounds, set when a chunk starts, tighten early in a column's first batch.
   */
  count(
    values: Float64Array,
    length: number,
    counts: Float64Array,
    offsetSums: Float64Array,
    sums: Float64Array,
    tails: TailTracker,
  ): void {
    const positions = setAside;
    const cellBins = this.cellBins;
    const cellEdges = this.cellEdges;
    const secondEdges = this.secondEdges;
    const secondMask = this.secondMask;
    const origin = this.origin;
    const scale = this.scale;
    const lastCell = this.lastCell;
    const anchors = this.anchors;
    const words = this.keyed ? new Int32Array(values.buffer, values.byteOffset, length * 2) : undefined;
    const center = sums[0]!;
    let shifted = 0;
    let squares = 0;
    for (let from = 0; from < length; from += CHUNK) {
      const to = Math.min(length, from + CHUNK);
      const low = tails.lowBound;
      const high = tails.highBound;
      const aside = words
        ? binKeyed(
            values,
            words,
            from,
            to,
            counts,
            offsetSums,
            anchors,
            sums,
            low,
            high,
            cellBins,
            cellEdges,
            secondEdges,
            secondMask,
            origin,
            scale,
            lastCell,
            positions,
          )
        : binLinear(
            values,
            from,
            to,
            counts,
            offsetSums,
            anchors,
            sums,
            low,
            high,
            cellBins,
            cellEdges,
            secondEdges,
            secondMask,
            origin,
            scale,
            lastCell,
            positions,
          );
      shifted += sums[1]!;
      squares += sums[2]!;
      for (let k = 0; k < aside; k++) {
        const value = values[positions[k]!]!;
        const cell = this.cellOf(value);
        if (cellBins[cell] === 0) {
          const slot = this.searchCell(cell, value) + 1;
          counts[slot]!++;
          offsetSums[slot]! += value - anchors[slot]!;
        }
        if (value < tails.lowBound || value > tails.highBound) tails.offer(value);
      }
    }
    sums[0] = center;
    sums[1] = shifted;
    sums[2] = squares;
    counts[0] = 0;
    offsetSums[0] = 0;
  }
}

// The two hot loops of EdgeIndex.count, identical but for the grid coordinate, and free of
// data-dependent branches: a crowded cell's bin is the scratch slot 0; each comparison with the
// cell's edges (its second one NaN in one-edge grids) is taken as a number (`+(a >= b)`, which V8 compiles without a branch, where
// `a >= b ? 1 : 0` costs a misprediction on every other value); a value set aside has its position
// written unconditionally and kept by advancing the cursor. Plain functions with every input a
// parameter: V8 compiles them faster than the same loop in a method. Each writes the chunk's
// Σ (value − center) and Σ (value − center)² to sums[1] and sums[2].

function binLinear(
  values: Float64Array,
  from: number,
  to: number,
  counts: Float64Array,
  offsetSums: Float64Array,
  anchors: Float64Array,
  sums: Float64Array,
  low: number,
  high: number,
  cellBins: Int32Array,
  cellEdges: Float64Array,
  secondEdges: Float64Array,
  secondMask: number,
  origin: number,
  scale: number,
  lastCell: number,
  positions: Int32Array,
): number {
  const center = sums[0]!;
  let aside = 0;
  let shifted = 0;
  let squares = 0;
  for (let i = from; i < to; i++) {
    const value = values[i]!;
    const deviation = value - center;
    shifted += deviation;
    squares += deviation * deviation;
    let cell = (value - origin) * scale;
    cell = cell > 0 ? (cell < lastCell ? cell | 0 : lastCell) : 0;
    const bin = cellBins[cell]!;
    const slot = bin + +(value >= cellEdges[cell]!) + +(value >= secondEdges[cell & secondMask]!);
    counts[slot]!++;
    offsetSums[slot]! += value - anchors[slot]!;
    positions[aside] = i;
    aside += ((bin - 1) >>> 31) | +(value < low) | +(value > high);
  }
  sums[1] = shifted;
  sums[2] = squares;
  return aside;
}

/** binLinear on magnitude keys: `words` views `values` as int32 pairs, the high word second (little-endian). */
function binKeyed(
  values: Float64Array,
  words: Int32Array,
  from: number,
  to: number,
  counts: Float64Array,
  offsetSums: Float64Array,
  anchors: Float64Array,
  sums: Float64Array,
  low: number,
  high: number,
  cellBins: Int32Array,
  cellEdges: Float64Array,
  secondEdges: Float64Array,
  secondMask: number,
  origin: number,
  scale: number,
  lastCell: number,
  positions: Int32Array,
): number {
  const center = sums[0]!;
  let aside = 0;
  let shifted = 0;
  let squares = 0;
  for (let i = from; i < to; i++) {
    const value = values[i]!;
    const deviation = value - center;
    shifted += deviation;
    squares += deviation * deviation;
    let cell = (magnitudeKey(words[2 * i + 1]!) - origin) * scale;
    cell = cell > 0 ? (cell < lastCell ? cell | 0 : lastCell) : 0;
    const bin = cellBins[cell]!;
    const slot = bin + +(value >= cellEdges[cell]!) + +(value >= secondEdges[cell & secondMask]!);
    counts[slot]!++;
    offsetSums[slot]! += value - anchors[slot]!;
    positions[aside] = i;
    aside += ((bin - 1) >>> 31) | +(value < low) | +(value > high);
  }
  sums[1] = shifted;
  sums[2] = squares;
  return aside;
}

/**
 * Edges from a sorted sample: every distinct value when there are at most `maxEdges` (each
 * value then has its own bin and the binned CDF is exact), otherwise quantiles never repeated (a
 * heavy value becomes one edge, its mass sits at the edge where the CDF is known, and the next
 * edge is the next larger value): the minimum, the tail refinement's ranks (`tailRanks`) and
 * evenly spaced ranks of the bulk between them, maxEdges in all.
 */
export function quantileEdges(sorted: Float64Array, maxEdges = MAX_HISTOGRAM_EDGES): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const distinct: number[] = [];
  for (let i = 0; i < n && distinct.length <= maxEdges; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  }
  if (distinct.length <= maxEdges) return distinct;
  const ranks = edgeRanks(n, maxEdges);
  const edges: number[] = [];
  let next = 0;
  for (const rank of ranks) {
    // After a heavy value, the next edge is the next larger value, so the mass above it still gets fine bins.
    let index = Math.max(rank, next);
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

/** Ranks of the edges: 0, the low tail's, the bulk's (i/maxEdges quantiles without tails), the high tail's. */
function edgeRanks(count: number, maxEdges: number): number[] {
  const tail = tailRanks(count, maxEdges);
  if (tail.length === 0) return Array.from({ length: maxEdges }, (_, i) => Math.floor((i * count) / maxEdges));
  const low = tail.slice(0, tail.length / 2);
  const high = tail.slice(tail.length / 2);
  const from = low[low.length - 1]!;
  const span = high[0]! - from;
  const bulk = maxEdges - 1 - tail.length;
  const middle = Array.from({ length: bulk }, (_, i) => from + Math.floor(((i + 1) * span) / (bulk + 1)));
  return [0, ...low, ...middle, ...high];
}

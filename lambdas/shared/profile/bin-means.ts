/**
 * The mean of each histogram bin's values. With it the integral of a profile's CDF over every bin
 * is known (∫ F dx over [a, b) = F(a)(b − a) + (count/n)(b − mean)), which makes a Wasserstein
 * distance between two profiles exact wherever their CDFs do not cross inside a bin, instead of
 * guessing each bin's spread from its edges.
 *
 * A mean is kept as a level, 0 … MEAN_LEVELS, of the span its bin's values can occupy (the bin's
 * edges, closed by the profile's own min and max): 12 bits, written as two base64 digits, 6 KB
 * for 3073 bins, which keeps a column under 64 KB. Levels are what the profile holds, so storing
 * is exact; a merge recomputes each mean from the parts' and snaps it to a level again, which
 * moves it by at most half a level (1/8190 of the span).
 */
import { ValidationError } from '../errors';

/** Levels of a stored mean across its bin's span (12 bits). */
export const MEAN_LEVELS = 4095;
const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT_VALUES = new Map([...DIGITS].map((digit, value) => [digit, value]));

/** What a profile's bin means depend on besides the levels. */
export interface BinnedColumn {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly min: number | null;
  readonly max: number | null;
}

/**
 * The value each bin's offsets are taken from while summing (the bin's lower edge; the first
 * edge for the open bin below it), so sums stay accurate when values are large next to bin widths.
 */
export function binAnchor(edges: ArrayLike<number>, bin: number): number {
  if (edges.length === 0) return 0;
  return edges[bin === 0 ? 0 : bin - 1]!;
}

/** The interval a bin's values can occupy: its edges, within the profile's [min, max]. */
export function binSpan(edges: readonly number[], bin: number, min: number, max: number): [number, number] {
  const low = binLow(edges, bin, min);
  return [low, binHigh(edges, bin, max, low)];
}

/** binSpan's lower end, without allocating (the per-bin loops below run over 3073 bins). */
function binLow(edges: readonly number[], bin: number, min: number): number {
  return bin === 0 ? min : Math.max(edges[bin - 1]!, min);
}

/** binSpan's upper end, given its lower end. */
function binHigh(edges: readonly number[], bin: number, max: number, low: number): number {
  return Math.max(low, bin === edges.length ? max : Math.min(edges[bin]!, max));
}

// Spans are halved before subtracting so that even ±1e308 endpoints give a finite width.
function levelOf(low: number, high: number, mean: number): number {
  const half = high / 2 - low / 2;
  if (!(half > 0)) return 0;
  return Math.round(Math.min(1, Math.max(0, (mean / 2 - low / 2) / half)) * MEAN_LEVELS);
}

function valueOfLevel(low: number, high: number, level: number): number {
  const offset = (high / 2 - low / 2) * (level / MEAN_LEVELS);
  const doubled = 2 * offset;
  // Past ±1.8e308 the doubled half-span overflows (a bin from -1e308 to 1e308 at its top levels):
  // adding the half twice stays within [low, high]. Elsewhere the same expression as always, so
  // every stored profile reads back the same means.
  return Number.isFinite(doubled) ? low + doubled : low + offset + offset;
}

function levelsOfMeans(column: BinnedColumn, means: (bin: number) => number): number[] {
  const { edges, counts, min, max } = column;
  const levels = new Array<number>(counts.length).fill(0);
  if (min === null || max === null) return levels;
  for (let bin = 0; bin < counts.length; bin++) {
    if (counts[bin] === 0) continue;
    const low = binLow(edges, bin, min);
    levels[bin] = levelOf(low, binHigh(edges, bin, max, low), means(bin));
  }
  return levels;
}

/** Mean levels from per-bin sums of the values' offsets from `binAnchor`. */
export function meanLevelsFromOffsets(column: BinnedColumn, offsetSums: ArrayLike<number>): number[] {
  return levelsOfMeans(column, (bin) => binAnchor(column.edges, bin) + offsetSums[bin]! / column.counts[bin]!);
}

/** Each bin's mean (its span's low end for an empty bin; 0 for an empty profile). */
export function binMeans(column: BinnedColumn, levels: readonly number[]): number[] {
  const { edges, counts, min, max } = column;
  const means = new Array<number>(counts.length).fill(0);
  if (min === null || max === null) return means;
  for (let bin = 0; bin < counts.length; bin++) {
    const low = binLow(edges, bin, min);
    means[bin] = valueOfLevel(low, binHigh(edges, bin, max, low), levels[bin]!);
  }
  return means;
}

/** The mean levels of the union of two profiles on the same edges; `merged` has the union's counts and extremes. */
export function mergeMeanLevels(
  merged: BinnedColumn,
  a: BinnedColumn & { readonly meanLevels: readonly number[] },
  b: BinnedColumn & { readonly meanLevels: readonly number[] },
): number[] {
  const meansA = binMeans(a, a.meanLevels);
  const meansB = binMeans(b, b.meanLevels);
  return levelsOfMeans(merged, (bin) => {
    // Weighted around the bin's anchor: exact enough when values dwarf the bin's width.
    const anchor = binAnchor(merged.edges, bin);
    const offset = a.counts[bin]! * (meansA[bin]! - anchor) + b.counts[bin]! * (meansB[bin]! - anchor);
    return anchor + offset / merged.counts[bin]!;
  });
}

export function encodeMeanLevels(levels: readonly number[]): string {
  let text = '';
  for (const level of levels) text += DIGITS[level >> 6]! + DIGITS[level & 63]!;
  return text;
}

export function decodeMeanLevels(text: string, bins: number, name: string): number[] {
  if (text.length !== 2 * bins) {
    throw new ValidationError(`profile column "${name}" has ${text.length / 2} bin means for ${bins} bins`, { column: name });
  }
  return Array.from({ length: bins }, (_, bin) => {
    const high = DIGIT_VALUES.get(text[2 * bin]!);
    const low = DIGIT_VALUES.get(text[2 * bin + 1]!);
    if (high === undefined || low === undefined) {
      throw new ValidationError(`profile column "${name}" has a bin mean that is not two base64 digits`, { column: name });
    }
    return high * 64 + low;
  });
}

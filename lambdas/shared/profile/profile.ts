/**
 * The dataset profile: per column counts, nulls, min/max, mergeable moments (Chan et al.'s
 * parallel variance), a histogram over fixed quantile edges and categorical counts. Pure code
 * (no AWS): validate-data writes profiles, check-drift compares two of them without re-reading
 * data, and shard profiles merge into one with `mergeProfiles` (associative and commutative).
 *
 * Histogram layout: with edges e[0] < … < e[K-1], `counts` has K + 1 bins; bin 0 is (-∞, e[0]),
 * bin i is [e[i-1], e[i]), bin K is [e[K-1], +∞). The CDF is therefore known exactly at every
 * edge, and a reference profile (edges from its own quantiles) has an empty bin 0. Current data
 * is binned with the reference's edges through EdgeIndex (edge-index.ts, a grid lookup, exact),
 * never sorted. This file holds the types and the moments; profilers.ts builds and merges
 * profiles, codec.ts stores them.
 */
import type { TailValues } from './tail-values';

export const PROFILE_FORMAT_VERSION = 1;

/**
 * Quantile edges per numeric column. With ≤ 1/2838 of the reference mass per bin (the tail
 * refinement takes up to 234 edges at a billion rows, tail-values.ts), the KS statistic read from
 * the binned CDFs is within 3.5e-4 of the exact two-sample statistic (the error is bounded by the
 * largest bin mass), under the 5e-4 the drift check needs at n = 1M; and 3072 float64 edges
 * (base64), counts, bin means and tails serialize to about 61 KB at a billion rows, under 64 KB.
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
  /** Per bin, the mean of its values as a level of the bin's span (bin-means.ts); absent in profiles written before. */
  meanLevels?: number[];
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
  /** The column's smallest and largest values, exactly (tail-values.ts); absent in profiles written before. */
  tails?: TailValues;
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

/** Column kinds the profiler distinguishes, derived from the dataset schema's column types. */
export type ProfileKind = 'numeric' | 'categorical';

export interface ProfiledColumn {
  readonly name: string;
  readonly kind: ProfileKind;
}

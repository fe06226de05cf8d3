/**
 * Drift statistics between two profiles of one column, each a pure function of the profiles
 * (never of raw data): PSI, two-sample Kolmogorov–Smirnov, Jensen–Shannon distance,
 * Wasserstein-1 and, for categoricals, the chi-square test of homogeneity.
 *
 * Numeric columns share the reference's quantile edges (the current window is binned with them),
 * so the fine histograms give the KS statistic to within the largest bin mass (≤ 1/3028 of the
 * reference), its p-value as scipy's ks_2samp (ks-two-sample.ts), and W1 from the bins' means and
 * the columns' extremes (wasserstein.ts). PSI and JS are computed over PSI_BINS groups of equal
 * reference mass (deciles), as PSI is conventionally defined: over 3072 bins a window of a
 * thousand values would leave most bins empty and both statistics would report noise as drift.
 *
 * Every divergence also gets a p-value under "same distribution": for multinomial samples of
 * n and m values over B bins, N·PSI and 8·N·JS² ln 2 (JS divergence in nats) are asymptotically
 * χ²(B − 1) with N = nm/(n + m). The verdict uses it so that a small window cannot raise an
 * alarm on sampling noise alone (at n = 100 the expected PSI of identical distributions is ≈ 0.09).
 */
import { ValidationError } from '../shared/errors';
import type { CategoricalColumnProfile, NumericColumnProfile } from '../shared/profile/profile';
import { chiSquareSurvival } from './distributions';
import { ksTwoSamplePValue } from './ks-two-sample';
import { wassersteinDistance } from './wasserstein';

export { wassersteinDistance };

/** Groups of equal reference mass for PSI and JS. */
export const PSI_BINS = 10;
/** Proportion substituted for an empty bin in PSI, so a category unseen in the reference gives a finite, large PSI. */
export const PSI_EPSILON = 1e-4;

/** Effective sample size of a two-sample comparison. */
export function effectiveSampleSize(n: number, m: number): number {
  return n > 0 && m > 0 ? (n * m) / (n + m) : 0;
}

/**
 * Population stability index Σ (q − p) ln(q / p) over bin counts; empty bins count as
 * PSI_EPSILON. Symmetric in its arguments, 0 for identical proportions.
 */
export function populationStabilityIndex(reference: readonly number[], current: readonly number[], epsilon = PSI_EPSILON): number {
  const referenceTotal = sum(reference);
  const currentTotal = sum(current);
  if (referenceTotal === 0 || currentTotal === 0) return 0;
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = Math.max(reference[i]! / referenceTotal, epsilon);
    const q = Math.max(current[i]! / currentTotal, epsilon);
    if (p !== q) psi += (q - p) * Math.log(q / p);
  }
  return psi;
}

/** Jensen–Shannon distance: the square root of the base-2 JS divergence, in [0, 1]. */
export function jensenShannonDistance(reference: readonly number[], current: readonly number[]): number {
  const referenceTotal = sum(reference);
  const currentTotal = sum(current);
  if (referenceTotal === 0 || currentTotal === 0) return 0;
  let divergence = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = reference[i]! / referenceTotal;
    const q = current[i]! / currentTotal;
    const middle = (p + q) / 2;
    if (p > 0) divergence += 0.5 * p * Math.log2(p / middle);
    if (q > 0) divergence += 0.5 * q * Math.log2(q / middle);
  }
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

/** P-value of a PSI over `bins` bins: N·PSI ~ χ²(bins − 1) when both samples come from one distribution. */
export function psiPValue(psi: number, n: number, m: number, bins: number): number {
  return chiSquareSurvival(effectiveSampleSize(n, m) * psi, bins - 1);
}

/** P-value of a JS distance over `bins` bins: 8·N·JSD (nats) ~ χ²(bins − 1). */
export function jsPValue(distance: number, n: number, m: number, bins: number): number {
  return chiSquareSurvival(8 * effectiveSampleSize(n, m) * distance * distance * Math.LN2, bins - 1);
}

/**
 * Merges consecutive fine bins into at most `bins` groups of about equal reference mass (a
 * heavy value can fill several deciles, giving fewer groups). Both count vectors use the groups.
 */
export function groupBins(
  reference: readonly number[],
  current: readonly number[],
  bins = PSI_BINS,
): { reference: number[]; current: number[] } {
  const total = sum(reference);
  const groupedReference: number[] = [];
  const groupedCurrent: number[] = [];
  let referenceMass = 0;
  let currentMass = 0;
  let cumulative = 0;
  let nextBoundary = 1;
  for (let i = 0; i < reference.length; i++) {
    referenceMass += reference[i]!;
    currentMass += current[i]!;
    cumulative += reference[i]!;
    if (nextBoundary < bins && cumulative >= (nextBoundary * total) / bins && referenceMass > 0) {
      groupedReference.push(referenceMass);
      groupedCurrent.push(currentMass);
      referenceMass = 0;
      currentMass = 0;
      while (nextBoundary < bins && cumulative >= (nextBoundary * total) / bins) nextBoundary++;
    }
  }
  if (referenceMass > 0 || currentMass > 0 || groupedReference.length === 0) {
    if (referenceMass === 0 && groupedReference.length > 0) {
      // Current mass past the last reference value belongs to the top group.
      groupedCurrent[groupedCurrent.length - 1]! += currentMass;
    } else {
      groupedReference.push(referenceMass);
      groupedCurrent.push(currentMass);
    }
  }
  return { reference: groupedReference, current: groupedCurrent };
}

/**
 * Two-sample KS statistic from binned counts over shared edges: the largest CDF difference at a
 * bin boundary. Against the exact statistic of the raw samples it errs by at most the largest
 * bin mass of either sample (the CDFs are known exactly at every edge and monotone in between).
 * `compareNumeric` adds the samples' extremes, where the CDFs are also known exactly.
 */
export function ksStatistic(reference: readonly number[], current: readonly number[]): number {
  const referenceTotal = sum(reference);
  const currentTotal = sum(current);
  if (referenceTotal === 0 || currentTotal === 0) return 0;
  let referenceCumulative = 0;
  let currentCumulative = 0;
  let largest = 0;
  for (let i = 0; i < reference.length - 1; i++) {
    referenceCumulative += reference[i]!;
    currentCumulative += current[i]!;
    const difference = Math.abs(referenceCumulative / referenceTotal - currentCumulative / currentTotal);
    if (difference > largest) largest = difference;
  }
  return largest;
}

export interface ChiSquareTest {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
}

/**
 * Pearson's chi-square test of homogeneity on the 2 × k table of two count vectors, as scipy's
 * chi2_contingency(table) computes it: categories empty in both samples are left out (scipy
 * refuses a zero expected count, and they carry no information), and with one degree of freedom
 * each observed count moves half a unit toward its expected count, never past it (Yates'
 * continuity correction, scipy's default).
 */
export function chiSquareTest(reference: readonly number[], current: readonly number[]): ChiSquareTest {
  const referenceTotal = sum(reference);
  const currentTotal = sum(current);
  const total = referenceTotal + currentTotal;
  let categories = 0;
  if (referenceTotal > 0 && currentTotal > 0) {
    for (let i = 0; i < reference.length; i++) if (reference[i]! + current[i]! > 0) categories++;
  }
  const degreesOfFreedom = Math.max(0, categories - 1);
  if (degreesOfFreedom === 0) return { statistic: 0, degreesOfFreedom, pValue: 1 };
  const correction = degreesOfFreedom === 1 ? 0.5 : 0;
  const term = (observed: number, expected: number) => {
    const difference = expected - observed;
    const corrected = observed + Math.sign(difference) * Math.min(correction, Math.abs(difference));
    return (corrected - expected) ** 2 / expected;
  };
  let statistic = 0;
  for (let i = 0; i < reference.length; i++) {
    const column = reference[i]! + current[i]!;
    if (column === 0) continue;
    statistic += term(reference[i]!, (referenceTotal * column) / total) + term(current[i]!, (currentTotal * column) / total);
  }
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom) };
}

export interface NumericComparison {
  readonly kind: 'numeric';
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly psi: number;
  readonly psiPValue: number;
  readonly ks: number;
  readonly ksPValue: number;
  readonly js: number;
  readonly jsPValue: number;
  readonly wasserstein: number;
  /** Groups PSI and JS were computed over. */
  readonly bins: number;
}

export interface CategoricalComparison {
  readonly kind: 'categorical';
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly psi: number;
  readonly psiPValue: number;
  readonly js: number;
  readonly jsPValue: number;
  readonly chiSquare: number;
  readonly chiSquarePValue: number;
  readonly degreesOfFreedom: number;
  /** Current categories the reference never saw (only when the reference tracked all of its own), most frequent first. */
  readonly newCategories: { value: string; count: number }[];
  readonly bins: number;
}

export type ColumnComparison = NumericComparison | CategoricalComparison;

function sameEdges(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((edge, index) => edge === b[index]);
}

export function compareNumeric(name: string, reference: NumericColumnProfile, current: NumericColumnProfile): NumericComparison {
  if (!sameEdges(reference.histogram.edges, current.histogram.edges)) {
    throw new ValidationError(
      `column "${name}": the current profile was not binned on the reference profile's edges (${current.histogram.edges.length} vs ${reference.histogram.edges.length}); profile the window with the reference profile`,
      { column: name },
    );
  }
  const referenceCounts = reference.histogram.counts;
  const currentCounts = current.histogram.counts;
  const n = sum(referenceCounts);
  const m = sum(currentCounts);
  const grouped = groupBins(referenceCounts, currentCounts);
  const psi = populationStabilityIndex(grouped.reference, grouped.current);
  const js = jensenShannonDistance(grouped.reference, grouped.current);
  const ks = Math.max(ksStatistic(referenceCounts, currentCounts), extremesDifference(reference, current));
  return {
    kind: 'numeric',
    referenceCount: n,
    currentCount: m,
    psi,
    psiPValue: psiPValue(psi, n, m, grouped.reference.length),
    ks,
    ksPValue: ksTwoSamplePValue(ks, n, m),
    js,
    jsPValue: jsPValue(js, n, m, grouped.reference.length),
    wasserstein: wassersteinDistance(reference, current),
    bins: grouped.reference.length,
  };
}

/** CDF value where the profile alone fixes it: 0 below its minimum, 1 from its maximum on. */
function cdfOutsideRange(profile: NumericColumnProfile, x: number, left: boolean): number | undefined {
  if (profile.min === null || profile.max === null) return undefined;
  if (left ? x <= profile.min : x < profile.min) return 0;
  if (left ? x > profile.max : x >= profile.max) return 1;
  return undefined;
}

/**
 * The largest CDF difference at the two samples' minima and maxima where both CDFs are known
 * there: it catches a shift beyond the reference's last edge that the bins alone cannot see (a
 * constant column whose constant moves has all its mass in one bin on both sides).
 */
function extremesDifference(reference: NumericColumnProfile, current: NumericColumnProfile): number {
  let largest = 0;
  for (const x of [reference.min, reference.max, current.min, current.max]) {
    if (x === null) continue;
    for (const left of [true, false]) {
      const a = cdfOutsideRange(reference, x, left);
      const b = cdfOutsideRange(current, x, left);
      if (a !== undefined && b !== undefined) largest = Math.max(largest, Math.abs(a - b));
    }
  }
  return largest;
}

const OTHER = '\u0000other';

export function compareCategorical(reference: CategoricalColumnProfile, current: CategoricalColumnProfile): CategoricalComparison {
  const referenceCounts = new Map<string, number>(reference.categories);
  // A reference that folded rare values into "other" cannot tell a new category from a rare one.
  const referenceIsComplete = reference.otherCount === 0;
  const currentCounts = new Map<string, number>();
  const newCategories: { value: string; count: number }[] = [];
  let currentOther = current.otherCount;
  for (const [value, count] of current.categories) {
    if (referenceCounts.has(value)) currentCounts.set(value, count);
    else if (referenceIsComplete) {
      currentCounts.set(value, count);
      newCategories.push({ value, count });
    } else currentOther += count;
  }
  const keys = [...referenceCounts.keys(), ...newCategories.map((category) => category.value), OTHER];
  const referenceVector = keys.map((key) => (key === OTHER ? reference.otherCount : (referenceCounts.get(key) ?? 0)));
  const currentVector = keys.map((key) => (key === OTHER ? currentOther : (currentCounts.get(key) ?? 0)));
  // Bins empty in both samples carry no information (and would inflate the degrees of freedom).
  const used = keys.map((_, index) => referenceVector[index]! + currentVector[index]! > 0);
  const referenceUsed = referenceVector.filter((_, index) => used[index]);
  const currentUsed = currentVector.filter((_, index) => used[index]);
  const n = sum(referenceUsed);
  const m = sum(currentUsed);
  const psi = populationStabilityIndex(referenceUsed, currentUsed);
  const js = jensenShannonDistance(referenceUsed, currentUsed);
  const test = chiSquareTest(referenceUsed, currentUsed);
  return {
    kind: 'categorical',
    referenceCount: n,
    currentCount: m,
    psi,
    psiPValue: psiPValue(psi, n, m, referenceUsed.length),
    js,
    jsPValue: jsPValue(js, n, m, referenceUsed.length),
    chiSquare: test.statistic,
    chiSquarePValue: test.pValue,
    degreesOfFreedom: test.degreesOfFreedom,
    newCategories,
    bins: referenceUsed.length,
  };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
}

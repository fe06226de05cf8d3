/**
 * The p-value of the two-sample Kolmogorov–Smirnov statistic as scipy 1.10 computes it:
 * `scipy.stats.ks_2samp(a, b, alternative='two-sided', method='auto').pvalue`, given the
 * statistic d and the sample sizes. Under "same continuous distribution" the statistic's law
 * depends on n and m only, so the profiles' d and counts are all it needs.
 *
 * - Both samples of at most MAX_EXACT_SIZE values: the exact permutation distribution, counting
 *   lattice paths from (0, 0) to (n, m) that leave the band |x/n − y/m| < d (Hodges 1958), with
 *   d first rounded to the lattice, h/lcm(n, m). Equal sizes have Gnedenko and Korolyuk's closed
 *   form; others take Viehmann's (2021) recursion for the proportion of paths that leave.
 * - Otherwise, or when the exact value comes out of [0, 1]: the one-sample distribution at the
 *   effective size, kstwo.sf(d, round(nm/(n + m))) (`kstwo.ts`).
 */
import { kolmogorovSmirnovSurvival } from './kstwo';

/** scipy's MAX_AUTO_N: 'auto' computes exactly when neither sample is larger. */
export const MAX_EXACT_SIZE = 10_000;

/**
 * Above this many recursion cells (the band's width times the longer sample), the exact
 * unequal-size computation first evaluates the p-value at a smaller statistic d′ whose band
 * fits; P(D ≥ d) is non-increasing in d, so when that value is below TINY_P_VALUE it bounds
 * P(D ≥ d) and is returned (a p-value that small is reported as that bound). At n, m ≤ 10⁴ the
 * budget reaches d′ ≥ √(35/N), where P(D ≥ d′) is near 2e^(−70) ≈ 10⁻³⁰.
 */
const CELL_BUDGET = 20_000_000;
const TINY_P_VALUE = 1e-20;

/** P(D_{n,m} ≥ d) for the two-sided two-sample KS statistic, as ks_2samp reports it. */
export function ksTwoSamplePValue(d: number, n: number, m: number): number {
  if (!(n > 0 && m > 0) || Number.isNaN(d)) return 1;
  let statistic = d;
  if (Math.max(n, m) <= MAX_EXACT_SIZE) {
    const divisor = greatestCommonDivisor(n, m);
    const lcm = (n / divisor) * m;
    const h = roundHalfToEven(d * lcm);
    statistic = h / lcm;
    if (h === 0) return 1;
    const p = n === m ? outsideSquareProbability(n, h) : outsideBandProbability(n, m, divisor, h);
    if (p >= 0 && p <= 1) return p;
    // Like scipy: an exact value outside [0, 1] (rounding at the extremes) falls back to asymp.
  }
  const effective = (Math.max(n, m) * Math.min(n, m)) / (Math.max(n, m) + Math.min(n, m));
  return kolmogorovSmirnovSurvival(statistic, roundHalfToEven(effective));
}

/**
 * Equal sizes, D ≥ h/n: 2 Σ_k (−1)^(k−1) C(2n, n − kh)/C(2n, n), each ratio a product of h
 * factors, nested Horner-style to avoid cancellation (scipy's _compute_prob_outside_square).
 */
function outsideSquareProbability(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

/**
 * Unequal sizes: the proportion of monotone lattice paths from (0, 0) to (n, m) that touch
 * |x/n − y/m| ≥ h/lcm, column by column over a sliding window of the band (Viehmann's form of
 * Hodges' inside method: each cell holds the share of paths into it that have already left).
 * Large bands are first bounded at a narrower one (see CELL_BUDGET).
 */
function outsideBandProbability(n: number, m: number, divisor: number, h: number): number {
  const longer = Math.max(n, m);
  const shorter = Math.min(n, m);
  const longerOverDivisor = longer / divisor;
  const cells = longer * Math.min(shorter + 1, (2 * h) / longerOverDivisor + 1);
  if (cells > CELL_BUDGET) {
    // Half-width h′/(longer/divisor) of the band in rows, fitted to the budget.
    const narrower = Math.floor(((CELL_BUDGET / longer - 1) * longerOverDivisor) / 2);
    if (narrower > 0 && narrower < h) {
      const bound = outsideBandRecursion(longer, shorter, divisor, narrower);
      if (bound < TINY_P_VALUE) return bound;
    }
  }
  return outsideBandRecursion(longer, shorter, divisor, h);
}

/**
 * scipy's _compute_outer_prob_inside_method (longer ≥ shorter): the same recursion over the
 * cells (x, y) inside the band, A(x, y) = (x A(x − 1, y) + y A(x, y − 1)) / (x + y) with every
 * cell outside it 1 and A(0, 0) = 0, evaluated along anti-diagonals x + y = s instead of columns.
 * A diagonal's cells depend only on the previous diagonal, so the loop carries no dependency
 * from one cell to the next and its one division is shared: several times faster than the
 * column order, and equal to it up to rounding (the combination is convex, errors do not grow).
 */
function outsideBandRecursion(longer: number, shorter: number, divisor: number, h: number): number {
  const mg = longer / divisor;
  const ng = shorter / divisor;
  const slope = mg + ng;
  // previous[x] holds A(x, s − 1 − x); 1 marks a cell outside the band.
  let previous = new Float64Array(longer + 2).fill(1);
  let current = new Float64Array(longer + 2).fill(1);
  previous[0] = 0;
  for (let s = 1; s <= longer + shorter; s++) {
    // Inside the band: |ng·x − mg·y| < h with y = s − x, that is |slope·x − mg·s| < h.
    const low = Math.max(Math.floor((mg * s - h) / slope) + 1, s - shorter, 0);
    const high = Math.min(Math.ceil((mg * s + h) / slope) - 1, longer, s);
    if (low > high) return 1;
    const reciprocal = 1 / s;
    let x = low;
    if (x === 0) {
      current[0] = previous[0]!;
      x = 1;
    }
    for (; x <= high; x++) current[x] = (x * previous[x - 1]! + (s - x) * previous[x]!) * reciprocal;
    if (low > 0) current[low - 1] = 1;
    current[high + 1] = 1;
    [previous, current] = [current, previous];
  }
  return previous[longer]!;
}

function greatestCommonDivisor(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const difference = x - floor;
  if (difference < 0.5) return floor;
  if (difference > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

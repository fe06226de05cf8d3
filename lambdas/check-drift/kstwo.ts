/**
 * The exact distribution of the two-sided one-sample Kolmogorov–Smirnov statistic Dₙ for a
 * finite n, as scipy 1.10 computes its survival function (`scipy.stats.kstwo.sf(d, n)`, that is
 * `kolmogn(n, d, cdf=False)` in scipy/stats/_ksstats.py). `ks_2samp` uses it at
 * n = round(n₁n₂/(n₁ + n₂)) for samples too large for its exact computation.
 *
 * The method depends on n and d the way Simard and L'Ecuyer (2011) chose, as scipy does:
 * Ruben–Gambino's closed forms near both ends of the support, 2 × the one-sided tail where it
 * is exact (d ≥ ½) or accurate (large n·d²), Durbin's matrix method (Marsaglia–Tsang–Wang),
 * Pomeranz's recursion for n ≤ 140, and the Pelz–Good asymptotic series otherwise.
 */
import { smirnovSurvival } from './smirnov';

const SCALE_EXPONENT = 128;
const SCALE_UP = 2 ** SCALE_EXPONENT;
const SCALE_DOWN = 2 ** -SCALE_EXPONENT;
const SQRT_TWO_PI = Math.sqrt(2 * Math.PI);
const LOG_TWO_PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
/** B₂ⱼ / (2j (2j − 1)) for j = 8 … 1: Stirling's series, highest power first. */
const STIRLING_COEFFICIENTS = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];

/** P(Dₙ ≥ d): the p-value of a one-sample two-sided KS statistic d over n values. */
export function kolmogorovSmirnovSurvival(d: number, n: number): number {
  if (!(n >= 1 && Number.isInteger(n)) || Number.isNaN(d)) return Number.NaN;
  // The support is [1/(2n), 1]: scipy answers outside it without calling kolmogn.
  if (d <= 0.5 / n) return 1;
  if (d >= 1) return 0;
  const t = n * d;
  if (t <= 1) {
    // Ruben–Gambino: P(Dₙ ≤ d) = n!/nⁿ (2t − 1)ⁿ for 1/(2n) ≤ d ≤ 1/n.
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - d) ** n);
  if (d >= 0.5) return clip(2 * smirnovSurvival(n, d));
  const nd2 = t * d;
  if (n <= 140) {
    if (nd2 <= 0.754693) return clip(1 - durbinCdf(n, d));
    if (nd2 <= 4) return clip(1 - pomeranzCdf(n, d));
    return clip(2 * smirnovSurvival(n, d));
  }
  if (nd2 >= 370) return 0;
  if (nd2 >= 2.2) return clip(2 * smirnovSurvival(n, d));
  const cdf = n <= 100_000 && n * d ** 1.5 <= 1.4 ? durbinCdf(n, d) : pelzGoodCdf(n, d);
  return clip(1 - clip(cdf));
}

/** log(n!/nⁿ) by Stirling's series with n log n taken out first (no cancellation). */
function logFactorialOverPower(n: number): number {
  const reciprocal = 1 / n;
  const x = reciprocal / n;
  let series = 0;
  for (const coefficient of STIRLING_COEFFICIENTS) series = series * x + coefficient;
  return Math.log(n) / 2 - n + LOG_TWO_PI / 2 + reciprocal * series;
}

/** x · 2^exponent without overflowing or flushing to zero on the way. */
function scaleByPowerOfTwo(x: number, exponent: number): number {
  let result = x;
  let remaining = exponent;
  while (remaining > 1000) {
    result *= 2 ** 1000;
    remaining -= 1000;
  }
  while (remaining < -1000) {
    result *= 2 ** -1000;
    remaining += 1000;
  }
  return result * 2 ** remaining;
}

/** a · b for square matrices of order `size`, row-major. */
function multiply(a: Float64Array, b: Float64Array, size: number): Float64Array {
  const product = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    const row = i * size;
    for (let k = 0; k < size; k++) {
      const factor = a[row + k]!;
      if (factor === 0) continue;
      const other = k * size;
      for (let j = 0; j < size; j++) product[row + j]! += factor * b[other + j]!;
    }
  }
  return product;
}

/**
 * P(Dₙ ≤ d) by Durbin's matrix: with d = (k − h)/n, the k-th diagonal entry of Hⁿ times n!/nⁿ,
 * H of order 2k − 1 (Marsaglia, Tsang and Wang 2003), powers rescaled by 2¹²⁸ to stay finite.
 */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const size = 2 * k - 1;
  const first = new Float64Array(size);
  const inverseFactorials = new Float64Array(size);
  let factorial = 1;
  for (let j = 1; j <= size; j++) {
    first[j - 1] = 1 - h ** j;
    inverseFactorials[j - 1] = factorial;
    factorial /= j;
    first[j - 1]! *= factorial;
  }
  first[size - 1] = (1 + (Math.max(2 * h - 1, 0) ** size - 2 * h ** size)) * factorial;
  let matrix: Float64Array = new Float64Array(size * size);
  for (let column = 1; column < size; column++) {
    for (let row = column - 1; row < size; row++) matrix[row * size + column] = inverseFactorials[row - column + 1]!;
  }
  for (let row = 0; row < size; row++) matrix[row * size] = first[row]!;
  for (let column = 0; column < size; column++) matrix[(size - 1) * size + column] = first[size - 1 - column]!;

  let power: Float64Array = new Float64Array(size * size);
  for (let i = 0; i < size; i++) power[i * size + i] = 1;
  let exponent = 0;
  let matrixExponent = 0;
  const diagonal = (k - 1) * size + (k - 1);
  for (let remaining = n; remaining > 0; remaining = Math.floor(remaining / 2)) {
    if (remaining % 2 === 1) {
      power = multiply(power, matrix, size);
      exponent += matrixExponent;
    }
    matrix = multiply(matrix, matrix, size);
    matrixExponent *= 2;
    if (Math.abs(matrix[diagonal]!) > SCALE_UP) {
      for (let i = 0; i < matrix.length; i++) matrix[i]! /= SCALE_UP;
      matrixExponent += SCALE_EXPONENT;
    }
  }
  let p = power[diagonal]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < SCALE_DOWN) {
      p *= SCALE_UP;
      exponent -= SCALE_EXPONENT;
    }
  }
  return clip(exponent === 0 ? p : scaleByPowerOfTwo(p, exponent));
}

/** The non-zero window [j1, j2] of row i of Pomeranz's recursion. */
function pomeranzWindow(i: number, n: number, whole: number, ceilFraction: number, roundFraction: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -whole - ceilFraction - 1;
    j2 = whole + ceilFraction - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - whole - ceilFraction - 1;
        j2 = n + whole + ceilFraction - 1;
      } else {
        j1 = half - 1 - whole - roundFraction - 1;
        j2 = half + whole - 1 + ceilFraction - 1;
      }
    } else {
      j1 = half - 1 - whole - 1;
      j2 = half + whole + roundFraction - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/**
 * P(Dₙ ≤ d) by Pomeranz's recursion (1974): 2n + 1 rows, each the convolution of the last with
 * one of three truncated Poisson weight sequences; only a sliding window of each row is non-zero.
 */
function pomeranzCdf(n: number, d: number): number {
  const t = n * d;
  const whole = Math.floor(t);
  const fraction = t - whole;
  const g = Math.min(fraction, 1 - fraction);
  const ceilFraction = fraction > 0 ? 1 : 0;
  const roundFraction = fraction > 0.5 ? 1 : 0;
  const powers = 2 * (whole + 1);
  const gPower = new Float64Array(powers);
  const twoGPower = new Float64Array(powers);
  const oneMinusTwoGPower = new Float64Array(powers);
  gPower[0] = 1;
  twoGPower[0] = 1;
  oneMinusTwoGPower[0] = 1;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < powers; m++) {
    gPower[m] = (gPower[m - 1]! * gOverN) / m;
    twoGPower[m] = (twoGPower[m - 1]! * twoGOverN) / m;
    oneMinusTwoGPower[m] = (oneMinusTwoGPower[m - 1]! * oneMinusTwoGOverN) / m;
  }
  let previous = new Float64Array(powers);
  let current = new Float64Array(powers);
  current[0] = 1;
  let previousStart = 0;
  let currentStart = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzWindow(0, n, whole, ceilFraction, roundFraction);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [previous, current] = [current, previous];
    [previousStart, currentStart] = [currentStart, previousStart];
    current.fill(0);
    [j1, j2] = pomeranzWindow(i, n, whole, ceilFraction, roundFraction);
    const weights = i === 1 || i === 2 * n + 1 ? gPower : i % 2 === 1 ? twoGPower : oneMinusTwoGPower;
    const length = j2 - k1 + 1;
    if (length > 0) {
      // The full convolution of previous[k1 − start …][0, length) with weights[0, length),
      // read from index j1 − k1 for j2 − j1 + 1 entries.
      const offset = k1 - previousStart;
      const sourceLength = Math.min(length, powers - offset);
      const weightLength = Math.min(length, powers);
      const start = j1 - k1;
      const count = j2 - j1 + 1;
      let largest = 0;
      for (let q = 0; q < count; q++) {
        const index = start + q;
        let sum = 0;
        const low = Math.max(0, index - (weightLength - 1));
        const high = Math.min(index, sourceLength - 1);
        for (let s = low; s <= high; s++) sum += previous[offset + s]! * weights[index - s]!;
        current[q] = sum;
        if (sum > largest) largest = sum;
      }
      if (largest > 0 && largest < SCALE_DOWN) {
        for (let q = 0; q < count; q++) current[q]! *= SCALE_UP;
        exponent -= SCALE_EXPONENT;
      }
      currentStart = previousStart + j1 - k1;
    }
  }
  let answer = current[n - currentStart]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > SCALE_UP) {
      answer *= SCALE_DOWN;
      exponent += SCALE_EXPONENT;
    }
    answer *= m;
  }
  return clip(exponent === 0 ? answer : scaleByPowerOfTwo(answer, exponent));
}

/**
 * P(Dₙ ≤ d) by Pelz and Good (1976): Li-Chien and Korolyuk's expansion in powers of n^(−½),
 * each term rewritten through Jacobi's theta identity into sums that converge for small z = d√n.
 */
function pelzGoodCdf(n: number, d: number): number {
  if (d <= 0) return 0;
  if (d >= 1) return 1;
  const z = Math.sqrt(n) * d;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qLog = -PI_SQUARED / 8 / z2;
  if (qLog < MIN_LOG) return 0;
  let q = Math.exp(qLog);
  const k1a = -z2;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * z2)) / 16;
  const k3d = (PI_SIX * (5 - 30 * z2)) / 64;
  const k3c = (PI_FOUR * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI_SQUARED * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const terms = [0, 0, 0, 0];
  // Horner in q over the odd squares: Σ c(k) q^((2k−1)²).
  const maxK = Math.ceil((16 * z) / Math.PI);
  for (let k = maxK; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qPower = q ** (8 * k);
    const coefficients = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) terms[i] = terms[i]! * qPower + coefficients[i]!;
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i]! * q * SQRT_TWO_PI) / divisors[i]!;
  // The sums over all integers k in K₂ and K₃.
  q = Math.exp(-PI_SQUARED / 2 / z2);
  let k2Extra = 0;
  let k3Extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxK; k > 0; k--) {
    const k2 = k ** 2;
    const qPower = q ** k2;
    const kPi = Math.PI * k;
    k2Extra += k2 * qPower;
    k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * k2 * qPower;
  }
  terms[2]! += (k2Extra * PI_SQUARED * SQRT_TWO_PI) / (-36 * z3);
  terms[3]! += (k3Extra * PI_SQUARED * SQRT_TWO_PI) / (216 * z6);
  return terms[0]! + terms[1]! / Math.sqrt(n) + terms[2]! / n + terms[3]! / n ** 1.5;
}

function clip(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

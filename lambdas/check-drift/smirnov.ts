/**
 * The one-sided one-sample Kolmogorov–Smirnov distribution: P(D⁺ₙ ≥ x), what scipy calls
 * `scipy.special.smirnov(n, x)`. `kstwo.ts` needs it for the upper tail of the two-sided
 * statistic, where P(Dₙ ≥ x) = 2 P(D⁺ₙ ≥ x) once the two one-sided events cannot both happen.
 *
 * Same cases and cut-offs as scipy 1.10 (cephes `_smirnov3`): closed forms for x ≤ 1/n and
 * x ≥ 1 − 1/n, zero where the result underflows, Miller's approximation above n = 10⁶, and
 * otherwise the Smirnov–Birnbaum–Tingey sum of positive terms
 * x Σ_{v=0}^{⌊n(1−x)⌋} C(n, v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v), with scipy's early stop.
 * scipy evaluates the terms in double-double arithmetic; here each term is taken in logs with
 * Stirling's series split out of the binomial, so the O(n) parts cancel exactly on paper and
 * the term keeps about 13 significant digits up to n = 10⁶ in plain doubles. A long sum (a
 * thousand terms or more) whose terms form one smooth bump is their integral (`integratedSum`,
 * a few hundred terms evaluated instead of n); where that is not safe, its smooth part is taken
 * at every 16th term with Euler–Maclaurin corrections (`stridedSum`), else term by term.
 */

/** Above this n scipy switches to Miller's approximation. */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;
/** Terms summed one by one at least, and the multiple of nx beyond which the terms are smooth in v. */
const MIN_DIRECT_TERMS = 2000;
const SMOOTH_AFTER = 4;
/** The strided sum's step, and the fewest terms past the direct ones worth striding over. */
const STRIDE = 16;
const MIN_STRIDED_TERMS = 20_000;
/** cephes MINLOG: log of the smallest normal double. */
const MIN_LOG = -708.3964185322641;
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** log(k!) for k ≤ 17, where k! is an exact double. */
const LOG_FACTORIAL_SMALL: number[] = [];
for (let k = 0, factorial = 1; k <= 17; k++, factorial *= k) LOG_FACTORIAL_SMALL.push(Math.log(factorial));

/** Stirling's error δ(k) = log k! − (k log k − k + ½ log 2πk), for integers k ≥ 1. */
function stirlingError(k: number): number {
  if (k <= 17) return LOG_FACTORIAL_SMALL[k]! - (k * Math.log(k) - k + HALF_LOG_TWO_PI + 0.5 * Math.log(k));
  const inverseSquare = 1 / (k * k);
  return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - inverseSquare / 1188) * inverseSquare) * inverseSquare) * inverseSquare) / k;
}

/**
 * ⌊n·x⌋ and the fraction n·x − ⌊n·x⌋, exactly: the product is split into a double and its
 * rounding error (Dekker's two-product through Veltkamp splitting), as scipy does in
 * double-double, so x = k/n lands on k however n·x rounds.
 */
function floorOfProduct(n: number, x: number): { floor: number; fraction: number } {
  const high = n * x;
  const split = (value: number) => {
    const scaled = 134217729 * value; // 2^27 + 1
    const top = scaled - (scaled - value);
    return [top, value - top] as const;
  };
  const [nHigh, nLow] = split(n);
  const [xHigh, xLow] = split(x);
  const low = nHigh * xHigh - high + nHigh * xLow + nLow * xHigh + nLow * xLow;
  let floor = Math.floor(high);
  let fraction = high - floor + low;
  if (fraction < 0) {
    floor -= 1;
    fraction += 1;
  }
  if (fraction >= 1) {
    floor += 1;
    fraction -= 1;
  }
  return { floor, fraction };
}

/**
 * log of the term C(n, v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v), for 1 ≤ v < n(1 − x), given
 * nx = ⌊nx⌋ + fraction. Where 1 − x − v/n is small it is formed as (n − v − ⌊nx⌋ − fraction)/n,
 * exact to rounding, rather than by cancellation.
 */
function logTerm(n: number, v: number, nxFloor: number, fraction: number, logN: number, stirlingN: number): number {
  const rest = n - v;
  const nx = nxFloor + fraction;
  const ratio = nx / rest;
  const logRemaining = ratio < 0.5 ? Math.log1p(-ratio) : Math.log((rest - nxFloor - fraction) / rest);
  return (
    1.5 * logN -
    1.5 * Math.log(v) -
    0.5 * Math.log(rest) -
    HALF_LOG_TWO_PI +
    stirlingN -
    stirlingError(v) -
    stirlingError(rest) +
    (v - 1) * Math.log1p(nx / v) +
    rest * logRemaining
  );
}

/** P(D⁺ₙ ≥ x) for the one-sided one-sample KS statistic (scipy.special.smirnov). */
export function smirnovSurvival(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const { floor: nxFloor, fraction } = floorOfProduct(n, x);
  if (nxFloor === 0 || (nxFloor === 1 && fraction === 0)) {
    return clip(1 - x * Math.exp((n - 1) * Math.log1p(x)));
  }
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxFloor >= n - 1) return clip(Math.exp(n * Math.log1p(-x)));
  if (n > SMIRNOV_MAX_COMPUTE_N) return clip(Math.exp(-((6 * n * x + 1) ** 2) / 18 / n));
  // Terms v = 0 … n − ⌊nx⌋ − 1: the last one with 1 − x − v/n > 0.
  const terms = n - nxFloor;
  const logN = Math.log(n);
  const stirlingN = stirlingError(n);
  const term = (v: number) =>
    v === 0 ? Math.exp(-Math.log(x) + n * Math.log1p(-x)) : Math.exp(logTerm(n, v, nxFloor, fraction, logN, stirlingN));
  const smoothFrom = Math.ceil(SMOOTH_AFTER * n * x) + MIN_DIRECT_TERMS;
  if (terms >= MIN_INTEGRATED_TERMS) {
    const integral = integratedSum((v) => logTerm(n, v, nxFloor, fraction, logN, stirlingN), terms);
    if (integral !== undefined) return clip(x * (term(0) + integral));
  }
  if (terms - smoothFrom >= MIN_STRIDED_TERMS) {
    const sum = stridedSum(term, terms, smoothFrom);
    if (sum !== undefined) return clip(x * sum);
  }
  return clip(x * directSum(term, terms, n, 0, terms));
}

/** Terms from `from` up to scipy's stop (4 × remaining × term < ε × sum), or `to`. */
function directSum(term: (v: number) => number, terms: number, n: number, from: number, to: number): number {
  const half = Math.floor(n / 2);
  let sum = 0;
  for (let v = from; v < to; v++) {
    const value = term(v);
    sum += value;
    // scipy's stop: the remaining terms, each smaller, cannot move the sum.
    if (value !== 0) {
      if (4 * (terms - v) * value < Number.EPSILON * sum && v !== terms - 1 && v > 0) break;
    } else if (v > half) {
      break;
    }
  }
  return sum;
}

/**
 * Past `smoothFrom` (4nx + 2000) the terms are a smooth function of v (log-curvature about
 * (nx)²/v³, a scale of hundreds of steps or more), so their sum is the trapezoid rule at every
 * STRIDE-th term plus the Euler–Maclaurin corrections between step STRIDE and step 1 at its start:
 *   Σ_{v≥a} f(v) = STRIDE (f(a)/2 + Σ_{k≥1} f(a + k·STRIDE)) + f(a)/2 + (STRIDE² − 1)/12 f′(a) − (STRIDE⁴ − 1)/720 f‴(a),
 * the derivatives by finite differences of the exact terms around a. Against every term summed
 * one by one, over n from 22,500 to 10⁶ and n·x² from 2.2 to 370 (where kstwo calls it), the
 * largest relative difference is 3e-13, for a fifth of the time (a sixteenth of the terms).
 * Undefined when the strided terms have not died out before the last few, where the shape is
 * no longer smooth: the caller then sums every term.
 */
function stridedSum(term: (v: number) => number, terms: number, smoothFrom: number): number | undefined {
  let sum = 0;
  for (let v = 0; v < smoothFrom; v++) sum += term(v);
  const a = smoothFrom;
  const [before2, before1, at, after1, after2] = [term(a - 2), term(a - 1), term(a), term(a + 1), term(a + 2)];
  const first = (-after2 + 8 * after1 - 8 * before1 + before2) / 12;
  const third = (after2 - 2 * after1 + 2 * before1 - before2) / 2;
  let strided = at / 2;
  let previous = at;
  for (let v = a + STRIDE; v < terms - 4 * STRIDE; v += STRIDE) {
    const value = term(v);
    strided += value;
    // Falling, and all that is left cannot move the sum: stop, like scipy's rule per term.
    if (value < previous && 4 * (terms - v) * value < Number.EPSILON * (sum + STRIDE * strided)) {
      return sum + STRIDE * strided + at / 2 + ((STRIDE ** 2 - 1) / 12) * first - ((STRIDE ** 4 - 1) / 720) * third;
    }
    previous = value;
  }
  return undefined;
}

/** Terms this far below the largest (in natural log, e^−80 ≈ 2e−35 of it) are left out of the integral. */
const NEGLIGIBLE_LOG = 80;
/**
 * The integral stands for the sum only where the terms change on a scale of at least this many
 * steps at their peak: the sum over the integers then differs from the integral by aliasing,
 * about e^(−2π²·scale²), nothing in double precision.
 */
const MIN_SCALE = 8;
/** Sums shorter than this are summed term by term (the integral's own search costs a few hundred terms). */
const MIN_INTEGRATED_TERMS = 1000;
/** Where stirlingError switches from its table (integers) to its series (any real). */
const STIRLING_SERIES_FROM = 18;
/** A bound on the adaptive quadrature's intervals (a few dozen suffice). */
const MAX_INTERVALS = 4000;

// Gauss–Kronrod 7/15 on [−1, 1] (QUADPACK's qk15): the Kronrod nodes from the outside in, the
// last being 0; the Gauss nodes are every other one (indices 1, 3, 5, 7).
const KRONROD_NODES = [
  0.9914553711208126, 0.9491079123427585, 0.8648644233597691, 0.7415311855993945, 0.5860872354676911, 0.4058451513773972,
  0.20778495500789848, 0,
];
const KRONROD_WEIGHTS = [
  0.022935322010529224, 0.06309209262997856, 0.10479001032225019, 0.14065325971552592, 0.1690047266392679, 0.19035057806478542,
  0.20443294007529889, 0.20948214108472782,
];
const GAUSS_WEIGHTS = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189];
const GAUSS_CENTER_WEIGHT = 0.4179591836734694;

/**
 * Σ_{v=1}^{terms−1} e^(logTerm(v)) as the integral ∫ e^(logTerm(v)) dv of the terms' smooth
 * continuation (Stirling's series in v), or undefined where that is not safe. The terms form one
 * bump: their log is concave in v (its second difference is negative from v = 1 to the last
 * term, as measured over the n and x the strided sum serves), so the sum over the integers
 * equals the integral but for the Euler–Maclaurin end corrections, nothing where the terms have
 * died out e^−80 below their peak at both ends, and aliasing, nothing when the peak is MIN_SCALE
 * steps wide. Both are checked; where either fails the caller sums term by term. Adaptive
 * Gauss–Kronrod (7/15) takes a few hundred terms where the strided sum takes n/16: 10⁻¹³ relative
 * to it over n from 22,500 to 10⁶ and n·x² from 2.2 to 370, in a twentieth of the time.
 */
function integratedSum(logTermOf: (v: number) => number, terms: number): number | undefined {
  const first = 1;
  const last = terms - 1;
  // The peak, by ternary search over the integers (the log is concave).
  let low = first;
  let high = last;
  while (high - low > 2) {
    const third = Math.floor((high - low) / 3);
    if (logTermOf(low + third) < logTermOf(high - third)) low += third + 1;
    else high -= third;
  }
  let peak = low;
  for (let v = low + 1; v <= high; v++) if (logTermOf(v) > logTermOf(peak)) peak = v;
  if (peak - 1 < first || peak + 1 > last) return undefined;
  const top = logTermOf(peak);
  const curvature = logTermOf(peak + 1) - 2 * top + logTermOf(peak - 1);
  const scale = 1 / Math.sqrt(-curvature);
  if (!(scale >= MIN_SCALE)) return undefined;
  // Out from the peak, doubling the step, to where the terms are negligible. Stirling's series
  // (stirlingError) takes real arguments from 18 on, both v and n − v: the integral stays inside.
  const lowest = first + STIRLING_SERIES_FROM;
  const highest = last - STIRLING_SERIES_FROM;
  const edge = (direction: 1 | -1): number | undefined => {
    let step = scale;
    let v = peak;
    for (;;) {
      v += direction * step;
      step *= 2;
      if (v <= lowest || v >= highest) {
        const end = direction > 0 ? highest : lowest;
        return logTermOf(end) < top - NEGLIGIBLE_LOG ? end : undefined;
      }
      if (logTermOf(v) < top - NEGLIGIBLE_LOG) return v;
    }
  };
  const from = edge(-1);
  const to = edge(1);
  if (from === undefined || to === undefined) return undefined;
  const relative = (v: number) => Math.exp(logTermOf(v) - top);
  // Adaptive Gauss–Kronrod on the terms relative to the peak; an interval is kept once its
  // Kronrod and Gauss estimates agree to 10⁻¹⁵ of the peak's width (the integral is about 2.5 widths).
  const tolerance = 1e-15 * scale;
  const pending: number[] = [];
  const pieces = 16;
  for (let k = 0; k < pieces; k++) pending.push(from + ((to - from) * k) / pieces, from + ((to - from) * (k + 1)) / pieces);
  let integral = 0;
  let intervals = 0;
  const values = new Float64Array(15);
  while (pending.length > 0) {
    const b = pending.pop()!;
    const a = pending.pop()!;
    if (++intervals > MAX_INTERVALS) return undefined;
    const center = (a + b) / 2;
    const half = (b - a) / 2;
    for (let k = 0; k < 7; k++) {
      values[2 * k] = relative(center - half * KRONROD_NODES[k]!);
      values[2 * k + 1] = relative(center + half * KRONROD_NODES[k]!);
    }
    values[14] = relative(center);
    let kronrod = KRONROD_WEIGHTS[7]! * values[14]!;
    let gauss = GAUSS_CENTER_WEIGHT * values[14]!;
    for (let k = 0; k < 7; k++) {
      const pair = values[2 * k]! + values[2 * k + 1]!;
      kronrod += KRONROD_WEIGHTS[k]! * pair;
      if (k % 2 === 1) gauss += GAUSS_WEIGHTS[(k - 1) / 2]! * pair;
    }
    // QUADPACK's error estimate: the Gauss–Kronrod difference, scaled by the integrand's variation.
    const mean = kronrod / 2;
    let variation = KRONROD_WEIGHTS[7]! * Math.abs(values[14]! - mean);
    for (let k = 0; k < 7; k++) variation += KRONROD_WEIGHTS[k]! * (Math.abs(values[2 * k]! - mean) + Math.abs(values[2 * k + 1]! - mean));
    variation *= half;
    let error = Math.abs((kronrod - gauss) * half);
    if (variation > 0 && error > 0) error = variation * Math.min(1, ((200 * error) / variation) ** 1.5);
    if (error <= tolerance || half < 0.5) integral += kronrod * half;
    else pending.push(a, center, center, b);
  }
  const sum = Math.exp(top) * integral;
  return Number.isFinite(sum) ? sum : undefined;
}

function clip(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

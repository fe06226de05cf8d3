/**
 * Wasserstein-1 distance between two numeric profiles binned on the same edges:
 * W1 = ∫ |F(x) − G(x)| dx, summed bin by bin, from what the profiles keep (bin counts and means,
 * the extremes, min and max) and never from the raw values.
 *
 * Within a bin [a, b) both CDFs are known at the edges, and each bin mean gives the integral of
 * its CDF over the bin: ∫ F dx = F(a)(b − a) + (count/n)(b − mean). So I = ∫ (F − G) dx over the
 * bin is known, and wherever the edge values alone show that F − G cannot change sign inside
 * (F(a) ≥ G(b) or F(b) ≤ G(a)) the bin's share of W1 is exactly |I|. That settles almost every
 * bin when the distributions differ, and all but a few percent when they are the same.
 *
 * In the other bins the two CDFs may cross inside, and the share is estimated by its expectation:
 * each sample's values the profile keeps exactly (its TAIL_SIZE smallest and largest, which
 * cover the outermost bins) are placed where they are; the rest, r values with a known mean,
 * follow a mean shape across their span (a linear density where one fits the mean, else a power
 * law t^k or 1 − (1 − t)^k, k set by the mean) plus the sampling noise of r values around it, a
 * Brownian bridge conditioned on its area: variance (r/n²) τ(1 − τ)(1 − 3τ(1 − τ)) at CDF
 * fraction τ. E|F − G| is then a folded normal, integrated by Gauss–Legendre between the
 * breakpoints. The estimate's error is the crossing bins' share of the distance times their
 * noise, so the reference's edges refine its tails in 10% steps (tail-values.ts): in a heavy
 * tail each bin then holds a small share. Measured against the exact distance on the raw samples
 * (see the tests), over 30 to 40 seeds per family and size from 1,000 to 1,000,000 values, the
 * largest relative error is 0.17% (identical Pareto(1.5) and log-normal samples at 10⁶; RMS
 * 0.05%), 0.2% for identical Cauchy samples, 0.03% for normals.
 *
 * Profiles written before bin means and tails existed still compare: each bin's values are then
 * taken at its midpoint (at its lower edge, for a reference whose edges are its distinct values).
 */
import { binMeans, binSpan } from '../shared/profile/bin-means';
import { MAX_HISTOGRAM_EDGES, type NumericColumnProfile } from '../shared/profile/profile';

/** What the estimate reads from one profile. */
interface Sample {
  readonly total: number;
  readonly counts: readonly number[];
  /** Per bin, the mean of its values. */
  readonly means: readonly number[];
  readonly min: number;
  readonly max: number;
  /** Values known exactly (the tails, without double counting), ascending. */
  readonly known: readonly number[];
  /** Bounds of the values not in `known`. */
  readonly restLow: number;
  readonly restHigh: number;
}

function sampleOf(profile: NumericColumnProfile, reference: boolean): Sample | undefined {
  const { edges, counts, meanLevels } = profile.histogram;
  const { min, max } = profile;
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0 || min === null || max === null) return undefined;
  let means: number[];
  if (meanLevels) {
    means = binMeans({ edges, counts, min, max }, meanLevels);
  } else {
    // Distinct-value edges put each reference value at its bin's lower edge.
    const atLowerEdge = reference && edges.length < MAX_HISTOGRAM_EDGES;
    means = counts.map((_, bin) => {
      const [low, high] = binSpan(edges, bin, min, max);
      return atLowerEdge && bin > 0 ? low : (low + high) / 2;
    });
  }
  let known: number[] = [];
  let restLow = min;
  let restHigh = max;
  if (profile.tails) {
    const { lowest, highest } = profile.tails;
    const overlap = Math.max(0, lowest.length + highest.length - total);
    known = [...lowest, ...highest.slice(overlap)];
    if (known.length < total) {
      restLow = lowest[lowest.length - 1]!;
      restHigh = highest[0]!;
    }
  }
  return { total, counts, means, min, max, known, restLow, restHigh };
}

/** One sample inside one bin: its exactly known values, and the rest as a smooth CDF. */
interface BinPart {
  /** CDF at the bin's lower edge. */
  readonly start: number;
  readonly points: number[];
  /** 1/n: the CDF's step at each point. */
  readonly step: number;
  readonly rest?: {
    readonly low: number;
    readonly high: number;
    readonly mass: number;
    /** The mean shape: t − slope·t(1 − t) when power is 0, else t^power if rising, 1 − (1 − t)^power if not. */
    readonly slope: number;
    readonly power: number;
    readonly rising: boolean;
    /** Variance scale r/n² of the bridge. */
    readonly noise: number;
  };
}

function binPart(sample: Sample, bin: number, low: number, high: number, start: number, knownInBin: number[]): BinPart {
  const count = sample.counts[bin]!;
  const step = 1 / sample.total;
  const points = [...knownInBin];
  const restCount = count - points.length;
  if (restCount <= 0) return { start, points, step };
  const restLow = Math.max(low, sample.min, sample.restLow);
  const restHigh = Math.min(high, sample.max, sample.restHigh);
  let restSum = count * sample.means[bin]!;
  for (const point of points) restSum -= point;
  const mean = Math.min(restHigh, Math.max(restLow, restSum / restCount));
  const position = restHigh > restLow ? (mean - restLow) / (restHigh - restLow) : 0;
  if (restCount === 1 || !(position > 0 && position < 1)) {
    // One value, or all of them at one point: placed exactly where the mean says.
    for (let i = 0; i < restCount; i++) points.push(mean);
    points.sort((a, b) => a - b);
    return { start, points, step };
  }
  // A linear density where one fits the mean (position within [1/3, 2/3]), else a power law;
  // the two agree at the seams (t² and 1 − (1 − t)²).
  const linear = position >= 1 / 3 && position <= 2 / 3;
  const rising = position >= 0.5;
  return {
    start,
    points,
    step,
    rest: {
      low: restLow,
      high: restHigh,
      mass: restCount * step,
      slope: linear ? 6 * (position - 0.5) : 0,
      power: linear ? 0 : rising ? position / (1 - position) : (1 - position) / position,
      rising,
      noise: restCount * step * step,
    },
  };
}

// partAt's results (two numbers, returned without allocating in the innermost loop).
let partMean = 0;
let partVariance = 0;

/** Sets partMean and partVariance to a part's CDF at x, given how many of its points lie at or below x. */
function partAt(part: BinPart, x: number, pointsBelow: number): void {
  partMean = part.start + pointsBelow * part.step;
  partVariance = 0;
  const rest = part.rest;
  if (!rest || x <= rest.low) return;
  if (x >= rest.high) {
    partMean += rest.mass;
    return;
  }
  const t = (x - rest.low) / (rest.high - rest.low);
  const fraction = rest.power === 0 ? t - rest.slope * t * (1 - t) : rest.rising ? t ** rest.power : 1 - (1 - t) ** rest.power;
  const spread = fraction * (1 - fraction);
  partMean += rest.mass * fraction;
  partVariance = rest.noise * spread * (1 - 3 * spread);
}

/**
 * Breakpoints of a part: its points, its rest's span, and for a steep power shape the halvings
 * toward its steep end until t^k varies by at most a factor e over the last piece, which keeps
 * every piece smooth enough for 8-point Gauss–Legendre.
 */
function addBreakpoints(part: BinPart, into: number[]): void {
  for (const point of part.points) into.push(point);
  const rest = part.rest;
  if (!rest) return;
  into.push(rest.low, rest.high);
  const width = rest.high - rest.low;
  for (let gap = 0.5; gap * rest.power > 1; gap /= 2) into.push(rest.rising ? rest.high - gap * width : rest.low + gap * width);
}

// 8-point Gauss–Legendre on [0, 1].
const NODES = [
  0.019855071751231856, 0.10166676129318664, 0.2372337950418355, 0.4082826787521751, 0.5917173212478249, 0.7627662049581645,
  0.8983332387068134, 0.9801449282487681,
];
const WEIGHTS = [
  0.05061426814518813, 0.11119051722668724, 0.15685332293894363, 0.181341891689181, 0.181341891689181, 0.15685332293894363,
  0.11119051722668724, 0.05061426814518813,
];

/** Beyond this many standard deviations from zero, E|X| is |E X| to within e^(−32). */
const FAR = 8;

/** E|X| for X normal with this mean and standard deviation. */
function foldedNormalMean(mean: number, sd: number): number {
  if (!(Math.abs(mean) < FAR * sd)) return Math.abs(mean);
  const z = mean / sd;
  return sd * (z * errorFunction(z / Math.SQRT2) + Math.sqrt(2 / Math.PI) * Math.exp(-0.5 * z * z));
}

/** erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7, ample for an expectation). */
function errorFunction(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const value = 1 - poly * Math.exp(-x * x);
  return x < 0 ? -value : value;
}

const breakpoints: number[] = [];

/**
 * E ∫ |F − G| dx over one bin where the two CDFs may cross; `signed` is the exact ∫ (F − G) dx.
 * When the model keeps F − G many standard deviations from zero, on one side, at every node,
 * the bin's share is |signed| itself, exact and free of quadrature error.
 */
function crossingBinDistance(low: number, high: number, a: BinPart, b: BinPart, signed: number): number {
  breakpoints.length = 0;
  breakpoints.push(low, high);
  addBreakpoints(a, breakpoints);
  addBreakpoints(b, breakpoints);
  breakpoints.sort((x, y) => x - y);
  let distance = 0;
  let nearZero = false;
  let belowA = 0;
  let belowB = 0;
  let from = low;
  for (const to of breakpoints) {
    if (!(to > from) || to > high) continue;
    while (belowA < a.points.length && a.points[belowA]! <= from) belowA++;
    while (belowB < b.points.length && b.points[belowB]! <= from) belowB++;
    const width = to - from;
    if (!a.rest && !b.rest) {
      const difference = a.start + belowA * a.step - (b.start + belowB * b.step);
      if (difference * signed <= 0) nearZero = true;
      distance += width * Math.abs(difference);
    } else {
      let sum = 0;
      for (let k = 0; k < NODES.length; k++) {
        const x = from + NODES[k]! * width;
        partAt(a, x, belowA);
        const meanA = partMean;
        const varianceA = partVariance;
        partAt(b, x, belowB);
        const difference = meanA - partMean;
        const sd = Math.sqrt(varianceA + partVariance);
        if (difference * signed <= 0 || Math.abs(difference) < FAR * sd) nearZero = true;
        sum += WEIGHTS[k]! * foldedNormalMean(difference, sd);
      }
      distance += width * sum;
    }
    from = to;
  }
  // With no modelled values the pieces were exact; otherwise |signed| is, unless F − G came near zero.
  return nearZero || (!a.rest && !b.rest) ? distance : Math.abs(signed);
}

function binMean(sample: Sample, bin: number, low: number, high: number, exact: boolean, from: number, to: number): number {
  const count = sample.counts[bin]!;
  if (count === 0) return high;
  if (!exact) return Math.min(high, Math.max(low, sample.means[bin]!));
  let sum = 0;
  for (let i = from; i < to; i++) sum += sample.known[i]! - low;
  return low + sum / count;
}

function sameValues(a: readonly number[], fromA: number, toA: number, b: readonly number[], fromB: number, toB: number): boolean {
  if (toA - fromA !== toB - fromB) return false;
  for (let i = 0; i < toA - fromA; i++) if (a[fromA + i] !== b[fromB + i]) return false;
  return true;
}

/** Wasserstein-1 distance ∫ |F_ref − F_cur| dx between the distributions two profiles describe. */
export function wassersteinDistance(reference: NumericColumnProfile, current: NumericColumnProfile): number {
  const f = sampleOf(reference, true);
  const g = sampleOf(current, false);
  if (!f || !g) return 0;
  const edges = reference.histogram.edges;
  const lowest = Math.min(f.min, g.min);
  const highest = Math.max(f.max, g.max);
  let distance = 0;
  let cumulativeF = 0;
  let cumulativeG = 0;
  let knownF = 0;
  let knownG = 0;
  for (let bin = 0; bin <= edges.length; bin++) {
    const low = bin === 0 ? lowest : edges[bin - 1]!;
    const high = bin === edges.length ? highest : edges[bin]!;
    const countF = f.counts[bin]!;
    const countG = g.counts[bin]!;
    const startF = cumulativeF / f.total;
    const startG = cumulativeG / g.total;
    cumulativeF += countF;
    cumulativeG += countG;
    // The exactly known values in this bin ([low, high), open below bin 0 and above the last).
    const last = bin === edges.length;
    const fromF = knownF;
    const fromG = knownG;
    while (knownF < f.known.length && (last || f.known[knownF]! < high)) knownF++;
    while (knownG < g.known.length && (last || g.known[knownG]! < high)) knownG++;
    if (!(high > low) || countF + countG === 0) continue;
    const endF = cumulativeF / f.total;
    const endG = cumulativeG / g.total;
    const width = high - low;
    // A bin whose values all are among the tails is known exactly, finer than its stored mean.
    const exactF = knownF - fromF === countF;
    const exactG = knownG - fromG === countG;
    const meanF = binMean(f, bin, low, high, exactF, fromF, knownF);
    const meanG = binMean(g, bin, low, high, exactG, fromG, knownG);
    const signed = width * (startF - startG) + (countF / f.total) * (high - meanF) - (countG / g.total) * (high - meanG);
    if ((startF >= endG || endF <= startG) && !(exactF && exactG)) {
      distance += Math.abs(signed);
      continue;
    }
    // A bin the two profiles summarize identically is taken to hold the same values (a profile
    // compared with itself is at distance 0), rather than two samples that only agree at its edges.
    if (startF === startG && endF === endG && meanF === meanG && sameValues(f.known, fromF, knownF, g.known, fromG, knownG)) continue;
    distance += crossingBinDistance(
      low,
      high,
      binPart(f, bin, low, high, startF, f.known.slice(fromF, knownF)),
      binPart(g, bin, low, high, startG, g.known.slice(fromG, knownG)),
      signed,
    );
  }
  return distance;
}

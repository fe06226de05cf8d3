/**
 * Drift benchmark (issue 4): 20 numeric features (normal, log-normal and Pareto heavy tails, some
 * shifted or rescaled) plus 2 categorical ones, reference and current 1,000,000 rows each, in
 * memory. (a) ours: profile the current window with the precomputed reference profile's edges,
 * then PSI, KS (+ p-value), JS, W1 and chi-square from the two profiles; (b) peer: the
 * straightforward exact computation on the raw arrays, as scipy does it: sort both samples
 * (typed-array sort, V8's native one), two-sample KS and Wasserstein-1 over the merged order, PSI
 * and JS by re-binning the raw reference into deciles, chi-square from counted categories.
 * Prints both times, the ratio and the largest |KS ours − KS exact|. Last line: one JSON object.
 * Run: npx tsx bench/drift.ts [--rows N]
 */
import {
  chiSquareTest,
  compareCategorical,
  compareNumeric,
  jensenShannonDistance,
  populationStabilityIndex,
} from '../lambdas/check-drift/statistics';
import { serializeProfile } from '../lambdas/shared/profile/codec';
import { binIndex } from '../lambdas/shared/profile/edge-index';
import type { CategoricalColumnProfile, NumericColumnProfile } from '../lambdas/shared/profile/profile';
import { CategoricalColumnProfiler, NumericColumnProfiler } from '../lambdas/shared/profile/profilers';
import { exactKs, exactWasserstein, normalSampler, seededRandom } from '../testkit/samples';

const rowsArgument = process.argv.indexOf('--rows');
const ROWS = rowsArgument > 0 ? Number(process.argv[rowsArgument + 1]) : 1_000_000;
const NUMERIC_FEATURES = 20;
const CATEGORIES = ['basic', 'plus', 'pro', 'enterprise', 'trial', 'legacy'];

const random = seededRandom(2024);
const normal = normalSampler(random);

/** Reference and current generators per feature: a third normal, a third log-normal, the rest Pareto; every third one drifts. */
function generators(index: number): [() => number, () => number] {
  const drifts = index % 3 === 0;
  if (index < 7) return [() => 10 + 2 * normal(), drifts ? () => 10.2 + 2 * normal() : () => 10 + 2 * normal()];
  if (index < 14) return [() => Math.exp(normal()), drifts ? () => Math.exp(1.1 * normal()) : () => Math.exp(normal())];
  return [() => 1 / random() ** (1 / 1.5), drifts ? () => 1.05 / random() ** (1 / 1.5) : () => 1 / random() ** (1 / 1.5)];
}

function fill(count: number, draw: () => number): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = draw();
  return values;
}

function categoryCodes(count: number, weights: number[]): Int32Array {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const codes = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let draw = random() * total;
    let code = 0;
    while (draw >= weights[code]! && code < weights.length - 1) draw -= weights[code++]!;
    codes[i] = code;
  }
  return codes;
}

console.log(
  `generating ${NUMERIC_FEATURES} numeric + 2 categorical features, ${ROWS.toLocaleString()} rows each for reference and current`,
);
const numeric = Array.from({ length: NUMERIC_FEATURES }, (_, index) => {
  const [drawReference, drawCurrent] = generators(index);
  return { reference: fill(ROWS, drawReference), current: fill(ROWS, drawCurrent) };
});
const categorical = [
  { reference: categoryCodes(ROWS, [30, 25, 20, 15, 7, 3]), current: categoryCodes(ROWS, [30, 25, 20, 15, 7, 3]) },
  { reference: categoryCodes(ROWS, [30, 25, 20, 15, 7, 3]), current: categoryCodes(ROWS, [25, 25, 20, 15, 10, 5]) },
];
const states = new Uint8Array(ROWS); // every cell a value

// The reference profile is built once, when the training data is validated: not timed.
const referenceProfiles: NumericColumnProfile[] = numeric.map(({ reference }) => {
  const profiler = new NumericColumnProfiler();
  profiler.addBatch(reference, states, ROWS);
  return profiler.finish();
});
const referenceCategorical: CategoricalColumnProfile[] = categorical.map(({ reference }) => {
  const profiler = new CategoricalColumnProfiler();
  profiler.addBatch(reference, states, ROWS);
  return profiler.finish(CATEGORIES);
});
const serialized = serializeProfile({
  formatVersion: 1,
  rowCount: ROWS,
  columns: Object.fromEntries(referenceProfiles.map((profile, index) => [`x${index}`, profile])),
});
const profileKbPerColumn = Buffer.byteLength(serialized) / 1024 / NUMERIC_FEATURES;

function ours() {
  const numericResults = numeric.map(({ current }, index) => {
    const profiler = new NumericColumnProfiler(referenceProfiles[index]!.histogram.edges);
    profiler.addBatch(current, states, ROWS);
    return compareNumeric(`x${index}`, referenceProfiles[index]!, profiler.finish());
  });
  const categoricalResults = categorical.map(({ current }, index) => {
    const profiler = new CategoricalColumnProfiler();
    profiler.addBatch(current, states, ROWS);
    return compareCategorical(referenceCategorical[index]!, profiler.finish(CATEGORIES));
  });
  return { numericResults, categoricalResults };
}

/** Deciles of the sorted reference, then both samples re-binned by binary search. */
function decileCounts(sortedReference: Float64Array, sortedCurrent: Float64Array): [number[], number[]] {
  const edges = Array.from({ length: 9 }, (_, i) => sortedReference[Math.floor(((i + 1) * sortedReference.length) / 10)]!);
  const count = (sorted: Float64Array) => {
    const counts = new Array<number>(10).fill(0);
    for (const value of sorted) {
      counts[binIndex(edges, value)]!++;
    }
    return counts;
  };
  return [count(sortedReference), count(sortedCurrent)];
}

function peer() {
  const numericResults = numeric.map(({ reference, current }) => {
    const sortedReference = Float64Array.from(reference).sort();
    const sortedCurrent = Float64Array.from(current).sort();
    const [referenceDeciles, currentDeciles] = decileCounts(sortedReference, sortedCurrent);
    return {
      ks: exactKs(sortedReference, sortedCurrent),
      wasserstein: exactWasserstein(sortedReference, sortedCurrent),
      psi: populationStabilityIndex(referenceDeciles, currentDeciles),
      js: jensenShannonDistance(referenceDeciles, currentDeciles),
    };
  });
  const categoricalResults = categorical.map(({ reference, current }) => {
    const labels = (codes: Int32Array) => Array.from(codes, (code) => CATEGORIES[code]!);
    const countOf = (values: string[]) => {
      const counts = new Map<string, number>();
      for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
      return counts;
    };
    const referenceCounts = countOf(labels(reference));
    const currentCounts = countOf(labels(current));
    const keys = [...new Set([...referenceCounts.keys(), ...currentCounts.keys()])];
    return chiSquareTest(
      keys.map((key) => referenceCounts.get(key) ?? 0),
      keys.map((key) => currentCounts.get(key) ?? 0),
    );
  });
  return { numericResults, categoricalResults };
}

function timed<T>(work: () => T): { seconds: number; result: T } {
  const start = process.hrtime.bigint();
  const result = work();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, result };
}

ours(); // warm the JIT on the same code paths once
const oursRun = timed(ours);
const peerRun = timed(peer);
let maxKsError = 0;
let maxW1RelativeError = 0;
let maxDriftedW1RelativeError = 0;
oursRun.result.numericResults.forEach((result, index) => {
  const exact = peerRun.result.numericResults[index]!;
  maxKsError = Math.max(maxKsError, Math.abs(result.ks - exact.ks));
  const relative = Math.abs(result.wasserstein - exact.wasserstein) / exact.wasserstein;
  maxW1RelativeError = Math.max(maxW1RelativeError, relative);
  if (index % 3 === 0) maxDriftedW1RelativeError = Math.max(maxDriftedW1RelativeError, relative);
});
const drifted = oursRun.result.numericResults.filter((result) => result.ksPValue < 0.05 / NUMERIC_FEATURES).length;
console.log(`ours: profile current + PSI/KS/JS/W1/chi-square ${oursRun.seconds.toFixed(3)} s`);
console.log(`peer: sort + exact KS/W1 + re-binned PSI/JS + counted chi-square ${peerRun.seconds.toFixed(3)} s`);
console.log(`ratio ${(peerRun.seconds / oursRun.seconds).toFixed(1)}×; max |KS ours − exact| ${maxKsError.toExponential(2)}`);
console.log(
  `max W1 relative error ${maxW1RelativeError.toExponential(2)}; features with KS p < 0.05/20: ${drifted} (7 were made to drift)`,
);
console.log(
  `chi-square ours vs peer: ${oursRun.result.categoricalResults.map((result) => result.chiSquare.toFixed(2)).join(', ')} vs ${peerRun.result.categoricalResults.map((result) => result.statistic.toFixed(2)).join(', ')}`,
);
console.log(`reference profile: ${profileKbPerColumn.toFixed(1)} KB per numeric column`);
console.log(
  JSON.stringify({
    bench: 'drift',
    ours_s: Number(oursRun.seconds.toFixed(4)),
    peer_s: Number(peerRun.seconds.toFixed(4)),
    ratio: Number((peerRun.seconds / oursRun.seconds).toFixed(1)),
    max_ks_abs_err: Number(maxKsError.toExponential(3)),
    profile_kb_per_column: Number(profileKbPerColumn.toFixed(1)),
  }),
);

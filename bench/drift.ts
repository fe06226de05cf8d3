/**
 * Drift benchmark (issues 4 and 15), on two shapes: 1,000,000 rows × 20 numeric features (normal,
 * log-normal and Pareto heavy tails, every third shifted or rescaled) plus 2 categorical ones, and
 * 356,000 rows × 100 numeric features (the shape Evidently users report 23 minutes for); reference
 * and current the same size, in memory. Timed on each shape, in the same run:
 * (a) ours: profile the current window in 4096-row batches with the precomputed reference
 *     profile's edges, then PSI, KS (+ p-value), JS, W1 and chi-square from the two profiles;
 * (b) peer: the exact computation on the raw arrays, as scipy does it: sort both samples
 *     (typed-array sort, V8's native one), two-sample KS and Wasserstein-1 over the merged order,
 *     PSI and JS by re-binning the raw reference into deciles, chi-square from counted categories;
 * (c) scipy itself (bench/drift_scipy.py through Debian's /usr/bin/python3 with python3-scipy;
 *     skipped with a note when absent): ks_2samp, wasserstein_distance, numpy-histogram PSI and JS
 *     as Evidently computes them, chi2_contingency, on the same data.
 * Then (d) end to end on the first shape: check-drift over the current window as the predict
 * function captures it, JSON Lines in the local S3 (bench/drift-window.ts).
 * Prints the times, ratios and the largest differences from the exact and scipy values. Last
 * line: one JSON object.
 * Run: npx tsx bench/drift.ts [--rows N] [--wide-rows N] [--no-scipy] [--no-window]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CategoricalComparison,
  chiSquareTest,
  compareCategorical,
  compareNumeric,
  jensenShannonDistance,
  type NumericComparison,
  populationStabilityIndex,
} from '../lambdas/check-drift/statistics';
import { serializeProfile } from '../lambdas/shared/profile/codec';
import { binIndex } from '../lambdas/shared/profile/edge-index';
import type { CategoricalColumnProfile, DatasetProfile, NumericColumnProfile } from '../lambdas/shared/profile/profile';
import { CategoricalColumnProfiler, NumericColumnProfiler } from '../lambdas/shared/profile/profilers';
import { exactKs, exactWasserstein, normalSampler, seededRandom } from '../testkit/samples';
import { runCaptureWindow } from './drift-window';

const argument = (flag: string, fallback: number) => {
  const index = process.argv.indexOf(flag);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const ROWS = argument('--rows', 1_000_000);
const WIDE_ROWS = argument('--wide-rows', 356_000);
const RUN_SCIPY = !process.argv.includes('--no-scipy');
const RUN_WINDOW = !process.argv.includes('--no-window');
/** Debian's interpreter, where python3-scipy installs (the one first on PATH may lack it). */
const PYTHON = '/usr/bin/python3';
const SCIPY_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'drift_scipy.py');
/** Rows per batch, as check-drift's capture profiler feeds the column profilers. */
const BATCH_ROWS = 4096;
const CATEGORIES = ['basic', 'plus', 'pro', 'enterprise', 'trial', 'legacy'];

const random = seededRandom(2024);
const normal = normalSampler(random);

/** Reference and current generators of feature `index` (cycling over 20): a third normal, a third log-normal, the rest Pareto; every third drifts. */
function generators(index: number): [() => number, () => number] {
  const kind = index % 20;
  const drifts = kind % 3 === 0;
  if (kind < 7) return [() => 10 + 2 * normal(), drifts ? () => 10.2 + 2 * normal() : () => 10 + 2 * normal()];
  if (kind < 14) return [() => Math.exp(normal()), drifts ? () => Math.exp(1.1 * normal()) : () => Math.exp(normal())];
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

interface Shape {
  readonly label: string;
  readonly rows: number;
  readonly numeric: { reference: Float64Array; current: Float64Array }[];
  readonly categorical: { reference: Int32Array; current: Int32Array }[];
  /** Reference profiles, built once when the training data is validated: not timed. */
  readonly referenceNumeric: NumericColumnProfile[];
  readonly referenceCategorical: CategoricalColumnProfile[];
}

function makeShape(label: string, rows: number, numericCount: number, categoricalCount: number): Shape {
  const numeric = Array.from({ length: numericCount }, (_, index) => {
    const [drawReference, drawCurrent] = generators(index);
    return { reference: fill(rows, drawReference), current: fill(rows, drawCurrent) };
  });
  const weights = [30, 25, 20, 15, 7, 3];
  const drifted = [25, 25, 20, 15, 10, 5];
  const categorical = Array.from({ length: categoricalCount }, (_, index) => ({
    reference: categoryCodes(rows, weights),
    current: categoryCodes(rows, index % 2 === 1 ? drifted : weights),
  }));
  const states = new Uint8Array(rows);
  const referenceNumeric = numeric.map(({ reference }) => {
    const profiler = new NumericColumnProfiler();
    profiler.addBatch(reference, states, rows);
    return profiler.finish();
  });
  const referenceCategorical = categorical.map(({ reference }) => {
    const profiler = new CategoricalColumnProfiler();
    profiler.addBatch(reference, states, rows);
    return profiler.finish(CATEGORIES);
  });
  return { label, rows, numeric, categorical, referenceNumeric, referenceCategorical };
}

const batchStates = new Uint8Array(BATCH_ROWS); // every cell a value

function ours(shape: Shape): { numeric: NumericComparison[]; categorical: CategoricalComparison[] } {
  const numeric = shape.numeric.map(({ current }, index) => {
    const reference = shape.referenceNumeric[index]!;
    const profiler = new NumericColumnProfiler(reference.histogram.edges);
    for (let start = 0; start < shape.rows; start += BATCH_ROWS) {
      const length = Math.min(BATCH_ROWS, shape.rows - start);
      profiler.addBatch(current.subarray(start, start + length), batchStates, length);
    }
    return compareNumeric(`x${index}`, reference, profiler.finish());
  });
  const categorical = shape.categorical.map(({ current }, index) => {
    const profiler = new CategoricalColumnProfiler();
    for (let start = 0; start < shape.rows; start += BATCH_ROWS) {
      const length = Math.min(BATCH_ROWS, shape.rows - start);
      profiler.addBatch(current.subarray(start, start + length), batchStates, length);
    }
    return compareCategorical(shape.referenceCategorical[index]!, profiler.finish(CATEGORIES));
  });
  return { numeric, categorical };
}

/** Deciles of the sorted reference, then both samples re-binned by binary search. */
function decileCounts(sortedReference: Float64Array, sortedCurrent: Float64Array): [number[], number[]] {
  const edges = Array.from({ length: 9 }, (_, i) => sortedReference[Math.floor(((i + 1) * sortedReference.length) / 10)]!);
  const count = (sorted: Float64Array) => {
    const counts = new Array<number>(10).fill(0);
    for (const value of sorted) counts[binIndex(edges, value)]!++;
    return counts;
  };
  return [count(sortedReference), count(sortedCurrent)];
}

function peer(shape: Shape) {
  const numeric = shape.numeric.map(({ reference, current }) => {
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
  const categorical = shape.categorical.map(({ reference, current }) => {
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
  return { numeric, categorical };
}

interface ScipyRun {
  readonly seconds: number;
  readonly version: string;
  readonly numeric: { ks: number; ks_p: number; wasserstein: number }[];
  readonly categorical: { chi2: number; chi2_p: number }[];
}

function scipyAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import scipy, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The shape's raw columns written for drift_scipy.py, which times only its statistics. */
function scipyPeer(shape: Shape): ScipyRun {
  const directory = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-drift-'));
  try {
    const write = (name: string, values: Float64Array | Int32Array) =>
      writeFileSync(path.join(directory, name), new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    shape.numeric.forEach(({ reference, current }, index) => {
      write(`${index}.reference.f64`, reference);
      write(`${index}.current.f64`, current);
    });
    shape.categorical.forEach(({ reference, current }, index) => {
      write(`c${index}.reference.i32`, reference);
      write(`c${index}.current.i32`, current);
    });
    writeFileSync(
      path.join(directory, 'manifest.json'),
      JSON.stringify({ rows: [shape.rows, shape.rows], numeric: shape.numeric.length, categorical: shape.categorical.length }),
    );
    const output = execFileSync(PYTHON, [SCIPY_SCRIPT, directory], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const parsed = JSON.parse(output) as { seconds: number; scipy: string } & Pick<ScipyRun, 'numeric' | 'categorical'>;
    return { seconds: parsed.seconds, version: parsed.scipy, numeric: parsed.numeric, categorical: parsed.categorical };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function timed<T>(work: () => T): { seconds: number; result: T } {
  const start = process.hrtime.bigint();
  const result = work();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, result };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const hasScipy = RUN_SCIPY && scipyAvailable();
if (RUN_SCIPY && !hasScipy) console.log(`scipy peer skipped: ${PYTHON} with scipy and numpy not found (apt-get install python3-scipy)`);

interface ShapeRun {
  readonly ours: { seconds: number; result: ReturnType<typeof ours> };
  readonly peer: { seconds: number; result: ReturnType<typeof peer> };
  readonly scipy?: ScipyRun;
  readonly maxKsError: number;
  readonly maxW1RelativeError: number;
}

function runShape(shape: Shape): ShapeRun {
  ours(shape); // warm the JIT on the same code paths once
  const oursRun = timed(() => ours(shape));
  const peerRun = timed(() => peer(shape));
  const scipy = hasScipy ? scipyPeer(shape) : undefined;
  let maxKsError = 0;
  let maxW1RelativeError = 0;
  oursRun.result.numeric.forEach((result, index) => {
    const exact = peerRun.result.numeric[index]!;
    maxKsError = Math.max(maxKsError, Math.abs(result.ks - exact.ks));
    maxW1RelativeError = Math.max(maxW1RelativeError, Math.abs(result.wasserstein - exact.wasserstein) / exact.wasserstein);
  });
  const features = shape.numeric.length + shape.categorical.length;
  const drifted = oursRun.result.numeric.filter((result) => result.ksPValue < 0.05 / features).length;
  const madeToDrift = shape.numeric.filter((_, index) => (index % 20) % 3 === 0).length;
  console.log(
    `\n${shape.label}: ${shape.numeric.length} numeric + ${shape.categorical.length} categorical features, reference and current`,
  );
  console.log(`  ours: profile current + PSI/KS/JS/W1/chi-square ${oursRun.seconds.toFixed(3)} s`);
  console.log(`  peer: sort + exact KS/W1 + re-binned PSI/JS + counted chi-square ${peerRun.seconds.toFixed(3)} s`);
  console.log(`  ratio ${(peerRun.seconds / oursRun.seconds).toFixed(1)}×; max |KS ours − exact| ${maxKsError.toExponential(2)}`);
  console.log(
    `  max W1 relative error ${maxW1RelativeError.toExponential(2)}; features with KS p < 0.05/${features}: ${drifted} (${madeToDrift} were made to drift)`,
  );
  if (scipy) {
    const ksVsScipy = Math.max(...oursRun.result.numeric.map((result, index) => Math.abs(result.ks - scipy.numeric[index]!.ks)));
    const w1VsScipy = Math.max(
      ...oursRun.result.numeric.map(
        (result, index) => Math.abs(result.wasserstein - scipy.numeric[index]!.wasserstein) / scipy.numeric[index]!.wasserstein,
      ),
    );
    const exactVsScipy = Math.max(
      ...peerRun.result.numeric.map(
        (result, index) => Math.abs(result.wasserstein - scipy.numeric[index]!.wasserstein) / scipy.numeric[index]!.wasserstein,
      ),
    );
    console.log(
      `  scipy ${scipy.version}: ks_2samp + wasserstein_distance + histogram PSI/JS + chi2_contingency ${scipy.seconds.toFixed(3)} s`,
    );
    console.log(
      `  ratio to scipy ${(scipy.seconds / oursRun.seconds).toFixed(1)}×; max |KS ours − scipy| ${ksVsScipy.toExponential(2)}; max W1 relative difference ours ${w1VsScipy.toExponential(2)}, exact peer ${exactVsScipy.toExponential(2)}`,
    );
    oursRun.result.categorical.forEach((result, index) => {
      const reference = scipy.categorical[index]!;
      console.log(
        `  chi-square ours ${result.chiSquare.toFixed(4)} (p ${result.chiSquarePValue.toExponential(4)}) vs scipy ${reference.chi2.toFixed(4)} (p ${reference.chi2_p.toExponential(4)})`,
      );
    });
  }
  return { ours: oursRun, peer: peerRun, ...(scipy ? { scipy } : {}), maxKsError, maxW1RelativeError };
}

console.log(`generating 20 numeric + 2 categorical features × ${ROWS.toLocaleString()} rows, reference and current`);
const main = makeShape(`${ROWS.toLocaleString()} × 20`, ROWS, 20, 2);
const serialized = serializeProfile({
  formatVersion: 1,
  rowCount: ROWS,
  columns: Object.fromEntries(main.referenceNumeric.map((profile, index) => [`x${index}`, profile])),
});
const profileKbPerColumn = Buffer.byteLength(serialized) / 1024 / main.numeric.length;
const mainRun = runShape(main);
console.log(`  reference profile: ${profileKbPerColumn.toFixed(1)} KB per numeric column`);

let windowSeconds: number | null = null;
if (RUN_WINDOW) {
  const reference: DatasetProfile = {
    formatVersion: 1,
    rowCount: ROWS,
    columns: Object.fromEntries(main.referenceNumeric.map((profile, index) => [`x${index}`, profile])),
  };
  const window = await runCaptureWindow(
    reference,
    main.numeric.map(({ current }) => current),
  );
  windowSeconds = window.seconds;
  const inMemory = mainRun.ours.result.numeric;
  const largestDifference = Math.max(
    ...window.verdict.features.map((feature, index) => {
      const comparison = feature.comparison as NumericComparison;
      return Math.max(Math.abs(comparison.ks - inMemory[index]!.ks), Math.abs(comparison.wasserstein - inMemory[index]!.wasserstein));
    }),
  );
  console.log(
    `\nend to end: check-drift over ${window.result.sampleSize.toLocaleString()} captured rows (${window.objects} JSON Lines objects, ${window.megabytes.toFixed(0)} MB) in the local S3 ${window.seconds.toFixed(3)} s (${(window.result.sampleSize / window.seconds).toFixed(0)} rows/s); status ${window.result.status}, drifted ${window.result.driftedFeatures.length}; largest |KS or W1 − in memory| ${largestDifference.toExponential(2)}`,
  );
}

main.numeric.length = 0; // free the first shape before the second
console.log(`\ngenerating 100 numeric features × ${WIDE_ROWS.toLocaleString()} rows, reference and current`);
const wideRun = runShape(makeShape(`${WIDE_ROWS.toLocaleString()} × 100`, WIDE_ROWS, 100, 0));

const ratio = (peerSeconds: number | undefined, oursSeconds: number) =>
  peerSeconds === undefined ? null : round(peerSeconds / oursSeconds, 1);
console.log(
  JSON.stringify({
    bench: 'drift',
    ours_s: round(mainRun.ours.seconds, 4),
    peer_s: round(mainRun.peer.seconds, 4),
    ratio: round(mainRun.peer.seconds / mainRun.ours.seconds, 1),
    max_ks_abs_err: Number(mainRun.maxKsError.toExponential(3)),
    max_w1_rel_err: Number(mainRun.maxW1RelativeError.toExponential(3)),
    profile_kb_per_column: round(profileKbPerColumn, 1),
    scipy_s: mainRun.scipy ? round(mainRun.scipy.seconds, 3) : null,
    ratio_scipy: ratio(mainRun.scipy?.seconds, mainRun.ours.seconds),
    e2e_window_s: windowSeconds === null ? null : round(windowSeconds, 3),
    wide_ours_s: round(wideRun.ours.seconds, 4),
    wide_peer_s: round(wideRun.peer.seconds, 4),
    wide_ratio: round(wideRun.peer.seconds / wideRun.ours.seconds, 1),
    wide_scipy_s: wideRun.scipy ? round(wideRun.scipy.seconds, 3) : null,
    wide_ratio_scipy: ratio(wideRun.scipy?.seconds, wideRun.ours.seconds),
  }),
);

/**
 * Predict benchmark: the same logistic model and rows, in one run, through
 *   ours  — the predict handler in-process, warm (validation, encoding, scoring, labels, 20% capture
 *           to an in-memory sink),
 *   raw   — onnxruntime-node `session.run` on a prepared tensor (the floor),
 *   peer  — onnxruntime-web on its WASM backend (the smaller package a user might pick instead).
 * Prints p50/p99 for single rows and batches of 100, rows/s for batches of 1,000, and cold starts
 * of fresh processes (bare node, raw onnxruntime-node, our bundled handler); the last line is
 * the JSON summary, whose *_p50_ms are for batches of 100 rows and ratio = peer / ours.
 * Usage: npx tsx bench/predict.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { build } from 'esbuild';
import type * as Ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { PROJECT_ROOT } from '../contracts/project-root';
import { createPredictHandler, predictorFromEnvironment } from '../lambdas/predict/predict';
import { Registry } from '../lambdas/shared/registry/registry-service';
import { DEFAULT_BUNDLING, esbuildOptionsOf, FUNCTION_NODE_OPTIONS } from '../lib/constructs/mlops-function';
import { CHURN_SCHEMA, type ChurnRow, churnModelBytes, churnRows } from '../testkit/churn-model';
import { InMemoryRegistryStore } from '../testkit/in-memory-registry-store';
import { packModelArchive, sha256Hex } from '../testkit/onnx-model';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
const WORK = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'bench-predict');
const COLD_RUNS = 5;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Latencies (ms) of `iterations` sequential calls after `warmup` unmeasured ones. */
async function time(run: () => Promise<unknown>, iterations: number, warmup = 200): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < warmup; i++) await run();
  const samples = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    samples[i] = performance.now() - start;
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), mean: samples.reduce((a, b) => a + b, 0) / iterations };
}

function encode(rows: ChurnRow[]): Float32Array {
  const contracts = ['month-to-month', 'one-year', 'two-year'];
  const values = new Float32Array(rows.length * 4);
  rows.forEach((row, index) => {
    values.set([row.tenure_months, row.monthly_charges, contracts.indexOf(row.contract), row.auto_pay ? 1 : 0], index * 4);
  });
  return values;
}

/** Median wall time (ms) of a fresh `node` process running `args`, and its last stdout line. */
function coldStart(args: string[], nodeOptions?: string): { wallMs: number; output: string } {
  const walls: number[] = [];
  let output = '';
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  for (let run = 0; run < COLD_RUNS; run++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: 'utf8', env });
    walls.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`cold start run failed: ${result.stderr}`);
    output = result.stdout.trim().split('\n').at(-1) ?? '';
  }
  walls.sort((a, b) => a - b);
  return { wallMs: walls[Math.floor(COLD_RUNS / 2)]!, output };
}

const fmt = (ms: number) => ms.toFixed(3).padStart(9);

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const modelBytes = churnModelBytes();
  const archive = await packModelArchive(modelBytes);
  const archivePath = path.join(WORK, 'model.tar.gz');
  writeFileSync(archivePath, archive);

  // Ours: the real handler over in-memory registry and object stores (S3 is only read at load).
  const store = new InMemoryRegistryStore();
  const registry = new Registry(store, { knownModels: ['churn'] });
  const actor = 'bench';
  const registered = await registry.registerVersion({
    modelName: 'churn',
    artifactUri: 's3://artifacts/models/churn/v1/model.tar.gz',
    artifactSha256: sha256Hex(archive),
    lineage: { datasetUri: 's3://datasets/churn.csv', datasetEtag: '"1"' },
    actor,
  });
  await registry.promote({ modelName: 'churn', version: registered.version, actor });
  const logger = new Logger({ logLevel: 'SILENT' });
  let captured = 0;
  const predictor = predictorFromEnvironment(
    { TABLE_NAME: 'bench', MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA), CAPTURE_BUCKET: 'capture', CAPTURE_PERCENT: '20' },
    store,
    {
      getBytes: async () => archive,
      put: async (_bucket, _key, body) => {
        captured += body.length;
      },
    },
    logger,
  );
  const handle = createPredictHandler({ predictor, logger, metrics: new Metrics({ namespace: 'Bench', serviceName: 'predict' }) });
  const context = { awsRequestId: 'bench' };

  // Raw: onnxruntime-node on the same model bytes, with the tensor built once.
  const rawSession = await ort.InferenceSession.create(modelBytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  // Peer: onnxruntime-web (WASM), single-threaded like our Lambda configuration.
  ortWeb.env.wasm.numThreads = 1;
  const webSession = await ortWeb.InferenceSession.create(modelBytes);

  const single = churnRows(1, 11);
  const hundred = churnRows(100, 12);
  const thousand = churnRows(1000, 13);
  const event = (rows: ChurnRow[]) => ({ instances: rows });
  const rawTensor = (rows: ChurnRow[]) => new ort.Tensor('float32', encode(rows), [rows.length, 4]);
  const webTensor = (rows: ChurnRow[]) => new ortWeb.Tensor('float32', encode(rows), [rows.length, 4]);
  const [raw1, raw100, raw1000] = [rawTensor(single), rawTensor(hundred), rawTensor(thousand)];
  const [web1, web100, web1000] = [webTensor(single), webTensor(hundred), webTensor(thousand)];

  const results = {
    ours: {
      single: await time(() => handle(event(single), context), 3000),
      batch100: await time(() => handle(event(hundred), context), 2000),
      batch1000: await time(() => handle(event(thousand), context), 300),
    },
    raw: {
      single: await time(() => rawSession.run({ features: raw1 }), 3000),
      batch100: await time(() => rawSession.run({ features: raw100 }), 2000),
      batch1000: await time(() => rawSession.run({ features: raw1000 }), 300),
    },
    peer: {
      single: await time(() => webSession.run({ features: web1 }), 3000),
      batch100: await time(() => webSession.run({ features: web100 }), 2000),
      batch1000: await time(() => webSession.run({ features: web1000 }), 300),
    },
  };

  process.stdout.write('predict, ms per request (p50 / p99), rows/s at batch 1000 (from the mean)\n');
  process.stdout.write('             single p50  single p99   batch100 p50 batch100 p99   rows/s (1000)\n');
  for (const [name, result] of Object.entries(results)) {
    const rowsPerSecond = 1000 / (result.batch1000.mean / 1000);
    process.stdout.write(
      `${name.padEnd(10)} ${fmt(result.single.p50)}  ${fmt(result.single.p99)}   ${fmt(result.batch100.p50)}    ${fmt(result.batch100.p99)}   ${Math.round(rowsPerSecond).toLocaleString('en-US').padStart(12)}\n`,
    );
  }
  const overhead = (results.ours.batch100.p50 / results.raw.batch100.p50 - 1) * 100;
  process.stdout.write(`handler overhead over raw onnxruntime-node, batch 100 p50: ${overhead.toFixed(1)}%\n`);
  process.stdout.write(`capture: ${captured} bytes of JSON Lines written to the in-memory sink\n`);

  // Cold starts: each a fresh process; ours is the handler bundled as the Lambda bundle is, source
  // map beside it and the function's NODE_OPTIONS set, the SDK and onnxruntime-node left external
  // and resolved from node_modules at run time as the runtime and the layer provide them.
  const coldBundle = path.join(WORK, 'cold-start.mjs');
  await build({
    entryPoints: [path.join(PROJECT_ROOT, 'bench', 'predict-cold-start.ts')],
    outfile: coldBundle,
    ...esbuildOptionsOf(['onnxruntime-node']),
    sourcemap: DEFAULT_BUNDLING.sourceMap,
    sourcesContent: DEFAULT_BUNDLING.sourcesContent,
  });
  const modelPath = path.join(WORK, 'model.onnx');
  writeFileSync(modelPath, modelBytes);
  const bare = coldStart(['-e', '0']);
  const rawCold = coldStart([
    '-e',
    `const ort = require('onnxruntime-node');
     ort.InferenceSession.create(require('node:fs').readFileSync(${JSON.stringify(modelPath)}))
       .then((s) => s.run({ features: new ort.Tensor('float32', new Float32Array(4), [1, 4]) }))
       .then(() => console.log(performance.now()));`,
  ]);
  const ours = coldStart([coldBundle, archivePath, sha256Hex(archive)], FUNCTION_NODE_OPTIONS);
  const inside = JSON.parse(ours.output) as { importedMs: number; firstPredictionMs: number };
  process.stdout.write(`cold start, fresh process to first prediction (median of ${COLD_RUNS}, wall):\n`);
  process.stdout.write(`  bare node -e 0:            ${bare.wallMs.toFixed(1)} ms\n`);
  process.stdout.write(`  raw onnxruntime-node:      ${rawCold.wallMs.toFixed(1)} ms\n`);
  process.stdout.write(
    `  our handler (bundled):     ${ours.wallMs.toFixed(1)} ms (in-process: module imported at ${inside.importedMs.toFixed(1)} ms, first prediction at ${inside.firstPredictionMs.toFixed(1)} ms)\n`,
  );
  process.stdout.write(`  ours over bare node:       ${(ours.wallMs - bare.wallMs).toFixed(1)} ms\n`);

  const summary = {
    bench: 'predict',
    ours_p50_ms: round(results.ours.batch100.p50),
    raw_p50_ms: round(results.raw.batch100.p50),
    peer_p50_ms: round(results.peer.batch100.p50),
    ratio: round(results.peer.batch100.p50 / results.ours.batch100.p50),
    batch_rows_per_s: Math.round(1000 / (results.ours.batch1000.mean / 1000)),
    cold_start_ms: round(ours.wallMs),
    cold_start_over_bare_ms: round(ours.wallMs - bare.wallMs),
    raw_cold_start_over_bare_ms: round(rawCold.wallMs - bare.wallMs),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

await main();

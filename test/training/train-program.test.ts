/**
 * The Python training program (training/train.py) against the TypeScript serving side: it trains
 * on generated churn-like rows under Debian's python3-torch, its model.onnx runs in
 * onnxruntime-node on rows encoded by the predict function's own encodeRows, the scores match
 * what the torch module computes (training/score.py), and the program's encoding of the same rows
 * read from CSV equals encodeRows'.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelDocument, modelDocument } from '../../contracts/model';
import { parseConfig, resolveModel } from '../../contracts/platform-config';
import { type ModelSchema, modelSchemaFor } from '../../contracts/serving-schema';
import { encodeRows } from '../../lambdas/shared/serving/features';
import { toPredictions } from '../../lambdas/shared/serving/predictions';
import { findPython } from '../../local/sagemaker-training';
import { type ChurnCustomer, generateChurn, seededRandom } from '../../local/sample-data';
import { cdkJsonContext } from '../support/cdk';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
/** The Python with torch the offline training job uses (MLOPS_PYTHON, python3, or Debian's /usr/bin/python3). */
const PYTHON = findPython();
const TRAINING = path.resolve(__dirname, '../../training');

type Row = Record<string, string | number | boolean | null>;

/** The demo's churn model with a nullable boolean and timestamp added and two columns made nullable. */
function churnLikeModel(problemType: ModelDocument['problemType'], target: string): ModelDocument {
  const raw = structuredClone(cdkJsonContext.mlops) as { models: Record<string, unknown>[] };
  const churn = raw.models[0] as { columns: Record<string, unknown>[]; features: string[] } & Record<string, unknown>;
  for (const column of churn.columns) if (column.name === 'monthly_charges' || column.name === 'contract') column.nullable = true;
  churn.columns.push(
    { name: 'paperless', type: 'boolean', nullable: true },
    { name: 'signup_date', type: 'timestamp', nullable: true },
    { name: 'plan', type: 'category', allowedValues: ['basic', 'plus', 'premium'] },
    { name: 'lifetime_value', type: 'number' },
  );
  churn.features = [...churn.features, 'paperless', 'signup_date'];
  churn.problemType = problemType;
  churn.target = target;
  if (problemType !== 'binary-classification') churn.thresholds = { metrics: {} };
  const config = parseConfig(raw);
  return modelDocument(resolveModel(config, config.models[0]!));
}

/** Request rows as a client sends them (null for a missing value), with the target columns. */
function churnLikeRows(count: number, seed: number): Row[] {
  const random = seededRandom(seed);
  return generateChurn({ rows: count, seed }).map((customer: ChurnCustomer, n) => {
    const paperless = random() < 0.5;
    const churned = customer.churned === 1 || (paperless && random() < 0.05) ? 1 : 0;
    return {
      ...customer,
      churned,
      monthly_charges: n % 17 === 3 ? null : customer.monthly_charges,
      contract: n % 23 === 5 ? null : customer.contract,
      paperless: n % 29 === 7 ? null : paperless,
      signup_date: n % 31 === 9 ? null : new Date(Date.UTC(2023, n % 12, 1 + (n % 28), n % 24, 30)).toISOString(),
      plan: customer.monthly_charges > 110 ? 'premium' : customer.monthly_charges > 70 ? 'plus' : 'basic',
      lifetime_value: Math.round(customer.monthly_charges * (customer.tenure_months + 1)) / 100,
    };
  });
}

function toCsv(rows: readonly Row[]): string {
  const columns = Object.keys(rows[0]!);
  const cell = (value: Row[string]) => (value === null ? '' : String(value));
  return `${[columns.join(','), ...rows.map((row) => columns.map((column) => cell(row[column]!)).join(','))].join('\n')}\n`;
}

interface TrainedModel {
  readonly root: string;
  readonly schema: ModelSchema;
  readonly session: Ort.InferenceSession;
  readonly stdout: string;
}

const roots: string[] = [];

/** Lays /opt/ml out in a temp folder and runs train.py there, as the offline runtime does. */
async function train(document: ModelDocument, rows: readonly Row[], hyperparameters: string[]): Promise<TrainedModel> {
  const root = mkdtempSync(path.join(tmpdir(), 'train-program-'));
  roots.push(root);
  const schema = modelSchemaFor(document);
  for (const channel of ['train', 'config']) mkdirSync(path.join(root, 'input/data', channel), { recursive: true });
  writeFileSync(path.join(root, 'input/data/train/part-0000.csv'), toCsv(rows));
  writeFileSync(path.join(root, 'input/data/config/model.json'), JSON.stringify({ ...document, servingSchema: schema }));
  const result = spawnSync(PYTHON, [path.join(TRAINING, 'train.py'), ...hyperparameters], {
    encoding: 'utf8',
    env: {
      ...process.env,
      SM_MODEL_DIR: path.join(root, 'model'),
      SM_OUTPUT_DIR: path.join(root, 'output'),
      SM_INPUT_DIR: path.join(root, 'input'),
      SM_CHANNEL_TRAIN: path.join(root, 'input/data/train'),
      SM_CHANNEL_CONFIG: path.join(root, 'input/data/config'),
      SM_CHECKPOINT_DIR: path.join(root, 'checkpoints'),
      SM_NUM_GPUS: '0',
    },
  });
  expect(result.status, result.stderr).toBe(0);
  const session = await ort.InferenceSession.create(path.join(root, 'model/model.onnx'));
  return { root, schema, session, stdout: result.stdout };
}

async function scoreOnnx(model: TrainedModel, values: Float32Array, rows: number) {
  const outputs = await model.session.run({ features: new ort.Tensor('float32', values, [rows, model.schema.features.length]) });
  const scores = outputs.scores!;
  return { data: scores.data as Float32Array, dims: scores.dims };
}

interface KernelRun {
  readonly op: string;
  readonly inputShapes: readonly (readonly number[])[];
}

/** Scores once with onnxruntime's profiler on and returns the scores with every kernel the run executed. */
async function profiledRun(model: TrainedModel, values: Float32Array, rows: number) {
  const prefix = path.join(model.root, 'profile');
  const session = await ort.InferenceSession.create(path.join(model.root, 'model/model.onnx'), {
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const outputs = await session.run({ features: new ort.Tensor('float32', values, [rows, model.schema.features.length]) });
  session.endProfiling();
  await session.release();
  const file = readdirSync(model.root).find((name) => name.startsWith('profile') && name.endsWith('.json'));
  if (file === undefined) throw new Error(`onnxruntime wrote no profile under ${model.root}`);
  const events = JSON.parse(readFileSync(path.join(model.root, file), 'utf8')) as {
    cat?: string;
    args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
  }[];
  const kernels: KernelRun[] = events
    .filter((event) => event.cat === 'Node' && event.args?.op_name !== undefined)
    .map((event) => ({
      op: event.args!.op_name!,
      inputShapes: (event.args!.input_type_shape ?? []).map((shape) => Object.values(shape)[0] ?? []),
    }));
  return { scores: outputs.scores!.data as Float32Array, kernels };
}

/** What the torch module the graph was exported from computes for the same float32 rows. */
function scoreTorch(model: TrainedModel, values: Float32Array, rows: number): number[][] {
  const width = model.schema.features.length;
  const matrix = Array.from({ length: rows }, (_, row) =>
    Array.from(values.subarray(row * width, (row + 1) * width), (value) => (Number.isNaN(value) ? null : value)),
  );
  const file = path.join(model.root, `features-${rows}.json`);
  writeFileSync(file, JSON.stringify(matrix));
  const output = execFileSync(PYTHON, [
    path.join(TRAINING, 'score.py'),
    'scores',
    '--checkpoint-dir',
    path.join(model.root, 'checkpoints'),
    '--features',
    file,
  ]);
  return (JSON.parse(output.toString('utf8')) as { scores: number[][] }).scores;
}

function maxDifference(onnx: Float32Array, torch: number[][]): number {
  const flat = torch.flat();
  expect(flat.length).toBe(onnx.length);
  return flat.reduce((max, value, index) => Math.max(max, Math.abs(value - onnx[index]!)), 0);
}

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('the training program and the serving contract', () => {
  const document = churnLikeModel('binary-classification', 'churned');
  let model: TrainedModel;
  let scoringRows: Row[];

  beforeAll(async () => {
    model = await train(document, churnLikeRows(2000, 11), ['--epochs', '30', '--seed', '5', '--sagemaker_program', 'train.py']);
    scoringRows = churnLikeRows(1000, 12);
  });

  it('prints one metric line per epoch in the documented format', () => {
    expect(model.stdout).toMatch(/^epoch=30 train_loss=\d+\.\d{6}$/m);
    expect(model.stdout).toMatch(/^final epochs=30 train_loss=[\d.]+ train_accuracy=[\d.]+$/m);
  });

  it('scores rows encoded by encodeRows within 1e-5 of the torch module, and predicts churn', async () => {
    const features = model.schema.features.map((feature) => feature.name);
    const requests = scoringRows.map((row) => Object.fromEntries(features.map((name) => [name, row[name]])));
    const encoded = encodeRows(model.schema, requests);
    const scores = await scoreOnnx(model, encoded.values, encoded.rows);
    expect(scores.dims).toEqual([1000, 1]);
    expect(maxDifference(scores.data, scoreTorch(model, encoded.values, encoded.rows))).toBeLessThanOrEqual(1e-5);

    const predictions = toPredictions(model.schema, scores, encoded.rows);
    const correct = predictions.filter((prediction, row) => 'label' in prediction && prediction.label === scoringRows[row]!.churned);
    expect(correct.length / predictions.length).toBeGreaterThan(0.85);
  });

  it('imputes missing values and gives unknown category codes no weight, as torch does', async () => {
    const width = model.schema.features.length;
    const contract = model.schema.features.findIndex((feature) => feature.name === 'contract');
    const base = encodeRows(model.schema, [
      Object.fromEntries(model.schema.features.map((feature) => [feature.name, scoringRows[0]![feature.name]])),
    ]).values;
    const variants = [Number.NaN, 7, -1, 1.5, 0, 1, 2];
    const values = new Float32Array(variants.length * width);
    variants.forEach((code, row) => {
      values.set(base, row * width);
      values[row * width + contract] = code;
    });
    values[width] = Number.NaN; // and a missing tenure in a non-nullable column: the graph imputes it too
    const scores = await scoreOnnx(model, values, variants.length);
    expect(maxDifference(scores.data, scoreTorch(model, values, variants.length))).toBeLessThanOrEqual(1e-5);
    // NaN, -1 and 1.5 are no category: the same score, which differs from each real category's.
    expect(new Set([scores.data[0], scores.data[2], scores.data[3]]).size).toBe(1);
    expect(scores.data[2]).not.toBe(scores.data[4]);
  });

  it('encodes the rows of a CSV file exactly as encodeRows encodes the same rows as a request', () => {
    const folder = path.join(model.root, 'encoded-input');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'rows.csv'), toCsv(scoringRows));
    const output = execFileSync(PYTHON, [
      path.join(TRAINING, 'score.py'),
      'encode',
      '--model-document',
      path.join(model.root, 'input/data/config/model.json'),
      '--data',
      folder,
    ]);
    const python = JSON.parse(output.toString('utf8')) as { features: (number | null)[][]; targets: number[]; badRows: number };
    expect(python.badRows).toBe(0);
    const features = model.schema.features.map((feature) => feature.name);
    const encoded = encodeRows(
      model.schema,
      scoringRows.map((row) => Object.fromEntries(features.map((name) => [name, row[name]]))),
    );
    const fromPython = Float32Array.from(python.features.flat(), (value) => (value === null ? Number.NaN : value));
    expect(fromPython).toEqual(encoded.values);
    expect(python.targets).toEqual(scoringRows.map((row) => row.churned));
  });
});

describe('the training program for every problem type', () => {
  it('a multiclass model outputs one probability column per class label', async () => {
    const document = churnLikeModel('multiclass-classification', 'plan');
    const model = await train(document, churnLikeRows(600, 21), ['--epochs', '10', '--hidden_units', '8']);
    const rows = churnLikeRows(200, 22).map((row) => Object.fromEntries(model.schema.features.map((f) => [f.name, row[f.name]])));
    const encoded = encodeRows(model.schema, rows);
    const scores = await scoreOnnx(model, encoded.values, encoded.rows);
    expect(scores.dims).toEqual([200, 3]);
    expect(maxDifference(scores.data, scoreTorch(model, encoded.values, encoded.rows))).toBeLessThanOrEqual(1e-5);
    const predictions = toPredictions(model.schema, scores, encoded.rows);
    expect(predictions[0]).toMatchObject({ label: expect.stringMatching(/^(basic|plus|premium)$/) });
  });

  it('a regression model outputs the de-standardised value', async () => {
    const document = churnLikeModel('regression', 'lifetime_value');
    const rows = churnLikeRows(600, 31);
    const model = await train(document, rows, ['--epochs', '10', '--learning_rate', '0.05']);
    const encoded = encodeRows(
      model.schema,
      rows.slice(0, 200).map((row) => Object.fromEntries(model.schema.features.map((f) => [f.name, row[f.name]]))),
    );
    const scores = await scoreOnnx(model, encoded.values, encoded.rows);
    expect(scores.dims).toEqual([200, 1]);
    const torch = scoreTorch(model, encoded.values, encoded.rows);
    // Values in the hundreds: float32 agreement is relative.
    const worst = Math.max(...torch.flat().map((value, index) => Math.abs(value - scores.data[index]!) / Math.max(1, Math.abs(value))));
    expect(worst).toBeLessThanOrEqual(1e-5);
    const mean = rows.reduce((sum, row) => sum + (row.lifetime_value as number), 0) / rows.length;
    const predictedMean = scores.data.reduce((sum, value) => sum + value, 0) / 200;
    expect(Math.abs(predictedMean - mean) / mean).toBeLessThan(0.25);
  });

  it('latency padding leaves the scores unchanged and adds `layers` width-square matmuls to every request', async () => {
    const document = churnLikeModel('binary-classification', 'churned');
    const rows = churnLikeRows(400, 41);
    const plain = await train(document, rows, ['--epochs', '3']);
    const padded = await train(document, rows, ['--epochs', '3', '--latency_padding_layers', '37', '--latency_padding_width', '24']);
    const encoded = encodeRows(
      plain.schema,
      rows.slice(0, 50).map((row) => Object.fromEntries(plain.schema.features.map((f) => [f.name, row[f.name]]))),
    );
    const [fast, slow] = [await profiledRun(plain, encoded.values, encoded.rows), await profiledRun(padded, encoded.values, encoded.rows)];
    expect(Array.from(slow.scores)).toEqual(Array.from(fast.scores));
    // The cost is counted in kernels onnxruntime ran (its profiler), not in wall-clock time.
    const squareMatMuls = (kernels: readonly KernelRun[]) =>
      kernels.filter((kernel) => kernel.op === 'MatMul' && kernel.inputShapes[1]?.join('x') === '24x24').length;
    expect(squareMatMuls(fast.kernels)).toBe(0);
    expect(squareMatMuls(slow.kernels)).toBe(37);
    expect(slow.kernels.filter((kernel) => kernel.op === 'Loop')).toHaveLength(1);
  });

  it('reports a bad input as one line in the failure file and exits 1', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'train-program-'));
    roots.push(root);
    const result = spawnSync(PYTHON, [path.join(TRAINING, 'train.py'), '--epochs', '3'], {
      encoding: 'utf8',
      env: { ...process.env, SM_OUTPUT_DIR: path.join(root, 'output'), SM_INPUT_DIR: path.join(root, 'input') },
    });
    expect(result.status).toBe(1);
    expect(readFileSync(path.join(root, 'output/failure'), 'utf8')).toMatch(/^missing channel "config": .*\n$/);
  });
});

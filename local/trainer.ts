/**
 * The local stand-in for a SageMaker training job, honouring the platform's container contract:
 * it reads the `train` channel (a dataset object or prefix in the local S3), trains a real model
 * — logistic regression for binary classification, linear regression for regression, numeric
 * inputs standardised with missing values imputed, categories one-hot — and writes
 * `model.onnx` + `metrics.json` as `<S3OutputPath><TrainingJobName>/output/model.tar.gz`.
 *
 * The preprocessing is part of the ONNX graph (Gather, IsNaN/Where imputation, Equal/Cast
 * one-hot, MatMul, Sigmoid), so the model takes the serving contract's encoded rows as they are.
 * Managed spot is simulated: checkpoints go to `CheckpointConfig.S3Uri` every few epochs, an
 * interruption restarts the job from its last checkpoint, and the billable seconds are the
 * training seconds less the spot discount (the job reports both, as DescribeTrainingJob does).
 */

import type { ModelDocument } from '../contracts/model';
import { modelSchemaFor } from '../contracts/serving-schema';
import { type Holdout, readHoldout } from '../lambdas/evaluate-model/holdout';
import { ValidationError } from '../lambdas/shared/errors';
import { type ObjectStore, parseS3Uri, s3Uri } from '../lambdas/shared/object-store';
import { encodeOnnxModel, type OnnxInitializer, type OnnxNode, packModelArchive } from './onnx';

/** The createTrainingJob parameters the local trainer reads (field names as in the SageMaker API). */
export interface TrainingJobRequest {
  readonly TrainingJobName: string;
  readonly HyperParameters?: Readonly<Record<string, string>>;
  readonly InputDataConfig: readonly { ChannelName: string; DataSource: { S3DataSource: { S3Uri: string } } }[];
  readonly OutputDataConfig: { S3OutputPath: string };
  readonly CheckpointConfig?: { S3Uri: string };
  readonly EnableManagedSpotTraining?: boolean;
  readonly StoppingCondition?: { MaxRuntimeInSeconds?: number; MaxWaitTimeInSeconds?: number };
}

/** What `createTrainingJob.sync` returns: DescribeTrainingJob of the completed job (the fields the pipeline reads). */
export interface TrainingJobDescription {
  readonly TrainingJobName: string;
  readonly TrainingJobStatus: 'Completed';
  readonly ModelArtifacts: { S3ModelArtifacts: string };
  readonly TrainingTimeInSeconds: number;
  readonly BillableTimeInSeconds: number;
  readonly EnableManagedSpotTraining: boolean;
  readonly HyperParameters: Readonly<Record<string, string>>;
}

export interface Hyperparameters {
  readonly epochs: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly checkpointEvery: number;
  /**
   * Adds this many extra square MatMuls of the given width to the graph, multiplied by zero: the
   * same predictions, a fixed extra cost per request. How the demo builds a model that passes the evaluation gate and
   * then trips the latency alarm in its canary.
   */
  readonly latencyPadding: { layers: number; width: number } | null;
}

const HYPERPARAMETER_NAMES = ['epochs', 'learning_rate', 'l2', 'checkpoint_every', 'latency_padding_layers', 'latency_padding_width'];

export function parseHyperparameters(raw: Readonly<Record<string, string>> = {}): Hyperparameters {
  const unknown = Object.keys(raw).filter((name) => !HYPERPARAMETER_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown hyperparameter ${unknown.map((name) => `"${name}"`).join(', ')}; known: ${HYPERPARAMETER_NAMES.join(', ')}`,
    );
  }
  const number = (name: string, fallback: number, check: (value: number) => boolean, rule: string) => {
    if (raw[name] === undefined) return fallback;
    const value = Number(raw[name]);
    if (!Number.isFinite(value) || !check(value)) throw new ValidationError(`hyperparameter ${name} must be ${rule}, got "${raw[name]}"`);
    return value;
  };
  const layers = number('latency_padding_layers', 0, (v) => Number.isInteger(v) && v >= 0 && v <= 50_000, 'a whole number 0-50000');
  const width = number('latency_padding_width', 512, (v) => Number.isInteger(v) && v >= 1 && v <= 4096, 'a whole number 1-4096');
  return {
    epochs: number('epochs', 300, (v) => Number.isInteger(v) && v >= 1 && v <= 100_000, 'a whole number 1-100000'),
    learningRate: number('learning_rate', 0.1, (v) => v > 0 && v <= 10, 'in (0, 10]'),
    l2: number('l2', 1e-4, (v) => v >= 0 && v <= 10, 'in [0, 10]'),
    checkpointEvery: number('checkpoint_every', 25, (v) => Number.isInteger(v) && v >= 1, 'a whole number ≥ 1'),
    latencyPadding: layers > 0 ? { layers, width } : null,
  };
}

/** A linear model over the expanded inputs: standardised numeric features, then one-hot categories. */
export interface LinearModel {
  readonly numeric: readonly { index: number; mean: number; scale: number }[];
  readonly categorical: readonly { index: number; categories: number }[];
  /** One weight per standardised numeric feature, then one per category of each categorical feature. */
  readonly weights: Float64Array;
  bias: number;
}

interface Checkpoint {
  readonly epoch: number;
  readonly weights: number[];
  readonly bias: number;
  readonly moments: number[];
}

/** Labelled rows encoded as the serving contract encodes a request (the evaluation's holdout reader). */
export type LabelledData = Pick<Holdout, 'rows' | 'width' | 'features' | 'targets'>;

/** The expanded design matrix (row-major) the optimiser works on. */
function expand(data: LabelledData, model: LinearModel): Float64Array {
  const width = model.weights.length;
  const columns = data.width;
  const design = new Float64Array(data.rows * width);
  for (let row = 0; row < data.rows; row++) {
    const out = row * width;
    let at = 0;
    for (const feature of model.numeric) {
      const value = data.features[row * columns + feature.index]!;
      design[out + at++] = Number.isNaN(value) ? 0 : (value - feature.mean) / feature.scale;
    }
    for (const feature of model.categorical) {
      const code = data.features[row * columns + feature.index]!;
      if (Number.isInteger(code) && code >= 0 && code < feature.categories) design[out + at + code] = 1;
      at += feature.categories;
    }
  }
  return design;
}

/** The model's shape from the data and schema: statistics of numeric inputs, category counts. */
export function initialModel(data: LabelledData, document: ModelDocument): LinearModel {
  const columns = new Map(document.columns.map((column) => [column.name, column]));
  const numeric: { index: number; mean: number; scale: number }[] = [];
  const categorical: { index: number; categories: number }[] = [];
  const width = data.width;
  document.features.forEach((name, index) => {
    const column = columns.get(name)!;
    if (column.type === 'category') {
      categorical.push({ index, categories: column.allowedValues?.length ?? 0 });
      return;
    }
    let count = 0;
    let mean = 0;
    let m2 = 0;
    for (let row = 0; row < data.rows; row++) {
      const value = data.features[row * width + index]!;
      if (Number.isNaN(value)) continue;
      count++;
      const delta = value - mean;
      mean += delta / count;
      m2 += delta * (value - mean);
    }
    const deviation = count > 1 ? Math.sqrt(m2 / (count - 1)) : 0;
    numeric.push({ index, mean, scale: deviation > 0 ? deviation : 1 });
  });
  const size = numeric.length + categorical.reduce((sum, feature) => sum + feature.categories, 0);
  return { numeric, categorical, weights: new Float64Array(size), bias: 0 };
}

export interface TrainingProgress {
  readonly epoch: number;
  readonly loss: number;
}

export interface FitOptions {
  readonly hyperparameters: Hyperparameters;
  readonly problemType: ModelDocument['problemType'];
  readonly resumeFrom?: Checkpoint;
  /** Called every `checkpointEvery` epochs; a thrown error interrupts training (a spot reclaim). */
  readonly onCheckpoint?: (checkpoint: Checkpoint) => Promise<void>;
}

/** Full-batch gradient descent with Adam; log loss (classification) or squared error (regression), L2. */
export async function fitLinearModel(
  data: LabelledData,
  model: LinearModel,
  options: FitOptions,
): Promise<{ loss: number; startEpoch: number }> {
  const { epochs, learningRate, l2, checkpointEvery } = options.hyperparameters;
  const logistic = options.problemType === 'binary-classification';
  const design = expand(data, model);
  const width = model.weights.length;
  const size = width + 1;
  // Adam first and second moments for the weights and the bias (last slot).
  const first = new Float64Array(size);
  const second = new Float64Array(size);
  let startEpoch = 0;
  if (options.resumeFrom) {
    model.weights.set(options.resumeFrom.weights);
    model.bias = options.resumeFrom.bias;
    first.set(options.resumeFrom.moments.slice(0, size));
    second.set(options.resumeFrom.moments.slice(size));
    startEpoch = options.resumeFrom.epoch;
  }
  // Regression targets are centred by the bias from the start.
  if (!logistic && !options.resumeFrom) model.bias = data.targets.reduce((sum, value) => sum + value, 0) / Math.max(1, data.rows);
  const gradient = new Float64Array(size);
  let loss = 0;
  for (let epoch = startEpoch; epoch < epochs; epoch++) {
    gradient.fill(0);
    loss = 0;
    for (let row = 0; row < data.rows; row++) {
      const offset = row * width;
      let z = model.bias;
      for (let j = 0; j < width; j++) z += design[offset + j]! * model.weights[j]!;
      const y = data.targets[row]!;
      let error: number;
      if (logistic) {
        const p = 1 / (1 + Math.exp(-z));
        error = p - y;
        loss -= y * Math.log(Math.max(p, 1e-12)) + (1 - y) * Math.log(Math.max(1 - p, 1e-12));
      } else {
        error = z - y;
        loss += 0.5 * error * error;
      }
      for (let j = 0; j < width; j++) gradient[j]! += error * design[offset + j]!;
      gradient[width]! += error;
    }
    const scale = 1 / Math.max(1, data.rows);
    loss *= scale;
    const step = epoch + 1;
    for (let j = 0; j < size; j++) {
      const g = gradient[j]! * scale + (j < width ? l2 * model.weights[j]! : 0);
      first[j] = 0.9 * first[j]! + 0.1 * g;
      second[j] = 0.999 * second[j]! + 0.001 * g * g;
      const update = (learningRate * (first[j]! / (1 - 0.9 ** step))) / (Math.sqrt(second[j]! / (1 - 0.999 ** step)) + 1e-8);
      if (j < width) model.weights[j]! -= update;
      else model.bias -= update;
    }
    if (options.onCheckpoint && step % checkpointEvery === 0 && step < epochs) {
      await options.onCheckpoint({ epoch: step, weights: Array.from(model.weights), bias: model.bias, moments: [...first, ...second] });
    }
  }
  return { loss, startEpoch };
}

/**
 * The ONNX graph of a trained model. Input `features` [rows, n] in the serving encoding; output
 * `scores` [rows, 1]: the positive-class probability (classification) or the value (regression).
 */
export function modelGraph(
  model: LinearModel,
  featureCount: number,
  problemType: ModelDocument['problemType'],
  padding: Hyperparameters['latencyPadding'],
) {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const terms: string[] = [];
  let bias = model.bias;
  if (model.numeric.length > 0) {
    // Standardisation folds into the weights: w·(x − μ)/σ = (w/σ)·x − w·μ/σ; a missing value becomes μ.
    const weights = model.numeric.map((feature, j) => model.weights[j]! / feature.scale);
    bias -= model.numeric.reduce((sum, feature, j) => sum + (model.weights[j]! * feature.mean) / feature.scale, 0);
    initializers.push(
      { name: 'numeric_index', type: 'int64', dims: [model.numeric.length], values: model.numeric.map((feature) => feature.index) },
      { name: 'numeric_mean', type: 'float', dims: [model.numeric.length], values: model.numeric.map((feature) => feature.mean) },
      { name: 'numeric_weights', type: 'float', dims: [model.numeric.length, 1], values: weights },
    );
    nodes.push(
      { opType: 'Gather', inputs: ['features', 'numeric_index'], outputs: ['numeric'], attributes: { axis: 1 } },
      { opType: 'IsNaN', inputs: ['numeric'], outputs: ['numeric_missing'] },
      { opType: 'Where', inputs: ['numeric_missing', 'numeric_mean', 'numeric'], outputs: ['numeric_imputed'] },
      { opType: 'MatMul', inputs: ['numeric_imputed', 'numeric_weights'], outputs: ['numeric_term'] },
    );
    terms.push('numeric_term');
  }
  const expandedIndex: number[] = [];
  const expandedCode: number[] = [];
  const categoryWeights: number[] = [];
  let at = model.numeric.length;
  for (const feature of model.categorical) {
    for (let code = 0; code < feature.categories; code++) {
      expandedIndex.push(feature.index);
      expandedCode.push(code);
      categoryWeights.push(model.weights[at++]!);
    }
  }
  if (expandedIndex.length > 0) {
    initializers.push(
      { name: 'category_index', type: 'int64', dims: [expandedIndex.length], values: expandedIndex },
      { name: 'category_code', type: 'float', dims: [expandedIndex.length], values: expandedCode },
      { name: 'category_weights', type: 'float', dims: [expandedIndex.length, 1], values: categoryWeights },
    );
    nodes.push(
      { opType: 'Gather', inputs: ['features', 'category_index'], outputs: ['category_columns'], attributes: { axis: 1 } },
      { opType: 'Equal', inputs: ['category_columns', 'category_code'], outputs: ['category_match'] },
      // onnx.TensorProto.DataType.FLOAT = 1
      { opType: 'Cast', inputs: ['category_match'], outputs: ['one_hot'], attributes: { to: 1 } },
      { opType: 'MatMul', inputs: ['one_hot', 'category_weights'], outputs: ['category_term'] },
    );
    terms.push('category_term');
  }
  if (padding) {
    // Zero times a chain of wide MatMuls over the column sums of the input: the same scores, and a
    // fixed extra cost per request (not per row), like a model whose serving got slower.
    const { width, layers } = padding;
    initializers.push(
      { name: 'padding_axes', type: 'int64', dims: [1], values: [0] },
      { name: 'padding_zero', type: 'float', dims: [1], values: [0] },
      { name: 'padding_in', type: 'float', dims: [featureCount, width], values: new Array(featureCount * width).fill(1e-6) },
      { name: 'padding_square', type: 'float', dims: [width, width], values: new Array(width * width).fill(1 / width) },
      { name: 'padding_out', type: 'float', dims: [width, 1], values: new Array(width).fill(0) },
    );
    nodes.push(
      { opType: 'IsNaN', inputs: ['features'], outputs: ['padding_missing'] },
      { opType: 'Where', inputs: ['padding_missing', 'padding_zero', 'features'], outputs: ['padding_features'] },
      { opType: 'ReduceSum', inputs: ['padding_features', 'padding_axes'], outputs: ['padding_sums'], attributes: { keepdims: 1 } },
      { opType: 'MatMul', inputs: ['padding_sums', 'padding_in'], outputs: ['padding_0'] },
      // rows / rows = 1, known only at run time: the square matrix is not a constant, so onnxruntime
      // neither folds nor pre-packs it (pre-packing thousands of MatMuls makes loading take minutes).
      { opType: 'Shape', inputs: ['features'], outputs: ['padding_shape'] },
      { opType: 'Gather', inputs: ['padding_shape', 'padding_axes'], outputs: ['padding_rows'], attributes: { axis: 0 } },
      // onnx.TensorProto.DataType.FLOAT = 1
      { opType: 'Cast', inputs: ['padding_rows'], outputs: ['padding_rows_float'], attributes: { to: 1 } },
      { opType: 'Div', inputs: ['padding_rows_float', 'padding_rows_float'], outputs: ['padding_one'] },
      { opType: 'Mul', inputs: ['padding_square', 'padding_one'], outputs: ['padding_square_runtime'] },
    );
    for (let layer = 0; layer < layers; layer++) {
      nodes.push({ opType: 'MatMul', inputs: [`padding_${layer}`, 'padding_square_runtime'], outputs: [`padding_${layer + 1}`] });
    }
    nodes.push({ opType: 'MatMul', inputs: [`padding_${layers}`, 'padding_out'], outputs: ['padding_term'] });
    terms.push('padding_term');
  }
  initializers.push({ name: 'bias', type: 'float', dims: [1], values: [bias] });
  let sum = 'bias';
  terms.forEach((term, index) => {
    const output = `sum_${index}`;
    nodes.push({ opType: 'Add', inputs: [term, sum], outputs: [output] });
    sum = output;
  });
  if (problemType === 'binary-classification') nodes.push({ opType: 'Sigmoid', inputs: [sum], outputs: ['scores'] });
  else nodes.push({ opType: 'Identity', inputs: [sum], outputs: ['scores'] });
  return encodeOnnxModel({
    name: `cdk-mlops-${problemType}`,
    producer: 'cdk-mlops-local-trainer',
    nodes,
    initializers,
    inputs: [{ name: 'features', dims: ['rows', featureCount] }],
    outputs: [{ name: 'scores', dims: ['rows', 1] }],
  });
}

export interface LocalTrainerOptions {
  readonly store: ObjectStore;
  /** The model every job of this trainer trains (the pipeline is per model). */
  readonly model: ModelDocument;
  /**
   * Spot interruptions to simulate in the next job (each restarts it from its last checkpoint).
   * @default 0
   */
  interruptions?: number;
  /**
   * Share of the on-demand price saved on spot capacity; BillableTimeInSeconds = training × (1 − this).
   * @default 0.7
   */
  readonly spotDiscount?: number;
  /**
   * The job's reported duration is simulated, as if each epoch took this long on the configured
   * instance (a local run takes well under a second, which would make every ratio 0 or 1).
   * @default 2
   */
  readonly simulatedSecondsPerEpoch?: number;
  /** Per-epoch progress, for the demo's timeline. */
  readonly onProgress?: (event: { job: string; message: string }) => void;
}

/** A spot reclaim, as the simulated job sees it. */
class SpotInterruption extends Error {
  override readonly name = 'SpotInterruption';
  constructor(
    message: string,
    readonly epochsRun: number,
  ) {
    super(message);
  }
}

export class LocalTrainer {
  constructor(private readonly options: LocalTrainerOptions) {}

  /** The next spot job is reclaimed `count` times, each time resuming from its last checkpoint. */
  interruptNextJob(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new ValidationError(`interruptions must be a whole number ≥ 0, got ${count}`);
    this.options.interruptions = count;
  }

  async runJob(request: TrainingJobRequest): Promise<TrainingJobDescription> {
    const started = performance.now();
    const { store, model: document } = this.options;
    const hyperparameters = parseHyperparameters(request.HyperParameters);
    const channel = request.InputDataConfig.find((input) => input.ChannelName === 'train');
    if (!channel) throw new ValidationError(`training job ${request.TrainingJobName} has no "train" input channel`);
    if (document.problemType === 'multiclass-classification') {
      throw new ValidationError(`the local trainer fits binary classifiers and regressions; model "${document.name}" is multiclass`);
    }
    const target = document.columns.find((column) => column.name === document.target)!;
    const data = await readHoldout(store, channel.DataSource.S3DataSource.S3Uri, modelSchemaFor(document), {
      target: { name: target.name, type: target.type },
    });
    if (data.rows === 0) throw new ValidationError(`the train channel ${channel.DataSource.S3DataSource.S3Uri} has no labelled rows`);
    const spot = request.EnableManagedSpotTraining === true;
    const checkpointUri = request.CheckpointConfig?.S3Uri;
    const checkpointLocation = checkpointUri
      ? parseS3Uri(
          checkpointUri.endsWith('/') ? `${checkpointUri}checkpoint.json` : `${checkpointUri}/checkpoint.json`,
          'CheckpointConfig.S3Uri',
        )
      : undefined;

    let interruptions = spot ? (this.options.interruptions ?? 0) : 0;
    this.options.interruptions = 0;
    let resumedFromEpoch = 0;
    let epochsRun = 0;
    let model = initialModel(data, document);
    let result: { loss: number; startEpoch: number };
    for (;;) {
      const resumeFrom = checkpointLocation ? await this.loadCheckpoint(checkpointLocation.bucket, checkpointLocation.key) : undefined;
      model = initialModel(data, document);
      try {
        result = await fitLinearModel(data, model, {
          hyperparameters,
          problemType: document.problemType,
          resumeFrom,
          onCheckpoint: async (checkpoint) => {
            if (checkpointLocation) {
              await store.put(checkpointLocation.bucket, checkpointLocation.key, JSON.stringify(checkpoint), 'application/json');
            }
            if (interruptions > 0 && checkpoint.epoch >= hyperparameters.epochs / 2) {
              interruptions--;
              throw new SpotInterruption(
                `spot capacity reclaimed at epoch ${checkpoint.epoch}`,
                checkpoint.epoch - (resumeFrom?.epoch ?? 0),
              );
            }
          },
        });
        resumedFromEpoch = Math.max(resumedFromEpoch, result.startEpoch);
        epochsRun += hyperparameters.epochs - result.startEpoch;
        break;
      } catch (error) {
        if (!(error instanceof SpotInterruption)) throw error;
        epochsRun += error.epochsRun;
        this.options.onProgress?.({ job: request.TrainingJobName, message: `${error.message}; resuming from the last checkpoint` });
      }
    }

    const modelBytes = modelGraph(model, data.width, document.problemType, hyperparameters.latencyPadding);
    const trainingSeconds = Math.max(1, Math.round(epochsRun * (this.options.simulatedSecondsPerEpoch ?? 2)));
    this.options.onProgress?.({
      job: request.TrainingJobName,
      message: `trained ${data.rows} rows, ${epochsRun} epochs in ${Math.round(performance.now() - started)} ms (reported as ${trainingSeconds} s)`,
    });
    const metrics = {
      trainingRows: data.rows,
      skippedRows: data.skipped,
      finalLoss: result.loss,
      epochs: hyperparameters.epochs,
      resumedFromEpoch,
    };
    const archive = await packModelArchive({ 'model.onnx': modelBytes, 'metrics.json': `${JSON.stringify(metrics, null, 1)}\n` });
    const output = parseS3Uri(request.OutputDataConfig.S3OutputPath, 'OutputDataConfig.S3OutputPath');
    const prefix = output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`;
    const artifactKey = `${prefix}${request.TrainingJobName}/output/model.tar.gz`;
    await store.put(output.bucket, artifactKey, archive, 'application/gzip');
    const discount = this.options.spotDiscount ?? 0.7;
    return {
      TrainingJobName: request.TrainingJobName,
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: s3Uri(output.bucket, artifactKey) },
      TrainingTimeInSeconds: trainingSeconds,
      BillableTimeInSeconds: spot ? Math.max(1, Math.round(trainingSeconds * (1 - discount))) : trainingSeconds,
      EnableManagedSpotTraining: spot,
      HyperParameters: request.HyperParameters ?? {},
    };
  }

  private async loadCheckpoint(bucket: string, key: string): Promise<Checkpoint | undefined> {
    try {
      return JSON.parse(await this.options.store.getText(bucket, key)) as Checkpoint;
    } catch (error) {
      if ((error as Error).name === 'NotFoundError') return undefined;
      throw error;
    }
  }
}

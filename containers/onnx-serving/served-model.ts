/**
 * The model this container serves. It is fixed for the container's life: SageMaker deploys a
 * version by starting new containers on its model.tar.gz (extracted into the model directory), so
 * unlike the Lambda's Predictor this never reads the registry. Scoring is the serving core's:
 * encodeRows (validation and encoding), an onnxruntime session, toPredictions.
 *
 * Without a model.onnx and without MODEL_VERSION the container runs the bootstrap model the stack
 * creates before any version exists: healthy, answering every invocation 404 NoModelDeployed, so
 * the first deployment of the stack succeeds with nothing trained yet.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ClassLabel, ModelSchema, Prediction, PredictResponse } from '../../contracts/serving-schema';
import { encodeRows } from '../../lambdas/shared/serving/features';
import { MODEL_FILE_NAME } from '../../lambdas/shared/serving/model-artifact';
import { outputColumnsOf, toPredictions } from '../../lambdas/shared/serving/predictions';
import { ModelUnavailableError, NoModelDeployedError } from './errors';
import { InstanceScorer } from './instance-scorer';
import type { Logger } from './log';
import { type ServingSettings, SettingsError } from './settings';

/**
 * The version a response names for a model not from the registry (a model directory started
 * without MODEL_VERSION, e.g. a local run); registry versions start at 1.
 */
export const UNVERSIONED_MODEL = 0;

export const NO_MODEL_MESSAGE = 'no model version has been deployed to this endpoint yet; run the training pipeline to deploy one';

export type ModelStatus = 'loading' | 'ready' | 'no-model' | 'failed';

interface LoadedModel {
  readonly schema: ModelSchema;
  readonly version: number;
  readonly scorer: InstanceScorer;
}

export class ServedModel {
  private currentStatus: ModelStatus;
  private loaded: LoadedModel | undefined;

  private constructor(
    private readonly settings: ServingSettings,
    private readonly modelFile: string | undefined,
    private readonly log: Logger,
  ) {
    this.currentStatus = modelFile ? 'loading' : 'no-model';
  }

  /**
   * Decides between serving a model and the bootstrap mode; throws SettingsError for settings
   * that contradict the model directory (a model without a schema, a version without a model).
   */
  static open(settings: ServingSettings, log: Logger): ServedModel {
    const modelFile = path.join(settings.modelDirectory, MODEL_FILE_NAME);
    if (existsSync(modelFile)) {
      if (!settings.schema) throw new SettingsError(`MODEL_SCHEMA is required: ${modelFile} holds a model to serve`);
      return new ServedModel(settings, modelFile, log);
    }
    if (settings.modelVersion !== undefined) {
      // A registry version whose artifact lost its model must fail its health check, not pose as the bootstrap model.
      throw new SettingsError(`MODEL_VERSION is ${settings.modelVersion} but ${settings.modelDirectory} holds no ${MODEL_FILE_NAME}`);
    }
    return new ServedModel(settings, undefined, log);
  }

  get status(): ModelStatus {
    return this.currentStatus;
  }

  /**
   * Creates the session and scores one probe row, so a model whose input or output does not fit
   * the schema fails its health check (and SageMaker never shifts traffic to it) instead of
   * failing requests. Never rejects: a failure is logged and leaves the status `failed`.
   */
  async load(threads: number): Promise<void> {
    if (!this.modelFile) {
      this.log.info('no model to load: serving the bootstrap model', { modelDirectory: this.settings.modelDirectory });
      return;
    }
    const schema = this.settings.schema!;
    const started = performance.now();
    try {
      const scorer = await InstanceScorer.create(await readFile(this.modelFile), threads);
      const width = schema.features.length;
      if (scorer.inputWidth !== undefined && scorer.inputWidth !== width) {
        throw new Error(
          `the model's input takes ${scorer.inputWidth} features, MODEL_SCHEMA names ${width} (${schema.features.map((feature) => feature.name).join(', ')})`,
        );
      }
      outputColumnsOf(schema, await scorer.score(new Float32Array(width), 1, width), 1);
      this.loaded = { schema, scorer, version: this.settings.modelVersion ?? UNVERSIONED_MODEL };
      this.currentStatus = 'ready';
      this.log.info('model loaded', {
        modelName: schema.modelName,
        modelVersion: this.loaded.version,
        features: width,
        threads,
        loadMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      this.currentStatus = 'failed';
      this.log.error('model failed to load', { modelFile: this.modelFile, error: (error as Error).message });
    }
  }

  /** The answer to `{ instances }`, exactly the predict Lambda's PredictResponse. */
  async predict(instances: readonly unknown[]): Promise<PredictResponse> {
    const model = this.loaded;
    if (!model) throw this.unavailable();
    const { schema, scorer, version } = model;
    const encoded = encodeRows(schema, instances);
    const scores = await scorer.score(encoded.values, encoded.rows, encoded.columns);
    const predictions = toPredictions(schema, scores, encoded.rows);
    const labels = responseLabels(schema, predictions);
    return { modelName: schema.modelName, modelVersion: version, ...(labels ? { labels } : {}), predictions };
  }

  async close(): Promise<void> {
    await this.loaded?.scorer.release();
  }

  private unavailable(): Error {
    if (this.currentStatus === 'no-model') {
      const modelName = this.settings.schema?.modelName;
      return new NoModelDeployedError(modelName ? `model "${modelName}": ${NO_MODEL_MESSAGE}` : NO_MODEL_MESSAGE);
    }
    return new ModelUnavailableError(
      this.currentStatus === 'loading' ? 'the model is still loading; retry shortly' : "the model failed to load; see the container's log",
    );
  }
}

/** The labels of a classification answer, as the Lambda's Predictor sets them: configured, else output column indices. */
function responseLabels(schema: ModelSchema, predictions: readonly Prediction[]): readonly ClassLabel[] | undefined {
  if (schema.problemType === 'regression') return undefined;
  if (schema.classLabels) return schema.classLabels;
  const first = predictions[0];
  return first && 'probabilities' in first ? first.probabilities.map((_, index) => index) : undefined;
}

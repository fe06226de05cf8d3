/**
 * Serves one model: validates and encodes a batch, scores it with the loaded model, shapes
 * the answers and hands a sample to capture. The model is loaded once and kept; every
 * `refreshIntervalMs` the registry's production pointer is read again (one GetItem), so a
 * promotion or a rollback reaches warm containers without a redeploy.
 */
import type { VersionRecord } from '../registry/model';
import { type RegistryReader, resolveServedVersion } from './artifact';
import type { CaptureBuffer, FlushResult } from './capture';
import { type ClassLabel, encodeRows, type ModelSchema } from './features';
import { type Prediction, type ScoreTensor, toPredictions } from './predictions';

/** A loaded model; onnx-scorer.ts wraps an onnxruntime InferenceSession. */
export interface Scorer {
  score(values: Float32Array, rows: number, columns: number): Promise<ScoreTensor>;
}

export interface PredictorOptions {
  readonly schema: ModelSchema;
  readonly registry: RegistryReader;
  /** Builds a scorer for a version (download, verify, create the session). */
  readonly loadScorer: (version: VersionRecord) => Promise<Scorer>;
  /** Serve this version instead of the production one (a canary of a model version). */
  readonly pinnedVersion?: number;
  /** @default 60_000 */
  readonly refreshIntervalMs?: number;
  readonly capture?: CaptureBuffer;
  /** Told when a refresh fails (the loaded model keeps serving). */
  readonly onRefreshError?: (error: Error) => void;
  readonly now?: () => number;
}

export interface PredictResponse {
  readonly modelName: string;
  readonly modelVersion: number;
  /** Class labels in the order of each prediction's `probabilities` (classification only). */
  readonly labels?: readonly ClassLabel[];
  readonly predictions: Prediction[];
}

export interface PredictOutcome {
  readonly response: PredictResponse;
  /** Present when this request wrote a capture batch (or failed to). */
  readonly capture?: FlushResult;
}

interface LoadedModel {
  readonly version: number;
  readonly scorer: Scorer;
}

export class Predictor {
  private model: Promise<LoadedModel> | undefined;
  private checkedAt = 0;
  private readonly refreshIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PredictorOptions) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Loads the model ahead of the first request (called during Lambda INIT). */
  async warm(): Promise<number> {
    return (await this.currentModel()).version;
  }

  async predict(instances: readonly unknown[], requestId: string): Promise<PredictOutcome> {
    const { schema, capture } = this.options;
    const encoded = encodeRows(schema, instances);
    const model = await this.currentModel();
    const scores = await model.scorer.score(encoded.values, encoded.rows, encoded.columns);
    const predictions = toPredictions(schema, scores, encoded.rows);
    const labels = schema.problemType === 'regression' ? undefined : (schema.classLabels ?? labelsFrom(predictions));
    const response: PredictResponse = {
      modelName: schema.modelName,
      modelVersion: model.version,
      ...(labels ? { labels } : {}),
      predictions,
    };
    if (!capture) return { response };
    if (capture.sample()) capture.add(requestId, model.version, instances, predictions);
    return capture.due() ? { response, capture: await capture.flush() } : { response };
  }

  /** Writes whatever capture holds (at shutdown). */
  async flushCapture(): Promise<FlushResult | undefined> {
    return this.options.capture?.flush();
  }

  private async currentModel(): Promise<LoadedModel> {
    const now = this.now();
    if (!this.model) {
      this.checkedAt = now;
      this.model = this.load();
      // A failed load must not stick: the next request tries again.
      this.model.catch(() => {
        this.model = undefined;
      });
      return this.model;
    }
    const current = await this.model;
    if (this.options.pinnedVersion !== undefined || now - this.checkedAt < this.refreshIntervalMs) return current;
    this.checkedAt = now;
    // A registry or S3 failure during a refresh keeps the loaded model serving; the next interval retries.
    this.model = this.refresh(current).catch((error: unknown) => {
      this.options.onRefreshError?.(error as Error);
      return current;
    });
    return this.model;
  }

  private async refresh(current: LoadedModel): Promise<LoadedModel> {
    const latest = await resolveServedVersion(this.options.registry, this.options.schema.modelName);
    if (latest.version === current.version) return current;
    return { version: latest.version, scorer: await this.options.loadScorer(latest) };
  }

  private async load(): Promise<LoadedModel> {
    const record = await resolveServedVersion(this.options.registry, this.options.schema.modelName, this.options.pinnedVersion);
    return { version: record.version, scorer: await this.options.loadScorer(record) };
  }
}

function labelsFrom(predictions: Prediction[]): ClassLabel[] | undefined {
  const first = predictions[0];
  return first && 'probabilities' in first ? first.probabilities.map((_, index) => index) : undefined;
}

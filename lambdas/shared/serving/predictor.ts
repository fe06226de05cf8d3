/**
 * Serves one model: validates and encodes a batch, scores it with the loaded model, shapes
 * the answers and hands a sample to capture. The registry is read through a TTL cache: every
 * `refreshIntervalMs` (30 s by default) the model record is read again (one GetItem), so a
 * promotion, a rollback or a new Staging version reaches warm containers within that time.
 * While a Staging version exists it is the canary: `canaryPercent` of requests, chosen by a
 * hash of the request id (all rows of a request go to one version), are scored by it, the rest
 * by the production version; both sessions stay loaded. A canary request the candidate cannot
 * answer (load or scoring fault) is answered by the production version and reported failed.
 * Before its canary, a Staging version may be in shadow (the registry's `stagingPhase`): every
 * request is answered by production, and `shadowPercent` of them (by the same hash) come back with
 * a MirrorRequest the caller hands to the shadow function after answering; the candidate is not
 * loaded here.
 * Rows with inputs outside the answering version's training ranges are flagged (`outOfRange`).
 */
import type { VersionRecord } from '../../../contracts/registry';
import type { ClassLabel, ModelSchema, Prediction, PredictResponse, TrainingRanges } from '../../../contracts/serving-schema';
import { NotFoundError } from '../errors';
import type { CaptureBuffer, FlushResult } from './capture';
import { type EncodedRows, encodeRows } from './features';
import { type ScoreTensor, toPredictions } from './predictions';
import { type RegistryReader, resolveServedVersion } from './served-version';
import { answersOf, type MirrorRequest } from './shadow';
import { RangeCheck } from './training-ranges';

/** A loaded model; onnx-scorer.ts wraps an onnxruntime InferenceSession. */
export interface Scorer {
  score(values: Float32Array, rows: number, columns: number): Promise<ScoreTensor>;
  /** What the version's training split held of each feature (from its artifact); inputs outside are flagged. */
  readonly trainingRanges?: TrainingRanges;
}

/** How one canary-routed request went, for the Canary* metrics. */
export interface CanaryObservation {
  readonly version: number;
  readonly failed: boolean;
  /** Time the candidate took (encoding excluded), in milliseconds. */
  readonly latencyMs: number;
  readonly error?: Error;
}

/** The registry cache TTL when none is configured: a registry change reaches every warm container within it. */
export const DEFAULT_REFRESH_INTERVAL_MS = 30_000;

export interface PredictorOptions {
  readonly schema: ModelSchema;
  readonly registry: RegistryReader;
  /** Builds a scorer for a version (download, verify, create the session). */
  readonly loadScorer: (version: VersionRecord) => Promise<Scorer>;
  /** Serve this version instead of the production one (no registry refresh, no model-version canary). */
  readonly pinnedVersion?: number;
  /** TTL of the registry lookup. @default DEFAULT_REFRESH_INTERVAL_MS */
  readonly refreshIntervalMs?: number;
  /** Share of requests (percent) routed to the Staging version while there is one. @default 0 */
  readonly canaryPercent?: number;
  /** Share of requests (percent) mirrored to the Staging version while it is in shadow. @default 0 */
  readonly shadowPercent?: number;
  /** Told about every canary-routed request, failed or not. */
  readonly onCanaryRequest?: (observation: CanaryObservation) => void;
  readonly capture?: CaptureBuffer;
  /** Told when a refresh fails (the loaded model keeps serving). */
  readonly onRefreshError?: (error: Error) => void;
  readonly now?: () => number;
  /** Clock for canary latency. @default performance.now */
  readonly clock?: () => number;
}

export interface PredictOutcome {
  readonly response: PredictResponse;
  /** Rows with an input outside the answering version's training ranges (flagged in the response). */
  readonly outOfRangeRows: number;
  /** Present when this request wrote a capture batch (or failed to). */
  readonly capture?: FlushResult;
  /** Present when the request is mirrored to the candidate in shadow: send it on after answering. */
  readonly mirror?: MirrorRequest;
}

interface LoadedModel {
  readonly version: number;
  readonly scorer: Scorer;
  readonly rangeCheck?: RangeCheck;
}

/** The Staging version: loaded, or the load failure (retried at the next refresh). */
type CanaryModel = LoadedModel | { readonly version: number; readonly loadError: Error };

interface ServedModels {
  readonly production: LoadedModel;
  readonly canary?: CanaryModel;
  /** The Staging version while it is in shadow (mirrored to, never loaded here). */
  readonly shadowVersion?: number;
}

export class Predictor {
  private served: Promise<ServedModels> | undefined;
  private checkedAt = 0;
  private readonly refreshIntervalMs: number;
  private readonly canaryBuckets: number;
  private readonly shadowBuckets: number;
  private readonly now: () => number;
  private readonly clock: () => number;

  constructor(private readonly options: PredictorOptions) {
    const percent = options.canaryPercent ?? 0;
    if (!(percent >= 0 && percent <= 100)) throw new Error(`canaryPercent must be between 0 and 100, got ${percent}`);
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    this.canaryBuckets = Math.round(percent * (CANARY_BUCKETS / 100));
    const shadowPercent = options.shadowPercent ?? 0;
    if (!(shadowPercent >= 0 && shadowPercent <= 100)) throw new Error(`shadowPercent must be between 0 and 100, got ${shadowPercent}`);
    this.shadowBuckets = Math.round(shadowPercent * (CANARY_BUCKETS / 100));
    this.now = options.now ?? Date.now;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Loads the model(s) ahead of the first request (called during Lambda INIT); resolves to the production version. */
  async warm(): Promise<number> {
    return (await this.currentModels()).production.version;
  }

  /** The versions served now: production, the canary when there is one, the version in shadow when there is one. */
  async loadedVersions(): Promise<{ production: number; canary?: number; shadow?: number }> {
    const { production, canary, shadowVersion } = await this.currentModels();
    return {
      production: production.version,
      ...(canary && 'scorer' in canary ? { canary: canary.version } : {}),
      ...(shadowVersion === undefined ? {} : { shadow: shadowVersion }),
    };
  }

  async predict(instances: readonly unknown[], requestId: string): Promise<PredictOutcome> {
    const { schema, capture } = this.options;
    const encoded = encodeRows(schema, instances);
    const { production, canary, shadowVersion } = await this.currentModels();
    const routed = canary !== undefined && this.routesToCanary(requestId);
    const scored = (routed && (await this.scoreCanary(canary, encoded))) || {
      model: production,
      predictions: await scoreWith(production.scorer, schema, encoded),
    };
    const { model, predictions } = scored;
    const version = model.version;
    const outOfRangeRows = model.rangeCheck?.flag(encoded, predictions) ?? 0;
    const labels = schema.problemType === 'regression' ? undefined : (schema.classLabels ?? labelsFrom(predictions));
    const response: PredictResponse = { modelName: schema.modelName, modelVersion: version, ...(labels ? { labels } : {}), predictions };
    const mirror: MirrorRequest | undefined =
      shadowVersion !== undefined && canaryBucket(requestId) < this.shadowBuckets
        ? {
            modelName: schema.modelName,
            requestId,
            productionVersion: version,
            candidateVersion: shadowVersion,
            instances,
            production: answersOf(predictions),
          }
        : undefined;
    const outcome = { response, outOfRangeRows, ...(mirror ? { mirror } : {}) };
    if (!capture) return outcome;
    if (capture.sample()) capture.add(requestId, version, instances, predictions);
    return capture.due() ? { ...outcome, capture: await capture.flush() } : outcome;
  }

  /** Whether a request id falls in the canary's share (deterministic: a retried request goes the same way). */
  routesToCanary(requestId: string): boolean {
    return canaryBucket(requestId) < this.canaryBuckets;
  }

  /** Writes whatever capture holds (at shutdown). */
  async flushCapture(): Promise<FlushResult | undefined> {
    return this.options.capture?.flush();
  }

  /** The candidate's answer, or undefined (after reporting the failure) so production answers instead. */
  private async scoreCanary(
    canary: CanaryModel,
    encoded: EncodedRows,
  ): Promise<{ model: LoadedModel; predictions: Prediction[] } | undefined> {
    const started = this.clock();
    let error: Error;
    if ('scorer' in canary) {
      try {
        const predictions = await scoreWith(canary.scorer, this.options.schema, encoded);
        this.options.onCanaryRequest?.({ version: canary.version, failed: false, latencyMs: this.clock() - started });
        return { model: canary, predictions };
      } catch (caught) {
        error = caught as Error;
      }
    } else {
      error = canary.loadError;
    }
    this.options.onCanaryRequest?.({ version: canary.version, failed: true, latencyMs: this.clock() - started, error });
    return undefined;
  }

  private async currentModels(): Promise<ServedModels> {
    const now = this.now();
    if (!this.served) {
      this.checkedAt = now;
      this.served = this.load();
      // A failed load must not stick: the next request tries again.
      this.served.catch(() => {
        this.served = undefined;
      });
      return this.served;
    }
    const current = await this.served;
    if (this.options.pinnedVersion !== undefined || now - this.checkedAt < this.refreshIntervalMs) return current;
    this.checkedAt = now;
    // A registry or S3 failure during a refresh keeps the loaded models serving; the next interval retries.
    this.served = this.refresh(current).catch((error: unknown) => {
      this.options.onRefreshError?.(error as Error);
      return current;
    });
    return this.served;
  }

  private async load(): Promise<ServedModels> {
    const { registry, schema, pinnedVersion, loadScorer } = this.options;
    if (pinnedVersion !== undefined) {
      const record = await resolveServedVersion(registry, schema.modelName, pinnedVersion);
      return { production: this.loaded(record.version, await loadScorer(record)) };
    }
    return this.refresh(undefined);
  }

  /** Reads the registry pointers; loads only versions not already loaded (a promoted canary keeps its session). */
  private async refresh(current: ServedModels | undefined): Promise<ServedModels> {
    const { registry, schema } = this.options;
    const model = await registry.getModel(schema.modelName);
    if (!model) throw new NotFoundError(`model "${schema.modelName}" is not in the registry`, { modelName: schema.modelName });
    if (model.productionVersion === undefined) {
      throw new NotFoundError(`model "${schema.modelName}" has no production version to serve; promote one first`, {
        modelName: schema.modelName,
      });
    }
    const loaded = [current?.production, current?.canary].filter((entry): entry is LoadedModel => entry !== undefined && 'scorer' in entry);
    const reuse = (version: number) => loaded.find((entry) => entry.version === version);
    const production = reuse(model.productionVersion) ?? (await this.loadVersion(model.productionVersion));
    if (model.stagingPhase === 'shadow') {
      const mirrored = this.shadowBuckets > 0 && model.stagingVersion !== production.version ? model.stagingVersion : undefined;
      return mirrored === undefined ? { production } : { production, shadowVersion: mirrored };
    }
    const stagingVersion = this.canaryBuckets > 0 ? model.stagingVersion : undefined;
    if (stagingVersion === undefined || stagingVersion === production.version) return { production };
    const canary: CanaryModel =
      reuse(stagingVersion) ??
      (await this.loadVersion(stagingVersion).catch((error: unknown) => ({ version: stagingVersion, loadError: error as Error })));
    return { production, canary };
  }

  private async loadVersion(version: number): Promise<LoadedModel> {
    const record = await resolveServedVersion(this.options.registry, this.options.schema.modelName, version);
    return this.loaded(version, await this.options.loadScorer(record));
  }

  private loaded(version: number, scorer: Scorer): LoadedModel {
    const rangeCheck = RangeCheck.of(this.options.schema, scorer.trainingRanges);
    return { version, scorer, ...(rangeCheck ? { rangeCheck } : {}) };
  }
}

/** Canary routing resolution: shares in hundredths of a percent. */
const CANARY_BUCKETS = 10_000;

/** The request id's bucket in [0, 10000): 32-bit FNV-1a, then a multiplicative spread of its bits. */
export function canaryBucket(requestId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < requestId.length; index++) {
    hash ^= requestId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  // FNV-1a's low bits mix poorly for ids that differ in one trailing character; fold the high bits in.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) % CANARY_BUCKETS;
}

async function scoreWith(scorer: Scorer, schema: ModelSchema, encoded: EncodedRows): Promise<Prediction[]> {
  const scores = await scorer.score(encoded.values, encoded.rows, encoded.columns);
  return toPredictions(schema, scores, encoded.rows);
}

function labelsFrom(predictions: Prediction[]): ClassLabel[] | undefined {
  const first = predictions[0];
  return first && 'probabilities' in first ? first.probabilities.map((_, index) => index) : undefined;
}

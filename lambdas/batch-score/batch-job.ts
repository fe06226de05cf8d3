/**
 * The batch inference pipeline's three steps (statemachines/batch-inference.asl.json), on the
 * object store and registry interfaces:
 *
 * - `list`: refuses locations the function may not use (inputs under the datasets bucket's
 *   `<model>/`, outputs under the artifacts bucket's `batch/<model>/`: what its role allows, said
 *   plainly instead of an AccessDenied), resolves the version (the one asked for, else production;
 *   never a Rejected one) and lists the input objects (one object, or every object under a prefix) as the Map's items — the
 *   list the Distributed Map's ItemsPath reads, as the training pipeline's ListShards does.
 * - `score`: one input object → `<output prefix><name>.scored.<csv|jsonl>` (row id, model version,
 *   prediction) and capture records of its scored rows under the capture bucket's
 *   `<model>/batch/<runId>/` (read by the check-drift function with `captureUri`); the object's
 *   refused rows come back (the first MAX_LISTED_FAILURES) with counts and the time it took.
 * - `summarize`: totals, the failures listed, the drift verdict and the run's cost into
 *   `<output prefix>_manifest.json`; over `maxFailedPercent` failed rows the run fails
 *   (BatchFailuresExceeded) after writing it, so the failures are there to read.
 */
import * as z from 'zod';
import { BATCH_CONTENT_TYPES, batchLocations } from '../../contracts/batch-inference';
import type { VersionRecord } from '../../contracts/registry';
import type { ModelSchema } from '../../contracts/serving-schema';
import { NotFoundError, PlatformError, ValidationError } from '../shared/errors';
import { type ObjectStore, parseS3Uri, s3Uri } from '../shared/object-store';
import type { Scorer } from '../shared/serving/predictor';
import type { RegistryReader } from '../shared/serving/served-version';
import { BATCH_OUTPUT_FORMATS, failuresTolerated, type RowFailure, rowsFromCsv, rowsFromJsonLines, scoreRows } from './batch-score';

/** Failed rows an object's result and the manifest list (the counts are always complete). */
export const MAX_LISTED_FAILURES = 100;
/** The Map's item list travels in the state (256 KB): at most this many bytes of keys. */
export const MAX_LISTED_KEY_BYTES = 160 * 1024;

/** Prices the cost line uses (us-east-1, arm64 Lambda; Step Functions Standard and Express). */
export const BATCH_PRICES = {
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  standardTransition: 0.025 / 1000,
  expressRequest: 1 / 1_000_000,
  /** Express duration, per GB-second (billed in 64 MB steps; the child is one Task). */
  expressGbSecond: 0.00001667,
} as const;

const version = z.number().int().positive();
const s3UriField = z.string().startsWith('s3://');

export const batchEventSchema = z.discriminatedUnion('mode', [
  z
    .object({ mode: z.literal('list'), model: z.string().min(1), inputUri: s3UriField, outputUri: s3UriField, version: version.nullish() })
    .strict(),
  z
    .object({
      mode: z.literal('score'),
      model: z.string().min(1),
      version,
      bucket: z.string().min(1),
      key: z.string().min(1),
      outputUri: s3UriField,
      runId: z.string().min(1),
      format: z.enum(BATCH_OUTPUT_FORMATS),
      rowIdColumn: z.string().nullish(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('summarize'),
      model: z.string().min(1),
      version,
      runId: z.string().min(1),
      inputUri: s3UriField,
      outputUri: s3UriField,
      maxFailedPercent: z.number().min(0).max(100),
      results: z.array(z.unknown()),
      /** The check-drift function's answer over the run's capture (or the error it failed with). */
      drift: z.unknown(),
      /** Standard transitions of the parent's happy path, counted by the state machine's shape (the Map's child starts are added). */
      transitions: z.number().int().min(0),
    })
    .strict(),
]);
export type BatchEvent = z.output<typeof batchEventSchema>;

export interface ListResult {
  readonly version: number;
  readonly bucket: string;
  readonly items: string[];
}

export interface ObjectResult {
  readonly key: string;
  readonly outputKey: string;
  readonly rows: number;
  readonly scoredRows: number;
  readonly failedRows: number;
  readonly failures: RowFailure[];
  /** Scoring time of the object (read, score, write), for the GB-s count. */
  readonly durationMs: number;
}

const objectResultSchema = z.object({
  key: z.string(),
  outputKey: z.string(),
  rows: z.number(),
  scoredRows: z.number(),
  failedRows: z.number(),
  failures: z.array(z.object({ rowId: z.string(), error: z.string() })),
  durationMs: z.number(),
});

export interface BatchSummary {
  readonly model: string;
  readonly version: number;
  readonly runId: string;
  readonly inputUri: string;
  readonly outputUri: string;
  readonly objects: number;
  readonly rows: number;
  readonly scoredRows: number;
  readonly failedRows: number;
  readonly failedPercent: number;
  readonly maxFailedPercent: number;
  readonly failures: Array<RowFailure & { readonly key: string }>;
  readonly drift: unknown;
  readonly cost: {
    readonly transitions: number;
    readonly lambdaGbSeconds: number;
    readonly expressRequests: number;
    readonly dollars: number;
  };
  readonly manifestUri: string;
}

export class BatchFailuresExceeded extends PlatformError {
  override readonly name = 'BatchFailuresExceeded';
  readonly code = 'BatchFailuresExceeded';
  readonly httpStatus = 422;
}

export interface BatchDependencies {
  readonly schema: ModelSchema;
  readonly registry: RegistryReader;
  readonly objects: ObjectStore;
  readonly captureBucket: string;
  /** Inputs must be under this bucket's `<model>/`. */
  readonly datasetsBucket: string;
  /** Outputs must be under this bucket's `batch/<model>/`. */
  readonly artifactsBucket: string;
  readonly loadScorer: (version: VersionRecord) => Promise<Scorer>;
  /** The function's memory, for the GB-s count. */
  readonly memoryMb: number;
  readonly clock?: () => number;
  readonly now?: () => Date;
}

/** The version a batch scores with: the one asked for (not Rejected), else production. */
export async function resolveBatchVersion(registry: RegistryReader, modelName: string, requested?: number | null): Promise<VersionRecord> {
  if (requested === undefined || requested === null) {
    const model = await registry.getModel(modelName);
    if (model?.productionVersion === undefined) {
      throw new NotFoundError(`model "${modelName}" has no production version; name one with --version`, { modelName });
    }
    requested = model.productionVersion;
  }
  const record = await registry.getVersion(modelName, requested);
  if (!record) throw new NotFoundError(`model "${modelName}" has no version ${requested}`, { modelName, version: requested });
  if (record.stage === 'Rejected') {
    throw new ValidationError(`version ${requested} of "${modelName}" is Rejected; a batch scores with a version that passed its gates`, {
      modelName,
      version: requested,
    });
  }
  return record;
}

export class BatchJob {
  private scorer: { version: number; scorer: Promise<Scorer> } | undefined;

  constructor(private readonly dependencies: BatchDependencies) {}

  async run(event: unknown): Promise<ListResult | ObjectResult | BatchSummary> {
    const parsed = batchEventSchema.safeParse(event);
    if (!parsed.success) throw new ValidationError(`invalid batch event: ${z.prettifyError(parsed.error)}`);
    const request = parsed.data;
    if (request.model !== this.dependencies.schema.modelName) {
      throw new ValidationError(`this function scores model "${this.dependencies.schema.modelName}", not "${request.model}"`, {
        model: request.model,
      });
    }
    switch (request.mode) {
      case 'list':
        return this.list(request);
      case 'score':
        return this.score(request);
      case 'summarize':
        return this.summarize(request);
    }
  }

  /** Refuses an input or output outside the run's locations (see batchLocations), naming the allowed one. */
  private checkLocations(model: string, locations: { inputUri?: string; outputUri?: string }): void {
    const { inputPrefix, outputPrefix } = batchLocations(model);
    const { datasetsBucket, artifactsBucket } = this.dependencies;
    const checks = [
      { field: 'inputUri', uri: locations.inputUri, allowed: s3Uri(datasetsBucket, inputPrefix) },
      { field: 'outputUri', uri: locations.outputUri, allowed: s3Uri(artifactsBucket, outputPrefix) },
    ];
    for (const { field, uri, allowed } of checks) {
      if (uri === undefined || uri.startsWith(allowed)) continue;
      throw new ValidationError(
        `${field} must be under ${allowed} (where the batch function may ${field === 'inputUri' ? 'read' : 'write'}), got ${uri}`,
        {
          [field]: uri,
        },
      );
    }
  }

  private async list(request: Extract<BatchEvent, { mode: 'list' }>): Promise<ListResult> {
    this.checkLocations(request.model, { inputUri: request.inputUri, outputUri: request.outputUri });
    const record = await resolveBatchVersion(this.dependencies.registry, request.model, request.version);
    const { bucket, key } = parseS3Uri(request.inputUri, 'inputUri');
    const items =
      key === '' || key.endsWith('/')
        ? (await this.dependencies.objects.list(bucket, key)).filter((object) => object.size > 0).map((object) => object.key)
        : [(await this.dependencies.objects.head(bucket, key)).key];
    if (items.length === 0) throw new ValidationError(`no input objects under ${request.inputUri}`, { inputUri: request.inputUri });
    const bytes = items.reduce((total, item) => total + Buffer.byteLength(item) + 3, 0);
    if (bytes > MAX_LISTED_KEY_BYTES) {
      throw new ValidationError(
        `${items.length} input objects (${bytes} bytes of keys) do not fit the state's 256 KB; combine them into fewer, larger objects`,
        { inputUri: request.inputUri },
      );
    }
    return { version: record.version, bucket, items };
  }

  private async score(request: Extract<BatchEvent, { mode: 'score' }>): Promise<ObjectResult> {
    const clock = this.dependencies.clock ?? (() => performance.now());
    const started = clock();
    const { schema, objects } = this.dependencies;
    this.checkLocations(request.model, { inputUri: s3Uri(request.bucket, request.key), outputUri: request.outputUri });
    const scorer = await this.scorerFor(request.model, request.version);
    const text = await objects.getText(request.bucket, request.key);
    const jsonLines = /\.(jsonl|ndjson|json)(\.gz)?$/i.test(request.key);
    const rowIdColumn = request.rowIdColumn ?? undefined;
    const parsed = jsonLines ? rowsFromJsonLines(text, { rowIdColumn }) : rowsFromCsv(schema, text, { rowIdColumn });
    const result = await scoreRows(
      {
        schema,
        scorer,
        modelVersion: request.version,
        format: request.format,
        runId: request.runId,
        ...(this.dependencies.now ? { at: this.dependencies.now() } : {}),
      },
      parsed.rows,
    );
    const output = parseS3Uri(request.outputUri, 'outputUri');
    const prefix = output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`;
    const name = request.key
      .split('/')
      .at(-1)!
      .replace(/\.(csv|tsv|jsonl|ndjson|json)$/i, '');
    const outputKey = `${prefix}${name}.scored.${request.format}`;
    await objects.put(output.bucket, outputKey, result.output, BATCH_CONTENT_TYPES[request.format]);
    if (result.capture !== '') {
      await objects.put(
        this.dependencies.captureBucket,
        `${captureKeyPrefix(request.model, request.runId)}${name}.jsonl`,
        result.capture,
        'application/x-ndjson',
      );
    }
    const failures = [...parsed.failures, ...result.failures];
    return {
      key: request.key,
      outputKey: s3Uri(output.bucket, outputKey),
      rows: parsed.rows.length + parsed.failures.length,
      scoredRows: result.scoredRows,
      failedRows: failures.length,
      failures: failures.slice(0, MAX_LISTED_FAILURES),
      durationMs: Math.max(0, clock() - started),
    };
  }

  private async summarize(request: Extract<BatchEvent, { mode: 'summarize' }>): Promise<BatchSummary> {
    this.checkLocations(request.model, { outputUri: request.outputUri });
    const results = request.results.map((result) => objectResultSchema.parse(result));
    const rows = results.reduce((total, result) => total + result.rows, 0);
    const scoredRows = results.reduce((total, result) => total + result.scoredRows, 0);
    const failedRows = results.reduce((total, result) => total + result.failedRows, 0);
    const gbSeconds = (results.reduce((total, result) => total + result.durationMs, 0) / 1000) * (this.dependencies.memoryMb / 1024);
    const invocations = results.length + 2;
    // A Distributed Map bills one state transition per child workflow execution it starts.
    const transitions = request.transitions + results.length;
    const dollars =
      transitions * BATCH_PRICES.standardTransition +
      gbSeconds * BATCH_PRICES.lambdaGbSecond +
      invocations * BATCH_PRICES.lambdaRequest +
      results.length * BATCH_PRICES.expressRequest;
    const output = parseS3Uri(request.outputUri, 'outputUri');
    const prefix = output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`;
    const manifestKey = `${prefix}_manifest.json`;
    const summary: BatchSummary = {
      model: request.model,
      version: request.version,
      runId: request.runId,
      inputUri: request.inputUri,
      outputUri: request.outputUri,
      objects: results.length,
      rows,
      scoredRows,
      failedRows,
      failedPercent: rows === 0 ? 0 : Math.round((10_000 * failedRows) / rows) / 100,
      maxFailedPercent: request.maxFailedPercent,
      failures: results
        .flatMap((result) => result.failures.map((failure) => ({ key: result.key, ...failure })))
        .slice(0, MAX_LISTED_FAILURES),
      drift: request.drift ?? null,
      cost: {
        transitions,
        lambdaGbSeconds: Math.round(gbSeconds * 1000) / 1000,
        expressRequests: results.length,
        dollars: Math.round(dollars * 1e6) / 1e6,
      },
      manifestUri: s3Uri(output.bucket, manifestKey),
    };
    await this.dependencies.objects.put(output.bucket, manifestKey, JSON.stringify(summary, null, 1), 'application/json');
    if (!failuresTolerated(rows, failedRows, request.maxFailedPercent)) {
      throw new BatchFailuresExceeded(
        `${failedRows} of ${rows} rows failed (${summary.failedPercent}%), above the ${request.maxFailedPercent}% tolerated; listed in ${summary.manifestUri}`,
        { failedRows, rows },
      );
    }
    return summary;
  }

  private scorerFor(modelName: string, versionNumber: number): Promise<Scorer> {
    if (this.scorer?.version !== versionNumber) {
      const scorer = resolveBatchVersion(this.dependencies.registry, modelName, versionNumber).then((record) =>
        this.dependencies.loadScorer(record),
      );
      this.scorer = { version: versionNumber, scorer };
      scorer.catch(() => {
        if (this.scorer?.scorer === scorer) this.scorer = undefined;
      });
    }
    return this.scorer.scorer;
  }
}

/** Where a run's capture records go in the capture bucket (the check-drift function's `captureUri`). */
export function captureKeyPrefix(model: string, runId: string): string {
  return `${model}/batch/${runId}/`;
}

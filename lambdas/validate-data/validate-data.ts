/**
 * The validate-data use case over an ObjectStore: reads a dataset (one object, every object of a
 * prefix, or one shard), validates and profiles it, writes profile, report and quarantine under
 * the artifact bucket's prefixes, and returns a summary small enough for a Step Functions payload.
 * Output keys derive from the model and run id only, so a repeated event rewrites the same
 * objects (idempotent under at-least-once delivery).
 */
import { createHash } from 'node:crypto';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { type DatasetSchema, isDatasetObjectKey } from '../../contracts/dataset';
import type { ModelDocument } from '../../contracts/model';
import { modelSchemaFor, type TrainingRanges } from '../../contracts/serving-schema';
import { MODEL_DOCUMENT_FILE, TRAINING_CHANNELS } from '../../contracts/training-job';
import { NotFoundError, ValidationError } from '../shared/errors';
import { type ObjectStore, parseS3Uri, type StoredObject, s3Uri } from '../shared/object-store';
import { parseProfile, serializeProfile } from '../shared/profile/codec';
import type { DatasetProfile } from '../shared/profile/profile';
import { type DatasetFormat, readDataset } from '../shared/readers/index';
import { failureReasonOf, mergeShards, type QuarantinedRow, type SplitCheck, type ValidationReport } from './report';
import { DatasetSplitter, type SplitOutcome, type SplitPart } from './split';
import { DatasetValidator } from './validation';

export const VALIDATION_MODES = ['single', 'list', 'shard', 'merge'] as const;
export type ValidationMode = (typeof VALIDATION_MODES)[number];

export interface ValidateDataRequest {
  readonly datasetUri: string;
  /** The dataset schema; the whole model document when the run splits the data for training. */
  readonly model: DatasetSchema | ModelDocument;
  /**
   * Split the valid rows for a training run (train, validation and, unless the run brings its own
   * holdout, holdout) and write the training job's model document beside them.
   */
  readonly split?: { readonly holdoutUri: string | null };
  readonly referenceProfileUri?: string;
  readonly mode: ValidationMode;
  /** Names the outputs; required for shard and merge (all shards of a run share it). */
  readonly runId?: string;
  readonly format?: DatasetFormat;
  /** The CSV delimiter of this run; the model's dataset.delimiter when absent. */
  readonly delimiter?: string;
}

/** Failed rules listed in the summary; the report holds all of them. */
const MAX_SUMMARY_RULES = 50;

export interface ValidationSummary {
  readonly mode: Exclude<ValidationMode, 'list'>;
  readonly model: string;
  readonly runId: string;
  readonly datasetUri: string;
  readonly valid: boolean;
  readonly rowCount: number;
  readonly badRowCount: number;
  readonly badRowFraction: number;
  readonly failedRules: { rule: string; column?: string; violations: number }[];
  /** Why the dataset failed, in words (top rules with counts and examples); null when valid. */
  readonly failureReason: string | null;
  readonly profileUri: string;
  readonly reportUri: string;
  /** Null when no row was bad. */
  readonly quarantineUri: string | null;
  /** Shard mode only: the shard's id within the run. */
  readonly shardId?: string;
  /**
   * Identifies the data validated: the object's ETag, or for a prefix `sha256:<hex>` of its
   * objects' keys and ETags (the registry records it as the version's lineage).
   */
  readonly datasetEtag: string;
  /** The run's training inputs (split requested): row counts and SHA-256 per split, per-class counts in the report. */
  readonly split?: SplitSummary;
}

export interface SplitSummary {
  /** `s3://<artifacts>/splits/<model>/<run>/`; the channels are its train/, validation/, holdout/ and config/. */
  readonly uri: string;
  /** The training job's channels. */
  readonly trainUri: string;
  readonly validationUri: string;
  readonly configUri: string;
  /** What the model is evaluated on: the run's own holdoutUri, else the split's holdout. */
  readonly holdoutUri: string;
  readonly seed: number;
  readonly unlabelledRows: number;
  readonly train: { rows: number; sha256: string };
  readonly validation: { rows: number; sha256: string };
  readonly holdout?: { rows: number; sha256: string };
}

/** List mode: the objects of a prefix, for a Distributed Map, and the binning edges all shards share. */
export interface ShardListing {
  readonly mode: 'list';
  readonly model: string;
  readonly runId: string;
  readonly datasetUri: string;
  /** Keys relative to the prefix (shorter than URIs, so more fit in a state's payload). */
  readonly shards: string[];
  readonly datasetEtag: string;
  /** The profile whose histogram edges every shard is binned with, so shard histograms add up. */
  readonly referenceProfileUri: string;
}

/** The shard list travels in the state payload (256 KB); this leaves room for the rest of the state. */
const MAX_SHARD_LIST_BYTES = 160 * 1024;

export interface RunContext {
  readonly store: ObjectStore;
  readonly artifactsBucket: string;
  /** The one model this function validates for (its MODEL_NAME); an event for another is refused. */
  readonly modelName?: string;
}

function hash(text: string, length = 16): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function outputKeys(model: string, runId: string, shardId?: string) {
  const run = `${model}/${runId}/`;
  const name = (file: string) => (shardId === undefined ? file : `shards/${shardId}.${file}`);
  return {
    profile: `${ARTIFACT_PREFIXES.profiles}${run}${name('profile.json')}`,
    report: `${ARTIFACT_PREFIXES.reports}${run}${name('validation-report.json')}`,
    quarantine: `${ARTIFACT_PREFIXES.quarantine}${run}${name('rows.jsonl')}`,
    shardProfiles: `${ARTIFACT_PREFIXES.profiles}${run}shards/`,
    splits: `${ARTIFACT_PREFIXES.splits}${run}`,
    splitPart: (part: SplitPart) =>
      `${ARTIFACT_PREFIXES.splits}${run}${part.split}/part-${shardId ?? 'all'}-${String(part.index).padStart(5, '0')}.csv`,
    modelDocument: `${ARTIFACT_PREFIXES.splits}${run}${TRAINING_CHANNELS.config}/${MODEL_DOCUMENT_FILE}`,
  };
}

/** The model document a split needs: the run's split settings, problem type and gate minimum. */
function splitModel(request: ValidateDataRequest): ModelDocument | undefined {
  if (!request.split) return undefined;
  if (!('problemType' in request.model))
    throw new ValidationError('splitting a dataset for training needs the whole model document in "model"');
  return request.model;
}

/** What the holdout-size rule needs of the model: the gate's minimum and, for classification, every class label. */
function splitRulesOf(model: ModelDocument): Omit<SplitCheck, 'outcome'> {
  const classification = model.problemType !== 'regression';
  const labels = classification ? modelSchemaFor(model).classLabels : undefined;
  return { minHoldoutRows: model.thresholds.minHoldoutRows, classification, ...(labels ? { classLabels: labels.map(String) } : {}) };
}

/**
 * The training job's model document (the `config` channel): the model and the serving schema its
 * rows are encoded by, with the training split's ranges once they are measured (the training
 * program copies the serving schema into the model artifact, so serving knows them).
 */
async function writeModelDocument(
  context: RunContext,
  model: ModelDocument,
  runId: string,
  trainingRanges?: TrainingRanges,
): Promise<void> {
  const key = outputKeys(model.name, runId).modelDocument;
  const servingSchema = { ...modelSchemaFor(model), ...(trainingRanges ? { trainingRanges } : {}) };
  await context.store.put(context.artifactsBucket, key, `${JSON.stringify({ ...model, servingSchema }, null, 1)}\n`, 'application/json');
}

function etagOf(objects: readonly StoredObject[], isPrefix: boolean): string {
  if (!isPrefix && objects.length === 1) return objects[0]!.etag;
  return `sha256:${hash(objects.map((object) => `${object.key} ${object.etag}`).join('\n'), 64)}`;
}

export async function runValidation(context: RunContext, request: ValidateDataRequest & { mode: 'list' }): Promise<ShardListing>;
export async function runValidation(
  context: RunContext,
  request: ValidateDataRequest & { mode: Exclude<ValidationMode, 'list'> },
): Promise<ValidationSummary>;
export async function runValidation(context: RunContext, request: ValidateDataRequest): Promise<ValidationSummary | ShardListing>;
export async function runValidation(context: RunContext, request: ValidateDataRequest): Promise<ValidationSummary | ShardListing> {
  if (request.mode === 'merge') return mergeRun(context, request);
  if (request.mode === 'list') return listRun(context, request);
  const { store } = context;
  const dataset = parseS3Uri(request.datasetUri, 'datasetUri');
  const isPrefix = dataset.key === '' || dataset.key.endsWith('/');
  if (request.mode === 'shard' && isPrefix) {
    throw new ValidationError(`shard mode profiles one object; datasetUri names a prefix: ${request.datasetUri}`);
  }
  const objects = isPrefix ? await datasetObjects(store, dataset) : [await store.head(dataset.bucket, dataset.key)];
  if (objects.length === 0) throw new NotFoundError(`no dataset objects under ${request.datasetUri}`, { datasetUri: request.datasetUri });
  const referenceProfile = request.referenceProfileUri ? await loadProfile(store, request.referenceProfileUri) : undefined;
  const runId = request.runId ?? hash(`${request.datasetUri}\n${objects.map((object) => `${object.key} ${object.etag}`).join('\n')}`);
  const shardId = request.mode === 'shard' ? hash(dataset.key) : undefined;

  const model = splitModel(request);
  let splitter: DatasetSplitter | undefined;
  const validator = new DatasetValidator(request.model, {
    referenceProfile,
    onValidatedBatch: (batch, bad) => splitter?.addBatch(batch, bad),
  });
  if (model) {
    splitter = new DatasetSplitter({
      columns: model.columns,
      specs: validator.specs,
      target: model.target,
      classification: model.problemType !== 'regression',
      split: model.split,
      withHoldout: request.split!.holdoutUri === null,
      rangeColumns: model.features,
    });
  }
  const keys = outputKeys(request.model.name, runId, shardId);
  const writeParts = (parts: readonly SplitPart[]) =>
    Promise.all(parts.map((part) => store.put(context.artifactsBucket, keys.splitPart(part), part.text, 'text/csv')));
  await validateObjects(store, dataset.bucket, objects, request, validator, splitter ? () => writeParts(splitter.takeParts()) : undefined);
  let split: SplitCheck | undefined;
  if (model && splitter) {
    const { parts, outcome } = splitter.finish();
    await writeParts(parts);
    if (request.mode === 'single') await writeModelDocument(context, model, runId, outcome.trainingRanges);
    split = { ...splitRulesOf(model), outcome };
  }
  const { profile, report, quarantine } = validator.finish(request.datasetUri, split);
  return writeOutputs(context, request, runId, shardId, profile, report, quarantine, etagOf(objects, isPrefix));
}

/**
 * Lists a prefix's objects for the Distributed Map and fixes the histogram edges every shard is
 * binned with: the caller's reference profile, or else the profile of the first object (its
 * quantiles stand in for the whole dataset's; shards profiled on other edges could not be merged).
 */
async function listRun(context: RunContext, request: ValidateDataRequest): Promise<ShardListing> {
  const { store, artifactsBucket } = context;
  if (!request.runId) throw new ValidationError('list mode needs the runId its shards will be written under');
  const dataset = parseS3Uri(request.datasetUri, 'datasetUri');
  if (!(dataset.key === '' || dataset.key.endsWith('/'))) {
    throw new ValidationError(`list mode takes a prefix ending in "/"; datasetUri names one object: ${request.datasetUri}`);
  }
  const objects = await datasetObjects(store, dataset);
  if (objects.length === 0) throw new NotFoundError(`no dataset objects under ${request.datasetUri}`, { datasetUri: request.datasetUri });
  const shards = objects.map((object) => object.key.slice(dataset.key.length));
  const listBytes = Buffer.byteLength(JSON.stringify(shards));
  if (listBytes > MAX_SHARD_LIST_BYTES) {
    throw new ValidationError(
      `${request.datasetUri} holds ${objects.length} objects whose names take ${Math.round(listBytes / 1024)} KB, over the ${MAX_SHARD_LIST_BYTES / 1024} KB a Step Functions state can carry; combine small files into fewer, larger objects`,
      { datasetUri: request.datasetUri, objects: objects.length },
    );
  }
  const model = splitModel(request);
  if (model) await writeModelDocument(context, model, request.runId);
  let referenceProfileUri = request.referenceProfileUri;
  if (!referenceProfileUri) {
    const first = objects[0]!;
    const validator = await validateObjects(store, dataset.bucket, [first], request, new DatasetValidator(request.model, {}));
    const key = `${ARTIFACT_PREFIXES.profiles}${request.model.name}/${request.runId}/edges.profile.json`;
    await store.put(artifactsBucket, key, serializeProfile(validator.finish(s3Uri(dataset.bucket, first.key)).profile), 'application/json');
    referenceProfileUri = s3Uri(artifactsBucket, key);
  }
  return {
    mode: 'list',
    model: request.model.name,
    runId: request.runId,
    datasetUri: request.datasetUri,
    shards,
    datasetEtag: etagOf(objects, true),
    referenceProfileUri,
  };
}

/** Streams every object through the validator, in order; returns it for `finish`. */
async function validateObjects(
  store: ObjectStore,
  bucket: string,
  objects: readonly StoredObject[],
  request: ValidateDataRequest,
  validator: DatasetValidator,
  afterBatch?: () => Promise<unknown>,
): Promise<DatasetValidator> {
  for (const object of objects) {
    validator.startObject();
    const datasetObject = {
      key: object.key,
      stream: () => store.stream(bucket, object.key),
      ranges: async () => store.ranges(bucket, object.key, object.size),
    };
    for await (const batch of readDataset(datasetObject, validator.specs, {
      format: request.format,
      delimiter: request.delimiter ?? request.model.dataset.delimiter,
    })) {
      validator.addBatch(batch, object.key);
      if (afterBatch) await afterBatch();
    }
  }
  return validator;
}

async function mergeRun(context: RunContext, request: ValidateDataRequest): Promise<ValidationSummary> {
  const { store, artifactsBucket } = context;
  if (!request.runId) throw new ValidationError('merge mode needs the runId its shards were written under');
  const keys = outputKeys(request.model.name, request.runId);
  const shardProfiles = (await store.list(artifactsBucket, keys.shardProfiles)).filter((object) => object.key.endsWith('.profile.json'));
  const shards = await Promise.all(
    shardProfiles.map(async (object) => {
      const shardId = object.key.slice(keys.shardProfiles.length, -'.profile.json'.length);
      const shardKeys = outputKeys(request.model.name, request.runId!, shardId);
      const [profileText, reportText] = await Promise.all([
        store.getText(artifactsBucket, object.key),
        store.getText(artifactsBucket, shardKeys.report),
      ]);
      return { profile: parseProfile(profileText), report: JSON.parse(reportText) as ValidationReport };
    }),
  );
  if (shards.length === 0) {
    throw new ValidationError(
      `merge mode found no shard profiles under ${s3Uri(artifactsBucket, keys.shardProfiles)}; run shard mode over every object first`,
    );
  }
  const model = splitModel(request);
  const splitRules = model
    ? { minHoldoutRows: model.thresholds.minHoldoutRows, classification: model.problemType !== 'regression' }
    : undefined;
  const { profile, report } = mergeShards(request.model, request.datasetUri, shards, splitRules);
  // List mode wrote the model document before any row was read; now the training split's ranges are known.
  if (model && report.split) await writeModelDocument(context, model, request.runId, report.split.trainingRanges);
  const dataset = parseS3Uri(request.datasetUri, 'datasetUri');
  const datasetEtag = etagOf(await datasetObjects(store, dataset), true);
  return writeOutputs(context, request, request.runId, undefined, profile, report, [], datasetEtag);
}

async function loadProfile(store: ObjectStore, uri: string): Promise<DatasetProfile> {
  const { bucket, key } = parseS3Uri(uri, 'referenceProfileUri');
  return parseProfile(await store.getText(bucket, key));
}

async function writeOutputs(
  context: RunContext,
  request: ValidateDataRequest,
  runId: string,
  shardId: string | undefined,
  profile: DatasetProfile,
  report: ValidationReport,
  quarantine: readonly QuarantinedRow[],
  datasetEtag: string,
): Promise<ValidationSummary> {
  const { store, artifactsBucket } = context;
  const keys = outputKeys(request.model.name, runId, shardId);
  const hasQuarantine = quarantine.length > 0;
  const quarantineUri =
    request.mode === 'merge'
      ? report.quarantinedRows > 0
        ? s3Uri(artifactsBucket, `${ARTIFACT_PREFIXES.quarantine}${request.model.name}/${runId}/shards/`)
        : null
      : hasQuarantine
        ? s3Uri(artifactsBucket, keys.quarantine)
        : null;
  await Promise.all([
    store.put(artifactsBucket, keys.profile, serializeProfile(profile), 'application/json'),
    store.put(artifactsBucket, keys.report, JSON.stringify({ ...report, quarantineUri }, null, 1), 'application/json'),
    hasQuarantine
      ? store.put(artifactsBucket, keys.quarantine, `${quarantine.map((row) => JSON.stringify(row)).join('\n')}\n`, 'application/x-ndjson')
      : Promise.resolve(),
  ]);
  const failedRules = report.rules
    .filter((rule) => !rule.passed)
    .slice(0, MAX_SUMMARY_RULES)
    .map((rule) => ({ rule: rule.rule, ...(rule.column === undefined ? {} : { column: rule.column }), violations: rule.violations }));
  return {
    mode: request.mode as ValidationSummary['mode'],
    model: request.model.name,
    runId,
    datasetUri: request.datasetUri,
    valid: report.valid,
    rowCount: report.rowCount,
    badRowCount: report.badRowCount,
    badRowFraction: report.badRowFraction,
    failedRules,
    failureReason: failureReasonOf(report),
    profileUri: s3Uri(artifactsBucket, keys.profile),
    reportUri: s3Uri(artifactsBucket, keys.report),
    quarantineUri,
    ...(shardId === undefined ? {} : { shardId }),
    datasetEtag,
    ...(report.split ? { split: splitSummary(s3Uri(artifactsBucket, keys.splits), report.split, request.split?.holdoutUri ?? null) } : {}),
  };
}

function splitSummary(uri: string, outcome: SplitOutcome, holdoutUri: string | null): SplitSummary {
  const counts = ({ rows, sha256 }: { rows: number; sha256: string }) => ({ rows, sha256 });
  return {
    uri,
    trainUri: `${uri}${TRAINING_CHANNELS.train}/`,
    validationUri: `${uri}${TRAINING_CHANNELS.validation}/`,
    configUri: `${uri}${TRAINING_CHANNELS.config}/`,
    holdoutUri: holdoutUri ?? `${uri}holdout/`,
    seed: outcome.seed,
    unlabelledRows: outcome.unlabelledRows,
    train: counts(outcome.train),
    validation: counts(outcome.validation),
    ...(outcome.holdout ? { holdout: counts(outcome.holdout) } : {}),
  };
}

/** The objects of a dataset prefix that hold rows (completion markers and hidden files left out). */
async function datasetObjects(store: RunContext['store'], dataset: { bucket: string; key: string }) {
  return (await store.list(dataset.bucket, dataset.key)).filter((object) => isDatasetObjectKey(object.key));
}

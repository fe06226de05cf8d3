/**
 * The validate-data use case over an ObjectStore: reads a dataset (one object, every object of a
 * prefix, or one shard), validates and profiles it, writes profile, report and quarantine under
 * the artifact bucket's prefixes, and returns a summary small enough for a Step Functions payload.
 * Output keys derive from the model and run id only, so a repeated event rewrites the same
 * objects (idempotent under at-least-once delivery).
 */
import { createHash } from 'node:crypto';
import { ARTIFACT_PREFIXES } from '../../lib/artifact-prefixes';
import type { DatasetSchema } from '../../lib/config';
import { NotFoundError, ValidationError } from '../shared/errors';
import { type ObjectStore, parseS3Uri, s3Uri } from '../shared/object-store';
import { type DatasetProfile, parseProfile, serializeProfile } from '../shared/profile';
import { type DatasetFormat, readDataset } from '../shared/readers/index';
import { DatasetValidator, mergeShards, type QuarantinedRow, type ValidationReport } from './validation';

export const VALIDATION_MODES = ['single', 'shard', 'merge'] as const;
export type ValidationMode = (typeof VALIDATION_MODES)[number];

export interface ValidateDataRequest {
  readonly datasetUri: string;
  readonly model: DatasetSchema;
  readonly referenceProfileUri?: string;
  readonly mode: ValidationMode;
  /** Names the outputs; required for shard and merge (all shards of a run share it). */
  readonly runId?: string;
  readonly format?: DatasetFormat;
  readonly delimiter?: string;
}

/** Failed rules listed in the summary; the report holds all of them. */
const MAX_SUMMARY_RULES = 50;

export interface ValidationSummary {
  readonly mode: ValidationMode;
  readonly model: string;
  readonly runId: string;
  readonly datasetUri: string;
  readonly valid: boolean;
  readonly rowCount: number;
  readonly badRowCount: number;
  readonly badRowFraction: number;
  readonly failedRules: { rule: string; column?: string; violations: number }[];
  readonly profileUri: string;
  readonly reportUri: string;
  /** Null when no row was bad. */
  readonly quarantineUri: string | null;
  /** Shard mode only: the shard's id within the run. */
  readonly shardId?: string;
}

export interface RunContext {
  readonly store: ObjectStore;
  readonly artifactsBucket: string;
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
  };
}

export async function runValidation(context: RunContext, request: ValidateDataRequest): Promise<ValidationSummary> {
  if (request.mode === 'merge') return mergeRun(context, request);
  const { store } = context;
  const dataset = parseS3Uri(request.datasetUri, 'datasetUri');
  const isPrefix = dataset.key === '' || dataset.key.endsWith('/');
  if (request.mode === 'shard' && isPrefix) {
    throw new ValidationError(`shard mode profiles one object; datasetUri names a prefix: ${request.datasetUri}`);
  }
  const objects = isPrefix ? await store.list(dataset.bucket, dataset.key) : [await store.head(dataset.bucket, dataset.key)];
  if (objects.length === 0) throw new NotFoundError(`no dataset objects under ${request.datasetUri}`, { datasetUri: request.datasetUri });
  const referenceProfile = request.referenceProfileUri ? await loadProfile(store, request.referenceProfileUri) : undefined;
  const runId = request.runId ?? hash(`${request.datasetUri}\n${objects.map((object) => `${object.key} ${object.etag}`).join('\n')}`);
  const shardId = request.mode === 'shard' ? hash(dataset.key) : undefined;

  const validator = new DatasetValidator(request.model, { referenceProfile });
  for (const object of objects) {
    validator.startObject();
    const datasetObject = {
      key: object.key,
      stream: () => store.stream(dataset.bucket, object.key),
      ranges: async () => store.ranges(dataset.bucket, object.key, object.size),
    };
    for await (const batch of readDataset(datasetObject, validator.specs, { format: request.format, delimiter: request.delimiter })) {
      validator.addBatch(batch, object.key);
    }
  }
  const { profile, report, quarantine } = validator.finish(request.datasetUri);
  return writeOutputs(context, request, runId, shardId, profile, report, quarantine);
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
  const { profile, report } = mergeShards(request.model, request.datasetUri, shards);
  return writeOutputs(context, request, request.runId, undefined, profile, report, []);
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
    mode: request.mode,
    model: request.model.name,
    runId,
    datasetUri: request.datasetUri,
    valid: report.valid,
    rowCount: report.rowCount,
    badRowCount: report.badRowCount,
    badRowFraction: report.badRowFraction,
    failedRules,
    profileUri: s3Uri(artifactsBucket, keys.profile),
    reportUri: s3Uri(artifactsBucket, keys.report),
    quarantineUri,
    ...(shardId === undefined ? {} : { shardId }),
  };
}

/**
 * The check-drift use case over an ObjectStore and the registry: finds the production version's
 * training profile (the reference), profiles the captured window with the reference's edges,
 * assesses drift and writes `drift-report.json` under the artifacts bucket's reports prefix.
 * "No production model" and "no reference profile" are results, not faults: a model that has
 * never been promoted is normal, and the schedule keeps ticking until one is.
 */
import { createHash } from 'node:crypto';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { type ColumnType, isNumericType } from '../../contracts/columns';
import { type DriftModelSettings, MAX_WINDOW_HOURS } from '../../contracts/drift';
import { ValidationError } from '../shared/errors';
import { type ObjectStore, parseS3Uri, type StoredObject, s3Uri } from '../shared/object-store';
import { parseProfile } from '../shared/profile/codec';
import type { DatasetProfile } from '../shared/profile/profile';
import { linesOf } from '../shared/readers/lines';
import type { RegistryStore } from '../shared/registry/registry-store';
import { type CaptureColumn, CaptureProfiler, type CaptureStats, type CaptureWindow } from './capture';
import { assessDrift, type ComparedColumn, type DatasetStatus, type DriftVerdict, type FeatureStatus } from './verdict';

export const DRIFT_REPORT_FORMAT_VERSION = 1;
/** Objects listed and read concurrently. */
const CONCURRENCY = 8;
const HOUR_MS = 3_600_000;
export interface CheckDriftRequest {
  readonly model: string;
  /** ISO 8601; defaults to windowEnd − windowHours. */
  readonly windowStart?: string;
  /** ISO 8601; defaults to now. */
  readonly windowEnd?: string;
  /** Profile every capture object under this prefix instead of a time window. */
  readonly captureUri?: string;
}

export type RegistryReader = Pick<RegistryStore, 'getModel' | 'getVersion'>;

export interface DriftContext {
  readonly store: ObjectStore;
  readonly registry: RegistryReader;
  readonly artifactsBucket: string;
  readonly captureBucket: string;
  readonly now?: () => number;
}

export interface NoVerdictResult {
  readonly status: 'no-production-model' | 'no-reference-profile';
  readonly model: string;
  readonly message: string;
}

export interface DriftCheckResult {
  readonly status: DatasetStatus;
  readonly model: string;
  readonly productionVersion: number;
  readonly windowStart: string | null;
  readonly windowEnd: string | null;
  readonly captureObjects: number;
  readonly sampleSize: number;
  readonly driftedFeatureShare: number | null;
  readonly driftedFeatures: string[];
  readonly warnedFeatures: string[];
  readonly criticalDrift: string[];
  readonly predictionDrift: FeatureStatus | null;
  readonly reportUri: string;
}

export type CheckDriftResult = NoVerdictResult | DriftCheckResult;

export interface DriftReport {
  readonly formatVersion: typeof DRIFT_REPORT_FORMAT_VERSION;
  readonly model: string;
  readonly productionVersion: number;
  readonly referenceProfileUri: string;
  readonly window: { readonly start: string; readonly end: string } | null;
  readonly captureUri: string | null;
  readonly captureObjects: number;
  readonly capture: CaptureStats;
  readonly verdict: DriftVerdict;
}

/** The outcome plus what the handler publishes as metrics. */
export interface CheckDriftOutcome {
  readonly result: CheckDriftResult;
  readonly verdict?: DriftVerdict;
}

function parseTime(text: string, field: string): number {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new ValidationError(`${field} must be an ISO 8601 time, got "${text}"`, { [field]: text });
  return time;
}

export function resolveWindow(request: CheckDriftRequest, settings: DriftModelSettings, now: number): CaptureWindow {
  const end = request.windowEnd === undefined ? now : parseTime(request.windowEnd, 'windowEnd');
  const start = request.windowStart === undefined ? end - settings.windowHours * HOUR_MS : parseTime(request.windowStart, 'windowStart');
  if (start >= end) {
    throw new ValidationError(`windowStart must be before windowEnd (${new Date(start).toISOString()} >= ${new Date(end).toISOString()})`);
  }
  if (end - start > MAX_WINDOW_HOURS * HOUR_MS) {
    throw new ValidationError(`the window may span at most ${MAX_WINDOW_HOURS} hours, got ${((end - start) / HOUR_MS).toFixed(1)}`);
  }
  return { start, end };
}

/** `yyyy/mm/dd/hh` of an hour, as the capture keys are partitioned. */
function hourPath(time: number): string {
  const iso = new Date(time).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
}

const HOUR_IN_KEY = /\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** Whether a key's hour partition overlaps the window (keys without one are kept; their records are filtered by time). */
function keyInWindow(key: string, window: CaptureWindow): boolean {
  const match = HOUR_IN_KEY.exec(key);
  if (!match) return true;
  const hour = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4]));
  return hour < window.end && hour + HOUR_MS > window.start;
}

async function mapConcurrently<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}

/**
 * Capture objects of a window: the serverless function's hour partitions
 * (`<model>/serverless/yyyy/mm/dd/hh/`) and SageMaker's (`<model>/endpoint/<endpoint>/<variant>/yyyy/mm/dd/hh/`).
 */
export async function listCaptureObjects(
  store: ObjectStore,
  bucket: string,
  model: string,
  window: CaptureWindow,
): Promise<StoredObject[]> {
  const hours: number[] = [];
  for (let hour = Math.floor(window.start / HOUR_MS) * HOUR_MS; hour < window.end; hour += HOUR_MS) hours.push(hour);
  const serverless = await mapConcurrently(hours, (hour) => store.list(bucket, `${model}/serverless/${hourPath(hour)}/`));
  const endpoint = (await store.list(bucket, `${model}/endpoint/`)).filter((object) => keyInWindow(object.key, window));
  return [...serverless.flat(), ...endpoint];
}

/** The columns to profile: features and the prediction that the reference profile can bin. */
export function comparedColumns(
  settings: DriftModelSettings,
  reference: DatasetProfile,
): { compared: ComparedColumn[]; capture: CaptureColumn[] } {
  const compared: ComparedColumn[] = [];
  const capture: CaptureColumn[] = [];
  const add = (column: ComparedColumn, type: ColumnType, source: CaptureColumn['source']) => {
    compared.push(column);
    const referenceColumn = reference.columns[column.referenceColumn];
    // A column the reference lacks, or holds as another kind, is reported as not comparable.
    if (referenceColumn && (referenceColumn.kind === 'numeric') === isNumericType(type)) {
      capture.push({ name: column.name, type, referenceColumn: column.referenceColumn, source });
    }
  };
  settings.features.forEach((feature, position) => {
    add({ name: feature.name, role: 'feature', referenceColumn: feature.name, critical: feature.critical }, feature.type, {
      kind: 'input',
      position,
    });
  });
  if (settings.target) {
    add(
      { name: `prediction(${settings.target.name})`, role: 'prediction', referenceColumn: settings.target.name, critical: false },
      settings.target.type,
      { kind: 'prediction' },
    );
  }
  return { compared, capture };
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export async function checkDrift(
  context: DriftContext,
  settings: DriftModelSettings,
  request: CheckDriftRequest,
): Promise<CheckDriftOutcome> {
  if (request.model !== settings.name) {
    throw new ValidationError(`this function checks model "${settings.name}", not "${request.model}"`, { model: request.model });
  }
  const { store, registry } = context;
  const captureLocation = request.captureUri === undefined ? undefined : parseS3Uri(request.captureUri, 'captureUri');
  const window = captureLocation ? undefined : resolveWindow(request, settings, (context.now ?? Date.now)());

  const model = await registry.getModel(settings.name);
  if (model?.productionVersion === undefined) {
    const message = `model "${settings.name}" has no production version; drift is checked against the production model's training profile`;
    return { result: { status: 'no-production-model', model: settings.name, message } };
  }
  const version = await registry.getVersion(settings.name, model.productionVersion);
  const referenceProfileUri = version?.lineage.profileUri;
  if (!referenceProfileUri) {
    const message = `production version ${model.productionVersion} of "${settings.name}" was registered without lineage.profileUri; nothing to compare with`;
    return { result: { status: 'no-reference-profile', model: settings.name, message } };
  }
  const referenceLocation = parseS3Uri(referenceProfileUri, 'lineage.profileUri');
  const reference = parseProfile(await store.getText(referenceLocation.bucket, referenceLocation.key));

  const captureBucket = captureLocation?.bucket ?? context.captureBucket;
  const objects = captureLocation
    ? await store.list(captureLocation.bucket, captureLocation.key)
    : await listCaptureObjects(store, captureBucket, settings.name, window!);
  const { compared, capture } = comparedColumns(settings, reference);
  const profiler = new CaptureProfiler(capture, reference, window);
  // Objects stream concurrently, each line profiled as it arrives: addLine is synchronous, so lines of
  // different objects interleave whole, and memory holds one chunk and one partial line per stream.
  await mapConcurrently(objects, async (object) => {
    for await (const line of linesOf(await store.stream(captureBucket, object.key))) profiler.addLine(line);
  });
  const current = profiler.finish();
  const verdict = assessDrift(reference, current, compared, settings.rules);

  const runKey = window
    ? `${new Date(window.end).toISOString().replace(/[:.]/g, '-')}-${hash(`${window.start} ${window.end}`)}`
    : `prefix-${hash(request.captureUri!)}`;
  const reportKey = `${ARTIFACT_PREFIXES.reports}${settings.name}/drift/${runKey}/drift-report.json`;
  const report: DriftReport = {
    formatVersion: DRIFT_REPORT_FORMAT_VERSION,
    model: settings.name,
    productionVersion: model.productionVersion,
    referenceProfileUri,
    window: window ? { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() } : null,
    captureUri: request.captureUri ?? null,
    captureObjects: objects.length,
    capture: profiler.stats,
    verdict,
  };
  await store.put(context.artifactsBucket, reportKey, JSON.stringify(report, null, 1), 'application/json');
  return {
    verdict,
    result: {
      status: verdict.status,
      model: settings.name,
      productionVersion: model.productionVersion,
      windowStart: report.window?.start ?? null,
      windowEnd: report.window?.end ?? null,
      captureObjects: objects.length,
      sampleSize: verdict.sampleSize,
      driftedFeatureShare: verdict.driftedFeatureShare,
      driftedFeatures: verdict.driftedFeatures,
      warnedFeatures: verdict.warnedFeatures,
      criticalDrift: verdict.criticalDrift,
      predictionDrift: verdict.prediction?.status ?? null,
      reportUri: s3Uri(context.artifactsBucket, reportKey),
    },
  };
}

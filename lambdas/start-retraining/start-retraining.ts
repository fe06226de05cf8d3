/**
 * The retraining trigger: when a model's drift alarm enters ALARM, start its training pipeline on
 * the newest dataset, at most once per cool-down. Pure domain over two small interfaces.
 *
 * The newest data is the lexicographically greatest prefix directly under `<model>/` in the
 * datasets bucket (upload each dataset version under a sortable name: `<model>/2026-05-01/`,
 * `<model>/v0042/`); the pipeline validates a prefix shard by shard. `<model>/batch/` holds batch
 * inference inputs (unlabelled rows to score) and `<model>/uploads/` the offline runtime's uploads
 * of local files: neither is ever a training dataset version.
 *
 * Cool-down: the training pipeline's own execution history is the record. If any execution of it
 * (drift-started or manual) started within `cooldownHours`, nothing is started: that run already
 * trains on recent data. The alarm itself fires this trigger only on a transition into ALARM, so
 * a drift that persists over many schedule ticks is one event; a flapping alarm is held back by
 * the cool-down. Duplicate deliveries of one event map to one execution name (from the alarm's
 * transition time), and Step Functions refuses a second execution under a name it already ran.
 */

import { createHash } from 'node:crypto';
import { BATCH_INPUT_FOLDER } from '../../contracts/batch-inference';
import { DATASET_COMPLETION_MARKERS, LOCAL_UPLOADS_FOLDER } from '../../contracts/dataset';

export interface TrainingRuns {
  /** When the newest execution of the pipeline started, if it ever ran. */
  newestStart(): Promise<Date | undefined>;
  /** Starts an execution; `alreadyExists` when one with this name was started before. */
  start(name: string, input: string): Promise<{ executionArn?: string; alreadyExists: boolean }>;
}

export interface DatasetPrefixes {
  /** Keys of the objects under `prefix`, in key order. */
  keysUnder(prefix: string): Promise<string[]>;
}

export interface RetrainingSettings {
  readonly model: string;
  readonly datasetsBucket: string;
  readonly cooldownHours: number;
}

export interface AlarmTransition {
  readonly alarmName: string;
  readonly state: string;
  /** When the alarm entered the state (ISO 8601). */
  readonly transitionTime: string;
}

export type RetrainingResult =
  | { readonly started: true; readonly executionName: string; readonly executionArn?: string; readonly datasetUri: string }
  | {
      readonly started: false;
      readonly reason: 'not-in-alarm' | 'cooldown' | 'no-dataset' | 'already-started';
      readonly message: string;
      readonly executionName?: string;
    };

const HOUR_MS = 3_600_000;

/** Folders under `<model>/` that never hold a dataset version: batch inputs and the offline runtime's uploads. */
const NOT_DATASET_VERSIONS: readonly string[] = [BATCH_INPUT_FOLDER, LOCAL_UPLOADS_FOLDER];

/** The greatest first-level prefix under `<model>/` (the batch inputs' and uploads' folders aside), as `s3://bucket/<model>/<name>/`. */
export async function newestDatasetUri(datasets: DatasetPrefixes, settings: RetrainingSettings): Promise<string | undefined> {
  const root = `${settings.model}/`;
  let newest: string | undefined;
  for (const key of await datasets.keysUnder(root)) {
    const slash = key.indexOf('/', root.length);
    if (slash < 0) continue; // an object directly under <model>/ is not a dataset version
    const name = key.slice(root.length, slash);
    if (NOT_DATASET_VERSIONS.includes(name)) continue;
    if (newest === undefined || name > newest) newest = name;
  }
  return newest === undefined ? undefined : `s3://${settings.datasetsBucket}/${root}${newest}/`;
}

/** Execution names allow A-Z a-z 0-9 - _ and must leave room in SageMaker job names. */
export function executionNameFor(transition: AlarmTransition): string {
  const time = Date.parse(transition.transitionTime);
  const stamp = Number.isNaN(time)
    ? transition.transitionTime.replace(/[^0-9A-Za-z]/g, '')
    : new Date(time).toISOString().replace(/[^0-9A-Za-z]/g, '');
  return `drift-${stamp}`.slice(0, 36);
}

/** The refusal when the pipeline started within the cool-down (drift alarms and dataset drops alike); none otherwise. */
async function cooldownRefusal(runs: TrainingRuns, settings: RetrainingSettings, now: number, executionName: string) {
  const newest = await runs.newestStart();
  if (!newest || now - newest.getTime() >= settings.cooldownHours * HOUR_MS) return undefined;
  return {
    started: false as const,
    reason: 'cooldown' as const,
    message: `the training pipeline last started at ${newest.toISOString()}, within the ${settings.cooldownHours} h cool-down`,
    executionName,
  };
}

export async function startRetraining(
  runs: TrainingRuns,
  datasets: DatasetPrefixes,
  settings: RetrainingSettings,
  transition: AlarmTransition,
  now: number,
): Promise<RetrainingResult> {
  if (transition.state !== 'ALARM') {
    return { started: false, reason: 'not-in-alarm', message: `alarm ${transition.alarmName} is ${transition.state}, not ALARM` };
  }
  const executionName = executionNameFor(transition);
  const cooldown = await cooldownRefusal(runs, settings, now, executionName);
  if (cooldown) return cooldown;
  const datasetUri = await newestDatasetUri(datasets, settings);
  if (!datasetUri) {
    return {
      started: false,
      reason: 'no-dataset',
      message: `no dataset prefix under s3://${settings.datasetsBucket}/${settings.model}/ to retrain on`,
    };
  }
  const outcome = await runs.start(executionName, JSON.stringify({ datasetUri, model: settings.model }));
  if (outcome.alreadyExists) {
    return {
      started: false,
      reason: 'already-started',
      message: `execution ${executionName} was already started for this alarm transition`,
      executionName,
    };
  }
  return { started: true, executionName, executionArn: outcome.executionArn, datasetUri };
}

/** An object created in the datasets bucket (the S3 "Object Created" event EventBridge delivers). */
export interface DatasetDrop {
  readonly bucket: string;
  readonly key: string;
}

export type NewDataResult =
  | RetrainingResult
  | { readonly started: false; readonly reason: 'not-a-marker'; readonly message: string; readonly executionName?: string };

/**
 * The dataset version a completion marker closes: `<model>/<version>/_SUCCESS` or
 * `<model>/<version>/manifest.json` directly under the version's prefix; undefined for any other key
 * (and for the batch inputs' and uploads' folders, `<model>/batch/` and `<model>/uploads/`).
 */
export function droppedVersionOf(drop: DatasetDrop, settings: RetrainingSettings): string | undefined {
  const root = `${settings.model}/`;
  if (drop.bucket !== settings.datasetsBucket || !drop.key.startsWith(root)) return undefined;
  const parts = drop.key.slice(root.length).split('/');
  if (
    parts.length !== 2 ||
    parts[0] === '' ||
    NOT_DATASET_VERSIONS.includes(parts[0]!) ||
    !(DATASET_COMPLETION_MARKERS as readonly string[]).includes(parts[1]!)
  )
    return undefined;
  return parts[0];
}

/**
 * One execution name per dataset version (`data-<version>-<hash>`): duplicate deliveries of the
 * marker's event, and a second marker of the same version, all map to it, and Step Functions
 * refuses a second execution under a name it already ran.
 */
export function executionNameForDataset(model: string, version: string): string {
  const digest = createHash('sha256').update(`${model}/${version}/`).digest('hex').slice(0, 10);
  return `data-${version.replace(/[^0-9A-Za-z_-]/g, '-').slice(0, 24)}-${digest}`;
}

/** `training.trigger: on-new-data`: a completed dataset version starts one run, within the cool-down. */
export async function startOnNewData(
  runs: TrainingRuns,
  settings: RetrainingSettings,
  drop: DatasetDrop,
  now: number,
): Promise<NewDataResult> {
  const version = droppedVersionOf(drop, settings);
  if (version === undefined) {
    return {
      started: false,
      reason: 'not-a-marker',
      message: `s3://${drop.bucket}/${drop.key} is not a completion marker (${DATASET_COMPLETION_MARKERS.join(' or ')}) directly under ${settings.model}/<version>/`,
    };
  }
  const executionName = executionNameForDataset(settings.model, version);
  const cooldown = await cooldownRefusal(runs, settings, now, executionName);
  if (cooldown) return cooldown;
  const datasetUri = `s3://${settings.datasetsBucket}/${settings.model}/${version}/`;
  const outcome = await runs.start(executionName, JSON.stringify({ datasetUri, model: settings.model }));
  if (outcome.alreadyExists) {
    return { started: false, reason: 'already-started', message: `execution ${executionName} already trains ${datasetUri}`, executionName };
  }
  return { started: true, executionName, executionArn: outcome.executionArn, datasetUri };
}

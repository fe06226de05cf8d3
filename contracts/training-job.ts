/**
 * The training job's contract: what the pipeline hands the training container and what it
 * expects back, shared by the state machine's substitutions (lib/), the offline runtime's
 * SageMaker stand-in (local/) and the training program (training/, Python, which mirrors these
 * names). Channels: `train` and `validation` (the run's split of the validated dataset, CSV),
 * `config` (model.json: the model document and its serving schema), `code` (the training
 * program as sourcedir.tar.gz, travelling as data because the job runs with network isolation).
 * Output: model.onnx, metrics.json and serving-schema.json (the config's servingSchema, copied) in
 * /opt/ml/model; metrics on stdout for MetricDefinitions.
 */

import { createHash } from 'node:crypto';

/** Input channel names (`InputDataConfig[].ChannelName`). */
export const TRAINING_CHANNELS = { train: 'train', validation: 'validation', config: 'config', code: 'code' } as const;

/** The model document's file in the `config` channel. */
export const MODEL_DOCUMENT_FILE = 'model.json';
/** Where SageMaker puts input channels in the container. */
export const CHANNEL_ROOT = '/opt/ml/input/data';

/**
 * Hyperparameters the SageMaker training toolkit and automatic model tuning set themselves; a
 * caller may not set them (the pipeline overwrites `sagemaker_program` and
 * `sagemaker_submit_directory`, so a request cannot choose which code runs with the training role).
 */
export const RESERVED_HYPERPARAMETER_PATTERN = /^(sagemaker_|_tuning_)/;
/** A hyperparameter name a caller may use: not reserved, and as `CreateTrainingJob.HyperParameters` keys allow. */
export const HYPERPARAMETER_NAME_PATTERN = '^(?!sagemaker_|_tuning_)[A-Za-z0-9_.:/=+@-]{1,256}$';
/** `HyperParameters`: at most 100 entries, keys ≤ 256 and values ≤ 2500 characters. */
export const SAGEMAKER_HYPERPARAMETER_LIMITS = { entries: 100, keyLength: 256, valueLength: 2500 } as const;
/** Hyperparameters the pipeline sets on every job (two of the 100). */
export const PIPELINE_HYPERPARAMETER_COUNT = 2;

/**
 * The program's metrics as SageMaker MetricDefinitions read them from the job's log: one line per
 * epoch (`epoch=3 train_loss=… validation_loss=… validation_accuracy=…`) and a `final` line with
 * the exported weights' figures, which SageMaker keeps as the last value.
 */
export const TRAINING_METRIC_DEFINITIONS: readonly { readonly Name: string; readonly Regex: string }[] = [
  { Name: 'train:loss', Regex: 'train_loss=([0-9.eE+-]+)' },
  { Name: 'train:accuracy', Regex: 'train_accuracy=([0-9.eE+-]+)' },
  { Name: 'validation:loss', Regex: 'validation_loss=([0-9.eE+-]+)' },
  { Name: 'validation:accuracy', Regex: 'validation_accuracy=([0-9.eE+-]+)' },
  { Name: 'validation:rmse', Regex: 'validation_rmse=([0-9.eE+-]+)' },
  { Name: 'validation:mae', Regex: 'validation_mae=([0-9.eE+-]+)' },
];

/** `sagemaker_submit_directory`: the code archive as the `code` channel delivers it. */
export function submitDirectoryOf(codeObjectKey: string): string {
  return `${CHANNEL_ROOT}/${TRAINING_CHANNELS.code}/${codeObjectKey.split('/').at(-1)}`;
}

/** SageMaker's `TrainingJobName` is at most 63 characters. */
export const MAX_TRAINING_JOB_NAME_LENGTH = 63;
/** Each attempt's job name is the pipeline's prefix, "-" and a UUID (36 characters): the prefix has 26. */
export const MAX_TRAINING_JOB_NAME_PREFIX_LENGTH = MAX_TRAINING_JOB_NAME_LENGTH - 1 - 36;

/**
 * A pipeline's training job name prefix from `<namePrefix>-<model>`: the name itself when it
 * fits 26 characters, otherwise its first 19 characters and 6 hexadecimal digits of its SHA-256,
 * so two models whose names share a beginning keep prefixes of their own (IAM is scoped to them).
 */
export function trainingJobNamePrefix(name: string): string {
  if (name.length <= MAX_TRAINING_JOB_NAME_PREFIX_LENGTH) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return `${name.slice(0, MAX_TRAINING_JOB_NAME_PREFIX_LENGTH - 7).replace(/-+$/, '')}-${digest}`;
}

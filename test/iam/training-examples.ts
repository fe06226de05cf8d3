/**
 * Representative values of the JSONPaths the training state machine's tasks read, for the IAM
 * engine's state machine calls (shared by the IAM tests of the default and the tuning platform).
 */
import { type AslMachine, EXAMPLE_EXECUTION_NAME } from '../../local/iam';
import type { PlatformNames } from './calls';

/**
 * Example values for the JSONPaths the training tasks read: a run's dataset, its split (written by
 * validate-data under splits/<model>/<execution>/), the job names (training, tuning, the tuning
 * job's best training job), and the ResourceConfig the definition's own MergeInput state builds
 * (instance settings merged with the volume encryption).
 */
export function trainingExamples(definition: AslMachine, names: PlatformNames): Record<string, unknown> {
  const split = `s3://${names.artifactsBucket}/splits/${names.model}/${EXAMPLE_EXECUTION_NAME}`;
  const examples: Record<string, unknown> = {
    '$.run.datasetUri': `s3://${names.datasetsBucket}/${names.model}/v0042/`,
    '$.validation.summary.split.trainUri': `${split}/train/`,
    '$.validation.summary.split.validationUri': `${split}/validation/`,
    '$.validation.summary.split.configUri': `${split}/config/`,
  };
  // The job name as NameTrainingJob makes it: the synthesized prefix and a UUID.
  const naming = String((definition.States.NameTrainingJob?.Parameters as Record<string, unknown> | undefined)?.['name.$']);
  const prefix = /^States\.Format\('([^']*)\{\}'/.exec(naming)?.[1];
  if (!prefix) throw new Error(`NameTrainingJob no longer names the job with States.Format('<prefix>-{}', ...): ${naming}`);
  examples['$.job.name'] = `${prefix}3f2a9c1e-8b7d-4c6e-9f0a-1b2c3d4e5f60`;
  // The tuning job's name likewise (its own, shorter prefix and 12 hexadecimal digits), and its best training job's.
  const tuningNaming = String((definition.States.NameTrainingJob?.Parameters as Record<string, unknown> | undefined)?.['tuningName.$']);
  const tuningPrefix = /^States\.Format\('([^']*)\{\}\{\}'/.exec(tuningNaming)?.[1];
  if (!tuningPrefix)
    throw new Error(`NameTrainingJob no longer names the tuning job with States.Format('<prefix>-{}{}', ...): ${tuningNaming}`);
  examples['$.job.tuningName'] = `${tuningPrefix}3f2a9c1e8b7d`;
  examples['$.tuning.BestTrainingJob.TrainingJobName'] = `${tuningPrefix}3f2a9c1e8b7d-004-5e6f7a8b`;
  const config = (definition.States.MergeInput?.Parameters as { config?: Record<string, unknown> } | undefined)?.config ?? {};
  const resource = config.resource as Record<string, unknown>;
  const encryption = config.volumeEncryption as Record<string, Record<string, unknown>>;
  for (const state of Object.values(definition.States)) {
    const merge = (state.Parameters as Record<string, unknown> | undefined)?.['ResourceConfig.$'];
    const kind = typeof merge === 'string' ? /\$\.config\.volumeEncryption\.(\w+)/.exec(merge)?.[1] : undefined;
    if (typeof merge === 'string' && kind) {
      examples[merge] = { InstanceType: resource.InstanceType, InstanceCount: 1, VolumeSizeInGB: 50, ...encryption[kind] };
    }
  }
  return examples;
}

/**
 * Training settings (SageMaker training jobs): image, instances, volume, managed spot, the time
 * limits, checkpointing, optional hyperparameter tuning; their defaults and SageMaker's limits.
 * Given platform-wide and overridable per model. The cross-field rules (managed spot, tuning) are
 * checked by the configuration schema and by the TrainingPipeline construct from
 * `trainingSettingsProblems`, one rule for both.
 */
import * as z from 'zod';
import { ecrImageUriSchema, instanceTypeSchema, type SettingProblem } from './fields';
import { tuningProblems, tuningSchema } from './tuning';

/** SageMaker `StoppingCondition.MaxRuntimeInSeconds` upper bound: 28 days. */
export const SAGEMAKER_MAX_RUNTIME_SECONDS = 28 * 24 * 60 * 60;

/*
 * The field schemas carry no defaults, so a model's partial override inherits the platform's
 * values rather than the built-in defaults; the defaults are applied once, platform-wide.
 */
export const trainingShape = {
  imageUri: ecrImageUriSchema.describe("the training image; `{region}` is replaced by the stack's region"),
  instanceType: instanceTypeSchema.describe('the training instance type (`ml.<family>.<size>`)'),
  instanceCount: z.number().int().min(1).max(100).describe('training instances per job'),
  volumeSizeGb: z.number().int().min(1).max(16384).describe('storage volume per training instance'),
  useSpot: z.boolean().describe('managed spot training; needs maxWaitSeconds ≥ maxRuntimeSeconds and checkpointing'),
  maxRuntimeSeconds: z
    .number()
    .int()
    .min(60)
    .max(SAGEMAKER_MAX_RUNTIME_SECONDS)
    .describe('the longest a job may train (SageMaker `MaxRuntimeInSeconds`, at most 28 days)'),
  maxWaitSeconds: z
    .number()
    .int()
    .min(60)
    .max(2 * SAGEMAKER_MAX_RUNTIME_SECONDS)
    .describe('the longest a spot job may take, waiting for capacity included (`MaxWaitTimeInSeconds`)'),
  checkpointing: z.boolean().describe('checkpoints to S3, so an interrupted spot job resumes instead of starting over'),
  sourceDirectory: z
    .string()
    .min(1)
    .describe("your own training program's folder (relative to cdk.json), shipped as the job's code; by default the platform's training/"),
  entryPoint: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\.py$/, 'must be a Python file at the top of the source folder, such as train.py')
    .describe('the script the SageMaker training toolkit runs (`sagemaker_program`)'),
  trigger: z
    .enum(['manual', 'on-new-data'])
    .describe(
      'what starts a run besides the API and drift: `on-new-data` also starts one when a `_SUCCESS` or `manifest.json` object lands under `<model>/<version>/` in the datasets bucket (once per dataset version, within the drift cool-down)',
    ),
  tuning: tuningSchema.describe(
    'hyperparameter tuning: when set, each run starts a SageMaker tuning job (on the same capacity, spot or on demand) instead of one training job and continues with its best job',
  ),
};

export const TRAINING_DEFAULTS = {
  instanceType: 'ml.g5.xlarge',
  instanceCount: 1,
  volumeSizeGb: 50,
  useSpot: true,
  maxRuntimeSeconds: 4 * 3600,
  maxWaitSeconds: 8 * 3600,
  checkpointing: true,
  entryPoint: 'train.py',
  trigger: 'manual',
} as const;

export const trainingOverridesSchema = z.object(trainingShape).partial().strict();
export const trainingSettingsSchema = trainingOverridesSchema
  .extend({ imageUri: trainingShape.imageUri })
  .transform((training) => ({ ...TRAINING_DEFAULTS, ...training }));

export type TrainingConfig = z.output<typeof trainingSettingsSchema>;

/** Managed spot training needs a wait at least as long as the run time, and checkpoints to resume from. */
export function spotTrainingProblems(
  training: Pick<TrainingConfig, 'useSpot' | 'maxWaitSeconds' | 'maxRuntimeSeconds' | 'checkpointing'>,
): SettingProblem[] {
  if (!training.useSpot) return [];
  const problems: SettingProblem[] = [];
  if (training.maxWaitSeconds < training.maxRuntimeSeconds) {
    problems.push({
      path: ['maxWaitSeconds'],
      message: `managed spot training needs maxWaitSeconds >= maxRuntimeSeconds (${training.maxWaitSeconds} < ${training.maxRuntimeSeconds})`,
    });
  }
  if (!training.checkpointing) {
    problems.push({
      path: ['checkpointing'],
      message: 'managed spot training needs checkpointing, or an interruption restarts training from scratch',
    });
  }
  return problems;
}

/** Every cross-field rule of the training settings: managed spot, and tuning when it is on. */
export function trainingSettingsProblems(
  training: Pick<TrainingConfig, 'useSpot' | 'maxWaitSeconds' | 'maxRuntimeSeconds' | 'checkpointing' | 'tuning'>,
): SettingProblem[] {
  const tuning = training.tuning
    ? tuningProblems(training.tuning).map((problem) => ({ ...problem, path: ['tuning', ...problem.path] }))
    : [];
  return [...spotTrainingProblems(training), ...tuning];
}

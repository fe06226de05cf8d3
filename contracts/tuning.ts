/**
 * Hyperparameter tuning (SageMaker automatic model tuning): the optional `training.tuning`
 * settings, SageMaker's tuning limits, the settings' cross-field rules (checked by the
 * configuration schema and by the TrainingPipeline construct from `tuningProblems`, one rule for
 * both), and what the pipeline sends: the HyperParameterTuningJobConfig, the tuning job's name
 * prefix (tuning job names are at most 32 characters) and the time the tuning state allows.
 *
 * Sources: the SageMaker API reference (CreateHyperParameterTuningJob, HyperParameterTuningJobConfig,
 * ResourceLimits, ParameterRanges, IntegerParameterRange, ContinuousParameterRange,
 * CategoricalParameterRange, HyperParameterTuningJobObjective) and the developer guide's "Define
 * Hyperparameter Ranges" (scaling types) and "Resource Limits for Automatic Model Tuning".
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { SettingProblem } from './fields';
import { HYPERPARAMETER_NAME_PATTERN, TRAINING_METRIC_DEFINITIONS } from './training-job';

/** SageMaker's limits for one tuning job. */
export const TUNING_LIMITS = {
  /** Hyperparameters a tuning job searches (integer + continuous + categorical ranges). */
  tunedHyperparameters: 30,
  /** Values of one categorical range, each at most 256 characters. */
  categoricalValues: 30,
  categoricalValueLength: 256,
  /** Training jobs per tuning job: 750 (Bayesian); Random search up to 10,000 with a quota increase. */
  bayesianTrainingJobs: 750,
  randomTrainingJobs: 10_000,
  /** Parallel training jobs per tuning job: the default quota is 10, raisable to 100. */
  parallelTrainingJobs: 100,
  /** `ResourceLimits.MaxRuntimeInSeconds`: at least 120 s; a tuning job runs at most 30 days. */
  minRuntimeSeconds: 120,
  maxRuntimeSeconds: 30 * 24 * 60 * 60,
  /** `HyperParameterTuningJobName`: 1–32 characters (training jobs allow 63). */
  nameLength: 32,
  /** Metric definitions of a tuning job's algorithm (training jobs allow 40). */
  metricDefinitions: 20,
  /** Static plus tuned hyperparameters, `_tuning_objective_metric` (which tuning adds) included. */
  hyperparameters: 100,
} as const;

/** The hyperparameter automatic model tuning adds to every training job it starts: the objective's metric name. */
export const TUNING_OBJECTIVE_HYPERPARAMETER = '_tuning_objective_metric';

/** The objective the platform's training program reports for every problem type. */
export const DEFAULT_TUNING_OBJECTIVE = { metric: 'validation:loss', type: 'Minimize' } as const;

export const TUNING_DEFAULTS = { strategy: 'Bayesian', maxJobs: 10, maxParallelJobs: 2 } as const;

const integerRangeSchema = z
  .object({
    type: z.literal('integer'),
    min: z.number().int().describe('the smallest value tried'),
    max: z.number().int().describe('the largest value tried'),
    scaling: z
      .enum(['Auto', 'Linear', 'Logarithmic'])
      .default('Auto')
      .describe('how values are searched (`Logarithmic` needs min > 0; reverse logarithmic scaling is for continuous ranges only)'),
  })
  .strict();

const continuousRangeSchema = z
  .object({
    type: z.literal('continuous'),
    min: z.number().describe('the smallest value tried'),
    max: z.number().describe('the largest value tried'),
    scaling: z
      .enum(['Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic'])
      .default('Auto')
      .describe('how values are searched (`Logarithmic` needs min > 0; `ReverseLogarithmic` needs 0 ≤ min < max < 1)'),
  })
  .strict();

const categoricalRangeSchema = z
  .object({
    type: z.literal('categorical'),
    values: z
      .array(z.union([z.string().min(1).max(TUNING_LIMITS.categoricalValueLength), z.number()]))
      .min(1)
      .max(TUNING_LIMITS.categoricalValues)
      .describe('the values tried (passed to the program as strings)'),
  })
  .strict();

export const parameterRangeSchema = z.discriminatedUnion('type', [integerRangeSchema, continuousRangeSchema, categoricalRangeSchema]);

export const tuningSchema = z
  .object({
    objective: z
      .object({
        metric: z.string().describe("a metric the training program reports (one of its MetricDefinitions' names)"),
        type: z.enum(['Minimize', 'Maximize']).describe('whether the best job has the lowest or the highest value'),
      })
      .strict()
      .default(DEFAULT_TUNING_OBJECTIVE)
      .describe('the metric that picks the best training job'),
    strategy: z
      .enum(['Bayesian', 'Random'])
      .default(TUNING_DEFAULTS.strategy)
      .describe('how SageMaker chooses the next hyperparameters (the offline runtime always searches at random)'),
    maxJobs: z
      .number()
      .int()
      .min(1)
      .max(TUNING_LIMITS.randomTrainingJobs)
      .default(TUNING_DEFAULTS.maxJobs)
      .describe('training jobs the tuning job may start (Bayesian: at most 750; Random: above 750 needs a quota increase)'),
    maxParallelJobs: z
      .number()
      .int()
      .min(1)
      .max(TUNING_LIMITS.parallelTrainingJobs)
      .default(TUNING_DEFAULTS.maxParallelJobs)
      .describe('training jobs running at once (≤ maxJobs; above 10 needs a quota increase)'),
    maxRuntimeSeconds: z
      .number()
      .int()
      .min(TUNING_LIMITS.minRuntimeSeconds)
      .max(TUNING_LIMITS.maxRuntimeSeconds)
      .optional()
      .describe(
        "the tuning job's own limit (`ResourceLimits.MaxRuntimeInSeconds`); by default the waves of jobs times one job's limit, at most 30 days",
      ),
    randomSeed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional()
      .describe('makes the search repeatable (`RandomSeed`; offline it seeds the random search)'),
    // Names are checked by tuningProblems: a record key's own error would only say "Invalid key in record".
    parameters: z
      .record(z.string(), parameterRangeSchema)
      .describe(
        'the hyperparameters searched, by name (not starting with sagemaker_ or _tuning_): integer, continuous or categorical ranges (at most 30)',
      ),
  })
  .strict();

export type TuningConfig = z.output<typeof tuningSchema>;
export type ParameterRange = z.output<typeof parameterRangeSchema>;

const METRIC_NAMES = TRAINING_METRIC_DEFINITIONS.map((definition) => definition.Name);

/** The rules between tuning settings that the field schemas cannot express, SageMaker's and the program's. */
export function tuningProblems(tuning: TuningConfig): SettingProblem[] {
  const problems: SettingProblem[] = [];
  if (!METRIC_NAMES.includes(tuning.objective.metric)) {
    problems.push({
      path: ['objective', 'metric'],
      message: `must be a metric the training program reports (its MetricDefinitions): ${METRIC_NAMES.join(', ')}; got "${tuning.objective.metric}"`,
    });
  }
  const names = Object.keys(tuning.parameters);
  if (names.length === 0) problems.push({ path: ['parameters'], message: 'tuning needs at least one hyperparameter range' });
  if (names.length > TUNING_LIMITS.tunedHyperparameters) {
    problems.push({
      path: ['parameters'],
      message: `a tuning job searches at most ${TUNING_LIMITS.tunedHyperparameters} hyperparameters, got ${names.length}`,
    });
  }
  const namePattern = new RegExp(HYPERPARAMETER_NAME_PATTERN);
  for (const [name, range] of Object.entries(tuning.parameters)) {
    const at = (field: string) => ['parameters', name, field];
    if (!namePattern.test(name)) {
      problems.push({
        path: ['parameters', name],
        message:
          'must be a hyperparameter name (letters, digits and _.:/=+@-, at most 256) not starting with sagemaker_ or _tuning_, which SageMaker and the pipeline set',
      });
    }
    if (range.type === 'categorical') {
      const values = range.values.map(String);
      const repeated = values.filter((value, index) => values.indexOf(value) !== index);
      if (repeated.length > 0)
        problems.push({ path: at('values'), message: `values must be unique; repeated: ${[...new Set(repeated)].join(', ')}` });
      continue;
    }
    if (!(range.max > range.min)) problems.push({ path: at('max'), message: `must be greater than min (${range.max} ≤ ${range.min})` });
    if (range.scaling === 'Logarithmic' && !(range.min > 0)) {
      problems.push({ path: at('scaling'), message: `Logarithmic scaling needs a range of values above 0 (min ${range.min})` });
    }
    if (range.scaling === 'ReverseLogarithmic' && !(range.min >= 0 && range.max < 1)) {
      problems.push({
        path: at('scaling'),
        message: `ReverseLogarithmic scaling needs a range within 0 <= x < 1 (min ${range.min}, max ${range.max})`,
      });
    }
  }
  if (tuning.strategy === 'Bayesian' && tuning.maxJobs > TUNING_LIMITS.bayesianTrainingJobs) {
    problems.push({
      path: ['maxJobs'],
      message: `Bayesian tuning starts at most ${TUNING_LIMITS.bayesianTrainingJobs} training jobs, got ${tuning.maxJobs}`,
    });
  }
  if (tuning.maxParallelJobs > tuning.maxJobs) {
    problems.push({ path: ['maxParallelJobs'], message: `must be at most maxJobs (${tuning.maxParallelJobs} > ${tuning.maxJobs})` });
  }
  return problems;
}

/** A number as SageMaker's range fields take it: a decimal string, never exponent notation, every digit kept. */
export function decimalString(value: number): string {
  const text = String(value);
  const exponent = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exponent) return text;
  const [, sign, first, rest = '', power] = exponent;
  // JavaScript writes exponents only from 1e21 up (whole numbers) and below 1e-6.
  if (Number(power) > 0) return `${sign}${BigInt(Math.abs(value)).toString()}`;
  return `${sign}0.${'0'.repeat(-Number(power) - 1)}${first}${rest}`;
}

/** `HyperParameterTuningJobConfig.ParameterRanges` of the settings. */
export function parameterRanges(tuning: TuningConfig) {
  const entries = Object.entries(tuning.parameters);
  const numeric = (type: 'integer' | 'continuous') =>
    entries.flatMap(([name, range]) =>
      range.type === type
        ? [{ Name: name, MinValue: decimalString(range.min), MaxValue: decimalString(range.max), ScalingType: range.scaling }]
        : [],
    );
  return {
    IntegerParameterRanges: numeric('integer'),
    ContinuousParameterRanges: numeric('continuous'),
    CategoricalParameterRanges: entries.flatMap(([name, range]) =>
      range.type === 'categorical'
        ? [{ Name: name, Values: range.values.map((value) => (typeof value === 'number' ? decimalString(value) : value)) }]
        : [],
    ),
  };
}

/** The limits of one training job that the tuning job's budget is counted in. */
export interface TuningJobLimits {
  readonly useSpot: boolean;
  readonly maxRuntimeSeconds: number;
  readonly maxWaitSeconds: number;
}

/**
 * `ResourceLimits.MaxRuntimeInSeconds`: the configured limit, or as long as the waves of parallel
 * jobs may take at one job's own limit (MaxWaitTimeInSeconds on spot), within 120 s – 30 days.
 */
export function tuningMaxRuntimeSeconds(tuning: TuningConfig, job: TuningJobLimits): number {
  if (tuning.maxRuntimeSeconds !== undefined) return tuning.maxRuntimeSeconds;
  const waves = Math.ceil(tuning.maxJobs / tuning.maxParallelJobs);
  const perJob = job.useSpot ? job.maxWaitSeconds : job.maxRuntimeSeconds;
  return Math.min(TUNING_LIMITS.maxRuntimeSeconds, Math.max(TUNING_LIMITS.minRuntimeSeconds, waves * perJob));
}

/** The HyperParameterTuningJobConfig the pipeline sends (SageMaker API field names). */
export function tuningJobConfig(tuning: TuningConfig, job: TuningJobLimits) {
  return {
    Strategy: tuning.strategy,
    HyperParameterTuningJobObjective: { Type: tuning.objective.type, MetricName: tuning.objective.metric },
    ResourceLimits: {
      MaxNumberOfTrainingJobs: tuning.maxJobs,
      MaxParallelTrainingJobs: tuning.maxParallelJobs,
      MaxRuntimeInSeconds: tuningMaxRuntimeSeconds(tuning, job),
    },
    ParameterRanges: parameterRanges(tuning),
    // The training program stops early on its own (`patience`); SageMaker's early stopping is for built-in algorithms' metrics.
    TrainingJobEarlyStoppingType: 'Off',
    ...(tuning.randomSeed === undefined ? {} : { RandomSeed: tuning.randomSeed }),
  };
}

/** Each tuning job's name ends in "-" and 12 hexadecimal digits of two UUIDs (48 random bits). */
export const TUNING_JOB_NAME_SUFFIX_LENGTH = 13;
const MAX_TUNING_PREFIX = TUNING_LIMITS.nameLength - TUNING_JOB_NAME_SUFFIX_LENGTH;

/**
 * The prefix of a pipeline's tuning job names: its training job prefix when that leaves room for
 * the suffix within 32 characters, otherwise the prefix's first 12 characters and 6 hexadecimal
 * digits of its SHA-256 (still one prefix per pipeline). Training jobs a tuning job starts are
 * named `<tuning job name>-<NNN>-<8 hex>`, so they share it (IAM is scoped to it).
 */
export function tuningJobNamePrefix(jobNamePrefix: string): string {
  if (jobNamePrefix.length <= MAX_TUNING_PREFIX) return jobNamePrefix;
  const digest = createHash('sha256').update(jobNamePrefix).digest('hex').slice(0, 6);
  return `${jobNamePrefix.slice(0, MAX_TUNING_PREFIX - 7).replace(/-+$/, '')}-${digest}`;
}

/**
 * The `training.tuning` settings: defaults, every SageMaker tuning limit refused with a message
 * naming the field, model overrides checked where they are; and, as properties, that any settings
 * the schema accepts make a CreateHyperParameterTuningJob request SageMaker's rules accept, and
 * that tuning job names always fit 32 characters.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, type PlatformConfigInput, parseConfig } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';
import { createHyperParameterTuningJobProblems } from '../contracts/sagemaker-tuning-rules';
import { TRAINING_METRIC_DEFINITIONS } from '../contracts/training-job';
import {
  TUNING_JOB_NAME_SUFFIX_LENGTH,
  TUNING_LIMITS,
  tuningJobConfig,
  tuningJobNamePrefix,
  tuningProblems,
  tuningSchema,
} from '../contracts/tuning';

const shipped = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.mlops as PlatformConfigInput;

const learningRate = { type: 'continuous', min: 0.001, max: 0.1, scaling: 'Logarithmic' };

/** The shipped configuration with a platform-wide tuning section. */
function withTuning(tuning: Record<string, unknown>, change: (config: Record<string, any>) => void = () => {}): unknown {
  const config = structuredClone(shipped) as Record<string, any>;
  config.training.tuning = tuning;
  change(config);
  return config;
}

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('training.tuning', () => {
  it('is off unless configured, and fills documented defaults when it is', () => {
    expect(parseConfig(shipped).training.tuning).toBeUndefined();
    const config = parseConfig(
      withTuning({ parameters: { learning_rate: learningRate, hidden_units: { type: 'integer', min: 0, max: 64 } } }),
    );
    expect(config.training.tuning).toEqual({
      objective: { metric: 'validation:loss', type: 'Minimize' },
      strategy: 'Bayesian',
      maxJobs: 10,
      maxParallelJobs: 2,
      parameters: { learning_rate: learningRate, hidden_units: { type: 'integer', min: 0, max: 64, scaling: 'Auto' } },
    });
  });

  it.each([
    [
      'an objective the program does not report',
      { objective: { metric: 'validation:f1', type: 'Maximize' }, parameters: { learning_rate: learningRate } },
      'mlops.training.tuning.objective.metric: must be a metric the training program reports (its MetricDefinitions): train:loss, train:accuracy, validation:loss, validation:accuracy, validation:rmse, validation:mae; got "validation:f1"',
    ],
    ['no parameter to search', { parameters: {} }, 'mlops.training.tuning.parameters: tuning needs at least one hyperparameter range'],
    [
      'a reserved hyperparameter name',
      { parameters: { sagemaker_program: { type: 'categorical', values: ['evil.py'] } } },
      'mlops.training.tuning.parameters.sagemaker_program: must be a hyperparameter name (letters, digits and _.:/=+@-, at most 256) not starting with sagemaker_ or _tuning_, which SageMaker and the pipeline set',
    ],
    [
      'a range whose max is not above its min',
      { parameters: { hidden_units: { type: 'integer', min: 8, max: 8 } } },
      'mlops.training.tuning.parameters.hidden_units.max: must be greater than min (8 ≤ 8)',
    ],
    [
      'logarithmic scaling from 0',
      { parameters: { l2: { type: 'continuous', min: 0, max: 0.1, scaling: 'Logarithmic' } } },
      'mlops.training.tuning.parameters.l2.scaling: Logarithmic scaling needs a range of values above 0 (min 0)',
    ],
    [
      'reverse logarithmic scaling beyond 1',
      { parameters: { l2: { type: 'continuous', min: 0.5, max: 2, scaling: 'ReverseLogarithmic' } } },
      'mlops.training.tuning.parameters.l2.scaling: ReverseLogarithmic scaling needs a range within 0 <= x < 1 (min 0.5, max 2)',
    ],
    [
      'reverse logarithmic scaling of an integer range',
      { parameters: { hidden_units: { type: 'integer', min: 0, max: 8, scaling: 'ReverseLogarithmic' } } },
      'mlops.training.tuning.parameters.hidden_units.scaling: Invalid option: expected one of "Auto"|"Linear"|"Logarithmic" (got "ReverseLogarithmic")',
    ],
    [
      'repeated categorical values',
      { parameters: { batch_size: { type: 'categorical', values: [64, '64', 128] } } },
      'mlops.training.tuning.parameters.batch_size.values: values must be unique; repeated: 64',
    ],
    [
      '31 categorical values',
      { parameters: { batch_size: { type: 'categorical', values: Array.from({ length: 31 }, (_, i) => i + 1) } } },
      'mlops.training.tuning.parameters.batch_size.values: Too big: expected array to have <=30 items',
    ],
    [
      '31 hyperparameters to search',
      { parameters: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`p${i}`, { type: 'integer', min: 0, max: 9 }])) },
      'mlops.training.tuning.parameters: a tuning job searches at most 30 hyperparameters, got 31',
    ],
    [
      'more parallel jobs than jobs',
      { maxJobs: 4, maxParallelJobs: 6, parameters: { learning_rate: learningRate } },
      'mlops.training.tuning.maxParallelJobs: must be at most maxJobs (6 > 4)',
    ],
    [
      'a Bayesian search of 751 jobs',
      { maxJobs: 751, parameters: { learning_rate: learningRate } },
      'mlops.training.tuning.maxJobs: Bayesian tuning starts at most 750 training jobs, got 751',
    ],
    [
      'a random search of 10,001 jobs',
      { strategy: 'Random', maxJobs: 10_001, parameters: { learning_rate: learningRate } },
      'mlops.training.tuning.maxJobs: Too big: expected number to be <=10000 (got 10001)',
    ],
    [
      '101 parallel jobs',
      { maxJobs: 200, maxParallelJobs: 101, parameters: { learning_rate: learningRate } },
      'mlops.training.tuning.maxParallelJobs: Too big: expected number to be <=100 (got 101)',
    ],
    [
      'a tuning job of over 30 days',
      { maxRuntimeSeconds: 30 * 86_400 + 1, parameters: { learning_rate: learningRate } },
      'mlops.training.tuning.maxRuntimeSeconds: Too big: expected number to be <=2592000 (got 2592001)',
    ],
    [
      'a Grid search (not offered)',
      { strategy: 'Grid', parameters: { learning_rate: learningRate } },
      'mlops.training.tuning.strategy: Invalid option: expected one of "Bayesian"|"Random" (got "Grid")',
    ],
  ])('refuses %s, naming the field and the rule', (_, tuning, issue) => {
    expect(issuesOf(withTuning(tuning))).toContain(issue);
  });

  it("checks a model's own tuning section at the model's path", () => {
    const raw = withTuning({ parameters: { learning_rate: learningRate } }, (config) => {
      config.models[0].training = { tuning: { maxJobs: 2, maxParallelJobs: 3, parameters: { learning_rate: learningRate } } };
    });
    expect(issuesOf(raw)).toEqual(['mlops.models[0].training.tuning.maxParallelJobs: must be at most maxJobs (3 > 2)']);
  });
});

/** Tuning settings the schema accepts: any mix of valid ranges and limits. */
const validTuning = fc
  .record({
    metric: fc.constantFrom(...TRAINING_METRIC_DEFINITIONS.map((definition) => definition.Name)),
    type: fc.constantFrom('Minimize', 'Maximize'),
    strategy: fc.constantFrom('Bayesian', 'Random'),
    maxJobs: fc.integer({ min: 1, max: TUNING_LIMITS.bayesianTrainingJobs }),
    parallel: fc.integer({ min: 1, max: TUNING_LIMITS.parallelTrainingJobs }),
    parameters: fc.uniqueArray(
      fc.tuple(
        fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
        fc.oneof(
          fc
            .tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1000 }), fc.constantFrom('Auto', 'Linear', 'Logarithmic'))
            .filter(([a, b]) => a !== b)
            .map(([a, b, scaling]) => ({ type: 'integer', min: Math.min(a, b), max: Math.max(a, b), scaling })),
          fc
            .tuple(fc.double({ min: 1e-9, max: 0.99, noNaN: true }), fc.double({ min: 1e-9, max: 0.99, noNaN: true }))
            .filter(([a, b]) => a !== b)
            .chain(([a, b]) =>
              fc
                .constantFrom('Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic')
                .map((scaling) => ({ type: 'continuous', min: Math.min(a, b), max: Math.max(a, b), scaling })),
            ),
          fc
            .uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: TUNING_LIMITS.categoricalValues })
            .map((values) => ({ type: 'categorical', values })),
        ),
      ),
      { minLength: 1, maxLength: TUNING_LIMITS.tunedHyperparameters, selector: ([name]) => name },
    ),
    seed: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined }),
  })
  .map(({ metric, type, strategy, maxJobs, parallel, parameters, seed }) =>
    tuningSchema.parse({
      objective: { metric, type },
      strategy,
      maxJobs,
      maxParallelJobs: Math.min(parallel, maxJobs),
      ...(seed === undefined ? {} : { randomSeed: seed }),
      parameters: Object.fromEntries(parameters),
    }),
  );

describe('tuning settings and the request they make', () => {
  it('turn any settings the configuration accepts into a tuning job SageMaker would accept', () => {
    fc.assert(
      fc.property(validTuning, fc.boolean(), (tuning, useSpot) => {
        expect(tuningProblems(tuning)).toEqual([]);
        const request = {
          HyperParameterTuningJobName: 'mlops-dev-churn-0123456789ab',
          HyperParameterTuningJobConfig: tuningJobConfig(tuning, { useSpot, maxRuntimeSeconds: 14_400, maxWaitSeconds: 28_800 }),
          TrainingJobDefinition: {
            AlgorithmSpecification: { MetricDefinitions: [...TRAINING_METRIC_DEFINITIONS] },
            StaticHyperParameters: {
              epochs: '20',
              sagemaker_program: 'train.py',
              sagemaker_submit_directory: '/opt/ml/input/data/code/x.tar.gz',
            },
            InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://bucket/splits/churn/run/train/' } } }],
            OutputDataConfig: { S3OutputPath: 's3://bucket/models/churn/' },
            ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1 },
            EnableManagedSpotTraining: useSpot,
            StoppingCondition: useSpot ? { MaxRuntimeInSeconds: 14_400, MaxWaitTimeInSeconds: 28_800 } : { MaxRuntimeInSeconds: 14_400 },
            CheckpointConfig: { S3Uri: 's3://bucket/checkpoints/churn/run/' },
          },
        };
        expect(createHyperParameterTuningJobProblems(request)).toEqual([]);
        // The ranges travel as decimal strings that read back as the configured bounds.
        for (const range of request.HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges) {
          expect(range.MinValue).not.toMatch(/e/i);
          expect(Number(range.MinValue)).toBe((tuning.parameters[range.Name] as { min: number }).min);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('name tuning jobs within 32 characters, as SageMaker allows, whatever the job-name prefix', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/).filter((prefix) => prefix.length <= 26),
        (prefix) => {
          const tuning = tuningJobNamePrefix(prefix);
          const name = `${tuning}-0123456789ab`;
          expect(name.length).toBeLessThanOrEqual(TUNING_LIMITS.nameLength);
          expect(TUNING_JOB_NAME_SUFFIX_LENGTH).toBe('-0123456789ab'.length);
          expect(name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$/);
          // A prefix that fits is kept (IAM scopes training and tuning jobs alike); a longer one keeps its start.
          if (prefix.length <= 19) expect(tuning).toBe(prefix);
          else expect(tuning.startsWith(prefix.slice(0, 12).replace(/-+$/, ''))).toBe(true);
        },
      ),
    );
    expect(tuningJobNamePrefix('analytics-platform-churn')).not.toBe(tuningJobNamePrefix('analytics-platform-fraud'));
  });

  it('limit the tuning job to the waves of parallel jobs at one job’s limit, within 120 s and 30 days', () => {
    const settings = tuningSchema.parse({ maxJobs: 7, maxParallelJobs: 3, parameters: { learning_rate: learningRate } });
    const limits = (useSpot: boolean, seconds: number) =>
      tuningJobConfig(settings, { useSpot, maxRuntimeSeconds: seconds, maxWaitSeconds: 2 * seconds }).ResourceLimits.MaxRuntimeInSeconds;
    expect(limits(true, 3600)).toBe(3 * 7200);
    expect(limits(false, 3600)).toBe(3 * 3600);
    expect(limits(false, 30)).toBe(120);
    expect(limits(true, 28 * 86_400)).toBe(30 * 86_400);
    expect(
      tuningJobConfig({ ...settings, maxRuntimeSeconds: 5000 }, { useSpot: true, maxRuntimeSeconds: 60, maxWaitSeconds: 60 })
        .ResourceLimits,
    ).toEqual({
      MaxNumberOfTrainingJobs: 7,
      MaxParallelTrainingJobs: 3,
      MaxRuntimeInSeconds: 5000,
    });
  });
});

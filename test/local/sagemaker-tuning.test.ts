/**
 * The offline tuning job (local/sagemaker-tuning.ts): SageMaker's request rules, the random search
 * (within the ranges and their scaling, repeatable by seed), at most two training jobs at once,
 * the best job by the objective read from the program's output, the outcome counters. A tuning
 * job of the real training program runs in tuning-pipeline.test.ts.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { submitDirectoryOf, TRAINING_METRIC_DEFINITIONS } from '../../contracts/training-job';
import { type TuningConfig, tuningJobConfig, tuningSchema } from '../../contracts/tuning';
import { SageMakerTaskError, type TrainingJobDescription, type TrainingJobRequest } from '../../local/sagemaker-training';
import { LocalTuningJobs, type ParameterRanges, sampleHyperparameters, type TuningJobRequest } from '../../local/sagemaker-tuning';
import { seededRandom } from '../../local/sample-data';

const BUCKET = 'local-artifacts';
const SPLIT = `s3://${BUCKET}/splits/churn/run-1`;
const CODE_KEY = 'f00dfeed.tar.gz';

function tuning(overrides: Record<string, unknown> = {}): TuningConfig {
  return tuningSchema.parse({
    maxJobs: 3,
    maxParallelJobs: 2,
    randomSeed: 11,
    parameters: {
      learning_rate: { type: 'continuous', min: 0.005, max: 0.2, scaling: 'Logarithmic' },
      hidden_units: { type: 'integer', min: 0, max: 8 },
      batch_size: { type: 'categorical', values: [32, 64] },
    },
    ...overrides,
  });
}

/** A tuning request as the pipeline sends it (the definition's fields as TuneHyperparameters fills them). */
function request(settings: TuningConfig = tuning(), name = 'local-churn-0123456789ab', staticHyperparameters: Record<string, string> = {}) {
  return {
    HyperParameterTuningJobName: name,
    HyperParameterTuningJobConfig: tuningJobConfig(settings, { useSpot: true, maxRuntimeSeconds: 600, maxWaitSeconds: 1200 }),
    TrainingJobDefinition: {
      AlgorithmSpecification: {
        TrainingImage: 'trainer:1',
        TrainingInputMode: 'File',
        MetricDefinitions: [...TRAINING_METRIC_DEFINITIONS],
      },
      RoleArn: 'arn:aws:iam::000000000000:role/local-training',
      StaticHyperParameters: {
        epochs: '2',
        ...staticHyperparameters,
        sagemaker_program: 'train.py',
        sagemaker_submit_directory: submitDirectoryOf(CODE_KEY),
      },
      InputDataConfig: ['train', 'validation', 'config'].map((channel) => ({
        ChannelName: channel,
        DataSource: { S3DataSource: { S3Uri: `${SPLIT}/${channel}/` } },
      })),
      OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/models/churn/` },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      EnableManagedSpotTraining: true,
      EnableNetworkIsolation: true,
      StoppingCondition: { MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 1200 },
      CheckpointConfig: { S3Uri: `s3://${BUCKET}/checkpoints/churn/run-1/` },
    },
    Tags: [{ Key: 'Model', Value: 'churn' }],
  } as unknown as TuningJobRequest;
}

/** A training job double: records what it ran, when, and reports `metrics(request)` as its final metrics. */
function fakeTrainingJobs(metrics: (request: TrainingJobRequest) => Record<string, number> | Error = () => ({ 'validation:loss': 0.5 })) {
  const started: TrainingJobRequest[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const runner = {
    started,
    get mostAtOnce() {
      return mostAtOnce;
    },
    async run(job: TrainingJobRequest): Promise<TrainingJobDescription> {
      started.push(job);
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      const outcome = metrics(job);
      if (outcome instanceof Error) throw outcome;
      return {
        TrainingJobName: job.TrainingJobName,
        TrainingJobStatus: 'Completed',
        ModelArtifacts: { S3ModelArtifacts: `s3://${BUCKET}/models/churn/${job.TrainingJobName}/output/model.tar.gz` },
        TrainingTimeInSeconds: 10,
        BillableTimeInSeconds: 3,
        EnableManagedSpotTraining: true,
        HyperParameters: job.HyperParameters ?? {},
        FinalMetricDataList: Object.entries(outcome).map(([MetricName, Value]) => ({ MetricName, Value })),
      };
    },
  };
  return runner;
}

const failed = (reason: string) =>
  new SageMakerTaskError('States.TaskFailed', JSON.stringify({ TrainingJobStatus: 'Failed', FailureReason: reason }));

describe('LocalTuningJobs', () => {
  it('refuses what SageMaker refuses, as a ValidationException, before any training job starts', async () => {
    const jobs = fakeTrainingJobs();
    const tuner = new LocalTuningJobs({ trainingJobs: jobs });
    // A run that passes a tuned hyperparameter as a static one; a name over 32 characters.
    await expect(tuner.run(request(tuning(), 'local-churn-0123456789ab', { learning_rate: '0.1' }))).rejects.toMatchObject({
      name: 'SageMaker.AmazonSageMakerException',
      message: expect.stringContaining('learning_rate are both static (StaticHyperParameters) and tuned (ParameterRanges)'),
    });
    await expect(tuner.run(request(tuning(), 'local-churn-with-a-name-over-32-chars'))).rejects.toThrow(
      "at 'hyperParameterTuningJobName' failed to satisfy constraint: Member must have length less than or equal to 32",
    );
    expect(jobs.started).toEqual([]);
    await tuner.run(request());
    await expect(tuner.run(request())).rejects.toThrow('A hyperparameter tuning job with the name local-churn-0123456789ab already exists');
  });

  it('starts MaxNumberOfTrainingJobs training jobs named as SageMaker names them, never more than two at once here', async () => {
    for (const [parallel, expected] of [
      [5, 2],
      [1, 1],
    ] as const) {
      const jobs = fakeTrainingJobs();
      await new LocalTuningJobs({ trainingJobs: jobs }).run(request(tuning({ maxJobs: 6, maxParallelJobs: parallel })));
      expect(jobs.started).toHaveLength(6);
      expect(jobs.mostAtOnce).toBe(expected);
      expect(jobs.started.map((job) => job.TrainingJobName)).toEqual(
        [1, 2, 3, 4, 5, 6].map((n) => expect.stringMatching(new RegExp(`^local-churn-0123456789ab-00${n}-[0-9a-f]{8}$`))),
      );
    }
  });

  it("gives each training job the definition, the static hyperparameters, its own values and the objective's name", async () => {
    const jobs = fakeTrainingJobs();
    const sent = request();
    await new LocalTuningJobs({ trainingJobs: jobs }).run(sent);
    for (const job of jobs.started) {
      expect(job).toMatchObject({
        InputDataConfig: sent.TrainingJobDefinition.InputDataConfig,
        CheckpointConfig: sent.TrainingJobDefinition.CheckpointConfig,
        EnableManagedSpotTraining: true,
        Tags: sent.Tags,
      });
      expect(Object.keys(job.HyperParameters!).sort()).toEqual(
        [
          '_tuning_objective_metric',
          'batch_size',
          'epochs',
          'hidden_units',
          'learning_rate',
          'sagemaker_program',
          'sagemaker_submit_directory',
        ].sort(),
      );
      expect(job.HyperParameters!._tuning_objective_metric).toBe('validation:loss');
    }
    expect(new Set(jobs.started.map((job) => JSON.stringify(job.HyperParameters))).size).toBe(3);
  });

  it('names the best training job by the objective: the lowest when minimizing, the highest when maximizing, the first of equals', async () => {
    const losses = [0.42, 0.31, 0.31, 0.5];
    const values = (job: TrainingJobRequest) => {
      const index = Number(/-(\d{3})-/.exec(job.TrainingJobName)![1]) - 1;
      return { 'validation:loss': losses[index]!, 'validation:accuracy': 1 - losses[index]! / 2 + (index === 3 ? 0.5 : 0) };
    };
    const minimized = await new LocalTuningJobs({ trainingJobs: fakeTrainingJobs(values) }).run(request(tuning({ maxJobs: 4 })));
    expect(minimized.BestTrainingJob).toMatchObject({
      TrainingJobName: expect.stringMatching(/-002-/),
      FinalHyperParameterTuningJobObjectiveMetric: { Type: 'Minimize', MetricName: 'validation:loss', Value: 0.31 },
    });
    const jobs = fakeTrainingJobs(values);
    const maximized = await new LocalTuningJobs({ trainingJobs: jobs }).run(
      request(tuning({ maxJobs: 4, objective: { metric: 'validation:accuracy', type: 'Maximize' } }), 'local-churn-aaaaaaaaaaaa'),
    );
    expect(maximized.BestTrainingJob!.TrainingJobName).toMatch(/-004-/);
    const best = jobs.started.find((job) => job.TrainingJobName === maximized.BestTrainingJob!.TrainingJobName)!;
    expect(maximized.BestTrainingJob!.TunedHyperParameters).toEqual({
      learning_rate: best.HyperParameters!.learning_rate,
      hidden_units: best.HyperParameters!.hidden_units,
      batch_size: best.HyperParameters!.batch_size,
    });
  });

  it('tries the same values for the same seed, and other values for another seed or tuning job name', async () => {
    const valuesOf = async (settings: TuningConfig, name?: string) => {
      const jobs = fakeTrainingJobs();
      await new LocalTuningJobs({ trainingJobs: jobs }).run(request(settings, name));
      return jobs.started.map((job) => [job.HyperParameters!.learning_rate, job.HyperParameters!.hidden_units]).sort();
    };
    expect(await valuesOf(tuning())).toEqual(await valuesOf(tuning()));
    expect(await valuesOf(tuning())).not.toEqual(await valuesOf(tuning({ randomSeed: 12 })));
    const unseeded = tuning({ randomSeed: undefined });
    expect(await valuesOf(unseeded, 'local-churn-111111111111')).toEqual(await valuesOf(unseeded, 'local-churn-111111111111'));
    expect(await valuesOf(unseeded, 'local-churn-111111111111')).not.toEqual(await valuesOf(unseeded, 'local-churn-222222222222'));
  });

  it('completes without a best job when no training job reported the objective, and fails when every one failed', async () => {
    const silent = await new LocalTuningJobs({ trainingJobs: fakeTrainingJobs(() => ({ 'train:loss': 0.2 })) }).run(request());
    expect(silent.HyperParameterTuningJobStatus).toBe('Completed');
    expect(silent.BestTrainingJob).toBeUndefined();
    expect(silent.ObjectiveStatusCounters).toEqual({ Succeeded: 0, Pending: 0, Failed: 3 });

    let n = 0;
    const broken = fakeTrainingJobs(() => (n++ === 0 ? failed('CapacityError: no spot capacity') : failed('AlgorithmError: exit code 1')));
    const error = await new LocalTuningJobs({ trainingJobs: broken }).run(request()).catch((caught: Error) => caught);
    expect(error).toMatchObject({ name: 'States.TaskFailed' });
    const cause = JSON.parse((error as Error).message);
    expect(cause).toMatchObject({
      HyperParameterTuningJobStatus: 'Failed',
      FailureReason: expect.stringContaining('All training jobs failed.'),
      TrainingJobStatusCounters: { Completed: 0, RetryableError: 1, NonRetryableError: 2 },
    });
    // A capacity failure in the cause lets the pipeline try a new tuning job (IsTrainingRetryable).
    expect(cause.FailureReason).toContain('CapacityError');
  });
});

describe('sampleHyperparameters', () => {
  const bounds = fc
    .tuple(fc.double({ min: 1e-6, max: 1e3, noNaN: true }), fc.double({ min: 1e-6, max: 1e3, noNaN: true }))
    .filter(([a, b]) => Math.abs(a - b) > 1e-9)
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

  it('keeps every value inside its range: integers whole, scaled values within min and max, categories from the list', () => {
    fc.assert(
      fc.property(
        bounds,
        fc.constantFrom('Auto', 'Linear', 'Logarithmic'),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom('Auto', 'Linear', 'Logarithmic'),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 30 }),
        fc.integer(),
        ([min, max], scaling, a, b, integerScaling, values, seed) => {
          const low = Math.min(a, b) + (integerScaling === 'Logarithmic' ? 1 : 0);
          const high = Math.max(a, b) + 1;
          const ranges: ParameterRanges = {
            ContinuousParameterRanges: [{ Name: 'c', MinValue: String(min), MaxValue: String(max), ScalingType: scaling }],
            IntegerParameterRanges: [{ Name: 'i', MinValue: String(low), MaxValue: String(high), ScalingType: integerScaling }],
            CategoricalParameterRanges: [{ Name: 'k', Values: values }],
          };
          const sample = sampleHyperparameters(ranges, seededRandom(seed));
          const continuous = Number(sample.c);
          const integer = Number(sample.i);
          return (
            continuous >= min &&
            continuous <= max &&
            !/e/i.test(sample.c!) &&
            Number(sample.c) === continuous &&
            Number.isInteger(integer) &&
            integer >= low &&
            integer <= high &&
            values.includes(sample.k!)
          );
        },
      ),
    );
  });

  it('keeps reverse-logarithmic values within 0 <= x < 1 ranges', () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.double({ min: 0, max: 0.999, noNaN: true }), fc.double({ min: 0, max: 0.999, noNaN: true }))
          .filter(([a, b]) => a !== b),
        fc.integer(),
        ([a, b], seed) => {
          const [min, max] = [Math.min(a, b), Math.max(a, b)];
          const ranges = {
            ContinuousParameterRanges: [{ Name: 'm', MinValue: String(min), MaxValue: String(max), ScalingType: 'ReverseLogarithmic' }],
          };
          const value = Number(sampleHyperparameters(ranges as ParameterRanges, seededRandom(seed)).m);
          return value >= min && value <= max;
        },
      ),
    );
  });

  it('spreads logarithmic values evenly over orders of magnitude, and linear ones over the interval', () => {
    const random = seededRandom(5);
    const draw = (ScalingType: 'Linear' | 'Logarithmic') =>
      Array.from({ length: 4000 }, () =>
        Number(
          sampleHyperparameters({ ContinuousParameterRanges: [{ Name: 'x', MinValue: '0.0001', MaxValue: '1', ScalingType }] }, random).x,
        ),
      );
    const share = (values: number[], below: number) => values.filter((value) => value < below).length / values.length;
    // Log-uniform over 4 decades: a quarter per decade. Uniform: 1% below 0.01.
    const logarithmic = draw('Logarithmic');
    for (const edge of [0.001, 0.01, 0.1]) expect(Math.abs(share(logarithmic, edge) - Math.log10(edge / 0.0001) / 4)).toBeLessThan(0.03);
    expect(share(draw('Linear'), 0.01)).toBeLessThan(0.02);
  });
});

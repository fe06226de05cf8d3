/**
 * The offline tuning job (local/sagemaker-tuning.ts): SageMaker's request rules, the random search
 * (within the ranges and their scaling, repeatable by seed), at most two training jobs at once,
 * the best job by the objective read from the program's output, the outcome counters; and one
 * tuning job of three tiny training jobs of the real training program under Debian's torch.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { modelDocument } from '../../contracts/model';
import { parseConfig, resolveModel } from '../../contracts/platform-config';
import { modelSchemaFor } from '../../contracts/serving-schema';
import { TRAINING_SOURCE_DIRECTORY, writeTrainingCodeArchive } from '../../contracts/training-code';
import { submitDirectoryOf, TRAINING_METRIC_DEFINITIONS } from '../../contracts/training-job';
import { type TuningConfig, tuningJobConfig, tuningSchema } from '../../contracts/tuning';
import type { StoredObject } from '../../lambdas/shared/object-store';
import {
  LocalTrainingJobs,
  SageMakerTaskError,
  type TrainingJobDescription,
  type TrainingJobRequest,
} from '../../local/sagemaker-training';
import { LocalTuningJobs, type ParameterRanges, sampleHyperparameters, type TuningJobRequest } from '../../local/sagemaker-tuning';
import { generateChurn, seededRandom, toCsv } from '../../local/sample-data';
import { cdkJsonContext } from '../support/cdk';

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

/** The object store the stand-in reads channels from and writes models and checkpoints to, in memory. */
class MemoryStore {
  readonly objects = new Map<string, Uint8Array>();

  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    return [...this.objects.keys()]
      .filter((key) => key.startsWith(`${bucket}/${prefix}`))
      .sort()
      .map((key) => ({ key: key.slice(bucket.length + 1), size: this.objects.get(key)!.length, etag: '"e"' }));
  }

  async getBytes(bucket: string, key: string): Promise<Uint8Array> {
    const bytes = this.objects.get(`${bucket}/${key}`);
    if (!bytes) throw new Error(`no object ${key}`);
    return bytes;
  }

  async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    this.objects.set(`${bucket}/${key}`, typeof body === 'string' ? Buffer.from(body) : body);
  }
}

describe('a tuning job of the real training program, offline', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'mlops-tuning-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs three tiny training jobs, two at a time, each checkpointing apart, and names the lowest validation loss in their output', async () => {
    const store = new MemoryStore();
    const config = parseConfig(cdkJsonContext.mlops);
    const model = modelDocument(resolveModel(config, config.models[0]!));
    const customers = generateChurn({ rows: 360, seed: 3 });
    await store.put(BUCKET, 'splits/churn/run-1/train/part-0.csv', toCsv(customers.slice(0, 300)));
    await store.put(BUCKET, 'splits/churn/run-1/validation/part-0.csv', toCsv(customers.slice(300)));
    await store.put(BUCKET, 'splits/churn/run-1/config/model.json', JSON.stringify({ ...model, servingSchema: modelSchemaFor(model) }));
    await store.put('local-cdk-assets', CODE_KEY, readFileSync(writeTrainingCodeArchive(TRAINING_SOURCE_DIRECTORY, scratch)));
    const sent = request();
    (sent.TrainingJobDefinition.InputDataConfig as unknown as unknown[]).push({
      ChannelName: 'code',
      DataSource: { S3DataSource: { S3Uri: `s3://local-cdk-assets/${CODE_KEY}` } },
    });
    const output: Record<string, string[]> = {};
    const trainingJobs = new LocalTrainingJobs({
      store,
      python: '/usr/bin/python3',
      onProgress: ({ job, message }) => {
        output[job] = [...(output[job] ?? []), message];
      },
    });
    let running = 0;
    let mostAtOnce = 0;
    const counted = {
      run: async (job: TrainingJobRequest) => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        try {
          return await trainingJobs.run(job);
        } finally {
          running--;
        }
      },
    };
    const result = await new LocalTuningJobs({ trainingJobs: counted }).run(sent);

    expect(result.TrainingJobStatusCounters).toMatchObject({ Completed: 3, NonRetryableError: 0 });
    expect(mostAtOnce).toBe(2);
    const names = Object.keys(output).sort();
    expect(names).toHaveLength(3);
    // The objective as SageMaker reads it: validation:loss's regex over each job's output, the last match.
    const pattern = new RegExp(TRAINING_METRIC_DEFINITIONS.find((metric) => metric.Name === 'validation:loss')!.Regex);
    const lastLoss = (name: string) => Number(output[name]!.flatMap((line) => pattern.exec(line)?.[1] ?? []).at(-1));
    const losses = names.map(lastLoss);
    expect(losses.every(Number.isFinite)).toBe(true);
    const best = names[losses.indexOf(Math.min(...losses))]!;
    expect(result.BestTrainingJob).toMatchObject({
      TrainingJobName: best,
      FinalHyperParameterTuningJobObjectiveMetric: { MetricName: 'validation:loss', Value: Math.min(...losses) },
    });
    expect(trainingJobs.describe(best).ModelArtifacts.S3ModelArtifacts).toBe(`s3://${BUCKET}/models/churn/${best}/output/model.tar.gz`);
    // Each training job checkpointed under its own name within the shared CheckpointConfig.S3Uri, and used its own values.
    const checkpoints = [...store.objects.keys()].filter((key) => key.startsWith(`${BUCKET}/checkpoints/churn/run-1/`));
    expect(new Set(checkpoints.map((key) => key.split('/')[4])).size).toBe(3);
    for (const name of names) {
      expect(checkpoints.some((key) => key.startsWith(`${BUCKET}/checkpoints/churn/run-1/${name}/checkpoint-epoch-`))).toBe(true);
    }
    // The best job trained with the values the tuning job reports for it (the program logs what it parsed).
    const tuned = result.BestTrainingJob!.TunedHyperParameters;
    expect(output[best]!.join('\n')).toContain(`"learning_rate": ${Number(tuned.learning_rate)}`);
    expect(output[best]!.join('\n')).toContain(`"hidden_units": ${tuned.hidden_units}`);
  }, 120_000);
});

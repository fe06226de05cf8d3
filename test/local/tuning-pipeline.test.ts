/**
 * The training pipeline with `training.tuning` on the offline runtime: the real ASL's tuning
 * branch, the local tuning job running two tiny training jobs of the real program, the best job
 * described, evaluated and registered with its tuned values, on s3rver and DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../contracts/platform-config';
import { TRAINING_METRIC_DEFINITIONS } from '../../contracts/training-job';
import { LOCAL_BUCKETS, type LocalExecution, LocalPlatform, type TaskInput } from '../../local/runtime';
import { generateChurn, toCsv } from '../../local/sample-data';
import { cdkJsonContext } from '../support/cdk';

const raw = structuredClone(cdkJsonContext.mlops) as Record<string, any>;
raw.training.tuning = {
  strategy: 'Random',
  maxJobs: 2,
  maxParallelJobs: 2,
  randomSeed: 3,
  parameters: { learning_rate: { type: 'continuous', min: 0.02, max: 0.1, scaling: 'Logarithmic' } },
};
const config = parseConfig(raw);

describe('a tuned training run, offline', () => {
  let platform: LocalPlatform;
  let execution: LocalExecution;
  const tuningRequests: TaskInput[] = [];
  const tuningResults: any[] = [];
  /** Each job's output lines (the runtime's notes, by job name). */
  const output = new Map<string, string[]>();

  beforeAll(async () => {
    platform = await LocalPlatform.start({
      config,
      onEvent: (event) => {
        if (event.kind === 'note') output.set(event.execution, [...(output.get(event.execution) ?? []), event.message]);
      },
      wrapTask: (state, handler) =>
        state === 'TuneHyperparameters'
          ? async (input) => {
              tuningRequests.push(input);
              const result = await handler(input);
              tuningResults.push(result);
              return result;
            }
          : handler,
    });
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/tuned.csv', toCsv(generateChurn({ rows: 4000, seed: 21 })), 'text/csv');
    execution = platform.startTraining(
      'churn',
      { datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/tuned.csv`, hyperparameters: { epochs: '4' } },
      'tuned-run',
    );
    await execution.done;
  }, 120_000);
  afterAll(async () => platform?.stop());

  it('tunes instead of training once, and registers the best training job with the values it was trained with', async () => {
    expect(execution.states.map((state) => state.name)).toEqual(
      expect.arrayContaining([
        'TuneHyperparameters',
        'HasBestTrainingJob',
        'DescribeBestTrainingJob',
        'UseBestTrainingJob',
        'EvaluateModel',
      ]),
    );
    expect(execution.states.map((state) => state.name)).not.toContain('TrainOnSpot');
    expect(tuningRequests).toHaveLength(1);
    const [result] = tuningResults;
    expect(result.TrainingJobStatusCounters).toMatchObject({ Completed: 2 });
    const best = result.BestTrainingJob.TrainingJobName as string;
    expect(best).toMatch(/^local-churn-[0-9a-f]{12}-00[12]-[0-9a-f]{8}$/);
    const version = await platform.registry.getVersion({ modelName: 'churn', version: 1 });
    expect(version).toMatchObject({
      artifactUri: `s3://${LOCAL_BUCKETS.artifacts}/models/churn/${best}/output/model.tar.gz`,
      lineage: {
        trainingJobName: best,
        hyperparameters: { epochs: '4', learning_rate: result.BestTrainingJob.TunedHyperParameters.learning_rate },
      },
    });
    expect(version.spotSavings).toBeGreaterThan(0);
    // The best job has the lowest validation loss as SageMaker reads it: the metric definition's regex, last match.
    const pattern = new RegExp(TRAINING_METRIC_DEFINITIONS.find((metric) => metric.Name === 'validation:loss')!.Regex);
    const jobs = [...output.keys()].filter((job) => /-00[12]-[0-9a-f]{8}$/.test(job)).sort();
    const losses = jobs.map((job) =>
      Number(
        output
          .get(job)!
          .flatMap((line) => pattern.exec(line)?.[1] ?? [])
          .at(-1),
      ),
    );
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(best).toBe(jobs[losses.indexOf(Math.min(...losses))]);
    expect(result.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value).toBe(Math.min(...losses));
    // Each trained with its own value (the program logs the hyperparameters it parsed).
    expect(output.get(best)!.join('\n')).toContain(`"learning_rate": ${Number(result.BestTrainingJob.TunedHyperParameters.learning_rate)}`);
    // Both training jobs wrote a model; each checkpointed under its own name.
    const models = await platform.keysUnder(LOCAL_BUCKETS.artifacts, 'models/churn/');
    expect(models.filter((key) => key.endsWith('/output/model.tar.gz'))).toHaveLength(2);
    const checkpoints = await platform.keysUnder(LOCAL_BUCKETS.artifacts, 'checkpoints/churn/tuned-run/');
    expect(new Set(checkpoints.map((key) => key.split('/')[3])).size).toBe(2);
  });
});

import { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionAlreadyExists, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createRetrainingHandler } from '../../../lambdas/start-retraining/handler';
import { StepFunctionsTrainingRuns } from '../../../lambdas/start-retraining/sfn-training-runs';
import { executionNameFor, newestDatasetUri, startRetraining, type TrainingRuns } from '../../../lambdas/start-retraining/start-retraining';

const settings = { model: 'churn', datasetsBucket: 'datasets', cooldownHours: 24 };
const HOUR = 3_600_000;
const NOW = Date.parse('2026-05-02T12:00:00Z');

/** A training pipeline with an execution history; names are unique like Step Functions'. */
class FakeRuns implements TrainingRuns {
  readonly started: { name: string; input: unknown; at: number }[] = [];
  constructor(private lastStart?: number) {}
  async newestStart() {
    const newest = Math.max(this.lastStart ?? -Infinity, ...this.started.map((run) => run.at));
    return Number.isFinite(newest) ? new Date(newest) : undefined;
  }
  async start(name: string, input: string) {
    if (this.started.some((run) => run.name === name)) return { alreadyExists: true };
    this.started.push({ name, input: JSON.parse(input), at: NOW });
    return { executionArn: `arn:aws:states:::execution:training:${name}`, alreadyExists: false };
  }
}

const datasets = (keys: string[]) => ({ keysUnder: async (prefix: string) => keys.filter((key) => key.startsWith(prefix)).sort() });
const alarm = (state = 'ALARM', transitionTime = '2026-05-02T11:58:00.123Z') => ({ alarmName: 'churn-drift', state, transitionTime });
const DATA = datasets([
  'churn/2026-04-01/part-0.csv',
  'churn/2026-05-01/part-0.csv',
  'churn/2026-05-01/part-1.csv',
  'churn/README',
  'fraud/2027-01-01/x.csv',
]);

describe('the retraining trigger', () => {
  it('starts the pipeline on the newest dataset prefix with the pipeline input contract', async () => {
    const runs = new FakeRuns();
    const result = await startRetraining(runs, DATA, settings, alarm(), NOW);
    expect(result).toEqual({
      started: true,
      executionName: 'drift-20260502T115800123Z',
      executionArn: 'arn:aws:states:::execution:training:drift-20260502T115800123Z',
      datasetUri: 's3://datasets/churn/2026-05-01/',
    });
    expect(runs.started[0]!.input).toEqual({ datasetUri: 's3://datasets/churn/2026-05-01/', model: 'churn' });
  });

  it('starts one retraining per drift episode: a second transition within the cool-down starts nothing', async () => {
    const runs = new FakeRuns();
    await startRetraining(runs, DATA, settings, alarm(), NOW);
    const again = await startRetraining(runs, DATA, settings, alarm('ALARM', '2026-05-02T13:00:00Z'), NOW + 3 * HOUR);
    expect(again).toMatchObject({ started: false, reason: 'cooldown' });
    expect(runs.started).toHaveLength(1);
    const later = await startRetraining(runs, DATA, settings, alarm('ALARM', '2026-05-03T13:00:00Z'), NOW + 25 * HOUR);
    expect(later).toMatchObject({ started: true });
    expect(runs.started).toHaveLength(2);
  });

  it('counts a manual run of the pipeline within the cool-down', async () => {
    const result = await startRetraining(new FakeRuns(NOW - 2 * HOUR), DATA, settings, alarm(), NOW);
    expect(result).toMatchObject({ started: false, reason: 'cooldown', message: expect.stringMatching(/within the 24 h cool-down/) });
  });

  it('treats a duplicate delivery of the same alarm event as already started', async () => {
    const runs = new FakeRuns();
    await startRetraining(runs, DATA, settings, alarm(), NOW);
    const duplicate = await startRetraining(runs, DATA, { ...settings, cooldownHours: 0 }, alarm(), NOW);
    expect(duplicate).toMatchObject({ started: false, reason: 'already-started' });
  });

  it('starts nothing without a dataset prefix, or for a state other than ALARM', async () => {
    expect(await startRetraining(new FakeRuns(), datasets(['churn/loose.csv']), settings, alarm(), NOW)).toMatchObject({
      started: false,
      reason: 'no-dataset',
    });
    expect(await startRetraining(new FakeRuns(), DATA, settings, alarm('OK'), NOW)).toMatchObject({
      started: false,
      reason: 'not-in-alarm',
    });
  });

  it('names executions within the 36 characters SageMaker job names leave for them', () => {
    expect(executionNameFor(alarm()).length).toBeLessThanOrEqual(36);
    expect(executionNameFor(alarm())).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('finds the lexicographically greatest prefix', async () => {
    expect(await newestDatasetUri(datasets(['churn/v0009/a', 'churn/v0010/a']), settings)).toBe('s3://datasets/churn/v0010/');
  });

  it("never takes the batch inputs' folder (<model>/batch/, unlabelled rows to score) for the newest dataset", async () => {
    const keys = ['churn/2026-11-15/part-0.csv', 'churn/batch/2026-11-30/part-0.csv'];
    expect(await newestDatasetUri(datasets(keys), settings)).toBe('s3://datasets/churn/2026-11-15/');
    expect(await newestDatasetUri(datasets(['churn/batch/2026-11-30/part-0.csv']), settings)).toBeUndefined();
  });

  it("never takes the offline runtime's uploads (<model>/uploads/, whatever a person trained or scored from a local file)", async () => {
    // "uploads" sorts after every dated or v-numbered prefix: taken, it would always be the newest.
    const keys = ['churn/2026-11-15/part-0.csv', 'churn/uploads/3f2a9c0d1e4b5a67/rows.csv', 'churn/v0042/part-0.csv'];
    expect(await newestDatasetUri(datasets(keys), settings)).toBe('s3://datasets/churn/v0042/');
    expect(await newestDatasetUri(datasets(['churn/uploads/3f2a9c0d1e4b5a67/rows.csv']), settings)).toBeUndefined();
  });
});

describe('the start-retraining handler and its Step Functions adapter', () => {
  it('reads the newest execution and maps ExecutionAlreadyExists to "already started"', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const handle = createRetrainingHandler(
      new StepFunctionsTrainingRuns(new SFNClient({ region: 'us-east-1' }), 'arn:aws:states:us-east-1:1:stateMachine:t'),
      DATA,
      settings,
      new Logger({ logLevel: 'SILENT' }),
    );
    const event = {
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      detail: { alarmName: 'churn-drift', state: { value: 'ALARM', timestamp: '2026-05-02T11:58:00.123+0000' } },
    };
    await expect(handle(event)).resolves.toMatchObject({ started: false, reason: 'already-started' });
    expect(sfn.commandCalls(ListExecutionsCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:t',
      maxResults: 1,
    });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toMatchObject({
      name: 'drift-20260502T115800123Z',
      input: JSON.stringify({ datasetUri: 's3://datasets/churn/2026-05-01/', model: 'churn' }),
    });
    await expect(handle({ detail: {} })).rejects.toThrow(/not a CloudWatch alarm state-change event/);
    sfn.restore();
  });
});

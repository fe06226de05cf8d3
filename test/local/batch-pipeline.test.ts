/**
 * The batch inference pipeline on the offline runtime, under the synthesized stack's IAM: after one
 * real training run promotes a version, startBatch runs statemachines/batch-inference.asl.json with
 * the real batch-score and check-drift code on s3rver and DynamoDB Local — scored objects, the
 * manifest and the drift report written, the execution described as the batch state machine's; a
 * location the function may not use refused at the list step, naming the allowed one; an unknown
 * version's cause reaching the execution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../contracts/platform-config';
import type { BatchSummary } from '../../lambdas/batch-score/batch-job';
import { localBackend } from '../../local/local-backend';
import { LOCAL_BUCKETS, LocalPlatform } from '../../local/runtime';
import { generateChurn, toCsv } from '../../local/sample-data';
import { synthesizePlatform } from '../iam/synth';
import { cdkJsonContext } from '../support/cdk';

const datasets = `s3://${LOCAL_BUCKETS.datasets}`;
const artifacts = `s3://${LOCAL_BUCKETS.artifacts}`;

describe('batch inference on the offline runtime', () => {
  let platform: LocalPlatform;

  beforeAll(async () => {
    const { assemblyDirectory } = synthesizePlatform();
    platform = await LocalPlatform.start({
      config: parseConfig(cdkJsonContext.mlops),
      deployed: { assemblyDirectory, stackName: 'mlops-dev' },
    });
    await platform.store.put(
      LOCAL_BUCKETS.datasets,
      'churn/2026-11-01/data.csv',
      toCsv(generateChurn({ rows: 5000, seed: 1 })),
      'text/csv',
    );
    const training = await platform.startTraining('churn', { datasetUri: `${datasets}/churn/2026-11-01/data.csv` }, 'train-for-batch').done;
    expect(training.status, `${training.error}: ${training.cause}`).toBe('SUCCEEDED');
    for (const [part, seed] of [
      [0, 21],
      [1, 22],
    ] as const) {
      const customers = generateChurn({ rows: 1500, seed, firstId: 100_000 * (part + 1) });
      await platform.store.put(LOCAL_BUCKETS.datasets, `churn/batch/2026-11-30/part-${part}.csv`, toCsv(customers), 'text/csv');
    }
  }, 180_000);
  afterAll(async () => platform?.stop());

  it('scores every input object with the production version, writes the manifest and a drift report, and is described as a batch run', async () => {
    const execution = platform.startBatch(
      'churn',
      {
        model: 'churn',
        inputUri: `${datasets}/churn/batch/2026-11-30/`,
        outputUri: `${artifacts}/batch/churn/2026-11-30/`,
        rowIdColumn: 'customer_id',
      },
      'weekly-2026-11-30',
    );
    const done = await execution.done;
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    const summary = done.output as BatchSummary;
    expect(summary).toMatchObject({ version: 1, objects: 2, rows: 3000, scoredRows: 3000, failedRows: 0 });
    expect(summary.manifestUri).toBe(`${artifacts}/batch/churn/2026-11-30/_manifest.json`);
    expect(JSON.parse(await platform.store.getText(LOCAL_BUCKETS.artifacts, 'batch/churn/2026-11-30/_manifest.json'))).toEqual(summary);
    const scored = (await platform.store.getText(LOCAL_BUCKETS.artifacts, 'batch/churn/2026-11-30/part-1.scored.csv')).trim().split('\n');
    expect(scored).toHaveLength(1501);
    expect(scored[1]).toMatch(/^C0200000,1,[01],[\d.e-]+,[\d.e-]+$/);
    // The model's check-drift function compared the scored rows with the training profile and wrote its report.
    const drift = summary.drift as { result: { status: string; sampleSize: number; reportUri: string } };
    expect(drift.result).toMatchObject({ status: expect.stringMatching(/^(no-drift|warning|drift)$/), sampleSize: 3000 });
    const report = drift.result.reportUri.replace(`${artifacts}/`, '');
    expect(JSON.parse(await platform.store.getText(LOCAL_BUCKETS.artifacts, report))).toMatchObject({
      captureUri: `s3://${LOCAL_BUCKETS.capture}/churn/batch/weekly-2026-11-30/`,
    });
    // Two objects: the Standard transitions of the happy path plus one per child execution.
    expect(summary.cost.transitions).toBe(11);
    expect(summary.cost.lambdaGbSeconds).toBeGreaterThan(0);
    const described = await localBackend(platform).describeExecution(execution.executionArn);
    expect(described).toMatchObject({
      stateMachineArn: expect.stringMatching(/:stateMachine:local-churn-batch$/),
      status: 'SUCCEEDED',
      states: expect.arrayContaining([expect.objectContaining({ name: 'ScoreObjects' }), expect.objectContaining({ name: 'Summarize' })]),
    });
    // A batch run is not a training run: the retraining cool-down reads the training pipeline's starts only.
    expect(platform.newestExecutionStart('churn')).toEqual(platform.execution('train-for-batch').startDate);
  }, 120_000);

  it("refuses an input outside the datasets bucket's churn/ at the list step, naming the allowed location, before reading it", async () => {
    const done = await platform.startBatch('churn', {
      model: 'churn',
      inputUri: `${artifacts}/models/churn/`,
      outputUri: `${artifacts}/batch/churn/stolen/`,
    }).done;
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ValidationError');
    expect(done.cause).toContain(`inputUri must be under ${datasets}/churn/`);
    expect(done.states.map((state) => state.name)).not.toContain('ScoreObjects');
    expect(await platform.keysUnder(LOCAL_BUCKETS.artifacts, 'batch/churn/stolen/')).toEqual([]);
  }, 60_000);

  it('fails a run asked (through the local API backend) to score with a version the registry does not have, the cause naming it', async () => {
    const backend = localBackend(platform);
    const started = await backend.startBatch('churn', {
      model: 'churn',
      inputUri: `${datasets}/churn/batch/2026-11-30/`,
      outputUri: `${artifacts}/batch/churn/v9/`,
      version: 9,
    });
    expect(started.executionArn).toMatch(/:execution:local-churn-batch:/);
    const execution = platform.execution(started.executionArn);
    const done = await execution.done;
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('NotFoundError');
    expect(done.cause).toContain('model "churn" has no version 9');
    const described = await backend.describeExecution(started.executionArn);
    expect(described.cause).toContain('model "churn" has no version 9');
  }, 60_000);
});

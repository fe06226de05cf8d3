/**
 * A run that failed in evaluation, redriven on the offline runtime: the real pipeline (real
 * validation, the real training program, the real evaluation) stops in AwaitRedrive with the
 * evaluation's error, and the local API backend's redrive resumes it at EvaluateModel without
 * validating or training again, as Step Functions' RedriveExecution does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../contracts/platform-config';
import { localBackend } from '../../local/local-backend';
import { LOCAL_BUCKETS, type LocalExecution, LocalPlatform } from '../../local/runtime';
import { generateChurn, toCsv } from '../../local/sample-data';
import { cdkJsonContext } from '../support/cdk';

describe('redriving a run that failed in evaluation, offline', () => {
  let platform: LocalPlatform;
  let execution: LocalExecution;
  let evaluations = 0;

  beforeAll(async () => {
    platform = await LocalPlatform.start({
      config: parseConfig(cdkJsonContext.mlops),
      // The first evaluation fails as a missing onnxruntime layer would (not a transient error: no retry).
      wrapTask: (state, handler) =>
        state === 'EvaluateModel'
          ? async (input, signal) => {
              evaluations++;
              if (evaluations === 1) {
                const error = new Error('onnxruntime-node could not be loaded: the layer is missing');
                error.name = 'ModelContractError';
                throw error;
              }
              return handler(input, signal);
            }
          : handler,
    });
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/redrive.csv', toCsv(generateChurn({ rows: 10_000, seed: 1 })), 'text/csv');
    execution = platform.startTraining('churn', { datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/redrive.csv` }, 'redrive-run');
    await execution.done;
  }, 120_000);
  afterAll(async () => platform?.stop());

  it('stops in AwaitRedrive with the evaluation error, after recording and notifying the failure', async () => {
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ModelContractError');
    expect(execution.lastState?.name).toBe('AwaitRedrive');
    expect(platform.notifications.at(-1)?.message).toContain('failed in EvaluateModel: ModelContractError');
  });

  it('resumes at EvaluateModel when redriven, without validating or training again, and promotes the version', async () => {
    const answer = await localBackend(platform).redriveExecution(execution.executionArn);
    expect(answer).toMatchObject({ redriveCount: 1, restarts: 'AwaitRedrive', failedState: 'EvaluateModel', resumesAt: 'EvaluateModel' });
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.redriveCount).toBe(1);
    const entered = execution.states.map((state) => state.name);
    expect(entered.filter((name) => name === 'ValidateDataset')).toHaveLength(1);
    expect(entered.filter((name) => name === 'TrainOnSpot')).toHaveLength(1);
    expect(entered.filter((name) => name === 'EvaluateModel')).toHaveLength(2);
    expect(evaluations).toBe(2);
    expect((await platform.registry.getModel({ modelName: 'churn' })).productionVersion).toBe(1);
    const events = (await platform.registry.listEvents({ modelName: 'churn', limit: 100 })).items;
    expect(events.find((event) => event.action === 'pipeline-redrive')).toMatchObject({
      details: { failedState: 'EvaluateModel', redriveCount: '1', executionArn: execution.executionArn },
    });
  }, 120_000);

  it('publishes every registry change of the lifecycle to the bus once, in the order the registry wrote them', async () => {
    await platform.registryEvents.pump();
    await platform.registryEvents.pump();
    const published = platform.registryEvents.of('churn');
    const trail = (await platform.registry.listEvents({ modelName: 'churn', limit: 100 })).items;
    expect(published.map((entry) => entry.detail.eventId).sort()).toEqual(trail.map((event) => event.eventId).sort());
    expect(new Set(published.map((entry) => entry.detail.eventId)).size).toBe(published.length);
    const types = published.map((entry) => entry.detailType);
    expect(types[0]).toBe('Training Run Failed');
    expect(types[1]).toBe('Training Run Redriven');
    expect(types).toContain('Model Version Registered');
    expect(types.at(-1)).toBe('Model Version Promoted');
    expect(types.indexOf('Model Version Registered')).toBeLessThan(types.indexOf('Model Version Promoted'));
    expect(published.every((entry) => entry.source === 'cdk-mlops')).toBe(true);
    expect(published.at(-1)?.detail).toMatchObject({ modelName: 'churn', version: 1, toStage: 'Production' });
  });

  it('writes the version card from the evidence: lineage, split, profile, holdout, metrics, fairness and rollout', async () => {
    const { card, markdown, markdownUri } = await platform.modelCard('churn', 1);
    const version = await platform.registry.getVersion({ modelName: 'churn', version: 1 });
    expect(card.lineage).toMatchObject({ datasetUri: version.lineage.datasetUri, datasetEtag: version.lineage.datasetEtag });
    const split = version.lineage.split!;
    expect(card.lineage.split).toEqual({
      train: split.train.rows,
      validation: split.validation.rows,
      holdout: split.holdout?.rows ?? null,
      seed: split.seed,
    });
    expect(card.profile?.rows).toBe(10_000);
    expect(card.evaluation.holdoutRows).toBeGreaterThan(0);
    expect(card.evaluation.holdoutRows).toBeLessThanOrEqual(split.holdout?.rows ?? 10_000);
    expect(card.evaluation.passed).toBe(true);
    expect(Object.fromEntries(card.evaluation.metrics.map((metric) => [metric.name, metric.value]))).toEqual(version.metrics);
    expect(card.hyperparameters).toEqual(version.lineage.hyperparameters);
    expect(card.rollout.at(-1)).toMatchObject({ change: expect.stringMatching(/→ Production$/) });
    expect(card.champion).toBeNull();
    expect(markdown).toContain('# Model card: churn v1');
    expect(markdownUri).toBe(`s3://${LOCAL_BUCKETS.artifacts}/reports/churn/cards/v000001.md`);
    expect(await platform.store.getText(LOCAL_BUCKETS.artifacts, 'reports/churn/cards/v000001.md')).toBe(markdown);
  });

  it("refuses to redrive the run once it succeeded, with Step Functions' reason", async () => {
    await expect(localBackend(platform).redriveExecution(execution.executionArn)).rejects.toThrow(
      'the run SUCCEEDED and cannot be redriven',
    );
  });
});

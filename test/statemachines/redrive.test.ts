/**
 * Redriving a failed training run, as Step Functions' RedriveExecution does it: the execution
 * restarts its last unsuccessful top-level state with that state's recorded input and a higher
 * `$$.Execution.RedriveCount`, and the successful states before it are not run again. A fault
 * stops the run in AwaitRedrive, so a redrive resumes where it failed; a business outcome stops it
 * in the Fail state PipelineFailed, which a redrive re-enters and fails again (AWS's rule for Fail
 * states), so the platform refuses to redrive those.
 */
import { describe, expect, it } from 'vitest';
import { failure, type Handler, type PipelineRun, TrainingPipelineHarness } from '../support/training-pipeline-harness';

const input = { model: 'churn', datasetUri: 's3://datasets/churn/2026-11-01.csv', hyperparameters: { epochs: '20' } };

const passingEvaluation: Handler = async () => ({
  passed: true,
  metrics: { accuracy: 0.91, f1: 0.86 },
  reasons: [],
  artifactSha256: 'd'.repeat(64),
  spotSavings: 0.7,
});

/** Redrives a stopped run: its last state again, with that state's input, one redrive later. */
function redrive(harness: TrainingPipelineHarness, run: PipelineRun, name: string, overrides: Record<string, Handler>, count = 1) {
  if (!run.lastState) throw new Error('the run entered no state');
  return harness.run(run.lastState.input, name, overrides, { startAt: run.lastState.name, redriveCount: count });
}

describe('redriving a training run', () => {
  it('resumes a run that failed in evaluation at EvaluateModel, without validating or training again', async () => {
    const harness = new TrainingPipelineHarness();
    const failed = await harness.run(input, 'run-redrive', {
      EvaluateModel: async () => {
        throw failure('ModelContractError', 'onnxruntime could not load model.onnx: the layer is missing');
      },
    });
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('ModelContractError');
    expect(failed.cause).toContain('the layer is missing');
    expect(failed.lastState?.name).toBe('AwaitRedrive');
    expect(failed.notifications).toHaveLength(1);

    const resumed = await redrive(harness, failed, 'run-redrive', { EvaluateModel: passingEvaluation });
    expect(resumed.status).toBe('SUCCEEDED');
    expect(resumed.statesEntered.slice(0, 3)).toEqual(['AwaitRedrive', 'ResumeFailedState', 'EvaluateModel']);
    expect(resumed.statesEntered).not.toContain('ValidateDataset');
    expect(resumed.statesEntered).not.toContain('TrainOnSpot');
    expect(resumed.calls.EvaluateModel?.[0]).toMatchObject({ runId: 'run-redrive' });
    expect((await harness.registry.getModel({ modelName: 'churn' })).productionVersion).toBe(1);
    const actions = (await harness.registry.listEvents({ modelName: 'churn', limit: 100 })).items.map((event) => event.action);
    expect(actions).toContain('pipeline-failure');
    expect(actions).toContain('pipeline-redrive');
  });

  it('records the redrive once in the audit trail, naming the state it resumes at and the redrive count', async () => {
    const harness = new TrainingPipelineHarness();
    const failed = await harness.run(input, 'run-audit', {
      EvaluateModel: async () => {
        throw failure('NotFoundError', 'no holdout rows under s3://artifacts-bucket/splits/churn/run-audit/holdout/');
      },
    });
    await redrive(harness, failed, 'run-audit', { EvaluateModel: passingEvaluation });
    const redrives = (await harness.registry.listEvents({ modelName: 'churn', limit: 100 })).items.filter(
      (event) => event.action === 'pipeline-redrive',
    );
    expect(redrives).toHaveLength(1);
    expect(redrives[0]).toMatchObject({
      actor: expect.stringContaining('run-audit'),
      details: { failedState: 'EvaluateModel', error: 'NotFoundError', redriveCount: '1' },
    });
  });

  it('stops again in AwaitRedrive when the resumed state fails again, and a second redrive resumes it once more', async () => {
    const harness = new TrainingPipelineHarness();
    const broken: Handler = async () => {
      throw failure('ModelContractError', 'still broken');
    };
    const first = await harness.run(input, 'run-twice', { EvaluateModel: broken });
    const second = await redrive(harness, first, 'run-twice', { EvaluateModel: broken }, 1);
    expect(second.status).toBe('FAILED');
    expect(second.error).toBe('ModelContractError');
    expect(second.lastState?.name).toBe('AwaitRedrive');
    // Each attempt's failure is recorded and notified under its own idempotency key.
    const failures = (await harness.registry.listEvents({ modelName: 'churn', limit: 100 })).items.filter(
      (event) => event.action === 'pipeline-failure',
    );
    expect(failures).toHaveLength(2);
    const third = await redrive(harness, second, 'run-twice', { EvaluateModel: passingEvaluation }, 2);
    expect(third.status).toBe('SUCCEEDED');
  });

  it('re-enters PipelineFailed and fails again when the run ended in a business outcome (the gate rejected the model)', async () => {
    const harness = new TrainingPipelineHarness();
    const rejected = await harness.run(input, 'run-gate', {
      EvaluateModel: async () => ({
        passed: false,
        metrics: { accuracy: 0.6, f1: 0.5 },
        reasons: ['f1 0.5 is below the minimum 0.8'],
        artifactSha256: 'd'.repeat(64),
        spotSavings: 0.7,
      }),
    });
    expect(rejected.error).toBe('ModelRejected');
    expect(rejected.lastState?.name).toBe('PipelineFailed');
    const again = await redrive(harness, rejected, 'run-gate', { EvaluateModel: passingEvaluation });
    expect(again.status).toBe('FAILED');
    expect(again.statesEntered).toEqual(['PipelineFailed']);
    expect(again.error).toBe('ModelRejected');
  });

  it('decides a failed registration again at the gate, so a rejected model is recorded as Rejected, never Registered', async () => {
    const harness = new TrainingPipelineHarness();
    let registrations = 0;
    const failed = await harness.run(input, 'run-register', {
      EvaluateModel: async () => ({
        passed: false,
        metrics: { accuracy: 0.6 },
        reasons: ['accuracy 0.6 is below the minimum 0.8'],
        artifactSha256: 'd'.repeat(64),
        spotSavings: 0.7,
      }),
      RegisterRejected: async () => {
        registrations++;
        throw failure('AccessDeniedException', 'not authorized to perform dynamodb:TransactWriteItems');
      },
    });
    expect(failed.lastState?.name).toBe('AwaitRedrive');
    expect(registrations).toBe(1);
    const resumed = await redrive(harness, failed, 'run-register', {});
    expect(resumed.statesEntered.slice(0, 4)).toEqual(['AwaitRedrive', 'ResumeFailedState', 'GateOnMetrics', 'RegisterRejected']);
    expect(resumed.error).toBe('ModelRejected');
    expect((await harness.registry.getVersion({ modelName: 'churn', version: 1 })).stage).toBe('Rejected');
  });

  it('draws a new training job name when it resumes a failed training state (SageMaker never reuses one)', async () => {
    const harness = new TrainingPipelineHarness({ UseSpot: 'false' });
    const failed = await harness.run(input, 'run-train', {
      TrainOnDemand: async () => {
        throw failure('States.TaskFailed', '{"FailureReason":"ResourceLimitExceeded: the account-level service limit for ml.g5.xlarge"}');
      },
    });
    expect(failed.lastState?.name).toBe('AwaitRedrive');
    const firstName = failed.calls.TrainOnDemand?.[0]?.TrainingJobName;
    const resumed = await redrive(harness, failed, 'run-train', {});
    expect(resumed.status).toBe('SUCCEEDED');
    expect(resumed.statesEntered).toContain('RenameTrainingJob');
    const secondName = resumed.calls.TrainOnDemand?.[0]?.TrainingJobName;
    expect(secondName).toMatch(/^mlops-dev-churn-/);
    expect(secondName).not.toBe(firstName);
  });
});

/**
 * Timeouts offline: a Task state waits as long as it would on Step Functions (no emulator default
 * of 60 s), a state that outlives its TimeoutSeconds fails naming itself, and its task is stopped.
 * The pipeline runs on fake timers, so hours of state time pass in milliseconds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { liftTaskTimeouts, offlineTrainingDefinition, UNBOUNDED_TASK_SECONDS, withStateTimeouts } from '../../local/definitions';
import { type PipelineRun, TEST_SUBSTITUTIONS, TrainingPipelineHarness, validSummary } from '../support/training-pipeline-harness';

const input = { model: 'churn', datasetUri: 's3://datasets/churn/2026-11-01.csv' };
const TRAINING_TIMEOUT = Number(TEST_SUBSTITUTIONS.TrainingTimeoutSeconds);

type State = { Type?: string; TimeoutSeconds?: number; Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[] }[] };
function statesOf(states: Record<string, unknown>): [string, State][] {
  return Object.entries(states).flatMap(([name, state]) => {
    const nested = (state as { ItemProcessor?: { States: Record<string, unknown> } }).ItemProcessor;
    return [[name, state as State] as [string, State], ...(nested ? statesOf(nested.States) : [])];
  });
}

/** Runs the harness while fake time advances by `seconds`, in steps. */
async function runFor(seconds: number, run: () => Promise<PipelineRun>): Promise<PipelineRun> {
  let finished: PipelineRun | undefined;
  const pending = run().then((result) => {
    finished = result;
    return result;
  });
  for (let elapsed = 0; elapsed < seconds && !finished; elapsed += 60) await vi.advanceTimersByTimeAsync(60_000);
  return pending;
}

describe('the offline definition', () => {
  it('gives every Task state a timeout, so the emulator never applies its own 60-second default', () => {
    const definition = offlineTrainingDefinition(TEST_SUBSTITUTIONS);
    const tasks = statesOf(definition.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name)).toEqual(
      expect.arrayContaining(['ValidateDataset', 'ProfileShard', 'EvaluateModel', 'TrainOnSpot']),
    );
    for (const [name, state] of tasks) expect(state.TimeoutSeconds, name).toBeGreaterThanOrEqual(60);
    expect(Object.fromEntries(tasks.map(([name, state]) => [name, state.TimeoutSeconds]))).toMatchObject({
      ValidateDataset: UNBOUNDED_TASK_SECONDS,
      ProfileShard: UNBOUNDED_TASK_SECONDS,
      EvaluateModel: UNBOUNDED_TASK_SECONDS,
      TrainOnSpot: TRAINING_TIMEOUT,
      TrainOnDemand: TRAINING_TIMEOUT,
      // The tuning job's limit: its own runtime with the margin (from TuningTimeoutSeconds).
      TuneHyperparameters: Number(TEST_SUBSTITUTIONS.TuningTimeoutSeconds),
      WaitForApproval: 604_800,
    });
  });

  it('leaves the declared timeouts to the runtime, which names the state', () => {
    const { definition, timeouts } = liftTaskTimeouts(offlineTrainingDefinition(TEST_SUBSTITUTIONS));
    expect(Object.fromEntries(timeouts)).toEqual({
      TrainOnSpot: TRAINING_TIMEOUT,
      TrainOnDemand: TRAINING_TIMEOUT,
      // The tuning job's limit: its own runtime with the margin (from TuningTimeoutSeconds).
      TuneHyperparameters: Number(TEST_SUBSTITUTIONS.TuningTimeoutSeconds),
      WaitForApproval: 604_800,
    });
    for (const [name, state] of statesOf(definition.States)) {
      if (state.Type === 'Task') expect(state.TimeoutSeconds, name).toBe(UNBOUNDED_TASK_SECONDS);
    }
  });

  it('has no retrier or catcher naming States.TaskFailed, which must not match the offline States.Timeout', () => {
    // Step Functions' States.TaskFailed matches every task error but States.Timeout; the offline timeout is an
    // error named States.Timeout, which the emulator would match to States.TaskFailed.
    for (const [name, state] of statesOf(offlineTrainingDefinition(TEST_SUBSTITUTIONS).States)) {
      for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])])
        expect(rule.ErrorEquals, name).not.toContain('States.TaskFailed');
    }
  });
});

describe('state timeouts, offline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a Lambda task take longer than a minute (a large dataset), as Step Functions does', async () => {
    const run = await runFor(600, () =>
      new TrainingPipelineHarness().run(input, 'run-slow-validation', {
        ValidateDataset: async (payload) => {
          await new Promise((resolve) => setTimeout(resolve, 5 * 60_000));
          return validSummary(payload.runId);
        },
      }),
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.ValidateDataset).toHaveLength(1);
  });

  it('fails a training state that outlives its TimeoutSeconds naming the state, and stops the job', async () => {
    let stopped: unknown;
    const run = await runFor(TRAINING_TIMEOUT + 600, () =>
      new TrainingPipelineHarness().run(input, 'run-hung-training', {
        TrainOnSpot: (_request, signal) =>
          new Promise((_, reject) =>
            signal!.addEventListener('abort', () => {
              stopped = signal!.reason;
              reject(signal!.reason);
            }),
          ),
      }),
    );
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.Timeout');
    expect(run.cause).toBe(
      `TrainOnSpot timed out: its task ran longer than the state's TimeoutSeconds (${TRAINING_TIMEOUT.toLocaleString('en')} s)`,
    );
    expect(stopped).toMatchObject({ name: 'States.Timeout' });
    expect(run.calls.RecordFailure![0]).toMatchObject({ failedState: 'TrainOnSpot', error: 'States.Timeout' });
    expect(run.notifications[0]).toContain('failed in TrainOnSpot: States.Timeout — TrainOnSpot timed out');
  });

  it('aborts every running task when the runtime stops', async () => {
    const stopping = new AbortController();
    let aborted = false;
    const handlers = withStateTimeouts(
      {
        TrainOnSpot: (_input: never, signal?: AbortSignal) =>
          new Promise((_, reject) =>
            signal!.addEventListener('abort', () => {
              aborted = true;
              reject(signal!.reason);
            }),
          ),
      },
      new Map([['TrainOnSpot', 60]]),
      stopping.signal,
    );
    const task = handlers.TrainOnSpot({} as never);
    stopping.abort(new Error('the local platform stopped'));
    await expect(task).rejects.toThrow('the local platform stopped');
    expect(aborted).toBe(true);
  });
});

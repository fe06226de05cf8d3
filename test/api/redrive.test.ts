/**
 * Redriving a pipeline run through the API and the CLI: the platform's rules over Step Functions'
 * own verdict (lambdas/api/redrive.ts), each refusal a 409 NotRedrivable with the reason, and
 * `mlops redrive` printing where the run restarts and resumes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliIo, EXIT, run } from '../../cli/mlops';
import { type RedriveFacts, redrivePlan } from '../../lambdas/api/redrive';
import { startApiServer } from '../../local/api-server';
import { STUB_ACCOUNT_PREFIX, StubPlatformBackend } from '../support/stub-platform-backend';

const ARN = `${STUB_ACCOUNT_PREFIX}:execution:mlops-dev-churn:run-7`;
const failedInEvaluation: RedriveFacts = {
  status: 'FAILED',
  redriveStatus: 'REDRIVABLE',
  redriveCount: 0,
  error: 'ModelContractError',
  stoppedIn: 'AwaitRedrive',
  failedState: 'EvaluateModel',
  executionRevision: null,
  currentRevision: null,
};

let backend: StubPlatformBackend;
let server: Awaited<ReturnType<typeof startApiServer>>;
beforeAll(async () => {
  server = await startApiServer(
    {
      trainableModels: ['churn'],
      servedModels: ['churn'],
      registry: (action, request) => backend.registry(action, request),
      describeExecution: (arn) => backend.describeExecution(arn),
      redriveExecution: (arn) => backend.redriveExecution(arn),
      sendTaskSuccess: (token, output) => backend.sendTaskSuccess(token, output),
      sendTaskFailure: (token, error, cause) => backend.sendTaskFailure(token, error, cause),
      startTraining: (model, input) => backend.startTraining(model, input),
      startBatch: (model, input) => backend.startBatch(model, input),
      predict: (model, body) => backend.predict(model, body),
    },
    { actor: 'tester' },
  );
});
afterAll(() => server.close());
beforeEach(() => {
  backend = new StubPlatformBackend();
});

async function mlops(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    readFile: () => '',
    sleep: async () => undefined,
  };
  const code = await run(['--api', server.url, ...args], io);
  return { code, stdout, stderr };
}

describe('the redrive rules', () => {
  it('resumes a run that failed after its retries at the state that failed', () => {
    expect(redrivePlan(failedInEvaluation)).toEqual({ restarts: 'AwaitRedrive', failedState: 'EvaluateModel', resumesAt: 'EvaluateModel' });
  });

  it('names the decision a redriven training or registration failure goes back to', () => {
    expect(redrivePlan({ ...failedInEvaluation, failedState: 'TrainOnSpot' }).resumesAt).toBe('RenameTrainingJob');
    expect(redrivePlan({ ...failedInEvaluation, failedState: 'RegisterVersion' }).resumesAt).toBe('GateOnMetrics');
  });

  it('restarts the state an aborted or timed-out run stopped in', () => {
    expect(redrivePlan({ ...failedInEvaluation, status: 'ABORTED', stoppedIn: 'WaitForApproval', error: undefined })).toEqual({
      restarts: 'WaitForApproval',
      resumesAt: 'WaitForApproval',
    });
  });

  it.each([
    [{ status: 'RUNNING' }, 'the run is RUNNING and cannot be redriven'],
    [{ status: 'SUCCEEDED' }, 'the run SUCCEEDED'],
    [
      { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution redrivable period exceeded.' },
      'Step Functions cannot redrive this run: Execution redrivable period exceeded.',
    ],
    [{ currentRevision: 'b2c3' }, 'the pipeline was deployed again since this run started'],
    [{ stoppedIn: 'PipelineFailed', error: 'ModelRejected' }, 're-enters the Fail state PipelineFailed and fails again'],
    [{ status: 'TIMED_OUT', stoppedIn: 'TrainOnSpot' }, 'SageMaker refuses (job names are unique)'],
    [
      { stoppedIn: 'BatchFailed', error: 'TooManyFailedRows' },
      'the batch run failed (TooManyFailedRows): a redrive re-enters the Fail state BatchFailed',
    ],
    [{ stoppedIn: 'InvalidInput', error: 'InvalidInput' }, 're-enters the Fail state InvalidInput'],
  ] as Array<[Partial<RedriveFacts>, string]>)('refuses %j with the reason', (change, reason) => {
    expect(() => redrivePlan({ ...failedInEvaluation, ...change })).toThrow(reason);
  });
});

describe('POST /pipelines/executions/{id}/redrive and mlops redrive', () => {
  it('redrives the run and says where it restarts and resumes', async () => {
    backend.stoppedRuns.set(ARN, failedInEvaluation);
    const result = await mlops(['redrive', ARN]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toContain(`redriven:   ${ARN}`);
    expect(result.stdout).toContain('failed in:  EvaluateModel');
    expect(result.stdout).toContain('resumes at: EvaluateModel');
  });

  it('answers 409 NotRedrivable with the reason, and the CLI prints it and exits 1', async () => {
    backend.stoppedRuns.set(ARN, { ...failedInEvaluation, stoppedIn: 'PipelineFailed', error: 'DatasetInvalid' });
    const response = await fetch(`${server.url}pipelines/executions/${encodeURIComponent(ARN)}/redrive`, { method: 'POST' });
    expect(response.status).toBe(409);
    const body = (await response.json()) as { error: { code: string; message: string; details: Record<string, unknown> } };
    expect(body.error.code).toBe('NotRedrivable');
    expect(body.error.message).toContain('(DatasetInvalid)');
    expect(body.error.details).toMatchObject({ status: 'FAILED', stoppedIn: 'PipelineFailed' });
    const result = await mlops(['redrive', ARN]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toContain('re-enters the Fail state PipelineFailed');
  });

  it('refuses an id that is not an execution ARN (400) and an unknown run (404)', async () => {
    const invalid = await fetch(`${server.url}pipelines/executions/not-an-arn/redrive`, { method: 'POST' });
    expect(invalid.status).toBe(400);
    const unknown = await fetch(`${server.url}pipelines/executions/${encodeURIComponent(ARN)}/redrive`, { method: 'POST' });
    expect(unknown.status).toBe(404);
  });
});

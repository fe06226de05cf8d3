/**
 * The API function: routes found from the proxy event's resource (a model's own path or
 * `{name}`), execution summaries from Step Functions' history, errors mapped to the API body,
 * and the AWS backend limited to the platform's state machines. Step Functions is mocked with
 * aws-sdk-client-mock (no local emulator answers DescribeExecution or task tokens).
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { errorResult } from '../../lambdas/api/api';
import { readableCause, summarizeExecution } from '../../lambdas/api/executions';
import { apiRequestFromEvent } from '../../lambdas/api/handler';
import { awsBackend } from '../../lambdas/api/sfn-api-backend';
import { RegistryFunctionError } from '../../lambdas/shared/registry/lambda-registry-client';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-dev-churn';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:mlops-dev-churn:7d1e';

function event(method: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    resource,
    path: resource,
    pathParameters: null,
    queryStringParameters: null,
    body: null,
    isBase64Encoded: false,
    headers: {},
    multiValueHeaders: {},
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'r-1', identity: { userArn: 'arn:aws:iam::123456789012:user/ana' } } as never,
    ...extra,
  };
}

describe('apiRequestFromEvent', () => {
  it("reads the model name from a model's own resource and the version from the path parameters", () => {
    const request = apiRequestFromEvent(
      event('POST', '/models/churn/versions/{version}/promote', { pathParameters: { version: '4' }, body: '{"reason":"better"}' }),
    );
    expect(request).toEqual({
      operation: 'promoteVersion',
      params: { name: 'churn', version: '4' },
      query: {},
      body: { reason: 'better' },
      actor: 'arn:aws:iam::123456789012:user/ana',
    });
  });

  it('reads both from the path parameters under {name}, with the Cognito user as actor when there is one', () => {
    const request = apiRequestFromEvent(
      event('GET', '/models/{name}/versions', {
        pathParameters: { name: 'fraud' },
        queryStringParameters: { stage: 'Production' },
        requestContext: { requestId: 'r', identity: {}, authorizer: { claims: { email: 'ana@example.com' } } } as never,
      }),
    );
    expect(request).toMatchObject({
      operation: 'listVersions',
      params: { name: 'fraud' },
      query: { stage: 'Production' },
      actor: 'cognito:ana@example.com',
    });
  });

  it('refuses a body that is not JSON with a ValidationError', () => {
    expect(() => apiRequestFromEvent(event('POST', '/models/{name}/rollback', { pathParameters: { name: 'churn' }, body: '{' }))).toThrow(
      /^the request body is not JSON/,
    );
  });
});

describe('errorResult', () => {
  it("maps the registry function's error names to statuses, and hides unexpected errors", () => {
    expect(errorResult(new RegistryFunctionError('InvalidTransitionError', 'version 2 is Production'))).toEqual({
      statusCode: 409,
      body: { error: { code: 'InvalidTransition', message: 'version 2 is Production', details: {} } },
    });
    expect(errorResult(new RegistryFunctionError('NotFoundError', 'no model')).statusCode).toBe(404);
    expect(errorResult(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })).statusCode).toBe(429);
    // A service's refusal of malformed input is the caller's 400, not a 500 that trips the 5xx alarm.
    expect(errorResult(new RegistryFunctionError('ValidationException', 'One or more parameter values were invalid'))).toMatchObject({
      statusCode: 400,
      body: { error: { code: 'ValidationFailed' } },
    });
    for (const name of ['InvalidArn', 'InvalidToken', 'InvalidOutput']) {
      expect(errorResult(Object.assign(new Error('Invalid Arn'), { name })).statusCode).toBe(400);
    }
    expect(errorResult(new Error('secret internals'), 'r-9')).toEqual({
      statusCode: 500,
      body: { error: { code: 'InternalError', message: 'the request failed', details: { requestId: 'r-9' } } },
    });
  });
});

describe('summarizeExecution', () => {
  const t = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
  const entered = (name: string, second: number) => ({
    type: 'TaskStateEntered',
    timestamp: t(second),
    stateEnteredEventDetails: { name },
  });
  const exited = (name: string, second: number) => ({ type: 'TaskStateExited', timestamp: t(second), stateExitedEventDetails: { name } });
  const description = { executionArn: EXECUTION, stateMachineArn: MACHINE, name: '7d1e', startDate: t(0) };

  it('names the state a running execution is in and every state entered so far', () => {
    const status = summarizeExecution({ ...description, status: 'RUNNING' }, [
      { type: 'ExecutionStarted', timestamp: t(0) },
      entered('ValidateDataset', 1),
      exited('ValidateDataset', 5),
      entered('TrainOnSpot', 6),
    ]);
    expect(status).toEqual({
      executionArn: EXECUTION,
      stateMachineArn: MACHINE,
      name: '7d1e',
      status: 'RUNNING',
      startDate: '2026-01-01T00:00:00.000Z',
      currentState: 'TrainOnSpot',
      states: [
        { name: 'ValidateDataset', enteredAt: '2026-01-01T00:00:01.000Z', exitedAt: '2026-01-01T00:00:05.000Z' },
        { name: 'TrainOnSpot', enteredAt: '2026-01-01T00:00:06.000Z' },
      ],
    });
  });

  it('reports where a failed execution stopped and why', () => {
    const status = summarizeExecution({ ...description, status: 'FAILED', stopDate: t(9) }, [
      entered('ValidateDataset', 1),
      exited('ValidateDataset', 2),
      entered('PipelineFailed', 3),
      { type: 'ExecutionFailed', timestamp: t(9), executionFailedEventDetails: { error: 'DatasetInvalid', cause: 'too many bad rows' } },
    ]);
    expect(status).toMatchObject({ status: 'FAILED', currentState: 'PipelineFailed', error: 'DatasetInvalid', cause: 'too many bad rows' });
  });

  it("gives a Lambda function's error as its message, without the runtime's JSON and stack trace", () => {
    const lambdaCause = JSON.stringify({
      errorType: 'DatasetFormatError',
      errorMessage: 'churn/x.csv has a header and no rows',
      trace: ['DatasetFormatError: churn/x.csv has a header and no rows', '    at readCsv (/var/task/index.mjs:1:2)'],
    });
    const status = summarizeExecution(
      { ...description, status: 'FAILED', stopDate: t(9), error: 'DatasetFormatError', cause: lambdaCause },
      [],
    );
    expect(status).toMatchObject({ error: 'DatasetFormatError', cause: 'churn/x.csv has a header and no rows' });
    expect(readableCause('{not json')).toBe('{not json');
    expect(readableCause('{"Error":"x"}')).toBe('{"Error":"x"}');
  });
});

describe('the AWS backend', () => {
  const sfn = mockClient(SFNClient);
  const backend = () =>
    awsBackend({
      registry: { call: async () => ({}) } as never,
      stepFunctions: new SFNClient({ region: 'eu-west-1' }),
      stateMachineArns: [MACHINE],
    });

  it('reads the description and the newest history page, reversed into order', async () => {
    sfn.reset();
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION }).resolves({
      executionArn: EXECUTION,
      stateMachineArn: MACHINE,
      name: '7d1e',
      status: 'RUNNING',
      startDate: new Date(0),
    });
    sfn.on(GetExecutionHistoryCommand, { executionArn: EXECUTION, reverseOrder: true, maxResults: 200 }).resolves({
      events: [
        { id: 3, type: 'TaskStateEntered', timestamp: new Date(3000), stateEnteredEventDetails: { name: 'TrainOnSpot' } },
        { id: 2, type: 'TaskStateExited', timestamp: new Date(2000), stateExitedEventDetails: { name: 'ValidateDataset' } },
        { id: 1, type: 'TaskStateEntered', timestamp: new Date(1000), stateEnteredEventDetails: { name: 'ValidateDataset' } },
      ],
    });
    const status = await backend().describeExecution(EXECUTION);
    expect(status.currentState).toBe('TrainOnSpot');
    expect(status.states.map((state) => state.name)).toEqual(['ValidateDataset', 'TrainOnSpot']);
  });

  it('refuses executions of other state machines without calling Step Functions, and maps a missing one to 404', async () => {
    sfn.reset();
    await expect(backend().describeExecution(EXECUTION.replace('mlops-dev-churn', 'someone-else'))).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    expect(sfn.calls()).toHaveLength(0);
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    await expect(backend().describeExecution(EXECUTION)).rejects.toMatchObject({ name: 'NotFoundError', httpStatus: 404 });
  });

  it('reads the newest 100 history events, with their data, to see where a run to redrive stopped', async () => {
    sfn.reset();
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: EXECUTION, stateMachineArn: MACHINE, status: 'SUCCEEDED', startDate: new Date(0) });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    sfn.on(DescribeStateMachineForExecutionCommand).resolves({ revisionId: 'r1' });
    sfn.on(DescribeStateMachineCommand).resolves({ revisionId: 'r1' });
    await expect(backend().redriveExecution(EXECUTION)).rejects.toMatchObject({ httpStatus: 409 });
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input)).toEqual([
      { executionArn: EXECUTION, reverseOrder: true, maxResults: 100, includeExecutionData: true },
    ]);
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('turns an expired task token into a 409 Conflict', async () => {
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    await expect(backend().sendTaskSuccess('tok', { approved: true })).rejects.toMatchObject({
      name: 'ConflictError',
      message: 'the pipeline run no longer waits for this decision (TaskTimedOut)',
    });
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    await backend().sendTaskSuccess('tok', { approved: true });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({ taskToken: 'tok', output: '{"approved":true}' });
  });
});

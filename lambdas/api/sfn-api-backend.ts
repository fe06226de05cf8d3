/**
 * The API function's backend on AWS: the registry through the registry function, pipeline runs
 * and approvals through Step Functions (DescribeExecution, GetExecutionHistory, SendTaskSuccess,
 * SendTaskFailure), limited to the platform's own state machines.
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { NotFoundError, ValidationError } from '../shared/errors';
import type { RegistryFunctionClient } from '../shared/registry/lambda-registry-client';
import { type PlatformApiBackend, staleTaskToken } from './api';
import { MAX_HISTORY_EVENTS, stateMachineOfExecution, summarizeExecution } from './executions';
import { failedStateOf, redrivePlan } from './redrive';

/** History events read, newest first, to find the state a stopped run stopped in (a Task's entry is a few events back). */
const REDRIVE_HISTORY_EVENTS = 100;

/** Step Functions errors meaning the token can no longer be answered. */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** The AWS backend: the registry function and Step Functions, limited to the platform's state machines. */
export function awsBackend(options: {
  registry: RegistryFunctionClient;
  stepFunctions: SFNClient;
  stateMachineArns: readonly string[];
}): PlatformApiBackend {
  const { registry, stepFunctions, stateMachineArns } = options;
  return {
    registry: (action, request) => registry.call(action, request),
    async describeExecution(executionArn) {
      if (!stateMachineArns.includes(stateMachineOfExecution(executionArn))) {
        throw new NotFoundError('no execution of a platform training pipeline has that ARN', { id: executionArn });
      }
      try {
        const [description, history] = await Promise.all([
          stepFunctions.send(new DescribeExecutionCommand({ executionArn })),
          stepFunctions.send(
            new GetExecutionHistoryCommand({
              executionArn,
              reverseOrder: true,
              maxResults: MAX_HISTORY_EVENTS,
              includeExecutionData: false,
            }),
          ),
        ]);
        const events = (history.events ?? []).toReversed() as Array<HistoryEvent & { timestamp: Date; type: string }>;
        return summarizeExecution(
          {
            executionArn,
            stateMachineArn: description.stateMachineArn ?? stateMachineOfExecution(executionArn),
            name: description.name ?? executionArn.split(':').at(-1)!,
            status: description.status ?? 'UNKNOWN',
            startDate: description.startDate ?? new Date(0),
            stopDate: description.stopDate,
            error: description.error,
            cause: description.cause,
          },
          events,
        );
      } catch (error) {
        if ((error as Error).name === 'ExecutionDoesNotExist')
          throw new NotFoundError('no pipeline execution has that ARN', { id: executionArn });
        if ((error as Error).name === 'InvalidArn') throw new ValidationError((error as Error).message, { id: executionArn });
        throw error;
      }
    },
    async redriveExecution(executionArn) {
      const stateMachineArn = stateMachineOfExecution(executionArn);
      if (!stateMachineArns.includes(stateMachineArn)) {
        throw new NotFoundError('no execution of a platform training pipeline has that ARN', { id: executionArn });
      }
      try {
        const [description, history, forExecution, current] = await Promise.all([
          stepFunctions.send(new DescribeExecutionCommand({ executionArn })),
          stepFunctions.send(
            new GetExecutionHistoryCommand({
              executionArn,
              reverseOrder: true,
              maxResults: REDRIVE_HISTORY_EVENTS,
              includeExecutionData: true,
            }),
          ),
          stepFunctions.send(new DescribeStateMachineForExecutionCommand({ executionArn })),
          stepFunctions.send(new DescribeStateMachineCommand({ stateMachineArn })),
        ]);
        // Newest first: the first top-level state entered is the one the run stopped in.
        const stopped = (history.events ?? []).find(
          (event) => event.type?.endsWith('StateEntered') && event.stateEnteredEventDetails?.name,
        );
        const stoppedIn = stopped?.stateEnteredEventDetails?.name;
        const redriveCount = description.redriveCount ?? 0;
        const plan = redrivePlan({
          status: description.status ?? 'UNKNOWN',
          redriveStatus: description.redriveStatus,
          redriveStatusReason: description.redriveStatusReason,
          redriveCount,
          error: description.error,
          stoppedIn,
          failedState: failedStateOf(stopped?.stateEnteredEventDetails?.input),
          executionRevision: forExecution.revisionId ?? null,
          currentRevision: current.revisionId ?? null,
        });
        // The token makes a repeated request (a lost answer) the same redrive, not a second one.
        const redriven = await stepFunctions.send(
          new RedriveExecutionCommand({ executionArn, clientToken: `redrive-${redriveCount + 1}-${description.name ?? ''}`.slice(0, 64) }),
        );
        return {
          executionArn,
          redriveDate: Math.floor((redriven.redriveDate ?? new Date()).getTime() / 1000),
          redriveCount: redriveCount + 1,
          ...plan,
        };
      } catch (error) {
        if ((error as Error).name === 'ExecutionDoesNotExist')
          throw new NotFoundError('no pipeline execution has that ARN', { id: executionArn });
        throw error;
      }
    },
    async sendTaskSuccess(taskToken, output) {
      await answerToken(() => stepFunctions.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
    },
    async sendTaskFailure(taskToken, error, cause) {
      await answerToken(() => stepFunctions.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_768) })));
    },
  };
}

async function answerToken(send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (error) {
    if (STALE_TOKEN_ERRORS.has((error as Error).name)) throw staleTaskToken((error as Error).name);
    throw error;
  }
}

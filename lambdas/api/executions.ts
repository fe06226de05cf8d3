/**
 * A pipeline execution as the API reports it: status, the state it is in (or stopped in),
 * the states entered so far and the failure cause, built from Step Functions'
 * DescribeExecution and GetExecutionHistory (or the offline runtime's equivalent).
 */
import type { ExecutionStatus } from '../../contracts/api';
import { ValidationError } from '../shared/errors';

export interface ExecutionDescription {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly error?: string;
  readonly cause?: string;
}

/** The part of a Step Functions history event the summary reads. */
export interface HistoryEventLike {
  readonly timestamp: Date;
  readonly type: string;
  readonly stateEnteredEventDetails?: { readonly name?: string };
  readonly stateExitedEventDetails?: { readonly name?: string };
  readonly executionFailedEventDetails?: { readonly error?: string; readonly cause?: string };
}

/** How many history events the API reads per status request (one GetExecutionHistory page). */
export const MAX_HISTORY_EVENTS = 200;

/** Summarises an execution from its description and its history events in chronological order. */
export function summarizeExecution(description: ExecutionDescription, events: readonly HistoryEventLike[]): ExecutionStatus {
  const states: Array<{ name: string; enteredAt: string; exitedAt?: string }> = [];
  let failure: { error?: string; cause?: string } | undefined;
  for (const event of events) {
    const entered = event.stateEnteredEventDetails?.name;
    if (event.type.endsWith('StateEntered') && entered) {
      states.push({ name: entered, enteredAt: event.timestamp.toISOString() });
      continue;
    }
    const exited = event.stateExitedEventDetails?.name;
    if (event.type.endsWith('StateExited') && exited) {
      const open = states.findLast((state) => state.name === exited && state.exitedAt === undefined);
      if (open) open.exitedAt = event.timestamp.toISOString();
      continue;
    }
    if (event.executionFailedEventDetails) failure = event.executionFailedEventDetails;
  }
  const running = description.status === 'RUNNING';
  const current = running ? states.findLast((state) => state.exitedAt === undefined) : states.at(-1);
  const error = description.error ?? failure?.error;
  const rawCause = description.cause ?? failure?.cause;
  const cause = rawCause === undefined ? undefined : readableCause(rawCause);
  return {
    executionArn: description.executionArn,
    stateMachineArn: description.stateMachineArn,
    name: description.name,
    status: description.status,
    startDate: description.startDate.toISOString(),
    ...(description.stopDate ? { stopDate: description.stopDate.toISOString() } : {}),
    ...(current ? { currentState: current.name } : {}),
    states,
    ...(error ? { error } : {}),
    ...(cause ? { cause } : {}),
  };
}

/**
 * A failure's cause as a person reads it. A Lambda function's error reaches Step Functions as the
 * runtime's JSON (`{"errorType", "errorMessage", "trace"}`); its message is the reason, the stack
 * trace is for the function's logs. Any other cause is returned as it is.
 */
export function readableCause(cause: string): string {
  if (!cause.startsWith('{')) return cause;
  try {
    const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON after all: the cause as it is.
  }
  return cause;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:([A-Za-z0-9_-]{1,80}):([A-Za-z0-9_-]{1,80})$/;

/** The state machine ARN an execution ARN belongs to; ValidationError when `id` is not an execution ARN. */
export function stateMachineOfExecution(executionArn: string): string {
  const match = EXECUTION_ARN.exec(executionArn);
  if (!match) {
    throw new ValidationError(
      'id must be the URL-encoded ARN of a pipeline execution (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)',
      { id: executionArn },
    );
  }
  return executionArn.replace(/:execution:([^:]+):[^:]+$/, ':stateMachine:$1');
}

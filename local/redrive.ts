/**
 * Step Functions' redrive, offline: which stopped executions RedriveExecution accepts (AWS's
 * eligibility rules, computed from what the runtime recorded) and the state machine a redrive
 * runs, which restarts the execution's last unsuccessful top-level state with that state's
 * recorded input. Successful states before it are not run again, as on AWS.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import type { Definition } from './definitions';

/** RedriveExecution's redrivable period: 14 days from the moment the execution stopped. */
export const REDRIVABLE_PERIOD_MS = 14 * 24 * 60 * 60 * 1000;
/** An execution open (running or redriven) for longer than a year is not redrivable. */
export const MAX_EXECUTION_OPEN_MS = 365 * 24 * 60 * 60 * 1000;
/** RedriveExecution needs room for its ExecutionRedriven event and one more: fewer than 24,999 history events. */
export const MAX_HISTORY_EVENTS_FOR_REDRIVE = 24_999;

export interface RedriveCandidate {
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  /** History events recorded so far (every attempt's). */
  readonly historyEvents: number;
}

/**
 * DescribeExecution's `redriveStatus` and `redriveStatusReason` for a Standard execution: the
 * reasons are Step Functions' own wording (DescribeExecution's documented reasons).
 */
export function redriveStatusOf(
  execution: RedriveCandidate,
  now: Date,
): { redriveStatus: 'REDRIVABLE' | 'NOT_REDRIVABLE'; redriveStatusReason?: string } {
  const refuse = (reason: string) => ({ redriveStatus: 'NOT_REDRIVABLE' as const, redriveStatusReason: reason });
  if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE')
    return refuse('Execution is RUNNING and cannot be redriven.');
  if (execution.status === 'SUCCEEDED') return refuse('Execution is SUCCEEDED and cannot be redriven.');
  if (execution.historyEvents >= MAX_HISTORY_EVENTS_FOR_REDRIVE) return refuse('Execution history event limit exceeded.');
  if (now.getTime() - execution.startDate.getTime() > MAX_EXECUTION_OPEN_MS)
    return refuse('Execution has exceeded the max execution time.');
  if (execution.stopDate && now.getTime() - execution.stopDate.getTime() > REDRIVABLE_PERIOD_MS)
    return refuse('Execution redrivable period exceeded.');
  return { redriveStatus: 'REDRIVABLE' };
}

/**
 * The machine a redrive runs: the execution's own definition, started at the state it stopped in.
 * The definition was validated when the execution started; started elsewhere than its StartAt,
 * the states before are unreachable, which aws-local-stepfunctions' validation would refuse.
 */
export function resumedMachine(definition: Definition, stateName: string): StateMachine {
  if (!definition.States[stateName]) throw new Error(`the definition has no state "${stateName}" to resume at`);
  return new StateMachine({ ...definition, StartAt: stateName } as never, { validationOptions: { noValidate: true } });
}

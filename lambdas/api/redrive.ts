/**
 * Whether and where a stopped pipeline run can be redriven, free of AWS: Step Functions' own
 * verdict (DescribeExecution's redriveStatus and its reason), then the platform's rules on top of
 * it, each refusal saying why. What Step Functions does on RedriveExecution is fixed: it restarts
 * the execution's last unsuccessful state with that state's input, on the definition the
 * execution started with. The rules below refuse the redrives that would only fail again or run
 * something other than what the caller expects.
 */
import { PlatformError } from '../shared/errors';

/** A redrive Step Functions or the platform refuses; answered 409 with the reason. */
export class ExecutionNotRedrivableError extends PlatformError {
  override readonly name = 'ExecutionNotRedrivable';
  readonly code = 'NotRedrivable';
  readonly httpStatus = 409;
}

/** The state a fault stops a run in (statemachines/training.asl.json): a redrive resumes from there. */
export const AWAIT_REDRIVE_STATE = 'AwaitRedrive';
/** The Fail state a business outcome stops a run in: a redrive re-enters it and fails again. */
export const PIPELINE_FAILED_STATE = 'PipelineFailed';
/**
 * The batch inference pipeline's Fail states (statemachines/batch-inference.asl.json): its tasks
 * catch every error into BatchFailed, so a failed batch run always stops in one of these, and a
 * redrive would only re-enter it.
 */
const BATCH_FAIL_STATES = new Set(['BatchFailed', 'InvalidInput', 'UnknownModel']);
/** Task states that create a SageMaker job under a name drawn before them: run again as they were, SageMaker refuses the name. */
const JOB_NAMING_STATES = new Set(['TrainOnSpot', 'TrainOnDemand', 'TuneHyperparameters']);
/** Where ResumeFailedState sends a redriven run, by the state that failed (the ASL's own table). */
const RESUMES_AT: Readonly<Record<string, string>> = {
  ValidateDataset: 'IsDatasetSharded',
  TrainOnSpot: 'RenameTrainingJob',
  TrainOnDemand: 'RenameTrainingJob',
  TuneHyperparameters: 'RenameTrainingJob',
  RegisterVersion: 'GateOnMetrics',
  WaitForApproval: 'NeedsApproval',
};

/** What the API reads of a stopped execution to judge a redrive. */
export interface RedriveFacts {
  readonly status: string;
  /** Step Functions' verdict; absent offline or from an SDK that does not report it. */
  readonly redriveStatus?: string;
  readonly redriveStatusReason?: string;
  readonly redriveCount: number;
  readonly error?: string;
  /** The last top-level state the execution entered: where a redrive restarts. */
  readonly stoppedIn?: string;
  /** For a run stopped in AwaitRedrive: the state that failed (from AwaitRedrive's input). */
  readonly failedState?: string;
  /** DescribeStateMachineForExecution's and DescribeStateMachine's revisionId (null for a never-updated machine). */
  readonly executionRevision: string | null;
  readonly currentRevision: string | null;
}

export interface RedrivePlan {
  /** The state the execution restarts (Step Functions' point of failure). */
  readonly restarts: string;
  /** The state that failed, for a run stopped in AwaitRedrive. */
  readonly failedState?: string;
  /** Where the run goes on from there. */
  readonly resumesAt: string;
}

/** Judges a redrive; throws ExecutionNotRedrivableError with the reason when it is refused. */
export function redrivePlan(facts: RedriveFacts): RedrivePlan {
  const refuse = (reason: string): never => {
    throw new ExecutionNotRedrivableError(reason, {
      status: facts.status,
      ...(facts.stoppedIn ? { stoppedIn: facts.stoppedIn } : {}),
      ...(facts.error ? { error: facts.error } : {}),
    });
  };
  if (facts.status === 'RUNNING' || facts.status === 'PENDING_REDRIVE') refuse(`the run is ${facts.status} and cannot be redriven`);
  if (facts.status === 'SUCCEEDED') refuse('the run SUCCEEDED and cannot be redriven');
  if (facts.redriveStatus === 'NOT_REDRIVABLE')
    refuse(`Step Functions cannot redrive this run: ${facts.redriveStatusReason ?? 'no reason given'}`);
  if ((facts.executionRevision ?? null) !== (facts.currentRevision ?? null)) {
    refuse(
      'the pipeline was deployed again since this run started: a redrive would go on with the old definition (its model document, thresholds and settings) against the new functions; start a new run',
    );
  }
  const stoppedIn = facts.stoppedIn ?? refuse('the run entered no state to restart');
  if (stoppedIn === PIPELINE_FAILED_STATE) {
    refuse(
      `the run ended in a decision, not a fault (${facts.error ?? 'PipelineFailed'}): a redrive re-enters the Fail state ${PIPELINE_FAILED_STATE} and fails again; fix the data or the model and start a new run`,
    );
  }
  if (BATCH_FAIL_STATES.has(stoppedIn)) {
    refuse(
      `the batch run failed (${facts.error ?? stoppedIn}): a redrive re-enters the Fail state ${stoppedIn} and fails again; its manifest lists the failed objects and rows — start a new batch run`,
    );
  }
  if (JOB_NAMING_STATES.has(stoppedIn)) {
    refuse(
      `the run stopped (${facts.status}) while ${stoppedIn} ran: a redrive would create the SageMaker job again under the name it already used, which SageMaker refuses (job names are unique); start a new run`,
    );
  }
  if (stoppedIn === AWAIT_REDRIVE_STATE) {
    const failedState = facts.failedState ?? refuse('the run stopped in AwaitRedrive without naming the state that failed');
    return { restarts: stoppedIn, failedState, resumesAt: RESUMES_AT[failedState] ?? failedState };
  }
  return { restarts: stoppedIn, resumesAt: stoppedIn };
}

/** The state that failed, from AwaitRedrive's recorded input (`failedAttempt.state`, else `failedState`). */
export function failedStateOf(stateInput: unknown): string | undefined {
  const input = (typeof stateInput === 'string' ? safeJson(stateInput) : stateInput) as
    | { failedAttempt?: { state?: unknown }; failedState?: unknown }
    | undefined;
  const name = input?.failedAttempt?.state ?? input?.failedState;
  return typeof name === 'string' ? name : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

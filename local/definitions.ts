/**
 * The training state machine as aws-local-stepfunctions runs it: training.asl.json with the stack's
 * substitutions, and one adjustment for an emulator gap. The emulator reads TimeoutSecondsPath from
 * the state's Parameters instead of its input; the training and tuning states' paths name values
 * the substitutions fix, so the offline definition carries the literal TimeoutSeconds the deployed
 * state machine resolves them to.
 */
import { readTrainingDefinition, renderDefinition } from '../contracts/state-machines';

/** The paths the training and tuning states read their timeouts from (MergeInput sets them from these substitutions). */
const TIMEOUT_PATHS: Readonly<Record<string, string>> = {
  '$.config.trainingTimeoutSeconds': 'TrainingTimeoutSeconds',
  '$.config.tuningTimeoutSeconds': 'TuningTimeoutSeconds',
};

interface Definition {
  readonly States: Record<string, Record<string, unknown>>;
  readonly StartAt: string;
}

export function offlineTrainingDefinition(substitutions: Readonly<Record<string, string>>): Definition {
  const definition = JSON.parse(renderDefinition(readTrainingDefinition(), substitutions)) as Definition;
  for (const state of Object.values(definition.States)) {
    const substitution = typeof state.TimeoutSecondsPath === 'string' ? TIMEOUT_PATHS[state.TimeoutSecondsPath] : undefined;
    if (substitution) {
      delete state.TimeoutSecondsPath;
      state.TimeoutSeconds = Number(substitutions[substitution]);
    }
  }
  return definition;
}

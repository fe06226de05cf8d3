/**
 * The training state machine as aws-local-stepfunctions runs it: training.asl.json with the stack's
 * substitutions, and one adjustment for an emulator gap. The emulator reads TimeoutSecondsPath from
 * the state's Parameters instead of its input; the training states' path names a value the
 * substitutions fix, so the offline definition carries the literal TimeoutSeconds the deployed
 * state machine resolves it to.
 */
import { readTrainingDefinition, renderDefinition } from '../contracts/state-machines';

/** The path the training states read their timeout from (MergeInput sets it from the TrainingTimeoutSeconds substitution). */
const TRAINING_TIMEOUT_PATH = '$.config.trainingTimeoutSeconds';

interface Definition {
  readonly States: Record<string, Record<string, unknown>>;
  readonly StartAt: string;
}

export function offlineTrainingDefinition(substitutions: Readonly<Record<string, string>>): Definition {
  const definition = JSON.parse(renderDefinition(readTrainingDefinition(), substitutions)) as Definition;
  for (const state of Object.values(definition.States)) {
    if (state.TimeoutSecondsPath === TRAINING_TIMEOUT_PATH) {
      delete state.TimeoutSecondsPath;
      state.TimeoutSeconds = Number(substitutions.TrainingTimeoutSeconds);
    }
  }
  return definition;
}

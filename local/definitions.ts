/**
 * The training state machine as aws-local-stepfunctions runs it: training.asl.json with the stack's
 * substitutions, and the adjustments for the emulator's gaps.
 *
 * - The emulator reads TimeoutSecondsPath from the state's Parameters instead of its input; the
 *   training and tuning states' paths name values the substitutions fix, so the offline definition
 *   carries the literal TimeoutSeconds the deployed state machine resolves them to.
 * - A Task without TimeoutSeconds waits as long as its task takes on Step Functions (99,999,999 s);
 *   the emulator cuts it at 60 s, so a large dataset's validation would fail offline only. Offline
 *   such a state waits as long as a Node timer can (24.8 days).
 * - The emulator's own timeout fails with `States.Timeout — States.Timeout`, naming no state, and
 *   leaves the task running. `withStateTimeouts` enforces each state's TimeoutSeconds around the
 *   task handlers instead: the error names the state and its limit, and the task is told to stop
 *   (its AbortSignal), so a training program does not outlive its state.
 */
import { networkShapeOf, readTrainingDefinition, renderDefinition } from '../contracts/state-machines';

/** The pipelines a model has offline, as on AWS: one state machine each. */
export type PipelineKind = 'training' | 'batch';

/** The paths the training and tuning states read their timeouts from (MergeInput sets them from these substitutions). */
const TIMEOUT_PATHS: Readonly<Record<string, string>> = {
  '$.config.trainingTimeoutSeconds': 'TrainingTimeoutSeconds',
  '$.config.tuningTimeoutSeconds': 'TuningTimeoutSeconds',
};

/** The longest a Node timer waits (2^31 − 1 ms), in whole seconds: what a Task without TimeoutSeconds gets offline. */
export const UNBOUNDED_TASK_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

type State = Record<string, unknown> & { Type?: string; ItemProcessor?: { States: Record<string, State> } };

export interface Definition {
  readonly States: Record<string, State>;
  readonly StartAt: string;
}

/** Every state of a definition, those inside Map item processors included, by name. */
function allStates(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor.States) : []),
  ]);
}

export function offlineTrainingDefinition(substitutions: Readonly<Record<string, string>>): Definition {
  const definition = JSON.parse(renderDefinition(readTrainingDefinition(networkShapeOf(substitutions)), substitutions)) as Definition;
  for (const [, state] of allStates(definition.States)) {
    const substitution = typeof state.TimeoutSecondsPath === 'string' ? TIMEOUT_PATHS[state.TimeoutSecondsPath] : undefined;
    if (substitution) {
      delete state.TimeoutSecondsPath;
      state.TimeoutSeconds = Number(substitutions[substitution]);
    }
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = UNBOUNDED_TASK_SECONDS;
    }
  }
  return definition;
}

/**
 * The definition with every Task's timeout left to `withStateTimeouts` (the emulator's own timer set
 * past it), and the TimeoutSeconds each Task state declares.
 */
export function liftTaskTimeouts(definition: Definition): { definition: Definition; timeouts: ReadonlyMap<string, number> } {
  const lifted = structuredClone(definition) as Definition;
  const timeouts = new Map<string, number>();
  for (const [name, state] of allStates(lifted.States)) {
    if (state.Type !== 'Task') continue;
    if (typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds < UNBOUNDED_TASK_SECONDS) timeouts.set(name, state.TimeoutSeconds);
    state.TimeoutSeconds = UNBOUNDED_TASK_SECONDS;
  }
  return { definition: lifted, timeouts };
}

/** A Task state's local handler; the signal aborts when the state times out or the runtime stops. */
export type StateHandler = (input: never, signal?: AbortSignal) => Promise<unknown>;

/** The error a Task fails with when it outlives its TimeoutSeconds; `name` is what Retry and Catch match. */
export class StateTimeoutError extends Error {
  override readonly name = 'States.Timeout';
}

/**
 * Wraps each handler with its state's TimeoutSeconds: past it, the task's signal aborts and the
 * state fails with States.Timeout, the cause naming the state and the limit. `stopping` aborts
 * every running task (the runtime shutting down).
 */
export function withStateTimeouts<Handlers extends Record<string, StateHandler>>(
  handlers: Handlers,
  timeouts: ReadonlyMap<string, number>,
  stopping?: AbortSignal,
): Record<keyof Handlers, (input: never) => Promise<unknown>> {
  const wrapped: Record<string, (input: never) => Promise<unknown>> = {};
  for (const [state, handler] of Object.entries(handlers)) {
    const seconds = timeouts.get(state);
    wrapped[state] = async (input) => {
      const controller = new AbortController();
      const onStop = () => controller.abort(stopping?.reason);
      stopping?.addEventListener('abort', onStop, { once: true });
      let timer: NodeJS.Timeout | undefined;
      const timedOut =
        seconds === undefined
          ? undefined
          : new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                const error = new StateTimeoutError(
                  `${state} timed out: its task ran longer than the state's TimeoutSeconds (${seconds.toLocaleString('en')} s)`,
                );
                controller.abort(error);
                reject(error);
              }, seconds * 1000);
            });
      try {
        const task = handler(input, controller.signal);
        return await (timedOut ? Promise.race([task, timedOut]) : task);
      } finally {
        clearTimeout(timer);
        stopping?.removeEventListener('abort', onStop);
      }
    };
  }
  return wrapped as Record<keyof Handlers, (input: never) => Promise<unknown>>;
}

/**
 * Small faults for ASL mutation testing (test/statemachines/*-mutations.test.ts): each edits a
 * parsed definition in place — a Choice rule dropped or inverted, a Default, Next or Catch sent
 * elsewhere, an error taken out of a Retry list, a Pass state's value changed — and throws when
 * the state or rule it names is not there, so a renamed state cannot turn a mutant into a no-op.
 */

import { expect } from 'vitest';

type State = Record<string, any>;
export type Definition = { States: Record<string, State> };

/** A state by name, also inside a Map's ItemProcessor (or a Parallel's branches). */
export function stateOf(definition: Definition, name: string): State {
  const search = (states: Record<string, State>): State | undefined => {
    if (states[name]) return states[name];
    for (const state of Object.values(states)) {
      const nested = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter(Boolean) as Definition[];
      for (const inner of nested) {
        const found = search(inner.States);
        if (found) return found;
      }
    }
    return undefined;
  };
  const state = search(definition.States);
  if (!state) throw new Error(`no state ${name} in the definition`);
  return state;
}

/** The Choice rule of `choice` whose JSON contains `marker`. */
export function ruleOf(definition: Definition, choice: string, marker: string): State {
  const rule = stateOf(definition, choice).Choices.find((candidate: unknown) => JSON.stringify(candidate).includes(marker));
  if (!rule) throw new Error(`no rule with ${marker} in ${choice}`);
  return rule;
}

export type Mutation = (definition: Definition) => void;

export const dropRule =
  (choice: string, marker: string): Mutation =>
  (definition) => {
    const rule = ruleOf(definition, choice, marker);
    const state = stateOf(definition, choice);
    state.Choices = state.Choices.filter((candidate: unknown) => candidate !== rule);
  };
export const invertBoolean =
  (choice: string, marker: string): Mutation =>
  (definition) => {
    const rule = ruleOf(definition, choice, marker);
    rule.BooleanEquals = !rule.BooleanEquals;
  };
export const setRuleNext =
  (choice: string, marker: string, next: string): Mutation =>
  (definition) => {
    ruleOf(definition, choice, marker).Next = next;
  };
export const setDefault =
  (choice: string, next: string): Mutation =>
  (definition) => {
    stateOf(definition, choice).Default = next;
  };
export const setNext =
  (state: string, next: string): Mutation =>
  (definition) => {
    stateOf(definition, state).Next = next;
  };
export const setCatch =
  (task: string, next: string): Mutation =>
  (definition) => {
    stateOf(definition, task).Catch[0].Next = next;
  };
export const dropRetryError =
  (task: string, error: string): Mutation =>
  (definition) => {
    const retry = stateOf(definition, task).Retry[0];
    if (!retry.ErrorEquals.includes(error)) throw new Error(`${task} does not retry ${error}`);
    retry.ErrorEquals = retry.ErrorEquals.filter((candidate: string) => candidate !== error);
  };
/**
 * Sets the field at `path` under the state (keys, e.g. `['Parameters', 'Payload', 'version.$']`;
 * ASL keys hold dots) to `value`; the field must exist.
 */
export const setField =
  (name: string, path: readonly string[], value: unknown): Mutation =>
  (definition) => {
    const field = path.join(' › ');
    let target = stateOf(definition, name);
    for (const step of path.slice(0, -1)) {
      if (target[step] === undefined) throw new Error(`${name} has no ${field}`);
      target = target[step];
    }
    const last = path.at(-1)!;
    if (!(last in target)) throw new Error(`${name} has no ${field}`);
    target[last] = value;
  };
/** Removes the field at `path` under the state (keys, as for setField); the field must exist. */
export const dropField =
  (name: string, path: readonly string[]): Mutation =>
  (definition) => {
    const field = path.join(' › ');
    let target = stateOf(definition, name);
    for (const step of path.slice(0, -1)) target = target[step] ?? {};
    const last = path.at(-1)!;
    if (!(last in target)) throw new Error(`${name} has no ${field}`);
    delete target[last];
  };

/**
 * Runs a scenario with `mutate` applied (`runScenario` answers the scenario check's failure, or
 * undefined) and expects the mutant to have changed the definition and the scenario to notice it.
 */
export async function expectCaught(mutate: Mutation, scenario: string, runScenario: (apply: Mutation) => Promise<unknown>): Promise<void> {
  let changed = false;
  const caught = await runScenario((definition) => {
    const before = JSON.stringify(definition);
    mutate(definition);
    changed = JSON.stringify(definition) !== before;
  });
  expect(changed).toBe(true);
  expect(caught, `"${scenario}" did not notice`).toBeDefined();
}

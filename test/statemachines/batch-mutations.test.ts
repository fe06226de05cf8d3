/**
 * ASL mutation testing of the batch inference pipeline: small faults applied to the real
 * statemachines/batch-inference.asl.json in memory (a Choice rule dropped, a Default, Next or Catch
 * sent elsewhere, an error taken out of a Retry list, a default or a path changed), each run
 * offline with the real batch-score code on the scenario that must notice it. As for the training
 * pipeline (training-mutations.test.ts), every fault must change what an execution does.
 */
import { describe, expect, it } from 'vitest';
import { churnRows } from '../../testkit/churn-model';
import {
  type Definition,
  dropField,
  dropRetryError,
  expectCaught,
  type Mutation,
  ruleOf,
  setCatch,
  setDefault,
  setField,
  setRuleNext,
} from '../support/asl-mutations';
import {
  BatchPipelineHarness,
  type BatchRun,
  csvOf,
  type BatchPipelineHarness as Harness,
  lambdaError,
} from '../support/batch-pipeline-harness';

const OUT = 's3://artifacts/batch/churn/out/';

interface Scenario {
  readonly input: Record<string, unknown>;
  /** Objects to score and faults to inject before the run. */
  readonly setup?: (harness: Harness) => Promise<void> | void;
  /** Throws (an expect) when the run did not do what the pipeline must. */
  readonly check: (run: BatchRun, harness: Harness) => void;
}

const twoObjects = async (harness: Harness) => {
  await harness.objects.put('datasets', 'churn/weekly/part-1.csv', csvOf(churnRows(30, 1), 'a'));
  await harness.objects.put('datasets', 'churn/weekly/part-2.csv', csvOf(churnRows(20, 2), 'b'));
};
const oneObject =
  (broken: number[] = []) =>
  async (harness: Harness) => {
    await harness.objects.put('datasets', 'churn/in.csv', csvOf(churnRows(100, 3), 'c', broken));
  };
const nothingCalled = (harness: Harness) => expect(harness.calls).toEqual({});
const THROTTLE = 'Lambda.TooManyRequestsException';
/** One object to score, `state` throttled once: the run succeeds and `check` holds. */
const throttledOnce = (state: string, check: Scenario['check']): Scenario => ({
  input: { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: OUT },
  setup: async (harness) => {
    await oneObject()(harness);
    harness.throwOnce.set(state, lambdaError(THROTTLE, 'Rate exceeded'));
  },
  check: (run, harness) => {
    expect(run.status).toBe('SUCCEEDED');
    check(run, harness);
  },
});

const SCENARIOS = {
  'a prefix is scored by production with row ids, drift checked, and the summary is the output': {
    input: { model: 'churn', inputUri: 's3://datasets/churn/weekly/', outputUri: OUT, rowIdColumn: 'customer_id' },
    setup: twoObjects,
    check: (run, harness) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toMatchObject({ version: 2, objects: 2, rows: 50, scoredRows: 50, failedRows: 0, maxFailedPercent: 1 });
      expect(run.output!.cost.transitions).toBe(11);
      expect(run.output!.drift).toEqual({ result: { status: 'no-drift', model: 'churn' } });
      const scored = harness.objects.objects.get('artifacts/batch/churn/out/part-1.scored.csv')!.split('\n');
      expect(scored[1]).toMatch(/^a-0,2,/);
      expect(harness.calls).toEqual({ ListInputs: 1, ScoreObject: 2, CheckDrift: 1, Summarize: 1 });
    },
  },
  'a run without inputUri is refused as InvalidInput before any work': {
    input: { model: 'churn', outputUri: OUT },
    check: (run, harness) => {
      expect(run).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
      nothingCalled(harness);
    },
  },
  'an output that is not a prefix is refused as InvalidInput before any work': {
    input: { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: 's3://artifacts/batch/churn/out.csv' },
    setup: oneObject(),
    check: (run, harness) => {
      expect(run).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
      nothingCalled(harness);
    },
  },
  'another model is refused as UnknownModel before any work': {
    input: { model: 'fraud', inputUri: 's3://datasets/churn/in.csv', outputUri: OUT },
    setup: oneObject(),
    check: (run, harness) => {
      expect(run).toMatchObject({ status: 'FAILED', error: 'UnknownModel' });
      nothingCalled(harness);
    },
  },
  'failed rows above the default 1% fail the run as BatchFailuresExceeded': {
    input: { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: OUT },
    setup: oneObject([4, 50]),
    check: (run, harness) => {
      expect(run).toMatchObject({ status: 'FAILED', error: 'BatchFailuresExceeded' });
      expect(JSON.parse(harness.objects.objects.get('artifacts/batch/churn/out/_manifest.json')!)).toMatchObject({
        failedRows: 2,
        maxFailedPercent: 1,
      });
    },
  },
  'the format asked for is the format written': {
    input: { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: OUT, format: 'jsonl', maxFailedPercent: 5 },
    setup: oneObject(),
    check: (run, harness) => {
      expect(run.status).toBe('SUCCEEDED');
      expect([...harness.objects.objects.keys()].filter((key) => key.includes('.scored.'))).toEqual([
        'artifacts/batch/churn/out/in.scored.jsonl',
      ]);
    },
  },
  'the version asked for scores': {
    input: { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: OUT, version: 1 },
    setup: oneObject(),
    check: (run) => expect(run.output).toMatchObject({ version: 1, scoredRows: 100 }),
  },
  'an input the function refuses fails the run with its error, nothing scored': {
    input: { model: 'churn', inputUri: 's3://datasets/fraud/in.csv', outputUri: OUT },
    check: (run, harness) => {
      expect(run).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
      expect(run.cause).toContain('inputUri must be under s3://datasets/churn/');
      expect(harness.calls).toEqual({ ListInputs: 1 });
    },
  },
  'an object the scorer fails on fails the run, nothing summarized': {
    input: { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: OUT },
    setup: async (harness) => {
      await oneObject()(harness);
      harness.throwOnce.set('ScoreObject', lambdaError('Error', 'the scorer ran out of memory'));
    },
    check: (run, harness) => {
      expect(run.status).toBe('FAILED');
      expect(harness.calls.Summarize).toBeUndefined();
      expect(harness.calls.CheckDrift).toBeUndefined();
    },
  },
  'a failed drift check is recorded in the summary and the run goes on': {
    input: { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: OUT },
    setup: async (harness) => {
      await oneObject()(harness);
      harness.driftFails = true;
    },
    check: (run) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output!.drift).toMatchObject({ Error: 'NotFoundError' });
    },
  },
  'a throttled list call is tried again': throttledOnce('ListInputs', (_run, harness) => expect(harness.calls.ListInputs).toBe(2)),
  'a throttled scoring call is tried again': throttledOnce('ScoreObject', (_run, harness) => expect(harness.calls.ScoreObject).toBe(2)),
  'a throttled drift check is tried again and its verdict recorded': throttledOnce('CheckDrift', (run) =>
    expect(run.output!.drift).toEqual({ result: { status: 'no-drift', model: 'churn' } }),
  ),
  'a throttled summary is tried again': throttledOnce('Summarize', (_run, harness) => expect(harness.calls.Summarize).toBe(2)),
} satisfies Record<string, Scenario>;

type ScenarioName = keyof typeof SCENARIOS;

/** CheckInput's And rule without the conjunct on `variable` that uses `operator`. */
const dropConjunct =
  (variable: string, operator: string): Mutation =>
  (definition) => {
    const rule = ruleOf(definition, 'CheckInput', variable);
    const kept = rule.And.filter((conjunct: Record<string, unknown>) => !(conjunct.Variable === variable && operator in conjunct));
    if (kept.length === rule.And.length) throw new Error(`CheckInput has no ${operator} on ${variable}`);
    rule.And = kept;
  };

/** Each mutant, what it changes, and the scenario that must notice it. */
const MUTANTS: [string, Mutation, ScenarioName][] = [
  [
    'CheckInput without inputUri IsPresent',
    dropConjunct('$.inputUri', 'IsPresent'),
    'a run without inputUri is refused as InvalidInput before any work',
  ],
  [
    'CheckInput without the output prefix rule',
    dropConjunct('$.outputUri', 'StringMatches'),
    'an output that is not a prefix is refused as InvalidInput before any work',
  ],
  [
    'CheckInput defaults to ApplyDefaults',
    setDefault('CheckInput', 'ApplyDefaults'),
    'an output that is not a prefix is refused as InvalidInput before any work',
  ],
  [
    'maxFailedPercent defaults to 5',
    setField('ApplyDefaults', ['Parameters', 'defaults', 'maxFailedPercent'], 5),
    'failed rows above the default 1% fail the run as BatchFailuresExceeded',
  ],
  [
    'format defaults to jsonl',
    setField('ApplyDefaults', ['Parameters', 'defaults', 'format'], 'jsonl'),
    'a prefix is scored by production with row ids, drift checked, and the summary is the output',
  ],
  [
    'MergeInput lets the defaults win',
    setField('MergeInput', ['Parameters', 'run.$'], 'States.JsonMerge($.input, $.defaults, false)'),
    'the format asked for is the format written',
  ],
  ['IsOwnModel defaults to ListInputs', setDefault('IsOwnModel', 'ListInputs'), 'another model is refused as UnknownModel before any work'],
  [
    'IsOwnModel sends its own model to UnknownModel',
    setRuleNext('IsOwnModel', '$.run.model', 'UnknownModel'),
    'a prefix is scored by production with row ids, drift checked, and the summary is the output',
  ],
  [
    "ListInputs' Catch goes to Summarize",
    setCatch('ListInputs', 'Summarize'),
    'an input the function refuses fails the run with its error, nothing scored',
  ],
  [
    'ListInputs does not pass the version asked for',
    setField('ListInputs', ['Parameters', 'Payload', 'version.$'], '$.defaults.version'),
    'the version asked for scores',
  ],
  [
    "ScoreObjects' Catch goes to CheckDrift",
    setCatch('ScoreObjects', 'CheckDrift'),
    'an object the scorer fails on fails the run, nothing summarized',
  ],
  [
    'ScoreObjects does not pass the row id column',
    dropField('ScoreObjects', ['ItemSelector', 'rowIdColumn.$']),
    'a prefix is scored by production with row ids, drift checked, and the summary is the output',
  ],
  [
    'ScoreObjects does not pass the format',
    dropField('ScoreObjects', ['ItemSelector', 'format.$']),
    'the format asked for is the format written',
  ],
  [
    "CheckDrift's Catch goes to BatchFailed",
    setCatch('CheckDrift', 'BatchFailed'),
    'a failed drift check is recorded in the summary and the run goes on',
  ],
  [
    "CheckDrift's Catch drops the failure",
    setField('CheckDrift', ['Catch', '0', 'ResultPath'], '$.error'),
    'a failed drift check is recorded in the summary and the run goes on',
  ],
  [
    "Summarize's Catch goes to BatchSucceeded",
    setCatch('Summarize', 'BatchSucceeded'),
    'failed rows above the default 1% fail the run as BatchFailuresExceeded',
  ],
  [
    'Summarize counts 8 transitions of its own',
    setField('Summarize', ['Parameters', 'Payload', 'transitions'], 8),
    'a prefix is scored by production with row ids, drift checked, and the summary is the output',
  ],
  ['ListInputs does not retry a throttle', dropRetryError('ListInputs', THROTTLE), 'a throttled list call is tried again'],
  ['ScoreObject does not retry a throttle', dropRetryError('ScoreObject', THROTTLE), 'a throttled scoring call is tried again'],
  [
    'CheckDrift does not retry a throttle',
    dropRetryError('CheckDrift', THROTTLE),
    'a throttled drift check is tried again and its verdict recorded',
  ],
  ['Summarize does not retry a throttle', dropRetryError('Summarize', THROTTLE), 'a throttled summary is tried again'],
  [
    'BatchFailed reports a fixed error',
    (definition: Definition) => {
      const fail = definition.States.BatchFailed!;
      delete fail.ErrorPath;
      fail.Error = 'BatchFailed';
    },
    'an input the function refuses fails the run with its error, nothing scored',
  ],
  [
    'BatchSucceeded outputs the whole state',
    dropField('BatchSucceeded', ['OutputPath']),
    'a prefix is scored by production with row ids, drift checked, and the summary is the output',
  ],
];

/** Runs a scenario on the real definition, `mutate` applied (when given); answers the check's failure, if any. */
async function runScenario(name: ScenarioName, mutate?: Mutation): Promise<unknown> {
  const scenario: Scenario = SCENARIOS[name];
  const harness = await new BatchPipelineHarness(mutate).registerVersions();
  await scenario.setup?.(harness);
  const run = await harness.run(scenario.input);
  try {
    scenario.check(run, harness);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('the batch inference ASL under mutation', () => {
  it.each(Object.keys(SCENARIOS) as ScenarioName[])('unmutated: %s', async (name) => {
    expect(await runScenario(name)).toBeUndefined();
  });

  it.each(MUTANTS)('is caught: %s', async (_, mutate, scenario) => {
    await expectCaught(mutate, scenario, (apply) => runScenario(scenario, apply));
  });
});

/**
 * ASL mutation testing: small faults applied to the real statemachines/training.asl.json in memory
 * (a Choice rule dropped or inverted, a Default or a Catch sent to the wrong state, an error taken
 * out of a Retry list), each run offline on the scenario that must notice it. A fault that only a
 * structure check would catch is not caught here: each one must change what an execution does.
 */
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../lambdas/registry/registry';
import {
  type Definition,
  dropRetryError,
  dropRule,
  expectCaught,
  invertBoolean,
  ruleOf,
  setCatch,
  setDefault,
  setNext,
  setRuleNext,
} from '../support/asl-mutations';
import { failure, type Handler, type PipelineRun, TrainingPipelineHarness, trainingJob } from '../support/training-pipeline-harness';

const input = { model: 'churn', datasetUri: 's3://datasets/churn/2026-11-01.csv', hyperparameters: { epochs: '20' } };

interface Scenario {
  readonly substitutions?: Record<string, string>;
  readonly input?: Record<string, unknown>;
  readonly services?: (harness: TrainingPipelineHarness) => Record<string, Handler>;
  /** Throws (an expect) when the run did not do what the pipeline must. */
  readonly check: (run: PipelineRun, harness: TrainingPipelineHarness) => Promise<void>;
}

const capacityError = () =>
  failure(
    'States.TaskFailed',
    '{"TrainingJobStatus":"Failed","FailureReason":"CapacityError: Unable to provision requested ML compute capacity"}',
  );
const rejectingGate: Handler = async () => ({
  passed: false,
  metrics: { accuracy: 0.71, f1: 0.62 },
  reasons: ['f1 0.62 < 0.80'],
  artifactSha256: 'e'.repeat(64),
  spotSavings: 0.7,
});
const failureEvents = async (harness: TrainingPipelineHarness) =>
  (await harness.registry.listEvents({ modelName: 'churn' })).items.filter((event) => event.action === 'pipeline-failure');

const SCENARIOS = {
  'a valid single-file dataset goes to Production on spot, without approval': {
    check: async (run, harness) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.ValidateDataset).toHaveLength(1);
      expect(run.calls.ListShards).toBeUndefined();
      expect(run.calls.TrainOnSpot).toHaveLength(1);
      expect(run.calls.TrainOnDemand).toBeUndefined();
      expect(run.calls.WaitForApproval).toBeUndefined();
      expect(run.output.promotion).toEqual({ productionVersion: 1 });
      expect((await harness.registry.getVersion({ modelName: 'churn', version: 1 })).stage).toBe('Production');
      expect(run.notifications).toEqual([]);
    },
  },
  'a dataset URI that is not s3://bucket/key is refused before any work': {
    input: { ...input, datasetUri: 'https://example.com/data.csv' },
    check: async (run) => {
      expect(run.error).toBe('InvalidInput');
      expect(run.statesEntered).toEqual(['CheckInput', 'MissingDatasetUri']);
    },
  },
  'a model the pipeline was not built for is refused as unknown': {
    input: { ...input, model: 'fraud' },
    check: async (run) => {
      expect(run.error).toBe('UnknownModel');
      expect(run.statesEntered).toEqual(['CheckInput', 'UnknownModel']);
    },
  },
  'a dataset prefix is profiled shard by shard': {
    input: { ...input, datasetUri: 's3://datasets/churn/2026-11/' },
    check: async (run) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.ProfileShard).toHaveLength(3);
      expect(run.calls.ValidateDataset).toBeUndefined();
    },
  },
  'an invalid dataset stops the run before training, recorded and notified': {
    services: () => ({
      ValidateDataset: async () => ({
        valid: false,
        reportUri: 's3://artifacts-bucket/reports/r.json',
        failureReason: 'too many bad rows',
      }),
    }),
    check: async (run, harness) => {
      expect(run.error).toBe('DatasetInvalid');
      expect(run.calls.TrainOnSpot).toBeUndefined();
      expect(run.notifications).toHaveLength(1);
      expect(run.notifications[0]).toContain('failed in ValidateDataset: DatasetInvalid');
      expect((await failureEvents(harness)).map((event) => event.reason)).toEqual(['ValidateDataset failed: DatasetInvalid']);
    },
  },
  "an on-demand job whose program fails is not retried and is reported as TrainOnDemand's failure": {
    substitutions: { UseSpot: 'false' },
    services: () => ({
      TrainOnDemand: async () => {
        throw failure('States.TaskFailed', '{"FailureReason":"AlgorithmError: ExecuteUserScriptError: train.py exited with code 1"}');
      },
    }),
    check: async (run, harness) => {
      expect(run.error).toBe('States.TaskFailed');
      expect(run.calls.TrainOnSpot).toBeUndefined();
      expect(run.calls.TrainOnDemand).toHaveLength(1);
      expect(run.notifications).toHaveLength(1);
      expect(run.notifications[0]).toContain('failed in TrainOnDemand: States.TaskFailed');
      expect((await failureEvents(harness)).map((event) => event.reason)).toEqual(['TrainOnDemand failed: States.TaskFailed']);
    },
  },
  'an on-demand job that found no capacity is tried again under a new name': {
    substitutions: { UseSpot: 'false' },
    services: () => {
      let attempts = 0;
      const job = trainingJob();
      return {
        TrainOnDemand: async (request) => {
          if (++attempts === 1) throw capacityError();
          return job(request);
        },
      };
    },
    check: async (run) => {
      expect(run.status).toBe('SUCCEEDED');
      const [first, second] = run.calls.TrainOnDemand!;
      expect(second.TrainingJobName).not.toBe(first.TrainingJobName);
    },
  },
  'a spot job that never finds capacity is tried three times in all': {
    services: () => ({
      TrainOnSpot: async () => {
        throw capacityError();
      },
    }),
    check: async (run) => {
      expect(run.error).toBe('States.TaskFailed');
      expect(run.calls.TrainOnSpot).toHaveLength(3);
      expect(run.notifications[0]).toContain('failed in TrainOnSpot: States.TaskFailed');
    },
  },
  'a training request SageMaker refuses fails at once': {
    services: () => ({
      TrainOnSpot: async () => {
        throw failure(
          'SageMaker.AmazonSageMakerException',
          'bad request (Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException)',
        );
      },
    }),
    check: async (run) => {
      expect(run.error).toBe('SageMaker.AmazonSageMakerException');
      expect(run.calls.TrainOnSpot).toHaveLength(1);
    },
  },
  'a model that fails the gate is registered as Rejected and the run fails as ModelRejected': {
    services: () => ({ EvaluateModel: rejectingGate }),
    check: async (run, harness) => {
      expect(run.error).toBe('ModelRejected');
      expect(run.cause).toBe('Model churn version 1 failed the evaluation gate: ["f1 0.62 < 0.80"]');
      expect((await harness.registry.getVersion({ modelName: 'churn', version: 1 })).stage).toBe('Rejected');
      expect(run.calls.DeployVersion).toBeUndefined();
      expect(run.notifications[0]).toContain('failed in GateOnMetrics: ModelRejected');
    },
  },
  'a registry failure while recording a rejected model is reported as that failure, not as a rejected model': {
    services: () => ({
      EvaluateModel: rejectingGate,
      RegisterRejected: async () => {
        throw failure('ValidationError', 'invalid request: metrics.f1: must be a finite number');
      },
    }),
    check: async (run, harness) => {
      expect(run.error).toBe('ValidationError');
      expect(run.cause).toContain('invalid request: metrics.f1: must be a finite number');
      expect(run.calls.RegisterRejected).toHaveLength(1);
      expect((await harness.registry.getModel({ modelName: 'churn' })).latestVersion).toBe(0);
      expect((await failureEvents(harness)).map((event) => event.details?.error)).toEqual(['ValidationError']);
      expect(run.notifications[0]).toContain(': ValidationError');
    },
  },
  'a registration that lost a race (ConflictError) is tried again': {
    services: (harness) => {
      let attempts = 0;
      return {
        RegisterVersion: async (payload) => {
          if (++attempts === 1) throw failure('ConflictError', 'a concurrent change won');
          return JSON.parse(JSON.stringify(await dispatch(harness.registry, payload)));
        },
      };
    },
    check: async (run) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.RegisterVersion).toHaveLength(2);
    },
  },
  'a throttled evaluation is tried again': {
    services: () => {
      let attempts = 0;
      return {
        EvaluateModel: async () => {
          if (++attempts === 1) throw failure('Lambda.TooManyRequestsException', 'Rate exceeded');
          return { passed: true, metrics: { f1: 0.9 }, reasons: [], artifactSha256: 'f'.repeat(64), spotSavings: 0.5 };
        },
      };
    },
    check: async (run) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.EvaluateModel).toHaveLength(2);
    },
  },
  'a run that asks for approval waits for it': {
    input: { ...input, requireApproval: true },
    services: () => ({ WaitForApproval: async () => ({ approved: true, approvedBy: 'alice' }) }),
    check: async (run) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.WaitForApproval).toHaveLength(1);
    },
  },
  'a model whose policy requires approval waits even when the run says requireApproval: false': {
    substitutions: { ApprovalPolicy: 'required', RequireApproval: 'true' },
    input: { ...input, requireApproval: false },
    services: () => ({ WaitForApproval: async () => ({ approved: true, approvedBy: 'alice' }) }),
    check: async (run) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.WaitForApproval).toHaveLength(1);
    },
  },
  'an approval that times out fails the run as WaitForApproval, deploying nothing': {
    input: { ...input, requireApproval: true },
    services: () => ({
      WaitForApproval: async () => {
        throw failure('States.Timeout', 'Task timed out');
      },
    }),
    check: async (run, harness) => {
      expect(run.error).toBe('States.Timeout');
      expect(run.calls.DeployVersion).toBeUndefined();
      expect(run.notifications[0]).toContain('failed in WaitForApproval: States.Timeout');
      expect((await harness.registry.getVersion({ modelName: 'churn', version: 1 })).stage).toBe('Registered');
    },
  },
  'a deployment in progress is polled until it is in service': {
    services: () => {
      const statuses = ['InProgress', 'InService'];
      return {
        DeployVersion: async () => ({ status: 'InProgress', deployment: { id: 'c-1' }, reason: null }),
        CheckDeployment: async () => ({ status: statuses.shift(), deployment: { id: 'c-1' }, reason: null }),
      };
    },
    check: async (run) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.calls.CheckDeployment).toHaveLength(2);
    },
  },
  'a rolled-back deployment fails the run, recorded and notified, production untouched': {
    services: () => ({
      DeployVersion: async () => ({ status: 'RolledBack', deployment: { id: 'c-2' }, reason: 'alarm fired' }),
    }),
    check: async (run, harness) => {
      expect(run.error).toBe('DeploymentRolledBack');
      expect((await harness.registry.getModel({ modelName: 'churn' })).productionVersion).toBeUndefined();
      expect((await failureEvents(harness)).map((event) => event.reason)).toEqual(['DeployVersion failed: DeploymentRolledBack']);
      expect(run.notifications[0]).toContain('failed in DeployVersion: DeploymentRolledBack');
    },
  },
} satisfies Record<string, Scenario>;

type ScenarioName = keyof typeof SCENARIOS;
/** Each mutant, what it changes, and the scenario that must notice it. */
const MUTANTS: [string, (definition: Definition) => void, ScenarioName][] = [
  [
    'CheckInput without the s3://bucket/key rule',
    dropRule('CheckInput', 's3://*/*'),
    'a dataset URI that is not s3://bucket/key is refused before any work',
  ],
  [
    'CheckInput sends an unknown model to MissingDatasetUri',
    setRuleNext('CheckInput', '"And"', 'MissingDatasetUri'),
    'a model the pipeline was not built for is refused as unknown',
  ],
  [
    'IsDatasetSharded defaults to the shard path',
    setDefault('IsDatasetSharded', 'ListShards'),
    'a valid single-file dataset goes to Production on spot, without approval',
  ],
  [
    'IsDatasetSharded sends a prefix to ValidateDataset',
    setRuleNext('IsDatasetSharded', '*/', 'ValidateDataset'),
    'a dataset prefix is profiled shard by shard',
  ],
  [
    'IsDatasetValid defaults to training',
    setDefault('IsDatasetValid', 'NameTrainingJob'),
    'an invalid dataset stops the run before training, recorded and notified',
  ],
  [
    'IsDatasetValid inverted',
    invertBoolean('IsDatasetValid', 'valid'),
    'a valid single-file dataset goes to Production on spot, without approval',
  ],
  [
    'ChooseCapacity inverted',
    invertBoolean('ChooseCapacity', 'useSpot'),
    'a valid single-file dataset goes to Production on spot, without approval',
  ],
  [
    'ChooseCapacity defaults to spot',
    setDefault('ChooseCapacity', 'TrainOnSpot'),
    "an on-demand job whose program fails is not retried and is reported as TrainOnDemand's failure",
  ],
  [
    "TrainOnDemand's Catch goes to TrainOnSpotFailed",
    setCatch('TrainOnDemand', 'TrainOnSpotFailed'),
    "an on-demand job whose program fails is not retried and is reported as TrainOnDemand's failure",
  ],
  [
    "TrainOnDemand's Catch skips the retry decision",
    setCatch('TrainOnDemand', 'RecordFailure'),
    'an on-demand job that found no capacity is tried again under a new name',
  ],
  [
    "TrainOnSpot's Catch skips the retry decision",
    setCatch('TrainOnSpot', 'TrainFailed'),
    'a spot job that never finds capacity is tried three times in all',
  ],
  [
    'IsTrainingRetryable allows a fourth attempt',
    (definition) => {
      ruleOf(definition, 'IsTrainingRetryable', 'NumericLessThan').And[0].NumericLessThan = 4;
    },
    'a spot job that never finds capacity is tried three times in all',
  ],
  [
    'IsTrainingRetryable without CapacityError',
    (definition) => {
      const or = ruleOf(definition, 'IsTrainingRetryable', 'CapacityError').And[2];
      or.Or = or.Or.filter((rule: { StringMatches: string }) => rule.StringMatches !== '*CapacityError*');
    },
    'a spot job that never finds capacity is tried three times in all',
  ],
  [
    'IsTrainingRetryable retries a refused request',
    (definition) => {
      ruleOf(definition, 'IsTrainingRetryable', 'CapacityError').And[2].Or.push({
        Variable: '$.error.Cause',
        StringMatches: '*ValidationException*',
      });
    },
    'a training request SageMaker refuses fails at once',
  ],
  [
    'GateOnMetrics defaults to RegisterVersion',
    setDefault('GateOnMetrics', 'RegisterVersion'),
    'a model that fails the gate is registered as Rejected and the run fails as ModelRejected',
  ],
  [
    'GateOnMetrics inverted',
    invertBoolean('GateOnMetrics', 'passed'),
    'a valid single-file dataset goes to Production on spot, without approval',
  ],
  [
    "RegisterRejected's Catch goes to ModelRejected",
    setCatch('RegisterRejected', 'ModelRejected'),
    'a registry failure while recording a rejected model is reported as that failure, not as a rejected model',
  ],
  [
    'RegisterRejected skips ModelRejected',
    setNext('RegisterRejected', 'GateFailed'),
    'a model that fails the gate is registered as Rejected and the run fails as ModelRejected',
  ],
  [
    'RegisterVersion does not retry ConflictError',
    dropRetryError('RegisterVersion', 'ConflictError'),
    'a registration that lost a race (ConflictError) is tried again',
  ],
  [
    'EvaluateModel does not retry Lambda.TooManyRequestsException',
    dropRetryError('EvaluateModel', 'Lambda.TooManyRequestsException'),
    'a throttled evaluation is tried again',
  ],
  [
    'NeedsApproval without the required policy',
    dropRule('NeedsApproval', 'approvalPolicy'),
    'a model whose policy requires approval waits even when the run says requireApproval: false',
  ],
  ['NeedsApproval without requireApproval', dropRule('NeedsApproval', 'requireApproval'), 'a run that asks for approval waits for it'],
  [
    'NeedsApproval defaults to WaitForApproval',
    setDefault('NeedsApproval', 'WaitForApproval'),
    'a valid single-file dataset goes to Production on spot, without approval',
  ],
  [
    "WaitForApproval's Catch goes to DeployFailed",
    setCatch('WaitForApproval', 'DeployFailed'),
    'an approval that times out fails the run as WaitForApproval, deploying nothing',
  ],
  [
    'DeploymentOutcome without InProgress',
    dropRule('DeploymentOutcome', 'InProgress'),
    'a deployment in progress is polled until it is in service',
  ],
  [
    'DeploymentOutcome defaults to PromoteVersion',
    setDefault('DeploymentOutcome', 'PromoteVersion'),
    'a rolled-back deployment fails the run, recorded and notified, production untouched',
  ],
  [
    'DeployFailed skips RecordFailure',
    setNext('DeployFailed', 'NotifyFailure'),
    'a rolled-back deployment fails the run, recorded and notified, production untouched',
  ],
];

/** Runs a scenario on the real definition, `mutate` applied; answers the check's failure, if any. */
async function runScenario(name: ScenarioName, mutate: (definition: Definition) => void): Promise<unknown> {
  const scenario: Scenario = SCENARIOS[name];
  const harness = new TrainingPipelineHarness(scenario.substitutions, mutate);
  const run = await harness.run(scenario.input ?? input, 'run-mutant', scenario.services?.(harness));
  try {
    await scenario.check(run, harness);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('the training ASL under mutation', () => {
  it.each(Object.keys(SCENARIOS) as ScenarioName[])('unmutated: %s', async (name) => {
    // The identity mutation: the real definition, run unvalidated like the mutants (training.test.ts validates it).
    expect(await runScenario(name, () => undefined)).toBeUndefined();
  });

  it.each(MUTANTS)('is caught: %s', async (_, mutate, scenario) => {
    await expectCaught(mutate, scenario, (apply) => runScenario(scenario, apply));
  });
});

/**
 * Runs the real statemachines/training.asl.json with aws-local-stepfunctions. Registry tasks
 * call the real registry code (in-memory store); the other tasks are doubles that answer as the
 * services do, and record what they were sent.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { modelDocument } from '../../contracts/model';
import { parseConfig, resolveModel } from '../../contracts/platform-config';
import { type TrainingSubstitutionValues, trainingSubstitutions } from '../../contracts/state-machines';
import { type TuningConfig, tuningSchema } from '../../contracts/tuning';
import { dispatch } from '../../lambdas/registry/registry';
import { Registry } from '../../lambdas/shared/registry/registry-service';
import { type Definition, liftTaskTimeouts, offlineTrainingDefinition, withStateTimeouts } from '../../local/definitions';
import { resumedMachine } from '../../local/redrive';
import { InMemoryRegistryStore } from '../../testkit/in-memory-registry-store';
import { cdkJsonContext } from './cdk';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

const shipped = parseConfig(cdkJsonContext.mlops);
/** The churn model of cdk.json, as the state machine hands it to the functions. */
export const CHURN_DOCUMENT = modelDocument(resolveModel(shipped, shipped.models[0]!));

const SUBSTITUTION_VALUES: TrainingSubstitutionValues = {
  model: CHURN_DOCUMENT,
  training: resolveModel(shipped, shipped.models[0]!).training,
  jobNamePrefix: 'mlops-dev-churn',
  region: REGION,
  validateDataFunctionArn: fn('validate-data'),
  evaluateModelFunctionArn: fn('evaluate-model'),
  registryFunctionArn: fn('registry'),
  deployFunctionArn: fn('deploy'),
  alertTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alerts`,
  trainingRoleArn: `arn:aws:iam::${ACCOUNT}:role/training`,
  artifactsBucket: 'artifacts-bucket',
  artifactsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  approvalPolicy: 'optional',
  deployPollSeconds: 120,
  trainingCode: { bucket: `cdk-assets-${ACCOUNT}-${REGION}`, key: 'f00dfeed.tar.gz' },
};

/** The stack's substitutions for cdk.json's churn model, with this account's fake ARNs. */
export const TEST_SUBSTITUTIONS = trainingSubstitutions(SUBSTITUTION_VALUES);

/** A tuning section as cdk.json would hold it: a seeded random search over three hyperparameters. */
export const TEST_TUNING: TuningConfig = tuningSchema.parse({
  strategy: 'Random',
  maxJobs: 6,
  maxParallelJobs: 2,
  randomSeed: 7,
  parameters: {
    learning_rate: { type: 'continuous', min: 0.001, max: 0.1, scaling: 'Logarithmic' },
    hidden_units: { type: 'integer', min: 0, max: 32 },
    batch_size: { type: 'categorical', values: [64, 128, 256] },
  },
});

/** The substitutions of the same pipeline with `training.tuning` set (and any training setting changed). */
export function tuningSubstitutions(
  tuning: TuningConfig = TEST_TUNING,
  training: Partial<TrainingSubstitutionValues['training']> = {},
): Record<string, string> {
  return trainingSubstitutions({ ...SUBSTITUTION_VALUES, training: { ...SUBSTITUTION_VALUES.training, ...training, tuning } });
}

/** A task double: the state's input (a Lambda task's Payload), and the signal that aborts when the state times out. */
export type Handler = (input: any, signal?: AbortSignal) => Promise<unknown>;

export interface PipelineRun {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: any;
  readonly error?: string;
  readonly cause?: string;
  /** Names of the states entered, in order (each is one Standard state transition). */
  readonly statesEntered: string[];
  /** Every input a task double or the registry received, by state name. */
  readonly calls: Record<string, any[]>;
  readonly notifications: string[];
  /** The last top-level state entered and its input: where a redrive restarts. */
  readonly lastState?: { readonly name: string; readonly input: unknown };
}

/** Where and how a run starts: a redrive restarts its stopped state with that state's input and a higher redrive count. */
export interface RunStart {
  readonly startAt?: string;
  readonly redriveCount?: number;
}

/** The doubles of a run that behaves like a healthy service; tests override single states. */
export function healthyServices(): Record<string, Handler> {
  return {
    ValidateDataset: async (payload) => validSummary(payload.runId, payload.split?.holdoutUri ?? undefined),
    ListShards: async () => ({
      shards: ['part-0.csv', 'part-1.csv', 'part-2.csv'],
      referenceProfileUri: 's3://artifacts-bucket/profiles/churn/run-1/edges.profile.json',
    }),
    ProfileShard: async (payload) => ({
      profileUri: `s3://artifacts-bucket/profiles/${payload.runId}/${payload.datasetUri.split('/').pop()}.json`,
    }),
    MergeProfiles: async (payload) => ({
      ...validSummary(payload.runId),
      datasetEtag: '"etag-prefix"',
      rowCount: 30_000,
      split: splitSummary(payload.runId, 30_000),
    }),
    EvaluateModel: async () => ({
      passed: true,
      metrics: { accuracy: 0.91, f1: 0.86 },
      reasons: [],
      artifactSha256: 'd'.repeat(64),
      spotSavings: 0.7,
    }),
    DeployVersion: async () => ({ status: 'InService', deployment: { id: 'd-1' }, reason: null }),
    CheckDeployment: async () => ({ status: 'InService', deployment: { id: 'd-1' }, reason: null }),
  };
}

/** validate-data's summary of a valid single-object dataset of 10,000 rows. */
export function validSummary(runId: string, holdoutUri?: string) {
  return {
    valid: true,
    profileUri: `s3://artifacts-bucket/profiles/churn/${runId}/profile.json`,
    reportUri: `s3://artifacts-bucket/reports/churn/${runId}/validation-report.json`,
    datasetEtag: '"etag-1"',
    rowCount: 10_000,
    failureReason: null,
    split: splitSummary(runId, 10_000, holdoutUri),
  };
}

/** validate-data's split summary for a run of `rows` valid rows (70 / 10 / 20). */
export function splitSummary(runId: string, rows: number, holdoutUri?: string) {
  const uri = `s3://artifacts-bucket/splits/churn/${runId}/`;
  const part = (share: number) => ({ rows: Math.round(rows * share), sha256: 'e'.repeat(64) });
  return {
    uri,
    trainUri: `${uri}train/`,
    validationUri: `${uri}validation/`,
    configUri: `${uri}config/`,
    holdoutUri: holdoutUri ?? `${uri}holdout/`,
    seed: 42,
    unlabelledRows: 0,
    train: part(0.7),
    validation: part(0.1),
    ...(holdoutUri ? {} : { holdout: part(0.2) }),
  };
}

const SAGEMAKER_STATES = ['TrainOnSpot', 'TrainOnDemand', 'TuneHyperparameters', 'DescribeBestTrainingJob'];
const REGISTRY_STATES = ['RegisterRejected', 'RegisterVersion', 'PromoteVersion', 'RecordFailure', 'AwaitRedrive'];
const LAMBDA_DOUBLE_STATES = ['ValidateDataset', 'ListShards', 'MergeProfiles', 'EvaluateModel', 'DeployVersion', 'CheckDeployment'];

export class TrainingPipelineHarness {
  readonly store = new InMemoryRegistryStore();
  readonly registry = new Registry(this.store, { knownModels: ['churn'] });
  private readonly definition: Definition;
  /** A mutated definition runs unvalidated (see the constructor). */
  private readonly mutated: boolean;
  /** The TimeoutSeconds of each Task state, enforced around the doubles as the offline runtime does. */
  private readonly timeouts: ReadonlyMap<string, number>;

  /**
   * `mutate` changes the rendered definition in place before it runs (the ASL mutation tests apply
   * one small fault to the real file this way).
   */
  constructor(substitutions: Readonly<Record<string, string>> = {}, mutate?: (definition: any) => void) {
    const rendered = offlineTrainingDefinition({ ...TEST_SUBSTITUTIONS, ...substitutions });
    mutate?.(rendered);
    const { definition, timeouts } = liftTaskTimeouts(rendered);
    // A mutant that leaves a state unreachable is one Step Functions would refuse to create; it runs
    // unvalidated here so that an execution has to notice it.
    this.definition = definition;
    this.mutated = mutate !== undefined;
    this.timeouts = timeouts;
  }

  async run(input: unknown, executionName: string, overrides: Record<string, Handler> = {}, start: RunStart = {}): Promise<PipelineRun> {
    const services: Record<string, Handler> = {
      ...healthyServices(),
      TrainOnSpot: trainingJob(),
      TrainOnDemand: trainingJob(),
      TuneHyperparameters: tuningJob(),
      DescribeBestTrainingJob: describeTrainingJob(),
      ...overrides,
    };
    const calls: Record<string, any[]> = {};
    const notifications: string[] = [];
    const record = (state: string, value: unknown) => {
      calls[state] ??= [];
      calls[state].push(value);
    };
    const handlers: Record<string, Handler> = {};
    for (const state of LAMBDA_DOUBLE_STATES) {
      handlers[state] = async (input, signal) => {
        record(state, input.Payload);
        const handler = services[state];
        if (!handler) throw new Error(`no double for ${state}`);
        return { StatusCode: 200, Payload: await handler(input.Payload, signal) };
      };
    }
    // A .waitForTaskToken task's result is what SendTaskSuccess sends, not the Lambda response.
    handlers.WaitForApproval = async (input) => {
      record('WaitForApproval', input.Payload);
      if (!services.WaitForApproval) throw new Error('no double for WaitForApproval');
      return services.WaitForApproval(input.Payload);
    };
    handlers.ProfileShard = async (input) => {
      record('ProfileShard', input.Payload);
      return { StatusCode: 200, Payload: await services.ProfileShard!(input.Payload) };
    };
    for (const state of SAGEMAKER_STATES) {
      handlers[state] = async (input, signal) => {
        record(state, input);
        return services[state]!(input, signal);
      };
    }
    for (const state of REGISTRY_STATES) {
      handlers[state] = async (input) => {
        record(state, input.Payload);
        if (services[state]) return { StatusCode: 200, Payload: await services[state](input.Payload) };
        return { StatusCode: 200, Payload: JSON.parse(JSON.stringify(await dispatch(this.registry, input.Payload))) };
      };
    }
    handlers.NotifyFailure = async (input) => {
      record('NotifyFailure', input);
      notifications.push(input.Message);
      return { MessageId: `message-${notifications.length}` };
    };

    const machine = start.startAt
      ? resumedMachine(this.definition, start.startAt)
      : new StateMachine(this.definition as never, this.mutated ? { validationOptions: { noValidate: true } } : undefined);
    const execution = machine.run(input as Parameters<StateMachine['run']>[0], {
      context: {
        Execution: {
          Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:churn-training:${executionName}`,
          Name: executionName,
          Input: input,
          RedriveCount: start.redriveCount ?? 0,
        },
        Task: { Token: `token-${executionName}` },
      } as never,
      overrides: {
        taskResourceLocalHandlers: withStateTimeouts(handlers, this.timeouts) as never,
        waitTimeOverrides: { WaitForDeployment: 0, WaitBeforeRetraining: 0 },
        retryIntervalOverrides: Object.fromEntries(
          [...LAMBDA_DOUBLE_STATES, ...SAGEMAKER_STATES, ...REGISTRY_STATES, 'WaitForApproval', 'ProfileShard', 'NotifyFailure'].map(
            (state) => [state, 0],
          ),
        ),
      },
    });
    const statesEntered: string[] = [];
    let error: string | undefined;
    let cause: string | undefined;
    let lastState: { name: string; input: unknown } | undefined;
    const logs = (async () => {
      for await (const event of execution.eventLogs) {
        const entry = event as {
          type: string;
          state?: { name: string; input: unknown };
          Error?: string;
          Cause?: string;
          index?: number;
        };
        if (entry.type === 'StateEntered' && entry.state && entry.index === undefined) {
          statesEntered.push(entry.state.name);
          lastState = { name: entry.state.name, input: entry.state.input };
        }
        if (entry.type === 'ExecutionFailed') {
          error = entry.Error;
          cause = entry.Cause;
        }
      }
    })();
    try {
      const output = await execution.result;
      await logs;
      return { status: 'SUCCEEDED', output, statesEntered, calls, notifications, lastState };
    } catch {
      await logs;
      return { status: 'FAILED', error, cause, statesEntered, calls, notifications, lastState };
    }
  }
}

/** A createTrainingJob.sync double: answers like DescribeTrainingJob of a completed job. */
export function trainingJob(options: { billableSeconds?: number; trainingSeconds?: number } = {}): Handler {
  return async (input) => ({
    TrainingJobName: input.TrainingJobName,
    TrainingJobStatus: 'Completed',
    ModelArtifacts: { S3ModelArtifacts: `${input.OutputDataConfig.S3OutputPath}${input.TrainingJobName}/output/model.tar.gz` },
    BillableTimeInSeconds: options.billableSeconds ?? 300,
    TrainingTimeInSeconds: options.trainingSeconds ?? 1000,
  });
}

/** One training job a tuning double reports: its objective value (absent: it reported none) and tuned values. */
export interface TrialOutcome {
  readonly objective?: number;
  readonly tuned: Record<string, string>;
}

/**
 * A createHyperParameterTuningJob.sync double: answers like DescribeHyperParameterTuningJob of a
 * completed tuning job whose training jobs (`<tuning job>-00N-<8 hex>`) ended as `trials` say, the
 * best picked by the request's objective as SageMaker does.
 */
export function tuningJob(
  trials: readonly TrialOutcome[] = [
    { objective: 0.41, tuned: { learning_rate: '0.01', hidden_units: '8', batch_size: '128' } },
    { objective: 0.33, tuned: { learning_rate: '0.05', hidden_units: '16', batch_size: '64' } },
    { objective: 0.52, tuned: { learning_rate: '0.002', hidden_units: '0', batch_size: '256' } },
  ],
): Handler {
  return async (input) => {
    const name = input.HyperParameterTuningJobName as string;
    const objective = input.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective;
    const jobs = trials.map((trial, index) => ({
      ...trial,
      TrainingJobName: `${name}-${String(index + 1).padStart(3, '0')}-${(0xa1b2c3d4 + index).toString(16)}`,
    }));
    const scored = jobs.filter((job) => job.objective !== undefined);
    const sign = objective.Type === 'Minimize' ? 1 : -1;
    const best = [...scored].sort((a, b) => sign * (a.objective! - b.objective!))[0];
    return {
      HyperParameterTuningJobName: name,
      HyperParameterTuningJobArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:hyper-parameter-tuning-job/${name}`,
      HyperParameterTuningJobStatus: 'Completed',
      HyperParameterTuningJobConfig: input.HyperParameterTuningJobConfig,
      TrainingJobDefinition: input.TrainingJobDefinition,
      TrainingJobStatusCounters: { Completed: jobs.length, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 },
      ObjectiveStatusCounters: { Succeeded: scored.length, Pending: 0, Failed: jobs.length - scored.length },
      ...(best
        ? {
            BestTrainingJob: {
              TrainingJobName: best.TrainingJobName,
              TrainingJobStatus: 'Completed',
              TunedHyperParameters: best.tuned,
              FinalHyperParameterTuningJobObjectiveMetric: {
                Type: objective.Type,
                MetricName: objective.MetricName,
                Value: best.objective,
              },
              ObjectiveStatus: 'Succeeded',
            },
          }
        : {}),
    };
  };
}

/** An aws-sdk:sagemaker:describeTrainingJob double: a completed job's artifact under the pipeline's output path. */
export function describeTrainingJob(options: { billableSeconds?: number; trainingSeconds?: number } = {}): Handler {
  return async (input) => ({
    TrainingJobName: input.TrainingJobName,
    TrainingJobStatus: 'Completed',
    ModelArtifacts: { S3ModelArtifacts: `s3://artifacts-bucket/models/churn/${input.TrainingJobName}/output/model.tar.gz` },
    BillableTimeInSeconds: options.billableSeconds ?? 240,
    TrainingTimeInSeconds: options.trainingSeconds ?? 800,
  });
}

export function failure(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

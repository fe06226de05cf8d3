/**
 * The offline runtime: the platform's deployed artifacts, run on one machine. The training
 * pipeline is statemachines/training.asl.json with the substitutions the stack uses, executed
 * by aws-local-stepfunctions; its Lambda tasks call the real handlers in-process against s3rver
 * and DynamoDB Local on 127.0.0.1; SageMaker training runs the real training program
 * (local/sagemaker-training.ts), and a tuning job runs its training jobs with it
 * (local/sagemaker-tuning.ts); SNS publishes are kept in a list. `npm start`, the end-to-end
 * tests and the local API server all run on this.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { CANARY_METRICS } from '../contracts/metrics';
import { modelDocument } from '../contracts/model';
import { type PlatformConfig, type ResolvedModelConfig, resolveModel } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';
import { modelSchemaFor, type PredictResponse } from '../contracts/serving-schema';
import { trainingSubstitutions } from '../contracts/state-machines';
import { TRAINING_SOURCE_DIRECTORY, writeTrainingCodeArchive } from '../contracts/training-code';
import {
  type AlarmState,
  beginCanary,
  type CanaryAlarmReader,
  evaluateCanary,
  pollCanary,
} from '../lambdas/deploy-serverless/deploy-serverless';
import { evaluate } from '../lambdas/evaluate-model/handler';
import { createPredictHandler, predictorFromEnvironment } from '../lambdas/predict/predict';
import { dispatch } from '../lambdas/registry/registry';
import { NotFoundError, ValidationError } from '../lambdas/shared/errors';
import { DynamoDbRegistryStore } from '../lambdas/shared/registry/dynamodb-registry-store';
import { Registry } from '../lambdas/shared/registry/registry-service';
import { rolloutEventSchema } from '../lambdas/shared/rollout';
import { S3ObjectStore } from '../lambdas/shared/s3-object-store';
import { OnnxScorer } from '../lambdas/shared/serving/onnx-scorer';
import type { CanaryObservation, Predictor } from '../lambdas/shared/serving/predictor';
import { validateData } from '../lambdas/validate-data/handler';
import { offlineTrainingDefinition } from './definitions';
import { createRegistryTable, LOCAL_AWS, type RunningDynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { type RunningS3Local, startS3Local } from './s3-local';
import { LocalTrainingJobs, type TrainingJobRequest } from './sagemaker-training';
import { LocalTuningJobs, type TuningJobRequest } from './sagemaker-tuning';
import { seededRandom } from './sample-data';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = LOCAL_AWS.region;
export const LOCAL_BUCKETS = {
  datasets: 'local-datasets',
  artifacts: 'local-artifacts',
  capture: 'local-capture',
  /** Stands in for the CDK bootstrap bucket that holds the stack's assets (the training program). */
  assets: 'local-cdk-assets',
} as const;
const REGISTRY_TABLE = 'local-registry';

const functionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;

/** A Lambda handler as a Task state calls it: the Payload in, the function's result out. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;
/** What aws-local-stepfunctions hands a Task's local handler: the state's resolved Parameters. */
export type TaskInput = { Payload?: unknown } & Record<string, unknown>;

/** Wraps a Task state's local handler (fault injection in the end-to-end tests). */
export type TaskWrapper = (state: string, handler: (input: TaskInput) => Promise<unknown>) => (input: TaskInput) => Promise<unknown>;

/** Canary traffic as predict reports it, kept per model for the local canary alarms. */
interface CanaryRecord extends Pick<CanaryObservation, 'failed' | 'latencyMs'> {
  readonly at: number;
}

/**
 * Takes the place of Powertools Metrics in the offline predict function: keeps the three Canary*
 * values of each canary-routed request (CanaryRequests, CanaryFailedRequests, CanaryLatency, in
 * that order) for the local alarms, and writes no EMF lines.
 */
class LocalCanaryMetrics {
  private values: Record<string, number> = {};
  constructor(private readonly onRequest: (failed: boolean, latencyMs: number) => void) {}

  addMetric(name: string, _unit: string, value: number): void {
    this.values[name] = value;
    if (name === CANARY_METRICS.latency) {
      this.onRequest(this.values[CANARY_METRICS.failedRequests] === 1, value);
      this.values = {};
    }
  }

  hasStoredMetrics(): boolean {
    return false;
  }

  publishStoredMetrics(): void {}
}

/** CloudWatch's alarm period for the canary alarms (one minute). */
const CANARY_ALARM_PERIOD_MS = 60_000;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface StateVisit {
  readonly name: string;
  readonly enteredAt: number;
  exitedAt?: number;
}

export interface LocalExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly model: string;
  readonly input: unknown;
  readonly startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  readonly states: StateVisit[];
  readonly done: Promise<LocalExecution>;
}

export interface TimelineEvent {
  readonly execution: string;
  readonly kind: 'state' | 'note';
  readonly message: string;
  readonly at: number;
  readonly durationMs?: number;
}

export interface LocalPlatformOptions {
  readonly config: PlatformConfig;
  /** Fault injection: wraps the handlers of Task states by name. */
  readonly wrapTask?: TaskWrapper;
  /**
   * A candidate's bake time offline (the configured bakeTimeSeconds is minutes, for real traffic).
   * @default 3
   */
  readonly bakeSeconds?: number;
  /**
   * Milliseconds every Retry waits offline, instead of its backoff (seconds to minutes on AWS).
   * @default 200
   */
  readonly retryWaitMs?: number;
  /**
   * How often predict re-reads the registry offline (30 s in the function).
   * @default 1
   */
  readonly refreshSeconds?: number;
  /**
   * Seed of the capture sampling (which requests the predict function writes to the capture
   * bucket): Math.random in the function; seeded offline so a run's drift verdicts repeat.
   * @default 1
   */
  readonly captureSeed?: number;
  /** State-by-state progress and notes (spot interruptions, notifications). */
  readonly onEvent?: (event: TimelineEvent) => void;
  /** Seconds between deployment polls offline (the stack uses serving settings; minutes there). */
  readonly deployPollSeconds?: number;
  /** Keep each training job's /opt/ml folder after the job, for debugging (removed by default). */
  readonly keepJobWorkspaces?: boolean;
}

type StatesOf = Record<string, { Retry?: unknown; ItemProcessor?: { States: StatesOf } }>;

/** Every state with a Retry, those inside Map item processors included. */
function retryingStates(states: StatesOf): string[] {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Retry ? [name] : []),
    ...(state.ItemProcessor ? retryingStates(state.ItemProcessor.States) : []),
  ]);
}

const REGISTRY_STATES = ['RegisterRejected', 'RegisterVersion', 'PromoteVersion', 'RecordFailure'];
const VALIDATION_STATES = ['ValidateDataset', 'ListShards', 'MergeProfiles'];

export class LocalPlatform {
  readonly models: ReadonlyMap<string, ResolvedModelConfig>;
  readonly store: S3ObjectStore;
  readonly registry: Registry;
  readonly registryStore: DynamoDbRegistryStore;
  /** SageMaker training jobs, run with the real training program. */
  readonly trainingJobs: LocalTrainingJobs;
  /** SageMaker tuning jobs: random search over the same training jobs, at most two at once. */
  readonly tuningJobs: LocalTuningJobs;
  /** Where the training program's archive was uploaded (the stack's TrainingCode asset). */
  private trainingCode: { bucket: string; key: string } | undefined;
  readonly executions = new Map<string, LocalExecution>();
  readonly notifications: { subject: string; message: string; at: Date }[] = [];
  /** Approval task tokens waiting for a decision, by token. */
  readonly pendingApprovals = new Map<string, { resolve: (output: unknown) => void; reject: (error: Error) => void }>();
  private readonly machines = new Map<string, StateMachine>();
  /** Per model, the states of its definition that have a Retry. */
  private readonly retrying = new Map<string, string[]>();
  private readonly predictors = new Map<string, { predictor: Predictor; handle: ReturnType<typeof createPredictHandler> }>();
  private readonly canaryTraffic = new Map<string, CanaryRecord[]>();
  private readonly logger = new Logger({ serviceName: 'cdk-mlops-local', logLevel: 'ERROR' });

  private constructor(
    readonly options: LocalPlatformOptions,
    readonly s3: RunningS3Local,
    readonly dynamo: RunningDynamoDbLocal,
    readonly dynamoClient: DynamoDBClient,
  ) {
    const { config } = options;
    this.models = new Map(config.models.map((model) => [model.name, resolveModel(config, model)]));
    this.store = new S3ObjectStore(s3.client());
    this.registryStore = new DynamoDbRegistryStore(
      DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } }),
      REGISTRY_TABLE,
    );
    this.registry = new Registry(this.registryStore, { knownModels: [...this.models.keys()] });
    this.trainingJobs = new LocalTrainingJobs({
      store: this.store,
      onProgress: ({ job, message }) => this.note(job, message),
      ...(options.keepJobWorkspaces ? { keepWorkspaces: true } : {}),
    });
    this.tuningJobs = new LocalTuningJobs({
      trainingJobs: this.trainingJobs,
      onProgress: ({ job, message }) => this.note(job, message),
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
    });
  }

  static async start(options: LocalPlatformOptions): Promise<LocalPlatform> {
    const [s3, dynamo] = await Promise.all([startS3Local({ buckets: Object.values(LOCAL_BUCKETS) }), startDynamoDbLocal()]);
    const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint });
    await createRegistryTable(client, REGISTRY_TABLE);
    const platform = new LocalPlatform(options, s3, dynamo, client);
    await platform.uploadTrainingCode();
    return platform;
  }

  async stop(): Promise<void> {
    for (const pending of this.pendingApprovals.values()) pending.reject(new Error('the local platform stopped'));
    await this.flushCapture();
    this.dynamoClient.destroy();
    await Promise.all([this.s3.stop(), this.dynamo.stop()]);
  }

  /** Packs the training program as the stack's asset does and puts it where the code channel reads it. */
  private async uploadTrainingCode(): Promise<void> {
    const sources = new Set([...this.models.values()].map((model) => model.training.sourceDirectory));
    if (sources.size > 1)
      throw new ValidationError(
        'the offline runtime runs one training program; the configured models name different sourceDirectory folders',
      );
    const [sourceDirectory] = sources;
    const directory = mkdtempSync(path.join(tmpdir(), 'mlops-training-code-'));
    try {
      const source = sourceDirectory === undefined ? TRAINING_SOURCE_DIRECTORY : path.resolve(PROJECT_ROOT, sourceDirectory);
      const archive = readFileSync(writeTrainingCodeArchive(source, directory));
      const key = `${createHash('sha256').update(archive).digest('hex')}.tar.gz`;
      await this.store.put(LOCAL_BUCKETS.assets, key, archive, 'application/gzip');
      this.trainingCode = { bucket: LOCAL_BUCKETS.assets, key };
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }

  model(name: string): ResolvedModelConfig {
    const model = this.models.get(name);
    if (!model) throw new NotFoundError(`unknown model "${name}"; configured: ${[...this.models.keys()].join(', ')}`, { model: name });
    return model;
  }

  private note(execution: string, message: string): void {
    this.options.onEvent?.({ execution, kind: 'note', message, at: Date.now() });
  }

  /** The training state machine of a model: the ASL file with the stack's substitutions, local ARNs. */
  private machine(model: ResolvedModelConfig): StateMachine {
    const known = this.machines.get(model.name);
    if (known) return known;
    const substitutions = trainingSubstitutions({
      model: modelDocument(model),
      training: model.training,
      jobNamePrefix: `local-${model.name}`,
      region: LOCAL_REGION,
      validateDataFunctionArn: functionArn('validate-data'),
      evaluateModelFunctionArn: functionArn('evaluate-model'),
      registryFunctionArn: functionArn('registry'),
      deployFunctionArn: functionArn(`deploy-${model.name}`),
      alertTopicArn: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alerts`,
      trainingRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-training`,
      artifactsBucket: LOCAL_BUCKETS.artifacts,
      artifactsKeyArn: `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/00000000-0000-0000-0000-000000000000`,
      requireApproval: false,
      deployPollSeconds: this.options.deployPollSeconds ?? 1,
      trainingCode: this.trainingCode!,
    });
    const definition = offlineTrainingDefinition(substitutions);
    const machine = new StateMachine(definition as never);
    this.machines.set(model.name, machine);
    this.retrying.set(model.name, retryingStates(definition.States));
    return machine;
  }

  private taskHandlers(model: ResolvedModelConfig): Record<string, (input: TaskInput) => Promise<unknown>> {
    const lambda = (fn: LocalFunction) => async (input: TaskInput) => ({ StatusCode: 200, Payload: await fn(input.Payload) });
    const validation: LocalFunction = (payload) => validateData(payload, { store: this.store, artifactsBucket: LOCAL_BUCKETS.artifacts });
    const registry: LocalFunction = async (payload) => JSON.parse(JSON.stringify(await dispatch(this.registry, payload)));
    const evaluateModel: LocalFunction = (payload) =>
      evaluate(payload, {
        store: this.store,
        registry: this.registryStore,
        artifactsBucket: LOCAL_BUCKETS.artifacts,
        loadModel: (bytes) => OnnxScorer.create(bytes),
      });
    const deploy = this.deployFunction(model);
    const handlers: Record<string, (input: TaskInput) => Promise<unknown>> = {
      ProfileShard: lambda(validation),
      EvaluateModel: lambda(evaluateModel),
      DeployVersion: lambda(deploy),
      CheckDeployment: lambda(deploy),
      TrainOnSpot: (input) => this.trainingJobs.run(input as unknown as TrainingJobRequest),
      TrainOnDemand: (input) => this.trainingJobs.run(input as unknown as TrainingJobRequest),
      TuneHyperparameters: (input) => this.tuningJobs.run(input as unknown as TuningJobRequest),
      DescribeBestTrainingJob: async (input) => this.trainingJobs.describe(String(input.TrainingJobName)),
      NotifyFailure: async (input) => {
        const message = String(input.Message);
        this.notifications.push({ subject: String(input.Subject ?? ''), message, at: new Date() });
        this.note('sns', `notified: ${message}`);
        return { MessageId: randomUUID() };
      },
      // .waitForTaskToken: the registry keeps the token; the task completes when someone decides.
      WaitForApproval: async (input) => {
        await registry(input.Payload);
        const { taskToken } = input.Payload as { taskToken: string };
        return new Promise((resolve, reject) => this.pendingApprovals.set(taskToken, { resolve, reject }));
      },
    };
    for (const state of VALIDATION_STATES) handlers[state] = lambda(validation);
    for (const state of REGISTRY_STATES) handlers[state] = lambda(registry);
    const wrap = this.options.wrapTask;
    return wrap ? Object.fromEntries(Object.entries(handlers).map(([state, handler]) => [state, wrap(state, handler)])) : handlers;
  }

  /**
   * The model's deploy function: the serverless canary (lambdas/deploy-serverless) with its alarms
   * evaluated locally from predict's canary traffic, as CloudWatch would over the last minute.
   */
  private deployFunction(model: ResolvedModelConfig): LocalFunction {
    if (model.serving.mode !== 'serverless') {
      return async () => {
        throw new ValidationError(
          `model "${model.name}" is served by a SageMaker endpoint; the offline runtime serves serverless models only (SageMaker has no local emulator)`,
        );
      };
    }
    const alarms: CanaryAlarmReader = {
      readAlarms: async (): Promise<readonly AlarmState[]> => {
        const since = Date.now() - CANARY_ALARM_PERIOD_MS;
        const window = (this.canaryTraffic.get(model.name) ?? []).filter((record) => record.at >= since);
        return evaluateCanary(
          {
            requests: window.length,
            failedRequests: window.filter((record) => record.failed).length,
            latenciesMs: window.map((record) => record.latencyMs),
          },
          { latencyBudgetMs: model.serving.latencyBudgetMs },
        ).alarms;
      },
    };
    const dependencies = {
      modelName: model.name,
      canaryPercent: model.serving.canaryPercent,
      bakeTimeSeconds: this.options.bakeSeconds ?? 3,
      registryCacheSeconds: this.options.refreshSeconds ?? 1,
      versions: this.registryStore,
      registry: { transition: (request: Parameters<Registry['transition']>[0]) => this.registry.transition(request) },
      alarms,
    };
    return async (payload) => {
      const parsed = rolloutEventSchema.safeParse(payload);
      if (!parsed.success) throw new ValidationError(`invalid rollout request: ${parsed.error.message}`);
      if (parsed.data.action === 'begin') {
        // The local alarms watch this canary's requests only (a previous canary's minute would dilute its p99).
        this.canaryTraffic.get(model.name)?.splice(0);
      }
      const result =
        parsed.data.action === 'begin' ? await beginCanary(dependencies, parsed.data) : await pollCanary(dependencies, parsed.data);
      return JSON.parse(JSON.stringify(result));
    };
  }

  /** The model's predict function (lambdas/predict) as the ServerlessInference construct configures it. */
  private predictFunction(modelName: string) {
    const known = this.predictors.get(modelName);
    if (known) return known;
    const model = this.model(modelName);
    const traffic: CanaryRecord[] = [];
    this.canaryTraffic.set(modelName, traffic);
    // Stands in for the Canary* EMF metrics: each canary-routed request is recorded for the local alarms.
    const canaryMetrics = new LocalCanaryMetrics((failed, latencyMs) => traffic.push({ at: Date.now(), failed, latencyMs }));
    const environment = {
      TABLE_NAME: REGISTRY_TABLE,
      MODEL_SCHEMA: JSON.stringify(modelSchemaFor(model)),
      CAPTURE_BUCKET: LOCAL_BUCKETS.capture,
      CAPTURE_PERCENT: String(model.serving.dataCapturePercent),
      CANARY_PERCENT: String(model.serving.canaryPercent),
      MODEL_REFRESH_SECONDS: String(this.options.refreshSeconds ?? 1),
    };
    const metrics = canaryMetrics as unknown as Metrics;
    // Offline, a capture write waits on the local S3 as long as it takes (a busy machine must not drop
    // the rows the drift checks read); the sampling is seeded, so the same run captures the same requests.
    const predictor = predictorFromEnvironment(environment, this.registryStore, this.store, this.logger, metrics, {
      random: seededRandom(this.options.captureSeed ?? 1),
      writeTimeoutMs: 60_000,
    });
    // The function's own EMF metrics have no CloudWatch to go to offline.
    const functionMetrics = new LocalCanaryMetrics(() => {}) as unknown as Metrics;
    const entry = {
      predictor,
      handle: createPredictHandler({ predictor, logger: this.logger, metrics: functionMetrics, canaryMetrics: metrics }),
    };
    this.predictors.set(modelName, entry);
    return entry;
  }

  /** Invokes the predict function directly, as the API's predict route does. Throws ValidationError (400) on bad rows. */
  async predict(modelName: string, body: unknown): Promise<PredictResponse> {
    return (await this.predictFunction(modelName).handle(body, { awsRequestId: randomUUID() })) as PredictResponse;
  }

  /** Canary-routed requests seen so far for a model. */
  canaryRequests(modelName: string): readonly CanaryRecord[] {
    return this.canaryTraffic.get(modelName) ?? [];
  }

  /** Writes every buffered capture batch (predict flushes by size and age; drift checks read what is written). */
  async flushCapture(): Promise<void> {
    await Promise.all([...this.predictors.values()].map(({ predictor }) => predictor.flushCapture()));
  }

  /** Step Functions StartExecution: returns at once; `done` settles when the execution ends. */
  startTraining(modelName: string, input: Record<string, unknown>, name: string = randomUUID()): LocalExecution {
    const model = this.model(modelName);
    if (this.executions.has(name)) throw new ValidationError(`an execution named "${name}" already exists`);
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:local-${model.name}-training:${name}`;
    const run = this.machine(model).run(input as never, {
      context: { Execution: { Id: executionArn, Name: name, Input: input }, Task: { Token: `${name}:approval` } } as never,
      overrides: {
        taskResourceLocalHandlers: this.taskHandlers(model) as never,
        retryIntervalOverrides: Object.fromEntries(
          (this.retrying.get(model.name) ?? []).map((state) => [state, this.options.retryWaitMs ?? 200]),
        ),
        // The minute a failed training attempt waits before its next one, shortened like the retries.
        waitTimeOverrides: { WaitBeforeRetraining: this.options.retryWaitMs ?? 200 },
      },
    });
    const states: StateVisit[] = [];
    const execution: LocalExecution = {
      executionArn,
      name,
      model: model.name,
      input,
      startDate: new Date(),
      status: 'RUNNING',
      states,
      done: undefined as never,
    };
    const events = (async () => {
      for await (const event of run.eventLogs) {
        const entry = event as { type: string; state?: { name: string }; index?: number; Error?: string; Cause?: string };
        if (entry.index !== undefined || !entry.state) {
          if (entry.type === 'ExecutionFailed') {
            execution.error = entry.Error;
            execution.cause = entry.Cause;
          }
          continue;
        }
        if (entry.type === 'StateEntered') states.push({ name: entry.state.name, enteredAt: Date.now() });
        if (entry.type === 'StateExited' || entry.type === 'StateFailed') {
          const visit = [...states].reverse().find((state) => state.name === entry.state!.name && state.exitedAt === undefined);
          if (visit) {
            visit.exitedAt = Date.now();
            this.options.onEvent?.({
              execution: name,
              kind: 'state',
              message: visit.name,
              at: visit.exitedAt,
              durationMs: visit.exitedAt - visit.enteredAt,
            });
          }
        }
      }
    })();
    (execution as { done: Promise<LocalExecution> }).done = (async () => {
      try {
        execution.output = await run.result;
        execution.status = 'SUCCEEDED';
      } catch (error) {
        execution.status = 'FAILED';
        execution.error ??= (error as Error).name;
        execution.cause ??= (error as Error).message;
      }
      await events;
      execution.stopDate = new Date();
      return execution;
    })();
    this.executions.set(name, execution);
    this.executions.set(executionArn, execution);
    return execution;
  }

  /** SendTaskSuccess / SendTaskFailure for an approval token. */
  decideApprovalTask(taskToken: string, approved: boolean, output: unknown = {}): void {
    const pending = this.pendingApprovals.get(taskToken);
    if (!pending) throw new NotFoundError(`no execution waits for task token "${taskToken}"`, { taskToken });
    this.pendingApprovals.delete(taskToken);
    if (approved) pending.resolve(output);
    else {
      const error = new Error('the version was rejected by its approver');
      error.name = 'ApprovalRejected';
      pending.reject(error);
    }
  }

  /** The next spot training job is reclaimed this many times (a SIGTERM once it has checkpointed) and resumes from its checkpoints. */
  simulateSpotInterruptions(modelName: string, count: number): void {
    this.model(modelName);
    this.trainingJobs.interruptNextJob(count);
  }

  /** When the model's newest pipeline execution started (start-retraining's cool-down reads it). */
  newestExecutionStart(modelName: string): Date | undefined {
    const starts = [...new Set(this.executions.values())]
      .filter((execution) => execution.model === modelName)
      .map((execution) => execution.startDate.getTime());
    return starts.length === 0 ? undefined : new Date(Math.max(...starts));
  }

  /** Object keys under a prefix, in key order. */
  async keysUnder(bucket: string, prefix: string): Promise<string[]> {
    return (await this.store.list(bucket, prefix)).map((object) => object.key);
  }

  execution(id: string): LocalExecution {
    const execution = this.executions.get(id);
    if (!execution) throw new NotFoundError(`no execution "${id}"`, { executionId: id });
    return execution;
  }
}

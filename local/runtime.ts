/**
 * The offline runtime: the platform's deployed artifacts, run on one machine. The training
 * pipeline is statemachines/training.asl.json with the substitutions the stack uses, executed
 * by aws-local-stepfunctions; its Lambda tasks call the real handlers in-process against s3rver
 * and DynamoDB Local on 127.0.0.1; SageMaker training runs the real training program
 * (local/sagemaker-training.ts), and a tuning job runs its training jobs with it
 * (local/sagemaker-tuning.ts); SNS publishes are kept in a list. A model's batch inference pipeline
 * runs the same way (local/batch.ts). With a workspace, the registry,
 * the buckets and the executions outlast the process. `npm start`, the end-to-end tests and the
 * local API server all run on this.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import type { BatchRequest } from '../contracts/batch-inference';
import { DATASET_COMPLETION_MARKERS } from '../contracts/dataset';
import { CANARY_METRICS } from '../contracts/metrics';
import { modelDocument } from '../contracts/model';
import { modelCardConfigOf } from '../contracts/model-card';
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
import { ShadowScorer } from '../lambdas/shadow-score/shadow-score';
import { NotFoundError, ValidationError } from '../lambdas/shared/errors';
import { registryCardReader, type StoredModelCard, writeModelCard } from '../lambdas/shared/model-card';
import { DynamoDbRegistryStore } from '../lambdas/shared/registry/dynamodb-registry-store';
import { Registry } from '../lambdas/shared/registry/registry-service';
import { rolloutEventSchema } from '../lambdas/shared/rollout';
import { S3ObjectStore } from '../lambdas/shared/s3-object-store';
import { OnnxScorer } from '../lambdas/shared/serving/onnx-scorer';
import type { CanaryObservation, Predictor } from '../lambdas/shared/serving/predictor';
import { fetchServedModel } from '../lambdas/shared/serving/served-version';
import { createRetrainingHandler } from '../lambdas/start-retraining/handler';
import type { NewDataResult, TrainingRuns } from '../lambdas/start-retraining/start-retraining';
import { validateData } from '../lambdas/validate-data/handler';
import { LocalBatchPipeline } from './batch';
import { type LocalClock, systemClock } from './clock';
import {
  type Definition,
  liftTaskTimeouts,
  offlineTrainingDefinition,
  type PipelineKind,
  type StateHandler,
  withStateTimeouts,
} from './definitions';
import { type DeployedAssembly, DeployedIam } from './deployed-iam';
import { createRegistryTable, LOCAL_AWS, type RunningDynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { readProgressLine, withReadProgress } from './read-progress';
import { redriveStatusOf, resumedMachine } from './redrive';
import { LocalRegistryEvents } from './registry-events';
import { type RunningS3Local, startS3Local } from './s3-local';
import { LocalTrainingJobs, type TrainingJobRequest, type TrainingProgress } from './sagemaker-training';
import { LocalTuningJobs, type TuningJobRequest } from './sagemaker-tuning';
import { seededRandom } from './sample-data';
import { LocalShadowFunction, type ShadowRecord } from './shadow-function';
import type { Workspace } from './workspace';

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

/** A model's local state machine of a kind: `local-<model>-training`, `local-<model>-batch`. */
export function localStateMachineArn(modelName: string, kind: PipelineKind): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:local-${modelName}-${kind}`;
}

/** The state machine an execution ran on, from its ARN (`…:execution:<machine>:<name>` → `…:stateMachine:<machine>`). */
export function stateMachineArnOf(executionArn: string): string {
  return executionArn.slice(0, executionArn.lastIndexOf(':')).replace(':execution:', ':stateMachine:');
}

/** Which of its model's pipelines an execution ran. */
export function pipelineKindOf(execution: Pick<LocalExecution, 'executionArn'>): PipelineKind {
  return stateMachineArnOf(execution.executionArn).endsWith('-batch') ? 'batch' : 'training';
}

/** A Lambda handler as a Task state calls it: the Payload in, the function's result out. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;
/** What aws-local-stepfunctions hands a Task's local handler: the state's resolved Parameters. */
export type TaskInput = { Payload?: unknown } & Record<string, unknown>;

/** A Task state's local handler; the signal aborts when the state times out or the runtime stops. */
export type TaskHandler = (input: TaskInput, signal?: AbortSignal) => Promise<unknown>;

/** Wraps a Task state's local handler (fault injection in the end-to-end tests). */
export type TaskWrapper = (state: string, handler: TaskHandler) => TaskHandler;

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
/** WaitForDeployment's seconds offline (options.deployPollSeconds). */
const DEFAULT_DEPLOY_POLL_SECONDS = 1;

/** ABORTED: the runtime stopped while the execution ran (as StopExecution ends it on Step Functions). */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

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
  /** Times RedriveExecution restarted it (DescribeExecution's redriveCount). */
  redriveCount: number;
  redriveDate?: Date;
  /** The last top-level state entered and its input: where a redrive restarts. */
  lastState?: { readonly name: string; readonly input: unknown };
  /** The definition it runs (SHA-256 of the rendered ASL), as DescribeStateMachineForExecution's revision tells it. */
  readonly revision: string;
  /** Events recorded in its history so far, every attempt's. */
  historyEvents: number;
}

/** Figures of long work as it goes: a training job's epochs, a validation's rows. */
export interface ProgressFigures {
  /** Training: the epoch just finished, and of how many when the job's hyperparameters say. */
  readonly epoch?: number;
  readonly epochs?: number;
  /** Training: what the program printed for the epoch (train_loss, validation_loss, validation_accuracy, …). */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Validation: rows read by one call (a whole dataset or one shard), and how fast. */
  readonly rows?: number;
  readonly rowsPerSecond?: number;
  /** Validation of a large object, while it is read. */
  readonly bytesRead?: number;
  readonly totalBytes?: number;
}

export interface TimelineEvent {
  /** The execution's name; a training job's name for its program's output, `sns` for notifications. */
  readonly execution: string;
  readonly kind: 'state' | 'note' | 'progress';
  readonly message: string;
  readonly at: number;
  readonly durationMs?: number;
  readonly progress?: ProgressFigures;
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
   * A candidate's shadow window offline (the configured shadowSeconds is minutes, for real traffic).
   * @default 3
   */
  readonly shadowSeconds?: number;
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
  /**
   * The clock a rollout is judged by (shadow window, bake, canary alarms, predict's registry
   * refresh, the registry's timestamps, the polls between them): a TrafficPacedClock ends those
   * windows after their share of requests instead of their seconds of real time.
   * @default systemClock
   */
  readonly clock?: LocalClock;
  /** Keep each training job's /opt/ml folder after the job, for debugging (removed by default). */
  readonly keepJobWorkspaces?: boolean;
  /**
   * The synthesized stack (a cloud assembly) whose IAM every offline call is checked against: each
   * function's S3 and DynamoDB calls as its execution role, each pipeline task as the state
   * machine's role, each training job as its training role. A call the deployed role would be
   * denied fails offline with AWS's AccessDenied error. Unset: nothing is checked.
   */
  readonly deployed?: DeployedAssembly;
  /**
   * Where the registry (DynamoDB Local's database), the buckets (s3rver's folder) and the executions
   * are kept, so they outlast the process (`npm start`'s workspace); in memory and temporary folders,
   * gone on stop, when left out (the tests).
   */
  readonly workspace?: Workspace;
}

/** An execution as the workspace keeps it between runs (`executions.json`). */
interface StoredExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly model: string;
  readonly input: unknown;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly status: ExecutionStatus;
  readonly error?: string;
  readonly cause?: string;
  readonly states: StateVisit[];
  readonly redriveCount?: number;
  readonly redriveDate?: string;
  readonly lastState?: { readonly name: string; readonly input: unknown };
  readonly revision?: string;
  readonly historyEvents?: number;
}

/** A pipeline's local task handlers for one execution, and the states whose Retry waits are shortened offline. */
interface PipelineTasks {
  readonly handlers: Record<string, (input: TaskInput) => Promise<unknown>>;
  readonly retrying: readonly string[];
}

type StatesOf = Record<string, { Retry?: unknown; ItemProcessor?: { States: StatesOf } }>;

/** Every state with a Retry, those inside Map item processors included. */
function retryingStates(states: StatesOf): string[] {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Retry ? [name] : []),
    ...(state.ItemProcessor ? retryingStates(state.ItemProcessor.States) : []),
  ]);
}

const REGISTRY_STATES = ['RegisterRejected', 'RegisterVersion', 'PromoteVersion', 'RecordFailure', 'AwaitRedrive'];
const VALIDATION_STATES = ['ValidateDataset', 'ListShards', 'MergeProfiles'];

export class LocalPlatform {
  readonly models: ReadonlyMap<string, ResolvedModelConfig>;
  readonly store: S3ObjectStore;
  readonly registry: Registry;
  readonly registryStore: DynamoDbRegistryStore;
  /** Dataset drops delivered to start-retraining (training.trigger on-new-data), in delivery order. */
  readonly newDataDeliveries: Array<{ readonly key: string; readonly model: string; readonly result: NewDataResult }> = [];
  /** The registry's events as EventBridge would receive them (local/registry-events.ts). */
  readonly registryEvents: LocalRegistryEvents;
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
  /** Per model, its rendered definition and that definition's revision (SHA-256). */
  private readonly definitions = new Map<string, { definition: Definition; revision: string }>();
  /** Per model, its batch inference pipeline (made on its first run). */
  private readonly batchPipelines = new Map<string, LocalBatchPipeline>();
  /** Per model, the TimeoutSeconds its Task states declare (enforced around the handlers, naming the state). */
  private readonly timeouts = new Map<string, ReadonlyMap<string, number>>();
  /** Aborts every running task (training programs included) when the runtime stops. */
  private readonly stopping = new AbortController();
  /** Training jobs in flight: stop() waits for their programs to end and their folders to go. */
  private readonly runningJobs = new Set<Promise<unknown>>();
  /** Set by the first stop(); later calls wait for the same one. */
  private stopped: Promise<void> | undefined;
  /** Per model, the states of its definition that have a Retry. */
  private readonly retrying = new Map<string, string[]>();
  private readonly predictors = new Map<string, { predictor: Predictor; handle: ReturnType<typeof createPredictHandler> }>();
  private readonly canaryTraffic = new Map<string, CanaryRecord[]>();
  /** Per model, its shadow function (predict's mirrors, scored in the background). */
  private readonly shadowFunctions = new Map<string, LocalShadowFunction>();
  private readonly logger = new Logger({ serviceName: 'cdk-mlops-local', logLevel: 'ERROR' });
  /** The deployed stack's IAM, when calls are checked against it. */
  readonly iam: DeployedIam | undefined;
  /** Per model, the substitutions its local state machine was built with (local names and ARNs). */
  private readonly substitutions = new Map<string, Record<string, string>>();
  /** DynamoDB clients made for single functions, destroyed on stop. */
  private readonly functionClients: DynamoDBClient[] = [];
  /** Per function (and model), its guarded stores, made once. */
  private readonly functionStores = new Map<string, S3ObjectStore>();
  private readonly functionRegistryStores = new Map<string, DynamoDbRegistryStore>();

  /** What rollouts are judged by (options.clock). */
  readonly clock: LocalClock;
  /** The clock's time as a Date, for the registry's and the deploy function's `now`. */
  private readonly clockDate = () => new Date(this.clock.now());

  private constructor(
    readonly options: LocalPlatformOptions,
    readonly s3: RunningS3Local,
    readonly dynamo: RunningDynamoDbLocal,
    readonly dynamoClient: DynamoDBClient,
  ) {
    const { config } = options;
    this.clock = options.clock ?? systemClock;
    this.models = new Map(config.models.map((model) => [model.name, resolveModel(config, model)]));
    this.iam = options.deployed
      ? DeployedIam.load(options.deployed, {
          account: LOCAL_ACCOUNT,
          region: LOCAL_REGION,
          buckets: LOCAL_BUCKETS,
          registryTable: REGISTRY_TABLE,
        })
      : undefined;
    this.store = new S3ObjectStore(s3.client());
    this.registryStore = new DynamoDbRegistryStore(
      DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } }),
      REGISTRY_TABLE,
    );
    // The registry function's view of the table: what the API and the pipeline's registry states call.
    this.registry = new Registry(this.functionRegistryStore('registry'), {
      knownModels: [...this.models.keys()],
      // A canary's bake starts at the registry's timestamp of its move to Staging: the same clock.
      now: this.clockDate,
    });
    // The table's stream stand-in reads the whole table, as the event source mapping does.
    this.registryEvents = new LocalRegistryEvents(
      this.registryStore,
      [...this.models.keys()],
      options.workspace ? path.join(options.workspace.root, 'registry-events.jsonl') : undefined,
    );
    this.trainingJobs = new LocalTrainingJobs({
      store: this.store,
      onProgress: (progress) => this.trainingProgress(progress),
      ...(options.keepJobWorkspaces ? { keepWorkspaces: true } : {}),
    });
    this.tuningJobs = new LocalTuningJobs({
      trainingJobs: this.trainingJobs,
      onProgress: ({ job, message }) => this.note(job, message),
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
    });
    for (const stored of this.readStoredExecutions()) this.remember(stored);
    // The datasets bucket's object events, as EventBridge routes them to start-retraining.
    s3.onObjectCreated((bucket, key) => {
      this.deliverObjectCreated(bucket, key).catch((error: Error) =>
        this.logger.error('dataset drop delivery failed', { bucket, key, error: error.message }),
      );
    });
  }

  /**
   * Starts s3rver and DynamoDB Local (on the workspace's folders when there is one), creates the
   * registry table unless the workspace has it, and uploads the training program. Whatever started
   * is stopped again when a later step fails, so a failed start leaves no JVM behind.
   */
  static async start(options: LocalPlatformOptions): Promise<LocalPlatform> {
    const { workspace } = options;
    const [s3, dynamo] = await Promise.allSettled([
      startS3Local({ buckets: Object.values(LOCAL_BUCKETS), ...(workspace ? { directory: workspace.bucketsDirectory } : {}) }),
      startDynamoDbLocal(workspace ? { directory: workspace.registryDirectory } : {}),
    ]);
    if (s3.status === 'rejected' || dynamo.status === 'rejected') {
      await Promise.allSettled([s3.status === 'fulfilled' && s3.value.stop(), dynamo.status === 'fulfilled' && dynamo.value.stop()]);
      throw s3.status === 'rejected' ? s3.reason : (dynamo as PromiseRejectedResult).reason;
    }
    const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.value.endpoint });
    const platform = new LocalPlatform(options, s3.value, dynamo.value, client);
    try {
      await createRegistryTable(client, REGISTRY_TABLE);
      await platform.uploadTrainingCode();
    } catch (error) {
      await platform.stop();
      throw error;
    }
    return platform;
  }

  /**
   * Stops everything the runtime started: running tasks are aborted (a training program gets
   * SIGTERM, its job folder is removed), running executions are recorded as ABORTED, buffered
   * capture is written, then s3rver and the DynamoDB Local JVM stop. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopped = (async () => {
      const reason = new Error('the local platform stopped');
      for (const pending of this.pendingApprovals.values()) pending.reject(reason);
      this.stopping.abort(reason);
      await Promise.allSettled([...this.runningJobs]);
      for (const execution of new Set(this.executions.values())) {
        if (execution.status !== 'RUNNING') continue;
        execution.status = 'ABORTED';
        execution.stopDate = new Date();
        execution.error = 'LocalRuntimeStopped';
        execution.cause = 'the offline runtime stopped while the execution ran';
      }
      this.storeExecutions();
      await Promise.allSettled([...this.shadowFunctions.values()].map((shadow) => shadow.settled()));
      await this.flushCapture().catch(() => undefined);
      await this.registryEvents.pump().catch(() => undefined);
      this.dynamoClient.destroy();
      for (const client of this.functionClients) client.destroy();
      await Promise.allSettled([this.s3.stop(), this.dynamo.stop()]);
    })();
    return this.stopped;
  }

  /** Executions of earlier runs in the workspace; one that was running when its runtime went away is ABORTED. */
  private readStoredExecutions(): LocalExecution[] {
    const file = this.options.workspace?.executionsFile;
    if (!file || !existsSync(file)) return [];
    const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredExecution[];
    return stored.map(({ startDate, stopDate, redriveDate, ...entry }) => {
      const execution: LocalExecution = {
        ...entry,
        redriveCount: entry.redriveCount ?? 0,
        revision: entry.revision ?? 'unknown',
        historyEvents: entry.historyEvents ?? 0,
        startDate: new Date(startDate),
        ...(stopDate ? { stopDate: new Date(stopDate) } : {}),
        ...(redriveDate ? { redriveDate: new Date(redriveDate) } : {}),
        done: undefined as never,
      };
      if (execution.status === 'RUNNING') {
        execution.status = 'ABORTED';
        execution.error = 'LocalRuntimeStopped';
        execution.cause = 'the offline runtime stopped while the execution ran';
      }
      (execution as { done: Promise<LocalExecution> }).done = Promise.resolve(execution);
      return execution;
    });
  }

  private remember(execution: LocalExecution): void {
    this.executions.set(execution.name, execution);
    this.executions.set(execution.executionArn, execution);
  }

  /** Writes every execution to the workspace (nothing without one). */
  private storeExecutions(): void {
    const file = this.options.workspace?.executionsFile;
    if (!file) return;
    const stored: StoredExecution[] = [...new Set(this.executions.values())].map((execution) => ({
      executionArn: execution.executionArn,
      name: execution.name,
      model: execution.model,
      input: execution.input,
      startDate: execution.startDate.toISOString(),
      ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
      status: execution.status,
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      states: execution.states,
      redriveCount: execution.redriveCount,
      ...(execution.redriveDate ? { redriveDate: execution.redriveDate.toISOString() } : {}),
      ...(execution.lastState ? { lastState: execution.lastState } : {}),
      revision: execution.revision,
      historyEvents: execution.historyEvents,
    }));
    writeFileSync(file, `${JSON.stringify(stored, null, 1)}\n`);
  }

  /** A training program's output line: an epoch's losses become progress, other lines notes. */
  private trainingProgress(progress: TrainingProgress): void {
    if (progress.epoch === undefined) {
      this.note(progress.job, progress.message);
      return;
    }
    const of = progress.epochs === undefined ? '' : `/${progress.epochs}`;
    const figures = Object.entries(progress.metrics ?? {})
      .map(([name, value]) => `${name.replaceAll('_', ' ')} ${value.toFixed(4)}`)
      .join(', ');
    this.options.onEvent?.({
      execution: progress.job,
      kind: 'progress',
      message: `epoch ${progress.epoch}${of}: ${figures}`,
      at: Date.now(),
      progress: {
        epoch: progress.epoch,
        ...(progress.epochs === undefined ? {} : { epochs: progress.epochs }),
        ...(progress.metrics ? { metrics: progress.metrics } : {}),
      },
    });
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

  /**
   * The buckets as a deployed function reaches them (lambdas/<codeFolder>, for `modelName` when each
   * model has its own): every call checked against that function's role when IAM is enforced.
   */
  functionStore(codeFolder: string, modelName?: string): S3ObjectStore {
    if (!this.iam) return this.store;
    const key = `${codeFolder}:${modelName ?? ''}`;
    let store = this.functionStores.get(key);
    if (!store) {
      store = new S3ObjectStore(this.iam.guardFunctionClient(this.s3.client(), codeFolder, modelName));
      this.functionStores.set(key, store);
    }
    return store;
  }

  /** The registry table as a deployed function reaches it; see functionStore. */
  functionRegistryStore(codeFolder: string, modelName?: string): DynamoDbRegistryStore {
    if (!this.iam) return this.registryStore;
    const key = `${codeFolder}:${modelName ?? ''}`;
    const known = this.functionRegistryStores.get(key);
    if (known) return known;
    const client = this.iam.guardFunctionClient(
      new DynamoDBClient({ ...LOCAL_AWS, endpoint: this.dynamo.endpoint }),
      codeFolder,
      modelName,
    );
    this.functionClients.push(client);
    const store = new DynamoDbRegistryStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      REGISTRY_TABLE,
    );
    this.functionRegistryStores.set(key, store);
    return store;
  }

  /**
   * A version's model card, gathered and kept in the artifacts bucket as the API function does it
   * (GET /models/{name}/versions/{version}/card), through the API function's access.
   */
  async modelCard(modelName: string, version: number): Promise<StoredModelCard> {
    const model = this.model(modelName);
    return writeModelCard(
      {
        registry: registryCardReader(async (action, request) =>
          JSON.parse(JSON.stringify(await dispatch(this.registry, { action, ...request }))),
        ),
        store: this.functionStore('api'),
        artifactsBucket: LOCAL_BUCKETS.artifacts,
        config: modelCardConfigOf(model, this.options.config.owner),
      },
      modelName,
      version,
    );
  }

  /**
   * EventBridge's delivery of an S3 "Object Created" event of the datasets bucket to each model
   * whose `training.trigger` is on-new-data and whose rule matches (a completion marker directly
   * under `<model>/<version>/`): the real start-retraining handler, with the runtime's executions
   * as the pipeline's. Deliveries are kept in `newDataDeliveries`; call it again to deliver a duplicate.
   */
  async deliverObjectCreated(bucket: string, key: string): Promise<NewDataResult[]> {
    const results: NewDataResult[] = [];
    if (bucket !== LOCAL_BUCKETS.datasets) return results;
    for (const model of this.models.values()) {
      if (model.training.trigger !== 'on-new-data') continue;
      const matches = DATASET_COMPLETION_MARKERS.some((marker) =>
        new RegExp(`^${escapeRegExp(model.name)}/.*/${escapeRegExp(marker)}$`).test(key),
      );
      if (!matches) continue;
      const runs: TrainingRuns = {
        newestStart: async () => this.newestExecutionStart(model.name),
        start: async (name, input) => {
          if (this.executions.has(name)) return { alreadyExists: true };
          return { alreadyExists: false, executionArn: this.startTraining(model.name, JSON.parse(input), name).executionArn };
        },
      };
      const handle = createRetrainingHandler(
        runs,
        { keysUnder: (prefix) => this.keysUnder(LOCAL_BUCKETS.datasets, prefix) },
        { model: model.name, datasetsBucket: LOCAL_BUCKETS.datasets, cooldownHours: model.drift.retrainCooldownHours },
        this.logger,
      );
      const result = await handle({
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: { bucket: { name: bucket }, object: { key } },
      });
      this.newDataDeliveries.push({ key, model: model.name, result });
      results.push(result);
    }
    return results;
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
      approvalPolicy: model.approval,
      deployPollSeconds: this.options.deployPollSeconds ?? DEFAULT_DEPLOY_POLL_SECONDS,
      trainingCode: this.trainingCode!,
    });
    this.substitutions.set(model.name, substitutions);
    const { definition, timeouts } = liftTaskTimeouts(offlineTrainingDefinition(substitutions));
    const machine = new StateMachine(definition as never);
    this.machines.set(model.name, machine);
    this.definitions.set(model.name, {
      definition,
      revision: createHash('sha256').update(JSON.stringify(definition)).digest('hex'),
    });
    this.timeouts.set(model.name, timeouts);
    this.retrying.set(model.name, retryingStates(definition.States as StatesOf));
    return machine;
  }

  /** Runs one training job, so stop() can wait for its program and folder to be gone. */
  private runTrainingJob(input: TaskInput, signal?: AbortSignal): Promise<unknown> {
    const job = this.trainingJobs.run(input as unknown as TrainingJobRequest, signal);
    this.runningJobs.add(job);
    const forget = () => this.runningJobs.delete(job);
    job.then(forget, forget);
    return job;
  }

  /** validate-data, reporting each dataset's or shard's rows per second. */
  private async validation(execution: string, modelName: string, payload: unknown): Promise<unknown> {
    const started = performance.now();
    // A large object is read for minutes: its progress every few seconds, then the rows per second.
    const store = withReadProgress(this.functionStore('validate-data', modelName), (progress) =>
      this.options.onEvent?.({
        execution,
        kind: 'progress',
        message: readProgressLine(progress),
        at: Date.now(),
        progress: { bytesRead: progress.bytesRead, totalBytes: progress.totalBytes },
      }),
    );
    const result = await validateData(payload, { store, artifactsBucket: LOCAL_BUCKETS.artifacts, modelName });
    if ('rowCount' in result && result.mode !== 'merge') {
      const seconds = Math.max((performance.now() - started) / 1000, 0.001);
      const rowsPerSecond = Math.round(result.rowCount / seconds);
      const what = result.mode === 'shard' ? `shard ${result.datasetUri.slice(result.datasetUri.lastIndexOf('/') + 1)}` : 'dataset';
      this.options.onEvent?.({
        execution,
        kind: 'progress',
        message: `${what}: ${result.rowCount.toLocaleString('en')} rows validated in ${seconds.toFixed(1)} s (${rowsPerSecond.toLocaleString('en')} rows/s)`,
        at: Date.now(),
        progress: { rows: result.rowCount, rowsPerSecond },
      });
    }
    return result;
  }

  private taskHandlers(model: ResolvedModelConfig, execution: string): Record<string, (input: TaskInput) => Promise<unknown>> {
    const lambda = (fn: LocalFunction) => async (input: TaskInput) => ({ StatusCode: 200, Payload: await fn(input.Payload) });
    const validation: LocalFunction = (payload) => this.validation(execution, model.name, payload);
    const registry: LocalFunction = async (payload) => JSON.parse(JSON.stringify(await dispatch(this.registry, payload)));
    const evaluation = {
      store: this.functionStore('evaluate-model', model.name),
      registry: this.functionRegistryStore('evaluate-model', model.name),
      modelName: model.name,
    };
    const evaluateModel: LocalFunction = (payload) =>
      evaluate(payload, {
        ...evaluation,
        artifactsBucket: LOCAL_BUCKETS.artifacts,
        loadModel: (bytes) => OnnxScorer.create(bytes),
      });
    const deploy = this.deployFunction(model);
    const handlers: Record<string, TaskHandler> = {
      ProfileShard: lambda(validation),
      EvaluateModel: lambda(evaluateModel),
      DeployVersion: lambda(deploy),
      CheckDeployment: lambda(deploy),
      TrainOnSpot: (input, signal) => this.runTrainingJob(input, signal),
      TrainOnDemand: (input, signal) => this.runTrainingJob(input, signal),
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
    const iam = this.iam;
    const substitutions = this.substitutions.get(model.name) ?? {};
    return this.preparedHandlers(
      handlers,
      this.timeouts.get(model.name) ?? new Map(),
      iam ? (state, input) => iam.checkTask(model.name, substitutions, state, input) : undefined,
    );
  }

  /**
   * A pipeline's task handlers as the emulator gets them: each first checked (may the pipeline's role
   * make the call, and a training role what SageMaker does for it?), then wrapped for fault injection,
   * then held to its state's TimeoutSeconds and stopped with the runtime.
   */
  private preparedHandlers(
    handlers: Record<string, TaskHandler>,
    timeouts: ReadonlyMap<string, number>,
    check?: (state: string, input: TaskInput) => Promise<void>,
  ): Record<string, (input: TaskInput) => Promise<unknown>> {
    const checked: Record<string, TaskHandler> = check
      ? Object.fromEntries(
          Object.entries(handlers).map(([state, handler]) => [
            state,
            async (input: TaskInput, signal?: AbortSignal) => {
              await check(state, input);
              return handler(input, signal);
            },
          ]),
        )
      : handlers;
    const wrap = this.options.wrapTask;
    const wrapped = wrap ? Object.fromEntries(Object.entries(checked).map(([state, handler]) => [state, wrap(state, handler)])) : checked;
    return withStateTimeouts(wrapped as Record<string, StateHandler>, timeouts, this.stopping.signal) as Record<
      string,
      (input: TaskInput) => Promise<unknown>
    >;
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
        const since = this.clock.now() - CANARY_ALARM_PERIOD_MS;
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
    const { serving } = model;
    const shadow = this.shadowFunction(model.name);
    const dependencies = {
      modelName: model.name,
      canaryPercent: serving.canaryPercent,
      bakeTimeSeconds: this.options.bakeSeconds ?? 3,
      now: this.clockDate,
      registryCacheSeconds: this.options.refreshSeconds ?? 1,
      versions: this.functionRegistryStore('deploy-serverless', model.name),
      registry: {
        transition: (request: Parameters<Registry['transition']>[0]) => this.registry.transition(request),
        setRolloutPhase: (request: Parameters<Registry['setRolloutPhase']>[0]) => this.registry.setRolloutPhase(request),
      },
      alarms,
      // The Shadow* metrics GetMetricData would read: the shadow function's observations in the window.
      ...(serving.shadowPercent > 0
        ? {
            shadow: {
              percent: serving.shadowPercent,
              windowSeconds: this.options.shadowSeconds ?? 3,
              minRequests: serving.minShadowRequests,
              minAgreement: serving.minShadowAgreement,
              latencyBudgetMs: serving.latencyBudgetMs,
              metrics: {
                read: async ({ version, start, end }: { version: number; start: Date; end: Date }) => shadow.window(version, start, end),
              },
            },
          }
        : {}),
    };
    return async (payload) => {
      const parsed = rolloutEventSchema.safeParse(payload);
      if (!parsed.success) throw new ValidationError(`invalid rollout request: ${parsed.error.message}`);
      if (parsed.data.action === 'begin') {
        // The local alarms watch this canary's requests only (a previous canary's minute would dilute its p99).
        this.canaryTraffic.get(model.name)?.splice(0);
      }
      if (parsed.data.action === 'poll') {
        // WaitForDeployment, on the runtime's clock: aws-local-stepfunctions can only shorten a Wait
        // state to a fixed time (it is overridden to 0), so the poll sleeps its seconds here.
        await this.clock.sleep((this.options.deployPollSeconds ?? DEFAULT_DEPLOY_POLL_SECONDS) * 1000);
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
    const canaryMetrics = new LocalCanaryMetrics((failed, latencyMs) => traffic.push({ at: this.clock.now(), failed, latencyMs }));
    const environment = {
      TABLE_NAME: REGISTRY_TABLE,
      MODEL_SCHEMA: JSON.stringify(modelSchemaFor(model)),
      CAPTURE_BUCKET: LOCAL_BUCKETS.capture,
      CAPTURE_PERCENT: String(model.serving.dataCapturePercent),
      CAPTURE_COLUMNS: JSON.stringify(model.serving.captureColumns),
      CANARY_PERCENT: String(model.serving.canaryPercent),
      SHADOW_PERCENT: String(model.serving.shadowPercent),
      MODEL_REFRESH_SECONDS: String(this.options.refreshSeconds ?? 1),
    };
    const metrics = canaryMetrics as unknown as Metrics;
    // Offline, a capture write waits on the local S3 as long as it takes (a busy machine must not drop
    // the rows the drift checks read); the sampling is seeded, so the same run captures the same requests.
    const predictor = predictorFromEnvironment(
      environment,
      this.functionRegistryStore('predict', modelName),
      this.functionStore('predict', modelName),
      this.logger,
      metrics,
      {
        random: seededRandom(this.options.captureSeed ?? 1),
        writeTimeoutMs: 60_000,
        now: () => this.clock.now(),
      },
    );
    // The function's own EMF metrics have no CloudWatch to go to offline.
    const functionMetrics = new LocalCanaryMetrics(() => {}) as unknown as Metrics;
    const entry = {
      predictor,
      handle: createPredictHandler({
        predictor,
        logger: this.logger,
        metrics: functionMetrics,
        canaryMetrics: metrics,
        mirror: this.shadowFunction(modelName).invoke,
      }),
    };
    this.predictors.set(modelName, entry);
    return entry;
  }

  /** Invokes the predict function directly, as the API's predict route does. Throws ValidationError (400) on bad rows. */
  async predict(modelName: string, body: unknown): Promise<PredictResponse> {
    try {
      return (await this.predictFunction(modelName).handle(body, { awsRequestId: randomUUID() })) as PredictResponse;
    } finally {
      this.clock.served();
    }
  }

  /**
   * The model's shadow function (lambdas/shadow-score) as ServerlessInference configures it: its
   * registry reads and artifact downloads checked against its role when IAM is enforced.
   */
  private shadowFunction(modelName: string): LocalShadowFunction {
    const known = this.shadowFunctions.get(modelName);
    if (known) return known;
    const model = this.model(modelName);
    let scorer: ShadowScorer | undefined;
    const shadow = new LocalShadowFunction(
      () => {
        scorer ??= new ShadowScorer({
          schema: modelSchemaFor(model),
          registry: this.functionRegistryStore('shadow-score', modelName),
          tolerance: model.serving.shadowTolerance,
          loadScorer: async (version) => {
            const { modelBytes, trainingRanges } = await fetchServedModel(this.functionStore('shadow-score', modelName), version);
            return OnnxScorer.create(modelBytes, trainingRanges);
          },
        });
        return scorer;
      },
      (error) => this.logger.warn('the shadow function failed a mirrored request', error),
      () => this.clock.now(),
    );
    this.shadowFunctions.set(modelName, shadow);
    return shadow;
  }

  /** Mirrored requests the model's shadow function scored so far (the Shadow* metrics, offline). */
  shadowRequests(modelName: string): readonly ShadowRecord[] {
    return this.shadowFunction(modelName).observations();
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
    if (this.stopping.signal.aborted) throw new ValidationError('the local platform has stopped');
    // Step Functions keeps execution names unique per state machine (90 days after they end); the
    // workspace keeps the names of earlier runs, so a reused name cannot replay their idempotency keys.
    if (this.executions.has(name)) throw new ValidationError(`an execution named "${name}" already exists`);
    const executionArn = `${localStateMachineArn(model.name, 'training').replace(':stateMachine:', ':execution:')}:${name}`;
    const machine = this.machine(model);
    const execution: LocalExecution = {
      executionArn,
      name,
      model: model.name,
      input,
      startDate: new Date(),
      status: 'RUNNING',
      states: [],
      done: undefined as never,
      redriveCount: 0,
      revision: this.definitions.get(model.name)!.revision,
      historyEvents: 0,
    };
    this.follow(execution, machine, input, this.trainingTasks(model));
    this.remember(execution);
    this.storeExecutions();
    return execution;
  }

  /**
   * StartExecution on the model's batch inference pipeline (local/batch.ts): returns at once; `done`
   * settles when the run ends, its output the run's summary (the manifest). The input goes to the
   * state machine as StartExecution would pass it: the definition checks it.
   */
  startBatch(modelName: string, input: BatchRequest, name: string = randomUUID()): LocalExecution {
    const model = this.model(modelName);
    if (this.stopping.signal.aborted) throw new ValidationError('the local platform has stopped');
    if (this.executions.has(name)) throw new ValidationError(`an execution named "${name}" already exists`);
    const pipeline = this.batchPipeline(model);
    const execution: LocalExecution = {
      executionArn: `${localStateMachineArn(model.name, 'batch').replace(':stateMachine:', ':execution:')}:${name}`,
      name,
      model: model.name,
      input,
      startDate: new Date(),
      status: 'RUNNING',
      states: [],
      done: undefined as never,
      redriveCount: 0,
      revision: pipeline.revision,
      historyEvents: 0,
    };
    const iam = this.iam;
    const tasks = {
      handlers: this.preparedHandlers(
        pipeline.handlers(),
        pipeline.timeouts,
        iam ? (state, taskInput) => iam.checkTask(model.name, pipeline.substitutions, state, taskInput, 'batch') : undefined,
      ),
      retrying: retryingStates(pipeline.definition.States as StatesOf),
    };
    this.follow(execution, new StateMachine(pipeline.definition as never), input, tasks);
    this.remember(execution);
    this.storeExecutions();
    return execution;
  }

  private batchPipeline(model: ResolvedModelConfig): LocalBatchPipeline {
    let pipeline = this.batchPipelines.get(model.name);
    if (!pipeline) {
      pipeline = new LocalBatchPipeline({
        model,
        buckets: LOCAL_BUCKETS,
        functionStore: (codeFolder, modelName) => this.functionStore(codeFolder, modelName),
        functionRegistryStore: (codeFolder, modelName) => this.functionRegistryStore(codeFolder, modelName),
        registry: this.registry,
        functionArn,
        logger: this.logger,
      });
      this.batchPipelines.set(model.name, pipeline);
    }
    return pipeline;
  }

  /** The training pipeline's task handlers and retrying states for one execution. */
  private trainingTasks(model: ResolvedModelConfig): (execution: string) => PipelineTasks {
    return (execution) => ({ handlers: this.taskHandlers(model, execution), retrying: this.retrying.get(model.name) ?? [] });
  }

  /**
   * Step Functions RedriveExecution: restarts a stopped execution's last unsuccessful top-level
   * state with that state's recorded input, under the same ARN, one redrive later; the states
   * before it are not run again. Refused as Step Functions refuses (ExecutionNotRedrivable, with
   * DescribeExecution's reason). The runtime keeps the current definition only, so an execution
   * started on another definition (the configuration changed between runs) is refused too.
   */
  redrive(id: string, now: Date = new Date()): { redriveDate: Date } {
    const execution = this.execution(id);
    const model = this.model(execution.model);
    if (this.stopping.signal.aborted) throw new ValidationError('the local platform has stopped');
    const { redriveStatusReason } = redriveStatusOf(execution, now);
    if (redriveStatusReason) throw notRedrivable(redriveStatusReason);
    if (pipelineKindOf(execution) === 'batch') {
      throw notRedrivable('the offline runtime redrives training executions only; start the batch run again (its outputs are per run)');
    }
    this.machine(model);
    const current = this.definitions.get(model.name)!;
    if (execution.revision !== current.revision) {
      throw notRedrivable(
        'the execution ran another definition of the pipeline than the one the offline runtime has now (the configuration changed), and the runtime keeps the current definition only',
      );
    }
    if (!execution.lastState) throw notRedrivable('the execution recorded no state to restart');
    execution.status = 'RUNNING';
    execution.redriveCount += 1;
    execution.redriveDate = now;
    delete execution.stopDate;
    delete execution.error;
    delete execution.cause;
    delete execution.output;
    this.follow(
      execution,
      resumedMachine(current.definition, execution.lastState.name),
      execution.lastState.input,
      this.trainingTasks(model),
    );
    this.storeExecutions();
    return { redriveDate: now };
  }

  /** The revision (SHA-256) of a model's pipeline definition (training, unless `kind` says batch) as the runtime runs it now. */
  definitionRevision(modelName: string, kind: PipelineKind = 'training'): string {
    const model = this.model(modelName);
    if (kind === 'batch') return this.batchPipeline(model).revision;
    this.machine(model);
    return this.definitions.get(modelName)!.revision;
  }

  /**
   * Runs one attempt of an execution on `machine` from `input` with its pipeline's task handlers,
   * recording states, the last state's input and the outcome.
   */
  private follow(
    execution: LocalExecution,
    machine: StateMachine,
    input: unknown,
    tasks: PipelineTasks | ((execution: string) => PipelineTasks),
  ): void {
    const { name, states } = execution;
    const { handlers, retrying } = typeof tasks === 'function' ? tasks(name) : tasks;
    const attempt = execution.redriveCount;
    const run = machine.run(input as never, {
      context: {
        Execution: {
          Id: execution.executionArn,
          Name: name,
          Input: execution.input,
          RedriveCount: attempt,
          ...(execution.redriveDate ? { RedriveTime: execution.redriveDate.toISOString() } : {}),
        },
        // A redriven approval task is a new task: a token of its own.
        Task: { Token: attempt === 0 ? `${name}:approval` : `${name}:approval:${attempt}` },
      } as never,
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: Object.fromEntries(retrying.map((state) => [state, this.options.retryWaitMs ?? 200])),
        // The minute a failed training attempt waits before its next one, shortened like the retries.
        // WaitForDeployment sleeps on the runtime's clock in the deploy function's poll instead.
        waitTimeOverrides: { WaitBeforeRetraining: this.options.retryWaitMs ?? 200, WaitForDeployment: 0 },
      },
    });
    const events = (async () => {
      for await (const event of run.eventLogs) {
        execution.historyEvents++;
        const entry = event as { type: string; state?: { name: string; input: unknown }; index?: number; Error?: string; Cause?: string };
        if (entry.index !== undefined || !entry.state) {
          if (entry.type === 'ExecutionFailed') {
            execution.error = entry.Error;
            execution.cause = entry.Cause;
          }
          continue;
        }
        if (entry.type === 'StateEntered') {
          states.push({ name: entry.state.name, enteredAt: Date.now() });
          execution.lastState = { name: entry.state.name, input: entry.state.input };
        }
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
        if (execution.status === 'RUNNING') {
          execution.status = 'FAILED';
          execution.error ??= (error as Error).name;
          execution.cause ??= (error as Error).message;
        }
      }
      await events;
      execution.stopDate ??= new Date();
      this.storeExecutions();
      return execution;
    })();
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

  /** When the model's newest training pipeline execution started (start-retraining's cool-down reads it; batch runs are not training). */
  newestExecutionStart(modelName: string): Date | undefined {
    const starts = [...new Set(this.executions.values())]
      .filter((execution) => execution.model === modelName && pipelineKindOf(execution) === 'training')
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

/** Step Functions' refusal of a RedriveExecution (the error RedriveExecution throws). */
function notRedrivable(reason: string): Error {
  const error = new Error(reason);
  error.name = 'ExecutionNotRedrivable';
  return error;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

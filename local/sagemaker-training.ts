/**
 * SageMaker training jobs offline: the `createTrainingJob.sync` task of the state machine runs the
 * real training program (training/, or whatever the job's code channel holds) on this machine
 * through the SageMaker training toolkit's contract. The request is first held to SageMaker's
 * rules (contracts/sagemaker-rules.ts: names, hyperparameters, channels, VolumeKmsKeyId on
 * local-storage instances, spot limits) and job names are unique for the runtime's life, as they
 * are per account and Region; a refused request fails as SageMaker fails it.
 *
 * The job: /opt/ml laid out under a temp folder (channels downloaded from the local S3 as S3Prefix
 * does, hyperparameters.json, the checkpoints of CheckpointConfig.S3Uri synced in before and out
 * after), the code archive unpacked as the toolkit unpacks `sagemaker_submit_directory`, the entry
 * point run with Python and torch with the toolkit's SM_* environment and `--name value` arguments,
 * MaxRuntimeInSeconds enforced with SIGTERM; on success /opt/ml/model is packed as model.tar.gz under
 * the output path; on failure the program's /opt/ml/output/failure is the job's FailureReason.
 * A spot interruption is a real SIGTERM to the running program once it has checkpointed; the job
 * restarts from its checkpoints, as managed spot does. Billable seconds use a simulated discount.
 * The job's MetricDefinitions are read from the program's output as SageMaker reads its log (each
 * regex's first group, the last value kept: `FinalMetricDataList`), and a finished job can be
 * described again by name (DescribeTrainingJob), as a tuning job's best job is.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createTrainingJobProblems, type TrainingJobRequestFields, validationMessage } from '../contracts/sagemaker-rules';
import { CHANNEL_ROOT } from '../contracts/training-job';
import type { ObjectStore } from '../lambdas/shared/object-store';
import { parseS3Uri, s3Uri } from '../lambdas/shared/object-store';
import { packDirectory, unpackArchive } from './archives';

/** The createTrainingJob parameters the stand-in reads (SageMaker API field names). */
export interface TrainingJobRequest extends TrainingJobRequestFields {
  readonly TrainingJobName: string;
  readonly HyperParameters?: Readonly<Record<string, string>>;
  readonly InputDataConfig: readonly { ChannelName: string; DataSource: { S3DataSource: { S3Uri: string } } }[];
  readonly OutputDataConfig: { S3OutputPath: string; KmsKeyId?: string };
  readonly CheckpointConfig?: { S3Uri: string };
  readonly EnableManagedSpotTraining?: boolean;
  readonly StoppingCondition: { MaxRuntimeInSeconds: number; MaxWaitTimeInSeconds?: number };
}

/** What `createTrainingJob.sync` returns: DescribeTrainingJob of the finished job (the fields the pipeline reads). */
export interface TrainingJobDescription {
  readonly TrainingJobName: string;
  readonly TrainingJobStatus: 'Completed';
  readonly ModelArtifacts: { S3ModelArtifacts: string };
  readonly TrainingTimeInSeconds: number;
  readonly BillableTimeInSeconds: number;
  readonly EnableManagedSpotTraining: boolean;
  readonly HyperParameters: Readonly<Record<string, string>>;
  /** The last value of each metric definition found in the job's output. */
  readonly FinalMetricDataList: readonly { MetricName: string; Value: number }[];
}

/** The error a Step Functions SageMaker task fails with; `name` is what Catch and Retry match. */
export class SageMakerTaskError extends Error {
  constructor(
    override readonly name: 'SageMaker.AmazonSageMakerException' | 'States.TaskFailed' | 'SageMaker.ResourceNotFoundException',
    message: string,
  ) {
    super(message);
  }
}

/** A line of a running job (the program's output, an interruption); an epoch's line also parsed. */
export interface TrainingProgress {
  readonly job: string;
  readonly message: string;
  /** The epoch the line reports (`epoch=6 train_loss=… validation_loss=…`), and of how many when the job's hyperparameters say. */
  readonly epoch?: number;
  readonly epochs?: number;
  /** The `name=value` figures of that line. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** The training program's line per epoch: `epoch=6 train_loss=0.238510 validation_loss=0.229358 …`. */
const EPOCH_LINE = /^epoch=(\d+)((?:\s+[A-Za-z_][\w.]*=[-+\d.eE]+|\s+[A-Za-z_][\w.]*=(?:nan|inf|-inf))*)\s*$/;

/** The epoch and figures of a training program's epoch line, or undefined for any other line. */
export function parseEpochLine(line: string): { epoch: number; metrics: Record<string, number> } | undefined {
  const match = EPOCH_LINE.exec(line);
  if (!match) return undefined;
  const metrics: Record<string, number> = {};
  for (const pair of match[2]!.trim().split(/\s+/).filter(Boolean)) {
    const [name, value] = pair.split('=') as [string, string];
    metrics[name] = Number(value);
  }
  return { epoch: Number(match[1]), metrics };
}

export interface LocalTrainingOptions {
  readonly store: Pick<ObjectStore, 'list' | 'getBytes' | 'put'>;
  /** Progress of running jobs: the program's output (epochs parsed), interruptions. */
  readonly onProgress?: (event: TrainingProgress) => void;
  /** Share of the training time a spot job is not billed for, as its saving (simulated; SageMaker reports the real one). */
  readonly spotDiscount?: number;
  /** The Python with torch; found on PATH or at /usr/bin/python3 when omitted. */
  readonly python?: string;
  /** Left in place after each job (for debugging), instead of removed. */
  readonly keepWorkspaces?: boolean;
}

/** Exit code of a program ended by SIGTERM after saving its checkpoint (128 + 15). */
const EXIT_INTERRUPTED = 143;
/** SageMaker's grace between SIGTERM and SIGKILL when it stops a job. */
const STOP_GRACE_MS = 120_000;
/** The grace offline when a job is abandoned (its state timed out, the runtime stops): nobody waits for its output. */
const ABORT_GRACE_MS = 5000;

/** A Python 3 with torch: MLOPS_PYTHON, `python3` on PATH, or Debian's /usr/bin/python3 (python3-torch). */
export function findPython(preferred?: string): string {
  const candidates = [preferred, process.env.MLOPS_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (candidate): candidate is string => !!candidate,
  );
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) return candidate;
  }
  throw new Error(
    `no Python 3 with PyTorch found (tried ${candidates.join(', ')}); the offline training job runs the real training program: apt-get install -y python3-torch, or set MLOPS_PYTHON`,
  );
}

export class LocalTrainingJobs {
  /** Every job name used so far: SageMaker never reuses one, failed jobs included. */
  readonly jobNames = new Set<string>();
  /** The descriptions of the jobs that completed, by name. */
  private readonly completed = new Map<string, TrainingJobDescription>();
  private pendingInterruptions = 0;
  private python: string | undefined;

  constructor(private readonly options: LocalTrainingOptions) {}

  /** The next spot job is reclaimed this many times once it has checkpointed, and resumes each time. */
  interruptNextJob(count: number): void {
    this.pendingInterruptions = count;
  }

  /**
   * Runs a job to its end. An aborted `signal` (the state timed out, the runtime stops) stops it as
   * StopTrainingJob does: SIGTERM to the program, SIGKILL after a grace, the job folder removed;
   * the run rejects with the signal's reason.
   */
  async run(request: TrainingJobRequest, signal?: AbortSignal): Promise<TrainingJobDescription> {
    signal?.throwIfAborted();
    const problems = createTrainingJobProblems(request);
    if (this.jobNames.has(request.TrainingJobName)) {
      problems.push(
        `Training job names must be unique within an AWS account and Region, and a training job with this name already exists (${request.TrainingJobName})`,
      );
    }
    if (problems.length > 0) {
      throw new SageMakerTaskError(
        'SageMaker.AmazonSageMakerException',
        `${validationMessage(problems)} (Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException)`,
      );
    }
    this.jobNames.add(request.TrainingJobName);
    const spot = request.EnableManagedSpotTraining === true;
    let interruptions = spot ? this.pendingInterruptions : 0;
    this.pendingInterruptions = 0;
    const workspace = mkdtempSync(path.join(tmpdir(), `mlops-job-${request.TrainingJobName.slice(0, 40)}-`));
    const started = performance.now();
    const metrics = new MetricReader(request.AlgorithmSpecification?.MetricDefinitions ?? []);
    try {
      const layout = await this.prepare(request, workspace);
      for (;;) {
        signal?.throwIfAborted();
        const interruptAfterCheckpoint = interruptions > 0;
        const outcome = await this.runProgram(request, layout, interruptAfterCheckpoint, metrics, signal);
        if (outcome.kind === 'stopped') throw signal!.reason;
        await this.syncCheckpointsOut(request, layout.checkpoints);
        if (outcome.kind === 'interrupted' && interruptAfterCheckpoint) {
          interruptions--;
          this.progress(request, `spot capacity reclaimed (SIGTERM after a checkpoint); the job resumes from its checkpoints`);
          rmSync(layout.checkpoints, { recursive: true, force: true });
          await this.syncCheckpointsIn(request, layout.checkpoints);
          continue;
        }
        if (outcome.kind === 'failed') this.fail(request, outcome.reason);
        if (outcome.kind === 'interrupted') this.fail(request, 'InternalServerError: the training program was stopped');
        break;
      }
      const trainingSeconds = Math.max(1, Math.round((performance.now() - started) / 1000));
      const artifactUri = await this.uploadModel(request, layout.model);
      const discount = this.options.spotDiscount ?? 0.7;
      const description: TrainingJobDescription = {
        TrainingJobName: request.TrainingJobName,
        TrainingJobStatus: 'Completed',
        ModelArtifacts: { S3ModelArtifacts: artifactUri },
        TrainingTimeInSeconds: trainingSeconds,
        BillableTimeInSeconds: spot ? Math.max(1, Math.round(trainingSeconds * (1 - discount))) : trainingSeconds,
        EnableManagedSpotTraining: spot,
        HyperParameters: request.HyperParameters ?? {},
        FinalMetricDataList: metrics.final(),
      };
      this.completed.set(request.TrainingJobName, description);
      return description;
    } finally {
      if (!this.options.keepWorkspaces) rmSync(workspace, { recursive: true, force: true });
    }
  }

  /** DescribeTrainingJob of a completed job (the offline runtime keeps no failed ones to describe). */
  describe(trainingJobName: string): TrainingJobDescription {
    const description = this.completed.get(trainingJobName);
    if (!description) {
      throw new SageMakerTaskError(
        'SageMaker.ResourceNotFoundException',
        `Requested resource not found: training job ${trainingJobName} (Service: SageMaker, Status Code: 400)`,
      );
    }
    return description;
  }

  /** /opt/ml under the workspace: channels, hyperparameters, checkpoints, the unpacked code. */
  private async prepare(request: TrainingJobRequest, workspace: string) {
    const ml = path.join(workspace, 'opt', 'ml');
    const input = path.join(ml, 'input');
    const layout = {
      ml,
      input,
      model: path.join(ml, 'model'),
      output: path.join(ml, 'output'),
      checkpoints: path.join(ml, 'checkpoints'),
      code: path.join(ml, 'code'),
      channels: {} as Record<string, string>,
    };
    for (const directory of [layout.model, layout.output, path.join(input, 'config'), layout.code])
      mkdirSync(directory, { recursive: true });
    for (const channel of request.InputDataConfig) {
      const directory = path.join(input, 'data', channel.ChannelName);
      await this.download(channel.DataSource.S3DataSource.S3Uri, directory, request);
      layout.channels[channel.ChannelName] = directory;
    }
    writeFileSync(path.join(input, 'config', 'hyperparameters.json'), JSON.stringify(request.HyperParameters ?? {}));
    writeFileSync(
      path.join(input, 'config', 'inputdataconfig.json'),
      JSON.stringify(Object.fromEntries(request.InputDataConfig.map((channel) => [channel.ChannelName, { TrainingInputMode: 'File' }]))),
    );
    await this.syncCheckpointsIn(request, layout.checkpoints);
    const submitDirectory = request.HyperParameters?.sagemaker_submit_directory;
    if (submitDirectory) {
      // The toolkit resolves the code channel's path inside the container; here it lives under the workspace.
      const local = submitDirectory.startsWith(`${CHANNEL_ROOT}/`)
        ? path.join(input, 'data', submitDirectory.slice(CHANNEL_ROOT.length + 1))
        : undefined;
      if (!local || !existsSync(local))
        this.fail(request, `ClientError: sagemaker_submit_directory ${submitDirectory} was not found in the job's input channels`);
      if (statSync(local).isDirectory()) cpSync(local, layout.code, { recursive: true });
      else await unpackArchive(local, layout.code);
    }
    return layout;
  }

  /** S3Prefix: every object under the prefix, named by its key after the prefix's last "/". */
  private async download(uri: string, directory: string, request: TrainingJobRequest): Promise<void> {
    const { bucket, key } = parseS3Uri(uri, 'S3Uri');
    const base = key.slice(0, key.lastIndexOf('/') + 1);
    const objects = await this.options.store.list(bucket, key);
    if (objects.length === 0) {
      this.fail(
        request,
        `ClientError: No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, and that the role has read access`,
      );
    }
    for (const object of objects) {
      const file = path.join(directory, ...object.key.slice(base.length).split('/'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, await this.options.store.getBytes(bucket, object.key));
    }
  }

  private async syncCheckpointsIn(request: TrainingJobRequest, directory: string): Promise<void> {
    mkdirSync(directory, { recursive: true });
    const uri = request.CheckpointConfig?.S3Uri;
    if (!uri) return;
    const { bucket, key } = parseS3Uri(uri.endsWith('/') ? uri : `${uri}/`, 'CheckpointConfig.S3Uri');
    for (const object of await this.options.store.list(bucket, key)) {
      const file = path.join(directory, ...object.key.slice(key.length).split('/'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, await this.options.store.getBytes(bucket, object.key));
    }
  }

  private async syncCheckpointsOut(request: TrainingJobRequest, directory: string): Promise<void> {
    const uri = request.CheckpointConfig?.S3Uri;
    if (!uri || !existsSync(directory)) return;
    const { bucket, key } = parseS3Uri(uri.endsWith('/') ? uri : `${uri}/`, 'CheckpointConfig.S3Uri');
    for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const relative = path.relative(directory, file).split(path.sep).join('/');
      await this.options.store.put(bucket, `${key}${relative}`, readFileSync(file), 'application/octet-stream');
    }
  }

  private runProgram(
    request: TrainingJobRequest,
    layout: Awaited<ReturnType<LocalTrainingJobs['prepare']>>,
    interruptAfterCheckpoint: boolean,
    metrics: MetricReader,
    signal?: AbortSignal,
  ): Promise<{ kind: 'completed' } | { kind: 'interrupted' } | { kind: 'stopped' } | { kind: 'failed'; reason: string }> {
    const hyperparameters = request.HyperParameters ?? {};
    const program = hyperparameters.sagemaker_program;
    if (!program) {
      return Promise.resolve({
        kind: 'failed',
        reason:
          'ClientError: the offline runtime runs script-mode jobs only (HyperParameters.sagemaker_program); bring-your-own images run on SageMaker',
      });
    }
    this.python ??= findPython(this.options.python);
    const userArguments = Object.entries(hyperparameters)
      .filter(([name]) => !name.startsWith('sagemaker_'))
      .flatMap(([name, value]) => [`--${name}`, value]);
    const environment: NodeJS.ProcessEnv = {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      SM_MODEL_DIR: layout.model,
      SM_OUTPUT_DIR: layout.output,
      SM_OUTPUT_DATA_DIR: path.join(layout.output, 'data'),
      SM_INPUT_DIR: layout.input,
      SM_CHECKPOINT_DIR: layout.checkpoints,
      SM_NUM_GPUS: '0',
      SM_CHANNELS: JSON.stringify(Object.keys(layout.channels).sort()),
      SM_HPS: JSON.stringify(Object.fromEntries(Object.entries(hyperparameters).filter(([name]) => !name.startsWith('sagemaker_')))),
      SM_TRAINING_ENV: JSON.stringify({ job_name: request.TrainingJobName }),
      // Set by SageMaker in every training container.
      TRAINING_JOB_NAME: request.TrainingJobName,
      ...Object.fromEntries(Object.entries(layout.channels).map(([name, directory]) => [`SM_CHANNEL_${name.toUpperCase()}`, directory])),
    };
    return new Promise((resolve) => {
      const child: ChildProcess = spawn(this.python!, [path.join(layout.code, program), ...userArguments], {
        cwd: layout.code,
        env: environment,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let interrupted = false;
      let stderr = '';
      const interrupt = () => {
        if (interrupted || !interruptAfterCheckpoint) return;
        interrupted = true;
        child.kill('SIGTERM');
      };
      const started = Date.now();
      const epochs = Number(request.HyperParameters?.epochs);
      const onLine = (line: string) => {
        const epoch = parseEpochLine(line);
        this.options.onProgress?.({
          job: request.TrainingJobName,
          message: line,
          ...(epoch ? { epoch: epoch.epoch, metrics: epoch.metrics } : {}),
          ...(epoch && Number.isInteger(epochs) && epochs > 0 ? { epochs } : {}),
        });
        metrics.read(line);
        // The program checkpoints every checkpoint_every epochs; reclaim the instance after the first one it writes
        // (anywhere under the folder: a tuning job's training job checkpoints in a folder named after itself).
        if (interruptAfterCheckpoint && hasCheckpointSince(layout.checkpoints, started)) interrupt();
      };
      let stopped = false;
      const stop = () => {
        stopped = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), ABORT_GRACE_MS).unref();
      };
      signal?.addEventListener('abort', stop, { once: true });
      // A chunk may end inside a line; the rest of it comes with the next chunk (a metric's value must not be cut).
      let partial = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        const complete = text.split('\n');
        partial = complete.pop() ?? '';
        for (const line of complete) if (line.trim()) onLine(line.trim());
      });
      child.stdout!.on('end', () => {
        if (partial.trim()) onLine(partial.trim());
        partial = '';
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      });
      const runtimeLimit = setTimeout(() => {
        this.progress(request, `MaxRuntimeInSeconds (${request.StoppingCondition.MaxRuntimeInSeconds} s) reached; stopping the job`);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS).unref();
      }, request.StoppingCondition.MaxRuntimeInSeconds * 1000);
      child.on('error', (error) => {
        clearTimeout(runtimeLimit);
        signal?.removeEventListener('abort', stop);
        resolve({ kind: 'failed', reason: `InternalServerError: cannot start the training program: ${error.message}` });
      });
      child.on('close', (code) => {
        clearTimeout(runtimeLimit);
        signal?.removeEventListener('abort', stop);
        if (stopped) return resolve({ kind: 'stopped' });
        if (code === 0) return resolve({ kind: 'completed' });
        if (interrupted && code === EXIT_INTERRUPTED) return resolve({ kind: 'interrupted' });
        const failureFile = path.join(layout.output, 'failure');
        const failure = existsSync(failureFile) ? readFileSync(failureFile, 'utf8').trim() : (stderr.trim().split('\n').at(-1) ?? '');
        resolve({ kind: 'failed', reason: `AlgorithmError: ${failure || `the training program exited with code ${code}`}` });
      });
    });
  }

  private async uploadModel(request: TrainingJobRequest, modelDirectory: string): Promise<string> {
    if (!existsSync(path.join(modelDirectory, 'model.onnx'))) {
      this.fail(request, 'AlgorithmError: the training program wrote no model.onnx to /opt/ml/model (the platform serves ONNX)');
    }
    const output = parseS3Uri(request.OutputDataConfig.S3OutputPath, 'OutputDataConfig.S3OutputPath');
    const prefix = output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`;
    const key = `${prefix}${request.TrainingJobName}/output/model.tar.gz`;
    await this.options.store.put(output.bucket, key, await packDirectory(modelDirectory), 'application/gzip');
    return s3Uri(output.bucket, key);
  }

  private progress(request: TrainingJobRequest, message: string): void {
    this.options.onProgress?.({ job: request.TrainingJobName, message });
  }

  /** A failed job, as the .sync task reports it: States.TaskFailed with DescribeTrainingJob in the cause. */
  private fail(request: TrainingJobRequest, reason: string): never {
    throw new SageMakerTaskError(
      'States.TaskFailed',
      JSON.stringify({ TrainingJobName: request.TrainingJobName, TrainingJobStatus: 'Failed', FailureReason: reason }),
    );
  }
}

/** Whether the program wrote a (non-hidden, so complete) file under the checkpoint folder since `since`. */
function hasCheckpointSince(directory: string, since: number): boolean {
  return readdirSync(directory, { recursive: true, withFileTypes: true }).some(
    (entry) => entry.isFile() && !entry.name.startsWith('.') && statSync(path.join(entry.parentPath, entry.name)).mtimeMs >= since,
  );
}

/** MetricDefinitions applied to a job's output as SageMaker applies them to its log: the last value of each wins. */
class MetricReader {
  private readonly values = new Map<string, number>();
  private readonly definitions: readonly { name: string; pattern: RegExp }[];

  constructor(definitions: readonly { Name?: unknown; Regex?: unknown }[]) {
    this.definitions = definitions.flatMap((definition) =>
      typeof definition.Name === 'string' && typeof definition.Regex === 'string'
        ? [{ name: definition.Name, pattern: new RegExp(definition.Regex) }]
        : [],
    );
  }

  read(line: string): void {
    for (const { name, pattern } of this.definitions) {
      const match = pattern.exec(line);
      const value = match ? Number(match[1]) : Number.NaN;
      if (Number.isFinite(value)) this.values.set(name, value);
    }
  }

  final(): { MetricName: string; Value: number }[] {
    return [...this.values].map(([MetricName, Value]) => ({ MetricName, Value }));
  }
}

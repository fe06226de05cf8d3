/**
 * SageMaker automatic model tuning offline: the `createHyperParameterTuningJob.sync` task of the
 * state machine runs the tuning job's training jobs with the real training program, through the
 * same stand-in as one training job (local/sagemaker-training.ts). The request is first held to
 * SageMaker's rules (contracts/sagemaker-tuning-rules.ts) and tuning job names are unique for the
 * runtime's life; a refused request fails as SageMaker fails it.
 *
 * The search is random whatever the strategy (SageMaker's Bayesian optimisation has no offline
 * equivalent; random search honours the same ranges and scaling), seeded by `RandomSeed` or by
 * the tuning job's name, so the same request tries the same values. At most MaxParallelTrainingJobs
 * training jobs run at once, and never more than this machine's limit (2). Each training job is
 * named as SageMaker names them (`<tuning job>-<NNN>-<8 hex>`), gets the static hyperparameters,
 * its sampled values and `_tuning_objective_metric`, and is scored by the objective metric's last
 * value in its output, read with the job's MetricDefinitions. The answer is what
 * DescribeHyperParameterTuningJob returns: Completed with the best training job, or Failed when no
 * training job completed.
 */
import { validationMessage } from '../contracts/sagemaker-rules';
import { createHyperParameterTuningJobProblems, type TuningJobRequestFields } from '../contracts/sagemaker-tuning-rules';
import { decimalString, TUNING_OBJECTIVE_HYPERPARAMETER } from '../contracts/tuning';
import { SageMakerTaskError, type TrainingJobDescription, type TrainingJobRequest } from './sagemaker-training';
import { seededRandom } from './sample-data';

interface NumericRange {
  readonly Name: string;
  readonly MinValue: string;
  readonly MaxValue: string;
  readonly ScalingType?: 'Auto' | 'Linear' | 'Logarithmic' | 'ReverseLogarithmic';
}

/** `HyperParameterTuningJobConfig.ParameterRanges` (SageMaker API field names). */
export interface ParameterRanges {
  readonly IntegerParameterRanges?: readonly NumericRange[];
  readonly ContinuousParameterRanges?: readonly NumericRange[];
  readonly CategoricalParameterRanges?: readonly { Name: string; Values: readonly string[] }[];
}

/** The createHyperParameterTuningJob parameters the stand-in reads. */
export interface TuningJobRequest extends TuningJobRequestFields {
  readonly HyperParameterTuningJobName: string;
  readonly HyperParameterTuningJobConfig: {
    readonly Strategy: string;
    readonly HyperParameterTuningJobObjective: { Type: 'Minimize' | 'Maximize'; MetricName: string };
    readonly ResourceLimits: { MaxNumberOfTrainingJobs: number; MaxParallelTrainingJobs: number; MaxRuntimeInSeconds?: number };
    readonly ParameterRanges: ParameterRanges;
    readonly RandomSeed?: number;
  };
  readonly TrainingJobDefinition: Omit<TrainingJobRequest, 'TrainingJobName' | 'HyperParameters' | 'Tags'> & {
    readonly StaticHyperParameters?: Readonly<Record<string, string>>;
  };
}

/** A training job of the tuning job, as DescribeHyperParameterTuningJob's BestTrainingJob describes it. */
export interface TuningTrainingJobSummary {
  readonly TrainingJobName: string;
  readonly TrainingJobArn: string;
  readonly TrainingJobStatus: 'Completed';
  readonly TunedHyperParameters: Readonly<Record<string, string>>;
  readonly FinalHyperParameterTuningJobObjectiveMetric: { Type: string; MetricName: string; Value: number };
  readonly ObjectiveStatus: 'Succeeded';
}

/** What `createHyperParameterTuningJob.sync` returns: DescribeHyperParameterTuningJob of the finished tuning job. */
export interface TuningJobDescription {
  readonly HyperParameterTuningJobName: string;
  readonly HyperParameterTuningJobArn: string;
  readonly HyperParameterTuningJobStatus: 'Completed';
  readonly HyperParameterTuningJobConfig: TuningJobRequest['HyperParameterTuningJobConfig'];
  readonly TrainingJobDefinition: TuningJobRequest['TrainingJobDefinition'];
  readonly TrainingJobStatusCounters: Record<'Completed' | 'InProgress' | 'RetryableError' | 'NonRetryableError' | 'Stopped', number>;
  readonly ObjectiveStatusCounters: Record<'Succeeded' | 'Pending' | 'Failed', number>;
  readonly BestTrainingJob?: TuningTrainingJobSummary;
}

/** Runs one training job (LocalTrainingJobs, or a double in tests). */
export interface TrainingJobRunner {
  run(request: TrainingJobRequest): Promise<TrainingJobDescription>;
}

export interface LocalTuningOptions {
  readonly trainingJobs: TrainingJobRunner;
  /** Training jobs this machine runs at once, whatever MaxParallelTrainingJobs allows. @default 2 */
  readonly maxConcurrentJobs?: number;
  /** Progress lines: each training job's values and objective. */
  readonly onProgress?: (event: { job: string; message: string }) => void;
  readonly account?: string;
  readonly region?: string;
}

/** Failure reasons SageMaker retries a training job for (RetryableError) rather than giving it up. */
const RETRYABLE_FAILURE = /CapacityError|InternalServerError|ThrottlingException|ServiceUnavailable|InsufficientInstanceCapacity/;

/**
 * One random point of the ranges: integers uniform (or log-uniform) over min…max, continuous values
 * uniform, log-uniform or reverse-log-uniform, categories uniform; every value as SageMaker passes
 * it, a string. Auto scaling searches linearly.
 */
export function sampleHyperparameters(ranges: ParameterRanges, random: () => number): Record<string, string> {
  const values: Record<string, string> = {};
  for (const range of ranges.IntegerParameterRanges ?? []) {
    const [min, max] = [Number(range.MinValue), Number(range.MaxValue)];
    const value =
      range.ScalingType === 'Logarithmic'
        ? Math.floor(Math.exp(Math.log(min) + random() * (Math.log(max + 1) - Math.log(min))))
        : min + Math.floor(random() * (max - min + 1));
    values[range.Name] = String(Math.min(max, Math.max(min, value)));
  }
  for (const range of ranges.ContinuousParameterRanges ?? []) {
    const [min, max] = [Number(range.MinValue), Number(range.MaxValue)];
    const u = random();
    const value =
      range.ScalingType === 'Logarithmic'
        ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min)))
        : range.ScalingType === 'ReverseLogarithmic'
          ? 1 - Math.exp(Math.log(1 - max) + u * (Math.log(1 - min) - Math.log(1 - max)))
          : min + u * (max - min);
    values[range.Name] = decimalString(Math.min(max, Math.max(min, value)));
  }
  for (const range of ranges.CategoricalParameterRanges ?? []) {
    values[range.Name] = range.Values[Math.min(range.Values.length - 1, Math.floor(random() * range.Values.length))]!;
  }
  return values;
}

/** The objective's value of a finished training job: its metric's last value, as MetricDefinitions read it. */
export function objectiveValue(job: Pick<TrainingJobDescription, 'FinalMetricDataList'>, metricName: string): number | undefined {
  return job.FinalMetricDataList.find((metric) => metric.MetricName === metricName)?.Value;
}

/** The seed of a tuning job without RandomSeed: FNV-1a of its name. */
function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (const character of name) hash = Math.imul(hash ^ character.charCodeAt(0), 0x01000193) >>> 0;
  return hash;
}

export class LocalTuningJobs {
  /** Every tuning job name used so far: SageMaker never reuses one. */
  readonly jobNames = new Set<string>();

  constructor(private readonly options: LocalTuningOptions) {}

  async run(request: TuningJobRequest): Promise<TuningJobDescription> {
    const problems = createHyperParameterTuningJobProblems(request);
    if (this.jobNames.has(request.HyperParameterTuningJobName)) {
      problems.push(
        `A hyperparameter tuning job with the name ${request.HyperParameterTuningJobName} already exists; choose a different name`,
      );
    }
    if (problems.length > 0) {
      throw new SageMakerTaskError(
        'SageMaker.AmazonSageMakerException',
        `${validationMessage(problems)} (Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException)`,
      );
    }
    this.jobNames.add(request.HyperParameterTuningJobName);
    const config = request.HyperParameterTuningJobConfig;
    const { StaticHyperParameters, ...definition } = request.TrainingJobDefinition;
    const objective = config.HyperParameterTuningJobObjective;
    const random = seededRandom(config.RandomSeed ?? seedOf(request.HyperParameterTuningJobName));
    // Every training job's values and name are drawn before any runs, so the order they finish in changes nothing.
    const trials = Array.from({ length: config.ResourceLimits.MaxNumberOfTrainingJobs }, (_, index) => ({
      name: `${request.HyperParameterTuningJobName}-${String(index + 1).padStart(3, '0')}-${Math.floor(random() * 2 ** 32)
        .toString(16)
        .padStart(8, '0')}`,
      tuned: sampleHyperparameters(config.ParameterRanges, random),
    }));
    const counters = { Completed: 0, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 };
    const objectives = { Succeeded: 0, Pending: 0, Failed: 0 };
    const scored: { index: number; name: string; tuned: Record<string, string>; value: number }[] = [];
    const failures: string[] = [];
    const runTrial = async (index: number) => {
      const trial = trials[index]!;
      this.progress(request, `training job ${trial.name}: ${JSON.stringify(trial.tuned)}`);
      try {
        const job = await this.options.trainingJobs.run({
          ...definition,
          TrainingJobName: trial.name,
          HyperParameters: {
            ...StaticHyperParameters,
            ...trial.tuned,
            [TUNING_OBJECTIVE_HYPERPARAMETER]: objective.MetricName,
          },
          ...(request.Tags ? { Tags: request.Tags } : {}),
        } as TrainingJobRequest);
        counters.Completed++;
        const value = objectiveValue(job, objective.MetricName);
        if (value === undefined) {
          objectives.Failed++;
          this.progress(request, `training job ${trial.name} completed without reporting ${objective.MetricName}`);
          return;
        }
        objectives.Succeeded++;
        scored.push({ index, name: trial.name, tuned: trial.tuned, value });
        this.progress(request, `training job ${trial.name}: ${objective.MetricName} ${value}`);
      } catch (error) {
        const reason = failureReason(error);
        if (RETRYABLE_FAILURE.test(reason)) counters.RetryableError++;
        else counters.NonRetryableError++;
        objectives.Failed++;
        failures.push(`${trial.name}: ${reason}`);
        this.progress(request, `training job ${trial.name} failed: ${reason}`);
      }
    };
    let next = 0;
    const concurrency = Math.max(1, Math.min(config.ResourceLimits.MaxParallelTrainingJobs, this.options.maxConcurrentJobs ?? 2));
    await Promise.all(
      Array.from({ length: Math.min(concurrency, trials.length) }, async () => {
        while (next < trials.length) await runTrial(next++);
      }),
    );
    const arn = `arn:aws:sagemaker:${this.options.region ?? 'us-east-1'}:${this.options.account ?? '000000000000'}`;
    if (counters.Completed === 0) {
      throw new SageMakerTaskError(
        'States.TaskFailed',
        JSON.stringify({
          HyperParameterTuningJobName: request.HyperParameterTuningJobName,
          HyperParameterTuningJobStatus: 'Failed',
          FailureReason: `All training jobs failed. ${failures.slice(0, 3).join('; ')}`,
          TrainingJobStatusCounters: counters,
        }),
      );
    }
    const sign = objective.Type === 'Minimize' ? 1 : -1;
    // The best value wins; of equal values, the training job started first.
    const best = [...scored].sort((a, b) => sign * (a.value - b.value) || a.index - b.index)[0];
    return {
      HyperParameterTuningJobName: request.HyperParameterTuningJobName,
      HyperParameterTuningJobArn: `${arn}:hyper-parameter-tuning-job/${request.HyperParameterTuningJobName.toLowerCase()}`,
      HyperParameterTuningJobStatus: 'Completed',
      HyperParameterTuningJobConfig: config,
      TrainingJobDefinition: request.TrainingJobDefinition,
      TrainingJobStatusCounters: counters,
      ObjectiveStatusCounters: objectives,
      ...(best
        ? {
            BestTrainingJob: {
              TrainingJobName: best.name,
              TrainingJobArn: `${arn}:training-job/${best.name.toLowerCase()}`,
              TrainingJobStatus: 'Completed',
              TunedHyperParameters: best.tuned,
              FinalHyperParameterTuningJobObjectiveMetric: { Type: objective.Type, MetricName: objective.MetricName, Value: best.value },
              ObjectiveStatus: 'Succeeded',
            },
          }
        : {}),
    };
  }

  private progress(request: TuningJobRequest, message: string): void {
    this.options.onProgress?.({ job: request.HyperParameterTuningJobName, message });
  }
}

/** A failed training job's FailureReason (the .sync cause is DescribeTrainingJob's JSON), else the error's message. */
function failureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const cause = JSON.parse(message) as { FailureReason?: unknown };
    if (typeof cause.FailureReason === 'string') return cause.FailureReason;
  } catch {
    // Not a .sync cause: the message is the reason.
  }
  return message;
}

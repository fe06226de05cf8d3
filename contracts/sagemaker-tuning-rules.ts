/**
 * SageMaker's rules for a CreateHyperParameterTuningJob request that the SDK's types do not
 * express, checked where the offline runtime stands in for automatic model tuning (local/) and in
 * tests of what the pipeline sends, with SageMaker's wording (see sagemaker-rules.ts).
 *
 * Sources: the SageMaker API reference of CreateHyperParameterTuningJob
 * (HyperParameterTuningJobName, HyperParameterTuningJobConfig, ResourceLimits, ParameterRanges,
 * IntegerParameterRange, ContinuousParameterRange, CategoricalParameterRange,
 * HyperParameterTrainingJobDefinition), and the developer guide's "Define Hyperparameter Ranges"
 * (scaling types, at most 100 static and tuned hyperparameters with `_tuning_objective_metric`)
 * and "Resource Limits for Automatic Model Tuning".
 */
import { constraint, createTrainingJobProblems, MAX_TAGS, nameProblems, type TrainingJobRequestFields } from './sagemaker-rules';
import { TUNING_LIMITS, TUNING_OBJECTIVE_HYPERPARAMETER } from './tuning';

/** One range of `ParameterRanges` as the rules read it. */
interface RangeFields {
  readonly Name?: unknown;
  readonly MinValue?: unknown;
  readonly MaxValue?: unknown;
  readonly ScalingType?: unknown;
  readonly Values?: readonly unknown[];
}

/** The fields of a CreateHyperParameterTuningJob request the rules read. */
export interface TuningJobRequestFields {
  readonly HyperParameterTuningJobName?: unknown;
  readonly HyperParameterTuningJobConfig?: {
    readonly Strategy?: unknown;
    readonly HyperParameterTuningJobObjective?: { readonly Type?: unknown; readonly MetricName?: unknown };
    readonly ResourceLimits?: {
      readonly MaxNumberOfTrainingJobs?: unknown;
      readonly MaxParallelTrainingJobs?: unknown;
      readonly MaxRuntimeInSeconds?: unknown;
    };
    readonly ParameterRanges?: {
      readonly IntegerParameterRanges?: readonly RangeFields[];
      readonly ContinuousParameterRanges?: readonly RangeFields[];
      readonly CategoricalParameterRanges?: readonly RangeFields[];
    };
  };
  readonly TrainingJobDefinition?: Omit<TrainingJobRequestFields, 'TrainingJobName' | 'HyperParameters' | 'Tags'> & {
    readonly StaticHyperParameters?: Readonly<Record<string, unknown>>;
  };
  readonly Tags?: readonly unknown[];
}

const TUNING_STRATEGIES = ['Bayesian', 'Random', 'Hyperband', 'Grid'];
const OBJECTIVE_TYPES = ['Maximize', 'Minimize'];
const SCALING_TYPES = ['Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic'];
/** `ResourceLimits.MaxRuntimeInSeconds` as the API accepts it (the service stops a tuning job at 30 days). */
const TUNING_RUNTIME_RANGE = { min: 120, max: 15_768_000 } as const;

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

/** Why SageMaker would refuse the parameter ranges, and the names they tune. */
function parameterRangeProblems(ranges: NonNullable<TuningJobRequestFields['HyperParameterTuningJobConfig']>['ParameterRanges']) {
  const problems: string[] = [];
  const names: string[] = [];
  const kinds = [
    ['integerParameterRanges', ranges?.IntegerParameterRanges ?? []],
    ['continuousParameterRanges', ranges?.ContinuousParameterRanges ?? []],
    ['categoricalParameterRanges', ranges?.CategoricalParameterRanges ?? []],
  ] as const;
  for (const [kind, list] of kinds) {
    const field = `hyperParameterTuningJobConfig.parameterRanges.${kind}`;
    for (const range of list) {
      if (typeof range.Name !== 'string' || range.Name.length === 0 || range.Name.length > 256) {
        problems.push(constraint(range.Name, `${field}.name`, 'Member must have length between 1 and 256'));
        continue;
      }
      names.push(range.Name);
      if (kind === 'categoricalParameterRanges') {
        const values = range.Values ?? [];
        if (values.length === 0 || values.length > TUNING_LIMITS.categoricalValues) {
          problems.push(
            constraint(
              `${values.length} values`,
              `${field}.values`,
              `Member must have length between 1 and ${TUNING_LIMITS.categoricalValues}`,
            ),
          );
        }
        for (const value of values) {
          if (typeof value !== 'string' || value.length === 0 || value.length > TUNING_LIMITS.categoricalValueLength) {
            problems.push(
              constraint(value, `${field}.values`, `Member must have length between 1 and ${TUNING_LIMITS.categoricalValueLength}`),
            );
          }
        }
        continue;
      }
      const number = (value: unknown) =>
        typeof value === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
      const [min, max] = [number(range.MinValue), number(range.MaxValue)];
      if (
        Number.isNaN(min) ||
        Number.isNaN(max) ||
        (kind === 'integerParameterRanges' && !(Number.isInteger(min) && Number.isInteger(max)))
      ) {
        problems.push(
          `The ${kind === 'integerParameterRanges' ? 'integer' : 'continuous'} range of hyperparameter ${range.Name} needs ${kind === 'integerParameterRanges' ? 'integer' : 'numeric'} MinValue and MaxValue, got "${String(range.MinValue)}" and "${String(range.MaxValue)}"`,
        );
        continue;
      }
      if (min > max) problems.push(`MinValue (${min}) of hyperparameter ${range.Name} must be less than or equal to its MaxValue (${max})`);
      const scaling = range.ScalingType ?? 'Auto';
      if (!SCALING_TYPES.includes(String(scaling))) {
        problems.push(constraint(scaling, `${field}.scalingType`, `Member must satisfy enum value set: [${SCALING_TYPES.join(', ')}]`));
      } else if (scaling === 'Logarithmic' && !(min > 0)) {
        problems.push(
          `Logarithmic scaling of hyperparameter ${range.Name} works only for ranges with values greater than 0 (MinValue ${min})`,
        );
      } else if (scaling === 'ReverseLogarithmic' && kind === 'integerParameterRanges') {
        problems.push(`ReverseLogarithmic scaling of hyperparameter ${range.Name} is supported only for continuous ranges`);
      } else if (scaling === 'ReverseLogarithmic' && !(min >= 0 && max < 1)) {
        problems.push(
          `ReverseLogarithmic scaling of hyperparameter ${range.Name} works only for ranges entirely within 0 <= x < 1.0 (MinValue ${min}, MaxValue ${max})`,
        );
      }
    }
  }
  if (names.length > TUNING_LIMITS.tunedHyperparameters) {
    problems.push(
      `A tuning job can search at most ${TUNING_LIMITS.tunedHyperparameters} hyperparameters (integer, continuous and categorical ranges together); got ${names.length}`,
    );
  }
  const repeated = [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
  if (repeated.length > 0) problems.push(`Hyperparameter names in ParameterRanges must be unique; repeated: ${repeated.join(', ')}`);
  return { problems, names };
}

/**
 * Why SageMaker would refuse this CreateHyperParameterTuningJob request: the tuning job's name
 * (32 characters), strategy, objective (a metric of the algorithm's definitions), resource limits,
 * parameter ranges and their scaling, hyperparameters both static and tuned or over 100 with the
 * `_tuning_objective_metric` tuning adds, and the training job definition by the training job rules.
 */
export function createHyperParameterTuningJobProblems(request: TuningJobRequestFields): string[] {
  const problems = nameProblems(request.HyperParameterTuningJobName, 'hyperParameterTuningJobName', TUNING_LIMITS.nameLength);
  const config = request.HyperParameterTuningJobConfig;
  const definition = request.TrainingJobDefinition;
  if (!config) return [...problems, constraint(config, 'hyperParameterTuningJobConfig', 'Member must not be null')];
  if (!definition) return [...problems, constraint(definition, 'trainingJobDefinition', 'Member must not be null')];
  if (!TUNING_STRATEGIES.includes(String(config.Strategy))) {
    problems.push(
      constraint(
        config.Strategy,
        'hyperParameterTuningJobConfig.strategy',
        `Member must satisfy enum value set: [${TUNING_STRATEGIES.join(', ')}]`,
      ),
    );
  }
  const objective = config.HyperParameterTuningJobObjective;
  const metrics = definition.AlgorithmSpecification?.MetricDefinitions ?? [];
  if (!OBJECTIVE_TYPES.includes(String(objective?.Type))) {
    problems.push(
      constraint(
        objective?.Type,
        'hyperParameterTuningJobConfig.hyperParameterTuningJobObjective.type',
        `Member must satisfy enum value set: [${OBJECTIVE_TYPES.join(', ')}]`,
      ),
    );
  }
  if (!metrics.some((metric) => metric.Name === objective?.MetricName)) {
    problems.push(
      `The objective metric ${String(objective?.MetricName)} is not one of the algorithm's MetricDefinitions (${metrics.map((metric) => String(metric.Name)).join(', ')})`,
    );
  }
  if (metrics.length > TUNING_LIMITS.metricDefinitions) {
    problems.push(`A tuning job's algorithm may define at most ${TUNING_LIMITS.metricDefinitions} metrics; got ${metrics.length}`);
  }
  const limits = config.ResourceLimits;
  const field = 'hyperParameterTuningJobConfig.resourceLimits';
  if (!isInteger(limits?.MaxParallelTrainingJobs) || limits.MaxParallelTrainingJobs < 1) {
    problems.push(
      constraint(limits?.MaxParallelTrainingJobs, `${field}.maxParallelTrainingJobs`, 'Member must have value greater than or equal to 1'),
    );
  } else if (limits.MaxParallelTrainingJobs > TUNING_LIMITS.parallelTrainingJobs) {
    problems.push(`ResourceLimitExceeded: at most ${TUNING_LIMITS.parallelTrainingJobs} parallel training jobs per tuning job`);
  }
  if (!isInteger(limits?.MaxNumberOfTrainingJobs) || limits.MaxNumberOfTrainingJobs < 1) {
    problems.push(
      constraint(limits?.MaxNumberOfTrainingJobs, `${field}.maxNumberOfTrainingJobs`, 'Member must have value greater than or equal to 1'),
    );
  } else if (config.Strategy === 'Bayesian' && limits.MaxNumberOfTrainingJobs > TUNING_LIMITS.bayesianTrainingJobs) {
    problems.push(
      `ResourceLimitExceeded: Bayesian tuning starts at most ${TUNING_LIMITS.bayesianTrainingJobs} training jobs per tuning job`,
    );
  }
  const runtime = limits?.MaxRuntimeInSeconds;
  if (runtime !== undefined && (!isInteger(runtime) || runtime < TUNING_RUNTIME_RANGE.min || runtime > TUNING_RUNTIME_RANGE.max)) {
    problems.push(
      constraint(
        runtime,
        `${field}.maxRuntimeInSeconds`,
        `Member must have value between ${TUNING_RUNTIME_RANGE.min} and ${TUNING_RUNTIME_RANGE.max}`,
      ),
    );
  }
  const ranges = parameterRangeProblems(config.ParameterRanges);
  problems.push(...ranges.problems);
  const staticNames = Object.keys(definition.StaticHyperParameters ?? {});
  const both = ranges.names.filter((name) => staticNames.includes(name));
  if (both.length > 0) {
    problems.push(
      `Hyperparameters ${both.join(', ')} are both static (StaticHyperParameters) and tuned (ParameterRanges); a hyperparameter is one or the other`,
    );
  }
  const total = new Set([...staticNames, ...ranges.names, TUNING_OBJECTIVE_HYPERPARAMETER]).size;
  if (total > TUNING_LIMITS.hyperparameters) {
    problems.push(
      `A tuning job's training jobs take at most ${TUNING_LIMITS.hyperparameters} hyperparameters (static, tuned and ${TUNING_OBJECTIVE_HYPERPARAMETER}); got ${total}`,
    );
  }
  // The training jobs it starts are held to the training job rules; their names (the tuning job's, -NNN-, 8 hex digits) always fit.
  const { StaticHyperParameters, ...jobFields } = definition;
  const jobProblems = createTrainingJobProblems({
    ...jobFields,
    TrainingJobName: 'tuning-001-00000000',
    HyperParameters: StaticHyperParameters ?? {},
  });
  problems.push(
    ...jobProblems.map((problem) =>
      problem.replace(
        / at '([A-Za-z0-9.]+)'/,
        (_, path: string) => ` at 'trainingJobDefinition.${path.replace(/^hyperParameters/, 'staticHyperParameters')}'`,
      ),
    ),
  );
  if ((request.Tags?.length ?? 0) > MAX_TAGS) {
    problems.push(constraint(`${request.Tags!.length} tags`, 'tags', `Member must have length less than or equal to ${MAX_TAGS}`));
  }
  return problems;
}

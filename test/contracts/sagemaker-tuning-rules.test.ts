/**
 * SageMaker's CreateHyperParameterTuningJob rules (contracts/sagemaker-tuning-rules.ts), which the
 * offline tuning job enforces: a request the pipeline makes passes, and each rule refuses the
 * request that breaks it, in SageMaker's words, naming the field.
 */
import { describe, expect, it } from 'vitest';
import { createHyperParameterTuningJobProblems } from '../../contracts/sagemaker-tuning-rules';
import { TRAINING_METRIC_DEFINITIONS } from '../../contracts/training-job';
import { tuningJobConfig, tuningSchema } from '../../contracts/tuning';

function valid(): any {
  const tuning = tuningSchema.parse({
    strategy: 'Bayesian',
    maxJobs: 20,
    maxParallelJobs: 4,
    parameters: {
      learning_rate: { type: 'continuous', min: 0.0001, max: 0.1, scaling: 'Logarithmic' },
      momentum: { type: 'continuous', min: 0.5, max: 0.999, scaling: 'ReverseLogarithmic' },
      hidden_units: { type: 'integer', min: 1, max: 256, scaling: 'Logarithmic' },
      batch_size: { type: 'categorical', values: [64, 128] },
    },
  });
  return {
    HyperParameterTuningJobName: 'mlops-dev-churn-0123456789ab',
    HyperParameterTuningJobConfig: tuningJobConfig(tuning, { useSpot: true, maxRuntimeSeconds: 3600, maxWaitSeconds: 7200 }),
    TrainingJobDefinition: {
      AlgorithmSpecification: { TrainingImage: 'image', TrainingInputMode: 'File', MetricDefinitions: [...TRAINING_METRIC_DEFINITIONS] },
      RoleArn: 'arn:aws:iam::123456789012:role/training',
      StaticHyperParameters: { epochs: '20', sagemaker_program: 'train.py' },
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://bucket/splits/churn/run/train/' } } }],
      OutputDataConfig: { S3OutputPath: 's3://bucket/models/churn/' },
      ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 50 },
      EnableManagedSpotTraining: true,
      StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
      CheckpointConfig: { S3Uri: 's3://bucket/checkpoints/churn/run/' },
    },
    Tags: [{ Key: 'Model', Value: 'churn' }],
  };
}

const ranges = (request: any) => request.HyperParameterTuningJobConfig.ParameterRanges;

describe('createHyperParameterTuningJobProblems', () => {
  it('accepts the request the pipeline makes', () => {
    expect(createHyperParameterTuningJobProblems(valid())).toEqual([]);
  });

  it.each<[string, (request: any) => void, string]>([
    [
      'a name over 32 characters',
      (r) => (r.HyperParameterTuningJobName = 'mlops-dev-churn-0123456789abcdef0'),
      "Value 'mlops-dev-churn-0123456789abcdef0' at 'hyperParameterTuningJobName' failed to satisfy constraint: Member must have length less than or equal to 32",
    ],
    [
      'a name with an underscore',
      (r) => (r.HyperParameterTuningJobName = 'churn_tuning'),
      "Value 'churn_tuning' at 'hyperParameterTuningJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$",
    ],
    [
      'an unknown strategy',
      (r) => (r.HyperParameterTuningJobConfig.Strategy = 'Genetic'),
      "Value 'Genetic' at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]",
    ],
    [
      'an objective no metric definition reports',
      (r) => (r.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName = 'validation:f1'),
      "The objective metric validation:f1 is not one of the algorithm's MetricDefinitions",
    ],
    [
      '21 metric definitions',
      (r) =>
        (r.TrainingJobDefinition.AlgorithmSpecification.MetricDefinitions = Array.from({ length: 21 }, (_, i) => ({
          Name: i === 0 ? 'validation:loss' : `m${i}`,
          Regex: 'x=(\\d+)',
        }))),
      "A tuning job's algorithm may define at most 20 metrics; got 21",
    ],
    [
      'no parallel training job',
      (r) => (r.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs = 0),
      "Value '0' at 'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ],
    [
      '101 parallel training jobs',
      (r) => (r.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs = 101),
      'ResourceLimitExceeded: at most 100 parallel training jobs per tuning job',
    ],
    [
      '751 training jobs of a Bayesian search',
      (r) => (r.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs = 751),
      'ResourceLimitExceeded: Bayesian tuning starts at most 750 training jobs per tuning job',
    ],
    [
      'a tuning job limit under 120 s',
      (r) => (r.HyperParameterTuningJobConfig.ResourceLimits.MaxRuntimeInSeconds = 100),
      "Value '100' at 'hyperParameterTuningJobConfig.resourceLimits.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value between 120 and 15768000",
    ],
    [
      'a fractional integer bound',
      (r) => (ranges(r).IntegerParameterRanges[0].MinValue = '1.5'),
      'The integer range of hyperparameter hidden_units needs integer MinValue and MaxValue, got "1.5" and "256"',
    ],
    [
      'a minimum above the maximum',
      (r) => (ranges(r).ContinuousParameterRanges[0].MinValue = '0.5'),
      'MinValue (0.5) of hyperparameter learning_rate must be less than or equal to its MaxValue (0.1)',
    ],
    [
      'logarithmic scaling from 0',
      (r) => (ranges(r).IntegerParameterRanges[0].MinValue = '0'),
      'Logarithmic scaling of hyperparameter hidden_units works only for ranges with values greater than 0 (MinValue 0)',
    ],
    [
      'reverse logarithmic scaling of an integer range',
      (r) => (ranges(r).IntegerParameterRanges[0].ScalingType = 'ReverseLogarithmic'),
      'ReverseLogarithmic scaling of hyperparameter hidden_units is supported only for continuous ranges',
    ],
    [
      'reverse logarithmic scaling up to 1',
      (r) => (ranges(r).ContinuousParameterRanges[1].MaxValue = '1'),
      'ReverseLogarithmic scaling of hyperparameter momentum works only for ranges entirely within 0 <= x < 1.0 (MinValue 0.5, MaxValue 1)',
    ],
    [
      '31 categorical values',
      (r) => (ranges(r).CategoricalParameterRanges[0].Values = Array.from({ length: 31 }, (_, i) => String(i))),
      "Value '31 values' at 'hyperParameterTuningJobConfig.parameterRanges.categoricalParameterRanges.values' failed to satisfy constraint: Member must have length between 1 and 30",
    ],
    [
      '31 tuned hyperparameters',
      (r) => (ranges(r).IntegerParameterRanges = Array.from({ length: 28 }, (_, i) => ({ Name: `p${i}`, MinValue: '1', MaxValue: '9' }))),
      'A tuning job can search at most 30 hyperparameters (integer, continuous and categorical ranges together); got 31',
    ],
    [
      'a hyperparameter in two ranges',
      (r) => (ranges(r).CategoricalParameterRanges[0].Name = 'learning_rate'),
      'Hyperparameter names in ParameterRanges must be unique; repeated: learning_rate',
    ],
    [
      'a hyperparameter both static and tuned',
      (r) => (r.TrainingJobDefinition.StaticHyperParameters.batch_size = '256'),
      'Hyperparameters batch_size are both static (StaticHyperParameters) and tuned (ParameterRanges); a hyperparameter is one or the other',
    ],
    [
      '97 static hyperparameters beside 4 tuned ones and the objective',
      (r) => (r.TrainingJobDefinition.StaticHyperParameters = Object.fromEntries(Array.from({ length: 97 }, (_, i) => [`s${i}`, '1']))),
      "A tuning job's training jobs take at most 100 hyperparameters (static, tuned and _tuning_objective_metric); got 102",
    ],
    [
      'a spot training job definition without MaxWaitTimeInSeconds',
      (r) => delete r.TrainingJobDefinition.StoppingCondition.MaxWaitTimeInSeconds,
      'MaxWaitTimeInSeconds must be specified for managed spot training (StoppingCondition.MaxWaitTimeInSeconds)',
    ],
    [
      'a definition whose output path is no S3 URI',
      (r) => (r.TrainingJobDefinition.OutputDataConfig.S3OutputPath = 'bucket/models'),
      "Value 'bucket/models' at 'trainingJobDefinition.outputDataConfig.s3OutputPath' failed to satisfy constraint",
    ],
    [
      'a static hyperparameter value over 2,500 characters',
      (r) => (r.TrainingJobDefinition.StaticHyperParameters.epochs = 'x'.repeat(2501)),
      "at 'trainingJobDefinition.staticHyperParameters.epochs' failed to satisfy constraint: Map value must have length less than or equal to 2500",
    ],
  ])('refuses %s', (_, change, problem) => {
    const request = valid();
    change(request);
    expect(createHyperParameterTuningJobProblems(request).join('\n')).toContain(problem);
  });

  it('takes up to 10,000 training jobs for a random search (above 750 with a quota increase)', () => {
    const request = valid();
    request.HyperParameterTuningJobConfig.Strategy = 'Random';
    request.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs = 751;
    expect(createHyperParameterTuningJobProblems(request)).toEqual([]);
  });
});

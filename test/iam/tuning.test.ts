/**
 * The platform with hyperparameter tuning on and a job-name prefix too long for tuning job names
 * (32 characters), so tuning jobs get a shorter prefix of their own: the tuning integration
 * (createHyperParameterTuningJob.sync with what its training jobs do as the training role) and
 * DescribeTrainingJob of the best training job, simulated against the synthesized roles.
 */
import { describe, expect, it } from 'vitest';
import { TUNING_LIMITS } from '../../contracts/tuning';
import { stateMachineCalls, stateMachineDefinition } from '../../local/iam';
import { deniedCalls, groupBy } from './check';
import { synthesizePlatform } from './synth';
import { trainingExamples } from './training-examples';

/** 26 characters with `-dev-churn`: the longest training job prefix, 7 over what a tuning job name leaves. */
const PROJECT = 'ml-analytics-hub';

const { model, outputs, assemblyDirectory } = synthesizePlatform((config) => ({
  ...config,
  projectName: PROJECT,
  training: {
    ...config.training,
    tuning: {
      objective: { metric: 'validation:loss', type: 'Minimize' },
      maxJobs: 8,
      maxParallelJobs: 2,
      parameters: {
        learning_rate: { type: 'continuous', min: 0.001, max: 0.1, scaling: 'Logarithmic' },
        hidden_units: { type: 'integer', min: 0, max: 64 },
      },
    },
  },
}));
const names = {
  datasetsBucket: outputs.DatasetsBucketName!,
  artifactsBucket: outputs.ArtifactsBucketName!,
  tableName: outputs.RegistryTableName!,
  model: 'churn',
};
const [logicalId] = model.resolved.logicalIdsOfType('AWS::StepFunctions::StateMachine');
const definition = stateMachineDefinition(model, logicalId!, assemblyDirectory);
const calls = stateMachineCalls(model, logicalId!, definition, { examples: trainingExamples(definition, names) });
const tuningCalls = calls.filter((call) => /^(TuneHyperparameters|DescribeBestTrainingJob) /.test(call.origin));

describe('the training pipeline with tuning, and a tuning prefix shorter than its job-name prefix', () => {
  it('names tuning jobs within 32 characters under a prefix of their own', () => {
    const create = tuningCalls.find((call) => call.action === 'sagemaker:CreateHyperParameterTuningJob')!;
    const name = create.resource.split('/').at(-1)!;
    expect(name.length).toBeLessThanOrEqual(TUNING_LIMITS.nameLength);
    expect(name).toMatch(/^ml-analytics-[0-9a-f]{6}-[0-9a-f]{12}$/);
    expect(`${PROJECT}-dev-churn`.startsWith(name.slice(0, 12))).toBe(true);
  });

  it('models the tuning job, its training jobs and the best job read as calls of the pipeline and training roles', () => {
    const actions = new Set(tuningCalls.map((call) => call.action));
    for (const action of [
      'sagemaker:CreateHyperParameterTuningJob',
      'sagemaker:DescribeHyperParameterTuningJob',
      'sagemaker:StopHyperParameterTuningJob',
      'sagemaker:ListTrainingJobsForHyperParameterTuningJob',
      'sagemaker:ListTags',
      'sagemaker:AddTags',
      'iam:PassRole',
      'events:PutRule',
      's3:GetObject',
      's3:PutObject',
      'sagemaker:DescribeTrainingJob',
    ]) {
      expect(actions, action).toContain(action);
    }
  });

  for (const [group, groupCalls] of groupBy(tuningCalls, (call) => `${call.origin}: ${call.action}`)) {
    it(`allows ${group} on ${[...new Set(groupCalls.map((call) => call.resource))].join(', ')}`, async () => {
      expect(await deniedCalls(model, groupCalls[0]!.role, groupCalls)).toEqual([]);
    });
  }

  it("denies tuning jobs and best-job reads outside this pipeline's tuning prefix", async () => {
    const create = tuningCalls.find((call) => call.action === 'sagemaker:CreateHyperParameterTuningJob')!;
    const describe = tuningCalls.find((call) => call.action === 'sagemaker:DescribeTrainingJob')!;
    const elsewhere = [
      { ...create, resource: create.resource.replace(/\/[^/]+$/, '/other-pipeline-3f2a9c1e8b7d') },
      { ...describe, resource: describe.resource.replace(/\/[^/]+$/, '/other-pipeline-3f2a9c1e8b7d-001-0a1b2c3d') },
    ];
    expect(await deniedCalls(model, create.role, elsewhere)).toHaveLength(2);
  });
});

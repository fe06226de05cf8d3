/**
 * The training pipeline's ASL, executed offline: every path of DESIGN.md's data flow, with
 * the registry's real code deciding stages and the other services answered by doubles.
 */
import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { createTrainingJobProblems } from '../../contracts/sagemaker-rules';
import { createHyperParameterTuningJobProblems } from '../../contracts/sagemaker-tuning-rules';
import { placeholdersOf, readTrainingDefinition, renderDefinition, TRAINING_DEFINITION_PATH } from '../../contracts/state-machines';
import { TRAINING_METRIC_DEFINITIONS } from '../../contracts/training-job';
import { dispatch } from '../../lambdas/registry/registry';
import {
  CHURN_DOCUMENT,
  describeTrainingJob,
  failure,
  type Handler,
  TEST_SUBSTITUTIONS,
  TEST_TUNING,
  TrainingPipelineHarness,
  trainingJob,
  tuningJob,
  tuningSubstitutions,
} from '../support/training-pipeline-harness';

const input = { model: 'churn', datasetUri: 's3://datasets/churn/2026-11-01.csv', hyperparameters: { epochs: '20' } };

describe('statemachines/training.asl.json', () => {
  it('is valid Amazon States Language once its placeholders are filled', () => {
    const rendered = JSON.parse(renderDefinition(readTrainingDefinition(), TEST_SUBSTITUTIONS));
    const { isValid, errorsText } = aslValidator(rendered);
    expect(isValid, errorsText('\n')).toBe(true);
  });

  it('is valid JSON before substitution, so editors and linters can read it', () => {
    expect(() => JSON.parse(readFileSync(TRAINING_DEFINITION_PATH, 'utf8'))).not.toThrow();
    expect(placeholdersOf(readTrainingDefinition())).toEqual(Object.keys(TEST_SUBSTITUTIONS).sort());
  });

  it('gives every Task a transient-error Retry with backoff and jitter, and a Catch', () => {
    const definition = JSON.parse(renderDefinition(readTrainingDefinition(), TEST_SUBSTITUTIONS));
    const tasks: Array<[string, any]> = [];
    const collect = (states: Record<string, any>) => {
      for (const [name, state] of Object.entries(states)) {
        if (state.Type === 'Task') tasks.push([name, state]);
        if (state.ItemProcessor) collect(state.ItemProcessor.States);
      }
    };
    collect(definition.States);
    expect(tasks.length).toBeGreaterThanOrEqual(14);
    for (const [name, task] of tasks) {
      // The Map's inner task reports to the Map, whose Catch handles it; AwaitRedrive is where a failed run stops
      // (uncaught, so RedriveExecution restarts it: test/statemachines/redrive.test.ts).
      if (name === 'AwaitRedrive') expect(task.Catch, name).toBeUndefined();
      else if (name !== 'ProfileShard') expect(task.Catch?.[0]?.ErrorEquals, name).toEqual(['States.ALL']);
      // Training and tuning attempts are retried by IsTrainingRetryable under a new job name (a Retry would reuse the name).
      if (name === 'TrainOnSpot' || name === 'TrainOnDemand' || name === 'TuneHyperparameters') {
        expect(task.Retry, name).toBeUndefined();
        expect(task.Catch[0].Next, name).toBe(`${name}Failed`);
      } else {
        expect(task.Retry?.[0], name).toMatchObject({ BackoffRate: expect.any(Number), JitterStrategy: 'FULL' });
      }
    }
  });

  it('gives the training states a timeout from the configured job limit, read from the state input', () => {
    const definition = JSON.parse(renderDefinition(readTrainingDefinition(), TEST_SUBSTITUTIONS));
    for (const name of ['TrainOnSpot', 'TrainOnDemand']) {
      expect(definition.States[name].TimeoutSecondsPath).toBe('$.config.trainingTimeoutSeconds');
    }
    // Spot: MaxWaitTimeInSeconds (28,800) plus the 30-minute margin.
    expect(TEST_SUBSTITUTIONS.TrainingTimeoutSeconds).toBe('30600');
    expect(definition.States.TuneHyperparameters.TimeoutSecondsPath).toBe('$.config.tuningTimeoutSeconds');
    // Tuning: 6 jobs, 2 at a time, are 3 waves of at most 28,800 s each, plus the margin.
    expect(tuningSubstitutions().TuningTimeoutSeconds).toBe(String(3 * 28_800 + 1800));
  });
});

describe('the training pipeline, executed offline', () => {
  it('takes a valid dataset to Production and records lineage, metrics and spot savings', async () => {
    const harness = new TrainingPipelineHarness();
    const run = await harness.run(input, 'run-1');

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.promotion).toEqual({ productionVersion: 1 });
    const version = await harness.registry.getVersion({ modelName: 'churn', version: 1 });
    expect(version).toMatchObject({
      stage: 'Production',
      artifactUri: expect.stringMatching(/^s3:\/\/artifacts-bucket\/models\/churn\/mlops-dev-churn-[0-9a-f-]{36}\/output\/model\.tar\.gz$/),
      artifactSha256: 'd'.repeat(64),
      metrics: { accuracy: 0.91, f1: 0.86 },
      spotSavings: 0.7,
      lineage: {
        datasetUri: 's3://datasets/churn/2026-11-01.csv',
        datasetEtag: '"etag-1"',
        profileUri: 's3://artifacts-bucket/profiles/churn/run-1/profile.json',
        trainingJobName: expect.stringMatching(/^mlops-dev-churn-[0-9a-f-]{36}$/),
        hyperparameters: { epochs: '20' },
        split: {
          uri: 's3://artifacts-bucket/splits/churn/run-1/',
          holdoutUri: 's3://artifacts-bucket/splits/churn/run-1/holdout/',
          train: { rows: 7000 },
          validation: { rows: 1000 },
          holdout: { rows: 2000 },
        },
      },
    });
    expect(run.notifications).toEqual([]);
  });

  it('evaluates on the holdout split off the dataset, never on the training data, unless the run names its own holdout', async () => {
    const split = await new TrainingPipelineHarness().run(input, 'run-holdout');
    expect(split.calls.EvaluateModel![0].holdoutUri).toBe('s3://artifacts-bucket/splits/churn/run-holdout/holdout/');
    expect(split.calls.ValidateDataset![0].split).toEqual({ holdoutUri: null });
    const own = await new TrainingPipelineHarness().run({ ...input, holdoutUri: 's3://datasets/churn/holdout.csv' }, 'run-own');
    expect(own.calls.ValidateDataset![0].split).toEqual({ holdoutUri: 's3://datasets/churn/holdout.csv' });
    expect(own.calls.EvaluateModel![0].holdoutUri).toBe('s3://datasets/churn/holdout.csv');
  });

  it('asks SageMaker for a managed-spot job with checkpoints, KMS and the configured limits', async () => {
    const run = await new TrainingPipelineHarness().run(input, 'run-spot');
    expect(run.calls.TrainOnSpot).toHaveLength(1);
    expect(run.calls.TuneHyperparameters).toBeUndefined();
    const request = run.calls.TrainOnSpot![0];
    expect(request).toMatchObject({
      TrainingJobName: expect.stringMatching(/^mlops-dev-churn-[0-9a-f-]{36}$/),
      AlgorithmSpecification: {
        TrainingImage: TEST_SUBSTITUTIONS.TrainingImage,
        TrainingInputMode: 'File',
        MetricDefinitions: TRAINING_METRIC_DEFINITIONS,
      },
      RoleArn: TEST_SUBSTITUTIONS.TrainingRoleArn,
      EnableManagedSpotTraining: true,
      EnableNetworkIsolation: true,
      StoppingCondition: { MaxRuntimeInSeconds: 14_400, MaxWaitTimeInSeconds: 28_800 },
      CheckpointConfig: { S3Uri: 's3://artifacts-bucket/checkpoints/churn/run-spot/' },
      OutputDataConfig: { S3OutputPath: 's3://artifacts-bucket/models/churn/', KmsKeyId: TEST_SUBSTITUTIONS.ArtifactsKeyArn },
      InputDataConfig: [
        { ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://artifacts-bucket/splits/churn/run-spot/train/' } } },
        { ChannelName: 'validation', DataSource: { S3DataSource: { S3Uri: 's3://artifacts-bucket/splits/churn/run-spot/validation/' } } },
        { ChannelName: 'config', DataSource: { S3DataSource: { S3Uri: 's3://artifacts-bucket/splits/churn/run-spot/config/' } } },
        { ChannelName: 'code', DataSource: { S3DataSource: { S3Uri: TEST_SUBSTITUTIONS.TrainingCodeUri } } },
      ],
    });
    // ml.g5 has local NVMe storage, which SageMaker encrypts in hardware: no VolumeKmsKeyId for it.
    expect(request.ResourceConfig).toEqual({ InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 50 });
    expect(createTrainingJobProblems(request)).toEqual([]);
  });

  it('names a valid training job whatever the execution is called (Step Functions allows _ and 80 characters; job names do not)', async () => {
    for (const name of ['nightly_run_2026_12_01', `retrain_${'x'.repeat(72)}`]) {
      const run = await new TrainingPipelineHarness().run(input, name);
      expect(run.status, name).toBe('SUCCEEDED');
      const request = run.calls.TrainOnSpot![0];
      expect(request.TrainingJobName).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
      expect(createTrainingJobProblems(request)).toEqual([]);
      expect(request.CheckpointConfig.S3Uri).toBe(`s3://artifacts-bucket/checkpoints/churn/${name}/`);
    }
  });

  it('encrypts the training volume with the platform key on an instance type without local storage', async () => {
    const run = await new TrainingPipelineHarness({ TrainingInstanceType: 'ml.m5.xlarge', TrainingVolumeEncryption: 'kms' }).run(
      input,
      'run-m5',
    );
    expect(run.calls.TrainOnSpot![0].ResourceConfig).toEqual({
      InstanceType: 'ml.m5.xlarge',
      InstanceCount: 1,
      VolumeSizeInGB: 50,
      VolumeKmsKeyId: TEST_SUBSTITUTIONS.ArtifactsKeyArn,
    });
  });

  it('runs the platform training program, whatever hyperparameters a caller sends', async () => {
    const run = await new TrainingPipelineHarness().run(
      {
        ...input,
        hyperparameters: { epochs: '20', sagemaker_program: 'evil.py', sagemaker_submit_directory: 's3://attacker/code.tar.gz' },
      },
      'run-reserved',
    );
    expect(run.calls.TrainOnSpot![0].HyperParameters).toEqual({
      epochs: '20',
      sagemaker_program: 'train.py',
      sagemaker_submit_directory: '/opt/ml/input/data/code/f00dfeed.tar.gz',
    });
  });

  it('trains on demand, without spot fields, when spot is off', async () => {
    const run = await new TrainingPipelineHarness({ UseSpot: 'false' }).run(input, 'run-demand');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.TrainOnSpot).toBeUndefined();
    expect(run.calls.TrainOnDemand![0].EnableManagedSpotTraining).toBe(false);
    expect(run.calls.TrainOnDemand![0].StoppingCondition).toEqual({ MaxRuntimeInSeconds: 14_400 });
  });

  it('enters 18 states on the happy path (the Standard transitions docs/pipeline.md prices)', async () => {
    const run = await new TrainingPipelineHarness().run(input, 'run-count');
    expect(run.statesEntered).toHaveLength(18);
    expect(run.statesEntered[0]).toBe('CheckInput');
    expect(run.statesEntered.at(-1)).toBe('PipelineSucceeded');
  });

  it('profiles a sharded dataset with a Distributed Map and merges the shard profiles', async () => {
    const run = await new TrainingPipelineHarness().run({ ...input, datasetUri: 's3://datasets/churn/2026-11/' }, 'run-shards');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.ProfileShard!.map((call) => call.datasetUri).sort()).toEqual([
      's3://datasets/churn/2026-11/part-0.csv',
      's3://datasets/churn/2026-11/part-1.csv',
      's3://datasets/churn/2026-11/part-2.csv',
    ]);
    expect(run.calls.ProfileShard![0]).toMatchObject({
      mode: 'shard',
      model: CHURN_DOCUMENT,
      runId: 'run-shards',
      referenceProfileUri: 's3://artifacts-bucket/profiles/churn/run-1/edges.profile.json',
    });
    expect(run.calls.MergeProfiles![0]).toEqual({
      mode: 'merge',
      model: CHURN_DOCUMENT,
      datasetUri: 's3://datasets/churn/2026-11/',
      runId: 'run-shards',
      delimiter: null,
      split: { holdoutUri: null },
    });
    expect(run.calls.ValidateDataset).toBeUndefined();
  });

  it("hands the run's CSV delimiter to every validation call, and null (the model's dataset.delimiter) when it names none", async () => {
    const single = await new TrainingPipelineHarness().run({ ...input, delimiter: ';' }, 'run-semicolon');
    expect(single.calls.ValidateDataset![0]).toMatchObject({ mode: 'single', delimiter: ';' });
    const sharded = await new TrainingPipelineHarness().run(
      { ...input, datasetUri: 's3://datasets/churn/2026-11/', delimiter: '\t' },
      'run-tabs',
    );
    for (const state of ['ListShards', 'ProfileShard', 'MergeProfiles']) {
      expect(sharded.calls[state]!.map((call) => call.delimiter)).toEqual(sharded.calls[state]!.map(() => '\t'));
    }
    const unset = await new TrainingPipelineHarness().run(input, 'run-default');
    expect(unset.calls.ValidateDataset![0].delimiter).toBeNull();
  });

  it('stops a dataset that fails validation before training, records it and notifies', async () => {
    const harness = new TrainingPipelineHarness();
    const run = await harness.run(input, 'run-invalid', {
      ValidateDataset: async () => ({
        valid: false,
        reportUri: 's3://artifacts-bucket/reports/churn/run-invalid/validation-report.json',
        failureReason:
          'maxBadRowFraction: allows at most 1% bad rows, has 3% (30 of 1000); monthly_charges max: values must be <= 500 in 30 rows',
      }),
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DatasetInvalid');
    expect(run.cause).toBe(
      'Dataset s3://datasets/churn/2026-11-01.csv failed validation: maxBadRowFraction: allows at most 1% bad rows, has 3% (30 of 1000); monthly_charges max: values must be <= 500 in 30 rows (report: s3://artifacts-bucket/reports/churn/run-invalid/validation-report.json)',
    );
    expect(run.calls.TrainOnSpot).toBeUndefined();
    const { items } = await harness.registry.listEvents({ modelName: 'churn' });
    expect(items[0]).toMatchObject({ action: 'pipeline-failure', reason: 'ValidateDataset failed: DatasetInvalid' });
    expect(run.notifications).toHaveLength(1);
    expect(run.notifications[0]).toContain('failed in ValidateDataset: DatasetInvalid');
  });

  it('records a model that fails the gate as Rejected, notifies, and fails with the reasons', async () => {
    const harness = new TrainingPipelineHarness();
    const run = await harness.run(input, 'run-gate', {
      EvaluateModel: async () => ({
        passed: false,
        metrics: { accuracy: 0.71, f1: 0.62 },
        reasons: ['accuracy 0.71 < 0.85', 'f1 0.62 < 0.80'],
        artifactSha256: 'e'.repeat(64),
        spotSavings: 0.7,
      }),
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ModelRejected');
    expect(run.cause).toBe('Model churn version 1 failed the evaluation gate: ["accuracy 0.71 < 0.85","f1 0.62 < 0.80"]');
    expect(await harness.registry.getVersion({ modelName: 'churn', version: 1 })).toMatchObject({
      stage: 'Rejected',
      metrics: { f1: 0.62 },
    });
    expect((await harness.registry.getModel({ modelName: 'churn' })).productionVersion).toBeUndefined();
    expect(run.notifications[0]).toContain('failed in GateOnMetrics: ModelRejected');
    expect(run.calls.DeployVersion).toBeUndefined();
  });

  it('tries a job that failed for capacity again a minute later under a new name (job names are never reused), from the same checkpoints', async () => {
    let attempts = 0;
    const job = trainingJob();
    const run = await new TrainingPipelineHarness().run(input, 'run-interrupted', {
      TrainOnSpot: async (request) => {
        attempts++;
        if (attempts === 1) {
          throw failure(
            'States.TaskFailed',
            '{"TrainingJobStatus":"Failed","FailureReason":"CapacityError: spot capacity was not available within MaxWaitTimeInSeconds"}',
          );
        }
        return job(request);
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(attempts).toBe(2);
    const [first, second] = run.calls.TrainOnSpot!;
    expect(second.TrainingJobName).not.toBe(first.TrainingJobName);
    expect(second.CheckpointConfig).toEqual(first.CheckpointConfig);
    expect(run.statesEntered).toContain('WaitBeforeRetraining');
    // A minute between attempts on AWS (offline the wait is shortened, as retries are).
    expect(JSON.parse(readTrainingDefinition()).States.WaitBeforeRetraining).toMatchObject({ Type: 'Wait', Seconds: 60 });
  });

  it('gives up after three attempts when capacity never comes', async () => {
    const run = await new TrainingPipelineHarness().run(input, 'run-no-capacity', {
      TrainOnSpot: async () => {
        throw failure('States.TaskFailed', '{"FailureReason":"CapacityError: Unable to provision requested ML compute capacity"}');
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.calls.TrainOnSpot).toHaveLength(3);
    expect(new Set(run.calls.TrainOnSpot!.map((request) => request.TrainingJobName)).size).toBe(3);
  });

  it('fails at once, without retrying, when SageMaker refuses the request (ValidationException)', async () => {
    const harness = new TrainingPipelineHarness();
    const run = await harness.run(input, 'run-refused', {
      TrainOnSpot: async () => {
        throw failure(
          'SageMaker.AmazonSageMakerException',
          'Instance type ml.g5.xlarge has local instance storage; a VolumeKmsKeyId cannot be requested for it (Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException)',
        );
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.calls.TrainOnSpot).toHaveLength(1);
    expect(run.error).toBe('SageMaker.AmazonSageMakerException');
    // Events written in the same millisecond have no order among them: look for the one.
    expect((await harness.registry.listEvents({ modelName: 'churn' })).items).toContainEqual(
      expect.objectContaining({
        reason: 'TrainOnSpot failed: SageMaker.AmazonSageMakerException',
      }),
    );
  });

  it('tries a throttled request again under a new name', async () => {
    let attempts = 0;
    const job = trainingJob();
    const run = await new TrainingPipelineHarness().run(input, 'run-throttled', {
      TrainOnSpot: async (request) => {
        attempts++;
        if (attempts === 1)
          throw failure(
            'SageMaker.AmazonSageMakerException',
            'Rate exceeded (Service: AmazonSageMaker; Status Code: 400; Error Code: ThrottlingException)',
          );
        return job(request);
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(attempts).toBe(2);
  });

  it("fails a job whose program fails (the program's own error is not retried), records the state that failed and notifies", async () => {
    const harness = new TrainingPipelineHarness({ UseSpot: 'false' });
    const run = await harness.run(input, 'run-train-fail', {
      TrainOnDemand: async () => {
        throw failure('States.TaskFailed', '{"FailureReason":"AlgorithmError: ExecuteUserScriptError: train.py exited with code 1"}');
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.TaskFailed');
    expect(run.cause).toContain('train.py exited with code 1');
    expect(run.calls.TrainOnDemand).toHaveLength(1);
    // Events written in the same millisecond have no order among them: look for the one.
    expect((await harness.registry.listEvents({ modelName: 'churn' })).items).toContainEqual(
      expect.objectContaining({
        reason: 'TrainOnDemand failed: States.TaskFailed',
      }),
    );
    expect(run.notifications).toHaveLength(1);
    expect(run.notifications[0]).toContain('failed in TrainOnDemand: States.TaskFailed');
  });

  it('retries a Lambda task that throws a transient error once', async () => {
    let calls = 0;
    const healthy: Handler = async () => ({
      passed: true,
      metrics: { accuracy: 0.9 },
      reasons: [],
      artifactSha256: 'f'.repeat(64),
      spotSavings: 0.5,
    });
    const run = await new TrainingPipelineHarness().run(input, 'run-transient', {
      EvaluateModel: async (payload) => {
        calls++;
        if (calls === 1) throw failure('Lambda.TooManyRequestsException', 'Rate exceeded');
        return healthy(payload);
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(calls).toBe(2);
  });

  it('waits for approval when asked: the registry keeps the task token until a person decides', async () => {
    const harness = new TrainingPipelineHarness();
    const run = await harness.run({ ...input, requireApproval: true }, 'run-approve', {
      // What the registry function and, later, POST .../approve do with the task token.
      WaitForApproval: async (payload) => {
        const pending = (await dispatch(harness.registry, payload)) as { taskToken: string };
        expect(pending.taskToken).toBe('token-run-approve');
        const { approval } = await harness.registry.decideApproval({
          modelName: 'churn',
          version: payload.version,
          approved: true,
          actor: 'alice',
        });
        return { approved: true, approvedBy: approval.decidedBy };
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.WaitForApproval![0]).toMatchObject({ action: 'requestApproval', modelName: 'churn', version: 1 });
    expect(run.output.approval).toEqual({ approved: true, approvedBy: 'alice' });
    expect((await harness.registry.getApproval({ modelName: 'churn', version: 1 })).status).toBe('Approved');
  });

  it("waits for approval under the model's required policy even when the run says requireApproval: false", async () => {
    const approveAll = async () => ({ approved: true, approvedBy: 'alice' });
    const required = new TrainingPipelineHarness({ ApprovalPolicy: 'required', RequireApproval: 'true' });
    for (const [name, runInput] of [
      ['run-lowered', { ...input, requireApproval: false }],
      ['run-default', input],
    ] as const) {
      const run = await required.run(runInput, name, { WaitForApproval: approveAll });
      expect(run.status, name).toBe('SUCCEEDED');
      expect(run.calls.WaitForApproval, name).toHaveLength(1);
    }
    // Optional and off: only a run that asks waits.
    for (const policy of ['optional', 'off']) {
      const harness = new TrainingPipelineHarness({ ApprovalPolicy: policy, RequireApproval: 'false' });
      expect((await harness.run(input, `run-${policy}`)).calls.WaitForApproval, policy).toBeUndefined();
      const asked = await harness.run({ ...input, requireApproval: true }, `run-${policy}-asked`, { WaitForApproval: approveAll });
      expect(asked.calls.WaitForApproval, policy).toHaveLength(1);
    }
  });

  it('fails when approval times out, leaving the version Registered and production untouched', async () => {
    const harness = new TrainingPipelineHarness();
    const run = await harness.run({ ...input, requireApproval: true }, 'run-timeout', {
      WaitForApproval: async () => {
        throw failure('States.Timeout', 'Task timed out');
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.Timeout');
    expect(run.calls.DeployVersion).toBeUndefined();
    expect((await harness.registry.getVersion({ modelName: 'churn', version: 1 })).stage).toBe('Registered');
    // Events written in the same millisecond have no order among them: look for the one.
    expect((await harness.registry.listEvents({ modelName: 'churn' })).items).toContainEqual(
      expect.objectContaining({
        reason: 'WaitForApproval failed: States.Timeout',
      }),
    );
  });

  it('polls a deployment in progress until it is in service, 3 more states entered per poll', async () => {
    const statuses = ['InProgress', 'InProgress', 'InService'];
    let polls = 0;
    const run = await new TrainingPipelineHarness().run(input, 'run-poll', {
      DeployVersion: async () => ({ status: 'InProgress', deployment: { id: 'canary-1', polls }, reason: null }),
      CheckDeployment: async () => ({ status: statuses.shift(), deployment: { id: 'canary-1', polls: ++polls }, reason: null }),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.calls.DeployVersion).toEqual([{ action: 'begin', version: 1, runId: 'run-poll' }]);
    // Each poll hands back the deployment the previous answer returned, verbatim.
    expect(run.calls.CheckDeployment).toEqual(
      [0, 1, 2].map((n) => ({ action: 'poll', version: 1, deployment: { id: 'canary-1', polls: n } })),
    );
    // The happy path's 18 states, plus DeploymentOutcome, WaitForDeployment and CheckDeployment per poll (docs/pipeline.md's cost).
    expect(run.statesEntered).toHaveLength(18 + 3 * 3);
  });

  it('keeps the old production version when the deployment is rolled back', async () => {
    const harness = new TrainingPipelineHarness();
    expect((await harness.run(input, 'run-good')).status).toBe('SUCCEEDED');
    const run = await harness.run(input, 'run-bad', {
      DeployVersion: async () => ({ status: 'InProgress', deployment: { id: 'canary-2' }, reason: null }),
      CheckDeployment: async () => ({
        status: 'RolledBack',
        deployment: { id: 'canary-2' },
        reason: 'alarm ModelLatencyP99 fired during the canary',
      }),
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DeploymentRolledBack');
    expect(run.cause).toBe('Deployment of churn version 2 ended RolledBack: alarm ModelLatencyP99 fired during the canary');
    const model = await harness.registry.getModel({ modelName: 'churn' });
    expect(model.productionVersion).toBe(1);
    expect((await harness.registry.getVersion({ modelName: 'churn', version: 2 })).stage).toBe('Registered');
    expect(run.notifications[0]).toContain('failed in DeployVersion: DeploymentRolledBack');
  });

  it.each([
    [{ model: 'churn' }, 'InvalidInput'],
    [{ datasetUri: 42 }, 'InvalidInput'],
    [{ datasetUri: 'https://example.com/data.csv' }, 'InvalidInput'],
    [{ model: 'fraud', datasetUri: 's3://datasets/fraud.csv' }, 'UnknownModel'],
  ])('refuses the execution input %o with %s before any work', async (badInput, error) => {
    const run = await new TrainingPipelineHarness().run(badInput, 'run-bad-input');
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe(error);
    expect(run.statesEntered).toEqual(['CheckInput', error === 'UnknownModel' ? 'UnknownModel' : 'MissingDatasetUri']);
  });
});

describe('the training pipeline with hyperparameter tuning, executed offline', () => {
  const tuningInput = { ...input, hyperparameters: { epochs: '20' } };

  it('starts one tuning job whose training jobs get what a single job gets: channels, code, isolation, spot, checkpoints, limits', async () => {
    const single = (await new TrainingPipelineHarness().run(tuningInput, 'run-compare')).calls.TrainOnSpot![0];
    const run = await new TrainingPipelineHarness(tuningSubstitutions()).run(tuningInput, 'run-compare');
    expect(run.calls.TrainOnSpot).toBeUndefined();
    expect(run.calls.TuneHyperparameters).toHaveLength(1);
    const request = run.calls.TuneHyperparameters![0];
    expect(request.HyperParameterTuningJobName).toMatch(/^mlops-dev-churn-[0-9a-f]{12}$/);
    expect(request.HyperParameterTuningJobName.length).toBeLessThanOrEqual(32);
    expect(request.HyperParameterTuningJobConfig).toEqual({
      Strategy: 'Random',
      HyperParameterTuningJobObjective: { Type: 'Minimize', MetricName: 'validation:loss' },
      ResourceLimits: { MaxNumberOfTrainingJobs: 6, MaxParallelTrainingJobs: 2, MaxRuntimeInSeconds: 3 * 28_800 },
      ParameterRanges: {
        IntegerParameterRanges: [{ Name: 'hidden_units', MinValue: '0', MaxValue: '32', ScalingType: 'Auto' }],
        ContinuousParameterRanges: [{ Name: 'learning_rate', MinValue: '0.001', MaxValue: '0.1', ScalingType: 'Logarithmic' }],
        CategoricalParameterRanges: [{ Name: 'batch_size', Values: ['64', '128', '256'] }],
      },
      TrainingJobEarlyStoppingType: 'Off',
      RandomSeed: 7,
    });
    const { TrainingJobName, HyperParameters, EnableManagedSpotTraining, ...shared } = single;
    expect(request.TrainingJobDefinition).toEqual({
      ...shared,
      Tags: undefined,
      StaticHyperParameters: HyperParameters,
      EnableManagedSpotTraining: true,
    });
    expect(request.Tags).toEqual(single.Tags);
    expect(request.TrainingJobDefinition.StaticHyperParameters).toEqual({
      epochs: '20',
      sagemaker_program: 'train.py',
      sagemaker_submit_directory: '/opt/ml/input/data/code/f00dfeed.tar.gz',
    });
    expect(createHyperParameterTuningJobProblems(request)).toEqual([]);
  });

  it('continues with the best training job: evaluates its artifact, registers its spot savings and the tuned values in the lineage', async () => {
    const harness = new TrainingPipelineHarness(tuningSubstitutions());
    const run = await harness.run(tuningInput, 'run-tuned');
    expect(run.status).toBe('SUCCEEDED');
    const tuningJobName = run.calls.TuneHyperparameters![0].HyperParameterTuningJobName;
    // The second of three training jobs has the lowest validation loss (0.33).
    const best = `${tuningJobName}-002-a1b2c3d5`;
    expect(run.calls.DescribeBestTrainingJob).toEqual([{ TrainingJobName: best }]);
    expect(run.calls.EvaluateModel![0]).toMatchObject({
      artifactUri: `s3://artifacts-bucket/models/churn/${best}/output/model.tar.gz`,
      trainingJobName: best,
      billableSeconds: 240,
      trainingSeconds: 800,
    });
    expect(await harness.registry.getVersion({ modelName: 'churn', version: 1 })).toMatchObject({
      stage: 'Production',
      artifactUri: `s3://artifacts-bucket/models/churn/${best}/output/model.tar.gz`,
      lineage: {
        trainingJobName: best,
        hyperparameters: { epochs: '20', learning_rate: '0.05', hidden_units: '16', batch_size: '64' },
      },
    });
    expect(run.output.training).toEqual({
      jobName: best,
      artifactUri: `s3://artifacts-bucket/models/churn/${best}/output/model.tar.gz`,
      billableSeconds: 240,
      trainingSeconds: 800,
      tunedHyperparameters: { learning_rate: '0.05', hidden_units: '16', batch_size: '64' },
    });
    // The tuned happy path: 20 states (docs/pipeline.md).
    expect(run.statesEntered).toHaveLength(20);
  });

  it('takes the best job by the configured direction: the highest value when the objective is maximized', async () => {
    const tuning = tuningSubstitutions({ ...TEST_TUNING, objective: { metric: 'validation:accuracy', type: 'Maximize' } });
    const run = await new TrainingPipelineHarness(tuning).run(tuningInput, 'run-maximize');
    const name = run.calls.TuneHyperparameters![0].HyperParameterTuningJobName;
    // validation:accuracy 0.52 is the third job's.
    expect(run.calls.DescribeBestTrainingJob).toEqual([{ TrainingJobName: `${name}-003-a1b2c3d6` }]);
    expect(run.output.training.tunedHyperparameters).toEqual({ learning_rate: '0.002', hidden_units: '0', batch_size: '256' });
  });

  it('tunes on demand, without spot fields, when spot is off', async () => {
    const substitutions = tuningSubstitutions(undefined, { useSpot: false });
    const run = await new TrainingPipelineHarness(substitutions).run(tuningInput, 'run-tune-demand');
    expect(run.status).toBe('SUCCEEDED');
    const definition = run.calls.TuneHyperparameters![0].TrainingJobDefinition;
    expect(definition.EnableManagedSpotTraining).toBe(false);
    expect(definition.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 14_400 });
    expect(run.calls.TuneHyperparameters![0].HyperParameterTuningJobConfig.ResourceLimits.MaxRuntimeInSeconds).toBe(3 * 14_400);
    expect(createHyperParameterTuningJobProblems(run.calls.TuneHyperparameters![0])).toEqual([]);
  });

  it('tries a tuning job that failed for capacity again under a new tuning job name, from the same checkpoints', async () => {
    let attempts = 0;
    const tune = tuningJob();
    const run = await new TrainingPipelineHarness(tuningSubstitutions()).run(tuningInput, 'run-tune-capacity', {
      TuneHyperparameters: async (request) => {
        attempts++;
        if (attempts === 1) {
          throw failure(
            'States.TaskFailed',
            '{"HyperParameterTuningJobStatus":"Failed","FailureReason":"CapacityError: Unable to provision requested ML compute capacity"}',
          );
        }
        return tune(request);
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    const [first, second] = run.calls.TuneHyperparameters!;
    expect(second.HyperParameterTuningJobName).not.toBe(first.HyperParameterTuningJobName);
    expect(second.TrainingJobDefinition.CheckpointConfig).toEqual(first.TrainingJobDefinition.CheckpointConfig);
    expect(run.statesEntered).toContain('WaitBeforeRetraining');
    expect(run.calls.TrainOnSpot).toBeUndefined();
  });

  it('fails at once, records the tuning state and notifies, when SageMaker refuses the tuning job', async () => {
    const harness = new TrainingPipelineHarness(tuningSubstitutions());
    const run = await harness.run(tuningInput, 'run-tune-refused', {
      TuneHyperparameters: async () => {
        throw failure(
          'SageMaker.AmazonSageMakerException',
          'Hyperparameters learning_rate are both static (StaticHyperParameters) and tuned (ParameterRanges) (Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException)',
        );
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('SageMaker.AmazonSageMakerException');
    expect(run.calls.TuneHyperparameters).toHaveLength(1);
    expect((await harness.registry.listEvents({ modelName: 'churn' })).items[0]).toMatchObject({
      reason: 'TuneHyperparameters failed: SageMaker.AmazonSageMakerException',
    });
    expect(run.notifications[0]).toContain('failed in TuneHyperparameters: SageMaker.AmazonSageMakerException');
    expect(run.calls.EvaluateModel).toBeUndefined();
  });

  it('fails, naming the tuning job and its training jobs, when no training job reported the objective', async () => {
    const harness = new TrainingPipelineHarness(tuningSubstitutions());
    const run = await harness.run(tuningInput, 'run-no-best', {
      TuneHyperparameters: tuningJob([{ tuned: { learning_rate: '0.01' } }, { tuned: { learning_rate: '0.02' } }]),
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('NoBestTrainingJob');
    const name = run.calls.TuneHyperparameters![0].HyperParameterTuningJobName;
    expect(run.cause).toBe(
      `Tuning job ${name} ended Completed without a training job that reported its objective validation:loss (training jobs: {"Completed":2,"InProgress":0,"RetryableError":0,"NonRetryableError":0,"Stopped":0})`,
    );
    expect(run.calls.TuneHyperparameters).toHaveLength(1);
    expect(run.calls.DescribeBestTrainingJob).toBeUndefined();
    expect((await harness.registry.listEvents({ modelName: 'churn' })).items[0]).toMatchObject({
      reason: 'TuneHyperparameters failed: NoBestTrainingJob',
    });
  });

  it('retries describing the best job on a transient error, and records a job that cannot be found', async () => {
    let calls = 0;
    const describe = describeTrainingJob();
    const transient = await new TrainingPipelineHarness(tuningSubstitutions()).run(tuningInput, 'run-describe-retry', {
      DescribeBestTrainingJob: async (request) => {
        calls++;
        if (calls === 1) throw failure('SageMaker.SageMakerException', 'Rate exceeded (Service: SageMaker, Status Code: 400)');
        return describe(request);
      },
    });
    expect(transient.status).toBe('SUCCEEDED');
    expect(calls).toBe(2);

    const harness = new TrainingPipelineHarness(tuningSubstitutions());
    const missing = await harness.run(tuningInput, 'run-describe-missing', {
      DescribeBestTrainingJob: async () => {
        throw failure('SageMaker.ResourceNotFoundException', 'Requested resource not found.');
      },
    });
    expect(missing.status).toBe('FAILED');
    expect(missing.calls.DescribeBestTrainingJob).toHaveLength(1);
    expect((await harness.registry.listEvents({ modelName: 'churn' })).items[0]).toMatchObject({
      reason: 'DescribeBestTrainingJob failed: SageMaker.ResourceNotFoundException',
    });
  });
});

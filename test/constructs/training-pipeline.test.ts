import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { modelDocument } from '../../contracts/model';
import { parseConfig, resolveModel } from '../../contracts/platform-config';
import { modelDocumentBase64, placeholdersOf, readTrainingDefinition, trainingSubstitutions } from '../../contracts/state-machines';
import { tuningSchema } from '../../contracts/tuning';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { MlopsFunction } from '../../lib/constructs/mlops-function';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { createPlatformKey } from '../../lib/constructs/platform-key';
import { TrainingPipeline, type TrainingPipelineProps } from '../../lib/constructs/training-pipeline';
import { asArray, cdkJsonContext, Template } from '../support/cdk';

const config = parseConfig(cdkJsonContext.mlops);
const churn = resolveModel(config, config.models[0]!);

function build(overrides: Partial<TrainingPipelineProps> = {}) {
  const { mlops: _mlops, ...featureFlags } = cdkJsonContext;
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-training-'));
  const app = new App({ outdir, context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const artifactStore = new ArtifactStore(stack, 'ArtifactStore');
  const registry = new ModelRegistry(stack, 'ModelRegistry', { modelNames: ['churn'] });
  // The registry function's code stands in for the functions other issues build.
  const stand = (id: string) => new MlopsFunction(stack, id, { functionDirectory: 'registry', description: id });
  const alertTopic = new sns.Topic(stack, 'Alerts', {
    enforceSSL: true,
    masterKey: createPlatformKey(stack, 'AlertsKey', { description: 'alerts', removalPolicy: RemovalPolicy.DESTROY }),
  });
  const pipeline = new TrainingPipeline(stack, 'Training', {
    model: modelDocument(churn),
    training: churn.training,
    jobNamePrefix: 'mlops-dev-churn',
    artifactStore,
    registry,
    validateDataFunction: stand('ValidateData'),
    evaluateModelFunction: stand('EvaluateModel'),
    deployFunction: stand('Deploy'),
    alertTopic,
    ...overrides,
  });
  return { app, stack, pipeline, outdir };
}

function roleStatements(template: Template, rolePrefix: string): Array<Record<string, any>> {
  const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith(rolePrefix));
  if (!roleId) throw new Error(`no role ${rolePrefix}`);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy: any) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
}

const tuning = tuningSchema.parse({
  parameters: { learning_rate: { type: 'continuous', min: 0.001, max: 0.1, scaling: 'Logarithmic' } },
});

const withAction = (statements: Array<Record<string, any>>, action: string) =>
  statements.filter((statement) => asArray(statement.Action).includes(action));

describe('TrainingPipeline', () => {
  it('deploys the ASL file as a Standard state machine with ERROR logging, no execution data, and X-Ray', () => {
    const template = Template.fromStack(build().stack);
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      DefinitionS3Location: { Bucket: { 'Fn::Sub': expect.any(String) }, Key: expect.stringMatching(/\.json$/) },
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false, Destinations: [expect.any(Object)] },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('fills every placeholder of the definition from the model configuration', () => {
    const template = Template.fromStack(build().stack);
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    const substitutions = machine.Properties.DefinitionSubstitutions;
    expect(Object.keys(substitutions).sort()).toEqual(placeholdersOf(readTrainingDefinition()));
    expect(substitutions).toMatchObject({
      ModelName: 'churn',
      TrainingInstanceType: 'ml.g5.xlarge',
      TrainingInstanceCount: '1',
      UseSpot: 'true',
      MaxRuntimeSeconds: '14400',
      MaxWaitSeconds: '28800',
      JobNamePrefix: 'mlops-dev-churn',
      RequireApproval: 'false',
      DeployPollSeconds: '120',
    });
    expect(JSON.stringify(substitutions.TrainingImage)).toContain('{"Ref":"AWS::Region"}');
  });

  it('lets the pipeline pass only the training role, and only to SageMaker', () => {
    const template = Template.fromStack(build().stack);
    const passRole = withAction(roleStatements(template, 'TrainingRole'), 'iam:PassRole');
    expect(passRole).toHaveLength(1);
    expect(passRole[0]!.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^TrainingTrainingRole/), 'Arn'] });
    expect(passRole[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
  });

  it('scopes training-job actions to the job-name prefix and .sync rule permissions to the managed rule', () => {
    const statements = roleStatements(Template.fromStack(build().stack), 'TrainingRole');
    const create = withAction(statements, 'sagemaker:CreateTrainingJob');
    expect(JSON.stringify(create[0]!.Resource)).toContain(':training-job/mlops-dev-churn-*');
    const rule = withAction(statements, 'events:PutRule');
    expect(JSON.stringify(rule[0]!.Resource)).toContain(':rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule');
  });

  it('scopes tuning-job actions to the tuning prefix, and reads the best training job under it', () => {
    const statements = roleStatements(Template.fromStack(build({ training: { ...churn.training, tuning } }).stack), 'TrainingRole');
    for (const action of [
      'sagemaker:CreateHyperParameterTuningJob',
      'sagemaker:DescribeHyperParameterTuningJob',
      'sagemaker:StopHyperParameterTuningJob',
      'sagemaker:ListTrainingJobsForHyperParameterTuningJob',
    ]) {
      expect(JSON.stringify(withAction(statements, action)[0]?.Resource), action).toContain(
        ':hyper-parameter-tuning-job/mlops-dev-churn-*',
      );
    }
    expect(JSON.stringify(withAction(statements, 'events:PutRule')[0]!.Resource)).toContain(
      ':rule/StepFunctionsGetEventsForSageMakerTuningJobsRule',
    );
    // The prefix fits 32 characters with the suffix, so the training-job scope already covers the best job.
    expect(JSON.stringify(withAction(statements, 'sagemaker:DescribeTrainingJob').map((statement) => statement.Resource))).toContain(
      ':training-job/mlops-dev-churn-*',
    );
  });

  it('shortens a long job-name prefix for tuning jobs (32 characters) and scopes both job kinds to the short one', () => {
    const { stack } = build({ jobNamePrefix: 'customer-analytics-churn-2', training: { ...churn.training, tuning } });
    const template = Template.fromStack(stack);
    const statements = roleStatements(template, 'TrainingRole');
    const tuningResource = JSON.stringify(withAction(statements, 'sagemaker:CreateHyperParameterTuningJob')[0]!.Resource);
    const prefix = /hyper-parameter-tuning-job\/([a-z0-9-]+)-\*/.exec(tuningResource)![1]!;
    expect(prefix).toMatch(/^customer-ana-[0-9a-f]{6}$/);
    expect(prefix.length + 13).toBeLessThanOrEqual(32);
    const describes = JSON.stringify(withAction(statements, 'sagemaker:DescribeTrainingJob').map((statement) => statement.Resource));
    expect(describes).toContain(`:training-job/${prefix}-*`);
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    expect(machine.Properties.DefinitionSubstitutions).toMatchObject({ UseTuning: 'true', TuningJobNamePrefix: prefix });
  });

  it('invokes exactly the four functions of the definition, unqualified', () => {
    const statements = roleStatements(Template.fromStack(build().stack), 'TrainingRole');
    const invoke = withAction(statements, 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Resource).toHaveLength(4);
    expect(JSON.stringify(invoke[0]!.Resource)).not.toContain(':*');
  });

  it('grants no wildcard action to the pipeline or the training role', () => {
    const template = Template.fromStack(build().stack);
    for (const prefix of ['TrainingRole', 'TrainingTrainingRole']) {
      for (const statement of roleStatements(template, prefix)) {
        for (const action of asArray(statement.Action as string)) expect(action, prefix).not.toMatch(/\*/);
      }
    }
  });

  it('lets training jobs read datasets, write only their model and checkpoint prefixes, and pull only their image', () => {
    const statements = roleStatements(Template.fromStack(build().stack), 'TrainingTrainingRole');
    const puts = withAction(statements, 's3:PutObject').flatMap((statement) =>
      asArray(statement.Resource).map((resource) => JSON.stringify(resource)),
    );
    expect(puts).toHaveLength(2);
    expect(puts.some((resource) => resource.includes('/models/churn/*'))).toBe(true);
    expect(puts.some((resource) => resource.includes('/checkpoints/churn/*'))).toBe(true);
    const pull = withAction(statements, 'ecr:BatchGetImage');
    expect(JSON.stringify(pull[0]!.Resource)).toContain(':763104351884:repository/pytorch-training');
    expect(withAction(statements, 'kms:CreateGrant')[0]!.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
  });

  it('lets the Distributed Map start and stop child executions of this state machine only', () => {
    const template = Template.fromStack(build().stack);
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((candidate: any) =>
      JSON.stringify(candidate.Properties.PolicyDocument).includes('states:StartExecution'),
    ) as any;
    const [start, describeStop] = policy.Properties.PolicyDocument.Statement;
    expect(start.Resource).toEqual({ Ref: expect.stringMatching(/^TrainingStateMachine/) });
    expect(JSON.stringify(describeStop.Resource)).toContain(':execution:');
  });

  it('passes cdk-nag and CloudFormation Guard with only reasoned acknowledgements', () => {
    const { app, outdir } = build();
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new ServerlessChecks(app),
      new CfnGuardValidator({ controlTowerRulesEnabled: true }),
    );
    app.synth();
    const reportPath = path.join(outdir, 'validation-report.json');
    const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : { pluginReports: [] };
    const violations = report.pluginReports.flatMap((plugin: any) =>
      plugin.violations.map(
        (violation: any) => `${violation.ruleName} @ ${violation.violatingConstructs.map((c: any) => c.constructPath).join(', ')}`,
      ),
    );
    expect(violations).toEqual([]);
  });

  it('passes cdk-nag with tuning on and a tuning prefix shorter than the job-name prefix', () => {
    const { app, outdir } = build({ jobNamePrefix: 'customer-analytics-churn-2', training: { ...churn.training, tuning } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    const reportPath = path.join(outdir, 'validation-report.json');
    const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : { pluginReports: [] };
    expect(report.pluginReports.flatMap((plugin: any) => plugin.violations.map((violation: any) => violation.ruleName))).toEqual([]);
  });

  it.each([
    [
      { training: { ...churn.training, maxWaitSeconds: 600 } },
      'training.maxWaitSeconds: managed spot training needs maxWaitSeconds >= maxRuntimeSeconds (600 < 14400)',
    ],
    [
      { training: { ...churn.training, maxRuntimeSeconds: 3_000_000 } },
      'training.maxRuntimeSeconds must be at most 2419200 (28 days), got 3000000',
    ],
    [
      { training: { ...churn.training, checkpointing: false } },
      'training.checkpointing: managed spot training needs checkpointing, or an interruption restarts training from scratch',
    ],
    [
      { jobNamePrefix: 'a-very-long-project-name-churn-model' },
      'jobNamePrefix must be letters, digits and single hyphens, at most 26 characters',
    ],
    [{ deployPollInterval: Duration.hours(2) }, 'deployPollInterval must be between 10 and 3600 seconds, got 7200'],
    [
      { training: { ...churn.training, tuning: { ...tuning, objective: { metric: 'validation:f1', type: 'Maximize' } } } },
      'training.tuning.objective.metric: must be a metric the training program reports (its MetricDefinitions)',
    ],
    [
      { training: { ...churn.training, tuning: { ...tuning, maxJobs: 4, maxParallelJobs: 8 } } },
      'training.tuning.maxParallelJobs: must be at most maxJobs (8 > 4)',
    ],
    [
      {
        training: {
          ...churn.training,
          tuning: tuningSchema.parse({
            parameters: Object.fromEntries(
              Array.from({ length: 30 }, (_, i) => [
                `p${i}`,
                { type: 'categorical', values: Array.from({ length: 30 }, (_, j) => `value-${j}`) },
              ]),
            ),
          }),
        },
      },
      "training.tuning: the tuning job's configuration takes",
    ],
    [
      {
        model: {
          ...modelDocument(churn),
          columns: [
            ...churn.columns,
            { name: 'city', type: 'category', nullable: false, allowedValues: Array.from({ length: 2000 }, (_, i) => `city-${i}`) },
          ],
        },
      },
      'States.Base64Decode, which accepts at most 10000',
    ],
  ])('refuses %o at synth time with the limit it breaks', (overrides, message) => {
    expect(() => build(overrides as Partial<TrainingPipelineProps>)).toThrow(message);
  });

  it('substitutes the same values the offline runtime uses', () => {
    const substitutions = trainingSubstitutions({
      model: modelDocument(churn),
      training: churn.training,
      jobNamePrefix: 'mlops-dev-churn',
      region: 'eu-west-1',
      validateDataFunctionArn: 'v',
      evaluateModelFunctionArn: 'e',
      registryFunctionArn: 'r',
      deployFunctionArn: 'd',
      alertTopicArn: 't',
      trainingRoleArn: 'role',
      artifactsBucket: 'bucket',
      artifactsKeyArn: 'key',
      approvalPolicy: 'required',
      deployPollSeconds: 90,
      trainingCode: { bucket: 'assets', key: 'code.tar.gz' },
    });
    expect(substitutions.TrainingImage).toBe(
      '763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker',
    );
    expect(substitutions).toMatchObject({ RequireApproval: 'true', DeployPollSeconds: '90' });
    expect(JSON.parse(Buffer.from(substitutions.ModelDocumentBase64!, 'base64').toString('utf8'))).toEqual(
      JSON.parse(JSON.stringify(modelDocument(churn))),
    );
    expect(substitutions.ModelDocumentBase64).toBe(modelDocumentBase64(modelDocument(churn)));
  });
});

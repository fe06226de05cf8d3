import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { driftSettingsOf } from '../../contracts/drift';
import { parseConfig, resolveModel } from '../../contracts/platform-config';
import { createApp } from '../../lib/app';
import { alarmPeriodOf, DriftMonitor } from '../../lib/constructs/drift-monitor';
import type { MlopsStack } from '../../lib/mlops-stack';
import { asArray, cdkJsonContext, Match, Template } from '../support/cdk';

const PIPELINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:churn-training';

/** The whole stack (its own DriftMonitor has no pipeline) plus one monitor with retraining; nag and Guard on, bundling off. */
function synthesize() {
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-drift-'));
  const { app, stack, config } = createApp({ appProps: { context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] }, outdir } });
  const model = resolveModel(config, config.models[0]!);
  const withRetraining = new DriftMonitor(stack, 'DriftWithRetraining', {
    model,
    artifactStore: stack.artifactStore,
    registry: stack.registry,
    alertTopic: stack.observability.alertTopic,
    trainingPipeline: sfn.StateMachine.fromStateMachineArn(stack, 'Pipeline', PIPELINE_ARN),
  });
  app.synth();
  const reportPath = path.join(outdir, 'validation-report.json');
  const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : undefined;
  return { stack: stack as MlopsStack, withRetraining, model, template: Template.fromStack(stack), report };
}

function statementsOfRole(template: Template, roleLogicalId: string): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) =>
      (policy as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.some((role) => role.Ref === roleLogicalId),
    )
    .flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
    );
}

/** The role of the first function whose description matches, among those whose logical id starts with `idPrefix`. */
function roleOfFunction(template: Template, descriptionPattern: string, idPrefix = ''): string {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp(descriptionPattern) },
  });
  const [first] = Object.entries(functions)
    .filter(([id]) => id.startsWith(idPrefix))
    .map(([, resource]) => resource) as { Properties: { Role: { 'Fn::GetAtt': [string] } } }[];
  return first!.Properties.Role['Fn::GetAtt'][0];
}

describe('DriftMonitor construct', () => {
  let synthesized: ReturnType<typeof synthesize>;

  // A full synthesis (every bundle, the shadow function's included): slow on a loaded machine.
  beforeAll(() => {
    synthesized = synthesize();
  }, 180_000);

  it('passes cdk-nag and CloudFormation Guard, retraining path included', () => {
    const violations = (synthesized.report?.pluginReports ?? []).flatMap((plugin: { violations: unknown[] }) => plugin.violations);
    expect(violations).toEqual([]);
  });

  it('schedules the check on the configured expression with the scheduled time as the window end', () => {
    synthesized.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: synthesized.model.drift.schedule,
      State: 'ENABLED',
      Target: Match.objectLike({
        Input: JSON.stringify({ model: 'churn', windowEnd: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      }),
    });
  });

  it('alarms on DatasetDrift ≥ 1 (Maximum), keeps its state without data, and notifies the alert topic both ways', () => {
    const topic = { Ref: Match.stringLikeRegexp('^ObservabilityAlertTopic') };
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkMlops',
      MetricName: 'DatasetDrift',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      Period: 3600,
      TreatMissingData: 'ignore',
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });

  it('passes the model settings to check-drift in its environment', () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^cdk-mlops churn: profiles captured inference'),
      Environment: {
        Variables: Match.objectLike({
          DRIFT_SETTINGS: JSON.stringify(driftSettingsOf(synthesized.model)),
          TABLE_NAME: Match.anyValue(),
          CAPTURE_BUCKET: Match.anyValue(),
        }),
      },
    });
  });

  it('grants check-drift reads of capture and profiles, writes of its reports only, and no wildcard actions', () => {
    const statements = statementsOfRole(synthesized.template, roleOfFunction(synthesized.template, '^cdk-mlops churn: profiles captured'));
    const actions = statements.flatMap((statement) => asArray(statement.Action as string | string[]));
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    const text = JSON.stringify(statements);
    expect(text).toContain('/reports/churn/drift/*');
    expect(text).toContain('/churn/*');
    expect(actions).not.toContain('s3:DeleteObject');
    const writes = statements.filter((statement) => asArray(statement.Action as string | string[]).includes('s3:PutObject'));
    expect(JSON.stringify(writes)).not.toContain('/profiles/');
  });

  it('starts retraining from an EventBridge rule on the alarm entering ALARM', () => {
    synthesized.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DriftWithRetrainingDriftAlarm'), 'Arn'] }],
        detail: { state: { value: ['ALARM'] } },
      },
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 } })],
    });
    synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN: PIPELINE_ARN, MODEL_NAME: 'churn', COOLDOWN_HOURS: '24' }) },
    });
  });

  it('lets start-retraining start and list executions of that pipeline and list only the model prefix of datasets', () => {
    const statements = statementsOfRole(
      synthesized.template,
      roleOfFunction(synthesized.template, '^cdk-mlops churn: starts the training', 'DriftWithRetraining'),
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        // CDK merges the two grants on the same ARN into one statement.
        expect.objectContaining({ Action: ['states:ListExecutions', 'states:StartExecution'], Resource: PIPELINE_ARN }),
        expect.objectContaining({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['churn/*'] } } }),
      ]),
    );
    const actions = statements.flatMap((statement) => asArray(statement.Action as string | string[]));
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    expect(actions).not.toContain('s3:GetObject');
  });

  it("starts the model's own training pipeline in the platform stack", () => {
    const monitor = synthesized.stack.driftMonitors.get('churn')!;
    expect(monitor.retrainFunction).toBeDefined();
    const pipeline = synthesized.stack.trainingPipelines.get('churn')!.stateMachine;
    const retrain = synthesized.stack.getLogicalId(monitor.retrainFunction!.node.defaultChild as never);
    expect(synthesized.template.toJSON().Resources[retrain].Properties.Environment.Variables.STATE_MACHINE_ARN).toEqual({
      Ref: synthesized.stack.getLogicalId(pipeline.node.defaultChild as never),
    });
  });
});

describe('drift monitor defaults', () => {
  it('derives the alarm period from the schedule, capped at a day', () => {
    expect(alarmPeriodOf('rate(15 minutes)').toSeconds()).toBe(900);
    expect(alarmPeriodOf('rate(3 hours)').toSeconds()).toBe(10_800);
    expect(alarmPeriodOf('rate(7 days)').toSeconds()).toBe(Duration.days(1).toSeconds());
    expect(alarmPeriodOf('cron(0 * * * ? *)').toSeconds()).toBe(3600);
  });

  it('refuses drift settings too large for the Lambda environment, naming the model', () => {
    const config = parseConfig(cdkJsonContext.mlops);
    const model = resolveModel(config, config.models[0]!);
    const many = Object.fromEntries(
      model.columns.map((column) => [column.name, { psiWarn: 0.1, psiDrift: 0.2, ksPValue: 0.01, jsDistance: 0.1 }]),
    );
    const columns = Array.from({ length: 60 }, (_, index) => ({
      name: `a_rather_long_feature_name_${index}`,
      type: 'number' as const,
      nullable: false,
      unique: false,
      critical: false,
    }));
    const bloated = {
      ...model,
      columns: [...model.columns, ...columns],
      features: [...model.features, ...columns.map((column) => column.name)],
      drift: { ...model.drift, featureThresholds: many },
    };
    const { stack } = createApp({ appProps: { context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } }, policyValidation: false });
    expect(
      () =>
        new DriftMonitor(stack, 'Bloated', {
          model: bloated,
          artifactStore: stack.artifactStore,
          registry: stack.registry,
          alertTopic: stack.observability.alertTopic,
        }),
    ).toThrow(/model "churn": its drift settings take \d+ bytes, over the 3500/);
  });
});

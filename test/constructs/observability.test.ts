import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { Observability } from '../../lib/constructs/observability';
import { Match, Template, testStack } from '../support/cdk';

function synth(alertEmail?: string) {
  const stack = testStack();
  new Observability(stack, 'Observability', { platformName: 'mlops-dev', alertEmail, monthlyBudgetUsd: 750 });
  return Template.fromStack(stack);
}

describe('Observability', () => {
  it('encrypts the alert topic with a rotated key and refuses plain-HTTP publishing', () => {
    const template = synth();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Sid: 'AllowBudgetsToPublish', Principal: { Service: 'budgets.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
  });

  it('names the budget per region, so the same platform in a second region of one account does not collide', () => {
    const names = ['eu-west-1', 'us-east-1'].map((region) => {
      const app = new App();
      const stack = new Stack(app, `Platform-${region}`, { env: { account: '123456789012', region } });
      new Observability(stack, 'Observability', { platformName: 'mlops-dev', monthlyBudgetUsd: 100 });
      const budget = Object.values(Template.fromStack(stack).findResources('AWS::Budgets::Budget'))[0] as any;
      return budget.Properties.Budget.BudgetName;
    });
    expect(names).toEqual(['mlops-dev-eu-west-1-monthly', 'mlops-dev-us-east-1-monthly']);
  });

  it('subscribes the configured email address, and none when there is none', () => {
    synth('oncall@example.com').hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    synth().resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('budgets the monthly limit and alerts the topic at 75, 90 and 100 percent', () => {
    const template = synth();
    const budget = Object.values(template.findResources('AWS::Budgets::Budget'))[0] as any;
    expect(budget.Properties.Budget).toEqual({
      BudgetName: { 'Fn::Join': ['', ['mlops-dev-', { Ref: 'AWS::Region' }, '-monthly']] },
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: 750, Unit: 'USD' },
    });
    const notifications = budget.Properties.NotificationsWithSubscribers;
    expect(notifications.map((n: any) => n.Notification.Threshold)).toEqual([75, 90, 100]);
    for (const notification of notifications) {
      expect(notification.Notification).toMatchObject({
        NotificationType: 'ACTUAL',
        ComparisonOperator: 'GREATER_THAN',
        ThresholdType: 'PERCENTAGE',
      });
      expect(notification.Subscribers).toEqual([
        { SubscriptionType: 'SNS', Address: { Ref: expect.stringMatching(/^ObservabilityAlertTopic/) } },
      ]);
    }
  });

  it('lets CloudWatch and Budgets use the topic key', () => {
    const template = synth();
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0] as any;
    const services = key.Properties.KeyPolicy.Statement.flatMap((statement: any) => statement.Principal?.Service ?? []);
    expect(services).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']));
  });

  it('refuses a budget that is not a positive amount', () => {
    expect(() => new Observability(testStack(), 'O', { platformName: 'x', monthlyBudgetUsd: 0 })).toThrow(
      'monthlyBudgetUsd must be a positive amount of US dollars, got 0',
    );
  });
});

describe('Observability dashboard and alarms', () => {
  function platform() {
    const stack = testStack();
    const observability = new Observability(stack, 'Observability', { platformName: 'mlops-dev', monthlyBudgetUsd: 500 });
    const machine = sfn.StateMachine.fromStateMachineArn(stack, 'M', 'arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-dev-churn');
    const pipelineAlarm = observability.addPipeline('churn', machine);
    const driftAlarm = observability.addModel({ name: 'churn', features: ['tenure', 'plan'], psiWarn: 0.1, psiDrift: 0.25 });
    const fn = lambda.Function.fromFunctionArn(stack, 'F', 'arn:aws:lambda:eu-west-1:123456789012:function:registry');
    observability.addFunction('registry', fn);
    const api = new apigateway.RestApi(stack, 'Api', { restApiName: 'mlops-dev-api' });
    api.root.addMethod('GET');
    observability.addApi({
      metricRequests: () => api.metricCount(),
      metricClientErrors: () => api.metricClientError(),
      metricServerErrors: (props?: cloudwatch.MetricOptions) => api.metricServerError({ period: Duration.minutes(5), ...props }),
      metricLatency: (statistic: string) => api.metricLatency({ statistic }),
    } as never);
    const template = Template.fromStack(stack);
    return { template, observability, pipelineAlarm, driftAlarm, stack };
  }

  const dashboardBody = (template: Template) => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as any;
    // The body is an Fn::Join of literal JSON text and tokens; tokens become placeholders.
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as { widgets: any[] };
  };

  it('builds one dashboard whose widgets cover pipelines, training, drift, functions, the API and alarm status', () => {
    const { template } = platform();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'mlops-dev' });
    const { widgets } = dashboardBody(template);
    const titles = widgets.map((widget) => widget.properties.title);
    expect(titles).toEqual([
      'Alarms (critical and warning)',
      'Pipeline churn: executions',
      'Pipeline churn: duration (ms)',
      'Training churn: seconds',
      'Training churn: spot savings % and gate',
      'Training churn: spend and spot savings per run (USD, on-demand prices)',
      "Training churn: spend and spot savings over the dashboard's range (USD)",
      'Drift churn: PSI per feature',
      'Drift churn: dataset verdict (1 = drifted)',
      'Function registry: invocations and errors',
      'Function registry: duration (ms)',
      'API: requests and errors',
      'API: latency (ms)',
    ]);
    const metricsOf = (title: string) => widgets.find((widget) => widget.properties.title === title).properties.metrics as unknown[][];
    expect(metricsOf('Pipeline churn: executions').map((metric) => metric[1])).toEqual([
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
    ]);
    expect(metricsOf('Training churn: seconds')).toEqual([
      ['CdkMlops', 'TrainingSeconds', 'Model', 'churn', expect.objectContaining({ stat: 'Maximum' })],
      ['CdkMlops', 'BillableSeconds', 'Model', 'churn', expect.objectContaining({ stat: 'Maximum' })],
    ]);
    expect(metricsOf('Training churn: spot savings % and gate').map((metric) => metric[1])).toEqual([
      'SpotSavingsPercent',
      'EvaluationPassed',
    ]);
    // Spend per run (one datapoint per run, summed per hour) and in total over the dashboard's range.
    expect(metricsOf('Training churn: spend and spot savings per run (USD, on-demand prices)')).toEqual([
      ['CdkMlops', 'TrainingCostUsd', 'Model', 'churn', expect.objectContaining({ stat: 'Sum', period: 3600 })],
      ['CdkMlops', 'SpotSavingsUsd', 'Model', 'churn', expect.objectContaining({ stat: 'Sum', period: 3600 })],
    ]);
    const total = widgets.find(
      (widget) => widget.properties.title === "Training churn: spend and spot savings over the dashboard's range (USD)",
    );
    expect(total.type).toBe('metric');
    expect(total.properties).toMatchObject({ view: 'singleValue', setPeriodToTimeRange: true });
    expect(total.properties.metrics.map((metric: unknown[]) => [metric[1], (metric.at(-1) as any).stat])).toEqual([
      ['TrainingCostUsd', 'Sum'],
      ['SpotSavingsUsd', 'Sum'],
    ]);
    expect(metricsOf('Drift churn: PSI per feature')).toEqual([
      ['CdkMlops', 'FeaturePSI', 'Feature', 'tenure', 'Model', 'churn', expect.objectContaining({ label: 'tenure', stat: 'Maximum' })],
      ['CdkMlops', 'FeaturePSI', 'Feature', 'plan', 'Model', 'churn', expect.objectContaining({ label: 'plan', stat: 'Maximum' })],
    ]);
    const psi = widgets.find((widget) => widget.properties.title === 'Drift churn: PSI per feature');
    expect(psi.properties.annotations.horizontal.map((line: any) => line.value)).toEqual([0.1, 0.25]);
    expect(metricsOf('Drift churn: dataset verdict (1 = drifted)')[0]!.slice(0, 4)).toEqual(['CdkMlops', 'DatasetDrift', 'Model', 'churn']);
    expect(metricsOf('API: latency (ms)').map((metric) => (metric.at(-1) as any).stat)).toEqual(['p50', 'p99']);
    expect(metricsOf('API: requests and errors').map((metric) => metric[1])).toEqual(['Count', '4XXError', '5XXError']);
    expect(metricsOf('Function registry: duration (ms)').map((metric) => (metric.at(-1) as any).stat)).toEqual(['p50', 'p99']);
    const status = widgets[0];
    expect(status.type).toBe('alarm');
    expect(status.properties.alarms).toHaveLength(4);
  });

  it('raises critical pipeline (≥ 1 in 5 minutes) and API 5xx (≥ 5 in 5 minutes) alarms with alarm and OK actions, and warnings on hourly drift and 15 minutes of slow API with an alarm action only', () => {
    const { template } = platform();
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm: any) => alarm.Properties);
    const byName = new Map(alarms.map((alarm) => [alarm.AlarmName, alarm]));
    expect([...byName.keys()].sort()).toEqual([
      'mlops-dev-critical-Api-5xx',
      'mlops-dev-critical-Pipeline-churn',
      'mlops-dev-warning-Api-Latency',
      'mlops-dev-warning-Drift-churn',
    ]);
    const topic = { Ref: expect.stringMatching(/^ObservabilityAlertTopic/) };
    const pipeline = byName.get('mlops-dev-critical-Pipeline-churn');
    expect(pipeline).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(pipeline.AlarmDescription).toMatch(/^\[CRITICAL\] churn training pipeline/);
    expect(pipeline.Metrics.find((metric: any) => metric.Expression).Expression).toBe('failed + timedOut + aborted');
    // In 5 minutes (observability.md): each of the summed metrics over 300 s.
    expect(pipeline.Metrics.filter((metric: any) => metric.MetricStat).map((metric: any) => metric.MetricStat.Period)).toEqual([
      300, 300, 300,
    ]);
    expect(pipeline.AlarmActions).toEqual([topic]);
    expect(pipeline.OKActions).toEqual([topic]);
    const api5xx = byName.get('mlops-dev-critical-Api-5xx');
    expect(api5xx).toMatchObject({ MetricName: '5XXError', Namespace: 'AWS/ApiGateway', Statistic: 'Sum', Threshold: 5, Period: 300 });
    const drift = byName.get('mlops-dev-warning-Drift-churn');
    expect(drift).toMatchObject({
      MetricName: 'DatasetDrift',
      Namespace: 'CdkMlops',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(drift.Period).toBe(3600);
    // API p99 latency above 5 s for 15 minutes: three 5-minute periods.
    expect(byName.get('mlops-dev-warning-Api-Latency')).toMatchObject({
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 5000,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 300,
      EvaluationPeriods: 3,
    });
    expect(drift.AlarmDescription).toMatch(/^\[WARNING\]/);
    expect(drift.AlarmActions).toEqual([topic]);
    expect(drift.OKActions).toBeUndefined();
  });

  it("also alerts on a serverless model's rollback alarms and lists them on the dashboard", () => {
    const stack = testStack();
    const observability = new Observability(stack, 'Observability', { platformName: 'mlops-dev', monthlyBudgetUsd: 500 });
    const metric = new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors' });
    const errorRateAlarm = new cloudwatch.Alarm(stack, 'Errors', { metric, threshold: 1, evaluationPeriods: 1 });
    const latencyAlarm = new cloudwatch.Alarm(stack, 'Latency', { metric, threshold: 1, evaluationPeriods: 1 });
    const alias = lambda.Function.fromFunctionArn(stack, 'P', 'arn:aws:lambda:eu-west-1:123456789012:function:predict:live');
    observability.addServerlessModel('churn', { alias, errorRateAlarm, latencyAlarm } as never);
    expect(observability.alarms).toEqual([errorRateAlarm, latencyAlarm]);
    const template = Template.fromStack(stack).toJSON().Resources;
    const props = (id: string) => Object.entries(template).find(([key]) => key.startsWith(id))![1] as any;
    expect(props('Errors').Properties.OKActions).toHaveLength(1);
    expect(props('Latency').Properties.AlarmActions).toHaveLength(1);
    expect(props('Latency').Properties.OKActions).toBeUndefined();
  });
});

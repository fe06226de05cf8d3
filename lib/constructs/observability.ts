/**
 * Where the platform reports: one encrypted SNS topic for every alarm and pipeline failure
 * (with an email subscription from config), an AWS Budgets budget that warns at 75 %, 90 % and
 * 100 % of the monthly limit, and one CloudWatch dashboard with the platform's alarms. The
 * stack registers what it builds (pipelines, the API, functions, models, endpoints) with the
 * `add*` methods, each adding its widgets and alarms.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DRIFT_METRICS, EVALUATION_METRICS, METRIC_DIMENSIONS, METRICS_NAMESPACE } from '../../contracts/metrics';
import { checkExistingXorProps } from './artifact-store';
import type { PipelineApi } from './pipeline-api';
import { createPlatformKey } from './platform-key';
import type { SageMakerEndpoint } from './sagemaker-endpoint';
import type { ServerlessInference } from './serverless-inference';

/** 5XXError responses of the API within five minutes that raise the critical alarm. */
export const API_SERVER_ERROR_THRESHOLD = 5;
/** p99 API latency (ms), three five-minute periods in a row, that raises the warning alarm. */
export const API_LATENCY_WARNING_MS = 5000;

/**
 * Critical alarms page: their alarm and OK transitions go to the topic. Warnings inform: only
 * their alarm transition goes. Both name their severity first, so a mail filter can route them.
 */
export type AlarmSeverity = 'critical' | 'warning';

const DASHBOARD_WIDTH = 24;
const WIDGET_HEIGHT = 6;

/** Percentages of the monthly budget at which the topic is told. */
export const BUDGET_ALERT_THRESHOLDS = [75, 90, 100] as const;

export interface ObservabilityProps {
  /** Names the budget (`<projectName>-<environment>`). */
  readonly platformName: string;
  /**
   * Address subscribed to the alert topic (it must confirm the subscription).
   * @default - no subscription; add one to `alertTopic`
   */
  readonly alertEmail?: string;
  /** Monthly cost budget in US dollars. */
  readonly monthlyBudgetUsd: number;
  /**
   * What happens to the topic's key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * An existing topic (the team's alerting) to announce alarms, failed runs and budget warnings
   * on. Its topic policy must let `budgets.amazonaws.com` publish, and its key (if any) let
   * CloudWatch and AWS Budgets use it: the platform cannot change an existing topic's policies.
   * @default - a new KMS-encrypted, SSL-only topic (see alertTopicProps)
   */
  readonly existingAlertTopic?: sns.ITopic;
  /**
   * Props of the new topic, over the platform's defaults. Not with existingAlertTopic.
   * @default - the platform's defaults
   */
  readonly alertTopicProps?: sns.TopicProps;
  /**
   * The key encrypting a new topic.
   * @default - a new customer-managed key for the topic
   */
  readonly encryptionKey?: kms.IKey;
}

export class Observability extends Construct {
  /** Every alarm, failed pipeline and budget warning of the platform. */
  readonly alertTopic: sns.ITopic;
  /** The platform's one dashboard. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm the dashboard's status widget shows (this construct's and the registered ones). */
  readonly alarms: cloudwatch.IAlarm[] = [];
  private readonly platformName: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.platformName = props.platformName;
    if (!(props.monthlyBudgetUsd > 0)) {
      throw new Error(`monthlyBudgetUsd must be a positive amount of US dollars, got ${props.monthlyBudgetUsd}`);
    }
    checkExistingXorProps('existingAlertTopic', props.existingAlertTopic, 'alertTopicProps', props.alertTopicProps);
    this.alertTopic = props.existingAlertTopic ?? this.createAlertTopic(props);
    if (props.alertEmail) this.alertTopic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));

    // Account-wide: a tag-filtered budget stays silent until the Project tag is activated for cost allocation.
    new budgets.CfnBudget(this, 'MonthlyBudget', {
      budget: {
        // Budget names are unique per account, not per region: the region keeps a second deployment apart.
        budgetName: `${props.platformName}-${Stack.of(this).region}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyBudgetUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: BUDGET_ALERT_THRESHOLDS.map((threshold) => ({
        notification: {
          notificationType: 'ACTUAL',
          comparisonOperator: 'GREATER_THAN',
          threshold,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [{ subscriptionType: 'SNS', address: this.alertTopic.topicArn }],
      })),
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.platformName,
      defaultInterval: Duration.days(1),
    });
    // The widget renders `this.alarms` when the dashboard body is synthesized, so alarms
    // registered after this line appear in it too.
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms (critical and warning)',
        alarms: this.alarms,
        width: DASHBOARD_WIDTH,
        height: WIDGET_HEIGHT,
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );
  }

  /** The platform's own topic: encrypted with a customer-managed key CloudWatch and AWS Budgets may use, SSL-only. */
  private createAlertTopic(props: ObservabilityProps): sns.Topic {
    const key =
      props.encryptionKey ??
      createPlatformKey(this, 'AlertsKey', {
        description: 'platform alert topic',
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
    // CloudWatch alarms and AWS Budgets publish as services; they need the key too (a no-op on an
    // existing key, whose policy its owner keeps).
    for (const service of ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']) {
      key.grant(new iam.ServicePrincipal(service), 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    const topic = new sns.Topic(this, 'AlertTopic', {
      displayName: `cdk-mlops ${props.platformName} alerts`,
      masterKey: key,
      enforceSSL: true,
      ...props.alertTopicProps,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsToPublish',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
      }),
    );
    return topic;
  }
  /**
   * A model's pipeline: executions started/succeeded/failed, duration; an alarm on failures
   * (critical for the training pipeline; warning for batch inference, whose caller sees the failure
   * and its manifest, and no model or serving changes).
   */
  addPipeline(modelName: string, stateMachine: sfn.IStateMachine, kind: 'training' | 'batch' = 'training'): cloudwatch.Alarm {
    const title = kind === 'training' ? `Pipeline ${modelName}` : `Batch ${modelName}`;
    const metric = (metricName: string, statistic: string = cloudwatch.Stats.SUM) =>
      new cloudwatch.Metric({
        namespace: 'AWS/States',
        metricName,
        dimensionsMap: { StateMachineArn: stateMachine.stateMachineArn },
        statistic,
        period: Duration.minutes(5),
      });
    this.dashboard.addWidgets(
      graph(`${title}: executions`, [
        metric('ExecutionsStarted'),
        metric('ExecutionsSucceeded'),
        metric('ExecutionsFailed'),
        metric('ExecutionsTimedOut'),
        metric('ExecutionsAborted'),
      ]),
      graph(`${title}: duration (ms)`, [
        metric('ExecutionTime', cloudwatch.Stats.p(50)),
        metric('ExecutionTime', cloudwatch.Stats.MAXIMUM),
      ]),
    );
    return this.addAlarm(
      kind === 'training' ? `Pipeline-${modelName}` : `Batch-${modelName}`,
      kind === 'training' ? 'critical' : 'warning',
      {
        what: `${modelName} ${kind === 'training' ? 'training' : 'batch inference'} pipeline: an execution failed, timed out or was aborted`,
        metric: new cloudwatch.MathExpression({
          expression: 'failed + timedOut + aborted',
          usingMetrics: {
            failed: metric('ExecutionsFailed'),
            timedOut: metric('ExecutionsTimedOut'),
            aborted: metric('ExecutionsAborted'),
          },
          label: 'unsuccessful executions',
          period: Duration.minutes(5),
        }),
        threshold: 1,
      },
    );
  }

  /** A model's training numbers (seconds, spend, spot savings) and drift (EMF, METRICS_NAMESPACE); a warning alarm when the dataset drifts. */
  addModel(model: {
    readonly name: string;
    readonly features: readonly string[];
    readonly psiWarn?: number;
    readonly psiDrift?: number;
  }): cloudwatch.Alarm {
    const metric = (metricName: string, statistic: string, extra: Record<string, string> = {}, period = Duration.hours(1)) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { [METRIC_DIMENSIONS.model]: model.name, ...extra },
        statistic,
        period,
        ...(extra[METRIC_DIMENSIONS.feature] ? { label: extra[METRIC_DIMENSIONS.feature] } : {}),
      });
    const thresholds = [
      ...(model.psiWarn === undefined ? [] : [{ value: model.psiWarn, label: 'PSI warn', color: cloudwatch.Color.ORANGE }]),
      ...(model.psiDrift === undefined ? [] : [{ value: model.psiDrift, label: 'PSI drift', color: cloudwatch.Color.RED }]),
    ];
    this.dashboard.addWidgets(
      graph(`Training ${model.name}: seconds`, [
        metric(EVALUATION_METRICS.trainingSeconds, cloudwatch.Stats.MAXIMUM),
        metric(EVALUATION_METRICS.billableSeconds, cloudwatch.Stats.MAXIMUM),
      ]),
      graph(
        `Training ${model.name}: spot savings % and gate`,
        [metric(EVALUATION_METRICS.spotSavingsPercent, cloudwatch.Stats.AVERAGE)],
        [metric(EVALUATION_METRICS.passed, cloudwatch.Stats.MINIMUM)],
      ),
      // One datapoint per run, so the hourly sum is each version's spend (and two runs in an hour add up).
      graph(`Training ${model.name}: spend and spot savings per run (USD, on-demand prices)`, [
        metric(EVALUATION_METRICS.trainingCostUsd, cloudwatch.Stats.SUM),
        metric(EVALUATION_METRICS.spotSavingsUsd, cloudwatch.Stats.SUM),
      ]),
      new cloudwatch.SingleValueWidget({
        title: `Training ${model.name}: spend and spot savings over the dashboard's range (USD)`,
        metrics: [
          metric(EVALUATION_METRICS.trainingCostUsd, cloudwatch.Stats.SUM),
          metric(EVALUATION_METRICS.spotSavingsUsd, cloudwatch.Stats.SUM),
        ],
        setPeriodToTimeRange: true,
        fullPrecision: false,
        width: DASHBOARD_WIDTH / 2,
        height: WIDGET_HEIGHT,
      }),
      graph(
        `Drift ${model.name}: PSI per feature`,
        model.features.map((feature) =>
          metric(DRIFT_METRICS.featurePsi, cloudwatch.Stats.MAXIMUM, { [METRIC_DIMENSIONS.feature]: feature }),
        ),
        [],
        thresholds,
      ),
      graph(`Drift ${model.name}: dataset verdict (1 = drifted)`, [metric(DRIFT_METRICS.datasetDrift, cloudwatch.Stats.MAXIMUM)]),
    );
    return this.addAlarm(`Drift-${model.name}`, 'warning', {
      what: `${model.name}: the drift check found the serving data drifted from the training data (retraining starts)`,
      metric: metric(DRIFT_METRICS.datasetDrift, cloudwatch.Stats.MAXIMUM),
      threshold: 1,
    });
  }

  /** The platform API: requests, 4xx/5xx, p50/p99 latency; critical on 5xx, warning on slow p99. */
  addApi(api: PipelineApi): cloudwatch.Alarm[] {
    this.dashboard.addWidgets(
      graph('API: requests and errors', [api.metricRequests()], [api.metricClientErrors(), api.metricServerErrors()]),
      graph('API: latency (ms)', [api.metricLatency(cloudwatch.Stats.p(50)), api.metricLatency(cloudwatch.Stats.p(99))]),
    );
    return [
      this.addAlarm('Api-5xx', 'critical', {
        what: `platform API: ${API_SERVER_ERROR_THRESHOLD} or more 5xx responses in 5 minutes`,
        metric: api.metricServerErrors({ statistic: cloudwatch.Stats.SUM }),
        threshold: API_SERVER_ERROR_THRESHOLD,
      }),
      this.addAlarm('Api-Latency', 'warning', {
        what: `platform API: p99 latency above ${API_LATENCY_WARNING_MS} ms for 15 minutes`,
        metric: api.metricLatency(cloudwatch.Stats.p(99)),
        threshold: API_LATENCY_WARNING_MS,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
      }),
    ];
  }

  /** A platform function: invocations, errors, p50/p99 duration. */
  addFunction(label: string, fn: lambda.IFunction): void {
    const period = Duration.minutes(5);
    this.dashboard.addWidgets(
      graph(
        `Function ${label}: invocations and errors`,
        [fn.metricInvocations({ period })],
        [fn.metricErrors({ period }), fn.metricThrottles({ period })],
      ),
      graph(`Function ${label}: duration (ms)`, [
        fn.metricDuration({ period, statistic: cloudwatch.Stats.p(50) }),
        fn.metricDuration({ period, statistic: cloudwatch.Stats.p(99) }),
      ]),
    );
  }

  /** A serverless model: the predict alias's numbers; its rollback alarms also alert (errors critical, latency warning). */
  addServerlessModel(modelName: string, inference: ServerlessInference): void {
    this.addFunction(`${modelName} predict (alias)`, inference.alias);
    this.notify(inference.errorRateAlarm, 'critical');
    this.notify(inference.latencyAlarm, 'warning');
  }

  /** A SageMaker endpoint: invocations, p50/p99 model latency, 4xx/5xx; its rollback alarms also alert. */
  addEndpoint(modelName: string, endpoint: SageMakerEndpoint): void {
    const metric = (metricName: string, statistic: string = cloudwatch.Stats.SUM) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName,
        dimensionsMap: { EndpointName: endpoint.endpointName, VariantName: endpoint.variantName },
        statistic,
        period: Duration.minutes(5),
      });
    this.dashboard.addWidgets(
      graph(
        `Endpoint ${modelName}: invocations and errors`,
        [metric('Invocations')],
        [metric('Invocation4XXErrors'), metric('Invocation5XXErrors')],
      ),
      graph(`Endpoint ${modelName}: model latency (µs)`, [
        metric('ModelLatency', cloudwatch.Stats.p(50)),
        metric('ModelLatency', cloudwatch.Stats.p(99)),
      ]),
    );
    this.notify(endpoint.invocation5xxAlarm, 'critical');
    this.notify(endpoint.errorRateAlarm, 'critical');
    this.notify(endpoint.modelLatencyAlarm, 'warning');
  }

  /** Sends an alarm built elsewhere (e.g. a deployment's rollback alarm) to the topic with a severity. */
  notify(alarm: cloudwatch.Alarm, severity: AlarmSeverity): void {
    const action = new cloudwatchActions.SnsAction(this.alertTopic);
    alarm.addAlarmAction(action);
    if (severity === 'critical') alarm.addOkAction(action);
    this.alarms.push(alarm);
  }

  private addAlarm(
    id: string,
    severity: AlarmSeverity,
    options: {
      what: string;
      metric: cloudwatch.IMetric;
      threshold: number;
      comparisonOperator?: cloudwatch.ComparisonOperator;
      evaluationPeriods?: number;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      alarmName: `${this.platformName}-${severity}-${id}`,
      alarmDescription: `[${severity.toUpperCase()}] ${options.what}`,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.notify(alarm, severity);
    return alarm;
  }
}

function graph(
  title: string,
  left: cloudwatch.IMetric[],
  right: cloudwatch.IMetric[] = [],
  leftAnnotations: cloudwatch.HorizontalAnnotation[] = [],
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, right, leftAnnotations, width: DASHBOARD_WIDTH / 2, height: WIDGET_HEIGHT });
}

/**
 * The monitoring loop of one model: an EventBridge Scheduler schedule invokes check-drift on the
 * configured schedule (window ending at the scheduled time), check-drift publishes DatasetDrift,
 * a CloudWatch alarm on it notifies the platform topic, and — given the model's training
 * pipeline — an EventBridge rule on the alarm's transition into ALARM invokes start-retraining,
 * which starts the pipeline on the newest dataset prefix unless it ran within the cool-down.
 */
import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { DATASET_COMPLETION_MARKERS } from '../../contracts/dataset';
import { driftSettingsOf } from '../../contracts/drift';
import { DRIFT_METRICS, METRICS_NAMESPACE } from '../../contracts/metrics';
import type { ResolvedModelConfig } from '../../contracts/platform-config';
import { objectPrefixFinding } from './acknowledgements';
import type { ArtifactStore } from './artifact-store';
import { MlopsFunction } from './mlops-function';
import type { ModelRegistry } from './model-registry';

/** Lambda caps all environment variables of a function at 4 KB together; DRIFT_SETTINGS gets most of it. */
const MAX_DRIFT_SETTINGS_BYTES = 3500;
/** CloudWatch alarms evaluate at most one day per period. */
const MAX_ALARM_PERIOD = Duration.days(1);

export interface DriftMonitorProps {
  /** The model, with the platform's drift settings merged under its own. */
  readonly model: ResolvedModelConfig;
  /** Capture is read from its capture bucket, reference profiles and reports live in its artifacts bucket. */
  readonly artifactStore: ArtifactStore;
  /** Where the production version and its training profile are looked up. */
  readonly registry: ModelRegistry;
  /** Notified when the dataset drifts and when it recovers. */
  readonly alertTopic: sns.ITopic;
  /**
   * The model's training pipeline, started on drift with `{ datasetUri, model }`.
   * @default - no retraining; the alarm only notifies
   */
  readonly trainingPipeline?: sfn.IStateMachine;
  /**
   * Retention of the functions' logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The alarm period: the schedule's rate (at most a day); an hour for cron schedules. */
export function alarmPeriodOf(schedule: string): Duration {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!match) return Duration.hours(1);
  const amount = Number(match[1]);
  const period = match[2]!.startsWith('minute')
    ? Duration.minutes(amount)
    : match[2]!.startsWith('hour')
      ? Duration.hours(amount)
      : Duration.days(amount);
  return period.toSeconds() > MAX_ALARM_PERIOD.toSeconds() ? MAX_ALARM_PERIOD : period;
}

export class DriftMonitor extends Construct {
  readonly checkFunction: MlopsFunction;
  readonly schedule: scheduler.Schedule;
  /** In ALARM while the latest verdict is "drift"; unchanged by windows without a verdict. */
  readonly driftAlarm: cloudwatch.Alarm;
  /** Present when a training pipeline was given. */
  readonly retrainFunction?: MlopsFunction;
  private readonly modelName: string;

  constructor(scope: Construct, id: string, props: DriftMonitorProps) {
    super(scope, id);
    const { model, artifactStore } = props;
    this.modelName = model.name;
    const settings = JSON.stringify(driftSettingsOf(model));
    if (Buffer.byteLength(settings) > MAX_DRIFT_SETTINGS_BYTES) {
      throw new Error(
        `model "${model.name}": its drift settings take ${Buffer.byteLength(settings)} bytes, over the ${MAX_DRIFT_SETTINGS_BYTES} the Lambda environment leaves for them; fewer featureThresholds entries would fit`,
      );
    }

    this.checkFunction = new MlopsFunction(this, 'CheckFunction', {
      functionDirectory: 'check-drift',
      description: `cdk-mlops ${model.name}: profiles captured inference against the production model's training profile`,
      memorySize: 1024,
      timeout: Duration.minutes(10),
      logRetention: props.logRetention,
      // Invoked asynchronously by EventBridge Scheduler.
      synchronousOnly: false,
      environment: {
        TABLE_NAME: props.registry.table.tableName,
        ARTIFACTS_BUCKET: artifactStore.artifactsBucket.bucketName,
        CAPTURE_BUCKET: artifactStore.captureBucket.bucketName,
        DRIFT_SETTINGS: settings,
        // Each verdict is kept in the registry's audit trail (the drift history) through its only writer.
        REGISTRY_FUNCTION_NAME: props.registry.registryFunction.functionName,
      },
    });
    // The unqualified function only (grantInvoke would add every version and alias).
    iam.Grant.addToPrincipal({
      grantee: this.checkFunction,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [props.registry.registryFunction.functionArn],
    });
    const reportsPrefix = `${ARTIFACT_PREFIXES.reports}${model.name}/drift/`;
    props.registry.grantRead(this.checkFunction);
    artifactStore.grantReadArtifacts(this.checkFunction, ARTIFACT_PREFIXES.profiles);
    artifactStore.grantWriteArtifacts(this.checkFunction, reportsPrefix);
    artifactStore.grantReadCapture(this.checkFunction, `${model.name}/`);
    Validations.of(this.checkFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Each scheduled check covers a sliding window the next tick covers again; a lost invocation delays a verdict by one tick, and its failure shows in the function Errors metric.',
    });
    Validations.of(this.checkFunction.role!).acknowledge({
      id: objectPrefixFinding(artifactStore.artifactsBucket, ARTIFACT_PREFIXES.profiles),
      reason: 'Reads the training profile the registry names for the production version; profile keys are generated per pipeline run.',
    });

    // An own role rather than the stack's shared scheduler role, so its one finding is acknowledged here.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `cdk-mlops ${model.name}: EventBridge Scheduler invoking the drift check`,
    });
    const functionLogicalId = Stack.of(this).getLogicalId(this.checkFunction.node.defaultChild as CfnElement);
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on this one function, its versions and aliases (the ":*" qualifier); no other function.',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `cdk-mlops ${model.name}: drift check over the last ${model.drift.windowHours} h of capture`,
      schedule: scheduler.ScheduleExpression.expression(model.drift.schedule),
      target: new schedulerTargets.LambdaInvoke(this.checkFunction, {
        input: scheduler.ScheduleTargetInput.fromObject({ model: model.name, windowEnd: scheduler.ContextAttribute.scheduledTime }),
        role: scheduleRole,
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    });

    this.driftAlarm = new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmDescription: `${model.name}: the captured inputs drifted from the production model's training data (see reports/${model.name}/drift/)`,
      metric: this.metricDatasetDrift({ period: alarmPeriodOf(model.drift.schedule) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // No verdict (too little traffic) publishes nothing: keep the last state instead of resolving or alarming.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    this.driftAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alertTopic));
    this.driftAlarm.addOkAction(new cloudwatchActions.SnsAction(props.alertTopic));

    if (props.trainingPipeline) this.retrainFunction = this.addRetraining(props, props.trainingPipeline);
  }

  /** 1 when the latest window drifted, 0 when it did not (Maximum over the period). */
  metricDatasetDrift(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: DRIFT_METRICS.datasetDrift,
      dimensionsMap: { Model: this.modelName },
      statistic: cloudwatch.Stats.MAXIMUM,
      ...props,
    });
  }

  private addRetraining(props: DriftMonitorProps, pipeline: sfn.IStateMachine): MlopsFunction {
    const { model, artifactStore } = props;
    const retrain = new MlopsFunction(this, 'RetrainFunction', {
      functionDirectory: 'start-retraining',
      description: `cdk-mlops ${model.name}: starts the training pipeline on the newest dataset when drift is detected`,
      timeout: Duration.minutes(1),
      logRetention: props.logRetention,
      synchronousOnly: false,
      environment: {
        STATE_MACHINE_ARN: pipeline.stateMachineArn,
        DATASETS_BUCKET: artifactStore.datasetsBucket.bucketName,
        MODEL_NAME: model.name,
        COOLDOWN_HOURS: String(model.drift.retrainCooldownHours),
      },
    });
    pipeline.grantStartExecution(retrain);
    pipeline.grant(retrain, 'states:ListExecutions');
    // Listing only, and only the model's dataset prefixes: the pipeline reads the data itself.
    iam.Grant.addToPrincipal({
      grantee: retrain,
      actions: ['s3:ListBucket'],
      resourceArns: [artifactStore.datasetsBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${model.name}/*`] } },
    });
    const rule = new events.Rule(this, 'RetrainOnDrift', {
      description: `cdk-mlops ${model.name}: drift alarm entered ALARM → start retraining (with cool-down)`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: [this.driftAlarm.alarmArn],
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [new eventTargets.LambdaFunction(retrain, { retryAttempts: 4, maxEventAge: Duration.hours(2) })],
    });
    Validations.of(rule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A trigger that fails all 4 delivery retries leaves the drift alarm in ALARM with its SNS notification sent; people retrain by hand, and a dead-letter queue would hold an event nobody replays.',
    });
    if (model.training.trigger === 'on-new-data') this.addNewDataTrigger(props, retrain);
    Validations.of(retrain).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'A lost trigger leaves the drift alarm in ALARM and its SNS notification already sent, so people see the drift; EventBridge retries delivery 4 times first.',
    });
    return retrain;
  }

  /**
   * training.trigger on-new-data: the datasets bucket's "Object Created" events (the bucket sends
   * its events to EventBridge) for a completion marker directly under `<model>/<version>/` start one
   * run of that version; duplicates map to one execution name and the cool-down holds the rest.
   */
  private addNewDataTrigger(props: DriftMonitorProps, retrain: MlopsFunction): void {
    const { model, artifactStore } = props;
    const rule = new events.Rule(this, 'TrainOnNewData', {
      description: `cdk-mlops ${model.name}: a dataset version's _SUCCESS or manifest.json landed → train on it (once, with cool-down)`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [artifactStore.datasetsBucket.bucketName] },
          object: { key: DATASET_COMPLETION_MARKERS.map((marker) => ({ wildcard: `${model.name}/*/${marker}` })) },
        },
      },
      targets: [new eventTargets.LambdaFunction(retrain, { retryAttempts: 4, maxEventAge: Duration.hours(2) })],
    });
    Validations.of(rule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A dataset drop whose trigger fails all 4 delivery retries is started by hand (POST /pipelines/training); a dead-letter queue would hold an event nobody replays.',
    });
  }
}

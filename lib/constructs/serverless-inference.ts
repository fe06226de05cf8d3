/**
 * Serverless inference for one model: the predict function (onnxruntime-node from a layer
 * holding only the function architecture's binary) behind a `live` alias that CodeDeploy
 * shifts with a canary, rolled back automatically when the error-rate or p99-duration alarm
 * fires. The function serves the registry's production version and captures a sample of its
 * traffic to the capture bucket for drift detection.
 *
 * New model versions roll out through a model-version canary inside the function: the
 * registry's Staging version answers canaryPercent of requests and emits the Canary* metrics;
 * the canary alarms watch them, and the deploy function (the pipeline's begin/poll contract)
 * stages the candidate, reads those alarms, and rejects the candidate or reports it InService.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { CANARY_ERROR_RATE_PERCENT, CANARY_METRICS, METRIC_DIMENSIONS, METRICS_NAMESPACE } from '../../contracts/metrics';
import type { ResolvedModelConfig } from '../../contracts/platform-config';
import { CANARY_PERCENT_RANGE, MAX_TRAFFIC_WAIT_INTERVAL_SECONDS } from '../../contracts/serving';
import { modelSchemaFor } from '../../contracts/serving-schema';
import { objectPrefixFinding } from './acknowledgements';
import type { ArtifactStore } from './artifact-store';
import { MlopsFunction } from './mlops-function';
import type { ModelRegistry } from './model-registry';
import { OnnxRuntimeLayer } from './onnx-runtime-layer';

/** Lambda environment variables share 4 KB; the schema must leave room for the others. */
const MAX_SCHEMA_ENVIRONMENT_BYTES = 3072;
/** Error share (percent of invocations in a minute) that rolls a deployment back. */
export const ERROR_RATE_ALARM_PERCENT = 5;
/** The alias CodeDeploy shifts and callers invoke. */
export const LIVE_ALIAS_NAME = 'live';

export interface ServerlessInferenceProps {
  /** The model, with serving settings merged (canaryPercent, bakeTimeSeconds, latencyBudgetMs, dataCapturePercent). */
  readonly model: ResolvedModelConfig;
  readonly artifactStore: ArtifactStore;
  readonly registry: ModelRegistry;
  /**
   * Memory in MB; Lambda allots CPU in proportion (1,769 MB is one full vCPU).
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Execution environments kept initialised (model loaded) on the live alias.
   * @default - none: the first request of a new environment pays the cold start
   */
  readonly provisionedConcurrency?: number;
  /**
   * Serve this registry version instead of the production one. Changing it publishes a new
   * function version, which CodeDeploy shifts to with the canary: how a model version is canaried.
   * @default - the registry's production version, re-read every modelRefreshInterval
   */
  readonly pinnedModelVersion?: number;
  /**
   * TTL of the predict function's registry cache: how often a warm function re-reads the
   * production and staging pointers (a promotion, a rollback or a new canary reaches it within this).
   * @default Duration.seconds(30)
   */
  readonly modelRefreshInterval?: Duration;
  /**
   * Instruction set of the function and of the onnxruntime layer.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export class ServerlessInference extends Construct {
  readonly predictFunction: MlopsFunction;
  /** What callers invoke; CodeDeploy moves it between function versions. */
  readonly alias: lambda.Alias;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** Invocation errors above ERROR_RATE_ALARM_PERCENT of invocations. */
  readonly errorRateAlarm: cloudwatch.Alarm;
  /** p99 duration above the model's latency budget. */
  readonly latencyAlarm: cloudwatch.Alarm;
  /** Failed canary requests above CANARY_ERROR_RATE_PERCENT of canary requests (rolls a model version back). */
  readonly canaryErrorRateAlarm: cloudwatch.Alarm;
  /** p99 CanaryLatency above the model's latency budget (rolls a model version back). */
  readonly canaryLatencyAlarm: cloudwatch.Alarm;
  /** The alarms the deploy function reads during a model-version canary. */
  readonly canaryAlarms: readonly cloudwatch.Alarm[];
  /** The pipeline's rollout contract (begin/poll) for this model: stages the candidate, watches the canary alarms. */
  readonly deployFunction: MlopsFunction;

  private readonly modelName: string;

  constructor(scope: Construct, id: string, props: ServerlessInferenceProps) {
    super(scope, id);
    const { model } = props;
    this.modelName = model.name;
    const { canaryPercent, bakeTimeSeconds, latencyBudgetMs, dataCapturePercent } = model.serving;
    validateProps(props);
    const schema = JSON.stringify(modelSchemaFor(model));
    if (Buffer.byteLength(schema) > MAX_SCHEMA_ENVIRONMENT_BYTES) {
      throw new Error(
        `model "${model.name}": its feature schema is ${Buffer.byteLength(schema)} bytes, over the ${MAX_SCHEMA_ENVIRONMENT_BYTES} bytes Lambda environment variables leave for it`,
      );
    }
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const refreshSeconds = (props.modelRefreshInterval ?? Duration.seconds(30)).toSeconds();
    const runtime = new OnnxRuntimeLayer(this, 'OnnxRuntime', { architecture });

    this.predictFunction = new MlopsFunction(this, 'Function', {
      functionDirectory: 'predict',
      description: `cdk-mlops ${model.name}: ONNX inference of the registry's production version, with a canary of its Staging version`,
      memorySize: props.memorySize ?? 1024,
      timeout: Duration.seconds(30),
      architecture,
      layers: [runtime.layer],
      logRetention: props.logRetention,
      // onnxruntime-node comes from the layer (FUNCTION_EXTERNAL_MODULES leaves it out of the bundle).
      environment: {
        TABLE_NAME: props.registry.table.tableName,
        MODEL_SCHEMA: schema,
        CAPTURE_BUCKET: props.artifactStore.captureBucket.bucketName,
        CAPTURE_PERCENT: String(dataCapturePercent),
        CAPTURE_COLUMNS: JSON.stringify(model.serving.captureColumns),
        MODEL_REFRESH_SECONDS: String(refreshSeconds),
        CANARY_PERCENT: String(canaryPercent),
        ...(props.pinnedModelVersion === undefined ? {} : { MODEL_VERSION: String(props.pinnedModelVersion) }),
      },
    });
    props.artifactStore.grantReadArtifacts(this.predictFunction, `${ARTIFACT_PREFIXES.models}${model.name}/`);
    props.artifactStore.grantWriteCapture(this.predictFunction, `${model.name}/serverless/`);
    props.registry.grantRead(this.predictFunction);
    Validations.of(this.predictFunction.role!).acknowledge(
      {
        id: objectPrefixFinding(props.artifactStore.artifactsBucket, `${ARTIFACT_PREFIXES.models}${model.name}/`),
        reason:
          "Reads the artifact of whichever version the registry names; version keys are created after deployment, under this model's prefix only.",
      },
      {
        id: objectPrefixFinding(props.artifactStore.captureBucket, `${model.name}/serverless/`),
        reason: "Capture objects get time-partitioned keys generated at run time, under this model's serverless prefix only.",
      },
    );

    this.alias = new lambda.Alias(this, 'LiveAlias', {
      aliasName: LIVE_ALIAS_NAME,
      version: this.predictFunction.currentVersion,
      provisionedConcurrentExecutions: props.provisionedConcurrency,
    });

    const errors = this.alias.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM });
    const invocations = this.alias.metricInvocations({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM });
    this.errorRateAlarm = new cloudwatch.Alarm(this, 'ErrorRateAlarm', {
      alarmDescription: `${model.name} serverless inference: errors above ${ERROR_RATE_ALARM_PERCENT}% of invocations (rolls a deployment back)`,
      metric: new cloudwatch.MathExpression({
        expression: '100 * errors / MAX([invocations, 1])',
        usingMetrics: { errors, invocations },
        period: Duration.minutes(1),
        label: 'Error rate (%)',
      }),
      threshold: ERROR_RATE_ALARM_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyAlarm', {
      alarmDescription: `${model.name} serverless inference: p99 duration above the ${latencyBudgetMs} ms budget (rolls a deployment back)`,
      metric: this.alias.metricDuration({ period: Duration.minutes(1), statistic: cloudwatch.Stats.p(99) }),
      threshold: latencyBudgetMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      alias: this.alias,
      deploymentConfig: new codedeploy.LambdaDeploymentConfig(this, 'Canary', {
        trafficRouting: new codedeploy.TimeBasedCanaryTrafficRouting({
          percentage: canaryPercent,
          // CodeDeploy counts canary intervals in whole minutes, at least one.
          interval: Duration.minutes(Math.max(1, Math.ceil(bakeTimeSeconds / 60))),
        }),
      }),
      alarms: [this.errorRateAlarm, this.latencyAlarm],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    Validations.of(this.deploymentGroup).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        'The AWS-maintained minimal policy for CodeDeploy Lambda deployments (alias updates, reading the named alarms); a hand-written copy would drift from what CodeDeploy needs.',
    });
    for (const alarm of [this.errorRateAlarm, this.latencyAlarm]) {
      Validations.of(alarm).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_alarm_action_check',
        reason: 'Its consumer is the CodeDeploy deployment group, which polls it and rolls the alias back; it needs no alarm action.',
      });
    }

    const canaryMetric = (metricName: string, statistic: string) =>
      this.canaryMetric(metricName, statistic, { period: Duration.minutes(1) });
    this.canaryErrorRateAlarm = new cloudwatch.Alarm(this, 'CanaryErrorRateAlarm', {
      alarmDescription: `${model.name} model-version canary: failed canary requests above ${CANARY_ERROR_RATE_PERCENT}% (rolls the candidate back)`,
      metric: new cloudwatch.MathExpression({
        expression: '100 * failed / MAX([requests, 1])',
        usingMetrics: {
          failed: canaryMetric(CANARY_METRICS.failedRequests, cloudwatch.Stats.SUM),
          requests: canaryMetric(CANARY_METRICS.requests, cloudwatch.Stats.SUM),
        },
        period: Duration.minutes(1),
        label: 'Canary error rate (%)',
      }),
      threshold: CANARY_ERROR_RATE_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.canaryLatencyAlarm = new cloudwatch.Alarm(this, 'CanaryLatencyAlarm', {
      alarmDescription: `${model.name} model-version canary: p99 canary latency above the ${latencyBudgetMs} ms budget (rolls the candidate back)`,
      metric: canaryMetric(CANARY_METRICS.latency, cloudwatch.Stats.p(99)),
      threshold: latencyBudgetMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.canaryAlarms = [this.canaryErrorRateAlarm, this.canaryLatencyAlarm];
    for (const alarm of this.canaryAlarms) {
      Validations.of(alarm).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_alarm_action_check',
        reason: "Its consumer is the model's deploy function, which reads it on every rollout poll; it needs no alarm action.",
      });
    }

    this.deployFunction = new MlopsFunction(this, 'DeployFunction', {
      functionDirectory: 'deploy-serverless',
      description: `cdk-mlops ${model.name}: model-version canary rollouts (stage the candidate, watch the canary alarms, reject on alarm)`,
      memorySize: 256,
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      environment: {
        MODEL_NAME: model.name,
        TABLE_NAME: props.registry.table.tableName,
        REGISTRY_FUNCTION_NAME: props.registry.registryFunction.functionName,
        CANARY_PERCENT: String(canaryPercent),
        BAKE_TIME_SECONDS: String(bakeTimeSeconds),
        MODEL_REFRESH_SECONDS: String(refreshSeconds),
        CANARY_ALARM_NAMES: this.canaryAlarms.map((alarm) => alarm.alarmName).join(','),
      },
    });
    props.registry.grantRead(this.deployFunction);
    props.registry.grantInvoke(this.deployFunction);
    this.grantReadCanaryAlarms(this.deployFunction);
    Validations.of(this.deployFunction.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.registry.registryFunction.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: 'Invoking the registry function by any of its versions or aliases (grantInvoke adds the qualified ARN).',
    });
  }

  /** DescribeAlarms on the canary alarms only (the action supports alarm-level resources). */
  grantReadCanaryAlarms(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudwatch:DescribeAlarms'],
      resourceArns: this.canaryAlarms.map((alarm) => alarm.alarmArn),
    });
  }

  /** Requests the canary (the Staging version) answered, per period. */
  metricCanaryRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.canaryMetric(CANARY_METRICS.requests, cloudwatch.Stats.SUM, props);
  }

  /** p99 of the canary's latency, in milliseconds. */
  metricCanaryLatencyP99(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.canaryMetric(CANARY_METRICS.latency, cloudwatch.Stats.p(99), props);
  }

  private canaryMetric(metricName: string, statistic: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [METRIC_DIMENSIONS.model]: this.modelName },
      statistic,
      ...props,
    });
  }

  /** Lets a principal invoke the live alias (the API, a batch job). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.alias.grantInvoke(grantee);
  }

  /** p99 duration of the live alias, in milliseconds. */
  metricLatencyP99(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricDuration({ statistic: cloudwatch.Stats.p(99), ...props });
  }
}

function validateProps(props: ServerlessInferenceProps): void {
  const { canaryPercent, bakeTimeSeconds } = props.model.serving;
  if (!Number.isInteger(canaryPercent) || canaryPercent < CANARY_PERCENT_RANGE.min || canaryPercent > CANARY_PERCENT_RANGE.max) {
    throw new Error(`canaryPercent must be between ${CANARY_PERCENT_RANGE.min} and ${CANARY_PERCENT_RANGE.max}, got ${canaryPercent}`);
  }
  if (bakeTimeSeconds < 0 || bakeTimeSeconds > MAX_TRAFFIC_WAIT_INTERVAL_SECONDS) {
    throw new Error(`bakeTimeSeconds must be between 0 and ${MAX_TRAFFIC_WAIT_INTERVAL_SECONDS}, got ${bakeTimeSeconds}`);
  }
  const concurrency = props.provisionedConcurrency;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new Error(`provisionedConcurrency must be a positive whole number, got ${concurrency}`);
  }
  const pinned = props.pinnedModelVersion;
  if (pinned !== undefined && (!Number.isInteger(pinned) || pinned < 1)) {
    throw new Error(`pinnedModelVersion must be a positive whole number, got ${pinned}`);
  }
}

/**
 * A SageMaker real-time endpoint for one model, wrapped so nothing else touches the L1
 * shapes. The stack creates the endpoint on a bootstrap model (the serving image without a
 * model artifact: healthy, refusing invocations until a version is deployed) and its
 * configuration (KMS-encrypted volumes, data capture to the capture bucket); from then on only
 * the deploy function moves it, with a blue/green canary or linear policy whose rollback alarms
 * (server errors, p99 model latency, server error rate) are created here. The endpoint is a
 * create-only custom resource (endpoint-resource.ts): no `cdk deploy` changes which version
 * serves. Target-tracking autoscaling of the variant's instance count. With serving.shadowPercent
 * above 0 each rollout first runs the candidate as the endpoint's shadow variant; the deploy
 * function then also reads the shadow's metrics and capture (grantReadShadowEvidence).
 */
import { ArnFormat, Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import {
  type EndpointDeploymentSettings,
  type EndpointTarget,
  type SageMakerDeploymentConfig,
  sageMakerDeploymentConfig,
  type TrafficShifting,
} from '../../contracts/endpoint-deployment';
import type { ResolvedModelConfig } from '../../contracts/platform-config';
import { HOURS_PER_MONTH, monthlyCostUsd, requireInstanceHourUsd } from '../../contracts/pricing';
import { CANARY_PERCENT_RANGE, endpointAutoscalingProblems, MAX_TRAFFIC_WAIT_INTERVAL_SECONDS } from '../../contracts/serving';
import { servingContainerEnvironment } from '../../contracts/serving-container';
import { type ModelSchema, modelSchemaFor } from '../../contracts/serving-schema';
import { objectPrefixFinding } from './acknowledgements';
import type { ArtifactStore } from './artifact-store';
import { createDeployEndpointFunction } from './deploy-endpoint';
import { createRollbackAlarms } from './endpoint-alarms';
import { EndpointResource, grantVolumeKeyUse } from './endpoint-resource';
import type { MlopsFunction } from './mlops-function';
import type { ModelRegistry } from './model-registry';
import type { SageMakerNetwork } from './sagemaker-network';
import { ServingImage, servingImagePlatformFor } from './serving-image';

/** The capture bucket's folder (under the model's) for shadow-phase capture. */
export const SHADOW_CAPTURE_FOLDER = 'shadow';
/** `TerminationWaitInSeconds` upper bound. */
export const MAX_TERMINATION_WAIT_SECONDS = 3600;
/** `MaximumExecutionTimeoutInSeconds` bounds. */
export const MAXIMUM_EXECUTION_TIMEOUT_RANGE = { min: 600, max: 28_800 } as const;
/** `AutoRollbackConfiguration.Alarms` holds 1 to 10 alarms. */
export const ROLLBACK_ALARMS_RANGE = { min: 1, max: 10 } as const;
/**
 * SageMaker names (endpoint, endpoint config, model) have at most 63 characters; the deploy
 * function appends `-v<version>-<time>` to this one, so it keeps room for that.
 */
const ENDPOINT_NAME_MAX_LENGTH = 40;

export interface SageMakerEndpointProps {
  /** The model, with serving settings merged (instance type and counts, canary, bake time, latency budget, capture). */
  readonly model: ResolvedModelConfig;
  readonly artifactStore: ArtifactStore;
  /**
   * The VPC placement of the endpoint's models (their `VpcConfig`), the bootstrap model and every
   * version the deploy function creates alike.
   * @default - the models run in SageMaker's own network (with network isolation)
   */
  readonly network?: SageMakerNetwork;
  /**
   * An ECR image of your own serving container (`{region}` is replaced by the stack's region);
   * it must keep the contract of docs/serving-container.md, the bootstrap mode included.
   * @default - the platform's ONNX serving container (containers/onnx-serving), built by `cdk deploy` as a Docker image asset
   */
  readonly imageUri?: string;
  /** The registry the deploy function reads versions from and records rollout outcomes in. */
  readonly registry: ModelRegistry;
  /**
   * Retention of the deploy function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Production variant name; every deployment keeps it, so autoscaling and alarms stay attached.
   * @default 'AllTraffic'
   */
  readonly variantName?: string;
  /**
   * CANARY shifts canaryPercent of capacity, bakes, then the rest; LINEAR shifts canaryPercent per step.
   * @default 'CANARY'
   */
  readonly trafficShifting?: TrafficShifting;
  /**
   * How long the old fleet is kept after the full shift, so a late alarm still rolls back instantly.
   * @default Duration.minutes(5)
   */
  readonly terminationWait?: Duration;
  /**
   * Upper bound on a whole deployment.
   * @default - enough for every step's bake time plus the termination wait and 10 minutes of provisioning, at least 10 minutes
   */
  readonly maximumExecutionTimeout?: Duration;
  /**
   * More alarms that roll a deployment back (with the three built-in ones, at most 10).
   * @default - only the built-in alarms
   */
  readonly additionalRollbackAlarms?: cloudwatch.IAlarm[];
  /** @default Duration.minutes(5) */
  readonly scaleInCooldown?: Duration;
  /** @default Duration.minutes(1) */
  readonly scaleOutCooldown?: Duration;
  /**
   * On-demand USD per instance-hour of `serving.instanceType`, for the idle alarm's monthly cost.
   * @default - the platform's price table (contracts/pricing.ts); a type it lacks is an error
   */
  readonly instanceHourUsd?: number;
}

export class SageMakerEndpoint extends Construct {
  readonly endpointName: string;
  readonly variantName: string;
  /** The role SageMaker runs the model container with (reads artifacts, writes capture). */
  readonly executionRole: iam.Role;
  /** The models' VpcConfig, when the endpoint is placed in a VPC. */
  readonly vpcConfig?: { readonly Subnets: string[]; readonly SecurityGroupIds: string[] };
  readonly invocation5xxAlarm: cloudwatch.Alarm;
  readonly modelLatencyAlarm: cloudwatch.Alarm;
  readonly errorRateAlarm: cloudwatch.Alarm;
  /**
   * Idle cost: no invocation for serving.idleHours while the instances bill. Not a rollback alarm
   * (an idle endpoint is not a failed deployment); the stack sends it to the alert topic.
   */
  readonly idleAlarm: cloudwatch.Alarm;
  /** Every alarm that rolls a deployment back. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
  /** The deployment policy in the SageMaker API's shape, for UpdateEndpoint calls made by the deploy function. */
  readonly deploymentConfig: SageMakerDeploymentConfig;
  readonly scalableTarget: appscaling.ScalableTarget;
  /** Rolls registry versions out to this endpoint with the deployment policy, and rolls back on demand. */
  readonly deployFunction: MlopsFunction;
  /** The serving image: the user's, with the region filled in, or the platform's image asset. */
  readonly imageUri: string;
  /** The platform's serving image, when no imageUri was given. */
  readonly servingImage?: ServingImage;
  /** The serving schema every model of this endpoint gets in its container environment. */
  readonly modelSchema: ModelSchema;
  /** The model the endpoint is created with: the serving image without a model artifact. */
  readonly bootstrapModel: sagemaker.CfnModel;
  /** The configuration the endpoint is created with (the bootstrap model's). */
  readonly bootstrapConfig: sagemaker.CfnEndpointConfig;
  /** The create-only custom resource that owns the endpoint. */
  readonly endpoint: EndpointResource;
  /** Where data capture writes: `s3://<capture bucket>/<model>/endpoint`. */
  readonly captureDestination: string;
  /**
   * Where the shadow configuration's capture writes (both variants, every request):
   * `s3://<capture bucket>/<model>/shadow`, apart from the endpoint's own so drift checks never
   * profile a candidate's answers.
   */
  readonly shadowCaptureDestination: string;

  private readonly model: ResolvedModelConfig;
  private readonly artifactStore: ArtifactStore;

  constructor(scope: Construct, id: string, props: SageMakerEndpointProps) {
    super(scope, id);
    const { model, artifactStore } = props;
    const serving = model.serving;
    this.model = model;
    this.artifactStore = artifactStore;
    this.variantName = props.variantName ?? 'AllTraffic';
    const trafficShifting = props.trafficShifting ?? 'CANARY';
    const terminationWait = (props.terminationWait ?? Duration.minutes(5)).toSeconds();
    const steps = trafficShifting === 'CANARY' ? 1 : Math.ceil(100 / serving.canaryPercent) - 1;
    const maximumExecutionTimeout =
      props.maximumExecutionTimeout?.toSeconds() ??
      Math.min(
        MAXIMUM_EXECUTION_TIMEOUT_RANGE.max,
        Math.max(MAXIMUM_EXECUTION_TIMEOUT_RANGE.min, steps * serving.bakeTimeSeconds + terminationWait + 600),
      );
    validateProps(props, { terminationWait, maximumExecutionTimeout, steps });

    // A fixed name: the alarms need the endpoint's name and the endpoint names the alarms,
    // which with a CloudFormation-generated name would be a dependency cycle.
    this.endpointName = Names.uniqueResourceName(this, { maxLength: ENDPOINT_NAME_MAX_LENGTH, separator: '-' }).toLowerCase();
    this.captureDestination = `s3://${artifactStore.captureBucket.bucketName}/${model.name}/endpoint`;
    this.shadowCaptureDestination = `s3://${artifactStore.captureBucket.bucketName}/${model.name}/${SHADOW_CAPTURE_FOLDER}`;
    const shadowed = serving.shadowPercent > 0;

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `cdk-mlops ${model.name} endpoint: pulls the serving image, reads model artifacts, writes data capture`,
    });
    artifactStore.grantReadArtifacts(this.executionRole, `${ARTIFACT_PREFIXES.models}${model.name}/`);
    artifactStore.grantWriteCapture(this.executionRole, `${model.name}/endpoint/`);
    if (shadowed) artifactStore.grantWriteCapture(this.executionRole, `${model.name}/${SHADOW_CAPTURE_FOLDER}/`);
    props.network?.grantNetworkInterfaces(this.executionRole);
    this.vpcConfig = props.network?.vpcConfig;
    if (props.imageUri) {
      this.imageUri = props.imageUri.replace('{region}', Stack.of(this).region);
      this.grantImagePull(this.executionRole, props.imageUri);
    } else {
      this.servingImage = new ServingImage(this, 'ServingImage', { platform: servingImagePlatformFor(serving.instanceType) });
      this.imageUri = this.servingImage.imageUri;
      this.servingImage.grantPull(this.executionRole);
    }
    this.grantContainerTelemetry(this.executionRole);
    Validations.of(this.executionRole).acknowledge(
      {
        id: objectPrefixFinding(artifactStore.artifactsBucket, `${ARTIFACT_PREFIXES.models}${model.name}/`),
        reason:
          "SageMaker downloads whichever version's artifact is deployed; version keys are created later, under this model's prefix only.",
      },
      {
        id: objectPrefixFinding(artifactStore.captureBucket, `${model.name}/endpoint/`),
        reason: "Data capture writes time-partitioned keys it generates, under this model's endpoint prefix only.",
      },
      ...(shadowed
        ? [
            {
              id: objectPrefixFinding(artifactStore.captureBucket, `${model.name}/${SHADOW_CAPTURE_FOLDER}/`),
              reason: "In a shadow phase data capture writes time-partitioned keys it generates, under this model's shadow prefix only.",
            },
          ]
        : []),
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken is authorised only on "*"; cloudwatch:PutMetricData has no resource type and is limited to the SageMaker namespaces by condition.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/${this.endpointName}:*]`,
        reason: "The container's log streams are created at run time inside this endpoint's own log group.",
      },
    );

    this.modelSchema = modelSchemaFor(model);
    this.bootstrapModel = this.createBootstrapModel();
    this.bootstrapConfig = new sagemaker.CfnEndpointConfig(
      this,
      'BootstrapConfig',
      this.endpointConfigProperties(this.bootstrapModel.attrModelName),
    );

    const alarms = createRollbackAlarms(this, {
      modelName: model.name,
      endpointName: this.endpointName,
      variantName: this.variantName,
      latencyBudgetMs: serving.latencyBudgetMs,
    });
    this.invocation5xxAlarm = alarms.invocation5xx;
    this.modelLatencyAlarm = alarms.modelLatency;
    this.errorRateAlarm = alarms.errorRate;
    if (props.instanceHourUsd !== undefined && !(props.instanceHourUsd > 0)) {
      throw new Error(`instanceHourUsd must be a positive price in US dollars, got ${props.instanceHourUsd}`);
    }
    const instanceHourUsd = props.instanceHourUsd ?? requireInstanceHourUsd(serving.instanceType, `model "${model.name}"'s endpoint`);
    this.idleAlarm = new cloudwatch.Alarm(this, 'IdleAlarm', {
      alarmDescription: idleAlarmDescription(model.name, serving, instanceHourUsd),
      metric: new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName: 'Invocations',
        dimensionsMap: { EndpointName: this.endpointName, VariantName: this.variantName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.hours(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: serving.idleHours,
      // SageMaker publishes no Invocations datapoint for an hour without traffic: missing is idle.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.rollbackAlarms = [this.invocation5xxAlarm, this.modelLatencyAlarm, this.errorRateAlarm, ...(props.additionalRollbackAlarms ?? [])];

    const settings: EndpointDeploymentSettings = {
      trafficShifting,
      stepPercent: serving.canaryPercent,
      waitIntervalSeconds: serving.bakeTimeSeconds,
      terminationWaitSeconds: terminationWait,
      maximumExecutionTimeoutSeconds: maximumExecutionTimeout,
      rollbackAlarmNames: this.rollbackAlarms.map((alarm) => alarm.alarmName),
    };
    this.deploymentConfig = sageMakerDeploymentConfig(settings);
    // SageMaker reads the rollback alarms with the execution role while it bakes a deployment.
    this.executionRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: this.rollbackAlarms.map((alarm) => alarm.alarmArn) }),
    );
    this.endpoint = new EndpointResource(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfig: this.bootstrapConfig,
      key: artifactStore.key,
      logRetention: props.logRetention,
    });
    // The container starts with the execution role: its grants must exist before the endpoint.
    this.endpoint.node.addDependency(this.executionRole);

    this.scalableTarget = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${this.variantName}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: serving.minInstances,
      maxCapacity: serving.maxInstances,
    });
    this.scalableTarget.node.addDependency(this.endpoint);
    this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: serving.targetInvocationsPerInstance,
      scaleInCooldown: props.scaleInCooldown ?? Duration.minutes(5),
      scaleOutCooldown: props.scaleOutCooldown ?? Duration.minutes(1),
    });

    const target: EndpointTarget = {
      endpointName: this.endpointName,
      variantName: this.variantName,
      executionRoleArn: this.executionRole.roleArn,
      imageUri: this.imageUri,
      modelSchema: this.modelSchema,
      instanceType: serving.instanceType,
      initialInstanceCount: serving.minInstances,
      kmsKeyId: artifactStore.key.keyArn,
      ...(serving.dataCapturePercent > 0
        ? {
            dataCapture: {
              samplingPercent: serving.dataCapturePercent,
              destinationS3Uri: this.captureDestination,
              kmsKeyId: artifactStore.key.keyArn,
            },
          }
        : {}),
      deploymentConfig: this.deploymentConfig,
      ...(this.vpcConfig ? { vpcConfig: this.vpcConfig } : {}),
      ...(shadowed
        ? {
            shadow: {
              percent: serving.shadowPercent,
              seconds: serving.shadowSeconds,
              minRequests: serving.minShadowRequests,
              minAgreement: serving.minShadowAgreement,
              tolerance: serving.shadowTolerance,
              latencyBudgetMs: serving.latencyBudgetMs,
              captureS3Uri: this.shadowCaptureDestination,
            },
          }
        : {}),
    };
    this.deployFunction = createDeployEndpointFunction(this, 'DeployFunction', {
      modelName: model.name,
      target,
      registry: props.registry,
      endpoint: this,
      logRetention: props.logRetention,
    });
  }

  /** The endpoint's ARN. */
  get endpointArn(): string {
    return this.endpoint.endpointArn;
  }

  /** Lets a principal call InvokeEndpoint (the API, batch clients). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [this.endpointArn] });
  }

  /**
   * What the deploy function needs to roll a registry version out: create models and endpoint
   * configurations named after this endpoint, update and describe it, pass the execution role,
   * and let SageMaker create the grant on the volume key the configurations name.
   */
  grantDeploy(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const prefix = this.endpointName;
    const configurations = stack.formatArn({ service: 'sagemaker', resource: 'endpoint-config', resourceName: `${prefix}-*` });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:CreateModel'],
      resourceArns: [stack.formatArn({ service: 'sagemaker', resource: 'model', resourceName: `${prefix}-*` })],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:CreateEndpointConfig', 'sagemaker:DescribeEndpointConfig'],
      resourceArns: [configurations],
    });
    // UpdateEndpoint authorises on both resource types: the endpoint, and the configuration it moves to.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:UpdateEndpoint'],
      resourceArns: [this.endpointArn, configurations],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:DescribeEndpoint'], resourceArns: [this.endpointArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.executionRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    });
    grantVolumeKeyUse(grantee, this.artifactStore.key);
  }

  /**
   * What the deploy function reads to judge a candidate in shadow: the shadow variant's
   * AWS/SageMaker metrics (GetMetricData, which CloudWatch authorises only on "*") and both
   * variants' captured records under this endpoint's folder of the shadow capture prefix.
   */
  grantReadShadowEvidence(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['cloudwatch:GetMetricData'], resourceArns: ['*'] });
    this.artifactStore.grantReadCapture(grantee, this.shadowCapturePrefix);
  }

  /** The bucket data capture writes to (the artifact store's capture bucket). */
  get captureBucket(): s3.IBucket {
    return this.artifactStore.captureBucket;
  }

  /** The capture bucket's key prefix of this endpoint's shadow-phase records: `<model>/shadow/<endpoint>/`. */
  get shadowCapturePrefix(): string {
    return `${this.model.name}/${SHADOW_CAPTURE_FOLDER}/${this.endpointName}/`;
  }

  /**
   * The endpoint configuration for a model: one variant (this construct's name), KMS-encrypted
   * volumes, data capture of inputs and outputs. Shared by the stack's configuration and,
   * through the deploy function's environment, by every configuration the pipeline creates.
   */
  endpointConfigProperties(modelName: string): sagemaker.CfnEndpointConfigProps {
    const serving = this.model.serving;
    const key = this.artifactStore.key;
    return {
      kmsKeyId: key.keyArn,
      productionVariants: [
        {
          variantName: this.variantName,
          modelName,
          instanceType: serving.instanceType,
          initialInstanceCount: serving.minInstances,
          initialVariantWeight: 1,
        },
      ],
      ...(serving.dataCapturePercent > 0
        ? {
            dataCaptureConfig: {
              enableCapture: true,
              initialSamplingPercentage: serving.dataCapturePercent,
              destinationS3Uri: this.captureDestination,
              kmsKeyId: key.keyArn,
              captureOptions: [{ captureMode: 'Input' }, { captureMode: 'Output' }],
              captureContentTypeHeader: { jsonContentTypes: ['application/json'] },
            },
          }
        : {}),
    };
  }

  /** Invocations of the variant per minute, for dashboards. */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName: 'Invocations',
      dimensionsMap: { EndpointName: this.endpointName, VariantName: this.variantName },
      statistic: cloudwatch.Stats.SUM,
      ...props,
    });
  }

  /**
   * The serving image without a ModelDataUrl and without MODEL_VERSION: the container's bootstrap
   * mode, healthy and refusing invocations with NoModelDeployed until a version is rolled out.
   * Its environment is the one every deployed version gets, without the version.
   */
  private createBootstrapModel(): sagemaker.CfnModel {
    const model = new sagemaker.CfnModel(this, 'BootstrapModel', {
      executionRoleArn: this.executionRole.roleArn,
      primaryContainer: { image: this.imageUri, environment: servingContainerEnvironment(this.modelSchema) },
      // The container only answers invocations; SageMaker itself downloads a version's artifact.
      enableNetworkIsolation: true,
      ...(this.vpcConfig ? { vpcConfig: { subnets: this.vpcConfig.Subnets, securityGroupIds: this.vpcConfig.SecurityGroupIds } } : {}),
    });
    model.node.addDependency(this.executionRole);
    Validations.of(model).acknowledge({
      id: 'AwsSolutions-SM1',
      reason:
        'The model runs with network isolation (no outbound network at all), which is stricter than VPC placement; with a network configured it is placed in the VPC too.',
    });
    return model;
  }

  /** Pull rights on the image's repository only; the URI is parsed before `{region}` becomes a token. */
  private grantImagePull(role: iam.Role, imageUri: string): void {
    const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+|\{region\})\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(imageUri);
    if (!match)
      throw new Error(`imageUri must be an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag]), got ${imageUri}`);
    const [, account, region, repository] = match;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [
          Stack.of(this).formatArn({
            service: 'ecr',
            account,
            region: region === '{region}' ? Stack.of(this).region : region,
            resource: 'repository',
            resourceName: repository,
          }),
        ],
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
  }

  private grantContainerTelemetry(role: iam.Role): void {
    const stack = Stack.of(this);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `/aws/sagemaker/Endpoints/${this.endpointName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': ['/aws/sagemaker/Endpoints', 'AWS/SageMaker'] } },
      }),
    );
  }
}

function validateProps(
  props: SageMakerEndpointProps,
  derived: { terminationWait: number; maximumExecutionTimeout: number; steps: number },
): void {
  const { canaryPercent, bakeTimeSeconds, instanceType, minInstances, maxInstances } = props.model.serving;
  if (!Number.isInteger(canaryPercent) || canaryPercent < CANARY_PERCENT_RANGE.min || canaryPercent > CANARY_PERCENT_RANGE.max) {
    throw new Error(`canaryPercent must be between ${CANARY_PERCENT_RANGE.min} and ${CANARY_PERCENT_RANGE.max}, got ${canaryPercent}`);
  }
  if (bakeTimeSeconds < 0 || bakeTimeSeconds > MAX_TRAFFIC_WAIT_INTERVAL_SECONDS) {
    throw new Error(
      `bakeTimeSeconds (WaitIntervalInSeconds) must be between 0 and ${MAX_TRAFFIC_WAIT_INTERVAL_SECONDS}, got ${bakeTimeSeconds}`,
    );
  }
  if (derived.terminationWait > MAX_TERMINATION_WAIT_SECONDS) {
    throw new Error(`terminationWait must be at most ${MAX_TERMINATION_WAIT_SECONDS} seconds, got ${derived.terminationWait}`);
  }
  const timeout = derived.maximumExecutionTimeout;
  if (timeout < MAXIMUM_EXECUTION_TIMEOUT_RANGE.min || timeout > MAXIMUM_EXECUTION_TIMEOUT_RANGE.max) {
    throw new Error(
      `maximumExecutionTimeout must be between ${MAXIMUM_EXECUTION_TIMEOUT_RANGE.min} and ${MAXIMUM_EXECUTION_TIMEOUT_RANGE.max} seconds, got ${timeout}`,
    );
  }
  const needed = derived.steps * bakeTimeSeconds + derived.terminationWait;
  if (timeout < needed) {
    throw new Error(
      `maximumExecutionTimeout must cover ${derived.steps} bake interval(s) of ${bakeTimeSeconds} s plus the ${derived.terminationWait} s termination wait (${needed} s), got ${timeout}`,
    );
  }
  const alarms = 3 + (props.additionalRollbackAlarms?.length ?? 0);
  if (alarms > ROLLBACK_ALARMS_RANGE.max) {
    throw new Error(
      `rollback alarms must number ${ROLLBACK_ALARMS_RANGE.min} to ${ROLLBACK_ALARMS_RANGE.max} (3 built in + additionalRollbackAlarms), got ${alarms}`,
    );
  }
  for (const problem of endpointAutoscalingProblems({ mode: 'endpoint', instanceType, minInstances, maxInstances })) {
    throw new Error(`serving.${problem.path.join('.')}: ${problem.message}`);
  }
}

/**
 * The idle alarm's text (it reaches the alert topic's subscribers): what sits idle and what it
 * costs a month at the endpoint's minimum instance count, which autoscaling never goes below.
 */
export function idleAlarmDescription(
  modelName: string,
  serving: Pick<ResolvedModelConfig['serving'], 'idleHours' | 'minInstances' | 'instanceType'>,
  instanceHourUsd: number,
): string {
  const monthly = monthlyCostUsd(serving.minInstances, instanceHourUsd);
  return (
    `${modelName} endpoint: no invocation in ${serving.idleHours} h while ${serving.minInstances} x ${serving.instanceType} bill ` +
    `$${monthly.toFixed(2)} a month (${serving.minInstances} x $${instanceHourUsd}/h x ${HOURS_PER_MONTH} h, on-demand; idle cost)`
  );
}

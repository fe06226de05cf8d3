/**
 * MlopsPlatform, the L3 construct that is the whole platform: its props are the platform
 * configuration (contracts/platform-config.ts, validated at construction); it composes the
 * constructs of lib/constructs/ and passes references between them. The cdk.json app
 * (MlopsStack) is its default consumer; a platform team embeds it in its own stack.
 */
import { CfnOutput } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { modelDocument } from '../contracts/model';
import { modelCardConfigOf } from '../contracts/model-card';
import {
  namePrefixOf,
  type PlatformConfig,
  type PlatformConfigInput,
  parsePlatformProps,
  resolveModel,
} from '../contracts/platform-config';
import { requireInstanceHourUsd } from '../contracts/pricing';
import { trainingJobNamePrefix } from '../contracts/training-job';
import type { PredictTarget } from './constructs/api-integrations';
import { ArtifactStore, checkExistingXorProps } from './constructs/artifact-store';
import { BatchInference } from './constructs/batch-inference';
import { DriftMonitor } from './constructs/drift-monitor';
import { ModelEvaluation } from './constructs/evaluate-model';
import { ModelRegistry } from './constructs/model-registry';
import { Observability } from './constructs/observability';
import { PipelineApi } from './constructs/pipeline-api';
import { RegistryEvents } from './constructs/registry-events';
import { SageMakerEndpoint } from './constructs/sagemaker-endpoint';
import { SageMakerNetwork } from './constructs/sagemaker-network';
import { ServerlessInference } from './constructs/serverless-inference';
import { TrainingPipeline } from './constructs/training-pipeline';
import { DataValidation } from './constructs/validate-data';

/**
 * The resources a platform team brings instead of letting the platform create them, in the
 * aws-solutions-constructs way: `existingX` or `xProps`, never both. Grants target the given
 * resources (their ARNs and keys); the platform never changes their policies.
 */
export interface PlatformResourceProps {
  /**
   * An existing bucket (e.g. the data lake's) the pipelines read datasets from, under
   * `<model>/`. Import it with its key, `s3.Bucket.fromBucketAttributes(this, 'Lake', { bucketArn,
   * encryptionKey })`, so the readers are granted `kms:Decrypt` on it.
   * @default - a new bucket, KMS-encrypted with the platform key (see datasetsBucketProps)
   */
  readonly existingDatasetsBucket?: s3.IBucket;
  /**
   * Props of the new datasets bucket, over the platform's secure defaults. Not with existingDatasetsBucket.
   * @default - KMS (platform key), versioned, SSL-only, private, access-logged, tiered to IA and Glacier
   */
  readonly datasetsBucketProps?: s3.BucketProps;
  /**
   * An existing KMS key encrypting the artifacts and capture buckets (and a new datasets
   * bucket), the registry table and the alert topic. Its key policy must let the account's IAM
   * policies grant it, and let `cloudwatch.amazonaws.com` and `budgets.amazonaws.com` use it
   * for the alert topic.
   * @default - new customer-managed keys, rotated yearly (see encryptionKeyProps)
   */
  readonly existingEncryptionKey?: kms.IKey;
  /**
   * Props of the new keys of the artifact store and the registry table, over the defaults. Not
   * with existingEncryptionKey.
   * @default - rotation on, retained with the stack's data
   */
  readonly encryptionKeyProps?: kms.KeyProps;
  /**
   * An existing topic for alarms, failed runs and budget warnings. Its policy must let
   * `budgets.amazonaws.com` publish.
   * @default - a new KMS-encrypted, SSL-only topic (see alertTopicProps)
   */
  readonly existingAlertTopic?: sns.ITopic;
  /**
   * Props of the new alert topic, over the defaults. Not with existingAlertTopic.
   * @default - encrypted with its own key, SSL-only
   */
  readonly alertTopicProps?: sns.TopicProps;
  /**
   * A permissions boundary set on every IAM role the platform creates (functions, state
   * machines, SageMaker execution roles, the API's roles).
   * @default - no boundary
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /**
   * Place the SageMaker training and tuning jobs and the endpoints' models in a new VPC: private
   * isolated subnets in 2 AZs, no NAT gateway, flow logs, the S3 gateway endpoint and the
   * SageMaker API, SageMaker runtime and STS interface endpoints (see vpcProps).
   * @default false - SageMaker's own network, unless existingVpc or vpcProps is given
   */
  readonly deployVpc?: boolean;
  /**
   * An existing VPC for the SageMaker jobs and models (its private subnets unless vpcSubnets
   * says otherwise). Not with vpcProps or deployVpc.
   * @default - none (see deployVpc)
   */
  readonly existingVpc?: ec2.IVpc;
  /**
   * Props of the new VPC, over the defaults of deployVpc (giving them implies deployVpc). Not with existingVpc.
   * @default - the defaults of deployVpc
   */
  readonly vpcProps?: ec2.VpcProps;
  /**
   * The subnets of the VPC the jobs and models use (1 to 16).
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Add the S3 gateway endpoint and the SageMaker API, runtime and STS interface endpoints to
   * the VPC. Leave it off for a VPC that already has them.
   * @default - true for a new VPC, false for an existing one
   */
  readonly vpcEndpoints?: boolean;
}

/**
 * The platform's props: the platform configuration (the schema of contracts/platform-config.ts,
 * the same as cdk.json's `mlops` context; docs/configuration.md lists every field with its
 * default and rule) and the resources brought in (PlatformResourceProps).
 */
export interface MlopsPlatformProps extends PlatformConfigInput, PlatformResourceProps {}

/** The props that are resources, not configuration (a Record, so a new resource prop must be listed). */
const RESOURCE_PROPS: Readonly<Record<keyof PlatformResourceProps, true>> = {
  existingDatasetsBucket: true,
  datasetsBucketProps: true,
  existingEncryptionKey: true,
  encryptionKeyProps: true,
  existingAlertTopic: true,
  alertTopicProps: true,
  permissionsBoundary: true,
  deployVpc: true,
  existingVpc: true,
  vpcProps: true,
  vpcSubnets: true,
  vpcEndpoints: true,
};

/** The SageMaker network the resource props ask for, if any. */
function createNetwork(scope: Construct, resources: PlatformResourceProps): SageMakerNetwork | undefined {
  checkExistingXorProps('existingVpc', resources.existingVpc, 'vpcProps', resources.vpcProps);
  if (resources.existingVpc && resources.deployVpc) {
    throw new Error('existingVpc and deployVpc are mutually exclusive: deployVpc creates a new VPC');
  }
  if (!resources.existingVpc && !resources.vpcProps && !resources.deployVpc) {
    if (resources.vpcSubnets || resources.vpcEndpoints !== undefined) {
      throw new Error('vpcSubnets and vpcEndpoints apply to a VPC: give deployVpc, vpcProps or existingVpc too');
    }
    return undefined;
  }
  return new SageMakerNetwork(scope, 'Network', {
    ...(resources.existingVpc ? { existingVpc: resources.existingVpc } : {}),
    ...(resources.vpcProps ? { vpcProps: resources.vpcProps } : {}),
    ...(resources.vpcSubnets ? { subnets: resources.vpcSubnets } : {}),
    ...(resources.vpcEndpoints === undefined ? {} : { vpcEndpoints: resources.vpcEndpoints }),
  });
}

function splitProps(props: MlopsPlatformProps): { config: PlatformConfigInput; resources: PlatformResourceProps } {
  const config: Record<string, unknown> = { ...props };
  const resources: Record<string, unknown> = {};
  for (const key of Object.keys(RESOURCE_PROPS)) {
    if (key in config) resources[key] = config[key];
    delete config[key];
  }
  return { config: config as PlatformConfigInput, resources: resources as PlatformResourceProps };
}

export class MlopsPlatform extends Construct {
  /** The validated configuration, defaults applied. */
  readonly config: PlatformConfig;
  readonly artifactStore: ArtifactStore;
  readonly registry: ModelRegistry;
  readonly observability: Observability;
  /** Per model, its validate-data function (scoped to that model's data and keys). */
  readonly dataValidation: ReadonlyMap<string, DataValidation>;
  /** Per model, its evaluate-model function (scoped to that model's artifacts and reports). */
  readonly modelEvaluation: ReadonlyMap<string, ModelEvaluation>;
  /** Serverless inference of each model whose serving mode is `serverless`, by model name. */
  readonly serverlessInference: ReadonlyMap<string, ServerlessInference>;
  /** SageMaker endpoint of each model whose serving mode is `endpoint`, by model name. */
  readonly endpoints: ReadonlyMap<string, SageMakerEndpoint>;
  /** Each model's deploy function (the rollout contract begin/poll, whichever the serving mode), by model name. */
  readonly deployFunctions: ReadonlyMap<string, lambda.IFunction>;
  /** Each model's training pipeline (statemachines/training.asl.json), by model name. */
  readonly trainingPipelines: ReadonlyMap<string, TrainingPipeline>;
  /** Drift monitoring of each model, by model name (retraining is wired once the training pipelines are). */
  readonly driftMonitors: ReadonlyMap<string, DriftMonitor>;
  /** Each model's batch inference pipeline (statemachines/batch-inference.asl.json), by model name. */
  readonly batchInference: ReadonlyMap<string, BatchInference>;
  /** Registry changes published to EventBridge (source cdk-mlops). */
  readonly registryEvents: RegistryEvents;
  readonly api: PipelineApi;
  /** The VPC placement of the SageMaker jobs and models, when deployVpc, existingVpc or vpcProps is given. */
  readonly network?: SageMakerNetwork;

  constructor(scope: Construct, id: string, props: MlopsPlatformProps) {
    super(scope, id);
    const { config: configProps, resources } = splitProps(props);
    const config = parsePlatformProps(configProps);
    this.config = config;
    const namePrefix = namePrefixOf(config);
    checkExistingXorProps('existingEncryptionKey', resources.existingEncryptionKey, 'encryptionKeyProps', resources.encryptionKeyProps);
    if (resources.permissionsBoundary) iam.PermissionsBoundary.of(this).apply(resources.permissionsBoundary);
    this.network = createNetwork(this, resources);

    this.observability = new Observability(this, 'Observability', {
      platformName: namePrefix,
      alertEmail: config.alertEmail,
      monthlyBudgetUsd: config.monthlyBudgetUsd,
      ...optional({
        existingAlertTopic: resources.existingAlertTopic,
        alertTopicProps: resources.alertTopicProps,
        encryptionKey: resources.existingEncryptionKey,
      }),
    });
    this.artifactStore = new ArtifactStore(this, 'ArtifactStore', {
      retentionDays: config.retentionDays,
      ...optional({
        existingKey: resources.existingEncryptionKey,
        keyProps: resources.encryptionKeyProps,
        existingDatasetsBucket: resources.existingDatasetsBucket,
        datasetsBucketProps: resources.datasetsBucketProps,
      }),
    });
    this.registry = new ModelRegistry(this, 'ModelRegistry', {
      modelNames: config.models.map((model) => model.name),
      logRetention: config.logRetentionDays,
      ...optional({ encryptionKey: resources.existingEncryptionKey, keyProps: resources.encryptionKeyProps }),
    });

    // One validate-data and one evaluate-model function per model: each may touch only its model's
    // datasets and keys, so a run of one model cannot write another's profiles, reports or splits.
    const dataValidation = new Map<string, DataValidation>();
    const modelEvaluation = new Map<string, ModelEvaluation>();
    for (const entry of config.models) {
      const { name, training } = resolveModel(config, entry);
      dataValidation.set(
        name,
        new DataValidation(this, `DataValidation-${name}`, {
          artifactStore: this.artifactStore,
          modelName: name,
          logRetention: config.logRetentionDays,
        }),
      );
      modelEvaluation.set(
        name,
        new ModelEvaluation(this, `ModelEvaluation-${name}`, {
          artifactStore: this.artifactStore,
          registry: this.registry,
          modelName: name,
          logRetention: config.logRetentionDays,
          trainingPrice: {
            instanceHourUsd: requireInstanceHourUsd(training.instanceType, `model "${name}"'s training`, config.pricing.instanceHourUsd),
            instanceCount: training.instanceCount,
          },
        }),
      );
    }
    this.dataValidation = dataValidation;
    this.modelEvaluation = modelEvaluation;
    const serverless = new Map<string, ServerlessInference>();
    const endpoints = new Map<string, SageMakerEndpoint>();
    const deployFunctions = new Map<string, lambda.IFunction>();
    const models = config.models.map((entry) => resolveModel(config, entry));
    for (const model of models) {
      if (model.serving.mode === 'endpoint') {
        const endpoint = new SageMakerEndpoint(this, `Endpoint-${model.name}`, {
          model,
          artifactStore: this.artifactStore,
          ...(this.network ? { network: this.network } : {}),
          ...(model.serving.imageUri ? { imageUri: model.serving.imageUri } : {}),
          registry: this.registry,
          logRetention: config.logRetentionDays,
          instanceHourUsd: requireInstanceHourUsd(
            model.serving.instanceType,
            `model "${model.name}"'s endpoint`,
            config.pricing.instanceHourUsd,
          ),
        });
        endpoints.set(model.name, endpoint);
        deployFunctions.set(model.name, endpoint.deployFunction);
        new CfnOutput(this, `EndpointName-${model.name}`, { value: endpoint.endpointName });
        new CfnOutput(this, `DeployFunctionName-${model.name}`, { value: endpoint.deployFunction.functionName });
        continue;
      }
      const inference = new ServerlessInference(this, `Serverless-${model.name}`, {
        model,
        artifactStore: this.artifactStore,
        registry: this.registry,
        logRetention: config.logRetentionDays,
      });
      serverless.set(model.name, inference);
      deployFunctions.set(model.name, inference.deployFunction);
      new CfnOutput(this, `PredictAlias-${model.name}`, { value: inference.alias.functionArn });
      new CfnOutput(this, `DeployFunctionName-${model.name}`, { value: inference.deployFunction.functionName });
    }
    this.serverlessInference = serverless;
    this.endpoints = endpoints;
    // The endpoints' provider is a stack-level singleton, outside this scope: it gets the boundary too.
    const boundary = resources.permissionsBoundary;
    if (boundary)
      for (const provider of new Set([...endpoints.values()].map((e) => e.endpoint.provider)))
        iam.PermissionsBoundary.of(provider).apply(boundary);
    this.deployFunctions = deployFunctions;

    const pipelines = new Map<string, TrainingPipeline>();
    for (const model of models) {
      const pipeline = new TrainingPipeline(this, `Training-${model.name}`, {
        model: modelDocument(model),
        training: model.training,
        jobNamePrefix: trainingJobNamePrefix(`${namePrefix}-${model.name}`),
        ...(this.network ? { network: this.network } : {}),
        artifactStore: this.artifactStore,
        registry: this.registry,
        validateDataFunction: dataValidation.get(model.name)!.validateFunction,
        evaluateModelFunction: modelEvaluation.get(model.name)!.evaluateFunction,
        deployFunction: deployFunctions.get(model.name)!,
        alertTopic: this.observability.alertTopic,
        approvalPolicy: model.approval,
      });
      pipelines.set(model.name, pipeline);
      new CfnOutput(this, `TrainingStateMachineArn-${model.name}`, { value: pipeline.stateMachine.stateMachineArn });
    }
    this.trainingPipelines = pipelines;

    const driftMonitors = new Map<string, DriftMonitor>();
    for (const model of models) {
      driftMonitors.set(
        model.name,
        new DriftMonitor(this, `Drift-${model.name}`, {
          model,
          artifactStore: this.artifactStore,
          registry: this.registry,
          alertTopic: this.observability.alertTopic,
          logRetention: config.logRetentionDays,
          trainingPipeline: pipelines.get(model.name)!.stateMachine,
        }),
      );
    }
    this.driftMonitors = driftMonitors;

    // Batch scoring of each model on the serving core, its scored rows checked for drift by the model's own check.
    const batchInference = new Map<string, BatchInference>();
    for (const model of models) {
      const batch = new BatchInference(this, `Batch-${model.name}`, {
        model,
        artifactStore: this.artifactStore,
        registry: this.registry,
        checkDriftFunction: driftMonitors.get(model.name)!.checkFunction,
        logRetention: config.logRetentionDays,
      });
      batchInference.set(model.name, batch);
      new CfnOutput(this, `BatchStateMachineArn-${model.name}`, { value: batch.stateMachine.stateMachineArn });
    }
    this.batchInference = batchInference;

    // Registry events: every registry change on EventBridge (source cdk-mlops), from the table's stream.
    this.registryEvents = new RegistryEvents(this, 'RegistryEvents', { registry: this.registry, logRetention: config.logRetentionDays });
    this.observability.addFunction('publish-registry-events', this.registryEvents.publishFunction);

    const predictTargets = new Map<string, PredictTarget>([
      ...[...serverless].map(([name, inference]) => [name, { kind: 'serverless', alias: inference.alias }] as const),
      ...[...endpoints].map(([name, endpoint]) => [name, { kind: 'endpoint', endpointName: endpoint.endpointName }] as const),
    ]);
    this.api = new PipelineApi(this, 'Api', {
      platformName: namePrefix,
      trainingPipelines: new Map([...pipelines].map(([name, pipeline]) => [name, pipeline.stateMachine])),
      batchPipelines: new Map([...batchInference].map(([name, batch]) => [name, batch.stateMachine])),
      registryFunction: this.registry.registryFunction,
      predictTargets,
      modelNames: models.map((model) => model.name),
      settings: config.api,
      logRetention: config.logRetentionDays,
      // Model cards: GET /models/{name}/versions/{version}/card.
      modelCards: {
        artifactStore: this.artifactStore,
        configs: Object.fromEntries(models.map((model) => [model.name, modelCardConfigOf(model, config.owner)])),
      },
    });

    this.observability.addApi(this.api);
    this.observability.addFunction('api', this.api.apiFunction);
    this.observability.addFunction('registry', this.registry.registryFunction);
    for (const [name, validation] of dataValidation) this.observability.addFunction(`${name} validate-data`, validation.validateFunction);
    for (const [name, evaluation] of modelEvaluation) this.observability.addFunction(`${name} evaluate-model`, evaluation.evaluateFunction);
    for (const [name, pipeline] of pipelines) this.observability.addPipeline(name, pipeline.stateMachine);
    for (const [name, batch] of batchInference) {
      this.observability.addPipeline(name, batch.stateMachine, 'batch');
      this.observability.addFunction(`${name} batch-score`, batch.scoreFunction);
    }
    for (const model of models) {
      this.observability.addModel({
        name: model.name,
        features: model.features,
        psiWarn: model.drift.psiWarn,
        psiDrift: model.drift.psiDrift,
      });
    }
    for (const [name, inference] of serverless) this.observability.addServerlessModel(name, inference);
    for (const [name, endpoint] of endpoints) this.observability.addEndpoint(name, endpoint);
    // Idle-cost guard: an endpoint nobody calls still bills its instances (its monthly cost is in the alarm's text).
    for (const endpoint of endpoints.values()) this.observability.notify(endpoint.idleAlarm, 'warning');

    new CfnOutput(this, 'DatasetsBucketName', { value: this.artifactStore.datasetsBucket.bucketName });
    new CfnOutput(this, 'ArtifactsBucketName', { value: this.artifactStore.artifactsBucket.bucketName });
    new CfnOutput(this, 'CaptureBucketName', { value: this.artifactStore.captureBucket.bucketName });
    new CfnOutput(this, 'RegistryTableName', { value: this.registry.table.tableName });
    new CfnOutput(this, 'AlertTopicArn', { value: this.observability.alertTopic.topicArn });
    new CfnOutput(this, 'RegistryFunctionName', { value: this.registry.registryFunction.functionName });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
    for (const [name, validation] of dataValidation) {
      new CfnOutput(this, `ValidateDataFunctionName-${name}`, { value: validation.validateFunction.functionName });
    }
    for (const [name, evaluation] of modelEvaluation) {
      new CfnOutput(this, `EvaluateModelFunctionName-${name}`, { value: evaluation.evaluateFunction.functionName });
    }
  }
}

/** The entries whose value is set: props left out stay out (their construct's default applies). */
function optional<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

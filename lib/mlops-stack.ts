/**
 * The cdk-mlops stack: composes the platform's constructs from the typed configuration and
 * passes references between them. It holds no logic of its own.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { modelDocument } from '../contracts/model';
import { modelCardConfigOf } from '../contracts/model-card';
import { type PlatformConfig, resolveModel } from '../contracts/platform-config';
import type { PredictTarget } from './constructs/api-integrations';
import { ArtifactStore } from './constructs/artifact-store';
import { DriftMonitor } from './constructs/drift-monitor';
import { ModelEvaluation } from './constructs/evaluate-model';
import { ModelRegistry } from './constructs/model-registry';
import { Observability } from './constructs/observability';
import { PipelineApi } from './constructs/pipeline-api';
import { RegistryEvents } from './constructs/registry-events';
import { SageMakerEndpoint } from './constructs/sagemaker-endpoint';
import { ServerlessInference } from './constructs/serverless-inference';
import { TrainingPipeline } from './constructs/training-pipeline';
import { DataValidation } from './constructs/validate-data';

export interface MlopsStackProps extends StackProps {
  readonly config: PlatformConfig;
}

export class MlopsStack extends Stack {
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
  /** Registry changes published to EventBridge. */
  readonly registryEvents: RegistryEvents;
  readonly api: PipelineApi;

  constructor(scope: Construct, id: string, props: MlopsStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.observability = new Observability(this, 'Observability', {
      platformName: `${config.projectName}-${config.environment}`,
      alertEmail: config.alertEmail,
      monthlyBudgetUsd: config.monthlyBudgetUsd,
    });
    this.artifactStore = new ArtifactStore(this, 'ArtifactStore', { retentionDays: config.retentionDays });
    this.registry = new ModelRegistry(this, 'ModelRegistry', {
      modelNames: config.models.map((model) => model.name),
      logRetention: config.logRetentionDays,
    });

    // One validate-data and one evaluate-model function per model: each may touch only its model's
    // datasets and keys, so a run of one model cannot write another's profiles, reports or splits.
    const dataValidation = new Map<string, DataValidation>();
    const modelEvaluation = new Map<string, ModelEvaluation>();
    for (const { name } of config.models) {
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
          ...(model.serving.imageUri ? { imageUri: model.serving.imageUri } : {}),
          registry: this.registry,
          logRetention: config.logRetentionDays,
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
    this.deployFunctions = deployFunctions;

    const pipelines = new Map<string, TrainingPipeline>();
    for (const model of models) {
      const pipeline = new TrainingPipeline(this, `Training-${model.name}`, {
        model: modelDocument(model),
        training: model.training,
        jobNamePrefix: `${config.projectName}-${config.environment}-${model.name}`,
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

    // Registry events: every registry change on EventBridge (source cdk-mlops), from the table's stream.
    this.registryEvents = new RegistryEvents(this, 'RegistryEvents', { registry: this.registry, logRetention: config.logRetentionDays });
    this.observability.addFunction('publish-registry-events', this.registryEvents.publishFunction);

    const predictTargets = new Map<string, PredictTarget>([
      ...[...serverless].map(([name, inference]) => [name, { kind: 'serverless', alias: inference.alias }] as const),
      ...[...endpoints].map(([name, endpoint]) => [name, { kind: 'endpoint', endpointName: endpoint.endpointName }] as const),
    ]);
    this.api = new PipelineApi(this, 'Api', {
      platformName: `${config.projectName}-${config.environment}`,
      trainingPipelines: new Map([...pipelines].map(([name, pipeline]) => [name, pipeline.stateMachine])),
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
    // Idle-cost guard: an endpoint nobody calls still bills its instances.
    for (const endpoint of endpoints.values())
      endpoint.idleAlarm.addAlarmAction(new cloudwatchActions.SnsAction(this.observability.alertTopic));

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

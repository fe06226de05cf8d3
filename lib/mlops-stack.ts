/**
 * The cdk-mlops stack of the cdk.json app: the default consumer of MlopsPlatform. It embeds the
 * platform and re-exposes its parts; it holds no logic of its own.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { PlatformConfig } from '../contracts/platform-config';
import type { ArtifactStore } from './constructs/artifact-store';
import type { DriftMonitor } from './constructs/drift-monitor';
import type { ModelEvaluation } from './constructs/evaluate-model';
import type { ModelRegistry } from './constructs/model-registry';
import type { Observability } from './constructs/observability';
import type { PipelineApi } from './constructs/pipeline-api';
import type { RegistryEvents } from './constructs/registry-events';
import type { SageMakerEndpoint } from './constructs/sagemaker-endpoint';
import type { ServerlessInference } from './constructs/serverless-inference';
import type { TrainingPipeline } from './constructs/training-pipeline';
import type { DataValidation } from './constructs/validate-data';
import { MlopsPlatform, type MlopsPlatformProps } from './platform';

export interface MlopsStackProps extends StackProps {
  readonly config: PlatformConfig;
}

/**
 * The construct id of the platform inside this stack. CDK leaves `Default` out of logical ids,
 * so the stack's resources keep the logical ids they had before the platform became a construct
 * (a renamed id would replace every resource); construct paths gain `/Default`.
 */
export const PLATFORM_CONSTRUCT_ID = 'Default';

export class MlopsStack extends Stack {
  readonly platform: MlopsPlatform;
  readonly artifactStore: ArtifactStore;
  readonly registry: ModelRegistry;
  readonly observability: Observability;
  readonly dataValidation: ReadonlyMap<string, DataValidation>;
  readonly modelEvaluation: ReadonlyMap<string, ModelEvaluation>;
  readonly serverlessInference: ReadonlyMap<string, ServerlessInference>;
  readonly endpoints: ReadonlyMap<string, SageMakerEndpoint>;
  readonly deployFunctions: ReadonlyMap<string, lambda.IFunction>;
  readonly trainingPipelines: ReadonlyMap<string, TrainingPipeline>;
  readonly driftMonitors: ReadonlyMap<string, DriftMonitor>;
  readonly registryEvents: RegistryEvents;
  readonly api: PipelineApi;

  constructor(scope: Construct, id: string, props: MlopsStackProps) {
    super(scope, id, props);
    // A parsed configuration is valid input (parsing again is idempotent); the types differ only
    // in readonly arrays.
    const platform = new MlopsPlatform(this, PLATFORM_CONSTRUCT_ID, props.config as MlopsPlatformProps);
    this.platform = platform;
    this.artifactStore = platform.artifactStore;
    this.registry = platform.registry;
    this.observability = platform.observability;
    this.dataValidation = platform.dataValidation;
    this.modelEvaluation = platform.modelEvaluation;
    this.serverlessInference = platform.serverlessInference;
    this.endpoints = platform.endpoints;
    this.deployFunctions = platform.deployFunctions;
    this.trainingPipelines = platform.trainingPipelines;
    this.driftMonitors = platform.driftMonitors;
    this.registryEvents = platform.registryEvents;
    this.api = platform.api;
  }
}

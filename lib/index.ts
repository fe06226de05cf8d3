/**
 * The package entry (package.json "exports"): the MlopsPlatform construct with its props, the
 * building blocks for teams that compose their own platform, the cdk.json app's stack, and the
 * configuration schema the props are checked with.
 */

export {
  ConfigError,
  type ModelConfig,
  type PlatformConfig,
  type PlatformConfigInput,
  parsePlatformProps,
  platformConfigSchema,
  type ResolvedModelConfig,
  resolveModel,
} from '../contracts/platform-config';
export { type AppliedPolicyChecks, applyPolicyChecks } from './app';
export { ArtifactStore, type ArtifactStoreProps } from './constructs/artifact-store';
export { DriftMonitor, type DriftMonitorProps } from './constructs/drift-monitor';
export { ModelEvaluation, type ModelEvaluationProps } from './constructs/evaluate-model';
export { MlopsFunction, type MlopsFunctionProps } from './constructs/mlops-function';
export { ModelRegistry, type ModelRegistryProps } from './constructs/model-registry';
export { Observability, type ObservabilityProps } from './constructs/observability';
export { OnnxRuntimeLayer, type OnnxRuntimeLayerProps } from './constructs/onnx-runtime-layer';
export { PipelineApi, type PipelineApiProps } from './constructs/pipeline-api';
export { SageMakerEndpoint, type SageMakerEndpointProps } from './constructs/sagemaker-endpoint';
export { SageMakerNetwork, type SageMakerNetworkProps } from './constructs/sagemaker-network';
export { ServerlessInference, type ServerlessInferenceProps } from './constructs/serverless-inference';
export { ServingImage, type ServingImageProps } from './constructs/serving-image';
export { TrainingPipeline, type TrainingPipelineProps } from './constructs/training-pipeline';
export { DataValidation, type DataValidationProps } from './constructs/validate-data';
export { MlopsStack, type MlopsStackProps } from './mlops-stack';
export { MlopsPlatform, type MlopsPlatformProps, type PlatformResourceProps } from './platform';

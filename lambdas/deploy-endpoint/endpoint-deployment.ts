/**
 * What rolling a registry version out to its SageMaker endpoint takes: a new model and endpoint
 * configuration for the version (same variant name, so autoscaling and alarms stay attached) and
 * UpdateEndpoint with the blue/green policy; and how a DescribeEndpoint answer reads: the
 * endpoint serves the new configuration (Succeeded), is back on the old one (RolledBack), could
 * not roll back (RollbackFailed), or failed.
 */
import type { EndpointTarget, SageMakerDeploymentConfig } from '../../contracts/endpoint-deployment';
import type { VersionRecord } from '../../contracts/registry';
import { servingContainerEnvironment } from '../../contracts/serving-container';

/** The DescribeEndpoint fields the classification reads. */
export interface EndpointDescription {
  readonly EndpointStatus?: string;
  readonly EndpointConfigName?: string;
  readonly FailureReason?: string;
  readonly PendingDeploymentSummary?: { readonly EndpointConfigName?: string };
}

/** The SageMaker calls a deployment makes; sagemaker-endpoint-api.ts implements them with the SDK. */
export interface EndpointApi {
  /** Creates the model; resolves if one with this name already exists (a retried request). */
  createModel(input: CreateModelInput): Promise<void>;
  /** Creates the configuration; resolves if one with this name already exists. */
  createEndpointConfig(input: CreateEndpointConfigInput): Promise<void>;
  /** Without a DeploymentConfig SageMaker updates all at once (used to add and remove a shadow variant). */
  updateEndpoint(input: { EndpointName: string; EndpointConfigName: string; DeploymentConfig?: SageMakerDeploymentConfig }): Promise<void>;
  describeEndpoint(endpointName: string): Promise<EndpointDescription>;
  describeEndpointConfig(endpointConfigName: string): Promise<EndpointConfigDescription>;
}

/** The DescribeEndpointConfig fields the shadow phase reads: the variant that serves production. */
export interface EndpointConfigDescription {
  readonly ProductionVariants?: ReadonlyArray<{
    readonly VariantName?: string;
    readonly ModelName?: string;
    readonly InstanceType?: string;
    readonly InitialInstanceCount?: number;
  }>;
}

export interface CreateModelInput {
  ModelName: string;
  ExecutionRoleArn: string;
  PrimaryContainer: { Image: string; ModelDataUrl: string; Environment: Record<string, string> };
  EnableNetworkIsolation: boolean;
  VpcConfig?: { Subnets: string[]; SecurityGroupIds: string[] };
}

export interface EndpointConfigVariant {
  VariantName: string;
  ModelName: string;
  InstanceType: string;
  InitialInstanceCount: number;
  InitialVariantWeight: number;
}

export interface CreateEndpointConfigInput {
  EndpointConfigName: string;
  KmsKeyId: string;
  ProductionVariants: EndpointConfigVariant[];
  ShadowProductionVariants?: EndpointConfigVariant[];
  DataCaptureConfig?: {
    EnableCapture: boolean;
    InitialSamplingPercentage: number;
    DestinationS3Uri: string;
    KmsKeyId: string;
    CaptureOptions: Array<{ CaptureMode: 'Input' | 'Output' }>;
    CaptureContentTypeHeader: { JsonContentTypes: string[] };
  };
}

/** Where a deployment stands: still moving, or how it ended. */
export type DeploymentState = 'InProgress' | 'Succeeded' | 'RolledBack' | 'RollbackFailed' | 'Failed';

export interface StartedDeployment {
  readonly modelName: string;
  readonly version: number;
  readonly endpointName: string;
  readonly sageMakerModelName: string;
  readonly endpointConfigName: string;
}

/**
 * Resource names: `<endpoint>-v<version>-<deploymentId>`, at most 63 characters. The same
 * deploymentId (e.g. the Step Functions execution name) gives the same names, so a retried
 * request reuses what the first attempt created instead of failing on "already exists".
 */
export function deploymentResourceName(endpointName: string, version: number, deploymentId: string): string {
  const suffix = deploymentId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = `${endpointName}-v${version}-${suffix}`.slice(0, 63).replace(/-+$/, '');
  return name;
}

export async function startDeployment(
  api: EndpointApi,
  target: EndpointTarget,
  version: Pick<VersionRecord, 'modelName' | 'version' | 'artifactUri'>,
  deploymentId: string,
): Promise<StartedDeployment> {
  const name = deploymentResourceName(target.endpointName, version.version, deploymentId);
  await createVersionModel(api, target, version, name);
  await api.createEndpointConfig({
    EndpointConfigName: name,
    KmsKeyId: target.kmsKeyId,
    ProductionVariants: [
      {
        VariantName: target.variantName,
        ModelName: name,
        InstanceType: target.instanceType,
        InitialInstanceCount: target.initialInstanceCount,
        InitialVariantWeight: 1,
      },
    ],
    ...captureConfig(target),
  });
  await api.updateEndpoint({ EndpointName: target.endpointName, EndpointConfigName: name, DeploymentConfig: target.deploymentConfig });
  return {
    modelName: version.modelName,
    version: version.version,
    endpointName: target.endpointName,
    sageMakerModelName: name,
    endpointConfigName: name,
  };
}

/** The SageMaker model of a registry version (its name is also its canary configuration's). */
export async function createVersionModel(
  api: EndpointApi,
  target: EndpointTarget,
  version: Pick<VersionRecord, 'version' | 'artifactUri'>,
  name: string,
): Promise<void> {
  await api.createModel({
    ModelName: name,
    ExecutionRoleArn: target.executionRoleArn,
    // The stack's bootstrap model gets the same environment without a version (contracts/serving-container.ts).
    PrimaryContainer: {
      Image: target.imageUri,
      ModelDataUrl: version.artifactUri,
      Environment: servingContainerEnvironment(target.modelSchema, version.version),
    },
    EnableNetworkIsolation: true,
    ...(target.vpcConfig ? { VpcConfig: target.vpcConfig } : {}),
  });
}

/** The endpoint's own data capture (serving.dataCapturePercent), as every production configuration has it. */
export function captureConfig(target: EndpointTarget): Pick<CreateEndpointConfigInput, 'DataCaptureConfig'> {
  if (!target.dataCapture) return {};
  return {
    DataCaptureConfig: {
      EnableCapture: true,
      InitialSamplingPercentage: target.dataCapture.samplingPercent,
      DestinationS3Uri: target.dataCapture.destinationS3Uri,
      KmsKeyId: target.dataCapture.kmsKeyId,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
    },
  };
}

/**
 * Where a deployment to `targetConfigName` stands. `updateSeen` says whether the endpoint has
 * been seen updating since UpdateEndpoint: until then, InService on the old configuration
 * means "not started yet", after it "rolled back".
 */
export function classifyDeployment(description: EndpointDescription, targetConfigName: string, updateSeen: boolean): DeploymentState {
  const status = description.EndpointStatus ?? 'Unknown';
  if (status === 'UpdateRollbackFailed') return 'RollbackFailed';
  if (status === 'Failed' || status === 'OutOfService' || status === 'Deleting') return 'Failed';
  if (status === 'InService') {
    if (description.EndpointConfigName === targetConfigName) return 'Succeeded';
    if (description.PendingDeploymentSummary?.EndpointConfigName === targetConfigName) return 'InProgress';
    return updateSeen ? 'RolledBack' : 'InProgress';
  }
  return 'InProgress';
}

/**
 * Rolls a registry version out to its SageMaker endpoint: a new model and endpoint
 * configuration for the version (same variant name, so autoscaling and alarms stay attached),
 * UpdateEndpoint with the blue/green policy, then DescribeEndpoint until the endpoint serves
 * the new configuration (Succeeded), is back on the old one (RolledBack), could not roll back
 * (RollbackFailed), failed, or the wait ran out. Also the on-demand rollback: the registry's
 * previous production version, redeployed.
 */
import * as z from 'zod';
import type { VersionRecord } from '../../contracts/registry';
import type { SageMakerDeploymentConfig } from '../../contracts/endpoint-deployment';

/** Everything the deploy function needs to know about one model's endpoint (set by the construct). */
export const endpointTargetSchema = z.object({
  endpointName: z.string().min(1).max(40),
  variantName: z.string().min(1),
  executionRoleArn: z.string().min(1),
  imageUri: z.string().min(1),
  instanceType: z.string().min(1),
  initialInstanceCount: z.number().int().min(1),
  kmsKeyId: z.string().min(1),
  dataCapture: z
    .object({ samplingPercent: z.number().int().min(1).max(100), destinationS3Uri: z.string(), kmsKeyId: z.string() })
    .optional(),
  deploymentConfig: z.custom<SageMakerDeploymentConfig>(
    (value) => typeof value === 'object' && value !== null && 'BlueGreenUpdatePolicy' in value,
  ),
});
export type EndpointTarget = z.output<typeof endpointTargetSchema>;

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
  updateEndpoint(input: { EndpointName: string; EndpointConfigName: string; DeploymentConfig: SageMakerDeploymentConfig }): Promise<void>;
  describeEndpoint(endpointName: string): Promise<EndpointDescription>;
}

export interface CreateModelInput {
  ModelName: string;
  ExecutionRoleArn: string;
  PrimaryContainer: { Image: string; ModelDataUrl: string };
  EnableNetworkIsolation: boolean;
}

export interface CreateEndpointConfigInput {
  EndpointConfigName: string;
  KmsKeyId: string;
  ProductionVariants: Array<{
    VariantName: string;
    ModelName: string;
    InstanceType: string;
    InitialInstanceCount: number;
    InitialVariantWeight: number;
  }>;
  DataCaptureConfig?: {
    EnableCapture: boolean;
    InitialSamplingPercentage: number;
    DestinationS3Uri: string;
    KmsKeyId: string;
    CaptureOptions: Array<{ CaptureMode: 'Input' | 'Output' }>;
    CaptureContentTypeHeader: { JsonContentTypes: string[] };
  };
}

export type DeploymentOutcome = 'Succeeded' | 'RolledBack' | 'RollbackFailed' | 'Failed' | 'TimedOut';
export type DeploymentState = 'InProgress' | Exclude<DeploymentOutcome, 'TimedOut'>;

export interface StartedDeployment {
  readonly modelName: string;
  readonly version: number;
  readonly endpointName: string;
  readonly sageMakerModelName: string;
  readonly endpointConfigName: string;
}

export interface DeploymentReport extends StartedDeployment {
  readonly outcome: DeploymentOutcome;
  /** The last status DescribeEndpoint gave. */
  readonly endpointStatus: string;
  /** The configuration the endpoint serves at the end (the old one after a rollback). */
  readonly servingEndpointConfigName?: string;
  readonly failureReason?: string;
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

/** A deployment id from a time: `20261123t101500z`. */
export function timeDeploymentId(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase();
}

export async function startDeployment(
  api: EndpointApi,
  target: EndpointTarget,
  version: Pick<VersionRecord, 'modelName' | 'version' | 'artifactUri'>,
  deploymentId: string,
): Promise<StartedDeployment> {
  const name = deploymentResourceName(target.endpointName, version.version, deploymentId);
  await api.createModel({
    ModelName: name,
    ExecutionRoleArn: target.executionRoleArn,
    PrimaryContainer: { Image: target.imageUri, ModelDataUrl: version.artifactUri },
    EnableNetworkIsolation: true,
  });
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
    ...(target.dataCapture
      ? {
          DataCaptureConfig: {
            EnableCapture: true,
            InitialSamplingPercentage: target.dataCapture.samplingPercent,
            DestinationS3Uri: target.dataCapture.destinationS3Uri,
            KmsKeyId: target.dataCapture.kmsKeyId,
            CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
            CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
          },
        }
      : {}),
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

/** Statuses that show the update has begun (so a later InService on the old configuration is a rollback). */
const UPDATE_STATUSES = new Set(['Updating', 'SystemUpdating', 'RollingBack']);

export interface WaitOptions {
  /** @default 30_000 */
  readonly pollIntervalMs?: number;
  /** Give up (TimedOut) after this long; the deployment itself goes on. */
  readonly timeoutMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export async function waitForDeployment(api: EndpointApi, started: StartedDeployment, options: WaitOptions): Promise<DeploymentReport> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;
  const deadline = now() + options.timeoutMs;
  let updateSeen = false;
  for (;;) {
    const description = await api.describeEndpoint(started.endpointName);
    const status = description.EndpointStatus ?? 'Unknown';
    updateSeen ||= UPDATE_STATUSES.has(status) || description.PendingDeploymentSummary?.EndpointConfigName === started.endpointConfigName;
    const state = classifyDeployment(description, started.endpointConfigName, updateSeen);
    const report = {
      ...started,
      endpointStatus: status,
      ...(description.EndpointConfigName ? { servingEndpointConfigName: description.EndpointConfigName } : {}),
      ...(description.FailureReason ? { failureReason: description.FailureReason } : {}),
    };
    if (state !== 'InProgress') return { ...report, outcome: state };
    if (now() + pollIntervalMs > deadline) return { ...report, outcome: 'TimedOut' };
    await sleep(pollIntervalMs);
  }
}

/** The registry operations a rollback needs (the registry function, invoked). */
export interface RegistryCommands {
  rollback(request: { modelName: string; actor: string; reason?: string; idempotencyKey?: string }): Promise<{ version: VersionRecord }>;
}

export interface RollbackReport {
  readonly modelName: string;
  /** The version production was rolled back to. */
  readonly productionVersion: number;
  /** The endpoint deployment of that version; absent for serverless models, whose function reloads on its own. */
  readonly deployment?: DeploymentReport;
}

/**
 * Rollback on demand: the registry makes the previous production version current again, then
 * (for an endpoint model) that version is deployed with the same guarded policy.
 */
export async function rollbackToPreviousVersion(
  registry: RegistryCommands,
  request: { modelName: string; actor: string; reason?: string; idempotencyKey?: string },
  deploy?: (version: VersionRecord) => Promise<DeploymentReport>,
): Promise<RollbackReport> {
  const { version } = await registry.rollback(request);
  const deployment = deploy ? await deploy(version) : undefined;
  return { modelName: request.modelName, productionVersion: version.version, ...(deployment ? { deployment } : {}) };
}

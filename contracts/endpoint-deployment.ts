/**
 * An endpoint model's deployment settings: the blue/green policy of its SageMaker endpoint, in
 * the shape of the SageMaker API's `DeploymentConfig`, and the endpoint target the deploy
 * function rolls versions out to. The SageMakerEndpoint construct puts the same policy on the
 * CloudFormation resource and hands the target (policy included) to the deploy function as JSON,
 * so a version rolled out by the pipeline is guarded exactly like a stack update. With a shadow
 * phase the target also carries its settings; the names of the shadow variant and of the
 * configurations the phase creates are defined here, once.
 */
import * as z from 'zod';
import { VPC_CONFIG_LIMITS } from './sagemaker-rules';
import { modelSchemaSchema } from './serving-schema';

export type TrafficShifting = 'CANARY' | 'LINEAR';

export interface EndpointDeploymentSettings {
  readonly trafficShifting: TrafficShifting;
  /** Capacity share of the first step (canary) or of every step (linear), in percent. */
  readonly stepPercent: number;
  /** Bake time after each step (`WaitIntervalInSeconds`). */
  readonly waitIntervalSeconds: number;
  /** How long the old fleet is kept after full shift, for a fast rollback (`TerminationWaitInSeconds`). */
  readonly terminationWaitSeconds: number;
  /** Upper bound on the whole deployment (`MaximumExecutionTimeoutInSeconds`). */
  readonly maximumExecutionTimeoutSeconds: number;
  /** Alarms whose ALARM state rolls the deployment back. */
  readonly rollbackAlarmNames: readonly string[];
}

/** The SageMaker API `DeploymentConfig` (UpdateEndpoint), without an SDK import. */
export interface SageMakerDeploymentConfig {
  BlueGreenUpdatePolicy: {
    TrafficRoutingConfiguration: {
      Type: TrafficShifting;
      WaitIntervalInSeconds: number;
      CanarySize?: { Type: 'CAPACITY_PERCENT'; Value: number };
      LinearStepSize?: { Type: 'CAPACITY_PERCENT'; Value: number };
    };
    TerminationWaitInSeconds: number;
    MaximumExecutionTimeoutInSeconds: number;
  };
  AutoRollbackConfiguration: { Alarms: Array<{ AlarmName: string }> };
}

export function sageMakerDeploymentConfig(settings: EndpointDeploymentSettings): SageMakerDeploymentConfig {
  const step = { Type: 'CAPACITY_PERCENT' as const, Value: settings.stepPercent };
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: {
        Type: settings.trafficShifting,
        WaitIntervalInSeconds: settings.waitIntervalSeconds,
        ...(settings.trafficShifting === 'CANARY' ? { CanarySize: step } : { LinearStepSize: step }),
      },
      TerminationWaitInSeconds: settings.terminationWaitSeconds,
      MaximumExecutionTimeoutInSeconds: settings.maximumExecutionTimeoutSeconds,
    },
    AutoRollbackConfiguration: { Alarms: settings.rollbackAlarmNames.map((AlarmName) => ({ AlarmName })) },
  };
}

/** Everything the deploy function needs to know about one model's endpoint (set by the construct). */
export const endpointTargetSchema = z.object({
  endpointName: z.string().min(1).max(40),
  variantName: z.string().min(1),
  executionRoleArn: z.string().min(1),
  imageUri: z.string().min(1),
  /**
   * The model's serving schema: every model the deploy function creates gets the container
   * environment servingContainerEnvironment (contracts/serving-container.ts) builds from it and
   * the version, as the stack's bootstrap model gets it without a version.
   */
  modelSchema: modelSchemaSchema,
  instanceType: z.string().min(1),
  initialInstanceCount: z.number().int().min(1),
  kmsKeyId: z.string().min(1),
  dataCapture: z
    .object({ samplingPercent: z.number().int().min(1).max(100), destinationS3Uri: z.string(), kmsKeyId: z.string() })
    .optional(),
  /**
   * The VPC placement of every model the deploy function creates (SageMaker's `VpcConfig`: 1–16
   * subnets, 1–5 security groups); absent, the models run in SageMaker's own network.
   */
  vpcConfig: z
    .object({
      Subnets: z.array(z.string().min(1)).min(1).max(VPC_CONFIG_LIMITS.subnets),
      SecurityGroupIds: z.array(z.string().min(1)).min(1).max(VPC_CONFIG_LIMITS.securityGroups),
    })
    .optional(),
  /**
   * The shadow phase (serving.shadow*), absent when shadowPercent is 0: the candidate first runs
   * as the endpoint's shadow variant (`ShadowProductionVariants`, sampled `percent` of requests),
   * both variants' requests and responses captured under `captureS3Uri` for the agreement gate.
   */
  shadow: z
    .object({
      percent: z.number().int().min(1).max(100),
      seconds: z.number().int().min(0),
      minRequests: z.number().int().min(1),
      minAgreement: z.number().min(0).max(1),
      tolerance: z.number().min(0),
      latencyBudgetMs: z.number().positive(),
      /** Encrypted with the target's kmsKeyId, as the endpoint's volumes. */
      captureS3Uri: z.string().min(1),
    })
    .optional(),
  deploymentConfig: z.custom<SageMakerDeploymentConfig>(
    (value) => typeof value === 'object' && value !== null && 'BlueGreenUpdatePolicy' in value,
  ),
});
export type EndpointTarget = z.output<typeof endpointTargetSchema>;

/** The shadow variant's name: the production variant's with this suffix. */
export const SHADOW_VARIANT_SUFFIX = '-shadow';

export function shadowVariantName(variantName: string): string {
  return `${variantName}${SHADOW_VARIANT_SUFFIX}`;
}

/**
 * Where SageMaker data capture writes a variant's records:
 * `<DestinationS3Uri>/<EndpointName>/<VariantName>/yyyy/mm/dd/hh/<file>.jsonl`.
 */
export function variantCapturePrefix(destinationS3Uri: string, endpointName: string, variantName: string): string {
  return `${destinationS3Uri.replace(/\/+$/, '')}/${endpointName}/${variantName}/`;
}

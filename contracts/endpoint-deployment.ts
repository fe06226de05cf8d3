/**
 * The blue/green deployment policy of a SageMaker endpoint, in the shape of the SageMaker API's
 * `DeploymentConfig`. The Endpoint construct puts the same policy on the CloudFormation
 * resource and hands this JSON to the deploy function, so a version rolled out by the pipeline
 * is guarded exactly like a stack update.
 */

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

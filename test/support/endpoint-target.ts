/**
 * The churn model's endpoint target as the endpoint-mode constructs hand it to the deploy
 * function, shared by the deploy-endpoint tests: a canary of 10% for 10 minutes, two ml.c6i.large
 * instances, the artifacts key; each test adds what it is about (capture, a shadow phase, alarms).
 */
import { type EndpointTarget, sageMakerDeploymentConfig } from '../../contracts/endpoint-deployment';
import { CHURN_SCHEMA } from '../../testkit/churn-model';

export const TEST_ENDPOINT = 'mlopsdev-endpointchurn-4b7c52bc';
export const TEST_KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/abc';

/** SageMaker's blue/green canary for the target, rolled back by `rollbackAlarmNames`. */
export function testDeploymentConfig(rollbackAlarmNames: readonly string[] = ['churn-5xx']) {
  return sageMakerDeploymentConfig({
    trafficShifting: 'CANARY',
    stepPercent: 10,
    waitIntervalSeconds: 600,
    terminationWaitSeconds: 300,
    maximumExecutionTimeoutSeconds: 1500,
    rollbackAlarmNames: [...rollbackAlarmNames],
  });
}

export function testEndpointTarget(overrides: Partial<EndpointTarget> = {}): EndpointTarget {
  return {
    endpointName: TEST_ENDPOINT,
    variantName: 'AllTraffic',
    executionRoleArn: 'arn:aws:iam::123456789012:role/endpoint-execution',
    imageUri: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/onnx-serving:1.20',
    modelSchema: CHURN_SCHEMA,
    instanceType: 'ml.c6i.large',
    initialInstanceCount: 2,
    kmsKeyId: TEST_KMS_KEY,
    deploymentConfig: testDeploymentConfig(),
    ...overrides,
  };
}

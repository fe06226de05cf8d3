/**
 * Endpoint deployment against a mocked SageMaker API (aws-sdk-client-mock): the calls a
 * rollout makes, and DescribeEndpoint sequences ending in service, rolled back, rollback
 * failed, failed, and a timeout; then the on-demand rollback through the registry.
 */
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { classifyDeployment, deploymentResourceName, type EndpointTarget } from '../../../lambdas/deploy-endpoint/endpoint-deployment';
import { sageMakerDeploymentConfig } from '../../../contracts/endpoint-deployment';
import { type DeployDependencies, runDeployRequest } from '../../../lambdas/deploy-endpoint/handler';
import { SageMakerEndpointApi } from '../../../lambdas/deploy-endpoint/sagemaker-endpoint-api';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';

const ACTOR = 'arn:aws:iam::123456789012:role/operator';
const ENDPOINT = 'mlopsdev-endpointchurn-4b7c52bc';
const OLD_CONFIG = `${ENDPOINT}-v1-seed`;
const DEPLOYMENT_CONFIG = sageMakerDeploymentConfig({
  trafficShifting: 'CANARY',
  stepPercent: 10,
  waitIntervalSeconds: 600,
  terminationWaitSeconds: 300,
  maximumExecutionTimeoutSeconds: 1500,
  rollbackAlarmNames: ['churn-5xx', 'churn-latency', 'churn-error-rate'],
});
const TARGET: EndpointTarget = {
  endpointName: ENDPOINT,
  variantName: 'AllTraffic',
  executionRoleArn: 'arn:aws:iam::123456789012:role/endpoint-execution',
  imageUri: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/onnx-serving:1.20',
  instanceType: 'ml.c6i.large',
  initialInstanceCount: 2,
  kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
  dataCapture: {
    samplingPercent: 20,
    destinationS3Uri: 's3://capture/churn/endpoint',
    kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
  },
  deploymentConfig: DEPLOYMENT_CONFIG,
};

const sageMaker = mockClient(SageMakerClient);
const described = (status: string, config: string, extra: Partial<DescribeEndpointCommandOutput> = {}) =>
  ({ EndpointName: ENDPOINT, EndpointStatus: status, EndpointConfigName: config, ...extra }) as DescribeEndpointCommandOutput;

describe('endpoint deployment', () => {
  let store: InMemoryRegistryStore;
  let registry: Registry;
  let clock: number;
  let sleeps: number[];
  let dependencies: DeployDependencies;
  const newConfig = `${ENDPOINT}-v2-run-7`;

  beforeEach(async () => {
    sageMaker.reset();
    sageMaker.on(CreateModelCommand).resolves({});
    sageMaker.on(CreateEndpointConfigCommand).resolves({});
    sageMaker.on(UpdateEndpointCommand).resolves({});
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    for (const number of [1, 2]) {
      const version = await registry.registerVersion({
        modelName: 'churn',
        artifactUri: `s3://artifacts/models/churn/v${number}/model.tar.gz`,
        artifactSha256: 'a'.repeat(64),
        lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
        actor: ACTOR,
      });
      await registry.promote({ modelName: 'churn', version: version.version, actor: ACTOR });
    }
    clock = Date.parse('2026-11-23T10:15:00Z');
    sleeps = [];
    dependencies = {
      modelName: 'churn',
      target: TARGET,
      endpoints: new SageMakerEndpointApi(new SageMakerClient({ region: 'eu-west-1' })),
      versions: store,
      registry: { rollback: (request) => registry.rollback(request), transition: (request) => registry.transition(request) },
      now: () => new Date(clock),
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    };
  });

  it('creates a model and an endpoint configuration for the version, keeping the variant, then updates with the blue/green policy', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(described('InService', newConfig));
    const report = await runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7' }, 900_000);
    expect(report).toMatchObject({ outcome: 'Succeeded', endpointConfigName: newConfig, version: 2 });
    expect(sageMaker.commandCalls(CreateModelCommand)[0]!.args[0].input).toEqual({
      ModelName: newConfig,
      ExecutionRoleArn: TARGET.executionRoleArn,
      PrimaryContainer: { Image: TARGET.imageUri, ModelDataUrl: 's3://artifacts/models/churn/v2/model.tar.gz' },
      EnableNetworkIsolation: true,
    });
    expect(sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: newConfig,
      KmsKeyId: TARGET.kmsKeyId,
      ProductionVariants: [
        { VariantName: 'AllTraffic', ModelName: newConfig, InstanceType: 'ml.c6i.large', InitialInstanceCount: 2, InitialVariantWeight: 1 },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 20,
        DestinationS3Uri: 's3://capture/churn/endpoint',
        KmsKeyId: TARGET.kmsKeyId,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    });
    expect(sageMaker.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT,
      EndpointConfigName: newConfig,
      DeploymentConfig: DEPLOYMENT_CONFIG,
    });
  });

  it('polls while the endpoint updates and reports Succeeded once it serves the new configuration', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(described('Updating', OLD_CONFIG, { PendingDeploymentSummary: { EndpointConfigName: newConfig } }))
      .resolvesOnce(described('Updating', OLD_CONFIG))
      .resolves(described('InService', newConfig));
    const report = await runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7', pollSeconds: 30 }, 900_000);
    expect(report).toMatchObject({ outcome: 'Succeeded', endpointStatus: 'InService', servingEndpointConfigName: newConfig });
    expect(sleeps).toEqual([30_000, 30_000]);
  });

  it('reports RolledBack when the endpoint returns to service on the old configuration after updating', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(described('Updating', OLD_CONFIG))
      .resolvesOnce(described('RollingBack', OLD_CONFIG, { FailureReason: 'Alarm churn-latency in ALARM' }))
      .resolves(described('InService', OLD_CONFIG, { FailureReason: 'Alarm churn-latency in ALARM' }));
    const report = await runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7' }, 900_000);
    expect(report).toMatchObject({
      outcome: 'RolledBack',
      servingEndpointConfigName: OLD_CONFIG,
      failureReason: 'Alarm churn-latency in ALARM',
    });
  });

  it('reports RollbackFailed when the endpoint ends in UpdateRollbackFailed', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(described('Updating', OLD_CONFIG))
      .resolvesOnce(described('RollingBack', OLD_CONFIG))
      .resolves(described('UpdateRollbackFailed', OLD_CONFIG, { FailureReason: 'old fleet could not be restored' }));
    const report = await runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7' }, 900_000);
    expect(report).toMatchObject({
      outcome: 'RollbackFailed',
      endpointStatus: 'UpdateRollbackFailed',
      failureReason: 'old fleet could not be restored',
    });
  });

  it('reports Failed when the endpoint fails', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(described('Failed', OLD_CONFIG, { FailureReason: 'image pull failed' }));
    const report = await runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7' }, 900_000);
    expect(report).toMatchObject({ outcome: 'Failed', failureReason: 'image pull failed' });
  });

  it('reports TimedOut, with the last status, when the invocation runs out of time first', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(described('Updating', OLD_CONFIG));
    const report = await runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7', pollSeconds: 60 }, 330_000);
    expect(report).toMatchObject({ outcome: 'TimedOut', endpointStatus: 'Updating' });
    // 330 s less the 30 s response margin leaves 300 s: five one-minute waits.
    expect(sleeps).toEqual([60_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('does not mistake the old configuration for a rollback before the update has begun', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(described('InService', OLD_CONFIG))
      .resolvesOnce(described('Updating', OLD_CONFIG))
      .resolves(described('InService', newConfig));
    const report = await runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7' }, 900_000);
    expect(report).toMatchObject({ outcome: 'Succeeded' });
  });

  it('treats an existing model and configuration from an earlier attempt as created', async () => {
    const exists = Object.assign(new Error('Cannot create already existing model'), { name: 'ValidationException' });
    sageMaker.on(CreateModelCommand).rejects(exists);
    sageMaker
      .on(CreateEndpointConfigCommand)
      .rejects(Object.assign(new Error('Endpoint config already exists'), { name: 'ValidationException' }));
    sageMaker.on(DescribeEndpointCommand).resolves(described('InService', newConfig));
    await expect(runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7' }, 900_000)).resolves.toMatchObject({
      outcome: 'Succeeded',
    });
  });

  it('propagates any other SageMaker error', async () => {
    sageMaker.on(UpdateEndpointCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(runDeployRequest(dependencies, { action: 'deploy', version: 2, deploymentId: 'run-7' }, 900_000)).rejects.toThrow(
      'Rate exceeded',
    );
  });

  it('starts without waiting, and checks a deployment in a separate request', async () => {
    const started = await runDeployRequest(dependencies, { action: 'start', version: 2, deploymentId: 'run-7' }, 900_000);
    expect(started).toMatchObject({ endpointConfigName: newConfig });
    expect(sageMaker.commandCalls(DescribeEndpointCommand)).toHaveLength(0);
    sageMaker.on(DescribeEndpointCommand).resolves(described('InService', OLD_CONFIG));
    await expect(runDeployRequest(dependencies, { action: 'check', endpointConfigName: newConfig }, 900_000)).resolves.toMatchObject({
      state: 'RolledBack',
    });
  });

  it('refuses an unknown version and a malformed request', async () => {
    await expect(runDeployRequest(dependencies, { action: 'deploy', version: 9 }, 900_000)).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    await expect(runDeployRequest(dependencies, { action: 'deploy', version: 'two' }, 900_000)).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });

  it('rolls back on demand: the registry restores the previous version, which is then deployed', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(described('InService', `${ENDPOINT}-v1-r`));
    const report = (await runDeployRequest(
      dependencies,
      { action: 'rollback', actor: ACTOR, reason: 'latency regression', idempotencyKey: 'incident-42' },
      900_000,
    )) as { productionVersion: number; deployment: { outcome: string; version: number; endpointConfigName: string } };
    expect(report.productionVersion).toBe(1);
    expect((await store.getModel('churn'))?.productionVersion).toBe(1);
    const deployed = sageMaker.commandCalls(CreateModelCommand)[0]!.args[0].input;
    expect(deployed.PrimaryContainer?.ModelDataUrl).toBe('s3://artifacts/models/churn/v1/model.tar.gz');
    expect(report.deployment.version).toBe(1);
    expect(report.deployment.endpointConfigName).toMatch(new RegExp(`^${ENDPOINT}-v1-r[0-9a-f]{12}$`));
  });

  it('refuses a rollback when there is no earlier production version, deploying nothing', async () => {
    await registry.rollback({ modelName: 'churn', actor: ACTOR });
    await expect(runDeployRequest(dependencies, { action: 'rollback', actor: ACTOR }, 900_000)).rejects.toMatchObject({
      name: 'InvalidTransitionError',
    });
    expect(sageMaker.commandCalls(CreateModelCommand)).toHaveLength(0);
  });
});

describe('deployment naming and classification', () => {
  it('names resources after the endpoint, version and deployment id, within 63 characters', () => {
    expect(deploymentResourceName('ep', 12, 'Run_7')).toBe('ep-v12-run-7');
    expect(deploymentResourceName('e'.repeat(40), 123456, '20261123t101500z')).toHaveLength(63);
  });

  it('classifies InService on the target as Succeeded and the old configuration as in progress until an update was seen', () => {
    expect(classifyDeployment({ EndpointStatus: 'InService', EndpointConfigName: 'new' }, 'new', false)).toBe('Succeeded');
    expect(classifyDeployment({ EndpointStatus: 'InService', EndpointConfigName: 'old' }, 'new', false)).toBe('InProgress');
    expect(classifyDeployment({ EndpointStatus: 'InService', EndpointConfigName: 'old' }, 'new', true)).toBe('RolledBack');
    expect(classifyDeployment({ EndpointStatus: 'SystemUpdating', EndpointConfigName: 'old' }, 'new', true)).toBe('InProgress');
    expect(classifyDeployment({ EndpointStatus: 'OutOfService' }, 'new', true)).toBe('Failed');
  });
});

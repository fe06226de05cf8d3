/**
 * The endpoint rollout through the SageMaker SDK adapter against a mocked SageMaker API
 * (aws-sdk-client-mock): the exact requests `begin` sends, "already exists" from an earlier
 * attempt, other errors propagated, and DescribeEndpoint answers mapped by `poll`.
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
import {
  type DeployEndpointDependencies,
  deployEndpoint,
  type EndpointDeployment,
  runDeploymentId,
} from '../../../lambdas/deploy-endpoint/deploy-endpoint';
import { classifyDeployment, deploymentResourceName } from '../../../lambdas/deploy-endpoint/endpoint-deployment';
import { SageMakerEndpointApi } from '../../../lambdas/deploy-endpoint/sagemaker-endpoint-api';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import { CHURN_SCHEMA } from '../../../testkit/churn-model';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';
import { TEST_ENDPOINT, TEST_KMS_KEY, testDeploymentConfig, testEndpointTarget } from '../../support/endpoint-target';
import { registerChurnVersions } from '../../support/registry-versions';

const ACTOR = 'arn:aws:iam::123456789012:role/operator';
const ENDPOINT = TEST_ENDPOINT;
const OLD_CONFIG = `${ENDPOINT}-v1-seed`;
const DEPLOYMENT_CONFIG = testDeploymentConfig(['churn-5xx', 'churn-latency', 'churn-error-rate']);
const TARGET = testEndpointTarget({
  dataCapture: { samplingPercent: 20, destinationS3Uri: 's3://capture/churn/endpoint', kmsKeyId: TEST_KMS_KEY },
  deploymentConfig: DEPLOYMENT_CONFIG,
});

const sageMaker = mockClient(SageMakerClient);
const described = (status: string, config: string, extra: Partial<DescribeEndpointCommandOutput> = {}) =>
  ({ EndpointName: ENDPOINT, EndpointStatus: status, EndpointConfigName: config, ...extra }) as DescribeEndpointCommandOutput;

describe('endpoint rollout through the SageMaker SDK', () => {
  let store: InMemoryRegistryStore;
  let registry: Registry;
  let dependencies: DeployEndpointDependencies;
  const newConfig = `${ENDPOINT}-v2-${runDeploymentId('run-7')}`;

  beforeEach(async () => {
    sageMaker.reset();
    sageMaker.on(CreateModelCommand).resolves({});
    sageMaker.on(CreateEndpointConfigCommand).resolves({});
    sageMaker.on(UpdateEndpointCommand).resolves({});
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    await registerChurnVersions(registry, 2, ACTOR);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    dependencies = {
      modelName: 'churn',
      target: TARGET,
      endpoints: new SageMakerEndpointApi(new SageMakerClient({ region: 'eu-west-1' })),
      versions: store,
      registry: { transition: (request) => registry.transition(request) },
    };
  });

  const begin = () => deployEndpoint(dependencies, { action: 'begin', version: 2, runId: 'run-7' });
  const poll = (deployment: EndpointDeployment) => deployEndpoint(dependencies, { action: 'poll', version: 2, deployment });

  it('creates a model and an endpoint configuration for the version, keeping the variant, then updates with the blue/green policy', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(described('InService', OLD_CONFIG));
    const started = await begin();
    expect(started).toMatchObject({ status: 'InProgress', deployment: { endpointConfigName: newConfig, version: 2 } });
    expect(sageMaker.commandCalls(CreateModelCommand)[0]!.args[0].input).toEqual({
      ModelName: newConfig,
      ExecutionRoleArn: TARGET.executionRoleArn,
      // The container environment the stack's bootstrap model has, plus the version it serves.
      PrimaryContainer: {
        Image: TARGET.imageUri,
        ModelDataUrl: 's3://artifacts/models/churn/v2/model.tar.gz',
        Environment: { MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA), MODEL_VERSION: '2' },
      },
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

  it('maps DescribeEndpoint answers: updating, then InService on the new configuration', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(described('InService', OLD_CONFIG))
      .resolvesOnce(described('Updating', OLD_CONFIG, { PendingDeploymentSummary: { EndpointConfigName: newConfig } }))
      .resolves(described('InService', newConfig));
    const started = await begin();
    const updating = await poll(started.deployment);
    expect(updating).toMatchObject({ status: 'InProgress', deployment: { updateSeen: true } });
    await expect(poll(updating.deployment)).resolves.toMatchObject({ status: 'InService' });
  });

  it("reports RolledBack with SageMaker's reason when the endpoint returns to the old configuration", async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(described('InService', OLD_CONFIG))
      .resolvesOnce(described('RollingBack', OLD_CONFIG, { FailureReason: 'Alarm churn-latency in ALARM' }))
      .resolves(described('InService', OLD_CONFIG, { FailureReason: 'Alarm churn-latency in ALARM' }));
    const started = await begin();
    const rollingBack = await poll(started.deployment);
    const result = await poll(rollingBack.deployment);
    expect(result.status).toBe('RolledBack');
    expect(result.reason).toContain('Alarm churn-latency in ALARM');
    expect((await store.getVersion('churn', 2))?.stage).toBe('Rejected');
  });

  it('reports Failed when the endpoint ends in UpdateRollbackFailed or Failed', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(described('InService', OLD_CONFIG))
      .resolves(described('UpdateRollbackFailed', OLD_CONFIG, { FailureReason: 'old fleet could not be restored' }));
    const started = await begin();
    const result = await poll(started.deployment);
    expect(result).toMatchObject({ status: 'Failed' });
    expect(result.reason).toContain('old fleet could not be restored');
  });

  it('treats an existing model and configuration from an earlier attempt as created', async () => {
    sageMaker
      .on(CreateModelCommand)
      .rejects(Object.assign(new Error('Cannot create already existing model'), { name: 'ValidationException' }));
    sageMaker
      .on(CreateEndpointConfigCommand)
      .rejects(Object.assign(new Error('Endpoint config already exists'), { name: 'ValidationException' }));
    sageMaker.on(DescribeEndpointCommand).resolves(described('InService', OLD_CONFIG));
    await expect(begin()).resolves.toMatchObject({ status: 'InProgress' });
    expect(sageMaker.commandCalls(UpdateEndpointCommand)).toHaveLength(1);
  });

  it('propagates any other SageMaker error, for the state machine to retry', async () => {
    sageMaker.on(DescribeEndpointCommand).resolves(described('InService', OLD_CONFIG));
    sageMaker.on(UpdateEndpointCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(begin()).rejects.toThrow('Rate exceeded');
  });

  it('refuses an unknown version and a malformed request', async () => {
    await expect(deployEndpoint(dependencies, { action: 'begin', version: 9, runId: 'run-7' })).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    await expect(deployEndpoint(dependencies, { action: 'begin', version: 'two', runId: 'run-7' })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(deployEndpoint(dependencies, { action: 'deploy', version: 2 })).rejects.toMatchObject({ name: 'ValidationError' });
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

/**
 * The blue/green deployment of a registry version (lambdas/deploy-endpoint/endpoint-deployment.ts)
 * without the rollout around it: resource names from the deployment id within SageMaker's 63
 * characters, the exact CreateModel, CreateEndpointConfig and UpdateEndpoint requests, and how each
 * DescribeEndpoint answer is classified.
 */
import { describe, expect, it } from 'vitest';
import { servingContainerEnvironment } from '../../../contracts/serving-container';
import {
  type CreateEndpointConfigInput,
  type CreateModelInput,
  classifyDeployment,
  type DeploymentState,
  deploymentResourceName,
  type EndpointApi,
  type EndpointDescription,
  startDeployment,
} from '../../../lambdas/deploy-endpoint/endpoint-deployment';
import { CHURN_SCHEMA } from '../../../testkit/churn-model';
import { TEST_ENDPOINT, testDeploymentConfig, testEndpointTarget } from '../../support/endpoint-target';

const ENDPOINT = TEST_ENDPOINT;
const DEPLOYMENT_CONFIG = testDeploymentConfig();
const TARGET = testEndpointTarget();

/** Records every request, in order. */
class RecordingEndpointApi implements EndpointApi {
  readonly calls: Array<[string, unknown]> = [];
  async createModel(input: CreateModelInput) {
    this.calls.push(['CreateModel', input]);
  }
  async createEndpointConfig(input: CreateEndpointConfigInput) {
    this.calls.push(['CreateEndpointConfig', input]);
  }
  async updateEndpoint(input: unknown) {
    this.calls.push(['UpdateEndpoint', input]);
  }
  async describeEndpoint(): Promise<never> {
    throw new Error('a deployment is started without DescribeEndpoint');
  }
  async describeEndpointConfig(): Promise<never> {
    throw new Error('a deployment is started without DescribeEndpointConfig');
  }
}

describe('deploymentResourceName', () => {
  it('lower-cases the deployment id, turns each run of other characters into one hyphen and trims hyphens at its ends', () => {
    expect(deploymentResourceName('churn-ep', 2, '--Run__7..X--')).toBe('churn-ep-v2-run-7-x');
    expect(deploymentResourceName('churn-ep', 2, 'b3f9a0c1d2e4f')).toBe('churn-ep-v2-b3f9a0c1d2e4f');
  });

  it('cuts the name at 63 characters, and drops a hyphen the cut leaves at the end', () => {
    expect(deploymentResourceName('e'.repeat(50), 2, 'abcdefghijklmnop')).toBe(`${'e'.repeat(50)}-v2-abcdefghi`);
    expect(deploymentResourceName('e'.repeat(59), 2, 'abcdef')).toBe(`${'e'.repeat(59)}-v2`);
  });
});

describe('startDeployment', () => {
  it('creates the model and a one-variant configuration named after the run, then updates with the blue/green policy', async () => {
    const api = new RecordingEndpointApi();
    const name = `${ENDPOINT}-v2-b3f9a0c1d2e4f`;
    const started = await startDeployment(
      api,
      TARGET,
      { modelName: 'churn', version: 2, artifactUri: 's3://artifacts/models/churn/v2/model.tar.gz' },
      'b3f9a0c1d2e4f',
    );
    expect(started).toEqual({ modelName: 'churn', version: 2, endpointName: ENDPOINT, sageMakerModelName: name, endpointConfigName: name });
    expect(api.calls).toEqual([
      [
        'CreateModel',
        {
          ModelName: name,
          ExecutionRoleArn: 'arn:aws:iam::123456789012:role/endpoint-execution',
          PrimaryContainer: {
            Image: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/onnx-serving:1.20',
            ModelDataUrl: 's3://artifacts/models/churn/v2/model.tar.gz',
            Environment: servingContainerEnvironment(CHURN_SCHEMA, 2),
          },
          EnableNetworkIsolation: true,
        },
      ],
      [
        'CreateEndpointConfig',
        {
          EndpointConfigName: name,
          KmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
          ProductionVariants: [
            { VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.c6i.large', InitialInstanceCount: 2, InitialVariantWeight: 1 },
          ],
        },
      ],
      ['UpdateEndpoint', { EndpointName: ENDPOINT, EndpointConfigName: name, DeploymentConfig: DEPLOYMENT_CONFIG }],
    ]);
  });

  it("places the model in the target's VPC and captures as the endpoint does, when the target has them", async () => {
    const api = new RecordingEndpointApi();
    const vpcConfig = { Subnets: ['subnet-1', 'subnet-2'], SecurityGroupIds: ['sg-1'] };
    const dataCapture = { samplingPercent: 20, destinationS3Uri: 's3://capture/churn/endpoint', kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/c' };
    await startDeployment(
      api,
      { ...TARGET, vpcConfig, dataCapture },
      { modelName: 'churn', version: 3, artifactUri: 's3://a/m.tar.gz' },
      'r',
    );
    const [[, model], [, config]] = api.calls as [[string, CreateModelInput], [string, CreateEndpointConfigInput]];
    expect(model.VpcConfig).toEqual(vpcConfig);
    expect(config.DataCaptureConfig).toEqual({
      EnableCapture: true,
      InitialSamplingPercentage: 20,
      DestinationS3Uri: 's3://capture/churn/endpoint',
      KmsKeyId: 'arn:aws:kms:eu-west-1:1:key/c',
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
    });
  });
});

describe('classifyDeployment', () => {
  const cases: Array<[EndpointDescription, boolean, DeploymentState]> = [
    [{ EndpointStatus: 'InService', EndpointConfigName: 'new' }, false, 'Succeeded'],
    [
      { EndpointStatus: 'InService', EndpointConfigName: 'old', PendingDeploymentSummary: { EndpointConfigName: 'new' } },
      true,
      'InProgress',
    ],
    [{ EndpointStatus: 'InService', EndpointConfigName: 'old' }, false, 'InProgress'],
    [{ EndpointStatus: 'InService', EndpointConfigName: 'old' }, true, 'RolledBack'],
    [{ EndpointStatus: 'UpdateRollbackFailed', EndpointConfigName: 'old' }, true, 'RollbackFailed'],
    [{ EndpointStatus: 'Failed', EndpointConfigName: 'new' }, true, 'Failed'],
    [{ EndpointStatus: 'OutOfService', EndpointConfigName: 'new' }, true, 'Failed'],
    [{ EndpointStatus: 'Deleting', EndpointConfigName: 'new' }, true, 'Failed'],
    [{ EndpointStatus: 'Updating', EndpointConfigName: 'old' }, true, 'InProgress'],
    [{ EndpointStatus: 'RollingBack', EndpointConfigName: 'old' }, true, 'InProgress'],
    [{}, true, 'InProgress'],
  ];
  it.each(cases)('reads %o (update seen: %s) as %s', (description, updateSeen, state) => {
    expect(classifyDeployment(description, 'new', updateSeen)).toBe(state);
  });
});

/**
 * EndpointApi on the SageMaker SDK. "Already exists" on a create is success: the model or
 * configuration was made by an earlier attempt of the same deployment (same deploymentId).
 */
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import type { SageMakerDeploymentConfig } from '../../contracts/endpoint-deployment';
import type {
  CreateEndpointConfigInput,
  CreateModelInput,
  EndpointApi,
  EndpointConfigDescription,
  EndpointDescription,
} from './endpoint-deployment';

function alreadyExists(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException' && /already exist/i.test(error.message);
}

export class SageMakerEndpointApi implements EndpointApi {
  constructor(private readonly client: SageMakerClient) {}

  async createModel(input: CreateModelInput): Promise<void> {
    await this.client.send(new CreateModelCommand(input)).catch((error: unknown) => {
      if (!alreadyExists(error)) throw error;
    });
  }

  async createEndpointConfig(input: CreateEndpointConfigInput): Promise<void> {
    // The SDK types InstanceType as a closed union that lags new instance families; config.ts checks the shape.
    const request = input as ConstructorParameters<typeof CreateEndpointConfigCommand>[0];
    await this.client.send(new CreateEndpointConfigCommand(request)).catch((error: unknown) => {
      if (!alreadyExists(error)) throw error;
    });
  }

  async updateEndpoint(input: {
    EndpointName: string;
    EndpointConfigName: string;
    DeploymentConfig?: SageMakerDeploymentConfig;
  }): Promise<void> {
    await this.client.send(new UpdateEndpointCommand(input));
  }

  async describeEndpoint(endpointName: string): Promise<EndpointDescription> {
    return this.client.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  }

  async describeEndpointConfig(endpointConfigName: string): Promise<EndpointConfigDescription> {
    return this.client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpointConfigName }));
  }
}

/**
 * EndpointResourceApi on the SageMaker SDK. SageMaker reports both "already exists" and "not
 * found" as a ValidationException; the message tells them apart.
 */
import { CreateEndpointCommand, DeleteEndpointCommand, DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { EndpointAlreadyExistsError, type EndpointResourceApi, type EndpointState } from './endpoint-resource';

const isValidation = (error: unknown, pattern: RegExp): boolean =>
  error instanceof Error && error.name === 'ValidationException' && pattern.test(error.message);
const NOT_FOUND = /could not find endpoint/i;
const ALREADY_EXISTS = /already existing endpoint|already exists/i;

export class SageMakerEndpoints implements EndpointResourceApi {
  constructor(private readonly client: SageMakerClient) {}

  async createEndpoint(input: { EndpointName: string; EndpointConfigName: string; Tags?: Array<{ Key: string; Value: string }> }) {
    await this.client.send(new CreateEndpointCommand(input)).catch((error: unknown) => {
      throw isValidation(error, ALREADY_EXISTS) ? new EndpointAlreadyExistsError((error as Error).message) : error;
    });
  }

  async describeEndpoint(endpointName: string): Promise<EndpointState | undefined> {
    try {
      return await this.client.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    } catch (error) {
      if (isValidation(error, NOT_FOUND)) return undefined;
      throw error;
    }
  }

  async deleteEndpoint(endpointName: string): Promise<void> {
    await this.client.send(new DeleteEndpointCommand({ EndpointName: endpointName })).catch((error: unknown) => {
      if (!isValidation(error, NOT_FOUND)) throw error;
    });
  }
}

/**
 * The endpoint custom resource's handlers over a fake SageMaker that keeps endpoints and their
 * states: Create makes one endpoint on the bootstrap configuration and waits for InService (a
 * failed endpoint fails the stack), Update never calls SageMaker (so `cdk deploy` cannot move the
 * endpoint off the rolled-out version), Delete removes the endpoint and waits until it is gone;
 * and the SDK adapter's reading of SageMaker's "already exists" and "not found".
 */
import {
  CreateEndpointCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EndpointAlreadyExistsError,
  type EndpointResourceApi,
  type EndpointState,
  isComplete,
  onEvent,
} from '../../../lambdas/endpoint-resource/endpoint-resource';
import { SageMakerEndpoints } from '../../../lambdas/endpoint-resource/sagemaker-endpoints';

const ENDPOINT = 'mlopsdev-endpointchurn-4b7c52bc';
const BOOTSTRAP = 'EndpointchurnBootstrapConfig-AbCdEf123456';
const TAGS = [{ Key: 'Project', Value: 'mlops' }];
const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/mlops-dev/1',
  RequestId: 'request-1',
  LogicalResourceId: 'EndpointchurnEndpoint',
  ResourceType: 'Custom::SageMakerEndpoint',
};
const properties = { ServiceToken: base.ServiceToken, EndpointName: ENDPOINT, EndpointConfigName: BOOTSTRAP, Tags: TAGS };

const create = (): CloudFormationCustomResourceEvent => ({ ...base, RequestType: 'Create', ResourceProperties: properties });
const update = (changes: Record<string, unknown>): CloudFormationCustomResourceEvent => ({
  ...base,
  RequestType: 'Update',
  PhysicalResourceId: ENDPOINT,
  ResourceProperties: { ...properties, ...changes },
  OldResourceProperties: properties,
});
const remove = (physicalResourceId = ENDPOINT): CloudFormationCustomResourceEvent => ({
  ...base,
  RequestType: 'Delete',
  PhysicalResourceId: physicalResourceId,
  ResourceProperties: properties,
});
/** isComplete receives the event with onEvent's answer merged in. */
const completing = (event: CloudFormationCustomResourceEvent, physicalResourceId: string) => ({
  ...event,
  PhysicalResourceId: physicalResourceId,
});

/** SageMaker's endpoints: create, describe and delete, each call recorded; tests move the status along. */
class FakeSageMaker implements EndpointResourceApi {
  readonly endpoints = new Map<string, EndpointState>();
  readonly calls: string[] = [];

  async createEndpoint(input: { EndpointName: string; EndpointConfigName: string; Tags?: Array<{ Key: string; Value: string }> }) {
    this.calls.push(`CreateEndpoint ${input.EndpointName} ${input.EndpointConfigName} tags=${input.Tags?.length ?? 0}`);
    if (this.endpoints.has(input.EndpointName)) throw new EndpointAlreadyExistsError('Cannot create already existing endpoint');
    this.endpoints.set(input.EndpointName, { EndpointStatus: 'Creating', EndpointConfigName: input.EndpointConfigName });
  }
  async describeEndpoint(endpointName: string) {
    this.calls.push(`DescribeEndpoint ${endpointName}`);
    return this.endpoints.get(endpointName);
  }
  async deleteEndpoint(endpointName: string) {
    this.calls.push(`DeleteEndpoint ${endpointName}`);
    const endpoint = this.endpoints.get(endpointName);
    if (endpoint) this.endpoints.set(endpointName, { ...endpoint, EndpointStatus: 'Deleting' });
  }
  set(endpointName: string, state: EndpointState) {
    this.endpoints.set(endpointName, state);
  }
}

describe('the endpoint custom resource', () => {
  let sageMaker: FakeSageMaker;

  beforeEach(() => {
    sageMaker = new FakeSageMaker();
  });

  it('creates the endpoint on the bootstrap configuration with the stack’s tags, and completes once it is InService', async () => {
    const response = await onEvent(sageMaker, create());
    expect(response).toEqual({ PhysicalResourceId: ENDPOINT });
    expect(sageMaker.calls).toEqual([`CreateEndpoint ${ENDPOINT} ${BOOTSTRAP} tags=1`]);
    expect(await isComplete(sageMaker, completing(create(), ENDPOINT))).toEqual({ IsComplete: false });
    sageMaker.set(ENDPOINT, {
      EndpointStatus: 'InService',
      EndpointConfigName: BOOTSTRAP,
      EndpointArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${ENDPOINT}`,
    });
    expect(await isComplete(sageMaker, completing(create(), ENDPOINT))).toEqual({
      IsComplete: true,
      Data: { EndpointName: ENDPOINT, EndpointArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${ENDPOINT}` },
    });
  });

  it('fails the stack operation, naming the reason and the log group, when the endpoint fails to create', async () => {
    await onEvent(sageMaker, create());
    sageMaker.set(ENDPOINT, { EndpointStatus: 'Failed', FailureReason: 'The primary container did not pass the ping health check.' });
    await expect(isComplete(sageMaker, completing(create(), ENDPOINT))).rejects.toThrow(
      `endpoint ${ENDPOINT} is Failed instead of InService: The primary container did not pass the ping health check. (its log group is /aws/sagemaker/Endpoints/${ENDPOINT})`,
    );
  });

  it('takes a repeated Create of its own endpoint as done, and refuses to adopt an endpoint it did not create', async () => {
    await onEvent(sageMaker, create());
    await expect(onEvent(sageMaker, create())).resolves.toEqual({ PhysicalResourceId: ENDPOINT });
    sageMaker.set(ENDPOINT, { EndpointStatus: 'InService', EndpointConfigName: 'someone-elses-config' });
    await expect(onEvent(sageMaker, create())).rejects.toThrow(
      `an endpoint named ${ENDPOINT} already exists (on someone-elses-config), not created by this stack`,
    );
  });

  it('makes no SageMaker call on update, whatever changed in the stack: the serving version stays', async () => {
    sageMaker.set(ENDPOINT, { EndpointStatus: 'InService', EndpointConfigName: `${ENDPOINT}-v7-b0123456789ab` });
    const changed = update({ EndpointConfigName: 'EndpointchurnBootstrapConfig-NEW', Tags: [...TAGS, { Key: 'CostCenter', Value: 'ml' }] });
    expect(await onEvent(sageMaker, changed)).toEqual({ PhysicalResourceId: ENDPOINT });
    expect(await isComplete(sageMaker, completing(changed, ENDPOINT))).toEqual({ IsComplete: true });
    expect(sageMaker.calls).toEqual([]);
    expect(sageMaker.endpoints.get(ENDPOINT)!.EndpointConfigName).toBe(`${ENDPOINT}-v7-b0123456789ab`);
  });

  it('refuses an update that renames the endpoint, which would start a new one on the bootstrap model', async () => {
    await expect(onEvent(sageMaker, update({ EndpointName: 'renamed-endpoint' }))).rejects.toThrow(
      `the endpoint's name cannot change (${ENDPOINT} → renamed-endpoint)`,
    );
    expect(sageMaker.calls).toEqual([]);
  });

  it('deletes the endpoint on destroy, whichever configuration it serves, and completes once it is gone', async () => {
    sageMaker.set(ENDPOINT, { EndpointStatus: 'InService', EndpointConfigName: `${ENDPOINT}-v7-b0123456789ab` });
    expect(await onEvent(sageMaker, remove())).toEqual({ PhysicalResourceId: ENDPOINT });
    expect(sageMaker.calls).toEqual([`DeleteEndpoint ${ENDPOINT}`]);
    expect(await isComplete(sageMaker, completing(remove(), ENDPOINT))).toEqual({ IsComplete: false });
    sageMaker.endpoints.delete(ENDPOINT);
    expect(await isComplete(sageMaker, completing(remove(), ENDPOINT))).toEqual({ IsComplete: true });
  });

  it('deletes nothing for a Create that failed before the endpoint existed (another physical ID)', async () => {
    sageMaker.set(ENDPOINT, { EndpointStatus: 'InService', EndpointConfigName: 'someone-elses-config' });
    expect(await onEvent(sageMaker, remove('request-1'))).toEqual({ PhysicalResourceId: 'request-1' });
    expect(await isComplete(sageMaker, completing(remove('request-1'), 'request-1'))).toEqual({ IsComplete: true });
    expect(sageMaker.calls).toEqual([]);
  });

  it('refuses properties that name no endpoint', async () => {
    await expect(onEvent(sageMaker, { ...create(), ResourceProperties: { ServiceToken: base.ServiceToken } })).rejects.toThrow(
      /invalid endpoint resource properties[\s\S]*EndpointName/,
    );
  });
});

describe('the endpoint resource’s SageMaker adapter', () => {
  const client = mockClient(SageMakerClient);
  const endpoints = new SageMakerEndpoints(new SageMakerClient({ region: 'eu-west-1' }));
  const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

  beforeEach(() => client.reset());

  it('sends CreateEndpoint with the name, configuration and tags, and reports an existing endpoint as such', async () => {
    client.on(CreateEndpointCommand).resolvesOnce({ EndpointArn: 'arn' });
    await endpoints.createEndpoint({ EndpointName: ENDPOINT, EndpointConfigName: BOOTSTRAP, Tags: TAGS });
    expect(client.commandCalls(CreateEndpointCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT,
      EndpointConfigName: BOOTSTRAP,
      Tags: TAGS,
    });
    client
      .on(CreateEndpointCommand)
      .rejects(validation(`Cannot create already existing endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${ENDPOINT}".`));
    await expect(endpoints.createEndpoint({ EndpointName: ENDPOINT, EndpointConfigName: BOOTSTRAP })).rejects.toBeInstanceOf(
      EndpointAlreadyExistsError,
    );
  });

  it('reads "Could not find endpoint" as no endpoint on describe and delete, and passes other errors on', async () => {
    client
      .on(DescribeEndpointCommand)
      .rejectsOnce(validation(`Could not find endpoint "${ENDPOINT}".`))
      .resolvesOnce({ EndpointName: ENDPOINT, EndpointStatus: 'InService' } as DescribeEndpointCommandOutput);
    await expect(endpoints.describeEndpoint(ENDPOINT)).resolves.toBeUndefined();
    await expect(endpoints.describeEndpoint(ENDPOINT)).resolves.toMatchObject({ EndpointStatus: 'InService' });
    client
      .on(DeleteEndpointCommand)
      .rejectsOnce(validation(`Could not find endpoint "${ENDPOINT}".`))
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(endpoints.deleteEndpoint(ENDPOINT)).resolves.toBeUndefined();
    await expect(endpoints.deleteEndpoint(ENDPOINT)).rejects.toThrow('Rate exceeded');
  });
});

/**
 * The SageMaker endpoint of an endpoint-mode model as a CloudFormation custom resource that
 * CloudFormation can create and delete but never change: the core of the provider's `onEvent`
 * and `isComplete` handlers. Create calls CreateEndpoint on the stack's bootstrap configuration
 * and completes once the endpoint is InService (a failed endpoint fails the deployment); Update
 * makes no SageMaker call, so no `cdk deploy` ever moves the endpoint off the version the deploy
 * function rolled out; Delete calls DeleteEndpoint and completes once the endpoint is gone.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as z from 'zod';
import { ValidationError } from '../shared/errors';

/** The resource's properties, as CloudFormation passes them (every scalar a string). */
export const endpointResourcePropertiesSchema = z.object({
  EndpointName: z.string().min(1).max(63),
  /** The configuration the endpoint is created with (the bootstrap model's); later ones come from the deploy function. */
  EndpointConfigName: z.string().min(1).max(63),
  Tags: z
    .array(z.object({ Key: z.string().min(1), Value: z.string() }))
    .max(50)
    .optional(),
});
export type EndpointResourceProperties = z.output<typeof endpointResourcePropertiesSchema>;

/** The DescribeEndpoint fields the handlers read. */
export interface EndpointState {
  readonly EndpointStatus?: string;
  readonly EndpointConfigName?: string;
  readonly EndpointArn?: string;
  readonly FailureReason?: string;
}

/** The SageMaker calls the resource makes; sagemaker-endpoints.ts implements them with the SDK. */
export interface EndpointResourceApi {
  /** Rejects with AlreadyExistsError when an endpoint of that name exists. */
  createEndpoint(input: { EndpointName: string; EndpointConfigName: string; Tags?: Array<{ Key: string; Value: string }> }): Promise<void>;
  /** Undefined when no endpoint has that name. */
  describeEndpoint(endpointName: string): Promise<EndpointState | undefined>;
  /** Resolves when no endpoint has that name (already deleted). */
  deleteEndpoint(endpointName: string): Promise<void>;
}

/** CreateEndpoint's "Cannot create already existing endpoint", as the adapter reports it. */
export class EndpointAlreadyExistsError extends Error {
  override readonly name = 'EndpointAlreadyExistsError';
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}

/** Statuses an endpoint passes through on its way to InService. */
const CREATING = new Set(['Creating', 'Updating', 'SystemUpdating']);

export async function onEvent(api: EndpointResourceApi, event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create': {
      const properties = parseProperties(event.ResourceProperties);
      await create(api, properties);
      return { PhysicalResourceId: properties.EndpointName };
    }
    case 'Update': {
      const properties = parseProperties(event.ResourceProperties);
      const previous = parseProperties(event.OldResourceProperties);
      if (properties.EndpointName !== previous.EndpointName) {
        throw new ValidationError(
          `the endpoint's name cannot change (${previous.EndpointName} → ${properties.EndpointName}): a new endpoint would start on the bootstrap model and stop serving the deployed version; keep the construct's ID, or destroy and redeploy the model`,
        );
      }
      // Deliberately no SageMaker call: the endpoint serves whatever version the deploy function rolled out.
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    case 'Delete':
      // A Create that failed before the endpoint existed reports another physical ID: nothing of ours to delete.
      if (event.PhysicalResourceId === event.ResourceProperties.EndpointName) await api.deleteEndpoint(event.PhysicalResourceId);
      return { PhysicalResourceId: event.PhysicalResourceId };
  }
}

export async function isComplete(
  api: EndpointResourceApi,
  event: CloudFormationCustomResourceEvent & { PhysicalResourceId?: string },
): Promise<IsCompleteResponse> {
  const endpointName = event.PhysicalResourceId ?? '';
  switch (event.RequestType) {
    case 'Update':
      return { IsComplete: true };
    case 'Delete':
      if (endpointName !== event.ResourceProperties.EndpointName) return { IsComplete: true };
      return { IsComplete: (await api.describeEndpoint(endpointName)) === undefined };
    case 'Create': {
      const state = await api.describeEndpoint(endpointName);
      const status = state?.EndpointStatus ?? 'missing';
      if (status === 'InService') return { IsComplete: true, Data: { EndpointName: endpointName, EndpointArn: state?.EndpointArn ?? '' } };
      if (CREATING.has(status)) return { IsComplete: false };
      throw new Error(
        `endpoint ${endpointName} is ${status} instead of InService${state?.FailureReason ? `: ${state.FailureReason}` : ''} (its log group is /aws/sagemaker/Endpoints/${endpointName})`,
      );
    }
  }
}

async function create(api: EndpointResourceApi, properties: EndpointResourceProperties): Promise<void> {
  const { EndpointName, EndpointConfigName, Tags } = properties;
  try {
    await api.createEndpoint({ EndpointName, EndpointConfigName, ...(Tags && Tags.length > 0 ? { Tags } : {}) });
  } catch (error) {
    if (!(error instanceof EndpointAlreadyExistsError)) throw error;
    // A repeated Create (the provider retried) finds its own endpoint on the bootstrap configuration; anything else is not ours.
    const existing = await api.describeEndpoint(EndpointName);
    if (existing?.EndpointConfigName !== EndpointConfigName) {
      throw new ValidationError(
        `an endpoint named ${EndpointName} already exists (on ${existing?.EndpointConfigName ?? 'an unknown configuration'}), not created by this stack; delete it or deploy the stack under another name`,
      );
    }
  }
}

function parseProperties(properties: unknown): EndpointResourceProperties {
  const parsed = endpointResourcePropertiesSchema.safeParse(properties);
  if (!parsed.success) throw new ValidationError(`invalid endpoint resource properties: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

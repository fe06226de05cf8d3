/**
 * The endpoint custom resource's two handlers for the CDK provider framework: `onEvent` starts a
 * create or delete (an update changes nothing), `isComplete` reports when the endpoint is
 * InService or gone (endpoint-resource.ts does the work).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { isComplete as completion, type IsCompleteResponse, type OnEventResponse, onEvent as start } from './endpoint-resource';
import { SageMakerEndpoints } from './sagemaker-endpoints';

const logger = new Logger();
const tracer = new Tracer();
const endpoints = new SageMakerEndpoints(tracer.captureAWSv3Client(new SageMakerClient({})));

export async function onEvent(event: CloudFormationCustomResourceEvent, context: Context): Promise<OnEventResponse> {
  logger.addContext(context);
  const response = await start(endpoints, event);
  logger.info('endpoint resource event handled', { requestType: event.RequestType, physicalResourceId: response.PhysicalResourceId });
  return response;
}

export async function isComplete(
  event: CloudFormationCustomResourceEvent & { PhysicalResourceId?: string },
  context: Context,
): Promise<IsCompleteResponse> {
  logger.addContext(context);
  const response = await completion(endpoints, event);
  logger.info('endpoint resource checked', { requestType: event.RequestType, isComplete: response.IsComplete });
  return response;
}

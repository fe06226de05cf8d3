/**
 * The platform API's AWS integrations: direct Step Functions StartExecution for the training
 * pipelines, and per model the predict target (the serverless alias through a Lambda proxy
 * integration, or SageMaker InvokeEndpoint). Roles are created in the API construct's scope with
 * stable ids.
 */
import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  ENDPOINT_ERROR_TEMPLATE,
  INTERNAL_ERROR_TEMPLATE,
  START_EXECUTION_ERROR_TEMPLATE,
  START_EXECUTION_RESPONSE_TEMPLATE,
  startExecutionTemplate,
  THROTTLED_TEMPLATE,
} from './api-templates';

/** Where `POST /models/{name}/predict` of one model goes. */
export type PredictTarget =
  | { readonly kind: 'serverless'; readonly alias: lambda.IAlias }
  | { readonly kind: 'endpoint'; readonly endpointName: string };

/** The role API Gateway assumes to start the pipelines' (training and batch) executions; none while no pipeline is deployed. */
export function createStartExecutionRole(scope: Construct, pipelines: readonly sfn.IStateMachine[]): iam.Role | undefined {
  if (pipelines.length === 0) return undefined;
  const role = new iam.Role(scope, 'StartExecutionRole', {
    assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    description: 'API Gateway: StartExecution of the training and batch inference pipelines',
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['states:StartExecution'],
      resources: pipelines.map((machine) => machine.stateMachineArn),
    }),
  );
  return role;
}

/** POST /pipelines/training and /pipelines/batch: StartExecution of the model's pipeline, answers and errors in the API's bodies. */
export function startExecutionIntegration(
  pipelines: ReadonlyMap<string, sfn.IStateMachine>,
  credentialsRole: iam.IRole,
): apigateway.AwsIntegration {
  const arns = new Map([...pipelines].sort(([a], [b]) => a.localeCompare(b)).map(([model, machine]) => [model, machine.stateMachineArn]));
  return new apigateway.AwsIntegration({
    service: 'states',
    action: 'StartExecution',
    integrationHttpMethod: 'POST',
    options: {
      credentialsRole,
      passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
      requestTemplates: { 'application/json': startExecutionTemplate(arns) },
      integrationResponses: [
        { statusCode: '200', responseTemplates: { 'application/json': START_EXECUTION_RESPONSE_TEMPLATE } },
        { statusCode: '400', selectionPattern: '4\\d{2}', responseTemplates: { 'application/json': START_EXECUTION_ERROR_TEMPLATE } },
        { statusCode: '500', selectionPattern: '5\\d{2}', responseTemplates: { 'application/json': INTERNAL_ERROR_TEMPLATE } },
      ],
    },
  });
}

/** POST /models/{name}/predict of one model: its serverless alias (proxy), or SageMaker InvokeEndpoint with a role of its own. */
export function predictIntegration(scope: Construct, model: string, target: PredictTarget): apigateway.Integration {
  if (target.kind === 'serverless') {
    // The predict function answers API Gateway proxy events with the API's status codes and error body.
    return new apigateway.LambdaIntegration(target.alias, { proxy: true, allowTestInvoke: false });
  }
  const role = new iam.Role(scope, `InvokeEndpointRole-${model}`, {
    assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    description: `API Gateway: InvokeEndpoint of ${model}`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:InvokeEndpoint'],
      resources: [
        Stack.of(scope).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: target.endpointName.toLowerCase() }),
      ],
    }),
  );
  return new apigateway.AwsIntegration({
    service: 'runtime.sagemaker',
    path: `endpoints/${target.endpointName}/invocations`,
    integrationHttpMethod: 'POST',
    options: {
      credentialsRole: role,
      passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
      requestParameters: {
        'integration.request.header.Content-Type': "'application/json'",
        'integration.request.header.Accept': "'application/json'",
        // InvokeEndpoint's InferenceId: data capture records it, so the endpoint shadow phase joins a
        // request's production and shadow records by it (lambdas/deploy-endpoint/shadow-capture.ts).
        'integration.request.header.X-Amzn-SageMaker-Inference-Id': 'context.requestId',
      },
      requestTemplates: { 'application/json': '$input.body' },
      integrationResponses: [
        { statusCode: '200', responseTemplates: { 'application/json': '$input.body' } },
        { statusCode: '429', selectionPattern: '429', responseTemplates: { 'application/json': THROTTLED_TEMPLATE } },
        { statusCode: '400', selectionPattern: '4(?!29)\\d{2}', responseTemplates: { 'application/json': ENDPOINT_ERROR_TEMPLATE } },
        { statusCode: '500', selectionPattern: '5\\d{2}', responseTemplates: { 'application/json': INTERNAL_ERROR_TEMPLATE } },
      ],
    },
  });
}

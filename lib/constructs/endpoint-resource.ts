/**
 * A SageMaker endpoint that CloudFormation creates and deletes but never updates: a custom
 * resource (lambdas/endpoint-resource) instead of AWS::SageMaker::Endpoint. Created on the stack's
 * bootstrap configuration and waited for until InService; on every later `cdk deploy` its handler
 * makes no SageMaker call, so the version the deploy function rolled out keeps serving whatever
 * the stack's configuration becomes; on `cdk destroy` the endpoint is deleted and waited for.
 * One provider (with its two handler functions) per stack serves every endpoint of the stack.
 */
import { CustomResource, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { MlopsFunction } from './mlops-function';

/** The custom resource type, as it shows in the CloudFormation console. */
export const ENDPOINT_RESOURCE_TYPE = 'Custom::SageMakerEndpoint';
/** The provider framework's limit for a whole create or delete, which endpoint creation can approach. */
const PROVIDER_TOTAL_TIMEOUT = Duration.hours(1);
/** How often the waiter asks whether the endpoint is InService (or gone). */
const PROVIDER_QUERY_INTERVAL = Duration.seconds(30);
/** CreateEndpoint's `Tags`: at most 50. */
const MAX_ENDPOINT_TAGS = 50;

export interface EndpointResourceProps {
  /** The endpoint's name (fixed: the alarms, autoscaling and the deploy function name it). */
  readonly endpointName: string;
  /** The configuration the endpoint is created with; CloudFormation may replace it later without touching the endpoint. */
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  /**
   * The key the configuration encrypts the instances' volumes with: CreateEndpoint creates a
   * grant on it with the caller's permissions.
   */
  readonly key: kms.IKey;
  /**
   * Retention of the handler functions' logs (the first endpoint of a stack sets it).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export class EndpointResource extends Construct {
  readonly endpointName: string;
  readonly endpointArn: string;
  readonly resource: CustomResource;
  /**
   * The stack's one provider (handlers, provider framework) this resource shares with the stack's
   * other endpoints: a stack-level singleton, outside this construct's scope.
   */
  readonly provider: Construct;

  constructor(scope: Construct, id: string, props: EndpointResourceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.endpointName = props.endpointName;
    this.endpointArn = stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: props.endpointName });
    const provider = EndpointResourceProvider.of(this, props.logRetention);
    this.provider = provider;
    provider.grantLifecycle(this.endpointArn, props.endpointConfig.ref, props.key);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: ENDPOINT_RESOURCE_TYPE,
      properties: {
        EndpointName: props.endpointName,
        EndpointConfigName: props.endpointConfig.attrEndpointConfigName,
        // The stack's tags (cost allocation above all): CloudFormation tags what it creates, not what a custom resource creates.
        Tags: Lazy.any({
          produce: () =>
            Object.entries(stack.tags.tagValues())
              .slice(0, MAX_ENDPOINT_TAGS)
              .map(([Key, Value]) => ({ Key, Value })),
        }),
      },
    });
  }
}

/** The stack's one provider for endpoint resources: onEvent and isComplete handlers, and the CDK provider framework around them. */
class EndpointResourceProvider extends Construct {
  static of(scope: Construct, logRetention?: logs.RetentionDays): EndpointResourceProvider {
    const stack = Stack.of(scope);
    const id = 'EndpointResourceProvider';
    return (stack.node.tryFindChild(id) as EndpointResourceProvider | undefined) ?? new EndpointResourceProvider(stack, id, logRetention);
  }

  readonly serviceToken: string;
  private readonly handlers: readonly MlopsFunction[];

  private constructor(scope: Construct, id: string, logRetention?: logs.RetentionDays) {
    super(scope, id);
    const handler = (name: 'onEvent' | 'isComplete', description: string) =>
      new MlopsFunction(this, name === 'onEvent' ? 'OnEvent' : 'IsComplete', {
        functionDirectory: 'endpoint-resource',
        handler: name,
        description,
        // One or two SageMaker calls per invocation.
        timeout: Duration.minutes(1),
        logRetention,
      });
    const onEvent = handler(
      'onEvent',
      'cdk-mlops: creates (on the bootstrap configuration) and deletes SageMaker endpoints for CloudFormation',
    );
    const isComplete = handler('isComplete', 'cdk-mlops: reports whether a SageMaker endpoint is InService, or deleted');
    this.handlers = [onEvent, isComplete];
    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', { retention: logRetention ?? logs.RetentionDays.ONE_MONTH });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: PROVIDER_QUERY_INTERVAL,
      totalTimeout: PROVIDER_TOTAL_TIMEOUT,
      logGroup: frameworkLogs,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: frameworkLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.serviceToken = provider.serviceToken;
    acknowledgeFramework(provider, frameworkLogs, this.handlers);
  }

  /**
   * What both handlers may do to one endpoint (they share a code folder, so each may reach every
   * call): create it on its bootstrap configuration with the stack's tags, describe and delete
   * it, and let SageMaker create the grant on the volume key that CreateEndpoint needs.
   */
  grantLifecycle(endpointArn: string, endpointConfigArn: string, key: kms.IKey): void {
    for (const handler of this.handlers) {
      const role = handler.role!;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sagemaker:CreateEndpoint'], resources: [endpointArn, endpointConfigArn] }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['sagemaker:AddTags', 'sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint'],
          resources: [endpointArn],
        }),
      );
      grantVolumeKeyUse(role, key);
    }
  }
}

/**
 * What a principal that calls CreateEndpoint or UpdateEndpoint on a configuration with a
 * `KmsKeyId` needs on that key: SageMaker creates a grant for the instances' volumes with the
 * caller's permissions (kms:CreateGrant, only for an AWS resource) after checking the key
 * (kms:DescribeKey).
 */
export function grantVolumeKeyUse(grantee: iam.IGrantable, key: kms.IKey): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['kms:CreateGrant'],
    resourceArns: [key.keyArn],
    conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['kms:DescribeKey'], resourceArns: [key.keyArn] });
}

/**
 * The provider framework's own resources, which the CDK builds and the platform does not
 * configure. cdk-nag matches wildcard findings exactly, so they are named from the logical IDs.
 */
function acknowledgeFramework(provider: cr.Provider, frameworkLogs: logs.LogGroup, handlers: readonly MlopsFunction[]): void {
  const stack = Stack.of(provider);
  const functionArn = (fn: lambda.IFunction) => `<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*`;
  const frameworkFunctions = ['framework-isComplete', 'framework-onTimeout'].map((id) => provider.node.findChild(id) as lambda.IFunction);
  Validations.of(provider).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "The framework functions' roles, made by the CDK: they write only their own logs.",
    },
    ...[...handlers, ...frameworkFunctions].map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::${functionArn(fn)}]`,
      reason:
        'The framework invokes its handler and framework functions by any version or alias of that one function (a grant the CDK writes).',
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The waiter state machine delivers its logs with the CloudWatch Logs delivery actions (logs:CreateLogDelivery, ...), which authorise only on "*".',
    },
    ...[
      'cdk-validator-cfnguard::step_functions_state_machine_tracing_enabled_check',
      'AwsSolutions-SF2',
      'Serverless-StepFunctionStateMachineXray',
    ].map((id) => ({
      id,
      reason:
        'The waiter state machine only calls isComplete until it answers; the handlers trace with X-Ray, and the CDK offers no tracing setting for the waiter.',
    })),
    {
      id: 'Serverless-LambdaTracing',
      reason:
        'The framework functions only relay CloudFormation events to the handlers, which trace with X-Ray; the CDK offers no tracing setting for them.',
    },
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        "CloudFormation invokes the framework and waits for its answer at the response URL; a failed invocation fails the stack operation and shows in the stack's events.",
    },
    {
      id: 'Serverless-LambdaDefaultMemorySize',
      reason: 'The framework functions relay one event each; the CDK sizes them and offers no memory setting.',
    },
    {
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        'The framework functions reach only Lambda, Step Functions and the CloudFormation response URL; a VPC would add NAT for no isolation gain.',
    },
  );
  Validations.of(frameworkLogs).acknowledge(
    {
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
      reason:
        'The framework logs CloudFormation events and waiter steps (resource names, statuses), no data; CloudWatch Logs encrypts at rest by default.',
    },
    {
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
      reason: 'Retention set by the platform owner (config logRetentionDays); these logs hold stack operations, not an audit trail.',
    },
  );
}

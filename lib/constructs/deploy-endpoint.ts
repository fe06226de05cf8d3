/**
 * The deploy function of an endpoint model (lambdas/deploy-endpoint): the pipeline's rollout
 * contract over the SageMaker endpoint. Its target (endpoint, variant, image, instances, KMS key,
 * capture, blue/green policy) travels as ENDPOINT_TARGET; it reads versions from the registry
 * table, changes stages through the registry function, and gets the endpoint's deploy grants.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EndpointTarget } from '../../contracts/endpoint-deployment';
import { objectPrefixFinding } from './acknowledgements';
import { MlopsFunction } from './mlops-function';
import type { ModelRegistry } from './model-registry';
import type { SageMakerEndpoint } from './sagemaker-endpoint';

/**
 * Lambda environment variables share 4 KB; the endpoint target without its schema takes about
 * 1.5 KB (names, ARNs, the image URI, the rollback alarm names; a shadow phase adds about 250
 * bytes), which leaves this much for the model's serving schema in ENDPOINT_TARGET.
 */
export const MAX_TARGET_SCHEMA_BYTES = 2048;

export interface DeployEndpointFunctionProps {
  readonly modelName: string;
  /** Where and how versions are rolled out. */
  readonly target: EndpointTarget;
  /** Versions are read from its table; stage changes go through its function. */
  readonly registry: ModelRegistry;
  /** The endpoint the function deploys to (its grantDeploy). */
  readonly endpoint: SageMakerEndpoint;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Creates the deploy function in `scope` with the id given (kept stable: it names the function's resources). */
export function createDeployEndpointFunction(scope: Construct, id: string, props: DeployEndpointFunctionProps): MlopsFunction {
  const { endpoint, registry } = props;
  const stack = Stack.of(scope);
  const schemaBytes = Buffer.byteLength(JSON.stringify(props.target.modelSchema));
  if (schemaBytes > MAX_TARGET_SCHEMA_BYTES) {
    throw new Error(
      `model "${props.modelName}": its serving schema is ${schemaBytes} bytes, over the ${MAX_TARGET_SCHEMA_BYTES} bytes the deploy function's environment (4 KB in all) leaves for it`,
    );
  }
  const deployFunction = new MlopsFunction(scope, id, {
    functionDirectory: 'deploy-endpoint',
    description: `cdk-mlops ${props.modelName}: rolls registry versions out to the SageMaker endpoint (begin/poll)`,
    memorySize: 256,
    // begin makes at most five SageMaker calls and a registry call; poll one DescribeEndpoint, or in shadow
    // one GetMetricData and the window's capture objects (at most a day of them) once the window has passed.
    timeout: props.target.shadow ? Duration.minutes(5) : Duration.minutes(1),
    logRetention: props.logRetention,
    environment: {
      MODEL_NAME: props.modelName,
      TABLE_NAME: registry.table.tableName,
      REGISTRY_FUNCTION_NAME: registry.registryFunction.functionName,
      ENDPOINT_TARGET: stack.toJsonString(props.target),
    },
  });
  registry.grantRead(deployFunction);
  registry.grantInvoke(deployFunction);
  endpoint.grantDeploy(deployFunction);
  if (props.target.shadow) {
    endpoint.grantReadShadowEvidence(deployFunction);
    Validations.of(deployFunction.role!).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'cloudwatch:GetMetricData (the shadow variant\'s AWS/SageMaker metrics) is authorised only on "*"; it reads, never writes.',
      },
      {
        id: objectPrefixFinding(endpoint.captureBucket, endpoint.shadowCapturePrefix),
        reason:
          "The shadow gates read both variants' capture objects, time-partitioned keys SageMaker generates under this endpoint's shadow prefix.",
      },
    );
  }
  const account = '<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>';
  Validations.of(deployFunction.role!).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::arn:${account}:model/${endpoint.endpointName}-*]`,
      reason:
        'Each deployment creates a model named <endpoint>-v<version>-<deployment>; the names exist only at run time, all under this prefix.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:${account}:endpoint-config/${endpoint.endpointName}-*]`,
      reason: 'Each deployment creates an endpoint configuration named <endpoint>-v<version>-<deployment>, all under this prefix.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(registry.registryFunction.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: 'Invoking the registry function by any of its versions or aliases (grantInvoke adds the qualified ARN).',
    },
  );
  return deployFunction;
}

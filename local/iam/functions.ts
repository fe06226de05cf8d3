/**
 * The template's Lambda functions as the IAM checks see them: which role each runs as, which
 * code folder it runs (`lambdas/<folder>/handler.ts`, named by the POWERTOOLS_SERVICE_NAME that
 * MlopsFunction sets to its functionDirectory), its resolved environment (the bucket, table and
 * function names the code is given), and the calls the Lambda service makes with the role on the
 * function's behalf (its log group, X-Ray). Also the calls other services make with roles the
 * template passes them: EventBridge Scheduler targets and API Gateway AWS integrations.
 */
import type { IamCall } from './sdk-calls';
import type { IamModel } from './simulate';

export interface FunctionInfo {
  readonly logicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** Logical ID of the execution role. */
  readonly role: string;
  /** The folder under lambdas/ its handler comes from, when the template says (POWERTOOLS_SERVICE_NAME). */
  readonly codeFolder: string | undefined;
  readonly environment: Readonly<Record<string, string>>;
}

/** Every AWS::Lambda::Function of the template. */
export function lambdaFunctions(model: IamModel): FunctionInfo[] {
  return model.resolved.logicalIdsOfType('AWS::Lambda::Function').map((logicalId) => lambdaFunction(model, logicalId));
}

export function lambdaFunction(model: IamModel, logicalId: string): FunctionInfo {
  const properties = model.resolved.resolve(model.resolved.resource(logicalId).Properties ?? {}) as {
    Role: string;
    Environment?: { Variables?: Record<string, string> };
  };
  const environment = properties.Environment?.Variables ?? {};
  return {
    logicalId,
    functionName: model.resolved.physicalName(logicalId),
    functionArn: model.arnOf(logicalId),
    role: model.role(properties.Role).logicalId,
    codeFolder: environment.POWERTOOLS_SERVICE_NAME,
    environment,
  };
}

/**
 * What Lambda does with the execution role for the function: write its logs (to the log group
 * LoggingConfig names, else /aws/lambda/<name>) and, with active tracing, send X-Ray segments.
 */
export function lambdaServiceCalls(model: IamModel, logicalId: string): IamCall[] {
  const properties = model.resolved.resolve(model.resolved.resource(logicalId).Properties ?? {}) as {
    LoggingConfig?: { LogGroup?: string };
    TracingConfig?: { Mode?: string };
  };
  const { partition, region, account } = model.environment;
  const logGroup = properties.LoggingConfig?.LogGroup ?? `/aws/lambda/${model.resolved.physicalName(logicalId)}`;
  const stream = `arn:${partition}:logs:${region}:${account}:log-group:${logGroup}:log-stream:2024/01/01/[$LATEST]0123456789abcdef`;
  const calls: IamCall[] = [
    { action: 'logs:CreateLogStream', resource: stream, because: 'Lambda writes the function logs' },
    { action: 'logs:PutLogEvents', resource: stream, because: 'Lambda writes the function logs' },
  ];
  if (properties.TracingConfig?.Mode === 'Active') {
    calls.push(
      { action: 'xray:PutTraceSegments', resource: '*', because: 'active tracing' },
      { action: 'xray:PutTelemetryRecords', resource: '*', because: 'active tracing' },
    );
  }
  return calls;
}

export interface ServiceRoleCall extends IamCall {
  readonly role: string;
  readonly origin: string;
}

/** EventBridge Scheduler invoking its targets with the schedule's role. */
export function schedulerCalls(model: IamModel): ServiceRoleCall[] {
  return model.resolved.logicalIdsOfType('AWS::Scheduler::Schedule').flatMap((logicalId) => {
    const target = (
      model.resolved.resolve(model.resolved.resource(logicalId).Properties ?? {}) as { Target: { Arn: string; RoleArn: string } }
    ).Target;
    if (!/^arn:[a-z-]+:lambda:/.test(target.Arn))
      throw new Error(`schedule ${logicalId}: target ${target.Arn} is not a Lambda function; model it`);
    return [
      {
        action: 'lambda:InvokeFunction',
        resource: target.Arn,
        role: model.role(target.RoleArn).logicalId,
        origin: `schedule ${logicalId}`,
      },
    ];
  });
}

/**
 * API Gateway AWS integrations with a credentials role: `states:action/StartExecution` (the state
 * machine ARNs its request templates name) and `runtime.sagemaker:path/endpoints/<name>/invocations`.
 */
export function apiGatewayIntegrationCalls(model: IamModel): ServiceRoleCall[] {
  const { partition, region, account } = model.environment;
  return model.resolved.logicalIdsOfType('AWS::ApiGateway::Method').flatMap((logicalId) => {
    const integration = (
      model.resolved.resolve(model.resolved.resource(logicalId).Properties ?? {}) as {
        Integration?: { Type?: string; Credentials?: string; Uri?: string; RequestTemplates?: Record<string, string> };
      }
    ).Integration;
    if (integration?.Type !== 'AWS' || !integration.Credentials || !integration.Uri) return [];
    const role = model.role(integration.Credentials).logicalId;
    const origin = `API method ${logicalId}`;
    if (/:states:action\/StartExecution$/.test(integration.Uri)) {
      const templates = Object.values(integration.RequestTemplates ?? {}).join('\n');
      const machines = [...new Set(templates.match(/arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+/g) ?? [])];
      if (machines.length === 0)
        throw new Error(`${origin}: StartExecution integration names no state machine ARN in its request template`);
      return machines.map((resource) => ({ action: 'states:StartExecution', resource, role, origin }));
    }
    const endpoint = /:runtime\.sagemaker:path\/endpoints\/([^/]+)\/invocations$/.exec(integration.Uri)?.[1];
    if (endpoint) {
      return [
        {
          action: 'sagemaker:InvokeEndpoint',
          resource: `arn:${partition}:sagemaker:${region}:${account}:endpoint/${endpoint.toLowerCase()}`,
          role,
          origin,
        },
      ];
    }
    throw new Error(`${origin}: AWS integration ${integration.Uri} is not one this engine models`);
  });
}

/**
 * What SageMaker hosting does with a model's execution role for each endpoint of the template
 * (an AWS::SageMaker::Endpoint, or a Custom::SageMakerEndpoint custom resource naming its
 * EndpointName and EndpointConfigName): pull the container image from ECR, write the container's
 * logs and metrics, and, when the configuration captures data, write the capture files (with the
 * configuration's capture key). Reading a version's model artifact is left to the caller: its key
 * exists only at run time.
 */
export function sageMakerHostingCalls(model: IamModel): ServiceRoleCall[] {
  const { partition, region, account, urlSuffix } = model.environment;
  const resolved = model.resolved;
  const endpoints = [...resolved.logicalIdsOfType('AWS::SageMaker::Endpoint'), ...resolved.logicalIdsOfType('Custom::SageMakerEndpoint')];
  return endpoints.flatMap((endpointId) => {
    const { EndpointName, EndpointConfigName } = resolved.resolve(resolved.resource(endpointId).Properties) as {
      EndpointName: string;
      EndpointConfigName: string;
    };
    const configId = resolved
      .logicalIdsOfType('AWS::SageMaker::EndpointConfig')
      .find((logicalId) => resolved.physicalName(logicalId) === EndpointConfigName);
    if (!configId) throw new Error(`endpoint ${endpointId} names configuration ${EndpointConfigName}, which the template does not hold`);
    const config = resolved.resolve(resolved.resource(configId).Properties) as {
      ProductionVariants: Array<{ ModelName: string; VariantName: string }>;
      DataCaptureConfig?: { DestinationS3Uri: string; KmsKeyId?: string };
    };
    return config.ProductionVariants.flatMap((variant) => {
      const modelId = resolved
        .logicalIdsOfType('AWS::SageMaker::Model')
        .find((logicalId) => resolved.physicalName(logicalId) === variant.ModelName);
      if (!modelId) throw new Error(`configuration ${configId} names model ${variant.ModelName}, which the template does not hold`);
      const properties = resolved.resolve(resolved.resource(modelId).Properties) as {
        ExecutionRoleArn: string;
        PrimaryContainer: { Image: string };
      };
      const role = model.role(properties.ExecutionRoleArn).logicalId;
      const origin = `endpoint ${EndpointName} (model ${modelId})`;
      const call = (action: string, resource: string, because: string, context?: IamCall['context']): ServiceRoleCall => ({
        action,
        resource,
        role,
        origin,
        because,
        ...(context ? { context } : {}),
      });
      const image = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.[^/]+\/([^:@]+)/.exec(properties.PrimaryContainer.Image);
      if (!image) throw new Error(`${origin}: image ${properties.PrimaryContainer.Image} is not an ECR image URI`);
      const repository = `arn:${partition}:ecr:${image[2]}:${image[1]}:repository/${image[3]}`;
      const stream = `arn:${partition}:logs:${region}:${account}:log-group:/aws/sagemaker/Endpoints/${EndpointName}:log-stream:${variant.VariantName}/i-0123456789abcdef0`;
      const calls = [
        call('ecr:GetAuthorizationToken', '*', 'SageMaker pulls the serving image'),
        ...['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'].map((action) =>
          call(action, repository, 'SageMaker pulls the serving image'),
        ),
        call('logs:CreateLogStream', stream, "SageMaker writes the container's logs"),
        call('logs:PutLogEvents', stream, "SageMaker writes the container's logs"),
        call('cloudwatch:PutMetricData', '*', "SageMaker publishes the instances' metrics", {
          'cloudwatch:namespace': '/aws/sagemaker/Endpoints',
        }),
      ];
      const capture = config.DataCaptureConfig;
      if (capture) {
        const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(capture.DestinationS3Uri);
        if (!match) throw new Error(`${origin}: capture destination ${capture.DestinationS3Uri} is not an S3 URI`);
        const prefix = match[2] ? `${match[2].replace(/\/$/, '')}/` : '';
        const object = `arn:${partition}:s3:::${match[1]}/${prefix}${EndpointName}/${variant.VariantName}/2024/01/01/10/capture.jsonl`;
        calls.push(call('s3:PutObject', object, 'data capture writes the captured requests and responses'));
        const key = capture.KmsKeyId ?? model.encryptionOf(object)?.keyArn;
        if (key) {
          calls.push(
            call('kms:GenerateDataKey', key, 'data capture encrypts the capture files', {
              'kms:ViaService': `s3.${region}.${urlSuffix}`,
              'kms:CallerAccount': account,
            }),
          );
        }
      }
      return calls;
    });
  });
}

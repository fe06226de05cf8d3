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

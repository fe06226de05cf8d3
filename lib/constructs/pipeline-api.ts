/**
 * The platform API: an API Gateway REST API over the training pipelines (direct Step Functions
 * StartExecution), the registry (through the API function), approvals (the API function sends
 * the waiting run's task token) and predictions (the model's serverless alias, or SageMaker
 * InvokeEndpoint). IAM SigV4 authorization by default, JSON-schema validation of every body,
 * stage throttling and a usage plan, JSON access logs, X-Ray, and an optional regional WAF.
 * Routes and schemas come from lambdas/api/contract.ts, shared with the local API server.
 */
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  API_ROUTES,
  type ApiRoute,
  type BodySchemaName,
  bodySchemaFor,
  errorBody,
  errorBodySchema,
  INVALID_BODY_MESSAGE,
  type JsonSchemaObject,
  MODEL_NAME_PATTERN,
  NO_PIPELINE_MESSAGE,
  NO_ROUTE_MESSAGE,
  NOT_SERVED_MESSAGE,
  requestBodySchemas,
} from '../../contracts/api';
import { API_DEFAULTS, type ApiConfig } from '../../contracts/platform-config';
import { MlopsFunction } from './mlops-function';

/** Where `POST /models/{name}/predict` of one model goes. */
export type PredictTarget =
  | { readonly kind: 'serverless'; readonly alias: lambda.IAlias }
  | { readonly kind: 'endpoint'; readonly endpointName: string };

export interface PipelineApiProps {
  /** Names the API (`<projectName>-<environment>`). */
  readonly platformName: string;
  /** Model name → that model's STANDARD training state machine. */
  readonly trainingPipelines: ReadonlyMap<string, sfn.IStateMachine>;
  /** lambdas/registry/handler.ts: `{ action, ...request }`. */
  readonly registryFunction: lambda.IFunction;
  /** Model name → its predict target. */
  readonly predictTargets: ReadonlyMap<string, PredictTarget>;
  /**
   * Every configured model name; the model routes exist under each one's own path (and under `{name}`).
   * @default - the names of trainingPipelines and predictTargets
   */
  readonly modelNames?: readonly string[];
  /**
   * Stage, throttling, quota, Cognito and WAF settings (config `api`).
   * @default - API_DEFAULTS: stage v1, 50 requests/s, burst 100, IAM auth, no WAF, no quota
   */
  readonly settings?: Partial<ApiConfig>;
  /**
   * Retention of the access logs and the API function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Response codes every method declares (the error body model). */
const ERROR_STATUS_CODES = ['400', '403', '404', '409', '429', '500'] as const;

/** A JSON string literal of a VTL expression, valid JSON even when the value holds quotes. */
function vtlJsonString(expression: string): string {
  // escapeJavaScript also escapes ' as \' (not valid JSON); undo that one.
  return `"$util.escapeJavaScript(${expression}).replaceAll("\\\\'","'")"`;
}

/**
 * The StartExecution request template: the body's `model` picks the state machine, the whole
 * (validated) body becomes the execution input. An unknown model cannot pass the body's
 * schema; should one arrive anyway the ARN stays empty and Step Functions refuses it (400).
 */
export function startExecutionTemplate(stateMachineArns: ReadonlyMap<string, string>): string {
  const branches = [...stateMachineArns].map(
    ([model, arn], index) => `#${index === 0 ? 'if' : 'elseif'}($model == "${model}")\n#set($stateMachineArn = "${arn}")`,
  );
  return [
    "#set($model = $input.path('$.model'))",
    '#set($stateMachineArn = "")',
    ...branches,
    ...(branches.length > 0 ? ['#end'] : []),
    `{"stateMachineArn": "$stateMachineArn", "input": ${vtlJsonString("$input.json('$')")}}`,
  ].join('\n');
}

/** Step Functions' client errors (`__type`) → the API's status and code. */
export const START_EXECUTION_ERROR_TEMPLATE = [
  "#set($type = $input.path('$.__type'))",
  '#if($type.contains("ExecutionLimitExceeded") || $type.contains("Throttling"))',
  '#set($context.responseOverride.status = 429)',
  '#set($code = "Throttled")',
  '#elseif($type.contains("ExecutionAlreadyExists"))',
  '#set($context.responseOverride.status = 409)',
  '#set($code = "Conflict")',
  '#elseif($type.contains("StateMachineDoesNotExist") || $type.contains("StateMachineDeleting"))',
  '#set($context.responseOverride.status = 404)',
  '#set($code = "NotFound")',
  '#elseif($type.contains("AccessDenied"))',
  '#set($context.responseOverride.status = 403)',
  '#set($code = "Forbidden")',
  '#else',
  '#set($code = "ValidationFailed")',
  '#end',
  `{"error": {"code": "$code", "message": ${vtlJsonString("$input.path('$.message')")}, "details": {"stepFunctionsError": ${vtlJsonString('$type')}}}}`,
].join('\n');

export const START_EXECUTION_RESPONSE_TEMPLATE = `{"executionArn": $input.json('$.executionArn'), "startDate": $input.json('$.startDate')}`;

/** An AWS service's 5xx, without its text. */
const INTERNAL_ERROR_TEMPLATE = `{"error": {"code": "InternalError", "message": "the request failed", "details": {"requestId": "$context.requestId"}}}`;

/** SageMaker runtime errors (the container's own 4xx arrive as 424 ModelError). */
const ENDPOINT_ERROR_TEMPLATE = `{"error": {"code": "ValidationFailed", "message": "the endpoint refused the request", "details": {"endpointError": $input.json('$')}}}`;
const THROTTLED_TEMPLATE = `{"error": {"code": "Throttled", "message": "the endpoint is throttling requests", "details": {}}}`;

export class PipelineApi extends Construct {
  readonly restApi: apigateway.RestApi;
  /** Execution status, registry reads and stage changes, approvals. */
  readonly apiFunction: MlopsFunction;
  readonly accessLogs: logs.LogGroup;
  readonly usagePlan: apigateway.UsagePlan;
  /** The role API Gateway assumes to call StartExecution; absent while no pipeline is deployed. */
  readonly startExecutionRole?: iam.Role;
  readonly webAcl?: wafv2.CfnWebACL;
  /** The stage's base URL (ends in /). */
  readonly url: string;

  private readonly models: Map<BodySchemaName, apigateway.IModel> = new Map();
  private readonly errorModel: apigateway.IModel;
  private readonly validator: apigateway.IRequestValidator;
  private readonly apiIntegration: apigateway.LambdaIntegration;
  private readonly settings: ApiConfig;
  private readonly methodOptions: Pick<apigateway.MethodOptions, 'authorizationType' | 'authorizer'>;

  constructor(scope: Construct, id: string, props: PipelineApiProps) {
    super(scope, id);
    this.settings = { ...API_DEFAULTS, ...props.settings };
    validateProps(props, this.settings);
    const modelNames = [
      ...new Set([...(props.modelNames ?? []), ...props.trainingPipelines.keys(), ...props.predictTargets.keys()]),
    ].sort();
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN });
    Validations.of(this.accessLogs).acknowledge(
      {
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
        reason:
          'Access logs hold request metadata (caller, route, status, latency), never bodies; CloudWatch Logs encrypts at rest by default.',
      },
      ...(logRetention < logs.RetentionDays.ONE_YEAR
        ? [
            {
              id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
              reason: `Retention set to ${logRetention} days by the platform owner (config logRetentionDays).`,
            },
          ]
        : []),
    );

    const authorizer = this.settings.cognitoUserPoolArn
      ? new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
          cognitoUserPools: [cognito.UserPool.fromUserPoolArn(this, 'UserPool', this.settings.cognitoUserPoolArn)],
        })
      : undefined;
    this.methodOptions = authorizer
      ? { authorizationType: apigateway.AuthorizationType.COGNITO, authorizer }
      : { authorizationType: apigateway.AuthorizationType.IAM };

    this.restApi = new apigateway.RestApi(this, 'Api', {
      restApiName: `${props.platformName}-api`,
      description: `cdk-mlops ${props.platformName}: training pipelines, model registry, approvals, predictions`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Access logging needs the account's CloudWatch role; CDK keeps it when the stack goes.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: this.settings.stageName,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: this.settings.throttleRatePerSecond,
        throttlingBurstLimit: this.settings.throttleBurst,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
      defaultMethodOptions: this.methodOptions,
    });
    this.url = this.restApi.url;
    this.acknowledgeApiFindings(authorizer !== undefined);

    this.validator = this.restApi.addRequestValidator('BodyValidator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.errorModel = this.restApi.addModel('ErrorModel', {
      contentType: 'application/json',
      modelName: 'Error',
      schema: toApiGatewaySchema('Error', errorBodySchema),
    });
    const trainable = [...props.trainingPipelines.keys()].sort();
    for (const name of Object.keys(requestBodySchemas) as BodySchemaName[]) {
      this.models.set(
        name,
        this.restApi.addModel(`${name}Model`, {
          contentType: 'application/json',
          modelName: name,
          schema: toApiGatewaySchema(name, bodySchemaFor(name, trainable)),
        }),
      );
    }
    this.addGatewayResponses();

    this.apiFunction = new MlopsFunction(this, 'Function', {
      functionDirectory: 'api',
      description: 'cdk-mlops API: execution status, registry reads and stage changes, approvals',
      memorySize: 256,
      timeout: Duration.seconds(29),
      logRetention,
      environment: {
        REGISTRY_FUNCTION_NAME: props.registryFunction.functionName,
        STATE_MACHINE_ARNS: [...props.trainingPipelines.values()].map((machine) => machine.stateMachineArn).join(','),
      },
    });
    // The unqualified function only (grantInvoke would add every version and alias).
    iam.Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [props.registryFunction.functionArn],
    });
    this.grantExecutionAccess(props.trainingPipelines);
    // One API-wide invoke permission instead of one per method (the function serves about 20 methods).
    this.apiIntegration = new apigateway.LambdaIntegration(this.apiFunction, { proxy: true, scopePermissionToMethod: false });

    this.startExecutionRole = this.createStartExecutionRole(props.trainingPipelines);
    const predictIntegrations = new Map(
      [...props.predictTargets].map(([model, target]) => [model, this.predictIntegration(model, target)]),
    );

    for (const route of API_ROUTES) {
      if (route.path.startsWith('/models/{name}')) {
        for (const model of modelNames) {
          const path = route.path.replace('{name}', model);
          const integration = route.target === 'predict' ? predictIntegrations.get(model) : this.apiIntegration;
          if (integration) this.addRoute(route, path, integration);
        }
        if (route.target === 'predict') this.addNotFoundRoute(route, route.path, NOT_SERVED_MESSAGE);
        else this.addRoute(route, route.path, this.apiIntegration);
      } else if (route.target === 'startExecution') {
        if (this.startExecutionRole) this.addRoute(route, route.path, this.startExecutionIntegration(props.trainingPipelines));
        else this.addNotFoundRoute(route, route.path, NO_PIPELINE_MESSAGE);
      } else {
        this.addRoute(route, route.path, this.apiIntegration);
      }
    }

    this.usagePlan = this.restApi.addUsagePlan('UsagePlan', {
      name: `${props.platformName}-api`,
      description: 'Throttle and quota of the platform API',
      throttle: { rateLimit: this.settings.throttleRatePerSecond, burstLimit: this.settings.throttleBurst },
      ...(this.settings.quotaPerDay ? { quota: { limit: this.settings.quotaPerDay, period: apigateway.Period.DAY } } : {}),
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });

    if (this.settings.waf) this.webAcl = this.createWebAcl(props.platformName);
  }

  /** 5XXError of the stage (API Gateway's own and its integrations'). */
  metricServerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.restApi.metricServerError({ period: Duration.minutes(5), ...props });
  }

  metricClientErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.restApi.metricClientError({ period: Duration.minutes(5), ...props });
  }

  metricRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.restApi.metricCount({ period: Duration.minutes(5), ...props });
  }

  /** Latency at a percentile, e.g. `p99`. */
  metricLatency(statistic: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.restApi.metricLatency({ period: Duration.minutes(5), statistic, ...props });
  }

  private addRoute(route: ApiRoute, path: string, integration: apigateway.Integration): apigateway.Method {
    const resource = this.restApi.root.resourceForPath(path);
    const model = route.bodySchema ? this.models.get(route.bodySchema) : undefined;
    const proxied = integration === this.apiIntegration || integration instanceof apigateway.LambdaIntegration;
    return resource.addMethod(route.method, integration, {
      ...this.methodOptions,
      operationName: route.operation,
      requestValidator: this.validator,
      ...(model ? { requestModels: { 'application/json': model } } : {}),
      requestParameters: Object.fromEntries((route.query ?? []).map((name) => [`method.request.querystring.${name}`, false])),
      methodResponses: proxied ? undefined : this.methodResponses(),
    });
  }

  /** A mock that answers 404 with the error body: a model with no predict target, or no pipeline yet. */
  private addNotFoundRoute(route: ApiRoute, path: string, message: string): apigateway.Method {
    const integration = new apigateway.MockIntegration({
      passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
      requestTemplates: { 'application/json': '{"statusCode": 404}' },
      integrationResponses: [
        {
          statusCode: '404',
          selectionPattern: '404',
          responseTemplates: { 'application/json': JSON.stringify(errorBody('NotFound', message)) },
        },
      ],
    });
    return this.restApi.root.resourceForPath(path).addMethod(route.method, integration, {
      ...this.methodOptions,
      operationName: route.operation,
      requestValidator: this.validator,
      methodResponses: [{ statusCode: '404', responseModels: { 'application/json': this.errorModel } }],
    });
  }

  private methodResponses(): apigateway.MethodResponse[] {
    return [
      { statusCode: '200', responseModels: { 'application/json': apigateway.Model.EMPTY_MODEL } },
      ...ERROR_STATUS_CODES.map((statusCode) => ({ statusCode, responseModels: { 'application/json': this.errorModel } })),
    ];
  }

  private createStartExecutionRole(pipelines: ReadonlyMap<string, sfn.IStateMachine>): iam.Role | undefined {
    if (pipelines.size === 0) return undefined;
    const role = new iam.Role(this, 'StartExecutionRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway: StartExecution of the training pipelines',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [...pipelines.values()].map((machine) => machine.stateMachineArn),
      }),
    );
    return role;
  }

  private startExecutionIntegration(pipelines: ReadonlyMap<string, sfn.IStateMachine>): apigateway.AwsIntegration {
    const arns = new Map([...pipelines].sort(([a], [b]) => a.localeCompare(b)).map(([model, machine]) => [model, machine.stateMachineArn]));
    return new apigateway.AwsIntegration({
      service: 'states',
      action: 'StartExecution',
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: this.startExecutionRole,
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

  private predictIntegration(model: string, target: PredictTarget): apigateway.Integration {
    if (target.kind === 'serverless') {
      // The predict function answers API Gateway proxy events with the API's status codes and error body.
      return new apigateway.LambdaIntegration(target.alias, { proxy: true, allowTestInvoke: false });
    }
    const role = new iam.Role(this, `InvokeEndpointRole-${model}`, {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: `API Gateway: InvokeEndpoint of ${model}`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:InvokeEndpoint'],
        resources: [
          Stack.of(this).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: target.endpointName.toLowerCase() }),
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

  /** DescribeExecution and GetExecutionHistory on the pipelines' executions; task answers on the pipelines. */
  private grantExecutionAccess(pipelines: ReadonlyMap<string, sfn.IStateMachine>): void {
    if (pipelines.size === 0) return;
    const stack = Stack.of(this);
    const executionArns = [...pipelines.values()].map((machine) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachineName(machine)}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resources: executionArns }),
    );
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [...pipelines.values()].map((machine) => machine.stateMachineArn),
      }),
    );
    Validations.of(this.apiFunction.role!).acknowledge(
      ...executionArns.map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::${iamFindingResource(this, arn)}]`,
        reason: 'Execution names are generated per run; the grant covers the executions of the platform pipelines only.',
      })),
    );
  }

  /** Every API Gateway-made error (validation, auth, throttling, missing route, 5xx) in the API's error body. */
  private addGatewayResponses(): void {
    const respond = (
      id: string,
      type: apigateway.ResponseType,
      statusCode: string | undefined,
      code: string,
      message: string,
      details = '{}',
    ) =>
      this.restApi.addGatewayResponse(id, {
        type,
        statusCode,
        templates: {
          'application/json': `{"error": {"code": "${code}", "message": ${message}, "details": ${details}}}`,
        },
      });
    respond(
      'BadRequestBody',
      apigateway.ResponseType.BAD_REQUEST_BODY,
      '400',
      'ValidationFailed',
      JSON.stringify(INVALID_BODY_MESSAGE),
      '{"validation": "$context.error.validationErrorString"}',
    );
    respond(
      'BadRequestParameters',
      apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
      '400',
      'ValidationFailed',
      '$context.error.messageString',
    );
    respond(
      'MissingAuthenticationToken',
      apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
      '404',
      'NotFound',
      JSON.stringify(NO_ROUTE_MESSAGE),
    );
    for (const [id, type] of [
      ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED],
      ['InvalidSignature', apigateway.ResponseType.INVALID_SIGNATURE],
      ['ExpiredToken', apigateway.ResponseType.EXPIRED_TOKEN],
      ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED],
    ] as const) {
      respond(id, type, '403', 'Forbidden', '$context.error.messageString');
    }
    respond('Throttled', apigateway.ResponseType.THROTTLED, '429', 'Throttled', '$context.error.messageString');
    respond('QuotaExceeded', apigateway.ResponseType.QUOTA_EXCEEDED, '429', 'Throttled', '$context.error.messageString');
    // Other 4xx (413 too large, 415 media type, ...) keep their status.
    respond('Default4xx', apigateway.ResponseType.DEFAULT_4XX, undefined, 'ValidationFailed', '$context.error.messageString');
    respond(
      'Default5xx',
      apigateway.ResponseType.DEFAULT_5XX,
      '500',
      'InternalError',
      '$context.error.messageString',
      '{"requestId": "$context.requestId"}',
    );
  }

  private createWebAcl(platformName: string): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    const managed = (name: string, priority: number, overrides: string[] = []) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ruleActionOverrides: overrides.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
        },
      },
      visibilityConfig: visibility(name),
    });
    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `${platformName}-api`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${platformName}-api`),
      rules: [
        // Predict bodies of many rows exceed the rule set's 8 KB body limit; the API's own limits apply instead.
        managed('AWSManagedRulesCommonRuleSet', 0, ['SizeRestrictions_BODY']),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 1),
        {
          name: 'RateLimitPerIp',
          priority: 2,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: this.settings.wafRateLimitPer5Minutes, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });
    return webAcl;
  }

  private acknowledgeApiFindings(cognitoAuth: boolean): void {
    const findings: Array<{ id: string; reason: string }> = [
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-wide role API Gateway writes access and execution logs with; AWS maintains this policy for exactly that.',
      },
      {
        id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
        reason:
          "The invoke permissions name API Gateway as principal with this API's execute-api ARN as SourceArn; the rule cannot evaluate an ARN built with Fn::Join.",
      },
    ];
    if (!cognitoAuth) {
      findings.push({
        id: 'AwsSolutions-COG4',
        reason:
          'Every method uses IAM SigV4 authorization (the default); a Cognito user pool authorizer is an option in config api.cognitoUserPoolArn.',
      });
    }
    if (!this.settings.waf) {
      findings.push({
        id: 'AwsSolutions-APIG3',
        reason: 'Callers are IAM-authenticated and throttled per stage; the regional WAF web ACL is enabled with config api.waf.',
      });
    }
    Validations.of(this).acknowledge(...findings);
  }
}

/** The state machine's name; an imported machine's is read from its ARN. */
function stateMachineName(machine: sfn.IStateMachine): string {
  if ('stateMachineName' in machine && typeof machine.stateMachineName === 'string') return machine.stateMachineName;
  return Arn.split(machine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName!;
}

/** How cdk-nag names a resource ARN made of tokens in an IAM5 finding. */
function iamFindingResource(scope: Construct, arn: string): string {
  const resolved = Stack.of(scope).resolve(arn) as { 'Fn::Join'?: [string, unknown[]] };
  const parts = resolved['Fn::Join']?.[1] ?? [arn];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref) return `<${ref}>`;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
      return JSON.stringify(part);
    })
    .join('');
}

/** The shared JSON schema as an API Gateway model schema (draft 4; CDK spells `$schema` as `schema`). */
function toApiGatewaySchema(title: string, schema: JsonSchemaObject): apigateway.JsonSchema {
  return { schema: apigateway.JsonSchemaVersion.DRAFT4, title, ...(schema as apigateway.JsonSchema) };
}

function validateProps(props: PipelineApiProps, settings: ApiConfig): void {
  const pattern = new RegExp(MODEL_NAME_PATTERN);
  for (const name of [...props.trainingPipelines.keys(), ...props.predictTargets.keys(), ...(props.modelNames ?? [])]) {
    if (!pattern.test(name)) throw new Error(`model names must match ${MODEL_NAME_PATTERN}, got "${name}"`);
  }
  if (settings.throttleBurst < settings.throttleRatePerSecond) {
    throw new Error(
      `throttleBurst must be at least throttleRatePerSecond, got ${settings.throttleBurst} < ${settings.throttleRatePerSecond}`,
    );
  }
}

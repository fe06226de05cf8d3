/**
 * The platform API: an API Gateway REST API over the training pipelines (direct Step Functions
 * StartExecution), the registry (through the API function), approvals (the API function sends
 * the waiting run's task token) and predictions (the model's serverless alias, or SageMaker
 * InvokeEndpoint). IAM SigV4 authorization by default, JSON-schema validation of every body,
 * stage throttling and a usage plan, JSON access logs, X-Ray, and an optional regional WAF.
 * Routes and schemas come from contracts/api.ts, shared with the local API server; the mapping
 * templates live in api-templates.ts, the web ACL in api-waf.ts.
 */
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  API_ROUTES,
  type ApiRoute,
  type BodySchemaName,
  bodySchemaFor,
  errorBody,
  errorBodySchema,
  type JsonSchemaObject,
  MODEL_NAME_PATTERN,
  NO_PIPELINE_MESSAGE,
  NOT_SERVED_MESSAGE,
  requestBodySchemas,
} from '../../contracts/api';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { type ModelCardConfig, modelCardPrefix } from '../../contracts/model-card';
import { API_DEFAULTS, type ApiConfig } from '../../contracts/platform-config';
import { iamFindingResource } from './acknowledgements';
import { createStartExecutionRole, type PredictTarget, predictIntegration, startExecutionIntegration } from './api-integrations';
import { addGatewayResponses } from './api-templates';
import { createApiWebAcl } from './api-waf';
import type { ArtifactStore } from './artifact-store';
import { MlopsFunction } from './mlops-function';

export interface PipelineApiProps {
  /** Names the API (`<projectName>-<environment>`). */
  readonly platformName: string;
  /** Model name → that model's STANDARD training state machine. */
  readonly trainingPipelines: ReadonlyMap<string, sfn.IStateMachine>;
  /**
   * Model name → that model's STANDARD batch inference state machine (POST /pipelines/batch).
   * @default - none: POST /pipelines/batch answers 404
   */
  readonly batchPipelines?: ReadonlyMap<string, sfn.IStateMachine>;
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
  /**
   * Model cards (GET /models/{name}/versions/{version}/card): the artifacts bucket, where the
   * function reads each model's reports and profiles and writes its cards, and each model's card settings.
   * @default - no cards: the card route answers 500
   */
  readonly modelCards?: { readonly artifactStore: ArtifactStore; readonly configs: Readonly<Record<string, ModelCardConfig>> };
}

/** Response codes every method declares (the error body model). */
const ERROR_STATUS_CODES = ['400', '403', '404', '409', '429', '500'] as const;

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
      ...new Set([
        ...(props.modelNames ?? []),
        ...props.trainingPipelines.keys(),
        ...(props.batchPipelines?.keys() ?? []),
        ...props.predictTargets.keys(),
      ]),
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
      // Access and execution logging need the account's API Gateway CloudWatch role: an account-wide
      // setting, so the stack takes it over only when told to (api.cloudWatchRole); CDK keeps it when the stack goes.
      cloudWatchRole: this.settings.cloudWatchRole,
      ...(this.settings.cloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
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
    const batchPipelines = props.batchPipelines ?? new Map<string, sfn.IStateMachine>();
    const batchable = [...batchPipelines.keys()].sort();
    // Every run the API may report on, redrive or start: the training and the batch pipelines.
    const allPipelines = [...props.trainingPipelines.values(), ...batchPipelines.values()];
    for (const name of Object.keys(requestBodySchemas) as BodySchemaName[]) {
      this.models.set(
        name,
        this.restApi.addModel(`${name}Model`, {
          contentType: 'application/json',
          modelName: name,
          schema: toApiGatewaySchema(name, bodySchemaFor(name, trainable, batchable)),
        }),
      );
    }
    addGatewayResponses(this.restApi);

    this.apiFunction = new MlopsFunction(this, 'Function', {
      functionDirectory: 'api',
      description: 'cdk-mlops API: execution status, registry reads and stage changes, approvals',
      memorySize: 256,
      timeout: Duration.seconds(29),
      logRetention,
      environment: {
        REGISTRY_FUNCTION_NAME: props.registryFunction.functionName,
        STATE_MACHINE_ARNS: allPipelines.map((machine) => machine.stateMachineArn).join(','),
      },
    });
    // The unqualified function only (grantInvoke would add every version and alias).
    iam.Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [props.registryFunction.functionArn],
    });
    this.grantExecutionAccess(allPipelines);
    if (props.modelCards) this.grantModelCards(props.modelCards);
    // One API-wide invoke permission instead of one per method (the function serves about 20 methods).
    this.apiIntegration = new apigateway.LambdaIntegration(this.apiFunction, { proxy: true, scopePermissionToMethod: false });

    this.startExecutionRole = createStartExecutionRole(this, allPipelines);
    const predictIntegrations = new Map(
      [...props.predictTargets].map(([model, target]) => [model, predictIntegration(this, model, target)]),
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
      } else if (route.target === 'startExecution' || route.target === 'startBatch') {
        const pipelines = route.target === 'startExecution' ? props.trainingPipelines : batchPipelines;
        if (this.startExecutionRole && pipelines.size > 0)
          this.addRoute(route, route.path, startExecutionIntegration(pipelines, this.startExecutionRole));
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

    if (this.settings.waf)
      this.webAcl = createApiWebAcl(this, props.platformName, this.restApi.deploymentStage.stageArn, this.settings.wafRateLimitPer5Minutes);
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

  /** Status and redrive of the pipelines' executions (DescribeExecution, GetExecutionHistory, RedriveExecution); task answers. */
  /** Reads of each model's reports and profiles, writes under its cards/ prefix only. */
  private grantModelCards({ artifactStore, configs }: NonNullable<PipelineApiProps['modelCards']>): void {
    this.apiFunction.addEnvironment('ARTIFACTS_BUCKET', artifactStore.artifactsBucket.bucketName);
    this.apiFunction.addEnvironment('MODEL_CARDS', JSON.stringify(configs));
    for (const model of Object.keys(configs)) {
      artifactStore.grantReadArtifacts(this.apiFunction, `${ARTIFACT_PREFIXES.reports}${model}/`);
      artifactStore.grantReadArtifacts(this.apiFunction, `${ARTIFACT_PREFIXES.profiles}${model}/`);
      artifactStore.grantWriteArtifacts(this.apiFunction, modelCardPrefix(model));
    }
  }

  private grantExecutionAccess(pipelines: readonly sfn.IStateMachine[]): void {
    if (pipelines.length === 0) return;
    const stack = Stack.of(this);
    const executionArns = pipelines.map((machine) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachineName(machine)}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'states:DescribeExecution',
          'states:GetExecutionHistory',
          // The redrive route: the definition the run started with, then RedriveExecution.
          'states:DescribeStateMachineForExecution',
          'states:RedriveExecution',
        ],
        resources: executionArns,
      }),
    );
    // The redrive route compares the run's definition revision with the pipeline's current one.
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeStateMachine'],
        resources: [...pipelines.values()].map((machine) => machine.stateMachineArn),
      }),
    );
    // Task tokens name no resource: SendTaskSuccess/SendTaskFailure support no resource type, so a grant
    // on the state machine ARNs allows nothing. The token itself is the capability; only the approval
    // route sends one, after checking the version waits for approval in this platform's registry.
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] }),
    );
    Validations.of(this.apiFunction.role!).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'states:SendTaskSuccess and states:SendTaskFailure support no resource type (the task token is the capability); IAM accepts only "*" for them.',
      },
      ...executionArns.map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::${iamFindingResource(this, arn)}]`,
        reason: 'Execution names are generated per run; the grant covers the executions of the platform pipelines only.',
      })),
    );
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

/** The shared JSON schema as an API Gateway model schema (draft 4; CDK spells `$schema` as `schema`). */
function toApiGatewaySchema(title: string, schema: JsonSchemaObject): apigateway.JsonSchema {
  return { schema: apigateway.JsonSchemaVersion.DRAFT4, title, ...(schema as apigateway.JsonSchema) };
}

function validateProps(props: PipelineApiProps, settings: ApiConfig): void {
  const pattern = new RegExp(MODEL_NAME_PATTERN);
  for (const name of [
    ...props.trainingPipelines.keys(),
    ...(props.batchPipelines?.keys() ?? []),
    ...props.predictTargets.keys(),
    ...(props.modelNames ?? []),
  ]) {
    if (!pattern.test(name)) throw new Error(`model names must match ${MODEL_NAME_PATTERN}, got "${name}"`);
  }
  if (settings.throttleBurst < settings.throttleRatePerSecond) {
    throw new Error(
      `throttleBurst must be at least throttleRatePerSecond, got ${settings.throttleBurst} < ${settings.throttleRatePerSecond}`,
    );
  }
}

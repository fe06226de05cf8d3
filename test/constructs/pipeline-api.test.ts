/**
 * PipelineApi: every route with IAM auth, its validator and body model, its integration and
 * target; the direct StartExecution integration's mapping templates (rendered with a Velocity
 * engine) and role; gateway error bodies; stage, usage plan, WAF and Cognito options.
 */
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { render } from 'velocityjs';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, INVALID_BODY_MESSAGE } from '../../contracts/api';
import type { PredictTarget } from '../../lib/constructs/api-integrations';
import {
  START_EXECUTION_ERROR_TEMPLATE,
  START_EXECUTION_RESPONSE_TEMPLATE,
  startExecutionTemplate,
} from '../../lib/constructs/api-templates';
import { PipelineApi, type PipelineApiProps } from '../../lib/constructs/pipeline-api';
import { Match, policyStatements, Template, testStack } from '../support/cdk';

function synth(options: { pipelines?: string[]; settings?: PipelineApiProps['settings']; endpointModel?: boolean } = {}) {
  const stack = testStack();
  const registryFunction = lambda.Function.fromFunctionArn(stack, 'Registry', 'arn:aws:lambda:eu-west-1:123456789012:function:registry');
  const alias = lambda.Alias.fromAliasAttributes(stack, 'Alias', {
    aliasName: 'live',
    aliasVersion: lambda.Version.fromVersionArn(stack, 'V', 'arn:aws:lambda:eu-west-1:123456789012:function:predict-churn:3'),
  });
  const pipelines = new Map(
    (options.pipelines ?? ['churn']).map((model) => [
      model,
      sfn.StateMachine.fromStateMachineArn(
        stack,
        `Machine-${model}`,
        `arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-dev-${model}`,
      ),
    ]),
  );
  const api = new PipelineApi(stack, 'Api', {
    platformName: 'mlops-dev',
    trainingPipelines: pipelines,
    registryFunction,
    predictTargets: new Map<string, PredictTarget>([
      ['churn', { kind: 'serverless', alias }],
      ...(options.endpointModel ? [['fraud', { kind: 'endpoint', endpointName: 'mlops-dev-fraud' }] as const] : []),
    ]),
    modelNames: ['churn', ...(options.endpointModel ? ['fraud'] : [])],
    settings: options.settings,
  });
  return { template: Template.fromStack(stack), api, stack };
}

type Resources = Record<string, { Type: string; Properties: any }>;

/** Each method's full path, resolved through the Resource tree. */
function methodsByRoute(template: Template): Map<string, any> {
  const resources = template.toJSON().Resources as Resources;
  const pathOf = (ref: any): string => {
    if (ref['Fn::GetAtt']) return '';
    const resource = resources[ref.Ref]!;
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };
  const methods = new Map<string, any>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Method') continue;
    methods.set(`${resource.Properties.HttpMethod} ${pathOf(resource.Properties.ResourceId)}`, resource.Properties);
  }
  return methods;
}

const logicalIdOf = (template: Template, type: string, name: string) =>
  Object.entries(template.findResources(type)).find(([, resource]) => (resource as any).Properties.Name === name)![0];

describe('PipelineApi routes', () => {
  const { template } = synth({ endpointModel: true });
  const methods = methodsByRoute(template);
  const validatorId = Object.keys(template.findResources('AWS::ApiGateway::RequestValidator'))[0]!;

  it('exposes every route of the contract under {name} and under each model, all with AWS_IAM and the validator', () => {
    const expected = API_ROUTES.flatMap((route) =>
      route.path.includes('{name}')
        ? [route.path, route.path.replace('{name}', 'churn'), route.path.replace('{name}', 'fraud')].map(
            (path) => `${route.method} ${path}`,
          )
        : [`${route.method} ${route.path}`],
    );
    expect([...methods.keys()].sort()).toEqual(expected.sort());
    for (const [route, method] of methods) {
      expect(method.AuthorizationType, route).toBe('AWS_IAM');
      expect(method.RequestValidatorId, route).toEqual({ Ref: validatorId });
    }
  });

  it("leaves the account's API Gateway logging role alone unless api.cloudWatchRole opts in (it is account-wide)", () => {
    const byDefault = synth().template;
    byDefault.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Object.keys(byDefault.findResources('AWS::IAM::Role')).filter((id) => id.includes('CloudWatchRole'))).toEqual([]);
    const optedIn = synth({ settings: { cloudWatchRole: true } }).template;
    optedIn.resourceCountIs('AWS::ApiGateway::Account', 1);
    // Kept when the stack goes: other APIs of the account may log through it by then.
    expect(Object.values(optedIn.findResources('AWS::ApiGateway::Account'))[0]).toMatchObject({ DeletionPolicy: 'Retain' });
  });

  it('attaches the body model of each POST route', () => {
    const expectations: Record<string, string> = {
      'POST /pipelines/training': 'TrainingRequest',
      'POST /models/churn/versions/{version}/approve': 'ApproveRequest',
      'POST /models/churn/versions/{version}/promote': 'PromoteRequest',
      'POST /models/{name}/versions/{version}/archive': 'ArchiveRequest',
      'POST /models/churn/rollback': 'RollbackRequest',
      'POST /models/churn/predict': 'PredictRequest',
      'POST /models/fraud/predict': 'PredictRequest',
    };
    for (const [route, model] of Object.entries(expectations)) {
      expect(methods.get(route)!.RequestModels, route).toEqual({
        'application/json': { Ref: logicalIdOf(template, 'AWS::ApiGateway::Model', model) },
      });
    }
    const training = Object.values(template.findResources('AWS::ApiGateway::Model')).find(
      (m: any) => m.Properties.Name === 'TrainingRequest',
    ) as any;
    expect(training.Properties.Schema).toMatchObject({
      $schema: 'http://json-schema.org/draft-04/schema#',
      required: ['model', 'datasetUri'],
      additionalProperties: false,
      properties: { model: { enum: ['churn'] }, datasetUri: { pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+' } },
    });
  });

  it('sends registry, status and approval routes to the API function as Lambda proxy requests', () => {
    for (const route of [
      'GET /models',
      'GET /models/{name}',
      'GET /models/churn/versions/{version}',
      'GET /pipelines/executions/{id}',
      'POST /models/churn/versions/{version}/approve',
    ]) {
      const integration = methods.get(route)!.Integration;
      expect(integration.Type, route).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Uri), route).toMatch(/ApiFunction[0-9A-F]{8}.*Arn/);
    }
  });

  it("sends predict to the serverless model's alias, to InvokeEndpoint for an endpoint model, and 404s other names", () => {
    const serverless = methods.get('POST /models/churn/predict')!.Integration;
    expect(serverless.Type).toBe('AWS_PROXY');
    expect(JSON.stringify(serverless.Uri)).toContain('function:predict-churn:live/invocations');
    const endpoint = methods.get('POST /models/fraud/predict')!.Integration;
    expect(endpoint).toMatchObject({
      Type: 'AWS',
      IntegrationHttpMethod: 'POST',
      RequestParameters: {
        'integration.request.header.Content-Type': "'application/json'",
        // The API request id as InvokeEndpoint's InferenceId: the key that joins the two variants' capture in a shadow phase.
        'integration.request.header.X-Amzn-SageMaker-Inference-Id': 'context.requestId',
      },
    });
    expect(JSON.stringify(endpoint.Uri)).toContain(':runtime.sagemaker:path/endpoints/mlops-dev-fraud/invocations');
    const unknown = methods.get('POST /models/{name}/predict')!.Integration;
    expect(unknown.Type).toBe('MOCK');
    expect(JSON.parse(unknown.IntegrationResponses[0].ResponseTemplates['application/json'])).toMatchObject({
      error: { code: 'NotFound' },
    });
  });

  it('lets API Gateway call InvokeEndpoint on that endpoint only', () => {
    const statements = policyStatements(template).filter((statement) => JSON.stringify(statement.Action).includes('sagemaker'));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'sagemaker:InvokeEndpoint',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':sagemaker:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':endpoint/mlops-dev-fraud',
            ],
          ],
        },
      },
    ]);
  });
});

describe('the StartExecution integration', () => {
  const { template } = synth({ pipelines: ['churn', 'fraud'] });
  const integration = methodsByRoute(template).get('POST /pipelines/training')!.Integration;

  it('is a direct Step Functions StartExecution call with its own role', () => {
    expect(integration).toMatchObject({ Type: 'AWS', IntegrationHttpMethod: 'POST', PassthroughBehavior: 'NEVER' });
    expect(JSON.stringify(integration.Uri)).toContain(':states:action/StartExecution');
    const roleId = integration.Credentials['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'apigateway.amazonaws.com' });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (policy: any) => policy.Properties.Roles[0].Ref === roleId,
    ) as any[];
    expect(policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: [
          'arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-dev-churn',
          'arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-dev-fraud',
        ],
      },
    ]);
  });

  it("maps the body's model to its state machine and passes the whole body as the execution input", () => {
    const templateText = integration.RequestTemplates['application/json'];
    const body = { model: 'fraud', datasetUri: "s3://datasets/o'brien/train.csv", hyperparameters: { note: 'say "hi"' } };
    const rendered = JSON.parse(renderVtl(templateText, body));
    expect(rendered.stateMachineArn).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-dev-fraud');
    expect(JSON.parse(rendered.input)).toEqual(body);
    expect(JSON.parse(renderVtl(templateText, { ...body, model: 'churn' })).stateMachineArn).toMatch(/mlops-dev-churn$/);
    // Unreachable past the schema's enum, but still no other machine.
    expect(JSON.parse(renderVtl(templateText, { ...body, model: 'other' })).stateMachineArn).toBe('');
  });

  it("returns the execution ARN, and maps Step Functions' errors to the API's statuses and error body", () => {
    expect(integration.IntegrationResponses.map((response: any) => [response.StatusCode, response.SelectionPattern])).toEqual([
      ['200', undefined],
      ['400', '4\\d{2}'],
      ['500', '5\\d{2}'],
    ]);
    expect(JSON.parse(renderVtl(START_EXECUTION_RESPONSE_TEMPLATE, { executionArn: 'arn:x', startDate: 1.7e9 }))).toEqual({
      executionArn: 'arn:x',
      startDate: 1.7e9,
    });
    const cases: Array<[string, number | undefined, string]> = [
      ['com.amazonaws.swf.service.v2.model#ExecutionLimitExceeded', 429, 'Throttled'],
      ['ExecutionAlreadyExists', 409, 'Conflict'],
      ['StateMachineDoesNotExist', 404, 'NotFound'],
      ['AccessDeniedException', 403, 'Forbidden'],
      ['InvalidExecutionInput', undefined, 'ValidationFailed'],
    ];
    for (const [type, status, code] of cases) {
      const context: any = { responseOverride: {}, requestId: 'r' };
      const body = JSON.parse(renderVtl(START_EXECUTION_ERROR_TEMPLATE, { __type: type, message: "it's refused" }, context));
      expect(body, type).toEqual({ error: { code, message: "it's refused", details: { stepFunctionsError: type } } });
      expect(context.responseOverride.status, type).toBe(status);
    }
  });

  it('without any pipeline answers 404 from a mock and creates no StartExecution role', () => {
    const { template: empty } = synth({ pipelines: [] });
    const integration = methodsByRoute(empty).get('POST /pipelines/training')!.Integration;
    expect(integration.Type).toBe('MOCK');
    expect(integration.IntegrationResponses[0].StatusCode).toBe('404');
    expect(JSON.stringify(policyStatements(empty))).not.toContain('states:StartExecution');
    expect(startExecutionTemplate(new Map())).not.toContain('#if');
  });
});

describe('PipelineApi stage, errors and options', () => {
  it('traces, logs access as JSON and throttles the stage; the usage plan carries the same limits', () => {
    const { template } = synth({ settings: { throttleRatePerSecond: 20, throttleBurst: 40, quotaPerDay: 10_000 } });
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0] as any;
    expect(stage.Properties).toMatchObject({ StageName: 'v1', TracingEnabled: true });
    expect(stage.Properties.MethodSettings).toEqual([
      expect.objectContaining({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40, LoggingLevel: 'ERROR', DataTraceEnabled: false }),
    ]);
    const format = JSON.parse(stage.Properties.AccessLogSetting.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', user: '$context.identity.user' });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 10_000, Period: 'DAY' },
    });
  });

  it('answers schema failures, auth failures, throttling and unknown routes with the error body', () => {
    const { template } = synth();
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).map((resource: any) => resource.Properties);
    const byType = new Map(responses.map((response) => [response.ResponseType, response]));
    const body = (type: string) => byType.get(type).ResponseTemplates['application/json'] as string;
    expect(byType.get('BAD_REQUEST_BODY').StatusCode).toBe('400');
    expect(body('BAD_REQUEST_BODY')).toBe(
      `{"error": {"code": "ValidationFailed", "message": "${INVALID_BODY_MESSAGE}", "details": {"validation": "$context.error.validationErrorString"}}}`,
    );
    expect([
      byType.get('ACCESS_DENIED').StatusCode,
      byType.get('THROTTLED').StatusCode,
      byType.get('MISSING_AUTHENTICATION_TOKEN').StatusCode,
    ]).toEqual(['403', '429', '404']);
    expect(byType.get('DEFAULT_5XX').StatusCode).toBe('500');
    expect(body('DEFAULT_5XX')).toContain('"code": "InternalError"');
  });

  it('grants the API function the registry function, execution reads on the pipelines only, and task answers on "*" (they support no resource type)', () => {
    const { template } = synth();
    const statements = policyStatements(template);
    expect(statements).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:registry' },
        {
          Effect: 'Allow',
          // The redrive route reads the run's definition and redrives it, on the pipelines' executions only.
          Action: [
            'states:DescribeExecution',
            'states:DescribeStateMachineForExecution',
            'states:GetExecutionHistory',
            'states:RedriveExecution',
          ],
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':states:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':execution:mlops-dev-churn:*',
              ],
            ],
          },
        },
        // CDK merges it with the other "*" statements of the role (X-Ray).
        {
          Effect: 'Allow',
          Action: expect.arrayContaining(['states:SendTaskFailure', 'states:SendTaskSuccess']),
          Resource: '*',
        },
      ]),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ STATE_MACHINE_ARNS: 'arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-dev-churn' }),
      },
    });
  });

  it('adds a regional WAF web ACL with managed rules and a per-IP rate limit only when configured; the 8 KB body rule only counts', () => {
    expect(synth().template.findResources('AWS::WAFv2::WebACL')).toEqual({});
    const { template } = synth({ settings: { waf: true, wafRateLimitPer5Minutes: 500 } });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'AWSManagedRulesCommonRuleSet',
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            }),
          },
        }),
        Match.objectLike({ Name: 'RateLimitPerIp', Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: 'IP' } } }),
      ]),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('uses a Cognito user pool authorizer on every method when one is configured', () => {
    const { template } = synth({
      settings: { cognitoUserPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123' },
    });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
    for (const method of methodsByRoute(template).values()) expect(method.AuthorizationType).toBe('COGNITO_USER_POOLS');
  });

  it('refuses a burst below the rate and a malformed model name', () => {
    expect(() => synth({ settings: { throttleRatePerSecond: 50, throttleBurst: 10 } })).toThrow(
      'throttleBurst must be at least throttleRatePerSecond, got 10 < 50',
    );
    expect(() => synth({ pipelines: ['Churn'] })).toThrow('model names must match ^[a-z][a-z0-9-]*$, got "Churn"');
  });
});

/** Java strings as API Gateway's Velocity sees them: contains() and regex replaceAll(). */
class JavaString extends String {
  contains(part: string): boolean {
    return this.includes(part);
  }
  override replaceAll(pattern: any, replacement: any): string {
    return this.toString().replace(new RegExp(pattern, 'g'), replacement);
  }
}

/** Renders a mapping template with $input over `body` and API Gateway's $util.escapeJavaScript. */
function renderVtl(text: string, body: Record<string, unknown>, context: Record<string, unknown> = {}): string {
  const read = (path: string) =>
    path
      .slice(2)
      .split('.')
      .reduce<any>((value, key) => value?.[key], body);
  const input = {
    path: (path: string) => {
      const value = read(path);
      return typeof value === 'string' ? new JavaString(value) : value;
    },
    json: (path: string) => JSON.stringify(path === '$' ? body : read(path)),
  };
  const util = {
    // Like Java's StringEscapeUtils.escapeJavaScript: JSON escapes plus \' for single quotes.
    escapeJavaScript: (value: unknown) =>
      new JavaString(
        JSON.stringify(String(value ?? ''))
          .slice(1, -1)
          .replace(/'/g, "\\'"),
      ),
  };
  return render(text, { input, util, context });
}

/**
 * Template assertions for SageMakerEndpoint: the bootstrap model (the serving image without an
 * artifact), its endpoint configuration with data capture, the endpoint as a create-only custom
 * resource (what a later `cdk deploy` and `cdk destroy` do to it), the blue/green deployment
 * policy and the alarms it names, autoscaling, IAM; and its prop validation with the messages a
 * platform engineer sees.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { type PlatformConfigInput, parseConfig, type ResolvedModelConfig, resolveModel } from '../../contracts/platform-config';
import type { ServingConfig } from '../../contracts/serving';
import { servingContainerEnvironment } from '../../contracts/serving-container';
import { modelSchemaFor } from '../../contracts/serving-schema';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { MAX_TARGET_SCHEMA_BYTES } from '../../lib/constructs/deploy-endpoint';
import { ENDPOINT_RESOURCE_TYPE } from '../../lib/constructs/endpoint-resource';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { SageMakerEndpoint, type SageMakerEndpointProps } from '../../lib/constructs/sagemaker-endpoint';

const cdkJson = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: { mlops: PlatformConfigInput } & Record<string, unknown>;
};
const { mlops: _mlops, ...flags } = cdkJson.context;
/** cdk.json's feature flags, with bundling skipped (the bundle is checked by npm run synth and the bundle budget). */
const featureFlags = { ...flags, 'aws:cdk:bundling-stacks': [] };
/** A serving image of the user's own (the default is the platform's, built from containers/onnx-serving). */
const IMAGE = '763104351884.dkr.ecr.{region}.amazonaws.com/onnx-serving:1.20';

function churnModel(serving: Partial<ServingConfig> = {}): ResolvedModelConfig {
  const config = parseConfig(cdkJson.context.mlops);
  const resolved = resolveModel(config, config.models[0]!);
  return { ...resolved, serving: { ...resolved.serving, mode: 'endpoint', ...serving } };
}

function synth(
  props: Partial<SageMakerEndpointProps> = {},
  serving: Partial<ServingConfig> = {},
  extend?: (stack: Stack, endpoint: SageMakerEndpoint) => void,
) {
  const app = new App({ context: featureFlags });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const artifactStore = new ArtifactStore(stack, 'Store');
  const registry = new ModelRegistry(stack, 'Registry', { modelNames: ['churn'] });
  const endpoint = new SageMakerEndpoint(stack, 'Endpoint', {
    model: churnModel(serving),
    artifactStore,
    registry,
    ...props,
  });
  extend?.(stack, endpoint);
  return { stack, endpoint, template: Template.fromStack(stack) };
}

describe('SageMakerEndpoint', () => {
  const { stack, endpoint, template } = synth();
  const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as never) });

  it('creates the bootstrap model: the platform’s serving image, no artifact, the serving schema in its environment', () => {
    const [model] = Object.values(template.findResources('AWS::SageMaker::Model')) as Array<{ Properties: Record<string, any> }>;
    expect(Object.keys(template.findResources('AWS::SageMaker::Model'))).toHaveLength(1);
    expect(model!.Properties).toMatchObject({
      EnableNetworkIsolation: true,
      ExecutionRoleArn: { 'Fn::GetAtt': [stack.getLogicalId(endpoint.executionRole.node.defaultChild as never), 'Arn'] },
      PrimaryContainer: { Environment: servingContainerEnvironment(modelSchemaFor(churnModel())) },
    });
    expect(model!.Properties.PrimaryContainer.ModelDataUrl).toBeUndefined();
    expect(model!.Properties.PrimaryContainer.Environment.MODEL_VERSION).toBeUndefined();
    // The image asset of containers/onnx-serving, in the CDK bootstrap's container asset repository.
    expect(JSON.stringify(model!.Properties.PrimaryContainer.Image)).toContain('container-assets');
    expect(stack.resolve(endpoint.imageUri)).toEqual(model!.Properties.PrimaryContainer.Image);
  });

  it('uses the user’s own serving image instead when one is configured, with the region filled in', () => {
    synth({ imageUri: IMAGE }).template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/onnx-serving:1.20', ModelDataUrl: Match.absent() },
    });
  });

  it('configures one variant with the configured instances, KMS-encrypted volumes and data capture of inputs and outputs', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreKey'), 'Arn'] },
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          InstanceType: 'ml.c6i.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
          ModelName: Match.anyValue(),
        },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 20,
        DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^StoreCapture') }, '/churn/endpoint']] },
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreKey'), 'Arn'] },
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    });
  });

  it('alarms on idle cost: no invocation for serving.idleHours hourly periods, missing data counted as idle, not a rollback alarm', () => {
    const idle = synth({}, { idleHours: 6 });
    idle.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      Namespace: 'AWS/SageMaker',
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 6,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(idle.endpoint.rollbackAlarms).not.toContain(idle.endpoint.idleAlarm);
  });

  it("states the idle endpoint's monthly cost in the alarm's text: minimum instances x hourly price x 730 h", () => {
    // ml.m5.xlarge at $0.23/h from the price table: 2 x 0.23 x 730 = $335.80.
    const fromTable = synth({}, { idleHours: 12, instanceType: 'ml.m5.xlarge', minInstances: 2 });
    fromTable.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      AlarmDescription:
        'churn endpoint: no invocation in 12 h while 2 x ml.m5.xlarge bill $335.80 a month (2 x $0.23/h x 730 h, on-demand; idle cost)',
    });
    // An override from the configuration wins over the table: 3 x 0.5 x 730 = $1095.00.
    const overridden = synth({ instanceHourUsd: 0.5 }, { instanceType: 'ml.m5.xlarge', minInstances: 3, maxInstances: 4 });
    overridden.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('3 x ml\\.m5\\.xlarge bill \\$1095\\.00 a month \\(3 x \\$0\\.5/h x 730 h'),
    });
  });

  it('leaves data capture out when the sampling share is 0', () => {
    const config = synth({}, { dataCapturePercent: 0 }).template.findResources('AWS::SageMaker::EndpointConfig');
    expect(JSON.stringify(config)).not.toContain('DataCaptureConfig');
  });

  it('creates the endpoint as a custom resource on the bootstrap configuration, never as an AWS::SageMaker::Endpoint', () => {
    template.resourceCountIs('AWS::SageMaker::Endpoint', 0);
    template.resourceCountIs(ENDPOINT_RESOURCE_TYPE, 1);
    template.hasResourceProperties(ENDPOINT_RESOURCE_TYPE, {
      EndpointName: endpoint.endpointName,
      EndpointConfigName: { 'Fn::GetAtt': [stack.getLogicalId(endpoint.bootstrapConfig), 'EndpointConfigName'] },
    });
  });

  it('waits for the endpoint to be InService by polling every 30 s, for at most 1 hour', () => {
    // The provider framework's waiter: a Retry of the is-complete task every 30 s, 120 times.
    const waiters = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).map((machine: any) =>
      JSON.stringify(stack.resolve(machine.Properties.DefinitionString)),
    );
    expect(waiters).toHaveLength(1);
    expect(waiters[0]).toMatch(/\\"IntervalSeconds\\":30,\\"MaxAttempts\\":120,\\"BackoffRate\\":1/);
  });

  it('hands a later `cdk deploy` nothing to change on the endpoint: a new instance type, capture share or image only replaces the bootstrap configuration, which the resource’s update ignores', () => {
    // ml.c7i.xlarge is not in the price table: the construct takes its price as a prop (an illustrative figure).
    const changed = synth(
      { imageUri: IMAGE, instanceHourUsd: 0.2 },
      { instanceType: 'ml.c7i.xlarge', dataCapturePercent: 50, minInstances: 3 },
    );
    const resource = (synthesized: ReturnType<typeof synth>) => {
      const [found] = Object.values(synthesized.template.findResources(ENDPOINT_RESOURCE_TYPE)) as Array<{
        Properties: Record<string, unknown>;
      }>;
      const { EndpointConfigName, ServiceToken: _token, ...rest } = found!.Properties;
      return { configuration: EndpointConfigName, rest };
    };
    const before = resource({ stack, endpoint, template });
    const after = resource(changed);
    // Same endpoint, same everything but the configuration name, which onEvent reads only on Create.
    expect(after.rest).toEqual(before.rest);
    expect(after.configuration).toEqual(before.configuration);
    expect(changed.template.findResources('AWS::SageMaker::EndpointConfig')).not.toEqual(
      template.findResources('AWS::SageMaker::EndpointConfig'),
    );
  });

  it('deletes the endpoint, its bootstrap model and configuration on `cdk destroy`, and keeps the data and the registry', () => {
    const deletionPolicy = (type: string) =>
      Object.values(template.findResources(type)).map((resource) => (resource as { DeletionPolicy?: string }).DeletionPolicy ?? 'Delete');
    for (const type of [ENDPOINT_RESOURCE_TYPE, 'AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::CloudWatch::Alarm']) {
      expect(deletionPolicy(type), type).toEqual(expect.arrayContaining(['Delete']));
      expect(new Set(deletionPolicy(type)), type).toEqual(new Set(['Delete']));
    }
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::DynamoDB::Table']) {
      expect(new Set(deletionPolicy(type)), type).toEqual(new Set(['Retain']));
    }
    // The models and configurations of rolled-out versions are not stack resources, and nothing here may delete them.
    const actions = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    for (const action of ['sagemaker:DeleteModel', 'sagemaker:DeleteEndpointConfig']) expect(actions).not.toContain(action);
    expect(actions).toContain('sagemaker:DeleteEndpoint');
  });

  it('shifts with a blue/green canary of canaryPercent, the bake time, termination wait and execution timeout', () => {
    expect(stack.resolve(endpoint.deploymentConfig.BlueGreenUpdatePolicy)).toEqual({
      TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 600 },
      TerminationWaitInSeconds: 300,
      MaximumExecutionTimeoutInSeconds: 1500,
    });
  });

  it('names its three alarms in the AutoRollbackConfiguration every rollout sends', () => {
    expect(stack.resolve(endpoint.deploymentConfig.AutoRollbackConfiguration)).toEqual({
      Alarms: [
        { AlarmName: ref(endpoint.invocation5xxAlarm) },
        { AlarmName: ref(endpoint.modelLatencyAlarm) },
        { AlarmName: ref(endpoint.errorRateAlarm) },
      ],
    });
  });

  it('shifts linearly by canaryPercent per step when asked, with a timeout covering every step', () => {
    const linear = synth({ trafficShifting: 'LINEAR' }, { canaryPercent: 25, bakeTimeSeconds: 300 }).endpoint;
    expect(linear.deploymentConfig.BlueGreenUpdatePolicy).toEqual({
      TrafficRoutingConfiguration: { Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 }, WaitIntervalInSeconds: 300 },
      TerminationWaitInSeconds: 300,
      MaximumExecutionTimeoutInSeconds: 3 * 300 + 300 + 600,
    });
  });

  it('alarms on any Invocation5XXErrors of the variant in a minute', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [
        { Name: 'EndpointName', Value: endpoint.endpointName },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ],
    });
  });

  it('alarms on p99 ModelLatency over the budget, in microseconds', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 200_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
  });

  it('alarms on a server-side error rate above 5%, leaving out the container’s 4xx answers to bad requests', () => {
    const metric = (id: string, name: string) =>
      Match.objectLike({ Id: id, MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: name }) }) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(invocations > 0, 100 * (modelErrors - FILL(clientErrors, 0)) / invocations, 0)' }),
        metric('modelErrors', 'InvocationModelErrors'),
        metric('clientErrors', 'Invocation4XXErrors'),
        metric('invocations', 'Invocations'),
      ]),
    });
  });

  it('autoscales the variant between min and max instances on invocations per instance, with cooldowns', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ResourceId: `endpoint/${endpoint.endpointName}/variant/AllTraffic`,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 2,
      MaxCapacity: 10,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        TargetValue: 1000,
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    });
    template.hasResource('AWS::ApplicationAutoScaling::ScalableTarget', {
      DependsOn: Match.arrayWith([stack.getLogicalId(endpoint.endpoint.resource.node.defaultChild as never)]),
    });
  });

  it("lets the execution role pull only the serving image's repository and write only its capture prefix", () => {
    const role = { Ref: stack.getLogicalId(endpoint.executionRole.node.defaultChild as never) };
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [role] } }));
    expect(policies).toContain('container-assets');
    expect(policies).toContain('/churn/endpoint/*');
    expect(policies).toContain('/models/churn/*');
    const own = synth({ imageUri: IMAGE });
    const ownRole = { Ref: own.stack.getLogicalId(own.endpoint.executionRole.node.defaultChild as never) };
    const ownPolicies = JSON.stringify(own.template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ownRole] } }));
    expect(ownPolicies).toContain('repository/onnx-serving');
    expect(ownPolicies).not.toContain('container-assets');
  });

  it('lets the execution role read the rollback alarms, as deployment guardrails require while a deployment bakes', () => {
    const role = { Ref: stack.getLogicalId(endpoint.executionRole.node.defaultChild as never) };
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [role] } })).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
    );
    const describe = statements.find((statement) => statement.Action === 'cloudwatch:DescribeAlarms');
    const alarms = [endpoint.invocation5xxAlarm, endpoint.modelLatencyAlarm, endpoint.errorRateAlarm].map((alarm) => ({
      'Fn::GetAtt': [stack.getLogicalId(alarm.node.defaultChild as never), 'Arn'],
    }));
    expect(describe?.Resource).toHaveLength(3);
    expect(describe?.Resource).toEqual(expect.arrayContaining(alarms));
  });

  it('gives its deploy function the endpoint target and policy, five minutes per begin/poll request in shadow (the capture reads), and rights to deploy only this endpoint', () => {
    const [deploy] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('rolls registry versions out') },
      }),
    ) as Array<{ Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } } }>;
    expect(deploy!.Properties.Timeout).toBe(300);
    const variables = deploy!.Properties.Environment.Variables;
    expect(variables.MODEL_NAME).toBe('churn');
    const target = JSON.stringify(variables.ENDPOINT_TARGET);
    for (const expected of [endpoint.endpointName, 'AllTraffic', 'ml.c6i.large', 'BlueGreenUpdatePolicy', '/churn/endpoint']) {
      expect(target).toContain(expected);
    }
    // The schema the deploy function builds each model's environment from: the bootstrap model's.
    expect(target).toContain(JSON.stringify(JSON.stringify(modelSchemaFor(churnModel()))).slice(1, -1));
    const role = stack.getLogicalId(endpoint.deployFunction.role!.node.defaultChild as never);
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }));
    for (const action of [
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:UpdateEndpoint',
      'sagemaker:DescribeEndpoint',
      'iam:PassRole',
      'lambda:InvokeFunction',
    ]) {
      expect(policy).toContain(action);
    }
    expect(policy).toContain(`endpoint/${endpoint.endpointName}`);
    expect(policy).not.toContain('sagemaker:DeleteEndpoint');
  });

  describe('with a shadow phase (cdk.json: shadowPercent 50)', () => {
    const deployRole = () => ({ Ref: stack.getLogicalId(endpoint.deployFunction.role!.node.defaultChild as never) });
    const statementsOf = (tpl: Template, role: unknown) =>
      Object.values(tpl.findResources('AWS::IAM::Policy', { Properties: { Roles: [role] } })).flatMap(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
      );
    const targetOf = (tpl: Template) => {
      const [deploy] = Object.values(
        tpl.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('rolls registry versions out') } }),
      ) as Array<{ Properties: { Environment: { Variables: { ENDPOINT_TARGET: unknown } } } }>;
      return JSON.stringify(stack.resolve(deploy!.Properties.Environment.Variables.ENDPOINT_TARGET));
    };

    it('hands the deploy function the shadow settings and the shadow capture destination', () => {
      const target = targetOf(template);
      for (const expected of [
        '\\"percent\\":50',
        '\\"seconds\\":900',
        '\\"minRequests\\":100',
        '\\"minAgreement\\":0.8',
        '/churn/shadow',
      ]) {
        expect(target).toContain(expected);
      }
      expect(endpoint.shadowCapturePrefix).toBe(`churn/shadow/${endpoint.endpointName}/`);
    });

    it('lets the deploy function read GetMetricData ("*" only) and the capture objects under this endpoint\'s shadow prefix, nothing more', () => {
      const statements = statementsOf(template, deployRole());
      const metrics = statements.filter((statement) => [statement.Action].flat().includes('cloudwatch:GetMetricData'));
      expect(metrics.map((statement) => statement.Resource)).toEqual(['*']);
      const reads = statements.filter((statement) => JSON.stringify(statement.Action).includes('s3:GetObject'));
      expect(reads).toHaveLength(1);
      expect(JSON.stringify(reads[0]!.Resource)).toContain(`/churn/shadow/${endpoint.endpointName}/*`);
      expect(JSON.stringify(statements)).not.toContain('s3:PutObject');
    });

    it('lets the execution role write the shadow capture', () => {
      const role = { Ref: stack.getLogicalId(endpoint.executionRole.node.defaultChild as never) };
      expect(JSON.stringify(statementsOf(template, role))).toContain('/churn/shadow/*');
    });

    it('without a shadow phase: no shadow settings, a minute per request, no GetMetricData and no capture reads', () => {
      const off = synth({}, { shadowPercent: 0 });
      const role = { Ref: off.stack.getLogicalId(off.endpoint.deployFunction.role!.node.defaultChild as never) };
      const policy = JSON.stringify(statementsOf(off.template, role));
      expect(policy).not.toContain('cloudwatch:GetMetricData');
      expect(policy).not.toContain('s3:GetObject');
      expect(targetOf(off.template)).not.toContain('shadow');
      off.template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('rolls registry versions out'),
        Timeout: 60,
      });
    });
  });

  it('lets its deploy function have SageMaker create the volume key grant that UpdateEndpoint needs, for AWS resources only', () => {
    const role = { Ref: stack.getLogicalId(endpoint.deployFunction.role!.node.defaultChild as never) };
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [role] } })).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'kms:CreateGrant',
          Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
          Resource: expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^StoreKey/), 'Arn'] }),
        }),
        expect.objectContaining({ Action: 'kms:DescribeKey' }),
      ]),
    );
  });

  it('grants InvokeEndpoint on this endpoint and deployment rights scoped to its name', () => {
    let role: iam.Role | undefined;
    const {
      stack: other,
      endpoint: target,
      template: withCaller,
    } = synth({}, {}, (scope, created) => {
      role = new iam.Role(scope, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
      created.grantInvoke(role);
      created.grantDeploy(role);
    });
    const statements = JSON.stringify(
      withCaller.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: other.getLogicalId(role!.node.defaultChild as never) }] },
      }),
    );
    expect(statements).toContain('sagemaker:InvokeEndpoint');
    expect(statements).toContain(`endpoint/${target.endpointName}`);
    expect(statements).toContain(`model/${target.endpointName}-*`);
    expect(statements).toContain('"iam:PassedToService":"sagemaker.amazonaws.com"');
  });
});

describe('SageMakerEndpoint validation', () => {
  const expectError = (props: Partial<SageMakerEndpointProps>, serving: Partial<ServingConfig>, message: string) =>
    expect(() => synth(props, serving)).toThrow(message);

  it('refuses a canary outside 1–50%', () => {
    expectError({}, { canaryPercent: 80 }, 'canaryPercent must be between 1 and 50, got 80');
    expectError({}, { canaryPercent: 0 }, 'canaryPercent must be between 1 and 50, got 0');
  });

  it('refuses a bake time over 3600 s', () => {
    expectError({}, { bakeTimeSeconds: 3601 }, 'bakeTimeSeconds (WaitIntervalInSeconds) must be between 0 and 3600, got 3601');
  });

  it('refuses a termination wait over 3600 s and a timeout outside 600–28800 s or too short for the steps', () => {
    expectError({ terminationWait: Duration.hours(2) }, {}, 'terminationWait must be at most 3600 seconds, got 7200');
    expectError(
      { maximumExecutionTimeout: Duration.minutes(5) },
      {},
      'maximumExecutionTimeout must be between 600 and 28800 seconds, got 300',
    );
    expectError(
      { maximumExecutionTimeout: Duration.minutes(12) },
      {},
      'maximumExecutionTimeout must cover 1 bake interval(s) of 600 s plus the 300 s termination wait (900 s), got 720',
    );
  });

  it('refuses more than 10 rollback alarms', () => {
    const metric = new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' });
    const app = new App();
    const scope = new Stack(app, 'Alarms');
    const extra = Array.from({ length: 8 }, (_, index) => metric.createAlarm(scope, `A${index}`, { threshold: 1, evaluationPeriods: 1 }));
    expectError(
      { additionalRollbackAlarms: extra },
      {},
      'rollback alarms must number 1 to 10 (3 built in + additionalRollbackAlarms), got 11',
    );
  });

  it('refuses an instance type the price table lacks unless given its price, naming the type and how to add it', () => {
    expectError(
      {},
      { instanceType: 'ml.c7i.xlarge' },
      `model "churn"'s endpoint uses ml.c7i.xlarge, which has no price in the platform's table (us-east-1, 2026-12-01); add its on-demand USD per hour as "pricing": { "instanceHourUsd": { "ml.c7i.xlarge": <price> } }`,
    );
    expectError({ instanceHourUsd: 0 }, {}, 'instanceHourUsd must be a positive price in US dollars, got 0');
  });

  it('refuses to autoscale a burstable ml.t* instance', () => {
    expectError(
      {},
      { instanceType: 'ml.t3.medium' },
      'serving.instanceType: burstable instances (ml.t3.medium) cannot autoscale; use another family or set minInstances = maxInstances',
    );
    expect(() => synth({ instanceHourUsd: 0.05 }, { instanceType: 'ml.t3.medium', minInstances: 1, maxInstances: 1 })).not.toThrow();
  });

  it('refuses an image that is not in ECR', () => {
    expectError({ imageUri: 'docker.io/onnx/serving:1' }, {}, 'imageUri must be an ECR image URI');
  });

  it('refuses a serving schema too large for the deploy function’s environment, naming the model and the limit', () => {
    const wide = churnModel();
    const columns = Array.from({ length: 120 }, (_, index) => ({ name: `feature_with_a_long_name_${index}`, type: 'number' as const }));
    const model = {
      ...wide,
      columns: [...wide.columns, ...columns],
      features: [...wide.features, ...columns.map((column) => column.name)],
    };
    const app = new App({ context: featureFlags });
    const scope = new Stack(app, 'Wide', { env: { account: '123456789012', region: 'eu-west-1' } });
    expect(
      () =>
        new SageMakerEndpoint(scope, 'Endpoint', {
          model: model as ResolvedModelConfig,
          artifactStore: new ArtifactStore(scope, 'Store'),
          registry: new ModelRegistry(scope, 'Registry', { modelNames: ['churn'] }),
        }),
    ).toThrow(
      new RegExp(
        `^model "churn": its serving schema is \\d+ bytes, over the ${MAX_TARGET_SCHEMA_BYTES} bytes the deploy function's environment`,
      ),
    );
  });
});

describe('endpoint serving configuration', () => {
  const withServing = (serving: Record<string, unknown>) => {
    const raw = structuredClone(cdkJson.context.mlops);
    raw.models[0]!.serving = serving as never;
    return () => parseConfig(raw);
  };

  it('needs nothing but the mode: no image of the user’s, no initial model', () => {
    const config = withServing({ mode: 'endpoint' })();
    const serving = resolveModel(config, config.models[0]!).serving;
    expect(serving.mode).toBe('endpoint');
    expect(serving.imageUri).toBeUndefined();
  });

  it('accepts an endpoint model with its own ECR image, and no longer takes an initial model artifact', () => {
    const config = withServing({ mode: 'endpoint', imageUri: IMAGE })();
    expect(resolveModel(config, config.models[0]!).serving).toMatchObject({ mode: 'endpoint', imageUri: IMAGE });
    expect(withServing({ mode: 'endpoint', initialModelDataUrl: 's3://seed/churn/model.tar.gz' })).toThrow(/initialModelDataUrl/);
  });
});

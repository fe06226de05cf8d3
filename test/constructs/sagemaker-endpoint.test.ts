/**
 * Template assertions for SageMakerEndpoint: model, endpoint configuration with data capture,
 * the blue/green deployment policy and the alarms it names, autoscaling, IAM; and its prop
 * validation with the messages a platform engineer sees.
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
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { SageMakerEndpoint, type SageMakerEndpointProps } from '../../lib/constructs/sagemaker-endpoint';

const cdkJson = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: { mlops: PlatformConfigInput } & Record<string, unknown>;
};
const { mlops: _mlops, ...flags } = cdkJson.context;
/** cdk.json's feature flags, with bundling skipped (the bundle is checked by npm run synth and the bundle budget). */
const featureFlags = { ...flags, 'aws:cdk:bundling-stacks': [] };
const IMAGE = '763104351884.dkr.ecr.{region}.amazonaws.com/onnx-serving:1.20';
const SEED = 's3://seed-bucket/models/churn/seed/model.tar.gz';

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
    imageUri: IMAGE,
    initialModelDataUrl: SEED,
    ...props,
  });
  extend?.(stack, endpoint);
  return { stack, endpoint, template: Template.fromStack(stack) };
}

describe('SageMakerEndpoint', () => {
  const { stack, endpoint, template } = synth();
  const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as never) });

  it('creates a network-isolated model from the serving image and the initial artifact', () => {
    template.hasResourceProperties('AWS::SageMaker::Model', {
      EnableNetworkIsolation: true,
      PrimaryContainer: { Image: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/onnx-serving:1.20', ModelDataUrl: SEED },
      ExecutionRoleArn: { 'Fn::GetAtt': [stack.getLogicalId(endpoint.executionRole.node.defaultChild as never), 'Arn'] },
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

  it('leaves data capture out when the sampling share is 0', () => {
    const config = synth({}, { dataCapturePercent: 0 }).template.findResources('AWS::SageMaker::EndpointConfig');
    expect(JSON.stringify(config)).not.toContain('DataCaptureConfig');
  });

  it('deploys with a blue/green canary of canaryPercent, the bake time, termination wait and execution timeout', () => {
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: endpoint.endpointName,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 600 },
          TerminationWaitInSeconds: 300,
          MaximumExecutionTimeoutInSeconds: 1500,
        },
      },
    });
  });

  it('names its three alarms in AutoRollbackConfiguration', () => {
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        AutoRollbackConfiguration: {
          Alarms: [
            { AlarmName: ref(endpoint.invocation5xxAlarm) },
            { AlarmName: ref(endpoint.modelLatencyAlarm) },
            { AlarmName: ref(endpoint.errorRateAlarm) },
          ],
        },
      },
    });
  });

  it('shifts linearly by canaryPercent per step when asked, with a timeout covering every step', () => {
    synth({ trafficShifting: 'LINEAR' }, { canaryPercent: 25, bakeTimeSeconds: 300 }).template.hasResourceProperties(
      'AWS::SageMaker::Endpoint',
      {
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: {
              Type: 'LINEAR',
              LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 },
              WaitIntervalInSeconds: 300,
            },
            MaximumExecutionTimeoutInSeconds: 3 * 300 + 300 + 600,
          },
        },
      },
    );
  });

  it('gives the deploy function the same policy in the SageMaker API shape', () => {
    expect(stack.resolve(endpoint.deploymentConfig)).toEqual({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'CANARY', WaitIntervalInSeconds: 600, CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 } },
        TerminationWaitInSeconds: 300,
        MaximumExecutionTimeoutInSeconds: 1500,
      },
      AutoRollbackConfiguration: {
        Alarms: [
          { AlarmName: ref(endpoint.invocation5xxAlarm) },
          { AlarmName: ref(endpoint.modelLatencyAlarm) },
          { AlarmName: ref(endpoint.errorRateAlarm) },
        ],
      },
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

  it('alarms on an invocation error rate above 5%', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * (serverErrors + modelErrors) / MAX([invocations, 1])' }),
        Match.objectLike({
          Id: 'modelErrors',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'InvocationModelErrors' }) }),
        }),
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
      DependsOn: Match.arrayWith([stack.getLogicalId(endpoint.node.findChild('Endpoint') as never)]),
    });
  });

  it("lets the execution role pull only the serving image's repository and write only its capture prefix", () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('repository/onnx-serving');
    expect(policies).toContain('/churn/endpoint/*');
    expect(policies).toContain('/models/churn/*');
  });

  it('gives its deploy function the endpoint target and policy, a minute per begin/poll request, and rights to deploy only this endpoint', () => {
    const [deploy] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('rolls registry versions out') },
      }),
    ) as Array<{ Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } } }>;
    expect(deploy!.Properties.Timeout).toBe(60);
    const variables = deploy!.Properties.Environment.Variables;
    expect(variables.MODEL_NAME).toBe('churn');
    const target = JSON.stringify(variables.ENDPOINT_TARGET);
    for (const expected of [endpoint.endpointName, 'AllTraffic', 'ml.c6i.large', 'BlueGreenUpdatePolicy', '/churn/endpoint']) {
      expect(target).toContain(expected);
    }
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

  it('refuses to autoscale a burstable ml.t* instance', () => {
    expectError(
      {},
      { instanceType: 'ml.t3.medium' },
      'serving.instanceType: burstable instances (ml.t3.medium) cannot autoscale; use another family or set minInstances = maxInstances',
    );
    expect(() => synth({}, { instanceType: 'ml.t3.medium', minInstances: 1, maxInstances: 1 })).not.toThrow();
  });

  it('refuses an image that is not in ECR', () => {
    expectError({ imageUri: 'docker.io/onnx/serving:1' }, {}, 'imageUri must be an ECR image URI');
  });
});

describe('endpoint serving configuration', () => {
  const withServing = (serving: Record<string, unknown>) => {
    const raw = structuredClone(cdkJson.context.mlops);
    raw.models[0]!.serving = serving as never;
    return () => parseConfig(raw);
  };

  it('requires the serving image and the initial artifact for a model in endpoint mode, naming both fields', () => {
    expect(withServing({ mode: 'endpoint' })).toThrow(
      /mlops\.models\[0\]\.serving\.imageUri: is required when serving\.mode is "endpoint"\n.*mlops\.models\[0\]\.serving\.initialModelDataUrl: is required/,
    );
  });

  it('accepts an endpoint model with an ECR image and a model.tar.gz', () => {
    const config = withServing({ mode: 'endpoint', imageUri: IMAGE, initialModelDataUrl: SEED })();
    expect(resolveModel(config, config.models[0]!).serving).toMatchObject({ mode: 'endpoint', imageUri: IMAGE, initialModelDataUrl: SEED });
  });
});

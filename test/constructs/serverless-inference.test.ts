/**
 * Template assertions for ServerlessInference (function, layer, alias, CodeDeploy canary,
 * rollback alarms, grants), its prop validation, the serving schema derived from the config,
 * and the onnxruntime layer's contents.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ModelConfig,
  type PlatformConfigInput,
  parseConfig,
  type ResolvedModelConfig,
  resolveModel,
} from '../../contracts/platform-config';
import { modelSchemaFor } from '../../contracts/serving-schema';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { LAMBDA_UNZIPPED_LIMIT_BYTES, stageOnnxRuntimeLayer } from '../../lib/constructs/onnx-runtime-layer';
import { ServerlessInference, type ServerlessInferenceProps } from '../../lib/constructs/serverless-inference';
import { buildLinearModel } from '../../testkit/onnx-model';

const cdkJson = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: { mlops: PlatformConfigInput };
};

/** cdk.json's feature flags (the artifact store relies on them), with bundling skipped. */
const { mlops: _mlops, ...featureFlags } = cdkJson.context as Record<string, unknown>;
const appContext = { ...featureFlags, 'aws:cdk:bundling-stacks': [] };

function churnModel(serving: Partial<ModelConfig['serving']> = {}): ResolvedModelConfig {
  const config = parseConfig(cdkJson.context.mlops);
  const resolved = resolveModel(config, config.models[0]!);
  return { ...resolved, serving: { ...resolved.serving, ...serving } };
}

/** A stack with the inference construct; bundling is skipped (the layer has its own test below). */
function synth(props: Partial<ServerlessInferenceProps> = {}) {
  const app = new App({ context: appContext });
  const stack = new Stack(app, 'Test');
  const artifactStore = new ArtifactStore(stack, 'Store');
  const registry = new ModelRegistry(stack, 'Registry', { modelNames: ['churn'] });
  const inference = new ServerlessInference(stack, 'Inference', { model: churnModel(), artifactStore, registry, ...props });
  return { stack, inference, template: Template.fromStack(stack) };
}

describe('ServerlessInference', () => {
  const { stack, inference, template } = synth();
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

  it('runs the predict function on arm64 with the onnxruntime layer and the model schema in its environment', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('ONNX inference') },
    });
    const [predict] = Object.values(functions) as Array<{ Properties: Record<string, unknown> }>;
    expect(predict!.Properties).toMatchObject({
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      MemorySize: 1024,
      Layers: [{ Ref: logicalId(inference.node.findChild('OnnxRuntime').node.findChild('Layer')) }],
      Environment: {
        Variables: {
          CAPTURE_PERCENT: '20',
          // Capture keeps the features only unless serving.captureColumns opts columns in.
          CAPTURE_COLUMNS: '[]',
          MODEL_REFRESH_SECONDS: '30',
          CANARY_PERCENT: '10',
          TABLE_NAME: { Ref: expect.stringMatching(/^RegistryTable/) },
          CAPTURE_BUCKET: { Ref: expect.stringMatching(/^StoreCapture/) },
        },
      },
    });
    const environment = (predict!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.parse(environment.MODEL_SCHEMA as string)).toEqual(modelSchemaFor(churnModel()));
    expect(environment.MODEL_VERSION).toBeUndefined();
  });

  it('builds the layer for arm64 and the Node.js 24 runtime', () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      CompatibleRuntimes: ['nodejs24.x'],
      Description: Match.stringLikeRegexp('^onnxruntime-node 1\\.30\\.0 .*linux/arm64 only$'),
    });
  });

  it('publishes a live alias that CodeDeploy updates', () => {
    template.hasResource('AWS::Lambda::Alias', {
      Properties: { Name: 'live' },
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: {
          ApplicationName: { Ref: Match.anyValue() },
          DeploymentGroupName: { Ref: logicalId(inference.deploymentGroup) },
        },
      },
    });
  });

  it('shifts traffic with a canary of canaryPercent for the bake time in whole minutes', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 10, CanaryInterval: 10 } },
    });
  });

  it('rolls a deployment back when either alarm fires, or when it fails or is stopped', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [{ Name: { Ref: logicalId(inference.errorRateAlarm) } }, { Name: { Ref: logicalId(inference.latencyAlarm) } }],
      },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']),
      },
    });
  });

  it('alarms on p99 duration of the live alias above the latency budget', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      Namespace: 'AWS/Lambda',
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: 200,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      Dimensions: Match.arrayWith([{ Name: 'Resource', Value: Match.anyValue() }]),
    });
  });

  it('alarms on an error rate above 5% of invocations', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Id: 'expr_1', Expression: '100 * errors / MAX([invocations, 1])' }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Errors' }), Stat: 'Sum' }),
        }),
        Match.objectLike({ Id: 'invocations', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Invocations' }) }) }),
      ]),
    });
  });

  it("grants reads of the model's artifacts and registry items, and writes under its capture prefix only", () => {
    const role = logicalId(inference.predictFunction.role as never);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } })) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } };
    }>;
    const statements = policy!.Properties.PolicyDocument.Statement;
    const resourcesOf = (action: string) =>
      JSON.stringify(statements.filter((statement) => [statement.Action].flat().includes(action)).map((statement) => statement.Resource));
    expect(resourcesOf('s3:GetObject')).toContain('/models/churn/*');
    expect(resourcesOf('s3:PutObject')).toContain('/churn/serverless/*');
    expect(resourcesOf('dynamodb:GetItem')).toContain('RegistryTable');
    expect(resourcesOf('dynamodb:PutItem')).toBe('[]');
    expect(resourcesOf('s3:DeleteObject')).toBe('[]');
  });

  it('keeps provisioned concurrency off by default and sets it on the alias when asked', () => {
    expect(JSON.stringify(template.findResources('AWS::Lambda::Alias'))).not.toContain('ProvisionedConcurrencyConfig');
    synth({ provisionedConcurrency: 2 }).template.hasResourceProperties('AWS::Lambda::Alias', {
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
  });

  it('pins a model version through the environment, so changing it publishes a new function version', () => {
    const pinned = synth({ pinnedModelVersion: 7 }).template;
    pinned.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MODEL_VERSION: '7' }) },
    });
  });

  it('alarms on a canary error rate above 5% of canary requests, from the Canary* metrics of this model only', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('model-version canary: failed canary requests above 5%'),
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      Metrics: [
        Match.objectLike({ Id: 'expr_1', Expression: '100 * failed / MAX([requests, 1])', ReturnData: true }),
        {
          Id: 'failed',
          ReturnData: false,
          MetricStat: {
            Metric: { Namespace: 'CdkMlops', MetricName: 'CanaryFailedRequests', Dimensions: [{ Name: 'Model', Value: 'churn' }] },
            Period: 60,
            Stat: 'Sum',
          },
        },
        {
          Id: 'requests',
          ReturnData: false,
          MetricStat: {
            Metric: { Namespace: 'CdkMlops', MetricName: 'CanaryRequests', Dimensions: [{ Name: 'Model', Value: 'churn' }] },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ],
    });
  });

  it('alarms on a p99 canary latency above the latency budget', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkMlops',
      MetricName: 'CanaryLatency',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: 200,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(inference.canaryAlarms).toEqual([inference.canaryErrorRateAlarm, inference.canaryLatencyAlarm]);
  });

  it('keeps the canary alarms out of the CodeDeploy group, which guards function versions, not model versions', () => {
    const [group] = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'));
    const alarms = JSON.stringify(group);
    expect(alarms).not.toContain(logicalId(inference.canaryErrorRateAlarm));
    expect(alarms).not.toContain(logicalId(inference.canaryLatencyAlarm));
  });

  it('gives the deploy function the rollout settings and the canary alarm names', () => {
    const deploy = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('model-version canary rollouts') },
    });
    const [properties] = Object.values(deploy).map((resource) => (resource as { Properties: Record<string, unknown> }).Properties);
    expect(properties).toMatchObject({
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          MODEL_NAME: 'churn',
          CANARY_PERCENT: '10',
          BAKE_TIME_SECONDS: '600',
          MODEL_REFRESH_SECONDS: '30',
          TABLE_NAME: { Ref: expect.stringMatching(/^RegistryTable/) },
          REGISTRY_FUNCTION_NAME: { Ref: expect.stringMatching(/^RegistryFunction/) },
          CANARY_ALARM_NAMES: {
            'Fn::Join': ['', [{ Ref: logicalId(inference.canaryErrorRateAlarm) }, ',', { Ref: logicalId(inference.canaryLatencyAlarm) }]],
          },
        },
      },
    });
  });

  it('lets the deploy function describe only the canary alarms, read the registry and invoke the registry function, with no * action', () => {
    const role = logicalId(inference.deployFunction.role as never);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } })) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } };
    }>;
    const statements = policy!.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'cloudwatch:DescribeAlarms',
        Resource: [
          { 'Fn::GetAtt': [logicalId(inference.canaryErrorRateAlarm), 'Arn'] },
          { 'Fn::GetAtt': [logicalId(inference.canaryLatencyAlarm), 'Arn'] },
        ],
      }),
    );
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    expect(actions).toContain('lambda:InvokeFunction');
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions.filter((action) => action.startsWith('cloudwatch:'))).toEqual(['cloudwatch:DescribeAlarms']);
  });

  it('refuses a canary above 50%, a negative provisioned concurrency and a version 0, naming the prop and value', () => {
    const app = new App({ context: appContext });
    const stack = new Stack(app, 'Invalid');
    const artifactStore = new ArtifactStore(stack, 'Store');
    const registry = new ModelRegistry(stack, 'Registry', { modelNames: ['churn'] });
    const create = (id: string, props: Partial<ServerlessInferenceProps>) => () =>
      new ServerlessInference(stack, id, { model: churnModel(), artifactStore, registry, ...props });
    expect(create('A', { model: churnModel({ canaryPercent: 80 }) })).toThrow('canaryPercent must be between 1 and 50, got 80');
    expect(create('B', { model: churnModel({ bakeTimeSeconds: 7200 }) })).toThrow('bakeTimeSeconds must be between 0 and 3600, got 7200');
    expect(create('C', { provisionedConcurrency: -1 })).toThrow('provisionedConcurrency must be a positive whole number, got -1');
    expect(create('D', { pinnedModelVersion: 0 })).toThrow('pinnedModelVersion must be a positive whole number, got 0');
  });
});

describe('modelSchemaFor', () => {
  it('lists the features in order with their encodings, ignores the other columns and labels the binary target 0/1', () => {
    const schema = modelSchemaFor(churnModel());
    expect(schema.features.map((feature) => [feature.name, feature.type])).toEqual([
      ['tenure_months', 'integer'],
      ['monthly_charges', 'number'],
      ['total_spend', 'number'],
      ['support_calls', 'integer'],
      ['segment', 'category'],
      ['contract', 'category'],
    ]);
    expect(schema.features[5]!.allowedValues).toEqual(['month-to-month', 'one-year', 'two-year']);
    expect(schema.ignoredColumns).toEqual(['customer_id', 'gender', 'churned']);
    expect(schema.classLabels).toEqual([0, 1]);
  });

  it('refuses a free-text string feature, naming the model and the column', () => {
    const model = { ...churnModel(), features: ['customer_id', 'tenure_months'] };
    expect(() => modelSchemaFor(model)).toThrow(
      'model "churn": feature "customer_id" is a free-text string column; a model input must be numeric or a category',
    );
  });

  it('labels a multiclass category target with its allowed values', () => {
    const model: ResolvedModelConfig = {
      ...churnModel(),
      problemType: 'multiclass-classification',
      target: 'segment',
      features: ['tenure_months'],
    };
    expect(modelSchemaFor(model).classLabels).toEqual(['consumer', 'small-business', 'enterprise']);
  });
});

describe('onnxruntime layer', () => {
  let arm64: string;
  /** A layer for this machine's architecture, so the load test runs the binary it carries. */
  let host: string;
  let arm64Bytes: number;
  beforeAll(() => {
    arm64 = mkdtempSync(path.join(tmpdir(), 'layer-arm64-'));
    host = mkdtempSync(path.join(tmpdir(), 'layer-host-'));
    arm64Bytes = stageOnnxRuntimeLayer(arm64, lambda.Architecture.ARM_64);
    stageOnnxRuntimeLayer(host, process.arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64);
  });
  afterAll(() => {
    rmSync(arm64, { recursive: true, force: true });
    rmSync(host, { recursive: true, force: true });
  });

  it('carries only the linux/arm64 binary, about 26 MB, far under the 250 MB limit', () => {
    const binaries = readdirSync(path.join(arm64, 'nodejs/node_modules/onnxruntime-node/bin'), { recursive: true }).map(String).sort();
    expect(binaries).toEqual([
      'napi-v6',
      'napi-v6/linux',
      'napi-v6/linux/arm64',
      'napi-v6/linux/arm64/libonnxruntime.so.1',
      'napi-v6/linux/arm64/onnxruntime_binding.node',
    ]);
    expect(arm64Bytes).toBeGreaterThan(20 * 1024 * 1024);
    expect(arm64Bytes).toBeLessThan(30 * 1024 * 1024);
    expect(arm64Bytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
  });

  it('is self-contained: a fresh Node.js process outside the project loads it from NODE_PATH and scores a model', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'layer-load-'));
    try {
      const modelPath = path.join(work, 'model.onnx');
      writeFileSync(modelPath, buildLinearModel({ kind: 'regression', weights: [[2], [3]], bias: [1] }));
      const script = `const ort = require('onnxruntime-node');
        ort.InferenceSession.create(${JSON.stringify(modelPath)}).then((session) =>
          session.run({ features: new ort.Tensor('float32', Float32Array.from([1, 1]), [1, 2]) }))
        .then((out) => console.log(out.scores.data[0]));`;
      const output = execFileSync(process.execPath, ['-e', script], {
        cwd: work,
        env: { PATH: process.env.PATH, NODE_PATH: path.join(host, 'nodejs/node_modules') },
        encoding: 'utf8',
      });
      expect(Number(output.trim())).toBe(6);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

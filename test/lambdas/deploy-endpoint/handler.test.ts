/**
 * The deploy function's handler with a shadow phase in its ENDPOINT_TARGET, every client mocked
 * (aws-sdk-client-mock): `begin` reads the registry table, stages the candidate through the
 * registry function in phase shadow, and sends SageMaker exactly the shadow configuration
 * (ShadowProductionVariants sampled by weight, capture of every request) and an UpdateEndpoint
 * without a DeploymentConfig; a `poll` past the window reads the shadow variant's metrics and
 * both variants' capture with the exact requests.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EndpointTarget, sageMakerDeploymentConfig } from '../../../contracts/endpoint-deployment';
import { runDeploymentId } from '../../../lambdas/deploy-endpoint/deploy-endpoint';
import { handler } from '../../../lambdas/deploy-endpoint/handler';
import { runResourceId } from '../../../lambdas/deploy-endpoint/shadow-phase';
import { CHURN_SCHEMA } from '../../../testkit/churn-model';

const ENDPOINT = 'mlopsdev-endpointchurn-4b7c52bc';
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/abc';
const PRODUCTION_CONFIG = `${ENDPOINT}-v1-b000000000000`;
const SHADOW_CONFIG = `${ENDPOINT}-v2-${runResourceId('run-7', 's')}`;
const CANDIDATE_MODEL = `${ENDPOINT}-v2-${runDeploymentId('run-7')}`;
const TARGET: EndpointTarget = {
  endpointName: ENDPOINT,
  variantName: 'AllTraffic',
  executionRoleArn: 'arn:aws:iam::123456789012:role/endpoint-execution',
  imageUri: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/onnx-serving:1.20',
  modelSchema: CHURN_SCHEMA,
  instanceType: 'ml.c6i.large',
  initialInstanceCount: 2,
  kmsKeyId: KEY,
  shadow: {
    percent: 25,
    seconds: 0,
    minRequests: 1,
    minAgreement: 0.9,
    tolerance: 0.05,
    latencyBudgetMs: 200,
    captureS3Uri: 's3://capture-bucket/churn/shadow',
  },
  deploymentConfig: sageMakerDeploymentConfig({
    trafficShifting: 'CANARY',
    stepPercent: 10,
    waitIntervalSeconds: 600,
    terminationWaitSeconds: 300,
    maximumExecutionTimeoutSeconds: 1500,
    rollbackAlarmNames: ['churn-5xx'],
  }),
};

const documents = mockClient(DynamoDBDocumentClient);
const lambda = mockClient(LambdaClient);
const sageMaker = mockClient(SageMakerClient);
const cloudWatch = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const context = { functionName: 'deploy-churn', awsRequestId: 'r-1' } as Context;

beforeAll(() => {
  process.env.MODEL_NAME = 'churn';
  process.env.TABLE_NAME = 'registry';
  process.env.REGISTRY_FUNCTION_NAME = 'registry-fn';
  process.env.ENDPOINT_TARGET = JSON.stringify(TARGET);
  const version = {
    modelName: 'churn',
    version: 2,
    stage: 'Staging',
    artifactUri: 's3://artifacts/models/churn/v2/model.tar.gz',
    updatedAt: '2026-11-23T10:00:00.000Z',
  };
  documents.on(GetCommand).callsFake((input: { Key: { SK: string } }) => ({
    Item: input.Key.SK === 'META' ? { modelName: 'churn', productionVersion: 1, stagingVersion: 2, stagingPhase: 'shadow' } : version,
  }));
  lambda.on(InvokeCommand).resolves({ Payload: new TextEncoder().encode(JSON.stringify({ changed: true, version })) as never });
  sageMaker.on(CreateModelCommand).resolves({ ModelArn: `arn:aws:sagemaker:eu-west-1:123456789012:model/${CANDIDATE_MODEL}` });
  sageMaker.on(CreateEndpointConfigCommand).resolves({});
  sageMaker.on(UpdateEndpointCommand).resolves({});
});

describe('the deploy function handler with a shadow phase', () => {
  it('begins with the exact shadow configuration request and an all-at-once UpdateEndpoint', async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: ENDPOINT, EndpointStatus: 'InService', EndpointConfigName: PRODUCTION_CONFIG });
    sageMaker
      .on(DescribeEndpointConfigCommand)
      .resolves({ ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: PRODUCTION_CONFIG }] });
    const result = (await handler({ action: 'begin', version: 2, runId: 'run-7' }, context)) as { status: string };
    expect(result.status).toBe('InProgress');
    expect(sageMaker.commandCalls(DescribeEndpointConfigCommand)[0]!.args[0].input).toEqual({ EndpointConfigName: PRODUCTION_CONFIG });
    expect(sageMaker.commandCalls(CreateModelCommand)[0]!.args[0].input).toMatchObject({
      ModelName: CANDIDATE_MODEL,
      PrimaryContainer: { ModelDataUrl: 's3://artifacts/models/churn/v2/model.tar.gz' },
    });
    expect(sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: SHADOW_CONFIG,
      KmsKeyId: KEY,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: PRODUCTION_CONFIG,
          InstanceType: 'ml.c6i.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
        },
      ],
      ShadowProductionVariants: [
        {
          VariantName: 'AllTraffic-shadow',
          ModelName: CANDIDATE_MODEL,
          InstanceType: 'ml.c6i.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 0.25,
        },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: 's3://capture-bucket/churn/shadow',
        KmsKeyId: KEY,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    });
    expect(sageMaker.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT,
      EndpointConfigName: SHADOW_CONFIG,
    });
    const transition = JSON.parse(new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array));
    expect(transition).toMatchObject({ action: 'transition', modelName: 'churn', version: 2, toStage: 'Staging', phase: 'shadow' });
  });

  it("judges a live shadow on the shadow variant's metrics and both variants' capture, with the exact requests", async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: ENDPOINT, EndpointStatus: 'InService', EndpointConfigName: SHADOW_CONFIG });
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'invocations', Values: [10] },
        { Id: 'errors', Values: [0] },
        { Id: 'latency', Values: [30_000] },
      ],
    });
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false });
    const deployment = {
      mode: 'endpoint',
      modelName: 'churn',
      version: 2,
      runId: 'run-7',
      endpointName: ENDPOINT,
      endpointConfigName: CANDIDATE_MODEL,
      updateSeen: false,
      phase: 'shadow',
      shadow: { configName: SHADOW_CONFIG, productionModelName: PRODUCTION_CONFIG, productionVersion: 1, updateSeen: true },
    };
    const result = (await handler({ action: 'poll', version: 2, deployment }, context)) as { status: string; reason: string };
    // No capture joined: the candidate answered none of the compared rows, so it is rejected.
    expect(result.status).toBe('RolledBack');
    expect(result.reason).toContain('the candidate answered none of the mirrored rows');
    const metrics = cloudWatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(metrics.MetricDataQueries?.map((query) => query.MetricStat?.Metric)).toEqual(
      ['Invocations', 'Invocation5XXErrors', 'ModelLatency'].map((MetricName) => ({
        Namespace: 'AWS/SageMaker',
        MetricName,
        Dimensions: [
          { Name: 'EndpointName', Value: ENDPOINT },
          { Name: 'VariantName', Value: 'AllTraffic-shadow' },
        ],
      })),
    );
    const prefixes = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(prefixes.map((input) => input.Bucket)).toEqual(['capture-bucket', 'capture-bucket']);
    expect(prefixes.map((input) => input.Prefix)).toEqual([
      expect.stringMatching(new RegExp(`^churn/shadow/${ENDPOINT}/AllTraffic/\\d{4}/\\d{2}/\\d{2}/\\d{2}/$`)),
      expect.stringMatching(new RegExp(`^churn/shadow/${ENDPOINT}/AllTraffic-shadow/\\d{4}/\\d{2}/\\d{2}/\\d{2}/$`)),
    ]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});

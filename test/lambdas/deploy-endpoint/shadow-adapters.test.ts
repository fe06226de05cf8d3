/**
 * The shadow phase's AWS adapters against mocked clients (aws-sdk-client-mock), with the exact
 * requests: GetMetricData on the shadow variant's AWS/SageMaker metrics (ModelLatency in
 * microseconds), the capture objects of a variant listed per hour partition and read line by line,
 * and the SageMaker calls the shadow phase adds (DescribeEndpointConfig, an UpdateEndpoint without
 * a DeploymentConfig).
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointConfigCommand, SageMakerClient, UpdateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchVariantMetrics } from '../../../lambdas/deploy-endpoint/cloudwatch-variant-metrics';
import { captureHourPartitions, S3CaptureSource } from '../../../lambdas/deploy-endpoint/s3-capture-source';
import { SageMakerEndpointApi } from '../../../lambdas/deploy-endpoint/sagemaker-endpoint-api';

const ENDPOINT = 'mlopsdev-endpointchurn-4b7c52bc';
const cloudWatch = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const sageMaker = mockClient(SageMakerClient);

beforeEach(() => {
  cloudWatch.reset();
  s3.reset();
  sageMaker.reset();
});

describe('the shadow variant on CloudWatch', () => {
  it('reads Invocations, Invocation5XXErrors and ModelLatency p99 of the shadow variant over the window, all pages', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'invocations', Values: [300] },
          { Id: 'errors', Values: [2] },
          { Id: 'latency', Values: [41_500] },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'invocations', Values: [50] },
          { Id: 'latency', Values: [63_000] },
        ],
      });
    const reader = new CloudWatchVariantMetrics(new CloudWatchClient({ region: 'eu-west-1' }));
    const figures = await reader.read({
      endpointName: ENDPOINT,
      variantName: 'AllTraffic-shadow',
      start: new Date('2026-11-23T10:00:30Z'),
      end: new Date('2026-11-23T10:15:10Z'),
    });
    expect(figures).toEqual({ requests: 350, failedRequests: 2, p99LatencyMs: 63 });
    const calls = cloudWatch.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(2);
    const input = calls[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date('2026-11-23T10:00:00Z'));
    expect(input.EndTime).toEqual(new Date('2026-11-23T10:17:00Z'));
    expect(input.MetricDataQueries).toEqual(
      [
        ['invocations', 'Invocations', 'Sum'],
        ['errors', 'Invocation5XXErrors', 'Sum'],
        ['latency', 'ModelLatency', 'p99'],
      ].map(([Id, MetricName, Stat]) => ({
        Id,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SageMaker',
            MetricName,
            Dimensions: [
              { Name: 'EndpointName', Value: ENDPOINT },
              { Name: 'VariantName', Value: 'AllTraffic-shadow' },
            ],
          },
          Period: 1020,
          Stat,
        },
        ReturnData: true,
      })),
    );
    expect(calls[1]!.args[0].input.NextToken).toBe('page-2');
  });

  it('reports no latency for a window without datapoints (no traffic: the gates wait)', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const reader = new CloudWatchVariantMetrics(new CloudWatchClient({ region: 'eu-west-1' }));
    const span = { endpointName: ENDPOINT, variantName: 'AllTraffic-shadow', start: new Date(0), end: new Date(60_000) };
    expect(await reader.read(span)).toEqual({ requests: 0, failedRequests: 0 });
  });
});

describe("a variant's capture on S3", () => {
  it('names the UTC hour partitions a window touches', () => {
    expect(captureHourPartitions(new Date('2026-11-30T23:40:00Z'), new Date('2026-12-01T01:05:00Z'))).toEqual([
      '2026/11/30/23/',
      '2026/12/01/00/',
      '2026/12/01/01/',
    ]);
  });

  it('lists each hour under <destination>/<endpoint>/<variant>/ (every page) and yields the objects line by line', async () => {
    const prefix = `churn/shadow/${ENDPOINT}/AllTraffic-shadow/`;
    s3.on(ListObjectsV2Command, { Prefix: `${prefix}2026/11/23/10/` })
      .resolvesOnce({ Contents: [{ Key: `${prefix}2026/11/23/10/a.jsonl` }], IsTruncated: true, NextContinuationToken: 'next' })
      .resolvesOnce({ Contents: [{ Key: `${prefix}2026/11/23/10/b.jsonl` }], IsTruncated: false });
    s3.on(ListObjectsV2Command, { Prefix: `${prefix}2026/11/23/11/` }).resolves({ IsTruncated: false });
    const body = (text: string) => ({ Body: { transformToString: async () => text } }) as never;
    s3.on(GetObjectCommand, { Key: `${prefix}2026/11/23/10/a.jsonl` }).resolves(body('{"a":1}\n{"a":2}\n'));
    s3.on(GetObjectCommand, { Key: `${prefix}2026/11/23/10/b.jsonl` }).resolves(body('{"b":1}'));
    const source = new S3CaptureSource(new S3Client({ region: 'eu-west-1' }));
    const lines: string[] = [];
    for await (const line of source.lines({
      destinationS3Uri: 's3://capture-bucket/churn/shadow',
      endpointName: ENDPOINT,
      variantName: 'AllTraffic-shadow',
      start: new Date('2026-11-23T10:20:00Z'),
      end: new Date('2026-11-23T11:05:00Z'),
    })) {
      lines.push(line);
    }
    expect(lines.filter((line) => line !== '')).toEqual(['{"a":1}', '{"a":2}', '{"b":1}']);
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'capture-bucket', Prefix: `${prefix}2026/11/23/10/`, ContinuationToken: undefined },
      { Bucket: 'capture-bucket', Prefix: `${prefix}2026/11/23/10/`, ContinuationToken: 'next' },
      { Bucket: 'capture-bucket', Prefix: `${prefix}2026/11/23/11/`, ContinuationToken: undefined },
    ]);
    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'capture-bucket', Key: `${prefix}2026/11/23/10/a.jsonl` },
      { Bucket: 'capture-bucket', Key: `${prefix}2026/11/23/10/b.jsonl` },
    ]);
  });
});

describe('the SageMaker calls of the shadow phase', () => {
  it('describes an endpoint configuration by name', async () => {
    sageMaker.on(DescribeEndpointConfigCommand).resolves({
      EndpointConfigName: `${ENDPOINT}-v1-b0123456789ab`,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: `${ENDPOINT}-v1-b0123456789ab` }],
    });
    const api = new SageMakerEndpointApi(new SageMakerClient({ region: 'eu-west-1' }));
    const config = await api.describeEndpointConfig(`${ENDPOINT}-v1-b0123456789ab`);
    expect(config.ProductionVariants?.[0]?.ModelName).toBe(`${ENDPOINT}-v1-b0123456789ab`);
    expect(sageMaker.commandCalls(DescribeEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: `${ENDPOINT}-v1-b0123456789ab`,
    });
  });

  it('updates the endpoint without a DeploymentConfig to add or take off the shadow variant', async () => {
    sageMaker.on(UpdateEndpointCommand).resolves({ EndpointArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${ENDPOINT}` });
    const api = new SageMakerEndpointApi(new SageMakerClient({ region: 'eu-west-1' }));
    await api.updateEndpoint({ EndpointName: ENDPOINT, EndpointConfigName: `${ENDPOINT}-v2-s0123456789ab` });
    expect(sageMaker.commandCalls(UpdateEndpointCommand)[0]!.args[0].input).toEqual({
      EndpointName: ENDPOINT,
      EndpointConfigName: `${ENDPOINT}-v2-s0123456789ab`,
    });
  });
});

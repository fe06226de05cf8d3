/**
 * The serverless rollout contract on DynamoDB Local (the real registry store): begin stages the
 * candidate once per run, poll rolls it back on an alarm (Rejected, with the alarm's reason in
 * the audit trail, production untouched) or reports InService after the bake; evaluateCanary
 * against hand-computed windows; the CloudWatch alarm reader against a mocked DescribeAlarms.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { CloudWatchCanaryAlarms } from '../../../lambdas/deploy-serverless/cloudwatch-alarm-reader';
import { CloudWatchShadowMetrics } from '../../../lambdas/deploy-serverless/cloudwatch-shadow-metrics';
import {
  type AlarmState,
  type CanaryDeployment,
  type CanaryRolloutDependencies,
  evaluateCanary,
} from '../../../lambdas/deploy-serverless/deploy-serverless';
import { runCanaryRequest } from '../../../lambdas/deploy-serverless/handler';
import { DynamoDbRegistryStore } from '../../../lambdas/shared/registry/dynamodb-registry-store';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import type { RolloutResult } from '../../../lambdas/shared/rollout';
import type { ShadowWindow } from '../../../lambdas/shared/shadow-gates';
import { createRegistryTable, LOCAL_AWS } from '../../../local/dynamodb-local';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';
import { registerChurnVersions } from '../../support/registry-versions';

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';
const LATENCY_REASON =
  'Threshold Crossed: 2 out of the last 2 datapoints [412.0 (23/11/26 10:21:00), 388.5 (23/11/26 10:20:00)] were greater than the threshold (200.0).';

describe('serverless rollout on DynamoDB Local', () => {
  let dynamo: DynamoDBClient;
  let store: DynamoDbRegistryStore;
  let registry: Registry;
  let alarms: AlarmState[];
  let clock: number;
  let transitions: number;
  let dependencies: CanaryRolloutDependencies;
  let modelName: string;
  let tableCount = 0;

  beforeAll(() => {
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: inject('dynamoDbEndpoint') });
  });
  afterAll(() => dynamo.destroy());

  beforeEach(async () => {
    const tableName = `rollout-${Date.now()}-${tableCount++}`;
    await createRegistryTable(dynamo, tableName);
    store = new DynamoDbRegistryStore(DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }), tableName);
    modelName = 'churn';
    clock = Date.parse('2026-11-23T10:00:00.000Z');
    registry = new Registry(store, { knownModels: [modelName], now: () => new Date(clock) });
    for (const number of [1, 2]) {
      await registry.registerVersion({
        modelName,
        artifactUri: `s3://artifacts/models/churn/v${number}/model.tar.gz`,
        artifactSha256: 'a'.repeat(64),
        lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
        actor: ACTOR,
      });
    }
    await registry.promote({ modelName, version: 1, actor: ACTOR });
    alarms = [
      { name: 'churn-canary-error-rate', state: 'OK', reason: 'Threshold Crossed: no datapoints were received' },
      { name: 'churn-canary-latency', state: 'OK', reason: 'Threshold Crossed: no datapoints were received' },
    ];
    transitions = 0;
    dependencies = {
      modelName,
      canaryPercent: 10,
      bakeTimeSeconds: 600,
      registryCacheSeconds: 30,
      versions: store,
      registry: {
        transition: (request) => {
          transitions++;
          return registry.transition(request);
        },
      },
      alarms: { readAlarms: async () => alarms },
      now: () => new Date(clock),
    };
  });

  const begin = (runId = 'run-7') =>
    runCanaryRequest(dependencies, { action: 'begin', version: 2, runId }) as Promise<RolloutResult<CanaryDeployment>>;
  const poll = (deployment: CanaryDeployment) => runCanaryRequest(dependencies, { action: 'poll', version: 2, deployment });

  it('begins by moving the candidate to Staging and returns a small deployment with the start time, share and bake', async () => {
    const started = await begin();
    expect(started).toEqual({
      status: 'InProgress',
      reason: null,
      deployment: {
        mode: 'serverless-canary',
        modelName: 'churn',
        version: 2,
        runId: 'run-7',
        phase: 'canary',
        startedAt: '2026-11-23T10:00:00.000Z',
        canaryPercent: 10,
        bakeSeconds: 630,
      },
    });
    expect(Buffer.byteLength(JSON.stringify(started.deployment))).toBeLessThan(4096);
    expect((await store.getVersion('churn', 2))?.stage).toBe('Staging');
    const model = await store.getModel('churn');
    expect(model).toMatchObject({ productionVersion: 1, stagingVersion: 2 });
  });

  it('replays a repeated begin of the same run: one Staging transition, the same start time', async () => {
    const first = await begin();
    clock += 45_000;
    const second = await begin();
    expect(second).toEqual(first);
    const events = (await store.listEvents('churn', { limit: 50 })).items.filter((event) => event.toStage === 'Staging');
    expect(events).toHaveLength(1);
  });

  it('rolls back when a canary alarm fires: the candidate is Rejected with the alarm reason and production keeps serving', async () => {
    const { deployment } = await begin();
    clock += 120_000;
    expect(await poll(deployment)).toEqual({ status: 'InProgress', deployment, reason: null });
    alarms[1] = { name: 'churn-canary-latency', state: 'ALARM', reason: LATENCY_REASON };
    clock += 60_000;
    const rolledBack = await poll(deployment);
    expect(rolledBack.status).toBe('RolledBack');
    expect(rolledBack.reason).toBe(`canary rolled back: alarm churn-canary-latency in ALARM: ${LATENCY_REASON}`);
    expect((await store.getVersion('churn', 2))?.stage).toBe('Rejected');
    const model = await store.getModel('churn');
    expect(model?.productionVersion).toBe(1);
    expect(model?.stagingVersion).toBeUndefined();
    const [latest] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(latest).toMatchObject({
      action: 'transition',
      version: 2,
      fromStage: 'Staging',
      toStage: 'Rejected',
      reason: rolledBack.reason,
    });
    expect(latest?.actor).toBe('rollout:churn:run-7');

    // A repeated poll reports the same outcome without another registry change.
    const before = transitions;
    expect((await poll(deployment)).status).toBe('RolledBack');
    expect(transitions).toBe(before);
  });

  it('reports InService once the bake time plus the registry cache TTL has passed without an alarm, changing nothing', async () => {
    const { deployment } = await begin();
    clock += 629_000;
    expect((await poll(deployment)).status).toBe('InProgress');
    clock += 1_000;
    const done = await poll(deployment);
    expect(done).toEqual({ status: 'InService', deployment, reason: 'no canary alarm in 630 s (bake 630 s)' });
    expect((await store.getVersion('churn', 2))?.stage).toBe('Staging');
  });

  it('rolls back on an alarm even after the bake time: alarms are read before the clock', async () => {
    const { deployment } = await begin();
    clock += 3_600_000;
    alarms[0] = { name: 'churn-canary-error-rate', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [12.5] > 5.0' };
    expect((await poll(deployment)).status).toBe('RolledBack');
  });

  it('fails the rollout when the candidate left Staging, superseded by another run', async () => {
    const { deployment } = await begin();
    await registry.registerVersion({
      modelName,
      artifactUri: 's3://artifacts/models/churn/v3/model.tar.gz',
      artifactSha256: 'b'.repeat(64),
      lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"2"' },
      actor: ACTOR,
    });
    await registry.transition({ modelName, version: 3, toStage: 'Staging', actor: ACTOR });
    const result = await poll(deployment);
    expect(result.status).toBe('Failed');
    expect(result.reason).toMatch(/^version 2 left Staging \(now Archived\)/);
  });

  it('answers InService for the version already in production, and refuses a Rejected one', async () => {
    const production = await runCanaryRequest(dependencies, { action: 'begin', version: 1, runId: 'rerun' });
    expect(production).toMatchObject({ status: 'InService', reason: 'version 1 already serves production' });
    await registry.transition({ modelName, version: 2, toStage: 'Rejected', actor: ACTOR });
    await expect(begin('run-8')).rejects.toMatchObject({ name: 'InvalidTransitionError' });
  });

  describe('with a shadow phase', () => {
    let shadowWindow: ShadowWindow;
    let reads: Array<{ version: number; start: Date; end: Date }>;
    let phaseChanges: number;

    beforeEach(() => {
      shadowWindow = { requests: 0, failedRequests: 0, comparedRows: 0, agreeingRows: 0 };
      reads = [];
      phaseChanges = 0;
      dependencies = {
        ...dependencies,
        registry: {
          ...dependencies.registry,
          setRolloutPhase: (request) => {
            phaseChanges++;
            return registry.setRolloutPhase(request);
          },
        },
        shadow: {
          percent: 50,
          windowSeconds: 900,
          minRequests: 100,
          minAgreement: 0.9,
          latencyBudgetMs: 200,
          metrics: {
            read: async (window) => {
              reads.push(window);
              return shadowWindow;
            },
          },
        },
      };
    });

    it('begins in shadow against the production version: Staging with phase shadow, recorded with the settings', async () => {
      const started = await begin();
      expect(started).toMatchObject({
        status: 'InProgress',
        deployment: {
          phase: 'shadow',
          startedAt: '2026-11-23T10:00:00.000Z',
          shadow: { percent: 50, windowSeconds: 930, deadlineSeconds: 2730 },
        },
      });
      expect(await store.getModel('churn')).toMatchObject({ productionVersion: 1, stagingVersion: 2, stagingPhase: 'shadow' });
      const [staged] = (await store.listEvents('churn', { limit: 1 })).items;
      expect(staged?.reason).toBe(
        'shadow: 50% of requests mirrored for 900 s against production version 1, then canary: 10% of requests for 600 s (run run-7)',
      );
    });

    it('reads nothing before the window ends, then moves a candidate that passes its gates on to its canary, in the audit trail', async () => {
      const { deployment } = await begin();
      clock += 929_000;
      expect(await poll(deployment)).toEqual({ status: 'InProgress', deployment, reason: null });
      expect(reads).toEqual([]);
      clock += 1_000;
      shadowWindow = { requests: 400, failedRequests: 2, comparedRows: 10_000, agreeingRows: 9_700, p99LatencyMs: 35 };
      const moved = await poll(deployment);
      expect(reads).toEqual([{ version: 2, start: new Date('2026-11-23T10:00:00.000Z'), end: new Date(clock) }]);
      expect(moved.status).toBe('InProgress');
      expect(moved.reason).toBe('shadow passed: 400 mirrored requests, agreement 97%, error rate 0.5%, p99 latency 35 ms');
      const { shadow: _shadow, ...canary } = deployment;
      expect(moved.deployment).toEqual({ ...canary, phase: 'canary', startedAt: new Date(clock).toISOString() });
      expect(await store.getModel('churn')).toMatchObject({ stagingVersion: 2, stagingPhase: 'canary' });
      const [event] = (await store.listEvents('churn', { limit: 1 })).items;
      expect(event).toMatchObject({
        action: 'rollout-phase',
        version: 2,
        fromStage: 'Staging',
        toStage: 'Staging',
        actor: 'rollout:churn:run-7',
      });
      expect(event?.details).toEqual({ fromPhase: 'shadow', toPhase: 'canary' });

      // A poll of the shadow deployment repeated after the move (a retried state) replays it; the canary bakes from the move.
      expect((await poll(deployment)).deployment).toEqual(moved.deployment);
      expect(phaseChanges).toBe(1);
      clock += 629_000;
      expect((await poll(moved.deployment)).status).toBe('InProgress');
      clock += 1_000;
      expect((await poll(moved.deployment)).status).toBe('InService');
    });

    it('rejects a candidate that disagrees with production before any caller saw it, with the figures as the reason', async () => {
      const { deployment } = await begin();
      clock += 930_000;
      shadowWindow = { requests: 150, failedRequests: 0, comparedRows: 3_000, agreeingRows: 420, p99LatencyMs: 20 };
      const rejected = await poll(deployment);
      expect(rejected.status).toBe('RolledBack');
      expect(rejected.reason).toBe(
        'shadow rejected before any caller saw it: agreement with production 14% (420 of 3,000 rows) is below the minimum 90% (150 mirrored requests, agreement 14%, error rate 0%, p99 latency 20 ms)',
      );
      expect((await store.getVersion('churn', 2))?.stage).toBe('Rejected');
      const model = await store.getModel('churn');
      expect(model).toMatchObject({ productionVersion: 1 });
      expect(model?.stagingVersion).toBeUndefined();
      expect(model?.stagingPhase).toBeUndefined();
      expect(phaseChanges).toBe(0);
    });

    it('waits for traffic up to three windows, then fails the rollout (Archived), not the model', async () => {
      const { deployment } = await begin();
      clock += 930_000;
      shadowWindow = { requests: 40, failedRequests: 0, comparedRows: 400, agreeingRows: 400 };
      expect(await poll(deployment)).toEqual({
        status: 'InProgress',
        deployment,
        reason: 'shadow waits for traffic: 40 of the 100 mirrored requests the shadow gates need',
      });
      clock = Date.parse('2026-11-23T10:00:00.000Z') + 2_730_000;
      const failed = await poll(deployment);
      expect(failed.status).toBe('Failed');
      expect(failed.reason).toBe('shadow ended after 2730 s without enough traffic: 40 of the 100 mirrored requests the shadow gates need');
      expect((await store.getVersion('churn', 2))?.stage).toBe('Archived');
    });

    it('starts in the canary when there is no production version to compare with', async () => {
      const fresh = 'fresh';
      const freshRegistry = new Registry(store, { knownModels: [fresh], now: () => new Date(clock) });
      await freshRegistry.registerVersion({
        modelName: fresh,
        artifactUri: 's3://artifacts/models/fresh/v1/model.tar.gz',
        artifactSha256: 'a'.repeat(64),
        lineage: { datasetUri: 's3://datasets/fresh/train.csv', datasetEtag: '"1"' },
        actor: ACTOR,
      });
      const started = await runCanaryRequest(
        { ...dependencies, modelName: fresh, registry: { transition: (request) => freshRegistry.transition(request) } },
        { action: 'begin', version: 1, runId: 'run-1' },
      );
      expect(started.deployment).toMatchObject({ phase: 'canary' });
      expect(started.deployment).not.toHaveProperty('shadow');
      const [event] = (await store.listEvents(fresh, { limit: 1 })).items;
      expect(event?.reason).toBe('canary: 10% of requests for 600 s (no production version to shadow) (run run-1)');
    });
  });

  it('throws typed faults for an unknown version and malformed events', async () => {
    await expect(runCanaryRequest(dependencies, { action: 'begin', version: 9, runId: 'r' })).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    await expect(runCanaryRequest(dependencies, { action: 'begin', version: 2 })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('runId'),
    });
    await expect(runCanaryRequest(dependencies, { action: 'begin', version: 2, runId: 'has spaces' })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(runCanaryRequest(dependencies, { action: 'deploy', version: 2 })).rejects.toMatchObject({ name: 'ValidationError' });
    const { deployment } = await begin();
    await expect(runCanaryRequest(dependencies, { action: 'poll', version: 1, deployment })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('deployment is for version 2, the event names 1'),
    });
    await expect(
      runCanaryRequest(dependencies, { action: 'poll', version: 2, deployment: { ...deployment, startedAt: 'yesterday' } }),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      runCanaryRequest(dependencies, { action: 'poll', version: 2, deployment: { padding: 'x'.repeat(5000) } }),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('at most 4096 bytes') });
  });
});

describe('evaluateCanary', () => {
  const thresholds = { latencyBudgetMs: 200 };

  it('breaches the error-rate alarm above 5% of canary requests, not at 5%', () => {
    const atLimit = evaluateCanary({ requests: 100, failedRequests: 5, latenciesMs: [10] }, thresholds);
    expect(atLimit.errorRatePercent).toBe(5);
    expect(atLimit.alarms.map((alarm) => alarm.state)).toEqual(['OK', 'OK']);
    const above = evaluateCanary({ requests: 100, failedRequests: 6, latenciesMs: [10] }, thresholds);
    expect(above.alarms[0]).toEqual({
      name: 'CanaryErrorRate',
      state: 'ALARM',
      reason: 'canary error rate 6% (6 of 100 requests) is above 5%',
    });
  });

  it('takes the nearest-rank p99 of the latencies and breaches above the budget', () => {
    // 100 latencies 1..100 ms: the p99 is the 99th value, 99 ms.
    const latencies = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(evaluateCanary({ requests: 100, failedRequests: 0, latenciesMs: latencies }, thresholds).p99LatencyMs).toBe(99);
    const slow = evaluateCanary({ requests: 100, failedRequests: 0, latenciesMs: [...latencies.slice(2), 250, 260] }, thresholds);
    expect(slow.p99LatencyMs).toBe(250);
    expect(slow.alarms[1]).toMatchObject({ name: 'CanaryLatency', state: 'ALARM' });
    expect(evaluateCanary({ requests: 100, failedRequests: 0, latenciesMs: latencies }, { latencyBudgetMs: 98 }).alarms[1]?.state).toBe(
      'ALARM',
    );
  });

  it('treats a window without canary traffic as not breaching', () => {
    const empty = evaluateCanary({ requests: 0, failedRequests: 0, latenciesMs: [] }, thresholds);
    expect(empty).not.toHaveProperty('p99LatencyMs');
    expect(empty.alarms).toEqual([
      { name: 'CanaryErrorRate', state: 'OK', reason: 'canary error rate 0% is within 5%' },
      { name: 'CanaryLatency', state: 'OK', reason: 'no canary latency in the window' },
    ]);
  });

  it('keeps the latency alarm OK at exactly the budget, and says why either way', () => {
    const at = evaluateCanary({ requests: 3, failedRequests: 1, latenciesMs: [200, 50, 120.456] }, thresholds);
    expect(at.p99LatencyMs).toBe(200);
    expect(at.errorRatePercent).toBeCloseTo(100 / 3, 12);
    expect(at.alarms).toEqual([
      { name: 'CanaryErrorRate', state: 'ALARM', reason: 'canary error rate 33.33% (1 of 3 requests) is above 5%' },
      { name: 'CanaryLatency', state: 'OK', reason: 'canary p99 latency 200 ms is within the 200 ms budget' },
    ]);
    expect(evaluateCanary({ requests: 1, failedRequests: 0, latenciesMs: [200.004] }, thresholds).alarms[1]).toEqual({
      name: 'CanaryLatency',
      state: 'ALARM',
      reason: 'canary p99 latency 200 ms is above the 200 ms budget',
    });
  });

  it('takes a configured error-rate threshold over the default 5%', () => {
    const window = { requests: 100, failedRequests: 6, latenciesMs: [] };
    expect(evaluateCanary(window, { latencyBudgetMs: 200, errorRatePercent: 10 }).alarms[0]).toEqual({
      name: 'CanaryErrorRate',
      state: 'OK',
      reason: 'canary error rate 6% is within 10%',
    });
  });
});

describe('serverless rollout decisions (in-memory registry)', () => {
  const ACTOR_ROLE = 'arn:aws:iam::123456789012:role/pipeline';
  let registry: Registry;
  let alarms: AlarmState[];
  let clock: number;
  let dependencies: CanaryRolloutDependencies;

  beforeEach(async () => {
    const store = new InMemoryRegistryStore();
    clock = Date.parse('2026-11-23T10:00:00.000Z');
    registry = new Registry(store, { knownModels: ['churn'], now: () => new Date(clock) });
    await registerChurnVersions(registry, 2, ACTOR_ROLE);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR_ROLE });
    alarms = [
      { name: 'errors', state: 'OK', reason: 'ok' },
      { name: 'latency', state: 'OK', reason: 'ok' },
    ];
    dependencies = {
      modelName: 'churn',
      canaryPercent: 10,
      bakeTimeSeconds: 600,
      registryCacheSeconds: 30,
      versions: store,
      registry,
      alarms: { readAlarms: async () => alarms },
      now: () => new Date(clock),
    };
  });

  const begin = async () =>
    ((await runCanaryRequest(dependencies, { action: 'begin', version: 2, runId: 'run-7' })) as RolloutResult<CanaryDeployment>).deployment;
  const poll = (deployment: CanaryDeployment) => runCanaryRequest(dependencies, { action: 'poll', version: 2, deployment });

  it('records the canary share, bake time and run as the reason of the Staging change', async () => {
    await begin();
    const { items } = await registry.listEvents({ modelName: 'churn', limit: 1 });
    expect(items[0]).toMatchObject({
      toStage: 'Staging',
      reason: 'canary: 10% of requests for 600 s (run run-7)',
      actor: 'rollout:churn:run-7',
    });
  });

  it('does not treat an alarm in INSUFFICIENT_DATA as firing: the canary bakes on and then serves', async () => {
    const deployment = await begin();
    alarms[1] = { name: 'latency', state: 'INSUFFICIENT_DATA', reason: 'Insufficient Data: 1 datapoint was unknown.' };
    clock += 60_000;
    expect(await poll(deployment)).toEqual({ status: 'InProgress', deployment, reason: null });
    clock += 600_000;
    expect((await poll(deployment)).status).toBe('InService');
    expect((await registry.getVersion({ modelName: 'churn', version: 2 })).stage).toBe('Staging');
  });

  it('names every firing alarm in the rollback reason, and only those', async () => {
    const deployment = await begin();
    alarms = [
      { name: 'errors', state: 'ALARM', reason: 'too many errors' },
      { name: 'quiet', state: 'INSUFFICIENT_DATA', reason: 'no data' },
      { name: 'latency', state: 'ALARM', reason: 'too slow' },
    ];
    expect(await poll(deployment)).toEqual({
      status: 'RolledBack',
      deployment,
      reason: 'canary rolled back: alarm errors in ALARM: too many errors; alarm latency in ALARM: too slow',
    });
  });

  it('reports a candidate promoted meanwhile as InService, and one rolled back meanwhile as RolledBack, without reading alarms', async () => {
    const deployment = await begin();
    alarms = [{ name: 'errors', state: 'ALARM', reason: 'too many errors' }];
    await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR_ROLE });
    expect(await poll(deployment)).toEqual({ status: 'InService', deployment, reason: 'version 2 was promoted' });
    await registry.rollback({ modelName: 'churn', actor: ACTOR_ROLE });
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR_ROLE });
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Rejected', actor: ACTOR_ROLE });
    expect(await poll(deployment)).toEqual({ status: 'RolledBack', deployment, reason: 'version 2 was already rolled back (Rejected)' });
  });

  it('fails a poll for a candidate that never reached Staging', async () => {
    const deployment = await begin();
    const registered: CanaryDeployment = { ...deployment, version: 3 };
    await registry.registerVersion({
      modelName: 'churn',
      artifactUri: 's3://artifacts/models/churn/v3/model.tar.gz',
      artifactSha256: 'b'.repeat(64),
      lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"2"' },
      actor: ACTOR_ROLE,
    });
    expect(await runCanaryRequest(dependencies, { action: 'poll', version: 3, deployment: registered })).toEqual({
      status: 'Failed',
      deployment: registered,
      reason: 'version 3 left Staging (now Registered) during its canary; another rollout or a person moved it',
    });
  });

  it('refuses to roll out a Rejected version, naming it, before asking the registry for anything', async () => {
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Rejected', actor: ACTOR_ROLE });
    const refusal = runCanaryRequest(
      { ...dependencies, registry: { transition: () => Promise.reject(new Error('not to be called')) } },
      {
        action: 'begin',
        version: 2,
        runId: 'run-8',
      },
    );
    await expect(refusal).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      message: 'version 2 of "churn" is Rejected; it cannot be rolled out',
      details: { modelName: 'churn', version: 2 },
    });
  });

  it('names the model and version it cannot find', async () => {
    await expect(runCanaryRequest(dependencies, { action: 'begin', version: 9, runId: 'r' })).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'model "churn" has no version 9',
      details: { modelName: 'churn', version: 9 },
    });
  });

  it('reads the bake clock from the system clock when none is injected', async () => {
    const deployment = await begin();
    const { now: _injected, ...systemClock } = dependencies;
    // Started in 2000: the bake is over by any system clock.
    const old = { ...deployment, startedAt: '2000-01-01T00:00:00.000Z' };
    expect((await runCanaryRequest(systemClock, { action: 'poll', version: 2, deployment: old })).status).toBe('InService');
  });
});

describe('CloudWatchCanaryAlarms', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  beforeEach(() => cloudWatch.reset());

  it('describes exactly the canary alarms and maps their state and reason', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'errors', StateValue: 'OK', StateReason: 'fine' },
        { AlarmName: 'latency', StateValue: 'ALARM', StateReason: LATENCY_REASON },
      ],
    });
    const reader = new CloudWatchCanaryAlarms(new CloudWatchClient({ region: 'eu-west-1' }), ['errors', 'latency']);
    expect(await reader.readAlarms()).toEqual([
      { name: 'errors', state: 'OK', reason: 'fine' },
      { name: 'latency', state: 'ALARM', reason: LATENCY_REASON },
    ]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input).toEqual({
      AlarmNames: ['errors', 'latency'],
      AlarmTypes: ['MetricAlarm'],
    });
  });

  it('refuses to report on an alarm that does not exist, so a missing guard never passes a rollout', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'errors', StateValue: 'OK' }] });
    const reader = new CloudWatchCanaryAlarms(new CloudWatchClient({ region: 'eu-west-1' }), ['errors', 'latency']);
    await expect(reader.readAlarms()).rejects.toThrow('canary alarm(s) not found: latency');
  });
});

describe('CloudWatchShadowMetrics', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  beforeEach(() => cloudWatch.reset());

  it("asks for the candidate's Shadow* sums and p99 in one period spanning the window, summing pages", async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'requests', Values: [120] },
          { Id: 'failed', Values: [1] },
          { Id: 'compared', Values: [2400] },
          { Id: 'agreeing', Values: [2300] },
          { Id: 'latency', Values: [42] },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'requests', Values: [30] },
          { Id: 'latency', Values: [55] },
        ],
      });
    const reader = new CloudWatchShadowMetrics(new CloudWatchClient({ region: 'eu-west-1' }), 'churn');
    const window = await reader.read({ version: 7, start: new Date('2026-11-23T10:00:30Z'), end: new Date('2026-11-23T10:15:10Z') });
    expect(window).toEqual({ requests: 150, failedRequests: 1, comparedRows: 2400, agreeingRows: 2300, p99LatencyMs: 55 });
    const calls = cloudWatch.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(2);
    const input = calls[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date('2026-11-23T10:00:00Z'));
    expect(input.EndTime).toEqual(new Date('2026-11-23T10:17:00Z'));
    expect(input.MetricDataQueries).toHaveLength(5);
    for (const query of input.MetricDataQueries!) {
      expect(query.MetricStat?.Period).toBe(1020);
      expect((query.MetricStat?.Period ?? 1) % 60).toBe(0);
      expect(query.MetricStat?.Metric?.Namespace).toBe('CdkMlops');
      expect(query.MetricStat?.Metric?.Dimensions).toEqual([
        { Name: 'Model', Value: 'churn' },
        { Name: 'Version', Value: '7' },
      ]);
    }
    expect(input.MetricDataQueries!.map((query) => [query.MetricStat?.Metric?.MetricName, query.MetricStat?.Stat])).toEqual([
      ['ShadowRequests', 'Sum'],
      ['ShadowFailedRequests', 'Sum'],
      ['ShadowComparedRows', 'Sum'],
      ['ShadowAgreeingRows', 'Sum'],
      ['ShadowLatency', 'p99'],
    ]);
    expect(calls[1]!.args[0].input.NextToken).toBe('page-2');
  });
});

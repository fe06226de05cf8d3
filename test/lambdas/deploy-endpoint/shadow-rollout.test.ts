/**
 * The endpoint rollout's shadow phase through begin and poll, over a fake SageMaker endpoint that
 * moves to a configuration one DescribeEndpoint after UpdateEndpoint, fake AWS/SageMaker metrics
 * and fake data capture: the shadow configuration's exact request, the window, the gates (traffic,
 * agreement from the joined capture, errors, p99 latency), a rejection that takes the shadow
 * variant off, a pass that starts the blue/green canary, repeated requests replayed, and the
 * cases that start in the canary as before (no production version, the bootstrap configuration).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type DeployEndpointDependencies,
  deployEndpoint,
  type EndpointDeployment,
  pollEndpointRollout,
  runDeploymentId,
} from '../../../lambdas/deploy-endpoint/deploy-endpoint';
import type {
  CreateEndpointConfigInput,
  CreateModelInput,
  EndpointApi,
  EndpointConfigDescription,
  EndpointDescription,
} from '../../../lambdas/deploy-endpoint/endpoint-deployment';
import { restoreProduction, runResourceId } from '../../../lambdas/deploy-endpoint/shadow-phase';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import type { RolloutResult } from '../../../lambdas/shared/rollout';
import type { ShadowWindow } from '../../../lambdas/shared/shadow-gates';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';
import { TEST_ENDPOINT, TEST_KMS_KEY, testDeploymentConfig, testEndpointTarget } from '../../support/endpoint-target';
import { registerChurnVersions } from '../../support/registry-versions';

const ACTOR = 'arn:aws:iam::123456789012:role/operator';
const ENDPOINT = TEST_ENDPOINT;
const RUN = 'run-7';
const PRODUCTION_CONFIG = `${ENDPOINT}-v1-b000000000000`;
const PRODUCTION_MODEL = PRODUCTION_CONFIG;
const SHADOW_CONFIG = `${ENDPOINT}-v2-${runResourceId(RUN, 's')}`;
const CANARY_CONFIG = `${ENDPOINT}-v2-${runDeploymentId(RUN)}`;
const RESTORE_CONFIG = `${ENDPOINT}-v1-${runResourceId(RUN, 'r')}`;
const KEY = TEST_KMS_KEY;
const DEPLOYMENT_CONFIG = testDeploymentConfig();
const TARGET = testEndpointTarget({
  dataCapture: { samplingPercent: 20, destinationS3Uri: 's3://capture/churn/endpoint', kmsKeyId: KEY },
  shadow: {
    percent: 20,
    seconds: 900,
    minRequests: 100,
    minAgreement: 0.9,
    tolerance: 0.05,
    latencyBudgetMs: 200,
    captureS3Uri: 's3://capture/churn/shadow',
  },
});

/** SageMaker's endpoint: UpdateEndpoint starts an update that the next DescribeEndpoint finds done (or failed, when told). */
class FakeEndpoint implements EndpointApi {
  readonly models: CreateModelInput[] = [];
  readonly configs = new Map<string, CreateEndpointConfigInput>();
  readonly updates: Array<{ EndpointConfigName: string; DeploymentConfig?: unknown }> = [];
  current: EndpointDescription = { EndpointStatus: 'InService', EndpointConfigName: PRODUCTION_CONFIG };
  failNextUpdate = false;
  /** What DescribeEndpointConfig answers for the production configuration. */
  productionConfig: EndpointConfigDescription = {
    ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: PRODUCTION_MODEL, InstanceType: 'ml.c6i.large', InitialInstanceCount: 2 }],
  };

  async createModel(input: CreateModelInput) {
    this.models.push(input);
  }
  async createEndpointConfig(input: CreateEndpointConfigInput) {
    if (!this.configs.has(input.EndpointConfigName)) this.configs.set(input.EndpointConfigName, input);
  }
  async updateEndpoint(input: { EndpointName: string; EndpointConfigName: string; DeploymentConfig?: unknown }) {
    if (this.current.EndpointStatus !== 'InService') {
      throw Object.assign(new Error(`Cannot update in-progress endpoint "${input.EndpointName}"`), { name: 'ValidationException' });
    }
    this.updates.push({ EndpointConfigName: input.EndpointConfigName, DeploymentConfig: input.DeploymentConfig });
    this.current = {
      EndpointStatus: 'Updating',
      EndpointConfigName: this.current.EndpointConfigName,
      PendingDeploymentSummary: { EndpointConfigName: input.EndpointConfigName },
    };
  }
  async describeEndpoint() {
    const before = this.current;
    const pending = before.PendingDeploymentSummary?.EndpointConfigName;
    if (before.EndpointStatus === 'Updating' && pending) {
      this.current = this.failNextUpdate
        ? {
            EndpointStatus: 'InService',
            EndpointConfigName: before.EndpointConfigName,
            FailureReason: 'shadow variant failed health checks',
          }
        : { EndpointStatus: 'InService', EndpointConfigName: pending };
      this.failNextUpdate = false;
    }
    return before;
  }
  async describeEndpointConfig(name: string) {
    if (name === PRODUCTION_CONFIG) return this.productionConfig;
    const config = this.configs.get(name);
    if (!config) throw Object.assign(new Error(`Could not find endpoint configuration "${name}".`), { name: 'ValidationException' });
    return config;
  }
}

function captureLine(eventId: string, labels: string[]): string {
  return JSON.stringify({
    captureData: {
      endpointOutput: {
        data: JSON.stringify({ predictions: labels.map((label) => ({ label, probabilities: [0.5, 0.5] })) }),
        encoding: 'JSON',
      },
    },
    eventMetadata: { eventId, inferenceTime: '2026-11-23T10:05:00.000Z' },
  });
}

describe('an endpoint rollout with a shadow phase', () => {
  let store: InMemoryRegistryStore;
  let registry: Registry;
  let endpoint: FakeEndpoint;
  let dependencies: DeployEndpointDependencies;
  let clock: number;
  let figures: Omit<ShadowWindow, 'comparedRows' | 'agreeingRows'>;
  let captured: Record<string, string[]>;
  let metricReads: Array<{ endpointName: string; variantName: string; start: Date; end: Date }>;
  let captureReads: Array<{ destinationS3Uri: string; endpointName: string; variantName: string; start: Date; end: Date }>;

  const begin = () =>
    deployEndpoint(dependencies, { action: 'begin', version: 2, runId: RUN }) as Promise<RolloutResult<EndpointDeployment>>;
  const poll = (deployment: EndpointDeployment) =>
    deployEndpoint(dependencies, { action: 'poll', version: 2, deployment }) as Promise<RolloutResult<EndpointDeployment>>;
  /** Begins, lets the endpoint reach the shadow configuration, and returns the deployment once the shadow is live. */
  const live = async () => {
    const { deployment } = await begin();
    const updating = await poll(deployment);
    const running = await poll(updating.deployment);
    expect(running.deployment.shadow?.liveSince).toBe(new Date(clock).toISOString());
    return running.deployment;
  };
  /** `agreeing` of `total` captured requests (one row each) where the shadow answers like production. */
  const capture = (total: number, agreeing: number) => {
    captured = {
      AllTraffic: Array.from({ length: total }, (_, index) => captureLine(`e-${index}`, ['yes'])),
      'AllTraffic-shadow': Array.from({ length: total }, (_, index) => captureLine(`e-${index}`, [index < agreeing ? 'yes' : 'no'])),
    };
  };

  beforeEach(async () => {
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    await registerChurnVersions(registry, 2, ACTOR);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    endpoint = new FakeEndpoint();
    clock = Date.parse('2026-11-23T10:00:00.000Z');
    figures = { requests: 0, failedRequests: 0 };
    captured = {};
    metricReads = [];
    captureReads = [];
    dependencies = {
      modelName: 'churn',
      target: TARGET,
      endpoints: endpoint,
      versions: store,
      registry: { transition: (request) => registry.transition(request), setRolloutPhase: (request) => registry.setRolloutPhase(request) },
      shadowReaders: {
        metrics: {
          read: async (span) => {
            metricReads.push(span);
            return figures;
          },
        },
        captures: {
          lines: async function* (span) {
            captureReads.push(span);
            yield* captured[span.variantName] ?? [];
          },
        },
      },
      now: () => new Date(clock),
    };
  });

  it('begins with production and the candidate as its shadow variant, sampled shadowPercent, every request captured', async () => {
    const started = await begin();
    expect(started.status).toBe('InProgress');
    expect(started.deployment).toMatchObject({
      phase: 'shadow',
      endpointConfigName: CANARY_CONFIG,
      shadow: { configName: SHADOW_CONFIG, productionModelName: PRODUCTION_MODEL, productionVersion: 1, updateSeen: false },
    });
    expect(endpoint.models.map((model) => model.ModelName)).toEqual([CANARY_CONFIG]);
    expect(endpoint.models[0]!.PrimaryContainer.ModelDataUrl).toBe('s3://artifacts/models/churn/v2/model.tar.gz');
    expect(endpoint.configs.get(SHADOW_CONFIG)).toEqual({
      EndpointConfigName: SHADOW_CONFIG,
      KmsKeyId: KEY,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: PRODUCTION_MODEL,
          InstanceType: 'ml.c6i.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
        },
      ],
      ShadowProductionVariants: [
        {
          VariantName: 'AllTraffic-shadow',
          ModelName: CANARY_CONFIG,
          InstanceType: 'ml.c6i.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 0.2,
        },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: 's3://capture/churn/shadow',
        KmsKeyId: KEY,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    });
    // Production's model is unchanged: all at once, no canary of the production variant.
    expect(endpoint.updates).toEqual([{ EndpointConfigName: SHADOW_CONFIG, DeploymentConfig: undefined }]);
    expect(await store.getModel('churn')).toMatchObject({ productionVersion: 1, stagingVersion: 2, stagingPhase: 'shadow' });
    const [staged] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(staged).toMatchObject({ toStage: 'Staging', actor: `rollout:churn:${RUN}` });
    expect(staged?.reason).toBe(
      `shadow: endpoint ${ENDPOINT} replicates 20% of requests to version 2 as its shadow variant for 900 s against production version 1, then blue/green canary (run ${RUN})`,
    );
  });

  it('replays a repeated begin without a second update', async () => {
    const first = await begin();
    const again = await begin();
    expect(again.deployment).toMatchObject({
      phase: 'shadow',
      shadow: { configName: SHADOW_CONFIG, productionModelName: PRODUCTION_MODEL },
    });
    expect(first.deployment.shadow?.configName).toBe(again.deployment.shadow?.configName);
    expect(endpoint.updates).toHaveLength(1);
    // The endpoint was updating towards the shadow configuration: the update is seen.
    expect(first.deployment.shadow?.updateSeen).toBe(false);
    expect(again.deployment.shadow?.updateSeen).toBe(true);
  });

  it('starts the window when the shadow configuration is in service, and reads nothing before it has passed', async () => {
    const { deployment } = await begin();
    const updating = await poll(deployment);
    expect(updating).toMatchObject({ status: 'InProgress', reason: null, deployment: { shadow: { updateSeen: true } } });
    expect(updating.deployment.shadow?.liveSince).toBeUndefined();
    clock += 300_000;
    const running = await poll(updating.deployment);
    expect(running.deployment.shadow?.liveSince).toBe(new Date(clock).toISOString());
    clock += 899_000;
    expect(await poll(running.deployment)).toMatchObject({ status: 'InProgress', reason: null });
    expect(metricReads).toEqual([]);
  });

  it('moves a candidate that passes its gates on to its blue/green canary, phase canary in the audit trail', async () => {
    const deployment = await live();
    const liveSince = clock;
    clock += 900_000;
    figures = { requests: 400, failedRequests: 1, p99LatencyMs: 40 };
    capture(200, 196);
    const moved = await poll(deployment);
    expect(metricReads).toEqual([
      { endpointName: ENDPOINT, variantName: 'AllTraffic-shadow', start: new Date(liveSince), end: new Date(clock) },
    ]);
    const span = {
      destinationS3Uri: 's3://capture/churn/shadow',
      endpointName: ENDPOINT,
      start: new Date(liveSince),
      end: new Date(clock),
    };
    expect(captureReads).toEqual([
      { ...span, variantName: 'AllTraffic' },
      { ...span, variantName: 'AllTraffic-shadow' },
    ]);
    expect(moved.status).toBe('InProgress');
    expect(moved.reason).toBe(
      "shadow passed: 400 mirrored requests, agreement 98%, error rate 0.25%, p99 latency 40 ms (200 captured requests joined, 0 shadow records without production's)",
    );
    expect(moved.deployment).toMatchObject({ phase: 'canary', updateSeen: false, endpointConfigName: CANARY_CONFIG });
    expect(endpoint.configs.get(CANARY_CONFIG)?.ProductionVariants).toEqual([
      {
        VariantName: 'AllTraffic',
        ModelName: CANARY_CONFIG,
        InstanceType: 'ml.c6i.large',
        InitialInstanceCount: 2,
        InitialVariantWeight: 1,
      },
    ]);
    expect(endpoint.configs.get(CANARY_CONFIG)?.ShadowProductionVariants).toBeUndefined();
    expect(endpoint.updates.at(-1)).toEqual({ EndpointConfigName: CANARY_CONFIG, DeploymentConfig: DEPLOYMENT_CONFIG });
    expect(await store.getModel('churn')).toMatchObject({ stagingVersion: 2, stagingPhase: 'canary' });
    const [event] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(event).toMatchObject({ action: 'rollout-phase', version: 2, actor: `rollout:churn:${RUN}` });
    expect(event?.details).toEqual({ fromPhase: 'shadow', toPhase: 'canary' });
    expect(event?.reason).toBe(`${moved.reason}; blue/green canary on endpoint ${ENDPOINT}`);

    // The same shadow poll repeated (a retried state) finds the canary under way: no second update.
    const repeated = await poll(deployment);
    expect(repeated).toMatchObject({ status: 'InProgress', deployment: { phase: 'canary' } });
    expect(endpoint.updates).toHaveLength(2);
    // The canary goes on as without a shadow phase: the endpoint serving its configuration is InService.
    const done = await poll((await poll(moved.deployment)).deployment);
    expect(done).toMatchObject({ status: 'InService', reason: `endpoint ${ENDPOINT} serves ${CANARY_CONFIG}` });
  });

  it('rejects a candidate that disagrees with production, and puts the endpoint back on production alone', async () => {
    const deployment = await live();
    clock += 900_000;
    figures = { requests: 400, failedRequests: 0, p99LatencyMs: 40 };
    capture(100, 30);
    const rejected = await poll(deployment);
    expect(rejected.status).toBe('RolledBack');
    expect(rejected.reason).toBe(
      "shadow rejected before any caller saw it: agreement with production 30% (30 of 100 rows) is below the minimum 90% (400 mirrored requests, agreement 30%, error rate 0%, p99 latency 40 ms; 100 captured requests joined, 0 shadow records without production's)",
    );
    expect((await store.getVersion('churn', 2))?.stage).toBe('Rejected');
    const [event] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(event).toMatchObject({ toStage: 'Rejected', reason: rejected.reason });
    expect(endpoint.configs.get(RESTORE_CONFIG)).toEqual({
      EndpointConfigName: RESTORE_CONFIG,
      KmsKeyId: KEY,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: PRODUCTION_MODEL,
          InstanceType: 'ml.c6i.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
        },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 20,
        DestinationS3Uri: 's3://capture/churn/endpoint',
        KmsKeyId: KEY,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    });
    expect(endpoint.updates.at(-1)).toEqual({ EndpointConfigName: RESTORE_CONFIG, DeploymentConfig: undefined });
    // Repeated: the registry's decision is replayed, the endpoint not moved again.
    expect(await poll(deployment)).toMatchObject({ status: 'RolledBack', reason: 'version 2 was already rejected' });
    expect(endpoint.updates).toHaveLength(2);
  });

  it('rejects a candidate whose p99 latency is over the budget, or whose error rate is above 5% (the serverless gate)', async () => {
    const deployment = await live();
    clock += 900_000;
    figures = { requests: 400, failedRequests: 40, p99LatencyMs: 450 };
    capture(100, 100);
    const rejected = await poll(deployment);
    expect(rejected.status).toBe('RolledBack');
    expect(rejected.reason).toBe(
      "shadow rejected before any caller saw it: error rate 10% (40 of 400 mirrored requests) is above 5%; p99 latency 450 ms is above the 200 ms budget (400 mirrored requests, agreement 100%, error rate 10%, p99 latency 450 ms; 100 captured requests joined, 0 shadow records without production's)",
    );
  });

  it('counts unreadable capture lines in the reason, with the first problem, and judges the rest', async () => {
    const deployment = await live();
    clock += 900_000;
    figures = { requests: 400, failedRequests: 0, p99LatencyMs: 40 };
    capture(100, 100);
    captured['AllTraffic-shadow']!.push('{"captureData":', '[]');
    const moved = await poll(deployment);
    expect(moved.reason).toBe(
      "shadow passed: 400 mirrored requests, agreement 100%, error rate 0%, p99 latency 40 ms (100 captured requests joined, 0 shadow records without production's, 2 unreadable (not JSON: Unexpected end of JSON input))",
    );
  });

  it('waits for traffic up to three windows, then fails the rollout (Archived) and takes the shadow off', async () => {
    const deployment = await live();
    clock += 900_000;
    figures = { requests: 40, failedRequests: 0 };
    const waiting = await poll(deployment);
    expect(waiting).toMatchObject({
      status: 'InProgress',
      reason: 'shadow waits for traffic: 40 of the 100 mirrored requests the shadow gates need',
    });
    clock += 1_800_000;
    const failed = await poll(waiting.deployment);
    expect(failed).toMatchObject({ status: 'Failed', reason: expect.stringMatching(/^shadow ended after 2700 s without enough traffic/) });
    expect((await store.getVersion('churn', 2))?.stage).toBe('Archived');
    const [archived] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(archived).toMatchObject({ toStage: 'Archived', reason: `deployment failed: ${failed.reason}` });
    expect(endpoint.updates.at(-1)?.EndpointConfigName).toBe(RESTORE_CONFIG);
  });

  it('fails the rollout (Archived, nothing against the model) when the shadow configuration cannot start', async () => {
    const { deployment } = await begin();
    endpoint.failNextUpdate = true;
    const updating = await poll(deployment);
    const failed = await poll(updating.deployment);
    expect(failed).toMatchObject({
      status: 'Failed',
      reason: `the shadow variant could not be started: endpoint InService on ${PRODUCTION_CONFIG}: shadow variant failed health checks`,
    });
    expect((await store.getVersion('churn', 2))?.stage).toBe('Archived');
    const [archived] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(archived).toMatchObject({ toStage: 'Archived', reason: `deployment failed: ${failed.reason}` });
  });

  it('states a shadow configuration that failed without a reason or a configuration name', async () => {
    const { deployment } = await begin();
    endpoint.current = { EndpointStatus: 'Failed' };
    expect(await poll(deployment)).toMatchObject({
      status: 'Failed',
      reason: 'the shadow variant could not be started: endpoint Failed on no configuration',
    });
  });

  it('waits while the endpoint has not yet shown the update to the shadow configuration (a poll right after begin)', async () => {
    const { deployment } = await begin();
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: PRODUCTION_CONFIG };
    expect(await poll(deployment)).toMatchObject({ status: 'InProgress', reason: null, deployment: { shadow: { updateSeen: false } } });
    expect((await store.getVersion('churn', 2))?.stage).toBe('Staging');
  });

  it('replays a promotion recorded during the shadow as InService, leaving the endpoint alone', async () => {
    const deployment = await live();
    await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR });
    const updates = endpoint.updates.length;
    expect(await poll(deployment)).toEqual({ status: 'InService', deployment, reason: 'version 2 was promoted' });
    expect(endpoint.updates).toHaveLength(updates);
  });

  it('fails a shadow whose version left Staging (archived), taking the shadow variant off', async () => {
    const deployment = await live();
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Archived', actor: ACTOR });
    expect(await poll(deployment)).toEqual({
      status: 'Failed',
      deployment,
      reason: 'version 2 left Staging (now Archived) during its shadow',
    });
    expect(endpoint.updates.at(-1)).toEqual({ EndpointConfigName: RESTORE_CONFIG, DeploymentConfig: undefined });
  });

  it('fails a shadow whose version the registry holds as Registered, taking the shadow variant off', async () => {
    const deployment = await live();
    const fresh = new InMemoryRegistryStore();
    const freshRegistry = new Registry(fresh, { knownModels: ['churn'] });
    await registerChurnVersions(freshRegistry, 2, ACTOR);
    dependencies = { ...dependencies, versions: fresh };
    expect(await poll(deployment)).toEqual({
      status: 'Failed',
      deployment,
      reason: 'version 2 left Staging (now Registered) during its shadow',
    });
    expect(endpoint.updates.at(-1)).toEqual({ EndpointConfigName: RESTORE_CONFIG, DeploymentConfig: undefined });
  });

  it('goes on judging a live shadow when the registry holds no model record (no phase recorded to replay)', async () => {
    const deployment = await live();
    dependencies = {
      ...dependencies,
      versions: { getVersion: (name, version) => store.getVersion(name, version), getModel: async () => undefined },
    };
    expect(await poll(deployment)).toMatchObject({ status: 'InProgress', reason: null, deployment: { phase: 'shadow' } });
  });

  it('refuses a shadow poll for a version the registry does not hold', async () => {
    const deployment = await live();
    await expect(
      deployEndpoint(dependencies, { action: 'poll', version: 5, deployment: { ...deployment, version: 5 } }),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'model "churn" has no version 5',
      details: { modelName: 'churn', version: 5 },
    });
  });

  it('refuses to poll a rollout in shadow without all a shadow phase needs', async () => {
    const deployment = await live();
    const { shadow: _settings, ...withoutShadow } = TARGET;
    const message = 'the rollout of version 2 is in shadow, but this deploy function has no shadow phase configured';
    const event = { action: 'poll' as const, version: 2, deployment };
    await expect(pollEndpointRollout({ ...dependencies, target: withoutShadow }, event)).rejects.toThrow(message);
    await expect(pollEndpointRollout({ ...dependencies, shadowReaders: undefined }, event)).rejects.toThrow(message);
    await expect(pollEndpointRollout({ ...dependencies, versions: undefined }, event)).rejects.toThrow(message);
    const { shadow: _state, ...noState } = deployment;
    await expect(pollEndpointRollout(dependencies, { ...event, deployment: noState })).rejects.toThrow(message);
    expect((await store.getVersion('churn', 2))?.stage).toBe('Staging');
  });

  it('refuses to move a passing shadow on to its canary with a registry that cannot change phases', async () => {
    const deployment = await live();
    clock += 900_000;
    figures = { requests: 400, failedRequests: 0, p99LatencyMs: 40 };
    capture(100, 100);
    dependencies = { ...dependencies, registry: { transition: (request) => registry.transition(request) } };
    await expect(poll(deployment)).rejects.toThrow('the rollout registry cannot change rollout phases; a shadow phase needs it');
    expect(await store.getModel('churn')).toMatchObject({ stagingPhase: 'shadow' });
  });

  it('starts the window at the current time when no clock is injected', async () => {
    const { deployment } = await begin();
    const updating = await poll(deployment);
    const { now: _clock, ...withoutClock } = dependencies;
    const running = await pollEndpointRollout(withoutClock, { action: 'poll', version: 2, deployment: updating.deployment });
    expect(running).toMatchObject({ status: 'InProgress', reason: null });
    const liveSince = running.deployment.shadow?.liveSince;
    expect(new Date(liveSince!).toISOString()).toBe(liveSince);
    expect(metricReads).toEqual([]);
  });

  it('takes the shadow variant off when the canary rolls back onto the shadow configuration', async () => {
    const deployment = await live();
    clock += 900_000;
    figures = { requests: 400, failedRequests: 0, p99LatencyMs: 40 };
    capture(100, 100);
    const moved = await poll(deployment);
    // SageMaker's alarm rolls the canary back: the endpoint is in service on the shadow configuration again.
    endpoint.current = { EndpointStatus: 'RollingBack', EndpointConfigName: SHADOW_CONFIG };
    const rolling = await poll(moved.deployment);
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: SHADOW_CONFIG, FailureReason: 'alarm churn-5xx' };
    const rolledBack = await poll(rolling.deployment);
    expect(rolledBack.status).toBe('RolledBack');
    expect((await store.getVersion('churn', 2))?.stage).toBe('Rejected');
    expect(endpoint.updates.at(-1)).toEqual({ EndpointConfigName: RESTORE_CONFIG, DeploymentConfig: undefined });
  });

  it('starts in the canary, as without a shadow phase, when there is no production version to shadow', async () => {
    const fresh = new InMemoryRegistryStore();
    const freshRegistry = new Registry(fresh, { knownModels: ['churn'] });
    await registerChurnVersions(freshRegistry, 2, ACTOR);
    dependencies = { ...dependencies, versions: fresh, registry: { transition: (request) => freshRegistry.transition(request) } };
    const started = await begin();
    expect(started.deployment.phase).toBeUndefined();
    expect(endpoint.updates).toEqual([{ EndpointConfigName: CANARY_CONFIG, DeploymentConfig: DEPLOYMENT_CONFIG }]);
    expect(await fresh.getModel('churn')).toMatchObject({ stagingVersion: 2, stagingPhase: 'canary' });
  });

  it.each([
    ['no production variants', {}],
    ['an empty production variant list', { ProductionVariants: [] }],
    ['a production variant without a model', { ProductionVariants: [{ VariantName: 'AllTraffic' }] }],
  ])("starts in the canary when this run's shadow configuration names no production model (%s)", async (_, config) => {
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: SHADOW_CONFIG };
    endpoint.configs.set(SHADOW_CONFIG, config as CreateEndpointConfigInput);
    const started = await begin();
    expect(started.deployment.phase).toBeUndefined();
    expect(endpoint.updates).toEqual([{ EndpointConfigName: CANARY_CONFIG, DeploymentConfig: DEPLOYMENT_CONFIG }]);
  });

  it('starts in the canary when the registry holds no model record to read a production version from', async () => {
    dependencies = {
      ...dependencies,
      versions: { getVersion: (name, version) => store.getVersion(name, version), getModel: async () => undefined },
    };
    const started = await begin();
    expect(started.deployment.phase).toBeUndefined();
    expect(endpoint.updates).toEqual([{ EndpointConfigName: CANARY_CONFIG, DeploymentConfig: DEPLOYMENT_CONFIG }]);
  });

  it("shadows the production configuration's variant of the target's name, else its first variant", async () => {
    endpoint.productionConfig = {
      ProductionVariants: [
        { VariantName: 'Blue', ModelName: 'blue-model' },
        { VariantName: 'AllTraffic', ModelName: PRODUCTION_MODEL },
      ],
    };
    expect((await begin()).deployment.shadow?.productionModelName).toBe(PRODUCTION_MODEL);
    expect(endpoint.configs.get(SHADOW_CONFIG)?.ProductionVariants[0]?.ModelName).toBe(PRODUCTION_MODEL);
  });

  it('falls back to the first production variant when none has the target variant name', async () => {
    endpoint.productionConfig = { ProductionVariants: [{ VariantName: 'Blue', ModelName: 'blue-model' }] };
    expect((await begin()).deployment.shadow?.productionModelName).toBe('blue-model');
  });

  it.each([
    ['no production variants', {}],
    ['an empty production variant list', { ProductionVariants: [] }],
  ])('starts in the canary when the production configuration has %s', async (_, config) => {
    endpoint.productionConfig = config;
    const started = await begin();
    expect(started.deployment.phase).toBeUndefined();
    expect(endpoint.updates).toEqual([{ EndpointConfigName: CANARY_CONFIG, DeploymentConfig: DEPLOYMENT_CONFIG }]);
  });

  it('starts in the canary when the endpoint names no configuration', async () => {
    endpoint.current = { EndpointStatus: 'InService' };
    const started = await begin();
    expect(started.deployment.phase).toBeUndefined();
    expect(endpoint.updates).toEqual([{ EndpointConfigName: CANARY_CONFIG, DeploymentConfig: DEPLOYMENT_CONFIG }]);
  });

  it('refuses a shadow configuration SageMaker would refuse, before UpdateEndpoint', async () => {
    dependencies = { ...dependencies, target: { ...TARGET, instanceType: 'ml.m5d.large' } };
    // Both variants (production and the shadow) run on the instance type: one problem each.
    const problem =
      'Instance type ml.m5d.large has local instance storage; a KmsKeyId cannot be specified for an endpoint configuration that uses it (CreateEndpointConfig.KmsKeyId)';
    await expect(begin()).rejects.toMatchObject({
      name: 'ValidationError',
      message: `2 validation errors detected: ${problem}; ${problem}`,
    });
    expect(endpoint.configs.size).toBe(0);
    expect(endpoint.updates).toEqual([]);
  });

  it('restores production only from the shadow configuration in service, saying whether it moved the endpoint', async () => {
    const state = { configName: SHADOW_CONFIG, productionModelName: PRODUCTION_MODEL, productionVersion: 1 };
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: PRODUCTION_CONFIG };
    expect(await restoreProduction(endpoint, TARGET, state, RUN)).toBe(false);
    endpoint.current = { EndpointStatus: 'Updating', EndpointConfigName: SHADOW_CONFIG };
    expect(await restoreProduction(endpoint, TARGET, state, RUN)).toBe(false);
    expect(endpoint.updates).toEqual([]);
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: SHADOW_CONFIG };
    expect(await restoreProduction(endpoint, TARGET, state, RUN)).toBe(true);
    expect(endpoint.updates).toEqual([{ EndpointConfigName: RESTORE_CONFIG, DeploymentConfig: undefined }]);
  });

  it('starts in the canary when the endpoint still serves its bootstrap configuration', async () => {
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: 'BootstrapConfig-AbCdEf123' };
    const started = await begin();
    expect(started.deployment.phase).toBeUndefined();
    expect([...endpoint.configs.keys()]).toEqual([CANARY_CONFIG]);
  });
});

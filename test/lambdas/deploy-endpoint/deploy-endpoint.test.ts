/**
 * The pipeline's rollout contract on an endpoint model, over a fake EndpointApi that behaves
 * like SageMaker's blue/green update: begin stages the candidate and updates the endpoint once
 * per run; each poll is one DescribeEndpoint, mapped to InService, RolledBack (candidate
 * Rejected) or Failed (UpdateRollbackFailed; candidate Archived).
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type DeployEndpointDependencies,
  deployEndpoint,
  type EndpointDeployment,
  runDeploymentId,
} from '../../../lambdas/deploy-endpoint/deploy-endpoint';
import type {
  CreateEndpointConfigInput,
  CreateModelInput,
  EndpointApi,
  EndpointDescription,
} from '../../../lambdas/deploy-endpoint/endpoint-deployment';
import { Registry } from '../../../lambdas/shared/registry/registry-service';
import type { RolloutResult } from '../../../lambdas/shared/rollout';
import { InMemoryRegistryStore } from '../../../testkit/in-memory-registry-store';
import { TEST_ENDPOINT, testEndpointTarget } from '../../support/endpoint-target';
import { registerChurnVersions } from '../../support/registry-versions';

const ACTOR = 'arn:aws:iam::123456789012:role/operator';
const ENDPOINT = TEST_ENDPOINT;
const OLD_CONFIG = `${ENDPOINT}-v1-seed`;
const TARGET = testEndpointTarget();

/** SageMaker's endpoint as the deploy function sees it: an update moves through scripted states, one per DescribeEndpoint. */
class FakeEndpoint implements EndpointApi {
  readonly models: string[] = [];
  readonly configs: string[] = [];
  readonly updates: string[] = [];
  describeCalls = 0;
  current: EndpointDescription = { EndpointStatus: 'InService', EndpointConfigName: OLD_CONFIG };
  /** What the endpoint goes through after UpdateEndpoint, given the target configuration. */
  script: Array<(target: string) => EndpointDescription> = [];

  async createModel(input: CreateModelInput) {
    this.models.push(input.ModelName);
  }
  async createEndpointConfig(input: CreateEndpointConfigInput) {
    this.configs.push(input.EndpointConfigName);
  }
  async updateEndpoint(input: { EndpointName: string; EndpointConfigName: string }) {
    if (this.current.EndpointStatus !== 'InService') {
      throw Object.assign(new Error(`Cannot update in-progress endpoint "${input.EndpointName}"`), { name: 'ValidationException' });
    }
    this.updates.push(input.EndpointConfigName);
    this.current = {
      EndpointStatus: 'Updating',
      EndpointConfigName: this.current.EndpointConfigName,
      PendingDeploymentSummary: { EndpointConfigName: input.EndpointConfigName },
    };
  }
  async describeEndpointConfig(): Promise<never> {
    throw new Error('a rollout without a shadow phase reads no endpoint configuration');
  }
  async describeEndpoint() {
    this.describeCalls++;
    const target = this.updates.at(-1);
    const next = target && this.script.shift();
    if (next) this.current = next(target);
    return this.current;
  }
}

const updating = (target: string): EndpointDescription => ({
  EndpointStatus: 'Updating',
  EndpointConfigName: OLD_CONFIG,
  PendingDeploymentSummary: { EndpointConfigName: target },
});
const rollingBack = (): EndpointDescription => ({ EndpointStatus: 'RollingBack', EndpointConfigName: OLD_CONFIG });

describe('endpoint rollout through begin and poll', () => {
  let store: InMemoryRegistryStore;
  let registry: Registry;
  let endpoint: FakeEndpoint;
  let dependencies: DeployEndpointDependencies;
  const targetConfig = `${ENDPOINT}-v2-${runDeploymentId('run-7')}`;

  beforeEach(async () => {
    store = new InMemoryRegistryStore();
    registry = new Registry(store, { knownModels: ['churn'] });
    await registerChurnVersions(registry, 2, ACTOR);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    endpoint = new FakeEndpoint();
    dependencies = {
      modelName: 'churn',
      target: TARGET,
      endpoints: endpoint,
      versions: store,
      registry: { transition: (request) => registry.transition(request) },
    };
  });

  const begin = async () => await deployEndpoint(dependencies, { action: 'begin', version: 2, runId: 'run-7' });
  const poll = async (deployment: EndpointDeployment) => await deployEndpoint(dependencies, { action: 'poll', version: 2, deployment });

  /** Polls until the status is no longer InProgress, counting DescribeEndpoint calls per poll. */
  async function pollToEnd(deployment: EndpointDeployment): Promise<RolloutResult<EndpointDeployment>> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = endpoint.describeCalls;
      const result = await poll(deployment);
      expect(endpoint.describeCalls - before).toBe(1);
      if (result.status !== 'InProgress') return result;
      deployment = result.deployment;
    }
    throw new Error('the rollout never ended');
  }

  it('begins: the candidate goes to Staging, a model and configuration named after the run, one UpdateEndpoint', async () => {
    const started = await begin();
    expect(started).toEqual({
      status: 'InProgress',
      reason: null,
      deployment: {
        mode: 'endpoint',
        modelName: 'churn',
        version: 2,
        runId: 'run-7',
        endpointName: ENDPOINT,
        endpointConfigName: targetConfig,
        updateSeen: false,
      },
    });
    expect(targetConfig.length).toBeLessThanOrEqual(63);
    // <endpoint>-v<n>-b<12 hex of the run id> (pipeline.md).
    expect(targetConfig.slice(ENDPOINT.length)).toMatch(/^-v2-b[0-9a-f]{12}$/);
    expect(endpoint.models).toEqual([targetConfig]);
    expect(endpoint.updates).toEqual([targetConfig]);
    expect((await store.getVersion('churn', 2))?.stage).toBe('Staging');
  });

  it('does not start a second update when begin is repeated for the same run', async () => {
    const first = await begin();
    const second = await begin();
    expect(endpoint.updates).toEqual([targetConfig]);
    expect(second.status).toBe('InProgress');
    expect(second.deployment).toEqual({ ...first.deployment, updateSeen: true });
    const staged = (await store.listEvents('churn', { limit: 50 })).items.filter((event) => event.toStage === 'Staging');
    expect(staged).toHaveLength(1);
  });

  it('reports InService once the endpoint serves the new configuration, leaving promotion to the pipeline', async () => {
    endpoint.script = [updating, updating, (target) => ({ EndpointStatus: 'InService', EndpointConfigName: target })];
    const { deployment } = await begin();
    const result = await pollToEnd(deployment);
    expect(result).toMatchObject({ status: 'InService', reason: `endpoint ${ENDPOINT} serves ${targetConfig}` });
    expect((await store.getVersion('churn', 2))?.stage).toBe('Staging');
    expect((await store.getModel('churn'))?.productionVersion).toBe(1);
  });

  it('reports RolledBack when the endpoint returns to the old configuration, and rejects the candidate with the reason', async () => {
    endpoint.script = [
      updating,
      rollingBack,
      () => ({ EndpointStatus: 'InService', EndpointConfigName: OLD_CONFIG, FailureReason: 'Alarm churn-5xx fired during the canary' }),
    ];
    const { deployment } = await begin();
    const result = await pollToEnd(deployment);
    expect(result.status).toBe('RolledBack');
    expect(result.reason).toBe(`endpoint deployment rolled back to ${OLD_CONFIG}: Alarm churn-5xx fired during the canary`);
    const version = await store.getVersion('churn', 2);
    expect(version?.stage).toBe('Rejected');
    const [event] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(event).toMatchObject({ fromStage: 'Staging', toStage: 'Rejected', reason: result.reason, actor: 'rollout:churn:run-7' });
    expect((await store.getModel('churn'))?.productionVersion).toBe(1);
    // A repeated poll answers the same without failing on the finished transition.
    expect((await poll(result.deployment)).status).toBe('RolledBack');
  });

  it('reports Failed with the reason when the rollback itself fails (UpdateRollbackFailed), archiving the candidate', async () => {
    endpoint.script = [
      updating,
      rollingBack,
      () => ({ EndpointStatus: 'UpdateRollbackFailed', EndpointConfigName: OLD_CONFIG, FailureReason: 'Insufficient capacity' }),
    ];
    const { deployment } = await begin();
    const result = await pollToEnd(deployment);
    expect(result).toMatchObject({ status: 'Failed', reason: 'endpoint UpdateRollbackFailed: Insufficient capacity' });
    expect((await store.getVersion('churn', 2))?.stage).toBe('Archived');
  });

  it('keeps the old configuration as in progress until an update was seen (a poll right after begin)', async () => {
    const { deployment } = await begin();
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: OLD_CONFIG };
    expect((await poll(deployment)).status).toBe('InProgress');
    expect((await poll({ ...deployment, updateSeen: true })).status).toBe('RolledBack');
  });

  it('names the run in the staging reason and in a resource id of "b" and 12 hex digits of its SHA-256', async () => {
    await begin();
    const [staged] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(staged).toMatchObject({ toStage: 'Staging', reason: `blue/green deployment to endpoint ${ENDPOINT} (run run-7)` });
    expect(runDeploymentId('run-7')).toBe(`b${createHash('sha256').update('run-7').digest('hex').slice(0, 12)}`);
  });

  it('answers InService for the version already in production, without touching the endpoint or the registry', async () => {
    const result = await deployEndpoint(dependencies, { action: 'begin', version: 1, runId: 'run-7' });
    expect(result).toEqual({
      status: 'InService',
      reason: 'version 1 already serves production',
      deployment: {
        mode: 'endpoint',
        modelName: 'churn',
        version: 1,
        runId: 'run-7',
        endpointName: ENDPOINT,
        endpointConfigName: `${ENDPOINT}-v1-${runDeploymentId('run-7')}`,
        updateSeen: false,
      },
    });
    expect(endpoint.describeCalls).toBe(0);
    expect(endpoint.updates).toEqual([]);
    expect((await store.getModel('churn'))?.stagingVersion).toBeUndefined();
  });

  it('refuses to roll out a Rejected version, naming it', async () => {
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Rejected', actor: ACTOR });
    const refused = deployEndpoint(dependencies, { action: 'begin', version: 2, runId: 'run-7' });
    await expect(refused).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      message: 'version 2 of "churn" is Rejected; it cannot be rolled out',
      details: { modelName: 'churn', version: 2 },
    });
    expect(endpoint.updates).toEqual([]);
  });

  it("does not update again when a repeated begin finds the endpoint already serving this run's configuration", async () => {
    await begin();
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: targetConfig };
    const again = await begin();
    expect(again).toMatchObject({ status: 'InProgress', deployment: { updateSeen: false } });
    expect(endpoint.updates).toEqual([targetConfig]);
  });

  it.each(['Updating', 'SystemUpdating', 'RollingBack'])('takes %s on the old configuration as the update seen', async (status) => {
    const { deployment } = await begin();
    endpoint.current = { EndpointStatus: status, EndpointConfigName: OLD_CONFIG };
    expect(await poll(deployment)).toMatchObject({ status: 'InProgress', deployment: { updateSeen: true } });
  });

  it('takes a pending deployment of this configuration as the update seen, and any other state as not yet', async () => {
    const { deployment } = await begin();
    endpoint.current = {
      EndpointStatus: 'InService',
      EndpointConfigName: OLD_CONFIG,
      PendingDeploymentSummary: { EndpointConfigName: targetConfig },
    };
    expect(await poll(deployment)).toMatchObject({ status: 'InProgress', deployment: { updateSeen: true } });
    endpoint.current = {
      EndpointStatus: 'Creating',
      EndpointConfigName: OLD_CONFIG,
      PendingDeploymentSummary: { EndpointConfigName: 'other' },
    };
    expect(await poll(deployment)).toMatchObject({ status: 'InProgress', deployment: { updateSeen: false } });
  });

  it('states a rollback without a failure reason, and one onto an unnamed configuration', async () => {
    const { deployment } = await begin();
    endpoint.current = { EndpointStatus: 'InService', EndpointConfigName: OLD_CONFIG };
    expect(await poll({ ...deployment, updateSeen: true })).toMatchObject({
      status: 'RolledBack',
      reason: `endpoint deployment rolled back to ${OLD_CONFIG}`,
    });
    endpoint.current = { EndpointStatus: 'InService' };
    expect(await poll({ ...deployment, updateSeen: true })).toMatchObject({
      status: 'RolledBack',
      reason: 'endpoint deployment rolled back to the previous configuration',
    });
  });

  it.each([
    [{ EndpointStatus: 'Failed', EndpointConfigName: OLD_CONFIG, FailureReason: 'Image not found' }, 'endpoint Failed: Image not found'],
    [{ EndpointStatus: 'OutOfService', EndpointConfigName: OLD_CONFIG }, 'endpoint OutOfService'],
  ])('reports Failed for an endpoint %o, archiving the candidate with the reason', async (description, reason) => {
    const { deployment } = await begin();
    endpoint.current = description;
    expect(await poll(deployment)).toMatchObject({ status: 'Failed', reason });
    const [event] = (await store.listEvents('churn', { limit: 1 })).items;
    expect(event).toMatchObject({ toStage: 'Archived', reason: `deployment failed: ${reason}`, actor: 'rollout:churn:run-7' });
  });

  it('refuses a malformed request and an unknown version, saying which', async () => {
    await expect(deployEndpoint(dependencies, { action: 'rollout', version: 2 })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/^invalid deploy request: /),
    });
    await expect(deployEndpoint(dependencies, { action: 'begin', version: 5, runId: 'run-7' })).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'model "churn" has no version 5',
      details: { modelName: 'churn', version: 5 },
    });
  });

  it('refuses a poll whose deployment is not an endpoint deployment of this version', async () => {
    const { deployment } = await begin();
    await expect(deployEndpoint(dependencies, { action: 'poll', version: 1, deployment })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(
      deployEndpoint(dependencies, { action: 'poll', version: 2, deployment: { ...deployment, mode: 'serverless-canary' } }),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(deployEndpoint(dependencies, { action: 'begin', version: 5, runId: 'run-7' })).rejects.toMatchObject({
      name: 'NotFoundError',
    });
  });
});

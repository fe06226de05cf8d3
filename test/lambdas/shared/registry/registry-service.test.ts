/**
 * The registry's rules, run against the in-memory store and against the DynamoDB adapter on
 * DynamoDB Local (real conditions and transactions), so both stores honour one contract.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RegisterRequest } from '../../../../contracts/registry';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../../lambdas/shared/errors';
import { DynamoDbRegistryStore } from '../../../../lambdas/shared/registry/dynamodb-registry-store';
import { Registry } from '../../../../lambdas/shared/registry/registry-service';
import type { RegistryChange, RegistryStore } from '../../../../lambdas/shared/registry/registry-store';
import { createRegistryTable, LOCAL_AWS } from '../../../../local/dynamodb-local';
import { InMemoryRegistryStore } from '../../../../testkit/in-memory-registry-store';

const SHA = 'a'.repeat(64);
const MODELS = [
  'churn',
  'fraud',
  'race',
  'pages',
  'audit',
  'frozen',
  'staging',
  'rollback',
  'idem',
  'empty',
  'failures',
  'approvals',
  'replays',
  'phases',
  'drifting',
];

function registration(modelName: string, overrides: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    modelName,
    artifactUri: `s3://artifacts-bucket/models/${modelName}/model.tar.gz`,
    artifactSha256: SHA,
    metrics: { accuracy: 0.9, f1: 0.85 },
    lineage: {
      datasetUri: `s3://datasets-bucket/${modelName}/train.csv`,
      datasetEtag: '"etag-1"',
      trainingJobName: `${modelName}-job-1`,
      hyperparameters: { epochs: '10' },
    },
    spotSavings: 0.62,
    actor: 'arn:aws:iam::123456789012:role/pipeline',
    ...overrides,
  };
}

/** Holds every commit until `parties` commits are waiting, so concurrent callers all read first. */
class BarrierStore implements RegistryStore {
  private waiting: Array<() => void> = [];
  constructor(
    private readonly inner: RegistryStore,
    private readonly parties: number,
  ) {}
  getModel = (name: string) => this.inner.getModel(name);
  listModels = (page: Parameters<RegistryStore['listModels']>[0]) => this.inner.listModels(page);
  getVersion = (name: string, version: number) => this.inner.getVersion(name, version);
  listVersions = (name: string, page: Parameters<RegistryStore['listVersions']>[1]) => this.inner.listVersions(name, page);
  listEvents = (name: string, page: Parameters<RegistryStore['listEvents']>[1]) => this.inner.listEvents(name, page);
  getRequest = (name: string, key: string) => this.inner.getRequest(name, key);
  getApproval = (name: string, version: number) => this.inner.getApproval(name, version);
  appendEvents = (...args: Parameters<RegistryStore['appendEvents']>) => this.inner.appendEvents(...args);
  async commit(change: RegistryChange): Promise<void> {
    await new Promise<void>((release) => {
      this.waiting.push(release);
      if (this.waiting.length >= this.parties) {
        for (const go of this.waiting) go();
        this.waiting = [];
      }
    });
    return this.inner.commit(change);
  }
}

interface StoreFactory {
  readonly name: string;
  setup(): Promise<void>;
  create(): RegistryStore;
  teardown(): Promise<void>;
}

const inMemory = (): StoreFactory => {
  let store: InMemoryRegistryStore;
  return {
    name: 'in-memory store',
    setup: async () => {
      store = new InMemoryRegistryStore();
    },
    create: () => store,
    teardown: async () => undefined,
  };
};

const dynamoDbLocal = (): StoreFactory => {
  const tableName = `registry-${randomUUID()}`;
  let client: DynamoDBClient;
  return {
    name: 'DynamoDB adapter on DynamoDB Local',
    setup: async () => {
      client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: inject('dynamoDbEndpoint') });
      await createRegistryTable(client, tableName);
    },
    create: () =>
      new DynamoDbRegistryStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName),
    teardown: async () => client.destroy(),
  };
};

/**
 * Mutation runs (vitest.mutation.config.ts) mutate the service, never a store: they run the contract
 * on the in-memory store alone, the DynamoDB Local run adding seconds per mutant and no verdict.
 */
const stores = process.env.REGISTRY_CONTRACT_STORES === 'in-memory' ? [inMemory()] : [inMemory(), dynamoDbLocal()];

describe.each(stores)('Registry with the $name', (factory) => {
  let registry: Registry;
  const registryOn = (store: RegistryStore) => new Registry(store, { knownModels: MODELS, sleep: async () => undefined });

  beforeAll(async () => {
    await factory.setup();
    registry = registryOn(factory.create());
  });
  afterAll(() => factory.teardown());

  it('issues version numbers 1, 2, 3 and stores lineage, metrics and the artifact hash', async () => {
    const first = await registry.registerVersion(registration('churn'));
    const second = await registry.registerVersion(registration('churn', { metrics: { accuracy: 0.91 } }));
    const third = await registry.registerVersion(registration('churn'));
    expect([first.version, second.version, third.version]).toEqual([1, 2, 3]);

    const stored = await registry.getVersion({ modelName: 'churn', version: 2 });
    expect(stored).toMatchObject({
      modelName: 'churn',
      version: 2,
      stage: 'Registered',
      artifactSha256: SHA,
      metrics: { accuracy: 0.91 },
      spotSavings: 0.62,
      lineage: { datasetUri: 's3://datasets-bucket/churn/train.csv', datasetEtag: '"etag-1"', hyperparameters: { epochs: '10' } },
      createdBy: 'arn:aws:iam::123456789012:role/pipeline',
    });
    expect((await registry.getModel({ modelName: 'churn' })).latestVersion).toBe(3);
  });

  it('issues unique, gap-free version numbers to 20 concurrent registrations', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => registry.registerVersion(registration('race'))));
    const numbers = results.map((version) => version.version).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    const model = await registry.getModel({ modelName: 'race' });
    expect(model.latestVersion).toBe(20);
    const listed = await registry.listVersions({ modelName: 'race', limit: 100 });
    expect(listed.items).toHaveLength(20);
  });

  it('refuses a registration without a valid SHA-256, naming the field', async () => {
    const attempt = registry.registerVersion(registration('churn', { artifactSha256: 'abc' }));
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow(/artifactSha256: must be the lowercase hex SHA-256/);
  });

  it('refuses an unknown model with NotFoundError listing the configured ones', async () => {
    await expect(registry.registerVersion(registration('nonexistent'))).rejects.toThrow(NotFoundError);
    await expect(registry.getModel({ modelName: 'nonexistent' })).rejects.toThrow(/unknown model "nonexistent"; configured models: churn/);
  });

  it('reports a missing version as NotFoundError', async () => {
    await expect(registry.getVersion({ modelName: 'churn', version: 999 })).rejects.toThrow(/version 999 of model "churn" does not exist/);
  });

  it('answers a configured model with no versions with an empty record', async () => {
    expect(await registry.getModel({ modelName: 'empty' })).toMatchObject({ modelName: 'empty', latestVersion: 0, productionHistory: [] });
  });

  it('returns the first result when a request is repeated with its idempotency key', async () => {
    const request = registration('idem', { idempotencyKey: 'execution-1:Register' });
    const first = await registry.registerVersion(request);
    const again = await registry.registerVersion({ ...request, actor: 'someone-else' });
    expect(again).toEqual(first);
    expect((await registry.listVersions({ modelName: 'idem' })).items).toHaveLength(1);
    await expect(registry.registerVersion({ ...request, artifactSha256: 'b'.repeat(64) })).rejects.toThrow(
      /idempotency key "execution-1:Register" was already used for a different request/,
    );
  });

  it('gives every delivery of one idempotency key the same answer, even when they race (a no-op answer included)', async () => {
    const v1 = await registry.registerVersion(registration('replays'));
    const deliveries = () =>
      Promise.all(
        Array.from({ length: 8 }, () =>
          registry.promote({ modelName: 'replays', version: v1.version, actor: 'ci', idempotencyKey: 'deploy-42:promote' }),
        ),
      );
    const answers = await deliveries();
    for (const answer of answers) expect(JSON.parse(JSON.stringify(answer))).toEqual(JSON.parse(JSON.stringify(answers[0])));
    expect(answers[0]!.changed).toBe(true);
    // Later deliveries replay the recorded answer, never a fresh "nothing changed".
    expect(
      JSON.parse(
        JSON.stringify(
          await registry.promote({ modelName: 'replays', version: v1.version, actor: 'ci', idempotencyKey: 'deploy-42:promote' }),
        ),
      ),
    ).toEqual(JSON.parse(JSON.stringify(answers[0])));
    // A key first used on an already-Production version records that no-op answer, and replays it.
    const noop = await registry.promote({ modelName: 'replays', version: v1.version, actor: 'ci', idempotencyKey: 'deploy-43:promote' });
    expect(noop.changed).toBe(false);
    expect(await registry.promote({ modelName: 'replays', version: v1.version, actor: 'ci', idempotencyKey: 'deploy-43:promote' })).toEqual(
      JSON.parse(JSON.stringify(noop)),
    );
  });

  it('registers a version that failed the gate directly as Rejected, and refuses to move it on', async () => {
    const rejected = await registry.registerVersion(registration('churn', { stage: 'Rejected', reason: 'f1 0.62 < 0.80' }));
    expect(rejected.stage).toBe('Rejected');
    await expect(registry.promote({ modelName: 'churn', version: rejected.version, actor: 'me' })).rejects.toThrow(
      /cannot go from Rejected to Production \(Rejected is final\)/,
    );
    await expect(registry.transition({ modelName: 'churn', version: rejected.version, toStage: 'Staging', actor: 'me' })).rejects.toThrow(
      InvalidTransitionError,
    );
  });

  it('keeps one version in Staging: a newer one archives the one it replaces', async () => {
    const a = await registry.registerVersion(registration('staging'));
    const b = await registry.registerVersion(registration('staging'));
    await registry.transition({ modelName: 'staging', version: a.version, toStage: 'Staging', actor: 'me' });
    const result = await registry.transition({ modelName: 'staging', version: b.version, toStage: 'Staging', actor: 'me' });
    expect(result.model.stagingVersion).toBe(b.version);
    expect((await registry.getVersion({ modelName: 'staging', version: a.version })).stage).toBe('Archived');
    const again = await registry.transition({ modelName: 'staging', version: b.version, toStage: 'Staging', actor: 'me' });
    expect(again.changed).toBe(false);
    const inStaging = await registry.listVersions({ modelName: 'staging', stage: 'Staging' });
    expect(inStaging.items.map((v) => v.version)).toEqual([b.version]);
  });

  it("keeps the Staging version's rollout phase: shadow, then canary in the audit trail; none once it leaves Staging", async () => {
    const v = await registry.registerVersion(registration('phases'));
    const staged = await registry.transition({ modelName: 'phases', version: v.version, toStage: 'Staging', phase: 'shadow', actor: 'me' });
    expect(staged.model.stagingPhase).toBe('shadow');
    const moved = await registry.setRolloutPhase({
      modelName: 'phases',
      version: v.version,
      phase: 'canary',
      actor: 'rollout',
      reason: 'shadow passed',
      idempotencyKey: 'run-1:rollout-canary',
    });
    expect(moved).toMatchObject({
      changed: true,
      model: { stagingVersion: v.version, stagingPhase: 'canary' },
      version: { stage: 'Staging' },
    });
    const replayed = await registry.setRolloutPhase({
      modelName: 'phases',
      version: v.version,
      phase: 'canary',
      actor: 'rollout',
      reason: 'shadow passed',
      idempotencyKey: 'run-1:rollout-canary',
    });
    expect(replayed).toEqual(moved);
    expect((await registry.setRolloutPhase({ modelName: 'phases', version: v.version, phase: 'canary', actor: 'rollout' })).changed).toBe(
      false,
    );
    const events = (await registry.listEvents({ modelName: 'phases' })).items.filter((event) => event.action === 'rollout-phase');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: 'rollout',
      reason: 'shadow passed',
      fromStage: 'Staging',
      toStage: 'Staging',
      details: { fromPhase: 'shadow', toPhase: 'canary' },
    });
    const rejected = await registry.transition({ modelName: 'phases', version: v.version, toStage: 'Rejected', actor: 'me' });
    expect(rejected.model.stagingVersion).toBeUndefined();
    expect(rejected.model.stagingPhase).toBeUndefined();
    await expect(registry.setRolloutPhase({ modelName: 'phases', version: v.version, phase: 'shadow', actor: 'me' })).rejects.toThrow(
      /is Rejected, not the Staging version/,
    );
    await expect(
      registry.transition({ modelName: 'phases', version: v.version, toStage: 'Archived', phase: 'shadow', actor: 'me' }),
    ).rejects.toThrow(/phase is only for a transition to Staging/);
  });

  it('refuses illegal transitions and leaves the version unchanged', async () => {
    const v = await registry.registerVersion(registration('staging'));
    await registry.transition({ modelName: 'staging', version: v.version, toStage: 'Archived', actor: 'me' });
    await expect(registry.transition({ modelName: 'staging', version: v.version, toStage: 'Rejected', actor: 'me' })).rejects.toThrow(
      /cannot go from Archived to Rejected \(allowed: Staging, Production\)/,
    );
    await expect(registry.transition({ modelName: 'staging', version: v.version, toStage: 'Registered', actor: 'me' })).rejects.toThrow(
      InvalidTransitionError,
    );
    expect((await registry.getVersion({ modelName: 'staging', version: v.version })).stage).toBe('Archived');
  });

  it('promotes a version, archiving the former production version as the rollback target', async () => {
    const v1 = await registry.registerVersion(registration('rollback'));
    const v2 = await registry.registerVersion(registration('rollback'));
    await registry.promote({ modelName: 'rollback', version: v1.version, actor: 'pipeline', reason: 'first model' });
    const promoted = await registry.promote({ modelName: 'rollback', version: v2.version, actor: 'pipeline', reason: 'better f1' });

    expect(promoted.model).toMatchObject({ productionVersion: 2, previousProductionVersion: 1, productionHistory: [1] });
    expect((await registry.getVersion({ modelName: 'rollback', version: 1 })).stage).toBe('Archived');
    expect((await registry.getVersion({ modelName: 'rollback', version: 2 })).stage).toBe('Production');
    await expect(registry.transition({ modelName: 'rollback', version: 2, toStage: 'Archived', actor: 'me' })).rejects.toThrow(
      /is in Production; promote another version or roll back first/,
    );
  });

  it('rolls back to the previous production version, once', async () => {
    await expect(registry.rollback({ modelName: 'rollback', actor: 'alarm', fromVersion: 1 })).rejects.toThrow(
      /production version of "rollback" is 2, not 1/,
    );
    const result = await registry.rollback({ modelName: 'rollback', actor: 'alarm', reason: 'p99 latency alarm', fromVersion: 2 });
    expect(result.version).toMatchObject({ version: 1, stage: 'Production' });
    expect(result.model.productionVersion).toBe(1);
    expect(result.model.previousProductionVersion).toBeUndefined();
    expect((await registry.getVersion({ modelName: 'rollback', version: 2 })).stage).toBe('Archived');
    await expect(registry.rollback({ modelName: 'rollback', actor: 'alarm' })).rejects.toThrow(
      /has no previous production version to roll back to \(version 1 was the first\)/,
    );
  });

  it('lets exactly one of two concurrent promotions win; the other gets ConflictError', async () => {
    const v1 = await registry.registerVersion(registration('fraud'));
    const v2 = await registry.registerVersion(registration('fraud'));
    const racing = registryOn(new BarrierStore(factory.create(), 2));
    const outcomes = await Promise.allSettled([
      racing.promote({ modelName: 'fraud', version: v1.version, actor: 'alice' }),
      racing.promote({ modelName: 'fraud', version: v2.version, actor: 'bob' }),
    ]);
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);

    const model = await registry.getModel({ modelName: 'fraud' });
    const winner = (won[0] as PromiseFulfilledResult<{ version: { version: number } }>).value.version.version;
    expect(model.productionVersion).toBe(winner);
    const production = await registry.listVersions({ modelName: 'fraud', stage: 'Production' });
    expect(production.items.map((v) => v.version)).toEqual([winner]);
  });

  it('refuses a promotion whose expected production version is stale', async () => {
    const model = await registry.getModel({ modelName: 'fraud' });
    const other = model.productionVersion === 1 ? 2 : 1;
    await expect(registry.promote({ modelName: 'fraud', version: other, actor: 'me', expectedProductionVersion: null })).rejects.toThrow(
      ConflictError,
    );
  });

  it('writes an audit event for every change: who, when, from, to, why', async () => {
    const v = await registry.registerVersion(registration('audit', { reason: 'nightly retrain' }));
    await registry.promote({ modelName: 'audit', version: v.version, actor: 'alice', reason: 'approved in review' });
    const { items } = await registry.listEvents({ modelName: 'audit' });
    expect(items).toHaveLength(2);
    const [promotion, registered] = items;
    expect(registered).toMatchObject({ action: 'register', version: 1, toStage: 'Registered', reason: 'nightly retrain' });
    expect(promotion).toMatchObject({
      action: 'promote',
      actor: 'alice',
      version: 1,
      fromStage: 'Registered',
      toStage: 'Production',
      reason: 'approved in review',
    });
    expect(Date.parse(promotion!.at)).not.toBeNaN();
  });

  it('keeps the audit trail in order when changes share a millisecond', async () => {
    const frozen = new Registry(factory.create(), { knownModels: MODELS, now: () => new Date('2026-11-23T12:00:00.000Z') });
    const v1 = await frozen.registerVersion(registration('frozen'));
    await frozen.promote({ modelName: 'frozen', version: v1.version, actor: 'me' });
    const v2 = await frozen.registerVersion(registration('frozen'));
    await frozen.promote({ modelName: 'frozen', version: v2.version, actor: 'me' });
    await frozen.rollback({ modelName: 'frozen', actor: 'me' });
    const { items } = await frozen.listEvents({ modelName: 'frozen' });
    expect(items.map((event) => `${event.action} v${event.version} ${event.toStage}`)).toEqual([
      'rollback v2 Archived',
      'rollback v1 Production',
      'promote v1 Archived',
      'promote v2 Production',
      'register v2 Registered',
      'promote v1 Production',
      'register v1 Registered',
    ]);
  });

  it('records a pipeline failure in the audit trail without changing any stage', async () => {
    const event = await registry.recordPipelineFailure({
      modelName: 'failures',
      actor: 'pipeline',
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:training:run-1',
      failedState: 'TrainOnSpot',
      error: 'SageMaker.ResourceLimitExceeded',
      cause: 'quota for ml.g5.xlarge spot is 0',
      idempotencyKey: 'run-1:failure',
    });
    expect(event).toMatchObject({ action: 'pipeline-failure', reason: 'TrainOnSpot failed: SageMaker.ResourceLimitExceeded' });
    const repeated = await registry.recordPipelineFailure({
      modelName: 'failures',
      actor: 'pipeline',
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:training:run-1',
      failedState: 'TrainOnSpot',
      error: 'SageMaker.ResourceLimitExceeded',
      cause: 'quota for ml.g5.xlarge spot is 0',
      idempotencyKey: 'run-1:failure',
    });
    expect(repeated.eventId).toBe(event.eventId);
    expect((await registry.listEvents({ modelName: 'failures' })).items).toHaveLength(1);
    expect((await registry.getModel({ modelName: 'failures' })).latestVersion).toBe(0);
  });

  it('keeps a drift verdict in the audit trail once per window, changing no stage', async () => {
    const verdict = {
      modelName: 'drifting',
      actor: 'check-drift:drifting',
      status: 'drift' as const,
      productionVersion: 2,
      windowEnd: '2026-01-02T00:00:00.000Z',
      sampleSize: 5000,
      driftedFeatures: ['tenure_months', 'contract'],
      driftedFeatureShare: 0.67,
      reportUri: 's3://artifacts-bucket/reports/drifting/drift/2026-01-02.json',
      idempotencyKey: 'drift:2026-01-02T00:00:00.000Z',
    };
    const event = await registry.recordDriftVerdict(verdict);
    expect(event).toMatchObject({
      action: 'drift-verdict',
      version: 2,
      details: { status: 'drift', sampleSize: '5000', driftedFeatures: 'tenure_months,contract', driftedFeatureShare: '0.67' },
    });
    expect(event.reason).toContain('tenure_months, contract');
    expect((await registry.recordDriftVerdict(verdict)).eventId).toBe(event.eventId);
    expect((await registry.listEvents({ modelName: 'drifting' })).items).toHaveLength(1);
    await expect(registry.recordDriftVerdict({ ...verdict, modelName: 'unknown' })).rejects.toThrow();
  });

  it('keeps a pending approval with its task token and hands it back with the decision', async () => {
    const v = await registry.registerVersion(registration('approvals'));
    const request = {
      modelName: 'approvals',
      version: v.version,
      taskToken: 'token-1',
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:training:run-1',
      actor: 'pipeline',
    };
    const pending = await registry.requestApproval(request);
    expect(pending).toMatchObject({ status: 'Pending', taskToken: 'token-1' });
    expect(await registry.requestApproval(request)).toEqual(pending);

    const { approval, version } = await registry.decideApproval({
      modelName: 'approvals',
      version: v.version,
      approved: true,
      actor: 'alice',
      reason: 'looks good',
    });
    expect(approval).toMatchObject({ status: 'Approved', taskToken: 'token-1', decidedBy: 'alice', reason: 'looks good' });
    expect(version.stage).toBe('Registered');
    await expect(registry.decideApproval({ modelName: 'approvals', version: v.version, approved: false, actor: 'bob' })).rejects.toThrow(
      /was already approved/,
    );
    const { items } = await registry.listEvents({ modelName: 'approvals', limit: 2 });
    expect(items.map((event) => event.action)).toEqual(['approval-decided', 'approval-requested']);
  });

  it('rejects the version when its approval is refused', async () => {
    const v = await registry.registerVersion(registration('approvals'));
    await registry.requestApproval({
      modelName: 'approvals',
      version: v.version,
      taskToken: 'token-2',
      executionArn: 'arn:run-2',
      actor: 'pipeline',
    });
    const { approval, version } = await registry.decideApproval({
      modelName: 'approvals',
      version: v.version,
      approved: false,
      actor: 'bob',
      reason: 'bias',
    });
    expect(approval.status).toBe('Rejected');
    expect(version.stage).toBe('Rejected');
    expect((await registry.getVersion({ modelName: 'approvals', version: v.version })).stage).toBe('Rejected');
  });

  it('reports a version nobody asked to approve, and refuses approval of a rejected one', async () => {
    const v = await registry.registerVersion(registration('approvals', { stage: 'Rejected' }));
    await expect(registry.getApproval({ modelName: 'approvals', version: v.version })).rejects.toThrow(
      /no pipeline run is waiting for approval of version/,
    );
    await expect(
      registry.requestApproval({ modelName: 'approvals', version: v.version, taskToken: 't', executionArn: 'arn:run', actor: 'pipeline' }),
    ).rejects.toThrow(/is Rejected; only Registered or Staging versions await approval/);
  });

  it('pages through versions newest first', async () => {
    for (let i = 0; i < 5; i++) await registry.registerVersion(registration('pages'));
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await registry.listVersions({ modelName: 'pages', limit: 2, cursor });
      seen.push(...page.items.map((v) => v.version));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([5, 4, 3, 2, 1]);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('lists the models that have versions', async () => {
    const { items } = await registry.listModels({ limit: 100 });
    expect(items.map((m) => m.modelName)).toEqual(expect.arrayContaining(['churn', 'race', 'rollback']));
    expect(items.map((m) => m.modelName)).not.toContain('empty');
  });
});

describe('DynamoDbRegistryStore', () => {
  it('refuses a cursor it did not issue, one of another list, and a crafted key, before DynamoDB sees them (400, not 500)', async () => {
    const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: inject('dynamoDbEndpoint') });
    const tableName = `registry-${randomUUID()}`;
    await createRegistryTable(client, tableName);
    const store = new DynamoDbRegistryStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      tableName,
    );
    const registry = new Registry(store);
    for (let i = 0; i < 3; i++) await registry.registerVersion(registration('paged'));
    await registry.registerVersion(registration('other'));
    const first = await store.listVersions('paged', { limit: 1 });
    expect(first.nextCursor).toBeDefined();
    // The cursor works for the list it came from.
    expect((await store.listVersions('paged', { limit: 1, cursor: first.nextCursor })).items).toHaveLength(1);
    const encode = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const decoded = JSON.parse(Buffer.from(first.nextCursor!, 'base64url').toString('utf8')) as Record<string, string>;
    const refused = [
      'not-a-cursor',
      '%%%',
      encode({ anything: 'x' }),
      encode({ ...decoded, extra: 'x' }),
      encode({ ...decoded, PK: 'MODEL#other' }),
      encode({ ...decoded, SK: 'META' }),
      encode({ PK: 123, SK: 'VERSION#1' }),
      encode({ ...decoded, SK: `VERSION#${'9'.repeat(2000)}` }),
    ];
    for (const cursor of refused) {
      await expect(store.listVersions('paged', { limit: 1, cursor }), cursor).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(/cursor is not one this query returned/),
      });
    }
    // Another model's list, and the events list, refuse it too.
    await expect(store.listVersions('other', { limit: 1, cursor: first.nextCursor })).rejects.toThrow(
      /cursor is not one this query returned/,
    );
    await expect(store.listEvents('paged', { limit: 1, cursor: first.nextCursor })).rejects.toThrow(
      /cursor is not one this query returned/,
    );
    await expect(store.listModels({ limit: 1, cursor: first.nextCursor })).rejects.toThrow(/cursor is not one this query returned/);
    client.destroy();
  });
});

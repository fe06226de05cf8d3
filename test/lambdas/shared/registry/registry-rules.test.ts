/**
 * The registry's stage rules one by one, on the in-memory store: unknown models and missing
 * versions, the Staging and Production pointers, the production history and its limit, the
 * reasons the audit trail records, which stages may await approval and what a decision changes,
 * and pipeline failures. registry-service.test.ts runs the shared contract on both stores.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PRODUCTION_HISTORY_LIMIT, type RegisterRequest } from '../../../../contracts/registry';
import { MAX_VERSION } from '../../../../contracts/registry-table';
import { Registry } from '../../../../lambdas/shared/registry/registry-service';
import { InMemoryRegistryStore } from '../../../../testkit/in-memory-registry-store';

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';
const registration = (overrides: Partial<RegisterRequest> = {}): RegisterRequest => ({
  modelName: 'churn',
  artifactUri: 's3://artifacts/models/churn/model.tar.gz',
  artifactSha256: 'a'.repeat(64),
  lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
  actor: ACTOR,
  ...overrides,
});

let store: InMemoryRegistryStore;
let registry: Registry;

beforeEach(() => {
  store = new InMemoryRegistryStore();
  registry = new Registry(store, { knownModels: ['churn', 'fraud'], sleep: async () => undefined });
});

async function versions(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await registry.registerVersion(registration());
}

const stageOf = async (version: number) => (await registry.getVersion({ modelName: 'churn', version })).stage;
const latestEvent = async () => (await registry.listEvents({ modelName: 'churn', limit: 1 })).items[0]!;

describe('models and versions that do not exist', () => {
  it('refuses every operation on a model the platform is not configured with, listing the configured ones', async () => {
    await versions(1);
    const ghost = { modelName: 'ghost', actor: ACTOR };
    const operations: [string, () => Promise<unknown>][] = [
      ['registerVersion', () => registry.registerVersion(registration({ modelName: 'ghost' }))],
      ['getModel', () => registry.getModel({ modelName: 'ghost' })],
      ['getVersion', () => registry.getVersion({ modelName: 'ghost', version: 1 })],
      ['listVersions', () => registry.listVersions({ modelName: 'ghost' })],
      ['listEvents', () => registry.listEvents({ modelName: 'ghost' })],
      ['transition', () => registry.transition({ ...ghost, version: 1, toStage: 'Staging' })],
      ['promote', () => registry.promote({ ...ghost, version: 1 })],
      ['rollback', () => registry.rollback(ghost)],
      ['requestApproval', () => registry.requestApproval({ ...ghost, version: 1, taskToken: 't', executionArn: 'arn:run' })],
      ['getApproval', () => registry.getApproval({ modelName: 'ghost', version: 1 })],
      ['recordPipelineFailure', () => registry.recordPipelineFailure({ ...ghost, executionArn: 'arn:run', failedState: 'Train' })],
    ];
    for (const [name, operation] of operations) {
      await expect(operation(), name).rejects.toMatchObject({
        name: 'NotFoundError',
        message: 'unknown model "ghost"; configured models: churn, fraud',
        details: { modelName: 'ghost' },
      });
    }
    const none = new Registry(store, { knownModels: [] });
    await expect(none.getModel({ modelName: 'churn' })).rejects.toThrow('unknown model "churn"; configured models: none');
  });

  it('answers a configured model without versions with an empty record, and refuses it when no models are configured', async () => {
    expect(await registry.getModel({ modelName: 'fraud' })).toMatchObject({ modelName: 'fraud', latestVersion: 0, revision: 0 });
    await expect(new Registry(store).getModel({ modelName: 'fraud' })).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'model "fraud" has no registered versions',
      details: { modelName: 'fraud' },
    });
  });

  it('names the missing version of a model that exists, whatever the operation', async () => {
    await versions(1);
    const missing = {
      name: 'NotFoundError',
      message: 'version 9 of model "churn" does not exist',
      details: { modelName: 'churn', version: 9 },
    };
    await expect(registry.getVersion({ modelName: 'churn', version: 9 })).rejects.toMatchObject(missing);
    await expect(registry.transition({ modelName: 'churn', version: 9, toStage: 'Staging', actor: ACTOR })).rejects.toMatchObject(missing);
    await expect(registry.promote({ modelName: 'churn', version: 9, actor: ACTOR })).rejects.toMatchObject(missing);
  });

  it(`issues version ${MAX_VERSION} last, then refuses to register`, async () => {
    const at = '2026-01-01T00:00:00.000Z';
    await store.commit({
      model: { modelName: 'churn', latestVersion: MAX_VERSION - 1, productionHistory: [], revision: 1, createdAt: at, updatedAt: at },
      expectedRevision: null,
      versions: [],
      events: [],
    });
    expect((await registry.registerVersion(registration())).version).toBe(MAX_VERSION);
    await expect(registry.registerVersion(registration())).rejects.toMatchObject({
      name: 'ConflictError',
      message: `model "churn" has used every version number up to ${MAX_VERSION}`,
    });
  });
});

describe('stage changes', () => {
  it('promotes through transition to Production, archiving the former production version', async () => {
    await versions(2);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    const result = await registry.transition({ modelName: 'churn', version: 2, toStage: 'Production', actor: ACTOR });
    expect(result.model).toMatchObject({ productionVersion: 2, productionHistory: [1], previousProductionVersion: 1 });
    expect(await stageOf(1)).toBe('Archived');
  });

  it('refuses to move the production version by transition, naming the way out', async () => {
    await versions(1);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    await expect(registry.transition({ modelName: 'churn', version: 1, toStage: 'Archived', actor: ACTOR })).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      message: 'version 1 of "churn" is in Production; promote another version or roll back first',
      details: { modelName: 'churn', version: 1, fromStage: 'Production', toStage: 'Archived' },
    });
  });

  it('names the allowed stages of a refused transition, or that the stage is final', async () => {
    await versions(1);
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR });
    await expect(registry.transition({ modelName: 'churn', version: 1, toStage: 'Registered', actor: ACTOR })).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      message: 'version 1 of "churn" cannot go from Staging to Registered (allowed: Production, Archived, Rejected)',
      details: { modelName: 'churn', version: 1, fromStage: 'Staging', toStage: 'Registered' },
    });
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Rejected', actor: ACTOR });
    await expect(registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR })).rejects.toThrow(
      'version 1 of "churn" cannot go from Rejected to Staging (Rejected is final)',
    );
  });

  it('archives the version a newer one replaces in Staging, saying so, and reports the change', async () => {
    await versions(2);
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR });
    const result = await registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR });
    expect(result.changed).toBe(true);
    expect(result.model.stagingVersion).toBe(2);
    expect(await stageOf(1)).toBe('Archived');
    const { items } = await registry.listEvents({ modelName: 'churn', limit: 2 });
    expect(items.map((event) => [event.version, event.toStage, event.reason])).toEqual([
      [1, 'Archived', 'superseded in Staging by version 2'],
      [2, 'Staging', undefined],
    ]);
  });

  it('keeps the Staging pointer when another version changes stage, and clears it when the staged one leaves', async () => {
    await versions(2);
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR });
    expect((await registry.transition({ modelName: 'churn', version: 1, toStage: 'Archived', actor: ACTOR })).model.stagingVersion).toBe(2);
    expect((await registry.transition({ modelName: 'churn', version: 2, toStage: 'Rejected', actor: ACTOR })).model).not.toHaveProperty(
      'stagingVersion',
      2,
    );
  });
});

describe('promotion and rollback', () => {
  it('records why the former production version was archived', async () => {
    await versions(2);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR, reason: 'better F1' });
    const { items } = await registry.listEvents({ modelName: 'churn', limit: 2 });
    expect(items.map((event) => [event.version, event.toStage, event.reason])).toEqual([
      [1, 'Archived', 'replaced in Production by version 2'],
      [2, 'Production', 'better F1'],
    ]);
  });

  it(`keeps the last ${PRODUCTION_HISTORY_LIMIT} former production versions as rollback targets, each once`, async () => {
    const count = PRODUCTION_HISTORY_LIMIT + 3;
    await versions(count);
    for (let version = 1; version <= count; version++) await registry.promote({ modelName: 'churn', version, actor: ACTOR });
    const model = await registry.getModel({ modelName: 'churn' });
    expect(model.productionHistory).toEqual(Array.from({ length: PRODUCTION_HISTORY_LIMIT }, (_, index) => index + 3));
    // Promoting a version from the history again moves it out of the history; the one it replaces joins at the end.
    const again = await registry.promote({ modelName: 'churn', version: 10, actor: ACTOR });
    expect(again.model.productionHistory).toEqual([
      ...Array.from({ length: PRODUCTION_HISTORY_LIMIT }, (_, index) => index + 3).filter((version) => version !== 10),
      count,
    ]);
  });

  it('clears the Staging pointer when the staged version is promoted, and keeps it when another one is', async () => {
    await versions(3);
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR });
    expect((await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR })).model.stagingVersion).toBe(2);
    expect((await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR })).model).not.toHaveProperty('stagingVersion', 2);
  });

  it('refuses a rollback without a production version, naming the model', async () => {
    await versions(1);
    await expect(registry.rollback({ modelName: 'churn', actor: ACTOR })).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      message: 'model "churn" has no production version to roll back',
      details: { modelName: 'churn' },
    });
  });

  it('records a rollback without a reason as such', async () => {
    await versions(2);
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR });
    await registry.rollback({ modelName: 'churn', actor: ACTOR });
    const { items } = await registry.listEvents({ modelName: 'churn', limit: 2 });
    expect(items.map((event) => [event.version, event.toStage, event.reason])).toEqual([
      [2, 'Archived', 'rolled back'],
      [1, 'Production', 'rolled back (restored from version 2)'],
    ]);
  });
});

describe('approvals', () => {
  const ask = (version: number, taskToken = 'token-1') =>
    registry.requestApproval({ modelName: 'churn', version, taskToken, executionArn: `arn:run:${taskToken}`, actor: ACTOR });

  it('lets only a Registered or a Staging version await approval', async () => {
    await versions(5);
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR });
    await registry.promote({ modelName: 'churn', version: 3, actor: ACTOR });
    await registry.transition({ modelName: 'churn', version: 4, toStage: 'Archived', actor: ACTOR });
    await registry.transition({ modelName: 'churn', version: 5, toStage: 'Rejected', actor: ACTOR });
    expect((await ask(1)).status).toBe('Pending');
    expect((await ask(2)).status).toBe('Pending');
    for (const [version, stage] of [
      [3, 'Production'],
      [4, 'Archived'],
      [5, 'Rejected'],
    ] as const) {
      await expect(ask(version), stage).rejects.toMatchObject({
        name: 'InvalidTransitionError',
        message: `version ${version} of "churn" is ${stage}; only Registered or Staging versions await approval`,
        details: { modelName: 'churn', version, stage },
      });
    }
  });

  it('records who asked and for which run, and lets a newer run replace the pending request', async () => {
    await versions(1);
    await ask(1, 'token-1');
    expect(await latestEvent()).toMatchObject({
      action: 'approval-requested',
      version: 1,
      actor: ACTOR,
      details: { executionArn: 'arn:run:token-1' },
    });
    const replaced = await ask(1, 'token-2');
    expect(replaced).toMatchObject({ status: 'Pending', taskToken: 'token-2', executionArn: 'arn:run:token-2' });
    expect((await registry.getApproval({ modelName: 'churn', version: 1 })).taskToken).toBe('token-2');
  });

  it('names the version nobody asked to approve', async () => {
    await versions(1);
    await expect(registry.getApproval({ modelName: 'churn', version: 1 })).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'no pipeline run is waiting for approval of version 1 of "churn"',
      details: { modelName: 'churn', version: 1 },
    });
  });

  it('refuses a second decision, saying what the first was', async () => {
    await versions(1);
    await ask(1);
    await registry.decideApproval({ modelName: 'churn', version: 1, approved: false, actor: 'bob' });
    await expect(registry.decideApproval({ modelName: 'churn', version: 1, approved: true, actor: 'alice' })).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      message: 'version 1 of "churn" was already rejected',
      details: { modelName: 'churn', version: 1, status: 'Rejected' },
    });
  });

  it('records the decision with its reason, moving a rejected version to Rejected and out of Staging', async () => {
    await versions(2);
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR });
    await ask(1);
    await ask(2, 'token-2');
    const approved = await registry.decideApproval({ modelName: 'churn', version: 2, approved: true, actor: 'alice' });
    expect(approved.version.stage).toBe('Registered');
    expect(await latestEvent()).toMatchObject({
      action: 'approval-decided',
      version: 2,
      fromStage: 'Registered',
      toStage: 'Registered',
      reason: 'approved',
      actor: 'alice',
    });
    expect((await registry.getModel({ modelName: 'churn' })).stagingVersion).toBe(1);
    await registry.decideApproval({ modelName: 'churn', version: 1, approved: false, actor: 'bob', reason: 'too risky' });
    expect(await latestEvent()).toMatchObject({
      version: 1,
      fromStage: 'Staging',
      toStage: 'Rejected',
      reason: 'rejected: too risky',
      actor: 'bob',
    });
    expect(await registry.getModel({ modelName: 'churn' })).not.toHaveProperty('stagingVersion', 1);
  });

  it('rejecting a version keeps the Staging pointer of another one', async () => {
    await versions(2);
    await registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR });
    await ask(1);
    await registry.decideApproval({ modelName: 'churn', version: 1, approved: false, actor: 'bob' });
    expect((await registry.getModel({ modelName: 'churn' })).stagingVersion).toBe(2);
  });

  it('approves a version promoted while it waited, but refuses to reject it', async () => {
    await versions(2);
    await ask(1);
    await ask(2, 'token-2');
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR });
    expect((await registry.decideApproval({ modelName: 'churn', version: 2, approved: true, actor: 'alice' })).approval.status).toBe(
      'Approved',
    );
    await expect(registry.decideApproval({ modelName: 'churn', version: 1, approved: false, actor: 'bob' })).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      message: 'version 1 of "churn" cannot go from Archived to Rejected (allowed: Staging, Production)',
    });
    expect(await stageOf(1)).toBe('Archived');
  });
});

describe('pipeline failures', () => {
  it('records a failure without an idempotency key, numbered after the model revision, with its details', async () => {
    await versions(3);
    const event = await registry.recordPipelineFailure({
      modelName: 'churn',
      actor: ACTOR,
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:training:run-9',
      failedState: 'EvaluateModel',
      error: 'ModelContractError',
      cause: 'the model outputs 3 classes',
    });
    expect(event).toMatchObject({
      action: 'pipeline-failure',
      reason: 'EvaluateModel failed: ModelContractError',
      details: {
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:training:run-9',
        failedState: 'EvaluateModel',
        error: 'ModelContractError',
        cause: 'the model outputs 3 classes',
      },
    });
    expect(event.eventId.startsWith('0000000003.00-')).toBe(true);
    const first = await registry.recordPipelineFailure({ modelName: 'fraud', actor: ACTOR, executionArn: 'arn:run', failedState: 'Train' });
    expect(first.eventId.startsWith('0000000000.00-')).toBe(true);
    expect(first.reason).toBe('Train failed: Unknown');
  });
});

/**
 * What every registry operation stands on (registry-base.ts), against the in-memory store with
 * scripted faults: a repeated request is answered from the store without writing, an answer is
 * recorded in the same commit as its change (a no-op answer on its own), a reused key is a
 * conflict, a registration retries conflicts with capped full-jitter waits and gives up after its
 * attempts, and the helpers' exact output (event ids, canonical JSON, request errors).
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RegisterRequest } from '../../../../contracts/registry';
import { ConflictError } from '../../../../lambdas/shared/errors';
import { canonicalJson, eventSequence } from '../../../../lambdas/shared/registry/registry-base';
import { Registry } from '../../../../lambdas/shared/registry/registry-service';
import type { RegistryChange, RegistryStore } from '../../../../lambdas/shared/registry/registry-store';
import { InMemoryRegistryStore } from '../../../../testkit/in-memory-registry-store';

/** The in-memory store, counting writes, failing commits on demand and able to miss one stored request. */
class ScriptedStore implements RegistryStore {
  readonly inner = new InMemoryRegistryStore();
  commits = 0;
  appends = 0;
  /** Returns the fault the next commit throws instead of committing, or undefined to commit. */
  failCommit: (attempt: number) => Error | undefined = () => undefined;
  /** The next getRequest answers "none", as for a delivery that read before a concurrent one wrote. */
  missNextRequest = false;

  getModel = (name: string) => this.inner.getModel(name);
  listModels = (page: Parameters<RegistryStore['listModels']>[0]) => this.inner.listModels(page);
  getVersion = (name: string, version: number) => this.inner.getVersion(name, version);
  listVersions = (name: string, page: Parameters<RegistryStore['listVersions']>[1]) => this.inner.listVersions(name, page);
  listEvents = (name: string, page: Parameters<RegistryStore['listEvents']>[1]) => this.inner.listEvents(name, page);
  getApproval = (name: string, version: number) => this.inner.getApproval(name, version);
  async getRequest(name: string, key: string) {
    if (this.missNextRequest) {
      this.missNextRequest = false;
      return undefined;
    }
    return this.inner.getRequest(name, key);
  }
  async commit(change: RegistryChange): Promise<void> {
    this.commits++;
    const fault = this.failCommit(this.commits);
    if (fault) throw fault;
    return this.inner.commit(change);
  }
  async appendEvents(...args: Parameters<RegistryStore['appendEvents']>): Promise<void> {
    this.appends++;
    return this.inner.appendEvents(...args);
  }
}

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';
const registration = (overrides: Partial<RegisterRequest> = {}): RegisterRequest => ({
  modelName: 'churn',
  artifactUri: 's3://artifacts/models/churn/model.tar.gz',
  artifactSha256: 'a'.repeat(64),
  lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
  actor: ACTOR,
  ...overrides,
});
const conflict = () => new ConflictError('a concurrent change won');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('registration retries', () => {
  it('gives up after 40 attempts when every commit conflicts, waiting a random share of 5·2^attempt ms capped at 200 ms', async () => {
    const store = new ScriptedStore();
    store.failCommit = conflict;
    const waits: number[] = [];
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const registry = new Registry(store, { sleep: async (ms) => void waits.push(ms) });
    await expect(registry.registerVersion(registration())).rejects.toBeInstanceOf(ConflictError);
    expect(store.commits).toBe(40);
    expect(waits).toHaveLength(39);
    expect(waits.slice(0, 7)).toEqual([5, 10, 20, 40, 80, 100, 100]);
  });

  it('takes another number of attempts when configured', async () => {
    const store = new ScriptedStore();
    store.failCommit = conflict;
    const registry = new Registry(store, { maxRegisterAttempts: 3, sleep: async () => undefined });
    await expect(registry.registerVersion(registration())).rejects.toBeInstanceOf(ConflictError);
    expect(store.commits).toBe(3);
  });

  it('retries a conflict, waiting with the real timer when no sleep is injected', async () => {
    const store = new ScriptedStore();
    store.failCommit = (attempt) => (attempt === 1 ? conflict() : undefined);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const version = await new Registry(store).registerVersion(registration());
    expect(version.version).toBe(1);
    expect(store.commits).toBe(2);
  });

  it('waits on the real timer when no sleep is injected: nothing retries before the wait is over', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const store = new ScriptedStore();
      store.failCommit = (attempt) => (attempt === 1 ? conflict() : undefined);
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const pending = new Registry(store).registerVersion(registration());
      await vi.advanceTimersByTimeAsync(4);
      expect(store.commits).toBe(1);
      // The first wait: 5 ms (half of 10, as above).
      await vi.advanceTimersByTimeAsync(1);
      expect((await pending).version).toBe(1);
      expect(store.commits).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not retry a fault that is not a conflict', async () => {
    const store = new ScriptedStore();
    store.failCommit = () => new Error('ProvisionedThroughputExceededException');
    await expect(new Registry(store, { sleep: async () => undefined }).registerVersion(registration())).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    expect(store.commits).toBe(1);
  });
});

describe('idempotent requests', () => {
  const setUp = async () => {
    const store = new ScriptedStore();
    const registry = new Registry(store, { sleep: async () => undefined });
    await registry.registerVersion(registration());
    await registry.registerVersion(registration());
    return { store, registry };
  };

  it('answer a repeat from the store, writing nothing', async () => {
    const { store, registry } = await setUp();
    const first = await registry.registerVersion(registration({ idempotencyKey: 'run-1:register' }));
    const writes = store.commits + store.appends;
    expect(await registry.registerVersion(registration({ idempotencyKey: 'run-1:register' }))).toEqual(first);
    expect(store.commits + store.appends).toBe(writes);
  });

  it('record the answer of a change in the same commit as the change', async () => {
    const { store, registry } = await setUp();
    const staged = await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR, idempotencyKey: 'k' });
    expect(staged.changed).toBe(true);
    expect(store.appends).toBe(0);
    expect(await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR, idempotencyKey: 'k' })).toEqual(
      staged,
    );
  });

  it('record a no-op answer on its own, without an audit event, and replay it after the version moved on', async () => {
    const { store, registry } = await setUp();
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR });
    const events = (await registry.listEvents({ modelName: 'churn' })).items;
    const request = { modelName: 'churn', version: 1, toStage: 'Staging' as const, actor: ACTOR, idempotencyKey: 'noop' };
    const noop = await registry.transition(request);
    expect(noop.changed).toBe(false);
    expect(store.appends).toBe(1);
    expect((await registry.listEvents({ modelName: 'churn' })).items).toEqual(events);
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Archived', actor: ACTOR });
    expect(await registry.transition(request)).toEqual(noop);
    expect((await registry.getVersion({ modelName: 'churn', version: 1 })).stage).toBe('Archived');
  });

  it('give a delivery that raced another to record the same no-op the first recorded answer', async () => {
    const { store, registry } = await setUp();
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR });
    const request = { modelName: 'churn', version: 1, toStage: 'Staging' as const, actor: ACTOR, idempotencyKey: 'noop' };
    const first = await registry.transition(request);
    // The model moves on (a new version), so a fresh answer would differ from the recorded one.
    await registry.registerVersion(registration());
    store.missNextRequest = true;
    expect(await registry.transition(request)).toEqual(first);
  });

  it('give a delivery whose commit lost to a concurrent delivery of the same request that delivery answer', async () => {
    const { store, registry } = await setUp();
    const first = await registry.registerVersion(registration({ idempotencyKey: 'dup' }));
    store.missNextRequest = true;
    expect(await registry.registerVersion(registration({ idempotencyKey: 'dup' }))).toEqual(first);
    expect((await registry.getModel({ modelName: 'churn' })).latestVersion).toBe(3);
  });

  it('throw a fault other than a conflict, even when another delivery has answered meanwhile', async () => {
    const { store, registry } = await setUp();
    await registry.registerVersion(registration({ idempotencyKey: 'dup' }));
    store.missNextRequest = true;
    store.failCommit = () => new Error('ThrottlingException');
    await expect(registry.registerVersion(registration({ idempotencyKey: 'dup' }))).rejects.toThrow('ThrottlingException');
  });

  it('throw a conflict that is not a repeat, idempotency key or not', async () => {
    const { registry } = await setUp();
    await registry.promote({ modelName: 'churn', version: 1, actor: ACTOR });
    await expect(
      registry.promote({ modelName: 'churn', version: 2, actor: ACTOR, expectedProductionVersion: null, idempotencyKey: 'p2' }),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: 'production version of "churn" is 1, not none as expected',
      details: { modelName: 'churn', productionVersion: 1 },
    });
  });

  it('name the production version as none when a promotion expected one', async () => {
    const { registry } = await setUp();
    await expect(registry.promote({ modelName: 'churn', version: 1, actor: ACTOR, expectedProductionVersion: 1 })).rejects.toMatchObject({
      name: 'ConflictError',
      message: 'production version of "churn" is none, not 1 as expected',
      details: { modelName: 'churn', productionVersion: null },
    });
  });

  it('store each request as the SHA-256 of its action and its fields, actor and key left out (records outlive deployments)', async () => {
    const { store, registry } = await setUp();
    const hashOf = (value: object) => createHash('sha256').update(canonicalJson(value)).digest('hex');
    const stored = async (key: string) => (await store.inner.getRequest('churn', key))!.requestHash;
    const registered = registration({ idempotencyKey: 'r' });
    await registry.registerVersion(registered);
    const { actor: _actor, idempotencyKey: _key, ...registeredFields } = registered;
    // With the defaults the request schema fills in.
    expect(await stored('r')).toBe(
      hashOf({
        action: 'register',
        ...registeredFields,
        metrics: {},
        stage: 'Registered',
        lineage: { ...registeredFields.lineage, hyperparameters: {} },
      }),
    );
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR, idempotencyKey: 't' });
    expect(await stored('t')).toBe(hashOf({ action: 'transition', modelName: 'churn', version: 1, toStage: 'Staging' }));
    await registry.promote({ modelName: 'churn', version: 2, actor: ACTOR, idempotencyKey: 'p' });
    expect(await stored('p')).toBe(hashOf({ action: 'promote', modelName: 'churn', version: 2 }));
    const failure = { modelName: 'churn', executionArn: 'arn:run', failedState: 'Train' };
    await registry.recordPipelineFailure({ ...failure, actor: ACTOR, idempotencyKey: 'f' });
    expect(await stored('f')).toBe(hashOf({ action: 'pipeline-failure', ...failure, error: 'Unknown', cause: '' }));
  });

  it('refuse a key reused for another request, naming the key', async () => {
    const { registry } = await setUp();
    await registry.transition({ modelName: 'churn', version: 1, toStage: 'Staging', actor: ACTOR, idempotencyKey: 'once' });
    await expect(
      registry.transition({ modelName: 'churn', version: 2, toStage: 'Staging', actor: ACTOR, idempotencyKey: 'once' }),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: 'idempotency key "once" was already used for a different request',
      details: { idempotencyKey: 'once' },
    });
  });
});

describe('registry helpers', () => {
  it('orders event ids by revision (10 digits) and place in the change (2 digits)', () => {
    expect(eventSequence(42, 3)).toBe('0000000042.03');
    expect(eventSequence(1234567890, 12)).toBe('1234567890.12');
  });

  it('gives events a random id after their sequence', async () => {
    const registry = new Registry(new InMemoryRegistryStore());
    await registry.registerVersion(registration());
    const [event] = (await registry.listEvents({ modelName: 'churn' })).items;
    expect(event!.eventId).toMatch(/^0000000001\.00-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('writes canonical JSON: keys sorted at every depth, undefined fields left out, arrays and null kept', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: undefined, c: 'x' }], e: null, f: true })).toBe('{"a":[2,{"c":"x"}],"b":1,"e":null,"f":true}');
    expect(canonicalJson({ z: { y: 1, x: 2 }, w: [] })).toBe('{"w":[],"z":{"x":2,"y":1}}');
  });

  it('names each invalid field of a request, and the request itself when it is no object', async () => {
    const registry = new Registry(new InMemoryRegistryStore());
    await expect(registry.registerVersion(registration({ artifactSha256: 'x', description: 'd'.repeat(1025) }))).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        'invalid request: artifactSha256: must be the lowercase hex SHA-256 of the artifact (64 characters); description: Too big: expected string to have <=1024 characters',
      details: {
        problems: [
          'artifactSha256: must be the lowercase hex SHA-256 of the artifact (64 characters)',
          'description: Too big: expected string to have <=1024 characters',
        ],
      },
    });
    await expect(
      registry.registerVersion(registration({ lineage: { datasetUri: 'datasets/train.csv', datasetEtag: '"1"' } })),
    ).rejects.toMatchObject({ details: { problems: [expect.stringMatching(/^lineage\.datasetUri: /)] } });
    await expect(registry.getModel(null as never)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/^invalid request: request: /),
    });
  });
});

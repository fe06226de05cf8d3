/**
 * What every registry operation stands on: the store and the clock, idempotent requests (a
 * repeat returns the first result, a reused key with another request is a conflict), the atomic
 * stage-change commit with its audit events, reads that name what is missing, and the request
 * parsing that turns a zod failure into a ValidationError. registry-service.ts builds the
 * operations on it.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { ALLOWED_TRANSITIONS, type AuditEvent, type ModelRecord, type Stage, type VersionRecord } from '../../../contracts/registry';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../errors';
import type { RegistryChange, RegistryStore } from './registry-store';

export interface RegistryOptions {
  /** Model names the platform is configured with; others are refused as unknown. */
  readonly knownModels?: readonly string[];
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Attempts at issuing a version number when concurrent registrations collide. */
  readonly maxRegisterAttempts?: number;
  /** Waits between those attempts (full jitter); injectable so tests need not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The outcome of a stage change; `changed` is false when the version already was there. */
export interface StageChangeResult {
  readonly changed: boolean;
  readonly version: VersionRecord;
  readonly model: ModelRecord;
}

export abstract class RegistryBase {
  protected readonly knownModels?: ReadonlySet<string>;
  protected readonly now: () => Date;
  protected readonly newId: () => string;
  protected readonly maxRegisterAttempts: number;
  protected readonly sleep: (ms: number) => Promise<void>;

  constructor(
    protected readonly store: RegistryStore,
    options: RegistryOptions = {},
  ) {
    this.knownModels = options.knownModels ? new Set(options.knownModels) : undefined;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? (() => randomUUID());
    this.maxRegisterAttempts = options.maxRegisterAttempts ?? 40;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Runs `operation` once per idempotency key: a repeat of the same request returns the first
   * result; the same key with a different request is a conflict.
   */
  protected async idempotent<T>(
    modelName: string,
    idempotencyKey: string | undefined,
    action: string,
    request: object,
    operation: (stored?: (result: T) => RegistryChange['request']) => Promise<T>,
  ): Promise<T> {
    if (idempotencyKey === undefined) return operation();
    const { actor: _actor, idempotencyKey: _key, ...significant } = request as Record<string, unknown>;
    const requestHash = sha256(canonicalJson({ action, ...significant }));
    const replay = async (): Promise<T | undefined> => {
      const previous = await this.store.getRequest(modelName, idempotencyKey);
      if (!previous) return undefined;
      if (previous.requestHash !== requestHash) {
        throw new ConflictError(`idempotency key "${idempotencyKey}" was already used for a different request`, { idempotencyKey });
      }
      return JSON.parse(previous.resultJson) as T;
    };
    const earlier = await replay();
    if (earlier !== undefined) return earlier;
    const winnerOf = async (error: unknown): Promise<T> => {
      // A concurrent delivery of the same request may have recorded its answer first: that answer is the one.
      if (error instanceof ConflictError) {
        const winner = await replay();
        if (winner !== undefined) return winner;
      }
      throw error;
    };
    let recorded = false;
    let result: T;
    try {
      result = await operation((answer) => {
        recorded = true;
        return { idempotencyKey, requestHash, resultJson: JSON.stringify(answer) };
      });
    } catch (error) {
      return winnerOf(error);
    }
    if (!recorded) {
      // An answer that changed nothing (already in that stage) is recorded too, on its own and only if
      // no delivery recorded one first, so every delivery of the key gets the same answer.
      try {
        await this.store.appendEvents(modelName, [], { idempotencyKey, requestHash, resultJson: JSON.stringify(result) });
      } catch (error) {
        return winnerOf(error);
      }
    }
    return result;
  }

  protected async applyStageChanges(
    model: ModelRecord,
    changes: VersionChange[],
    pointers: Partial<Pick<ModelRecord, 'productionVersion' | 'productionHistory' | 'stagingVersion' | 'stagingPhase'>>,
    actor: string,
    action: 'transition' | 'promote' | 'rollback',
    at: string,
    stored: ((result: StageChangeResult) => RegistryChange['request']) | undefined,
  ): Promise<VersionRecord[] & { model: ModelRecord }> {
    const updated = changes.map(({ version, toStage }) => ({ ...version, stage: toStage, updatedAt: at }));
    const productionHistory = pointers.productionHistory ?? model.productionHistory;
    const nextModel = this.nextModel(
      model,
      {
        ...pointers,
        productionHistory,
        previousProductionVersion: productionHistory.at(-1),
      },
      at,
    );
    const events = changes.map(({ version, toStage, reason }, index) =>
      this.event(model.modelName, at, actor, action, eventSequence(nextModel.revision, index), {
        version: version.version,
        fromStage: version.stage,
        toStage,
        reason,
      }),
    );
    await this.store.commit({
      model: nextModel,
      expectedRevision: model.revision,
      versions: changes.map(({ version }, index) => ({ record: updated[index]!, expectedStage: version.stage })),
      events,
      request: stored?.({ changed: true, version: updated[0]!, model: nextModel }),
    });
    return Object.assign(updated, { model: nextModel });
  }

  protected async read(modelName: string, versionNumber: number): Promise<{ model: ModelRecord; version: VersionRecord }> {
    const [model, version] = await Promise.all([this.store.getModel(modelName), this.store.getVersion(modelName, versionNumber)]);
    if (!model || !version) throw notFound(modelName, versionNumber);
    return { model, version };
  }

  protected async requireVersion(modelName: string, versionNumber: number): Promise<VersionRecord> {
    const version = await this.store.getVersion(modelName, versionNumber);
    if (!version) throw notFound(modelName, versionNumber);
    return version;
  }

  protected assertKnown(modelName: string): void {
    if (this.knownModels && !this.knownModels.has(modelName)) {
      throw new NotFoundError(`unknown model "${modelName}"; configured models: ${[...this.knownModels].join(', ') || 'none'}`, {
        modelName,
      });
    }
  }

  protected emptyModel(modelName: string): ModelRecord {
    const at = this.timestamp();
    return { modelName, latestVersion: 0, productionHistory: [], revision: 0, createdAt: at, updatedAt: at };
  }

  /** The model record after a change; without a Staging version there is no rollout phase. */
  protected nextModel(model: ModelRecord, changes: Partial<ModelRecord>, at: string): ModelRecord {
    const next: ModelRecord = { ...model, ...changes, revision: model.revision + 1, updatedAt: at };
    if (next.stagingVersion !== undefined) return next;
    const { stagingPhase: _phase, ...withoutPhase } = next;
    return withoutPhase;
  }

  protected event(
    modelName: string,
    at: string,
    actor: string,
    action: AuditEvent['action'],
    sequence: string,
    fields: Omit<AuditEvent, 'modelName' | 'eventId' | 'at' | 'actor' | 'action'>,
  ): AuditEvent {
    return { modelName, eventId: `${sequence}-${this.newId()}`, at, actor, action, ...fields };
  }

  protected timestamp(): string {
    return this.now().toISOString();
  }
}
export interface VersionChange {
  readonly version: VersionRecord;
  readonly toStage: Stage;
  readonly reason?: string;
}

/**
 * The ordered prefix of an event id: the model revision the change produced, then the event's
 * place in it. Events share a millisecond often; the revision keeps their order.
 */
export function eventSequence(revision: number, index: number): string {
  return `${String(revision).padStart(10, '0')}.${String(index).padStart(2, '0')}`;
}

export function assertAllowed(version: VersionRecord, toStage: Stage): void {
  if (!ALLOWED_TRANSITIONS[version.stage].includes(toStage)) {
    const allowed = ALLOWED_TRANSITIONS[version.stage];
    throw new InvalidTransitionError(
      `version ${version.version} of "${version.modelName}" cannot go from ${version.stage} to ${toStage}` +
        (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ` (${version.stage} is final)`),
      { modelName: version.modelName, version: version.version, fromStage: version.stage, toStage },
    );
  }
}

export function notFound(modelName: string, version: number): NotFoundError {
  return new NotFoundError(`version ${version} of model "${modelName}" does not exist`, { modelName, version });
}

export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`);
  throw new ValidationError(`invalid request: ${problems.join('; ')}`, { problems });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      // An object's keys are distinct: no two compare equal.
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

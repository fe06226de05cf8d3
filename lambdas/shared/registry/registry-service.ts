/**
 * The model registry's rules, free of AWS: version numbering, legal stage changes,
 * promotion with a kept rollback target, rollback, idempotent requests and the audit trail.
 * Storage comes in as a RegistryStore; every change is one atomic, revision-checked commit.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  ALLOWED_TRANSITIONS,
  type ApprovalRecord,
  type AuditEvent,
  type DecideApprovalRequest,
  decideApprovalSchema,
  getModelRequestSchema,
  getVersionRequestSchema,
  type ListEventsRequest,
  type ListModelsRequest,
  type ListVersionsRequest,
  listModelsRequestSchema,
  listRequestSchema,
  listVersionsRequestSchema,
  type ModelRecord,
  type Page,
  type PipelineFailureRequest,
  PRODUCTION_HISTORY_LIMIT,
  type PromoteRequest,
  pipelineFailureRequestSchema,
  promoteRequestSchema,
  type RegisterRequest,
  type RequestApprovalRequest,
  type RollbackRequest,
  registerRequestSchema,
  requestApprovalSchema,
  rollbackRequestSchema,
  type Stage,
  type TransitionRequest,
  transitionRequestSchema,
  type VersionRecord,
} from '../../../contracts/registry';
import { MAX_VERSION } from '../../../contracts/registry-table';
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

export class Registry {
  private readonly knownModels?: ReadonlySet<string>;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly maxRegisterAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly store: RegistryStore,
    options: RegistryOptions = {},
  ) {
    this.knownModels = options.knownModels ? new Set(options.knownModels) : undefined;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? (() => randomUUID());
    this.maxRegisterAttempts = options.maxRegisterAttempts ?? 40;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Registers a new immutable version under the next version number. */
  async registerVersion(input: RegisterRequest): Promise<VersionRecord> {
    const request = parse(registerRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.idempotent(request.modelName, request.idempotencyKey, 'register', request, async (stored) => {
      for (let attempt = 1; ; attempt++) {
        const model = (await this.store.getModel(request.modelName)) ?? this.emptyModel(request.modelName);
        const number = model.latestVersion + 1;
        if (number > MAX_VERSION) {
          throw new ConflictError(`model "${request.modelName}" has used every version number up to ${MAX_VERSION}`);
        }
        const at = this.timestamp();
        const version: VersionRecord = {
          modelName: request.modelName,
          version: number,
          stage: request.stage,
          artifactUri: request.artifactUri,
          artifactSha256: request.artifactSha256,
          metrics: request.metrics,
          lineage: request.lineage,
          spotSavings: request.spotSavings,
          description: request.description,
          createdAt: at,
          createdBy: request.actor,
          updatedAt: at,
        };
        const event = this.event(request.modelName, at, request.actor, 'register', eventSequence(model.revision + 1, 0), {
          version: number,
          toStage: request.stage,
          reason: request.reason,
        });
        try {
          await this.store.commit({
            model: this.nextModel(model, { latestVersion: number }, at),
            expectedRevision: model.revision === 0 ? null : model.revision,
            versions: [{ record: version, expectedStage: null }],
            events: [event],
            request: stored?.(version),
          });
          return version;
        } catch (error) {
          // Another registration took this number first: read the new counter and try again.
          if (!(error instanceof ConflictError) || attempt >= this.maxRegisterAttempts) throw error;
          await this.sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
        }
      }
    });
  }

  async getModel(input: z.input<typeof getModelRequestSchema>): Promise<ModelRecord> {
    const { modelName } = parse(getModelRequestSchema, input);
    this.assertKnown(modelName);
    const model = await this.store.getModel(modelName);
    if (model) return model;
    if (this.knownModels) return this.emptyModel(modelName);
    throw new NotFoundError(`model "${modelName}" has no registered versions`, { modelName });
  }

  async listModels(input: ListModelsRequest = {}): Promise<Page<ModelRecord>> {
    const request = parse(listModelsRequestSchema, input);
    return this.store.listModels(request);
  }

  async getVersion(input: z.input<typeof getVersionRequestSchema>): Promise<VersionRecord> {
    const { modelName, version } = parse(getVersionRequestSchema, input);
    this.assertKnown(modelName);
    return this.requireVersion(modelName, version);
  }

  async listVersions(input: ListVersionsRequest): Promise<Page<VersionRecord>> {
    const request = parse(listVersionsRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.store.listVersions(request.modelName, request);
  }

  async listEvents(input: ListEventsRequest): Promise<Page<AuditEvent>> {
    const request = parse(listRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.store.listEvents(request.modelName, request);
  }

  /** Moves a version to another stage; Production goes through promote(). */
  async transition(input: TransitionRequest): Promise<StageChangeResult> {
    const request = parse(transitionRequestSchema, input);
    if (request.toStage === 'Production') {
      const { toStage: _toStage, ...promote } = request;
      return this.promote(promote);
    }
    this.assertKnown(request.modelName);
    return this.idempotent(request.modelName, request.idempotencyKey, 'transition', request, async (stored) => {
      const { model, version } = await this.read(request.modelName, request.version);
      if (version.stage === request.toStage) return { changed: false, version, model };
      if (version.stage === 'Production') {
        throw new InvalidTransitionError(
          `version ${version.version} of "${request.modelName}" is in Production; promote another version or roll back first`,
          { modelName: request.modelName, version: version.version, fromStage: version.stage, toStage: request.toStage },
        );
      }
      assertAllowed(version, request.toStage);
      const at = this.timestamp();
      const changes: VersionChange[] = [{ version, toStage: request.toStage, reason: request.reason }];
      let stagingVersion = model.stagingVersion === version.version ? undefined : model.stagingVersion;
      if (request.toStage === 'Staging') {
        // One version is in Staging at a time: the one it replaces is archived.
        if (model.stagingVersion !== undefined && model.stagingVersion !== version.version) {
          const superseded = await this.requireVersion(request.modelName, model.stagingVersion);
          changes.push({ version: superseded, toStage: 'Archived', reason: `superseded in Staging by version ${version.version}` });
        }
        stagingVersion = version.version;
      }
      const result = await this.applyStageChanges(model, changes, { stagingVersion }, request.actor, 'transition', at, stored);
      return { changed: true, version: result[0]!, model: result.model };
    });
  }

  /**
   * Makes a version the production version. The former one is archived and kept as the
   * rollback target. Two concurrent promotions of one model cannot both win: the loser
   * gets ConflictError.
   */
  async promote(input: PromoteRequest): Promise<StageChangeResult> {
    const request = parse(promoteRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.idempotent(request.modelName, request.idempotencyKey, 'promote', request, async (stored) => {
      const { model, version } = await this.read(request.modelName, request.version);
      if (request.expectedProductionVersion !== undefined && (model.productionVersion ?? null) !== request.expectedProductionVersion) {
        throw new ConflictError(
          `production version of "${request.modelName}" is ${model.productionVersion ?? 'none'}, not ${request.expectedProductionVersion ?? 'none'} as expected`,
          { modelName: request.modelName, productionVersion: model.productionVersion ?? null },
        );
      }
      if (version.stage === 'Production') return { changed: false, version, model };
      assertAllowed(version, 'Production');
      const at = this.timestamp();
      const changes: VersionChange[] = [{ version, toStage: 'Production', reason: request.reason }];
      let productionHistory = model.productionHistory;
      if (model.productionVersion !== undefined) {
        const former = await this.requireVersion(request.modelName, model.productionVersion);
        changes.push({ version: former, toStage: 'Archived', reason: `replaced in Production by version ${version.version}` });
        productionHistory = [...productionHistory.filter((v) => v !== former.version && v !== version.version), former.version].slice(
          -PRODUCTION_HISTORY_LIMIT,
        );
      }
      const result = await this.applyStageChanges(
        model,
        changes,
        {
          productionVersion: version.version,
          productionHistory,
          stagingVersion: model.stagingVersion === version.version ? undefined : model.stagingVersion,
        },
        request.actor,
        'promote',
        at,
        stored,
      );
      return { changed: true, version: result[0]!, model: result.model };
    });
  }

  /** Restores the previous production version; the current one is archived. */
  async rollback(input: RollbackRequest): Promise<StageChangeResult> {
    const request = parse(rollbackRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.idempotent(request.modelName, request.idempotencyKey, 'rollback', request, async (stored) => {
      const model = await this.store.getModel(request.modelName);
      if (model?.productionVersion === undefined) {
        throw new InvalidTransitionError(`model "${request.modelName}" has no production version to roll back`, {
          modelName: request.modelName,
        });
      }
      if (request.fromVersion !== undefined && request.fromVersion !== model.productionVersion) {
        throw new ConflictError(
          `production version of "${request.modelName}" is ${model.productionVersion}, not ${request.fromVersion}; was the rollback already done?`,
          { modelName: request.modelName, productionVersion: model.productionVersion },
        );
      }
      const target = model.productionHistory.at(-1);
      if (target === undefined) {
        throw new InvalidTransitionError(
          `model "${request.modelName}" has no previous production version to roll back to (version ${model.productionVersion} was the first)`,
          { modelName: request.modelName, productionVersion: model.productionVersion },
        );
      }
      const current = await this.requireVersion(request.modelName, model.productionVersion);
      const previous = await this.requireVersion(request.modelName, target);
      assertAllowed(previous, 'Production');
      const at = this.timestamp();
      const why = request.reason ? `rolled back: ${request.reason}` : 'rolled back';
      const changes: VersionChange[] = [
        { version: previous, toStage: 'Production', reason: `${why} (restored from version ${current.version})` },
        { version: current, toStage: 'Archived', reason: why },
      ];
      const result = await this.applyStageChanges(
        model,
        changes,
        {
          productionVersion: previous.version,
          productionHistory: model.productionHistory.slice(0, -1),
          stagingVersion: model.stagingVersion === previous.version ? undefined : model.stagingVersion,
        },
        request.actor,
        'rollback',
        at,
        stored,
      );
      return { changed: true, version: result[0]!, model: result.model };
    });
  }

  /**
   * Records that a pipeline run waits for a person to approve `version`, keeping the task token
   * the decision is sent back with. A repeated request (same token) changes nothing; a newer run
   * asking for the same version replaces the pending request.
   */
  async requestApproval(input: RequestApprovalRequest): Promise<ApprovalRecord> {
    const request = parse(requestApprovalSchema, input);
    this.assertKnown(request.modelName);
    const [{ model, version }, existing] = await Promise.all([
      this.read(request.modelName, request.version),
      this.store.getApproval(request.modelName, request.version),
    ]);
    if (existing?.status === 'Pending' && existing.taskToken === request.taskToken) return existing;
    if (version.stage !== 'Registered' && version.stage !== 'Staging') {
      throw new InvalidTransitionError(
        `version ${version.version} of "${request.modelName}" is ${version.stage}; only Registered or Staging versions await approval`,
        {
          modelName: request.modelName,
          version: version.version,
          stage: version.stage,
        },
      );
    }
    const at = this.timestamp();
    const approval: ApprovalRecord = {
      modelName: request.modelName,
      version: version.version,
      status: 'Pending',
      taskToken: request.taskToken,
      executionArn: request.executionArn,
      requestedAt: at,
    };
    const nextModel = this.nextModel(model, {}, at);
    await this.store.commit({
      model: nextModel,
      expectedRevision: model.revision,
      versions: [],
      approvals: [{ record: approval, expectedStatus: existing?.status ?? null }],
      events: [
        this.event(request.modelName, at, request.actor, 'approval-requested', eventSequence(nextModel.revision, 0), {
          version: version.version,
          details: { executionArn: request.executionArn },
        }),
      ],
    });
    return approval;
  }

  /** The approval request of a version, with its task token (for the API that sends the decision). */
  async getApproval(input: z.input<typeof getVersionRequestSchema>): Promise<ApprovalRecord> {
    const { modelName, version } = parse(getVersionRequestSchema, input);
    this.assertKnown(modelName);
    const approval = await this.store.getApproval(modelName, version);
    if (!approval)
      throw new NotFoundError(`no pipeline run is waiting for approval of version ${version} of "${modelName}"`, { modelName, version });
    return approval;
  }

  /**
   * Approves or rejects a pending version. A rejection also moves the version to Rejected. The
   * caller sends the decision to Step Functions with the returned approval's task token.
   */
  async decideApproval(input: DecideApprovalRequest): Promise<{ approval: ApprovalRecord; version: VersionRecord }> {
    const request = parse(decideApprovalSchema, input);
    const approval = await this.getApproval({ modelName: request.modelName, version: request.version });
    if (approval.status !== 'Pending') {
      throw new InvalidTransitionError(
        `version ${request.version} of "${request.modelName}" was already ${approval.status.toLowerCase()}`,
        {
          modelName: request.modelName,
          version: request.version,
          status: approval.status,
        },
      );
    }
    const { model, version } = await this.read(request.modelName, request.version);
    const at = this.timestamp();
    const decided: ApprovalRecord = {
      ...approval,
      status: request.approved ? 'Approved' : 'Rejected',
      decidedAt: at,
      decidedBy: request.actor,
      reason: request.reason,
    };
    const nextModel = this.nextModel(
      model,
      { stagingVersion: !request.approved && model.stagingVersion === version.version ? undefined : model.stagingVersion },
      at,
    );
    const rejected = request.approved ? undefined : { ...version, stage: 'Rejected' as const, updatedAt: at };
    if (rejected) assertAllowed(version, 'Rejected');
    await this.store.commit({
      model: nextModel,
      expectedRevision: model.revision,
      versions: rejected ? [{ record: rejected, expectedStage: version.stage }] : [],
      approvals: [{ record: decided, expectedStatus: 'Pending' }],
      events: [
        this.event(request.modelName, at, request.actor, 'approval-decided', eventSequence(nextModel.revision, 0), {
          version: version.version,
          fromStage: version.stage,
          toStage: rejected ? 'Rejected' : version.stage,
          reason: `${request.approved ? 'approved' : 'rejected'}${request.reason ? `: ${request.reason}` : ''}`,
        }),
      ],
    });
    return { approval: decided, version: rejected ?? version };
  }

  /** Records a failed pipeline run in the model's audit trail; changes no stage. */
  async recordPipelineFailure(input: PipelineFailureRequest): Promise<AuditEvent> {
    const request = parse(pipelineFailureRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.idempotent(request.modelName, request.idempotencyKey, 'pipeline-failure', request, async (stored) => {
      const revision = (await this.store.getModel(request.modelName))?.revision ?? 0;
      const event = this.event(request.modelName, this.timestamp(), request.actor, 'pipeline-failure', eventSequence(revision, 0), {
        reason: `${request.failedState} failed: ${request.error}`,
        details: { executionArn: request.executionArn, failedState: request.failedState, error: request.error, cause: request.cause },
      });
      await this.store.appendEvents(request.modelName, [event], stored?.(event));
      return event;
    });
  }

  /**
   * Runs `operation` once per idempotency key: a repeat of the same request returns the first
   * result; the same key with a different request is a conflict.
   */
  private async idempotent<T>(
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
    try {
      return await operation((result) => ({ idempotencyKey, requestHash, resultJson: JSON.stringify(result) }));
    } catch (error) {
      // A concurrent delivery of the same request may have committed first.
      if (error instanceof ConflictError) {
        const winner = await replay();
        if (winner !== undefined) return winner;
      }
      throw error;
    }
  }

  private async applyStageChanges(
    model: ModelRecord,
    changes: VersionChange[],
    pointers: Partial<Pick<ModelRecord, 'productionVersion' | 'productionHistory' | 'stagingVersion'>>,
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

  private async read(modelName: string, versionNumber: number): Promise<{ model: ModelRecord; version: VersionRecord }> {
    const [model, version] = await Promise.all([this.store.getModel(modelName), this.store.getVersion(modelName, versionNumber)]);
    if (!model || !version) throw notFound(modelName, versionNumber);
    return { model, version };
  }

  private async requireVersion(modelName: string, versionNumber: number): Promise<VersionRecord> {
    const version = await this.store.getVersion(modelName, versionNumber);
    if (!version) throw notFound(modelName, versionNumber);
    return version;
  }

  private assertKnown(modelName: string): void {
    if (this.knownModels && !this.knownModels.has(modelName)) {
      throw new NotFoundError(`unknown model "${modelName}"; configured models: ${[...this.knownModels].join(', ') || 'none'}`, {
        modelName,
      });
    }
  }

  private emptyModel(modelName: string): ModelRecord {
    const at = this.timestamp();
    return { modelName, latestVersion: 0, productionHistory: [], revision: 0, createdAt: at, updatedAt: at };
  }

  private nextModel(model: ModelRecord, changes: Partial<ModelRecord>, at: string): ModelRecord {
    return { ...model, ...changes, revision: model.revision + 1, updatedAt: at };
  }

  private event(
    modelName: string,
    at: string,
    actor: string,
    action: AuditEvent['action'],
    sequence: string,
    fields: Omit<AuditEvent, 'modelName' | 'eventId' | 'at' | 'actor' | 'action'>,
  ): AuditEvent {
    return { modelName, eventId: `${sequence}-${this.newId()}`, at, actor, action, ...fields };
  }

  private timestamp(): string {
    return this.now().toISOString();
  }
}

interface VersionChange {
  readonly version: VersionRecord;
  readonly toStage: Stage;
  readonly reason?: string;
}

/**
 * The ordered prefix of an event id: the model revision the change produced, then the event's
 * place in it. Events share a millisecond often; the revision keeps their order.
 */
function eventSequence(revision: number, index: number): string {
  return `${String(revision).padStart(10, '0')}.${String(index).padStart(2, '0')}`;
}

function assertAllowed(version: VersionRecord, toStage: Stage): void {
  if (!ALLOWED_TRANSITIONS[version.stage].includes(toStage)) {
    const allowed = ALLOWED_TRANSITIONS[version.stage];
    throw new InvalidTransitionError(
      `version ${version.version} of "${version.modelName}" cannot go from ${version.stage} to ${toStage}` +
        (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ` (${version.stage} is final)`),
      { modelName: version.modelName, version: version.version, fromStage: version.stage, toStage },
    );
  }
}

function notFound(modelName: string, version: number): NotFoundError {
  return new NotFoundError(`version ${version} of model "${modelName}" does not exist`, { modelName, version });
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
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
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

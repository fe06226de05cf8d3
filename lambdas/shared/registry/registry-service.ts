/**
 * The model registry's rules, free of AWS: version numbering, legal stage changes,
 * promotion with a kept rollback target, rollback, approvals, pipeline failures and the audit
 * trail. Storage comes in as a RegistryStore; every change is one atomic, revision-checked commit
 * (registry-base.ts).
 */
import type { z } from 'zod';
import {
  type ApprovalRecord,
  type AuditEvent,
  type AwaitRedriveRequest,
  awaitRedriveSchema,
  type DecideApprovalRequest,
  type DriftVerdictRequest,
  decideApprovalSchema,
  driftVerdictRequestSchema,
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
  type SetRolloutPhaseRequest,
  setRolloutPhaseRequestSchema,
  type TransitionRequest,
  transitionRequestSchema,
  type VersionRecord,
} from '../../../contracts/registry';
import { MAX_VERSION } from '../../../contracts/registry-table';
import { ConflictError, InvalidTransitionError, NotFoundError, PipelineRunError } from '../errors';
import { assertAllowed, eventSequence, parse, RegistryBase, type StageChangeResult, type VersionChange } from './registry-base';

export class Registry extends RegistryBase {
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
      const pointers = request.toStage === 'Staging' ? { stagingVersion, stagingPhase: request.phase ?? 'canary' } : { stagingVersion };
      const result = await this.applyStageChanges(model, changes, pointers, request.actor, 'transition', at, stored);
      return { changed: true, version: result[0]!, model: result.model };
    });
  }

  /**
   * Moves the Staging version to another rollout phase (its shadow passed: on to the canary). The
   * version stays in Staging; its `updatedAt` becomes the phase's start, and the audit trail
   * records the change with the reason (the shadow gates' figures).
   */
  async setRolloutPhase(input: SetRolloutPhaseRequest): Promise<StageChangeResult> {
    const request = parse(setRolloutPhaseRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.idempotent(request.modelName, request.idempotencyKey, 'rollout-phase', request, async (stored) => {
      const { model, version } = await this.read(request.modelName, request.version);
      if (version.stage !== 'Staging' || model.stagingVersion !== version.version) {
        throw new InvalidTransitionError(
          `version ${version.version} of "${request.modelName}" is ${version.stage}, not the Staging version; only a rollout in progress has a phase`,
          { modelName: request.modelName, version: version.version, stage: version.stage },
        );
      }
      const fromPhase = model.stagingPhase ?? 'canary';
      if (fromPhase === request.phase) return { changed: false, version, model };
      const at = this.timestamp();
      const nextModel = this.nextModel(model, { stagingPhase: request.phase }, at);
      const updated: VersionRecord = { ...version, updatedAt: at };
      await this.store.commit({
        model: nextModel,
        expectedRevision: model.revision,
        versions: [{ record: updated, expectedStage: 'Staging' }],
        events: [
          this.event(request.modelName, at, request.actor, 'rollout-phase', eventSequence(nextModel.revision, 0), {
            version: version.version,
            fromStage: 'Staging',
            toStage: 'Staging',
            reason: request.reason,
            details: { fromPhase, toPhase: request.phase },
          }),
        ],
        request: stored?.({ changed: true, version: updated, model: nextModel }),
      });
      return { changed: true, version: updated, model: nextModel };
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
   * The pipeline's AwaitRedrive task. In the attempt that failed it throws the run's own error
   * (name and cause), which stops the execution in that task. A RedriveExecution runs the task
   * again with a higher redrive count: the redrive is recorded in the audit trail (once per
   * redrive) and the answer names the state that failed, where the run resumes.
   */
  async awaitRedrive(input: AwaitRedriveRequest): Promise<{ resumeAt: string; redriveCount: number }> {
    const request = parse(awaitRedriveSchema, input);
    this.assertKnown(request.modelName);
    if (request.redriveCount <= request.failedAttempt) throw new PipelineRunError(request.error, request.cause);
    const name = request.executionArn.split(':').at(-1);
    return this.idempotent(request.modelName, `${name}:redrive:${request.redriveCount}`, 'pipeline-redrive', request, async (stored) => {
      const revision = (await this.store.getModel(request.modelName))?.revision ?? 0;
      const answer = { resumeAt: request.failedState, redriveCount: request.redriveCount };
      const event = this.event(request.modelName, this.timestamp(), request.actor, 'pipeline-redrive', eventSequence(revision, 0), {
        reason: `redriven (${request.redriveCount}): resumes at ${request.failedState}, which failed with ${request.error}`,
        details: {
          executionArn: request.executionArn,
          failedState: request.failedState,
          error: request.error,
          redriveCount: String(request.redriveCount),
        },
      });
      await this.store.appendEvents(request.modelName, [event], stored?.(answer));
      return answer;
    });
  }

  /** Records check-drift's verdict on a window in the audit trail (the model's drift history); changes no stage. */
  async recordDriftVerdict(input: DriftVerdictRequest): Promise<AuditEvent> {
    const request = parse(driftVerdictRequestSchema, input);
    this.assertKnown(request.modelName);
    return this.idempotent(request.modelName, request.idempotencyKey, 'drift-verdict', request, async (stored) => {
      const revision = (await this.store.getModel(request.modelName))?.revision ?? 0;
      const drifted = request.driftedFeatures.length > 0 ? `: ${request.driftedFeatures.join(', ')}` : '';
      const event = this.event(request.modelName, this.timestamp(), request.actor, 'drift-verdict', eventSequence(revision, 0), {
        version: request.productionVersion,
        reason: `${request.status} on ${request.sampleSize} captured rows up to ${request.windowEnd}${drifted}`,
        details: {
          status: request.status,
          windowEnd: request.windowEnd,
          sampleSize: String(request.sampleSize),
          driftedFeatures: request.driftedFeatures.join(','),
          ...(request.driftedFeatureShare === null ? {} : { driftedFeatureShare: String(request.driftedFeatureShare) }),
          reportUri: request.reportUri,
        },
      });
      await this.store.appendEvents(request.modelName, [event], stored?.(event));
      return event;
    });
  }
}
